"""Derivation notices R-DER-001…012 (data-dictionary.md §3.5) on hand-built patients: each
notice fires on the patient built for it, points at the source row, and not on base patients."""

from __future__ import annotations

from pathlib import Path

import pytest

from rrball.cohort import load_cohort
from rrball.cohort.notices import DERIVATION_RULES, NOTICE_FIXES
from rrball.errors import CohortIssue
from tests.cohort._data import META, Tables, base_tables, write_csv


def _notices(tmp_path: Path, t: Tables,
             meta: list[tuple[str, str]] | None = None) -> tuple[CohortIssue, ...]:
    write_csv(tmp_path / "c", t, meta if meta is not None else META)
    return load_cohort(tmp_path / "c").notices()


def _by(items: tuple[CohortIssue, ...], rule: str) -> list[CohortIssue]:
    return [i for i in items if i.rule_id == rule]


def test_base_cohort_has_only_its_day_zero_and_cutoff_notices(tmp_path: Path) -> None:
    items = _notices(tmp_path, base_tables())
    assert {i.rule_id for i in items} <= {"R-DER-010", "R-DER-011"}
    # P3 is alive past the 2022-06-30 cut-off: its OS/EFS/DFS/... rows are censored there
    cut = _by(items, "R-DER-010")
    assert [(i.table, i.row, i.column, i.value) for i in cut] == \
        [("follow_up", 6, "event_date", "2022-10-01")]  # P3's last contact, one per line
    assert "P3-L1" in cut[0].message and "OS, EFS, DFS" in cut[0].message
    assert all(i.severity == "W" and i.fix == NOTICE_FIXES[i.rule_id] for i in items)


def test_not_evaluable_response_points_at_the_assessment(tmp_path: Path) -> None:
    t = base_tables()
    t["assessments"][1]["bm_sample_adequate"] = "0"  # P1's response marrow inadequate
    hits = _by(_notices(tmp_path, t), "R-DER-001")
    assert [(i.table, i.row) for i in hits] == [("assessments", 3)]
    assert "P1-L1" in hits[0].message


def test_mrd_not_usable_and_low_sensitivity(tmp_path: Path) -> None:
    t = base_tables()
    t["assessments"][1].update(mrd_detected="1", mrd_value="0.5", mrd_unit="2",
                               mrd_method="3", mrd_lod="")  # P1: BCR::ABL1 ratio
    t["assessments"][5].update(mrd_lod="0.001")  # P3: not detected, LOD 1e-3 > 1e-4
    items = _notices(tmp_path, t)
    assert [(i.row, i.column, i.value) for i in _by(items, "R-DER-002")] == \
        [(3, "mrd_unit", "transcript_ratio_pct")]
    assert [(i.row, i.column) for i in _by(items, "R-DER-003")] == [(7, "mrd_lod")]


def test_missing_baseline_assessment(tmp_path: Path) -> None:
    t = base_tables()
    t["assessments"] = [a for a in t["assessments"] if a["assessment_id"] != "P2-BL"]
    hits = _by(_notices(tmp_path, t), "R-DER-004")
    assert [(i.table, i.row, i.column) for i in hits] == \
        [("treatment_lines", 3, "disease_status_at_start")]


def test_partial_birth_date_across_the_age_cut_and_exact_boundaries(tmp_path: Path) -> None:
    t = base_tables()
    t["patients"][0]["birth_date"] = "2000"  # 18 or 19 at 2019-02-01: cut 18 (le)
    t["patients"][1]["birth_date"] = "2001-02-01"  # exactly 18 at the line start
    t["patients"][2].update(first_cr_date="2018-01-15", first_relapse_date="2019-01-15")
    t["patients"][2]["diagnosis_date"] = "2017-12-01"
    items = _notices(tmp_path, t)
    assert [(i.row, i.column) for i in _by(items, "R-DER-005")] == [(2, "birth_date")]
    exact = {(i.row, i.column) for i in _by(items, "R-DER-006")}
    assert (3, "birth_date") in exact  # P2 age exactly 18


def test_imputed_event_date_is_flagged(tmp_path: Path) -> None:
    t = base_tables()
    t["follow_up"][0]["event_date"] = "2019-09"  # P1's relapse, month only
    meta = [*META, ("partial_event_dates", "impute")]
    hits = _by(_notices(tmp_path, t, meta), "R-DER-007")
    assert hits and {i.table for i in hits} == {"follow_up"}
    assert all(i.row == 2 for i in hits)


def test_relapse_sources_far_apart(tmp_path: Path) -> None:
    t = base_tables()
    # P1: assessment-derived relapse on 2019-07-01, reported relapse 2019-09-01 (62 days)
    t["assessments"].append({"assessment_id": "P1-A2", "patient_id": "P1",
                             "assessment_date": "2019-07-01", "bm_blast_pct": "30",
                             "pb_blasts": "1", "emd": "0"})
    hits = _by(_notices(tmp_path, t), "R-DER-009")
    assert [(i.table, i.row, i.column) for i in hits] == [("follow_up", 2, "event_date")]
    assert "62 days" in hits[0].message


def test_death_on_day_of_origin(tmp_path: Path) -> None:
    t = base_tables()
    for ev in t["follow_up"]:
        if ev["patient_id"] == "P4":
            ev["event_date"] = "2019-02-01"  # dies on t0
    t["assessments"] = [a for a in t["assessments"]
                        if not (a["patient_id"] == "P4" and a["assessment_id"] == "P4-A1")]
    hits = _by(_notices(tmp_path, t), "R-DER-011")
    assert any("OS of line P4-L1: event on the day of origin" in i.message for i in hits)


def test_discordant_mrd_methods_on_one_date(tmp_path: Path) -> None:
    t = base_tables()
    t["assessments"].append({"assessment_id": "P1-A1b", "patient_id": "P1",
                             "assessment_date": "2019-03-01", "mrd_detected": "1",
                             "mrd_value": "0.001", "mrd_unit": "1", "mrd_method": "4",
                             "mrd_sample": "1"})
    hits = _by(_notices(tmp_path, t), "R-DER-012")
    assert sorted(i.row for i in hits if i.row is not None) == [3, 12]


@pytest.mark.parametrize("rule", DERIVATION_RULES)
def test_every_rule_has_a_fix_text(rule: str) -> None:
    assert NOTICE_FIXES[rule]


def test_incomplete_toxicity_grade(tmp_path: Path) -> None:
    """CRS with fever only: grade 1 is supported, hypotension and oxygen are unknown."""
    t = base_tables()
    t["adverse_events"] = [{"ae_obs_id": "P1-E1-1", "ae_id": "P1-E1", "patient_id": "P1",
                            "line_id": "P1-L1", "ae_term": "1", "onset_date": "2019-02-03",
                            "obs_date": "2019-02-03", "temp_max_c": "39.0"}]
    hits = _by(_notices(tmp_path, t), "R-DER-008")
    assert [(i.table, i.row) for i in hits] == [("adverse_events", 2)]
    assert "crs grade of line P1-L1 under astct_2019 is incomplete" in hits[0].message


def test_validate_notices_option_prints_them(tmp_path: Path) -> None:
    from rich.console import Console

    from rrball.cli.validate import validate_command

    t = base_tables()
    t["assessments"][1]["bm_sample_adequate"] = "0"
    folder = write_csv(tmp_path / "c", t, META)
    con = Console(record=True, width=200)
    assert validate_command(str(folder), console=con, notices=True) == 0
    text = con.export_text()
    assert "R-DER-001" in text and "derivation notices" in text
