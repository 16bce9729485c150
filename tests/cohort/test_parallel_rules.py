"""The forked rules process of large cohorts (``rules.run_checked``): the same records as one
process, a fallback when the process cannot be made or does not answer, never a crash."""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rrball.cohort import CohortValidationError, endpoints, load_cohort, rules
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
    for name, corrupt in (("good", False), ("bad", True), ("rules_bad", False)):
        tables, meta = synthetic_tables("seed003", seed=5)
        if name == "rules_bad":  # typed values fine, a rule fails
            tables["treatment_lines"].loc[4, "line_start_date"] = "1999-01-01"
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


# ---- the toxicity table and ADSL derived by the forked process (``run_checked_analysis``) ----
def _derived(folder: Path) -> tuple[Any, ...]:
    c = load_cohort(folder)
    return c.analysis_table(), c.endpoints(), c.toxicity(), c._adsl_full()


def _assert_same(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=True)


def test_the_forked_process_derives_the_same_adsl_adtte_and_toxicity(
        folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RRBALL_WORKERS", "1")
    serial = _derived(folders["good"])
    assert load_cohort(folders["good"])._adsl is None  # derived when asked
    monkeypatch.delenv("RRBALL_WORKERS")
    monkeypatch.setattr(rules, "_PARALLEL_MIN_ROWS", 0)
    assert load_cohort(folders["good"])._adsl is not None  # derived by the forked process
    _assert_same(_derived(folders["good"]), serial)


def _child_only(parent: int, fail: bool) -> Any:
    real = endpoints.adsl

    def adsl(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            if fail:
                raise RuntimeError("child")
            time.sleep(3600)
        return real(*args, **kwargs)
    return adsl


@pytest.mark.parametrize("fail", [True, False])
def test_a_failing_or_stuck_analysis_child_leaves_the_derivation_to_the_parent(
        folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch, fail: bool) -> None:
    monkeypatch.setenv("RRBALL_WORKERS", "1")
    serial = _derived(folders["good"])
    monkeypatch.delenv("RRBALL_WORKERS")
    monkeypatch.setattr(rules, "_PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(rules, "_MIN_PATIENCE", 1.0)
    monkeypatch.setattr(endpoints, "adsl", _child_only(os.getpid(), fail))
    started = time.monotonic()
    c = load_cohort(folders["good"])
    assert c._adsl is None
    assert time.monotonic() - started < 60
    assert not mp.active_children()  # the child was ended
    _assert_same((c.analysis_table(), c.endpoints(), c.toxicity(), c._adsl_full()), serial)


def test_errors_end_the_analysis_child(folders: dict[str, Path],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RRBALL_WORKERS", "1")
    serial = _issues(folders["rules_bad"])
    assert any(e[4].startswith("R-") and e[5] == "E" for e in serial)
    monkeypatch.delenv("RRBALL_WORKERS")
    monkeypatch.setattr(rules, "_PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(endpoints, "adsl", _child_only(os.getpid(), False))  # never answers
    started = time.monotonic()
    assert _issues(folders["rules_bad"]) == serial
    assert time.monotonic() - started < 60
    assert not mp.active_children()


def _derive_in_pool_worker(folder: str) -> int:
    rules._PARALLEL_MIN_ROWS = 0
    return len(load_cohort(folder).analysis_table())


def test_a_daemonic_pool_worker_derives_here(folders: dict[str, Path]) -> None:
    with mp.get_context("fork").Pool(1) as pool:
        assert pool.apply(_derive_in_pool_worker, (str(folders["good"]),)) == len(
            load_cohort(folders["good"]).analysis_table())


# ---- tables parsed in a forked process, rules run there early (``validation._parse_tables``) --
def test_a_stuck_parsing_child_is_killed_and_everything_is_parsed_here(
        folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RRBALL_WORKERS", "1")
    serial = {n: _issues(folders[n]) for n in ("good", "rules_bad")}
    derived = _derived(folders["good"])
    monkeypatch.delenv("RRBALL_WORKERS")
    monkeypatch.setattr(rules, "_PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(rules, "_MIN_PATIENCE", 1.0)
    monkeypatch.setattr(rules, "_call_child", lambda *a: time.sleep(3600))
    started = time.monotonic()
    assert {n: _issues(folders[n]) for n in ("good", "rules_bad")} == serial
    _assert_same(_derived(folders["good"]), derived)
    assert time.monotonic() - started < 60
    assert not mp.active_children()


def test_early_rules_give_the_findings_of_the_rules_on_all_tables(
        folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    real = rules.run_checked_analysis

    def spy(tables: Any, meta: Any, *args: Any, **kwargs: Any) -> Any:
        seen["tables"], seen["meta"] = tables, meta
        return real(tables, meta, *args, **kwargs)

    monkeypatch.setattr(rules, "run_checked_analysis", spy)
    with pytest.raises(CohortValidationError):
        load_cohort(folders["rules_bad"])
    tables, meta = seen["tables"], seen["meta"]
    early = rules.run_early(tables, meta, "assessments")
    assert early and set(early) <= rules._EARLY_RULES
    for r in rules.RULES:
        if r.__name__ in early:
            assert repr(early[r.__name__]) == repr(r(tables, meta))
            rules._PCODES.clear()

    def looks(t: Any, m: Any) -> list[Any]:
        return [t["assessments"]]

    monkeypatch.setattr(rules, "RULES", [looks])
    monkeypatch.setattr(rules, "_EARLY_RULES", frozenset({"looks"}))
    assert rules.run_early(tables, meta, "assessments") == {}  # left for later


def test_an_interrupted_parent_ends_the_child_without_waiting() -> None:
    """Ctrl-C while the parent works: the forked process is killed at once (no patience wait)
    and the interruption propagates."""
    def here() -> None:
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        rules.fork_call(lambda: time.sleep(3600), here)
    assert time.monotonic() - started < 10
    assert not mp.active_children()
