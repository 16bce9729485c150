"""``load_cohort(..., metadata=PATH)`` / ``rrball validate --meta`` (data-dictionary.md §2.3): a
key,value file given with the data replaces the file's own settings, key by key."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from rrball.cli.validate import validate_command
from rrball.cohort import CohortValidationError, load_cohort
from rrball.errors import InputError
from tests.cohort._data import META, base_tables, write_csv


def _sidecar(path: Path, pairs: list[tuple[str, str]]) -> Path:
    pd.DataFrame(pairs, columns=["key", "value"]).to_csv(path, index=False)
    return path


def test_missing_unit_supplied_by_the_sidecar(tmp_path: Path) -> None:
    folder = write_csv(tmp_path / "c", base_tables(), [m for m in META if m[0] != "unit_plt"])
    with pytest.raises(CohortValidationError) as exc:
        load_cohort(folder)
    assert "R-UNIT-001" in {e.rule_id for e in exc.value.errors}
    side = _sidecar(tmp_path / "meta.csv", [("unit_plt", "10^9/L")])
    c = load_cohort(folder, metadata=side)
    assert c.metadata["unit_plt"] == "10^9/L"


def test_sidecar_overrides_the_files_setting(tmp_path: Path) -> None:
    t = base_tables()
    for a in t["assessments"]:
        if a.get("plt"):
            a["plt"] = str(float(a["plt"]) * 1000)  # the centre typed /uL
    folder = write_csv(tmp_path / "c", t, META)
    with pytest.raises(CohortValidationError) as exc:
        load_cohort(folder)
    assert "R-UNIT-003" in {e.rule_id for e in exc.value.errors}
    side = _sidecar(tmp_path / "meta.csv", [("unit_plt", "/uL")])
    c = load_cohort(folder, metadata=side)
    assert sorted(c.table("assessments")["plt"].dropna().unique()) == [20.0, 150.0]


def test_bad_sidecar_is_reported_and_a_missing_one_is_an_input_error(tmp_path: Path) -> None:
    folder = write_csv(tmp_path / "c", base_tables(), META)
    bad = tmp_path / "bad.csv"
    bad.write_text("setting,val\nunit_plt,/uL\n", encoding="utf-8")
    with pytest.raises(CohortValidationError) as exc:
        load_cohort(folder, metadata=bad)
    assert [(e.rule_id, e.source) for e in exc.value.errors] == [("R-GEN-002", "bad.csv")]
    with pytest.raises(InputError):
        load_cohort(folder, metadata=tmp_path / "nope.csv")
    con = Console(record=True, width=200)
    assert validate_command(str(folder), console=con, meta=str(tmp_path / "nope.csv")) == 1
    assert "nope.csv does not exist" in con.export_text()
    con = Console(record=True, width=200)
    side = _sidecar(tmp_path / "meta.csv", [("criteria_set", "seed000")])
    assert validate_command(str(folder), console=con, meta=str(side)) == 0
