"""Kaplan-Meier against R survival's survfit, summary, quantile and print (fixtures: survival.R)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from rrball.stats import kaplan_meier
from tests._rfixture import (
    assert_counts_equal,
    assert_matches_r,
    fixture_names,
    load_data,
    load_fixture,
)

KM_CASES = fixture_names("kaplan_meier__")


def fit_from_fixture(name: str) -> tuple[Any, dict[str, Any]]:
    fx = load_fixture(name)
    v = fx["values"]
    data = load_data(fx["data"]["file"])
    if v.get("subset") == "z3 == 1":
        data = data[data["z3"] == 1]
    levels = None
    if v.get("group"):
        # R orders groups by factor level; match its order by label (the data hold ints or str)
        present = {str(x): x for x in pd.unique(data[v["group"]])}
        levels = [present[g] for g in _labels(v["quantile"]["groups"])]
    result = kaplan_meier(
        data[v["time"]],
        data[v["event"]],
        group=data[v["group"]] if v.get("group") else None,
        levels=levels,
        entry=data[v["entry"]] if v.get("entry") else None,
        conf_type=v["conf_type"],
        conf_level=float(v.get("conf_level", 0.95)),
    )
    return result, fx


def _labels(values: Any) -> list[str]:
    """Labels as strings; R's JSON writer unboxes a one-element vector to a scalar."""
    if isinstance(values, str):
        return [values]
    return [str(x) for x in values]


@pytest.mark.parametrize("name", KM_CASES)
def test_table_matches_survfit(name: str) -> None:
    """Every row of the curve (counts, S, both SEs, CI) equals R's survfit object."""
    result, fx = fit_from_fixture(name)
    r = fx["values"]["table"]
    tab = result.table
    assert _labels(tab["group"]) == [g if g != "all" else "all" for g in r["group"]]
    assert_matches_r(tab["time"], fx, r["time"], "time")
    for col in ("n_risk", "n_event", "n_censor"):
        assert_counts_equal(tab[col], r[col], fx, col)
    for col in ("surv", "std_err", "std_err_cumhaz", "lower", "upper"):
        assert_matches_r(tab[col], fx, r[col], col)


@pytest.mark.parametrize("extend", [False, True])
@pytest.mark.parametrize("name", KM_CASES)
def test_at_matches_summary_times(name: str, extend: bool) -> None:
    """``.at(times)`` equals R ``summary(fit, times=, extend=)``."""
    result, fx = fit_from_fixture(name)
    r = fx["values"]["at_extend" if extend else "at"]
    got = result.at(fx["values"]["at_times"], extend=extend)
    assert _labels(got["group"]) == _labels(r["group"])
    for col in ("time", "surv", "std_err", "lower", "upper"):
        assert_matches_r(got[col], fx, r[col], f"at.{col}")
    for col in ("n_risk", "n_event", "n_censor"):
        assert_counts_equal(got[col], r[col], fx, f"at.{col}")


@pytest.mark.parametrize("name", KM_CASES)
def test_quantiles_match_quantile_survfit(name: str) -> None:
    """Quartiles and their CIs equal R ``quantile(fit)`` (midpoint rule, band crossings)."""
    result, fx = fit_from_fixture(name)
    q = fx["values"]["quantile"]
    probs = list(q["probs"])
    got = result.quantile(probs)
    k = len(result.groups)
    assert _labels(result.groups) == _labels(q["groups"])
    for col in ("estimate", "lower", "upper"):
        mine = got[col].to_numpy().reshape(k, len(probs))
        assert_matches_r(mine, fx, np.asarray(q[col]).reshape(k, len(probs)), f"quantile.{col}")


@pytest.mark.parametrize("name", KM_CASES)
def test_print_table_matches_print_survfit(name: str) -> None:
    """n, events, median and its CI equal R's ``print(fit)`` table."""
    result, fx = fit_from_fixture(name)
    p = fx["values"]["print"]
    med = result.summary_table.rename(columns={"median": "estimate"})
    assert_counts_equal([result.n[g] for g in result.groups], p["n"], fx, "n")
    assert_counts_equal([result.events[g] for g in result.groups], p["events"], fx, "events")
    assert_matches_r(med["estimate"], fx, p["median"], "median")
    assert_matches_r(med["lower"], fx, p["lower"], "median lower")
    assert_matches_r(med["upper"], fx, p["upper"], "median upper")


def test_exact_half_stretch_uses_midpoint() -> None:
    """bmt ALL males: S = 0.5 exactly over a stretch, the median is its midpoint (as R)."""
    result, _ = fit_from_fixture("kaplan_meier__bmt__os_group_male_half")
    tab = result.table
    all_rows = tab[tab["group"] == 1]
    half = all_rows[np.isclose(all_rows["surv"], 0.5, rtol=0, atol=1e-12)]
    assert len(half) >= 1
    start = float(half["time"].iloc[0])
    later = all_rows[all_rows["surv"] < 0.5 - 1e-9]
    end = float(later["time"].iloc[0])
    assert result.median()["estimate"].iloc[0] == pytest.approx((start + end) / 2, rel=1e-15)
    assert start < result.median()["estimate"].iloc[0] < end


def test_near_ties_merged_years_equal_days() -> None:
    """Follow-up in years computed from dates gives the same curve as days (R timefix)."""
    data = load_data("neartie.csv")
    years = kaplan_meier(data["fuyrs"], data["status"])
    days = kaplan_meier(data["fudays"], data["status"])
    assert years.method["timefix"] is True
    assert any("near-tied" in w for w in years.warnings)
    assert not days.warnings
    np.testing.assert_array_equal(years.table["n_event"], days.table["n_event"])
    np.testing.assert_allclose(years.table["surv"], days.table["surv"], rtol=1e-15)
    raw = kaplan_meier(data["fuyrs"], data["status"], timefix=False)
    assert len(raw.table) > len(years.table), "without the fix, rounding splits tied times"


def test_summary_prints_like_print_survfit() -> None:
    data = load_data("aml.csv")
    text = kaplan_meier(data["time"], data["status"], group=data["x"]).summary()
    assert "x=Maintained" in text and "x=Nonmaintained" in text
    assert "0.95LCL" in text and "log transform" in text
    assert "survfit(" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("x=Maintained"))
    assert line.split()[1:] == ["11", "7", "31", "18", "NA"]


def test_levels_order_groups() -> None:
    data = load_data("aml.csv")
    r = kaplan_meier(
        data["time"], data["status"], group=data["x"], levels=["Nonmaintained", "Maintained"]
    )
    assert r.groups == ("Nonmaintained", "Maintained")
    assert r.table["group"].iloc[0] == "Nonmaintained"


def test_to_dict_is_json_safe() -> None:
    import json

    data = load_data("aml.csv")
    d = kaplan_meier(data["time"], data["status"], group=data["x"]).to_dict()
    text = json.dumps(d, allow_nan=False)
    assert "Maintained" in text


def test_result_is_frozen_and_table_is_a_copy() -> None:
    data = load_data("aml.csv")
    r = kaplan_meier(data["time"], data["status"])
    tab = r.table
    tab.loc[0, "surv"] = -1.0
    assert r.table.loc[0, "surv"] > 0
    with pytest.raises(AttributeError):
        r.conf_type = "plain"  # type: ignore[misc]
    assert isinstance(r.curve(), pd.DataFrame)
