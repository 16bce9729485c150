"""``rrball validate`` (rrball.cli.validate.validate_command): report table, summary, exit codes
(api.md "Command line"; data-dictionary.md §3.6), no identifier values, no traceback."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from rrball.cli.validate import validate_command
from tests.cohort._data import base_tables, mutated, write_csv


def _run(path: Path | str, **kw: object) -> tuple[int, str]:
    con = Console(record=True, width=240, color_system=None)
    code = validate_command(str(path), console=con, **kw)  # type: ignore[arg-type]
    return code, con.export_text()


def test_valid_cohort_exit_0_with_summary(tmp_path: Path) -> None:
    code, out = _run(write_csv(tmp_path / "c", base_tables()))
    assert code == 0
    assert "VALID c: 5 patients, 5 treatment lines" in out
    assert "Traceback" not in out


def test_warnings_are_printed_and_exit_0(tmp_path: Path) -> None:
    t = mutated(base_tables())
    t["patients"][0]["birth_date"] = "1980-05-04"  # R-PRIV-004 (W): day precision
    code, out = _run(write_csv(tmp_path / "c", t))
    assert code == 0
    assert "R-PRIV-004" in out and "warning" in out


def test_errors_table_exit_1_no_identifier_values(tmp_path: Path) -> None:
    t = mutated(base_tables())
    t["patients"][1]["sex"] = "7"  # R-GEN-005
    t["treatment_lines"][0]["line_start_date"] = "2019-31-01"  # R-GEN-006
    for k, r in enumerate(t["patients"]):
        r["last_name"] = f"Ivanova{k}"  # R-PRIV-001: refused, value never printed
    code, out = _run(write_csv(tmp_path / "c", t))
    assert code == 1
    for col in ("table", "row", "column", "value", "rule", "sev", "message", "fix"):
        assert col in out
    assert "R-PRIV-001" in out and "INVALID c:" in out
    assert "Ivanova" not in out
    assert "Traceback" not in out


def test_cell_errors_listed_with_rows(tmp_path: Path) -> None:
    t = mutated(base_tables())
    t["patients"][1]["sex"] = "7"
    t["treatment_lines"][0]["line_start_date"] = "2019-31-01"
    code, out = _run(write_csv(tmp_path / "c", t))
    assert code == 1
    assert "R-GEN-005" in out and "R-GEN-006" in out
    assert "2019-31-01" in out  # non-identifier values are shown
    assert "2 errors" in out


def test_max_rows_caption(tmp_path: Path) -> None:
    t = mutated(base_tables())
    for r in t["patients"]:
        r["sex"] = "7"
    code, out = _run(write_csv(tmp_path / "c", t), max_rows=2)
    assert code == 1 and "and 3 more" in out


def test_bad_files_never_traceback(tmp_path: Path) -> None:
    code, out = _run(tmp_path / "missing")
    assert code == 1 and "does not exist" in out
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"\x00\x01not a workbook")
    code, out = _run(junk)
    assert code == 1 and "INVALID" in out and "Traceback" not in out
    other = tmp_path / "data.txt"
    other.write_text("a,b\n1,2\n")
    code, out = _run(other)
    assert code == 1 and "INVALID" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = _run(empty)
    assert code == 1 and "R-GEN-010" in out


