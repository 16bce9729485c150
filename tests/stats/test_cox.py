"""Cox regression against R survival's coxph / cox.zph (fixtures from cox.R)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from rrball.stats.cox import cox_ph
from tests._rfixture import assert_matches_r, fixture_names, load_data, load_fixture

COX_CASES = fixture_names("cox__")


def _as_list(v: Any) -> list[Any]:
    return [v] if isinstance(v, str) else list(v)


def fit_from_fixture(name: str) -> tuple[Any, dict[str, Any]]:
    fx = load_fixture(name)
    v = fx["values"]
    data = load_data(fx["data"]["file"])
    for col, levels in (v.get("levels") or {}).items():
        data[col] = pd.Categorical(data[col], categories=_as_list(levels))
    covariates = _as_list(v["covariates"])
    cat = v.get("categorical")
    if cat:
        covariates = [f"factor({c})" if c == cat else c for c in covariates]
    res = cox_ph(
        data,
        time=v["time"],
        event=v["event"],
        covariates=covariates,
        start=v.get("start"),
        strata=v.get("strata"),
        ties=v["method"],
        robust=bool(v.get("robust", False)),
        cluster=v.get("cluster"),
    )
    return res, fx


@pytest.mark.parametrize("name", COX_CASES)
def test_coefficients_and_variance_match_coxph(name: str) -> None:
    res, fx = fit_from_fixture(name)
    v = fx["values"]
    tab = res.table
    assert_matches_r(tab["coef"], fx, v["coef"], "coef")
    assert_matches_r(tab["se"], fx, v["se"], "se")
    assert_matches_r(res.loglik, fx, v["loglik"], "loglik")
    assert_matches_r(tab["p_value"], fx, v["p_value"], "p")
    assert_matches_r(tab["lower"], fx, v["conf_lower"], "lower")
    assert_matches_r(tab["upper"], fx, v["conf_upper"], "upper")
    assert_matches_r(res.var, fx, v["var"], "var")
    if "robust_se" in v:
        assert_matches_r(tab["robust_se"], fx, v["robust_se"], "robust se")
        assert_matches_r(res.naive_var, fx, v["naive_var"], "naive var")
        assert_matches_r(res.tests["robust_score"].statistic, fx, v["robust_score"], "robust score")
    assert res.n == int(v["n"]) and res.n_events == int(v["nevent"])
    assert res.converged


@pytest.mark.parametrize("name", COX_CASES)
def test_global_tests_match_coxph(name: str) -> None:
    res, fx = fit_from_fixture(name)
    v = fx["values"]
    assert_matches_r(res.tests["likelihood_ratio"].statistic, fx, v["lrt"], "LR")
    assert_matches_r(res.tests["wald"].statistic, fx, v["wald"], "Wald")
    assert_matches_r(res.tests["score"].statistic, fx, v["score"], "score")
    assert_matches_r(res.tests["likelihood_ratio"].p_value, fx, v["logtest_p"], "LR p")
    assert_matches_r(res.tests["wald"].p_value, fx, v["waldtest_p"], "Wald p")
    assert_matches_r(res.tests["score"].p_value, fx, v["sctest_p"], "score p")
    assert res.tests["wald"].df == int(v["df"])


@pytest.mark.parametrize("name", COX_CASES)
def test_concordance_matches_coxph(name: str) -> None:
    res, fx = fit_from_fixture(name)
    c = res.concordance
    got = [c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy, c.concordance, c.std_err]
    assert_matches_r(got, fx, fx["values"]["concordance"], "concordance")


ZPH = [(n, t) for n in COX_CASES for t in ("km", "rank", "identity")
       if f"zph_{t}" in load_fixture(n)["values"]]


@pytest.mark.parametrize(("name", "transform"), ZPH)
def test_proportional_hazards_test_matches_cox_zph(name: str, transform: str) -> None:
    res, fx = fit_from_fixture(name)
    z = fx["values"][f"zph_{transform}"]
    got = res.proportional_hazards_test(transform).table
    assert [str(t) for t in got["term"]][-1] == "GLOBAL"
    assert_matches_r(got["statistic"], fx, z["chisq"], f"zph {transform} chisq")
    assert_matches_r(got["df"], fx, z["df"], "zph df")
    assert_matches_r(got["p_value"], fx, z["p"], "zph p")
