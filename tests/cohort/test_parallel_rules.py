"""The forked rules process of large cohorts (``rules.run_checked``): the same records as one
process, a fallback when the process cannot be made or does not answer, never a crash."""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

import pytest

from rrball.cohort import CohortValidationError, load_cohort, rules
from rrball.cohort.readers.csv import write_csv_folder
from rrball.cohort.synthetic import synthetic_tables

pytestmark = pytest.mark.skipif(not rules._two_cores(), reason="needs Linux and two cores")


def _issues(folder: Path) -> list[tuple[Any, ...]]:
    try:
        c = load_cohort(folder)
    except CohortValidationError as exc:
        return [dataclasses.astuple(e) for e in (*exc.errors, *exc.warnings)]
    return [dataclasses.astuple(w) for w in c.warnings]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name, corrupt in (("good", False), ("bad", True)):
        tables, meta = synthetic_tables("seed003", seed=5)
        if corrupt:
            tables["assessments"].loc[3, "assessment_date"] = "2019-02-30"
            tables["treatment_lines"].loc[4, "line_start_date"] = "1999-01-01"
            tables["follow_up"].loc[7, "event_date"] = "2030-01-01"
        out[name] = tmp_path_factory.mktemp(name)
        write_csv_folder(out[name], tables, meta)
    return out


def test_forked_rules_give_the_records_of_one_process(folders: dict[str, Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("good", "bad"):
        monkeypatch.setenv("RRBALL_WORKERS", "1")
        serial = _issues(folders[name])
        monkeypatch.delenv("RRBALL_WORKERS")
        monkeypatch.setattr(rules, "_PARALLEL_MIN_ROWS", 0)
        assert rules._two_cores()  # the forked path is really taken
        assert _issues(folders[name]) == serial
        assert serial or name == "good"


def _in_pool_worker(folder: str) -> str:
    rules._PARALLEL_MIN_ROWS = 0
    try:
        load_cohort(folder)
    except CohortValidationError:
        return "errors"
    return "ok"


def test_a_daemonic_pool_worker_does_not_fork_and_still_validates(
        folders: dict[str, Path]) -> None:
    with mp.get_context("fork").Pool(1) as pool:
        assert pool.apply(_in_pool_worker, (str(folders["good"]),)) == "ok"
        assert pool.apply(_in_pool_worker, (str(folders["bad"]),)) == "errors"


def test_a_stuck_child_is_killed_and_everything_runs_here(folders: dict[str, Path],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RRBALL_WORKERS", "1")
    serial = _issues(folders["bad"])
    monkeypatch.delenv("RRBALL_WORKERS")
    monkeypatch.setattr(rules, "_PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(rules, "_MIN_PATIENCE", 1.0)
    monkeypatch.setattr(rules, "_child_run", lambda *a: time.sleep(3600))
    assert rules._two_cores()
    started = time.monotonic()
    assert _issues(folders["bad"]) == serial
    assert time.monotonic() - started < 60
