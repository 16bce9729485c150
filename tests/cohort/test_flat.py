"""Flat single-sheet layout (data-dictionary.md §4): import, Cohort.to_flat(), R-FLAT-* rules,
lossless round trips (long -> flat -> long and flat -> long -> flat)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from rrball.cohort import Cohort, load_cohort, synthetic_cohort
from rrball.cohort.schema import TABLES
from rrball.errors import CohortValidationError
from tests.cohort._data import META, base_tables, write_csv


def _same(a: Cohort, b: Cohort) -> None:
    ta, tb = a.text_tables(), b.text_tables()
    assert set(ta) == set(tb)
    for name in ta:
        key = TABLES[name].key
        x = ta[name].sort_values(key).reset_index(drop=True)
        y = tb[name].sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(x[sorted(x.columns)], y[sorted(y.columns)])


@pytest.mark.parametrize("profile", ["seed003", "seed004"])
def test_long_flat_long_roundtrip(tmp_path: Path, profile: str) -> None:
    c = synthetic_cohort(profile, seed=2)
    book = c.export(tmp_path / "f.xlsx", format="flat")
    d = load_cohort(book)  # auto-detected flat sheet
    _same(c, d)
    pd.testing.assert_frame_equal(c.analysis_table(), d.analysis_table())
    # flat -> long -> flat gives the same sheet
    pd.testing.assert_frame_equal(c.to_flat(), d.to_flat())
    flat = c.to_flat()
    assert len(flat) == len(c.table("treatment_lines"))
    assert {"bl_date", "a1_date", "last_contact_date"} <= set(flat.columns)


def test_fixture_roundtrip_and_explicit_format(tmp_path: Path) -> None:
    c = load_cohort(write_csv(tmp_path / "c", base_tables()))
    d = load_cohort(c.export(tmp_path / "f.xlsx", format="flat"), format="flat")
    _same(c, d)


def _book(tmp_path: Path, rows: list[dict[str, str]],
          meta: list[tuple[str, str]] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "cohort"
    header = list(dict.fromkeys(k for r in rows for k in r))
    ws.append(header)
    for r in rows:
        ws.append([r.get(h) or None for h in header])
    m = wb.create_sheet("metadata")
    m.append(["key", "value"])
    for k, v in META if meta is None else meta:
        m.append([k, v])
    path = tmp_path / "flat.xlsx"
    wb.save(path)
    return path


def _row(pid: str, start: str, **kw: str) -> dict[str, str]:
    r = {"patient_id": pid, "centre_id": "C1", "sex": "1", "birth_date": "1980-05",
         "diagnosis_date": "2018-01-10", "ph_status": "0", "kmt2a_status": "0",
         "primary_refractory": "0", "relapse_number": "1", "first_cr_date": "2018-03-01",
         "first_relapse_date": "2019-01-15",
         "line_start_date": start, "index_line": "1", "regimen": "1", "salvage_number": "1",
         "disease_status_at_start": "2", "prior_allo_hsct": "0", "prior_blinatumomab": "0",
         "bl_date": "2019-01-29", "bl_bm_blast_pct": "40", "a1_date": "2019-03-01",
         "a1_bm_blast_pct": "1", "a1_anc": "2.0", "a1_plt": "150",
         "last_contact_date": "2020-06-01", "vital_status": "1"}
    r.update(kw)
    return r


def test_flat_sheet_generates_long_rows(tmp_path: Path) -> None:
    c = load_cohort(_book(tmp_path, [_row("P1", "2019-02-01", relapse_date="2019-09-01",
                                          relapse_sites="1")]))
    a = c.table("assessments").set_index("assessment_id")
    assert list(a.index) == ["P1-L1-BL", "P1-L1-A1"]
    assert a.loc["P1-L1-BL", "assessment_reason"] == "baseline"
    fu = c.table("follow_up").set_index("event_id")
    assert set(fu.index) == {"P1-LC", "P1-L1-REL"}
    assert fu.loc["P1-L1-REL", "line_id"] == "P1-L1"


def _rules(path: Path) -> dict[str, list[tuple[int | None, str | None]]]:
    with pytest.raises(CohortValidationError) as ei:
        load_cohort(path, format="flat")
    out: dict[str, list[tuple[int | None, str | None]]] = {}
    for e in ei.value.errors:
        out.setdefault(e.rule_id, []).append((e.row, e.column))
    return out


def test_flat_rules(tmp_path: Path) -> None:
    rows = [
        _row("P1", "2019-02-01"),
        _row("P1", "2019-06-01", sex="2", index_line="0", last_contact_date="2020-07-01"),
        _row("P2", "2019-02-01", a2_bm_blast_pct="3", hsct_type="1"),
        _row("P3", "2019-02-01"), _row("P3", "2019-02-01", index_line="0"),
    ]
    rows[0]["a12_date"] = "2019-05-01"
    got = _rules(_book(tmp_path, rows))
    assert got["R-FLAT-001"] == [(3, "sex")]
    assert got["R-FLAT-002"] == [(3, "last_contact_date")]
    assert (4, "a2_date") in got["R-FLAT-003"] and (4, "hsct_date") in got["R-FLAT-003"]
    assert got["R-FLAT-005"] == [(6, "line_start_date")]
    assert got["R-FLAT-006"] == [(None, "a12_date")]


def test_cell_errors_point_to_flat_columns(tmp_path: Path) -> None:
    got = _rules(_book(tmp_path, [_row("P1", "2019-02-01", a1_anc="abc", bl_emd="7")]))
    assert got["R-GEN-004"] == [(2, "a1_anc")]
    assert got["R-GEN-005"] == [(2, "bl_emd")]


def test_bl_date_missing_warning_and_long_sheet_conflict(tmp_path: Path) -> None:
    path = _book(tmp_path, [_row("P1", "2019-02-01", bl_date="")])
    c = load_cohort(path)
    assert [w.rule_id for w in c.warnings if w.rule_id.startswith("R-FLAT")] == ["R-FLAT-004"]
    assert c.table("assessments").set_index("assessment_id").loc[
        "P1-L1-BL", "assessment_date"] == pd.Timestamp("2019-02-01")
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("assessments")
    ws.append(["assessment_id", "patient_id", "line_id", "assessment_date", "bm_blast_pct"])
    ws.append(["P1-L1-A1", "P1", "P1-L1", "2019-03-01", "9"])
    ws.append(["P1-X", "P1", "P1-L1", "2019-04-01", "2"])
    wb.save(path)
    assert _rules(path)["R-FLAT-007"] == [(2, "assessment_id")]


@pytest.mark.parametrize("profile", ["seed001", "seed004"])
def test_sav_roundtrip(tmp_path: Path, profile: str) -> None:
    """SPSS .sav (§4): numeric raw codes with value labels, dates as SPSS dates; lossless."""
    import pyreadstat

    c = synthetic_cohort(profile, seed=4)
    path = c.export(tmp_path / "cohort.sav", format="sav")
    d = load_cohort(path)
    _same(c, d)
    pd.testing.assert_frame_equal(c.analysis_table(), d.analysis_table())
    df, meta = pyreadstat.read_sav(str(path))
    assert meta.variable_value_labels["sex"] == {1.0: "male", 2.0: "female", 9.0: "unknown"}
    assert set(df["sex"].dropna()) <= {1.0, 2.0, 9.0}
    assert meta.readstat_variable_types["line_start_date"] == "double"
    assert meta.original_variable_types["line_start_date"].startswith("DATE")
    # the labels are applied by SPSS users; reading with labels applied is refused (R-GEN-005)
    # only because labels are not codes: rrball reads raw codes, so the same file reads back.
    again = c.export(tmp_path / "again.sav", format="sav")
    _same(d, load_cohort(again))


def test_sav_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.sav"
    bad.write_bytes(b"not spss")
    with pytest.raises(CohortValidationError) as ei:
        load_cohort(bad)
    assert "R-FILE-001" in {e.rule_id for e in ei.value.errors}


def test_identifier_column_in_flat_sheet_refused(tmp_path: Path) -> None:
    rows = [_row("P1", "2019-02-01", Surname="Petrova")]
    with pytest.raises(CohortValidationError) as ei:
        load_cohort(_book(tmp_path, rows))
    assert [(e.rule_id, e.value) for e in ei.value.errors] == [("R-PRIV-001", "<redacted>")]
    assert "Petrova" not in str(ei.value) + repr(ei.value.errors)
