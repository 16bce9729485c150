"""Hypothesis fuzzing of the CSV/XLSX readers and the privacy test (issue 7 proof)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rrball.cohort import Cohort, CohortValidationError, load_cohort
from rrball.cohort.cohort import validate_raw
from rrball.cohort.readers.csv import read_csv_text
from rrball.cohort.readers.xlsx import read_xlsx_bytes
from tests.cohort._data import META, base_tables, frames, write_csv

_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)
_CELLS = st.one_of(_TEXT, st.sampled_from(
    ["", "NA", "1", "0", "9", "2019-02-01", "2019-02", "1e-4", "<5", "P1", "P1-L1", "yes",
     "150000", "-1", "=1+1", "1;5"]))


def _load_from_csv_bytes(files: dict[str, bytes]) -> object:
    raw, issues = {}, []
    for name, data in files.items():
        t, iss = read_csv_text(data, name, f"{name}.csv")
        issues += iss
        if t is not None:
            raw[name] = t
    pairs = [(k, v, i + 2) for i, (k, v) in enumerate(META)]
    try:
        return validate_raw(raw, pairs, source="fuzz", issues=issues)
    except CohortValidationError as exc:
        return exc


@settings(max_examples=30)
@given(table=st.sampled_from(["patients", "treatment_lines", "assessments", "follow_up"]),
       row=st.integers(0, 3), col=st.integers(0, 12), value=_CELLS)
def test_fuzz_csv_cell(table: str, row: int, col: int, value: str) -> None:
    """Any one-cell change gives a Cohort or a CohortValidationError, never another exception."""
    fr = frames(base_tables())
    df = fr[table]
    df.iloc[row % len(df), col % df.shape[1]] = value
    files = {k: v.to_csv(index=False).encode() for k, v in fr.items()}
    out = _load_from_csv_bytes(files)
    assert isinstance(out, (Cohort, CohortValidationError))


@settings(max_examples=20)
@given(data=st.binary(max_size=200))
def test_fuzz_csv_bytes(data: bytes) -> None:
    """Arbitrary bytes as patients.csv: refused cleanly."""
    files = {k: v.to_csv(index=False).encode() for k, v in frames(base_tables()).items()}
    files["patients"] = data
    assert isinstance(_load_from_csv_bytes(files), CohortValidationError)


@settings(max_examples=12)
@given(cells=st.lists(st.one_of(_CELLS, st.integers(-5, 200000), st.floats(allow_nan=True),
                                st.dates()), min_size=1, max_size=6))
def test_fuzz_xlsx_sheet(cells: list[object]) -> None:
    """A workbook whose patients sheet gets arbitrary typed cells: Cohort or error only."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, df in frames(base_tables()).items():
        ws = wb.create_sheet(name)
        ws.append(list(df.columns))
        for r in df.itertuples(index=False):
            ws.append([v or None for v in r])
    ws = wb.create_sheet("metadata")
    ws.append(["key", "value"])
    for k, v in META:
        ws.append([k, v])
    wb["patients"].append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    raw, meta, issues = read_xlsx_bytes(buf.getvalue(), "fuzz.xlsx")
    try:
        out: object = validate_raw(raw, meta, source="fuzz.xlsx", issues=issues)
    except CohortValidationError as exc:
        out = exc
    assert isinstance(out, (Cohort, CohortValidationError))


SECRETS = ["Kowalczyk-Secret", "MRN99887766", "jane.doe@example.org", "+44 20 7946 0958"]


def test_privacy_no_identifier_in_errors_or_logs(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """Seeded identifier values never appear in error records, messages or log lines (§6)."""
    t = base_tables()
    for i, r in enumerate(t["patients"]):
        r["surname"] = SECRETS[0]
        r["MRN"] = SECRETS[1]
        r["email"] = SECRETS[2]
        r["frontline_protocol"] = SECRETS[3] if i == 0 else "ALL-2009"
    t["treatment_lines"][0]["regimen_detail"] = SECRETS[2]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CohortValidationError) as info:
        load_cohort(write_csv(tmp_path / "c", t))
    rules = {e.rule_id for e in info.value.errors}
    assert {"R-PRIV-001", "R-PRIV-002"} <= rules
    text = "\n".join([str(info.value), *(repr(e) for e in info.value.errors),
                      *(repr(w) for w in info.value.warnings), caplog.text])
    for secret in SECRETS:
        assert secret not in text
    assert all(e.value == "<redacted>" for e in info.value.errors
               if e.rule_id in ("R-PRIV-001", "R-PRIV-002"))
