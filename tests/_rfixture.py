"""Load R reference fixtures and compare rrball's numbers with them.

Fixtures are JSON files written by ``tests/stats/r/*.R`` (see ``_write_fixture.R``): doubles at 17
significant digits, NA as null, infinities as "Inf"/"-Inf". Comparison is relative (``rtol`` from
the fixture, default 1e-9 for the same algorithm), NaN positions must match exactly, and a fixture
can declare an ``atol`` floor (with a reason) for values that are exactly 0 in R.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

STATS_DIR = Path(__file__).resolve().parent / "stats"
FIXTURE_DIR = STATS_DIR / "fixtures"
DATA_DIR = STATS_DIR / "data"


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"dim", "values"}:
            dims = value["dim"] if isinstance(value["dim"], list) else [value["dim"]]
            flat = np.array([_num(v) for v in _as_list(value["values"])], dtype=float)
            return flat.reshape(dims, order="F")
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        if all(v is None or isinstance(v, (int, float)) or v in ("Inf", "-Inf") for v in value):
            return np.array([_num(v) for v in value], dtype=float)
        return value
    return value


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _num(v: Any) -> float:
    if v is None:
        return math.nan
    if v == "Inf":
        return math.inf
    if v == "-Inf":
        return -math.inf
    return float(v)


@cache
def _load(name: str) -> dict[str, Any]:
    with open(FIXTURE_DIR / f"{name}.json", encoding="utf-8") as fh:
        raw = json.load(fh)
    raw["values"] = _decode(raw["values"])
    return raw


def load_fixture(name: str) -> dict[str, Any]:
    return _load(name)


def fixture_names(prefix: str) -> list[str]:
    return sorted(p.stem for p in FIXTURE_DIR.glob(f"{prefix}*.json"))


@cache
def _read_data(file: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / file)


def load_data(file: str) -> pd.DataFrame:
    return _read_data(file).copy()


def as_float_array(values: Any) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    return arr


def assert_matches_r(actual: Any, fixture: dict[str, Any], expected: Any, what: str) -> None:
    """``actual`` equals R's ``expected`` within the fixture's tolerance; NaN where R has NA."""
    tol = fixture["tolerance"]
    rtol = float(tol["rtol"])
    atol = float(tol["atol"])
    a = as_float_array(actual).ravel()
    e = as_float_array(expected).ravel()
    assert a.shape == e.shape, f"{fixture['case']} {what}: shape {a.shape} != R {e.shape}"
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    assert np.array_equal(nan_a, nan_e), (
        f"{fixture['case']} {what}: NaN/NA positions differ; rrball NaN at "
        f"{np.flatnonzero(nan_a).tolist()}, R NA at {np.flatnonzero(nan_e).tolist()}"
    )
    ok = ~nan_e
    inf_e = np.isinf(e) & ok
    assert np.array_equal(a[inf_e], e[inf_e]), f"{fixture['case']} {what}: infinities differ"
    fin = ok & ~inf_e
    diff = np.abs(a[fin] - e[fin])
    bound = atol + rtol * np.abs(e[fin])
    bad = np.flatnonzero(diff > bound)
    assert bad.size == 0, (
        f"{fixture['case']} {what}: {bad.size} value(s) differ from R beyond rtol={rtol:g}, "
        f"atol={atol:g}; first: rrball {a[fin][bad[0]]!r} vs R {e[fin][bad[0]]!r}"
    )


def assert_counts_equal(actual: Any, expected: Any, fixture: dict[str, Any], what: str) -> None:
    a = np.asarray(actual, dtype=float).ravel()
    e = np.asarray(expected, dtype=float).ravel()
    assert np.array_equal(a, e), f"{fixture['case']} {what}: counts differ from R"
