"""``rrball run``: writes the four formats, exit 1 on a bad plan, 2 on a bad format."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from rrball.cli import main as cli_main


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["rrball", *args])
    try:
        cli_main.main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_run_writes_four_formats(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run(monkeypatch, "run", "seed_004", "--out", str(out)) == 0
    for fmt in ("html", "pdf", "docx", "xlsx"):
        assert (out / f"seed_004.{fmt}").stat().st_size > 1000
    html = (out / "seed_004.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "N004-09" in html
    wb = load_workbook(out / "seed_004.xlsx")
    numbers = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
               if isinstance(c.value, (int, float))]
    assert numbers and 39.4 in numbers
    text = capsys.readouterr().out
    assert "published vs reproduced" in text and "N004-09" in text


def test_run_bad_plan_exits_1_without_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "bad.yaml"
    plan.write_text("study: {id: x, title: y}\nanalyses:\n  - {id: a, type: km, endpoint: OSS}\n")
    assert run(monkeypatch, "run", str(plan), "--out", str(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "bad.yaml, line 3" in err and "unknown endpoint 'OSS'" in err
    assert "Traceback" not in err


def test_run_bad_data_exits_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "cohort.txt"
    bogus.write_text("not a cohort")
    assert run(monkeypatch, "run", "seed_004", "--data", str(bogus), "--out",
               str(tmp_path)) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_run_unknown_format_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert run(monkeypatch, "run", "seed_004", "--format", "pptx", "--out", str(tmp_path)) == 2


def test_studies_runs_every_bundled_plan_into_its_folder(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from rrball.study.plan import bundled_plans

    out = tmp_path / "out"
    assert run(monkeypatch, "studies", "--out", str(out), "--format", "xlsx") == 0
    names = set(bundled_plans())
    assert {"seed_000", "seed_001", "seed_002", "seed_003", "seed_004", "all_bioc"} <= names
    for name in names:
        assert (out / name / f"{name}.xlsx").stat().st_size > 1000
    text = capsys.readouterr().out
    assert "Bundled studies: published vs reproduced" in text
    for name in names:
        assert name in text


def test_studies_bad_format_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    assert run(monkeypatch, "studies", "--out", str(tmp_path), "--format", "pptx") == 2
    assert not any(tmp_path.iterdir())


def test_studies_negative_jobs_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    assert run(monkeypatch, "studies", "--out", str(tmp_path), "--jobs", "-1") == 2


def test_parallel_and_serial_runs_give_the_same_comparison(tmp_path: Path) -> None:
    from rrball.cli.run import run_all_bundled

    names = ["seed_002", "seed_004"]
    one = run_all_bundled(str(tmp_path / "a"), ["xlsx"], 1, names)
    two = run_all_bundled(str(tmp_path / "b"), ["xlsx"], 2, names)
    assert [o.name for o in one] == [o.name for o in two] == names
    for a, b in zip(one, two, strict=True):
        assert a.summary == b.summary
        pd.testing.assert_frame_equal(a.comparison, b.comparison)


def test_unwritable_output_is_a_message_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert run(monkeypatch, "run", "seed_002", "--out", str(blocker / "x"),
               "--format", "html") == 1
    err = capsys.readouterr().err
    assert "cannot write the reports" in err and "Traceback" not in err


def test_studies_reports_a_failing_plan_and_still_summarises(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from rrball.cli import run as run_mod

    real = run_mod.bundled_plans()
    broken = tmp_path / "broken.yaml"
    broken.write_text("study: {id: broken, title: b}\nanalyses: []\n")
    plans = {"broken": broken, "seed_002": real["seed_002"]}
    monkeypatch.setattr(run_mod, "bundled_plans", lambda: plans)
    code = run(monkeypatch, "studies", "--out", str(tmp_path / "out"), "--format", "xlsx",
               "--jobs", "1")
    out = capsys.readouterr().out
    assert code == 1
    assert "failed" in out and "seed_002" in out and "Traceback" not in out
    assert (tmp_path / "out" / "seed_002" / "seed_002.xlsx").exists()
