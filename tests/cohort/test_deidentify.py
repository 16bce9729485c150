"""De-identified export (data-dictionary.md §6): re-keyed IDs, per-patient date shift, free text
dropped, birth date at month precision, age >= 90 top-coded; the export re-imports as a valid
cohort whose derived endpoints (days, CNSR, event types) equal the original's."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pandas as pd
import pytest

from rrball.cohort import Cohort, load_cohort, synthetic_cohort
from rrball.cohort.deidentify import REMOVED_TEXT, patient_shift_days
from tests.cohort._data import META, base_tables, mutated, write_csv

SECRET = "centre-secret-for-tests"
# the export's notes to the user (month-precision birth dates, patients past the cut-off) are
# checked where they matter, with pytest.warns
pytestmark = pytest.mark.filterwarnings("ignore:de-identified export:UserWarning")
_ENDPOINT_COLS = ["PARAMCD", "AVAL", "CNSR", "CMPEVT", "EVNTDESC", "CNSDTDSC", "SRCDOM",
                  "SRCVAR"]


def _pseudo(pid: str) -> str:
    return "P" + hmac.new(SECRET.encode(), pid.encode(), hashlib.sha256).hexdigest()[:10]


def _endpoints_by_patient(c: Cohort, rename: dict[str, str] | None = None) -> pd.DataFrame:
    e = c.endpoints()
    study = c.metadata.get("study_code", "")
    pid = e["USUBJID"].str.slice(len(study) + 1)
    e = e.assign(PID=pid.map(rename) if rename else pid)
    return e.sort_values(["PID", "PARAMCD"]).reset_index(drop=True)[["PID", *_ENDPOINT_COLS]]


def _no_cutoff(c: Cohort, tmp: Path) -> Cohort:
    """The same cohort without data_cutoff_date (the study-level cut-off is not shifted)."""
    folder = c.export(tmp / "orig")
    meta = pd.read_csv(folder / "metadata.csv", dtype=str)
    meta[meta["key"] != "data_cutoff_date"].to_csv(folder / "metadata.csv", index=False)
    return load_cohort(folder)


@pytest.mark.parametrize(("profile", "fmt"), [("seed003", "csv"), ("seed004", "xlsx")])
def test_deidentified_roundtrip_keeps_endpoints(tmp_path: Path, profile: str, fmt: str) -> None:
    c = _no_cutoff(synthetic_cohort(profile, seed=3), tmp_path)
    target = tmp_path / ("deid.xlsx" if fmt == "xlsx" else "deid")
    d = load_cohort(c.export(target, format=fmt, deidentify=True, secret=SECRET))
    assert d.metadata["deidentified"] is True and d.metadata["date_shifted"] is True
    pids = list(c.table("patients")["patient_id"])
    rename = {p: _pseudo(p) for p in pids}
    assert sorted(d.table("patients")["patient_id"]) == sorted(rename.values())
    pd.testing.assert_frame_equal(_endpoints_by_patient(c, rename), _endpoints_by_patient(d))
    # every date of a patient moved by the same §6 offset (1-365 days back)
    a0 = c.analysis_table().set_index("SUBJID")
    a1 = d.analysis_table().set_index("SUBJID")
    study = str(c.metadata["study_code"])
    for p in pids[:40]:
        shift = patient_shift_days(SECRET, study, p)
        assert -365 <= shift <= -1
        for col in ("TRTSDT", "LSTCNDT"):
            assert (a1.loc[rename[p], col] - a0.loc[p, col]).days == shift
    for col in ("RESPFL", "CRFL", "BESTRESP", "RELFL", "DTHFL", "HSCTFL", "REGIMEN"):
        assert list(a0[col].sort_index().rename(index=rename).sort_index()) == \
            list(a1[col].sort_index())


def test_no_original_identifier_or_free_text_in_files(tmp_path: Path) -> None:
    t = mutated(base_tables())
    t["treatment_lines"][0]["regimen_detail"] = "protocol of Dr House"
    c = load_cohort(write_csv(tmp_path / "c", t, [*META[:-1]]))
    folder = c.export(tmp_path / "d", deidentify=True, secret=SECRET)
    text = "\n".join(f.read_text() for f in folder.glob("*.csv"))
    cells = {v for f in folder.glob("*.csv")
             for v in pd.read_csv(f, dtype=str, keep_default_na=False).to_numpy().ravel()}
    for table in ("patients", "treatment_lines", "assessments", "follow_up", "transplants"):
        key = {"patients": "patient_id", "treatment_lines": "line_id",
               "assessments": "assessment_id", "follow_up": "event_id",
               "transplants": "hsct_id"}[table]
        for v in c.table(table)[key]:
            assert v not in cells
    assert "House" not in text
    lines = pd.read_csv(folder / "treatment_lines.csv", dtype=str, keep_default_na=False)
    assert set(lines["regimen_detail"]) <= {"", REMOVED_TEXT}
    assert SECRET not in text
    pats = pd.read_csv(folder / "patients.csv", dtype=str)
    assert pats["birth_date"].str.fullmatch(r"\d{4}-\d{2}").all()
    d = load_cohort(folder)
    pd.testing.assert_frame_equal(
        _endpoints_by_patient(c, {p: _pseudo(p) for p in c.table("patients")["patient_id"]}),
        _endpoints_by_patient(d))


def test_same_secret_same_export_other_secret_other_keys(tmp_path: Path) -> None:
    c = load_cohort(write_csv(tmp_path / "c", base_tables(), [*META[:-1]]))
    a = c.export(tmp_path / "a", deidentify=True, secret=SECRET)
    b = c.export(tmp_path / "b", deidentify=True, secret=SECRET)
    o = c.export(tmp_path / "o", deidentify=True, secret="another")
    assert (a / "follow_up.csv").read_text() == (b / "follow_up.csv").read_text()
    assert (a / "follow_up.csv").read_text() != (o / "follow_up.csv").read_text()


def test_age_90_top_coded(tmp_path: Path) -> None:
    t = mutated(base_tables())
    t["patients"][0]["birth_date"] = "1920-05"
    c = load_cohort(write_csv(tmp_path / "c", t, [*META[:-1]]))
    folder = c.export(tmp_path / "d", deidentify=True, secret=SECRET)
    pats = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    row = pats[pats["patient_id"] == _pseudo("P1")].iloc[0]
    assert row["birth_date"] == "" and row["age_at_diagnosis_years"] == "90"
    load_cohort(folder)


def test_secret_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RRBALL_DEID_SECRET", SECRET)
    c = load_cohort(write_csv(tmp_path / "c", base_tables(), [*META[:-1]]))
    folder = c.export(tmp_path / "d", deidentify=True)
    assert _pseudo("P1") in (folder / "patients.csv").read_text()


def test_cutoff_crossing_follow_up_is_frozen_at_the_cutoff(tmp_path: Path) -> None:
    """Decision: with data_cutoff_date the export is frozen at the cut-off, then shifted. P3 is
    alive past the 2022-06-30 cut-off: its rows censored by the cut-off (CNSR 6) become censored
    at the last contact (CNSR 1) on the same day; every AVAL and every event is unchanged. A
    patient whose line starts after the cut-off (no endpoint rows) is left out."""
    t = base_tables()
    late = {**t["patients"][1], "patient_id": "P9"}
    t["patients"].append(late)
    t["treatment_lines"].append({**t["treatment_lines"][1], "line_id": "P9-L1",
                                 "patient_id": "P9", "line_start_date": "2022-08-01"})
    t["follow_up"].append({"event_id": "P9-LC", "patient_id": "P9", "event_type": "3",
                           "event_date": "2022-10-01", "vital_status": "1"})
    c = load_cohort(write_csv(tmp_path / "c", t, META))
    assert (c.endpoints()["CNSR"] == 6).any()
    with pytest.warns(UserWarning, match="1 patient"):
        d = load_cohort(c.export(tmp_path / "deid", deidentify=True, secret=SECRET))
    before = _endpoints_by_patient(c, {p: _pseudo(p) for p in
                                       c.table("patients")["patient_id"]})
    after = _endpoints_by_patient(d)
    assert _pseudo("P9") not in set(after["PID"]) and _pseudo("P9") not in set(before["PID"])
    assert _pseudo("P9") not in set(d.table("patients")["patient_id"])
    expected = before.copy()
    six = expected["CNSR"] == 6
    expected.loc[six, "CNSR"] = 1
    expected.loc[six, "CNSDTDSC"] = "LAST CONTACT"
    # dates that came from the cut-off (CNSR 6, and FU of P3 alive at the cut-off) now come
    # from the clamped last-contact row
    from_cutoff = expected["SRCDOM"].isna()
    assert from_cutoff.sum() == six.sum() + 1
    expected.loc[from_cutoff, "SRCDOM"] = "follow_up"
    expected.loc[from_cutoff, "SRCVAR"] = "event_date"
    pd.testing.assert_frame_equal(expected.reset_index(drop=True), after.reset_index(drop=True),
                                  check_dtype=False)
    # FU: P3 was alive at the cut-off (CNSR 0 at the cut-off) and still is
    fu = after[(after["PARAMCD"] == "FU") & (after["PID"] == _pseudo("P3"))]
    assert list(fu["CNSR"]) == [0]


def test_required_free_text_is_blanked_so_the_export_stays_valid(tmp_path: Path) -> None:
    """R-LIN-001: regimen_detail is required for 'other' regimens; the de-identified export
    keeps the column with a neutral text instead of dropping it (and re-imports)."""
    t = mutated(base_tables())
    t["treatment_lines"][1].update(regimen="20", regimen_detail="FLAG-Ida at Dr House's ward")
    c = load_cohort(write_csv(tmp_path / "c", t, [*META[:-1]]))
    d = load_cohort(c.export(tmp_path / "d", deidentify=True, secret=SECRET))
    details = d.table("treatment_lines")["regimen_detail"].dropna()
    assert list(details) == [REMOVED_TEXT]


def test_month_precision_birth_dates_are_announced(tmp_path: Path) -> None:
    t = mutated(base_tables())
    t["patients"][0]["birth_date"] = "1980-05-17"
    c = load_cohort(write_csv(tmp_path / "c", t, [*META[:-1]]))
    with pytest.warns(UserWarning, match="1 birth date"):
        c.export(tmp_path / "d", deidentify=True, secret=SECRET)
