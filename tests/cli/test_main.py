"""The command line: demo output, exit codes 0/1/2, no traceback on user mistakes."""

from __future__ import annotations

import sys

import pytest

from rrball.cli import main as cli_main
from rrball.errors import InputError


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["rrball", *args])
    try:
        cli_main.main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_demo_prints_the_survival_analysis(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "demo") == 0
    out = capsys.readouterr().out
    assert "disease=ALL" in out and "38      24     466" in out
    assert "Chisq = 15.2  on 2 degrees of freedom" in out
    assert "Median follow-up" in out and "Landmark at 100" in out


def test_usage_error_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(monkeypatch, "no-such-command") == 2


def test_input_error_exits_1_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> None:
        raise InputError("time", "has negative times", [3])

    monkeypatch.setattr("rrball.cli.demo.demo_sections", broken)
    assert run(monkeypatch, "demo") == 1
    err = capsys.readouterr().err
    assert "error:" in err and "time: has negative times" in err
    assert "Traceback" not in err


def test_validate_is_registered(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rrball validate` on a missing path: a one-line message and exit 1, no traceback."""
    assert run(monkeypatch, "validate", "/nonexistent/cohort") == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
