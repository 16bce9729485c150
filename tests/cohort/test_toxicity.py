"""``Cohort.toxicity()`` on hand-built AE rows (data-dictionary.md §5.2, §2.10; CR §4.1–§4.4):
every criteria set, line attribution, reported-grade fallback (R-DER-008), ADSL maxima."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rrball.cohort import Cohort, load_cohort, patients_with_grade
from rrball.cohort.toxicity import TOX_COLUMNS, VOD_SETS
from tests.cohort._data import META, Tables, base_tables, write_csv

AE_META = [*META, ("unit_enzymes", "U/L"), ("uln_alt", "40"), ("uln_bilirubin", "1.2")]


def _ae(oid: str, eid: str, pid: str, term: str, onset: str, obs: str, line: str = "",
        **kw: str) -> dict[str, str]:
    row = {"ae_obs_id": oid, "ae_id": eid, "patient_id": pid, "line_id": line or f"{pid}-L1",
           "ae_term": term, "onset_date": onset, "obs_date": obs}
    row.update(kw)
    return row


def _tables() -> Tables:
    t = base_tables()
    # P6: a child (9 years at t0), alive, for CAPD-graded ICANS
    t["patients"].append({**t["patients"][0], "patient_id": "P6", "birth_date": "2009-05",
                          "diagnosis_date": "2018-01-10"})
    t["treatment_lines"].append({**t["treatment_lines"][0], "line_id": "P6-L1",
                                 "patient_id": "P6"})
    t["assessments"] += [{**t["assessments"][0], "assessment_id": "P6-BL", "patient_id": "P6"},
                         {**t["assessments"][1], "assessment_id": "P6-A1", "patient_id": "P6"}]
    t["follow_up"].append({"event_id": "P6-LC", "patient_id": "P6", "event_type": "3",
                           "event_date": "2020-06-01", "vital_status": "1"})
    # P2 gets a later non-index line (AEs attributed to it stay on it)
    t["treatment_lines"].append({**t["treatment_lines"][1], "line_id": "P2-L2",
                                 "line_start_date": "2019-06-01", "index_line": "0",
                                 "regimen": "20", "regimen_detail": "FLAG-Ida",
                                 "salvage_number": "2", "prior_blinatumomab": "1"})
    ae = [
        # P1 CRS, 2 rows: grade 1 then grade 3 (one vasopressor); the typed grade 1 is ignored
        _ae("P1-C1", "P1-C", "P1", "1", "2019-02-03", "2019-02-03", temp_max_c="39.0",
            hypotension="0", oxygen_device="0", reported_grade="1", reported_grade_scale="1"),
        _ae("P1-C2", "P1-C", "P1", "1", "2019-02-03", "2019-02-04", temp_max_c="39.2",
            hypotension="1", n_vasopressors_excl_vasopressin="1", oxygen_device="1",
            o2_flow_l_min="2"),
        # P1 ICANS (ICE 5, awakens to voice): grade 2, complete
        _ae("P1-I1", "P1-I", "P1", "2", "2019-02-05", "2019-02-05", ice_score="5",
            consciousness="2", seizure="0", deep_focal_motor_weakness="0", raised_icp="0"),
        # P1 CTCAE labs: ALT 250 / ULN 40 (metadata) -> 3; bilirubin 4 x ULN -> 3;
        # ANC 0.3 -> 4; platelets 60 -> 2; FN with ANC 0.5 and 38.5 °C -> 3
        _ae("P1-L1", "P1-ALT", "P1", "4", "2019-02-10", "2019-02-10", alt="250"),
        _ae("P1-L2", "P1-BIL", "P1", "6", "2019-02-10", "2019-02-10", bilirubin="4.0",
            bilirubin_uln="1.0"),
        _ae("P1-L3", "P1-ANC", "P1", "7", "2019-02-10", "2019-02-10", anc="0.3"),
        _ae("P1-L4", "P1-PLT", "P1", "8", "2019-02-10", "2019-02-10", plt="60"),
        _ae("P1-F1", "P1-FN", "P1", "9", "2019-02-11", "2019-02-11", anc="0.5",
            temp_max_c="38.5", life_threatening="0"),
        # P2 CRS without any raw input: reported ASTCT grade 2 is the flagged fallback
        _ae("P2-C1", "P2-C", "P2", "1", "2019-02-02", "2019-02-02", reported_grade="2",
            reported_grade_scale="1"),
        # P2 AE on the non-index line
        _ae("P2-X1", "P2-X", "P2", "7", "2019-06-10", "2019-06-10", line="P2-L2", anc="0.2"),
        # P3 SOS/VOD after HSCT (day 9): bilirubin 3, painful hepatomegaly, ascites, +8.1 %
        _ae("P3-V1", "P3-V", "P3", "3", "2019-05-08", "2019-05-10", hsct_id="P3-H",
            bilirubin="3.0", hepatomegaly="1", hepatomegaly_painful="1", ascites="2",
            weight_kg="80", baseline_weight_kg="74"),
        # P4 SOS/VOD 30 days after t0 (no HSCT): only the paediatric set is met; EBMT adult
        # late onset undecidable (histology, haemodynamics unknown)
        _ae("P4-V1", "P4-V", "P4", "3", "2019-03-03", "2019-03-03", bilirubin="2.5",
            hepatomegaly="1", hepatomegaly_painful="1", ascites="0", weight_kg="70.5",
            baseline_weight_kg="70"),
        # P5 infection (no raw rule): reported CTCAE v5 grade 3; other term with its text
        _ae("P5-N1", "P5-N", "P5", "10", "2019-02-20", "2019-02-20", reported_grade="3",
            reported_grade_scale="2"),
        _ae("P5-O1", "P5-O", "P5", "12", "2019-02-21", "2019-02-21", reported_grade="2",
            reported_grade_scale="2", ae_term_other="Hypokalaemia"),
        # P6 child ICANS by CAPD 10 -> 3
        _ae("P6-I1", "P6-I", "P6", "2", "2019-02-06", "2019-02-06", capd_score="10",
            consciousness="1", seizure="0", deep_focal_motor_weakness="0", raised_icp="0"),
    ]
    t["adverse_events"] = ae
    return t


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    return load_cohort(write_csv(tmp_path_factory.mktemp("t") / "c", _tables(), AE_META))


def one(tox: pd.DataFrame, line: str, term: str, critset: str) -> pd.Series:
    sel = tox[(tox["LINEID"] == line) & (tox["TERM"] == term) & (tox["CRITSET"] == critset)]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def test_columns_and_one_row_per_line_term_set(cohort: Cohort) -> None:
    tox = cohort.toxicity()
    assert list(tox.columns) == TOX_COLUMNS
    assert not tox.duplicated(["LINEID", "TERM", "TERMOTH", "CRITSET"]).any()
    assert set(tox["SRCDOM"]) == {"adverse_events"}


def test_crs_astct_worst_row_derived_not_typed(cohort: Cohort) -> None:
    """CR §4.1: fever + hypotension with one vasopressor -> 3 (low-flow O2 is only 2); the
    typed grade 1 on the first row never overrides the derived grade."""
    r = one(cohort.toxicity(), "P1-L1", "crs", "astct_2019")
    assert (r.MAXGRADE, r.GRADESRC, r.RPTFBFL, r.INCOMPFL) == (3, "derived", "N", "N")
    assert (r.SRCID, r.SRCVAR, r.SRCROW, r.AEID, r.NEPIS) == ("P1-C2", "hypotension", 3,
                                                             "P1-C", 1)
    assert pd.Timestamp("2019-02-03") == r.ONSETDT and r.PRIMFL == "Y"


def test_icans_ice_adult_and_capd_child(cohort: Cohort) -> None:
    tox = cohort.toxicity()
    r = one(tox, "P1-L1", "icans", "astct_2019")
    assert (r.MAXGRADE, r.INCOMPFL, r.SRCVAR) == (2, "N", "ice_score")
    c = one(tox, "P6-L1", "icans", "astct_2019")
    assert (c.MAXGRADE, c.SRCVAR) == (3, "capd_score")


@pytest.mark.parametrize(("term", "grade", "var"), [
    ("alt_increased", 3, "alt"), ("bilirubin_increased", 3, "bilirubin"),
    ("neutrophil_count_decreased", 4, "anc"), ("platelet_count_decreased", 2, "plt"),
    ("febrile_neutropenia", 3, "anc")])
def test_ctcae_terms(cohort: Cohort, term: str, grade: int, var: str) -> None:
    """CR §4.4: ALT against the metadata ULN; counts without LLN are incomplete only below
    grade 2 (platelets 60 is grade 2 whatever the LLN)."""
    r = one(cohort.toxicity(), "P1-L1", term, "ctcae_v5")
    assert (grade, var, "Y") == (r.MAXGRADE, r.SRCVAR, r.PRIMFL)


def test_platelets_without_lln_flagged_incomplete(cohort: Cohort) -> None:
    """Platelets 60 (grade 2) are complete; grade 1 would need the LLN, so it is not missing
    here: INCOMPFL stays N."""
    assert one(cohort.toxicity(), "P1-L1", "platelet_count_decreased",
               "ctcae_v5").INCOMPFL == "N"


def test_sos_vod_all_sets_diagnosed_after_hsct(cohort: Cohort) -> None:
    """CR §4.3, day 9 after HSCT: every set met; EBMT severity grades present."""
    tox = cohort.toxicity()
    rows = {s: one(tox, "P3-L1", "sos_vod", s) for s in VOD_SETS}
    assert all(r.DIAGFL == "Y" for r in rows.values())
    assert pd.isna(rows["modified_seattle"].MAXGRADE) and pd.isna(rows["baltimore"].MAXGRADE)
    assert rows["ebmt_adult_2016"].MAXGRADE >= 1 and rows["ebmt_ped_2018"].MAXGRADE >= 1
    assert [r.PRIMFL for r in rows.values()] == ["N", "N", "Y", "N"]  # adult: ebmt_adult_2016


def test_sos_vod_sets_disagree_and_undecidable(cohort: Cohort) -> None:
    """P4, day 30 after the line start: Seattle (20 d) and Baltimore (21 d) not met, EBMT
    adult late onset undecidable (INCOMPFL), paediatric met (hepatomegaly + bilirubin)."""
    tox = cohort.toxicity()
    got = {s: (one(tox, "P4-L1", "sos_vod", s).DIAGFL, one(tox, "P4-L1", "sos_vod",
                                                            s).INCOMPFL) for s in VOD_SETS}
    assert got == {"modified_seattle": ("N", "N"), "baltimore": ("N", "N"),
                   "ebmt_adult_2016": ("N", "Y"), "ebmt_ped_2018": ("Y", "N")}


def test_reported_grade_fallback_and_reported_only_terms(cohort: Cohort) -> None:
    """R-DER-008: no raw CRS input -> the typed ASTCT grade, flagged; infection and 'other'
    have no raw rule -> reported grade under its scale, not a fallback."""
    tox = cohort.toxicity()
    r = one(tox, "P2-L1", "crs", "astct_2019")
    assert (r.MAXGRADE, r.GRADESRC, r.RPTFBFL, r.SRCVAR) == (2, "reported", "Y",
                                                            "reported_grade")
    n = one(tox, "P5-L1", "infection", "ctcae_v5")
    assert (n.MAXGRADE, n.GRADESRC, n.RPTFBFL, n.PRIMFL) == (3, "reported", "N", "Y")
    o = one(tox, "P5-L1", "other", "ctcae_v5")
    assert (o.TERMOTH, o.MAXGRADE) == ("Hypokalaemia", 2)


def test_line_attribution_by_line_id(cohort: Cohort) -> None:
    """AEs belong to the line named by their line_id; non-index lines are kept, flagged."""
    tox = cohort.toxicity()
    r = one(tox, "P2-L2", "neutrophil_count_decreased", "ctcae_v5")
    assert (r.INDEXFL, r.REGIMEN, r.MAXGRADE) == (0, "chemotherapy_other", 4)
    assert set(tox.loc[tox["LINEID"] == "P1-L1", "INDEXFL"]) == {1}


def test_patients_with_grade_3_4(cohort: Cohort) -> None:
    """Seed 001-style count: any term, each term once under its primary set."""
    got = patients_with_grade(cohort.toxicity(), 3, 4)
    assert set(got["LINEID"]) == {"P1-L1", "P2-L2", "P3-L1", "P5-L1", "P6-L1"}
    only_idx = patients_with_grade(cohort.toxicity().query("INDEXFL == 1"), 3, 4)
    assert "P2-L2" not in set(only_idx["LINEID"])


def test_adsl_maxima_and_vodfl(cohort: Cohort) -> None:
    a = cohort.analysis_table().set_index("SUBJID")
    assert a.loc["P1", "CRSMAXG"] == 3 and a.loc["P1", "ICANSMXG"] == 2
    assert a.loc["P2", "CRSMAXG"] == 2  # flagged reported fallback under astct_2019
    assert a.loc["P3", "CRSMAXG"] == 0 and a.loc["P6", "ICANSMXG"] == 3
    assert a.loc["P3", "VODFL"] == 1 and a.loc["P4", "VODFL"] == 0  # adult default set
    assert a.loc["P1", "VODFL"] == 0


def test_vod_criteria_metadata_selects_set(tmp_path: Path) -> None:
    c = load_cohort(write_csv(tmp_path / "c", _tables(), [*AE_META,
                                                           ("vod_criteria", "ebmt_ped_2018")]))
    a = c.analysis_table().set_index("SUBJID")
    assert a.loc["P4", "VODFL"] == 1
    tox = c.toxicity()
    assert one(tox, "P4-L1", "sos_vod", "ebmt_ped_2018").PRIMFL == "Y"


def test_no_adverse_events_table(tmp_path: Path) -> None:
    c = load_cohort(write_csv(tmp_path / "c", base_tables()))
    assert c.toxicity().empty and list(c.toxicity().columns) == TOX_COLUMNS
    a = c.analysis_table()
    assert a[["CRSMAXG", "ICANSMXG", "VODFL"]].isna().all().all()


def test_toxicity_is_cached_and_a_copy(cohort: Cohort) -> None:
    t1: Any = cohort.toxicity()
    t1.loc[:, "MAXGRADE"] = pd.NA
    assert cohort.toxicity()["MAXGRADE"].notna().any()
