"""Cumulative incidence, Gray's test and Fine-Gray against R cmprsk (competing_risks.R)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from rrball.errors import InputError
from rrball.stats.competing_risks import cumulative_incidence
from rrball.stats.gray_test import gray_test
from rrball.stats.kaplan_meier import kaplan_meier
from tests._rfixture import assert_matches_r, fixture_names, load_data, load_fixture

CIF_CASES = fixture_names("cuminc__")


def _fit(name: str) -> tuple[Any, dict[str, Any], pd.DataFrame]:
    fx = load_fixture(name)
    v = fx["values"]
    data = load_data(fx["data"]["file"])
    group = data[v["group"]] if v.get("group") else None
    return cumulative_incidence(data["time"], data["status"], group=group), fx, data


def _curve_key(name: str, grouped: bool = True) -> tuple[str, int]:
    """cmprsk names curves "group cause" ("1 1" even without a group)."""
    group, cause = name.split(" ")
    return (group if grouped else "all"), int(cause)


@pytest.mark.parametrize("name", CIF_CASES)
def test_estimate_and_gray_variance_match_cuminc(name: str) -> None:
    """At every time cuminc reports (its last value per time), estimate and variance agree."""
    res, fx, _ = _fit(name)
    tab = res.table
    for curve in fx["values"]["curves"]:
        group, cause = _curve_key(curve["name"], bool(fx["values"].get("group")))
        sub = tab[(tab["group"].astype(str) == group) & (tab["cause"] == cause)]
        last: dict[float, tuple[float, float]] = {}
        for t, e, v in zip(curve["time"], curve["est"], curve["var"], strict=True):
            last[float(t)] = (float(e), float(v))
        times = [t for t in last if t in set(sub["time"])]
        assert len(times) >= len(last) - 2, "every cause-specific event time is in the table"
        mine = sub.set_index("time").loc[times]
        assert_matches_r(mine["estimate"], fx, [last[t][0] for t in times], f"{curve['name']} est")
        assert_matches_r(mine["variance"], fx, [last[t][1] for t in times], f"{curve['name']} var")


@pytest.mark.parametrize("name", CIF_CASES)
def test_at_matches_timepoints(name: str) -> None:
    res, fx, _ = _fit(name)
    v = fx["values"]
    at = res.at(v["times"])
    names = [v["tp_names"]] if isinstance(v["tp_names"], str) else v["tp_names"]
    est = np.asarray(v["tp_est"]).reshape(len(names), -1)
    var = np.asarray(v["tp_var"]).reshape(len(names), -1)
    for i, nm in enumerate(names):
        group, cause = _curve_key(nm, bool(v.get("group")))
        sub = at[(at["group"].astype(str) == group) & (at["cause"] == cause)]
        assert_matches_r(sub["estimate"], fx, est[i], f"timepoints {nm} est")
        assert_matches_r(sub["variance"], fx, var[i], f"timepoints {nm} var")


def test_single_cause_equals_one_minus_kaplan_meier() -> None:
    """With one cause, the cumulative incidence is 1 - KM exactly."""
    data = load_data("aml.csv")
    cif = cumulative_incidence(data["time"], data["status"]).table
    km = kaplan_meier(data["time"], data["status"]).table
    km = km[km["n_event"] > 0]
    np.testing.assert_allclose(cif["estimate"], 1 - km["surv"].to_numpy(), rtol=1e-14)


def test_causes_sum_with_survival_to_one() -> None:
    data = load_data("bmt_competing.csv")
    res = cumulative_incidence(data["time"], data["status"])
    at = res.at([100, 365, 730])
    total = at.groupby("time")["estimate"].sum().to_numpy()
    km = kaplan_meier(data["time"], data["status"] > 0).at([100, 365, 730])["surv"].to_numpy()
    np.testing.assert_allclose(total + km, 1.0, rtol=1e-13)


def test_ci_contains_estimate_and_summary() -> None:
    res, _, _ = _fit("cuminc__bmt__group")
    tab = res.table
    ok = tab["lower"].notna()
    inside = (tab["lower"][ok] <= tab["estimate"][ok]) & (tab["estimate"][ok] <= tab["upper"][ok])
    assert inside.all()
    assert "Aalen-Johansen" in res.summary() and "cuminc" in res.summary()


def test_bad_status() -> None:
    with pytest.raises(InputError, match="integer codes"):
        cumulative_incidence([1.0, 2.0], [1.5, 0])
    with pytest.raises(InputError, match=">= 0"):
        cumulative_incidence([1.0, 2.0], [-1, 0])
    with pytest.raises(InputError, match="no events"):
        cumulative_incidence([1.0, 2.0], [0, 0])
    with pytest.raises(InputError, match="length"):
        cumulative_incidence([1.0, 2.0], [0, 1, 2])


GRAY_CASES = [n for n in CIF_CASES if "tests" in load_fixture(n)["values"]]


@pytest.mark.parametrize("name", GRAY_CASES)
def test_gray_test_matches_cuminc_tests(name: str) -> None:
    fx = load_fixture(name)
    v = fx["values"]
    data = load_data(fx["data"]["file"])
    res = gray_test(
        data["time"], data["status"], data[v["group"]],
        strata=data[v["strata"]] if v.get("strata") else None, rho=float(v["rho"]),
    )
    tab = res.table
    assert [str(c) for c in tab["cause"]] == list(v["tests"]["causes"])
    assert_matches_r(tab["statistic"], fx, v["tests"]["stat"], "Gray statistic")
    assert_matches_r(tab["p_value"], fx, v["tests"]["pv"], "Gray p")
    assert_matches_r(tab["df"], fx, v["tests"]["df"], "Gray df")


def test_gray_test_invariant_to_group_order_and_labels() -> None:
    data = load_data("sim_competing.csv")
    a = gray_test(data["time"], data["status"], data["arm"])
    b = gray_test(data["time"], data["status"], data["arm"].map({"A": "z", "B": "y", "C": "x"}))
    np.testing.assert_allclose(a.table["statistic"], b.table["statistic"], rtol=1e-10)
    assert "Gray's test" in a.summary()


def test_gray_test_bad_input() -> None:
    with pytest.raises(InputError, match="two groups"):
        gray_test([1.0, 2.0, 3.0], [1, 2, 0], ["a", "a", "a"])
    with pytest.raises(InputError, match="rho"):
        gray_test([1.0, 2.0], [1, 2], ["a", "b"], rho=-1)


CRR_CASES = fixture_names("crr__")


def _crr_fit(name: str) -> tuple[Any, dict[str, Any]]:
    from rrball.stats.fine_gray import fine_gray

    fx = load_fixture(name)
    v = fx["values"]
    data = load_data(fx["data"]["file"])
    covariates = ["factor(group)" if c == "group_f" else c for c in v["covariates"]]
    res = fine_gray(data, time="time", status="status", cause=int(v["failcode"]),
                    covariates=covariates)
    return res, fx


@pytest.mark.parametrize("name", CRR_CASES)
def test_fine_gray_matches_crr(name: str) -> None:
    res, fx = _crr_fit(name)
    v = fx["values"]
    tab = res.table
    assert_matches_r(tab["coef"], fx, v["coef"], "coef")
    assert_matches_r(tab["se"], fx, v["se"], "se")
    assert_matches_r(res.var, fx, v["var"], "var")
    assert_matches_r(res.loglik, fx, [v["loglik_null"], v["loglik"]], "loglik")
    assert_matches_r(tab["p_value"], fx, v["p_value"], "p")
    assert_matches_r(tab["lower"], fx, v["lower"], "lower")
    assert_matches_r(tab["upper"], fx, v["upper"], "upper")
    assert res.converged and res.n == int(v["n"])
    assert "Fine-Gray" in res.summary()


def test_fine_gray_bad_input() -> None:
    from rrball.stats.fine_gray import fine_gray

    data = load_data("bmt_competing.csv")
    with pytest.raises(InputError, match="does not occur"):
        fine_gray(data, time="time", status="status", cause=7, covariates=["age"])
    with pytest.raises(InputError, match="not a column"):
        fine_gray(data, time="nope", status="status", cause=1, covariates=["age"])


def test_fine_gray_infinite_coefficient_is_flagged() -> None:
    """No events of the cause in one category: crr does not converge; rrball says so (review H1)."""
    from rrball.stats.fine_gray import fine_gray

    d = pd.DataFrame({"time": range(1, 13), "status": [1, 2, 1, 0, 1, 2, 2, 0, 2, 2, 0, 2],
                      "g": list("aaaaaabbbbbb")})
    res = fine_gray(d, time="time", status="status", cause=1, covariates=["g"])
    assert not res.converged and bool(res.table["infinite"].iloc[0])
    assert np.isnan(res.table["p_value"].iloc[0]) and np.isnan(res.table["lower"].iloc[0])
    assert any("infinite" in w for w in res.warnings)


def test_fine_gray_collinear_column_not_estimable() -> None:
    from rrball.stats.fine_gray import fine_gray

    data = load_data("bmt_competing.csv")
    data["age2"] = 2.0 * data["age"]
    res = fine_gray(data, time="time", status="status", cause=1, covariates=["age", "age2", "fab"])
    assert np.isnan(res.table["coef"].iloc[1]) and any("collinear" in w for w in res.warnings)
    ref = fine_gray(data, time="time", status="status", cause=1, covariates=["age", "fab"])
    np.testing.assert_allclose(res.coef[[0, 2]], ref.coef, rtol=1e-9)
    assert res.tests["likelihood_ratio"].df == 2
