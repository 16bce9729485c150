"""Cox regression against R survival's coxph / cox.zph (fixtures from cox.R)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from rrball.errors import InputError
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


def test_counting_process_reproduces_tmerge_and_model() -> None:
    """bmt DFS split at platelet recovery and aGVHD: the same rows as R's tmerge, same fit."""
    from rrball.stats.counting_process import counting_process

    bmt = load_data("bmt.csv")
    bmt["id"] = np.arange(1, len(bmt) + 1)
    td = counting_process(bmt, id="id", time="t2", event="d3",
                          time_varying={"platelets": ("tp", "dp"), "agvhd": ("ta", "da")})
    ref = load_data("bmt_td.csv")
    assert len(td) == len(ref)
    for mine, theirs in [("id", "id"), ("tstart", "tstart"), ("tstop", "tstop"), ("d3", "dfs"),
                         ("platelets", "platelets"), ("agvhd", "agvhd")]:
        np.testing.assert_array_equal(td[mine].to_numpy(), ref[theirs].to_numpy())
    fx = load_fixture("cox__bmt_td__platelets_agvhd")
    res = cox_ph(td, start="tstart", time="tstop", event="d3",
                 covariates="platelets + agvhd + factor(group)")
    assert_matches_r(res.table["coef"], fx, fx["values"]["coef"], "coef")


def test_counting_process_switch_at_zero_and_after_end() -> None:
    data = pd.DataFrame({"t": [10.0, 10.0, 10.0], "e": [1, 0, 1], "x": [0.0, 12.0, np.nan]})
    from rrball.stats.counting_process import counting_process

    td = counting_process(data, time="t", event="e", time_varying={"xon": "x"})
    assert td["tstart"].tolist() == [0.0, 0.0, 0.0]
    assert td["xon"].tolist() == [1, 0, 0]
    assert td["e"].tolist() == [1, 0, 1]


def test_counting_process_bad_input() -> None:
    from rrball.stats.counting_process import counting_process

    data = pd.DataFrame({"id": [1, 1], "t": [5.0, 6.0], "e": [1, 0], "x": [1.0, 2.0]})
    with pytest.raises(InputError, match="one row per patient"):
        counting_process(data, id="id", time="t", event="e", time_varying={"xon": "x"})
    with pytest.raises(InputError, match="pass id='id'"):
        counting_process(data, time="t", event="e", time_varying={"xon": "x"})
    with pytest.raises(InputError, match="not a column"):
        counting_process(data.drop(columns="id"), time="t", event="e",
                         time_varying={"xon": "nope"})
    dated = pd.DataFrame({"t": [5.0, 6.0], "e": [1, 0],
                          "hsct": pd.to_datetime(["2020-01-01", "2020-02-01"])})
    with pytest.raises(InputError, match="holds dates"):
        counting_process(dated, time="t", event="e", time_varying={"x": "hsct"})
    data2 = pd.DataFrame({"t": [5.0, 6.0], "e": [1, 0], "x": [-1.0, 2.0]})
    with pytest.raises(InputError, match=">= 0"):
        counting_process(data2, time="t", event="e", time_varying={"xon": "x"})


def test_categorical_reference_and_names() -> None:
    """Text columns become treatment contrasts against the first sorted level (R's default)."""
    data = load_data("veteran.csv")
    res = cox_ph(data, time="time", event="status", covariates=["celltype", "karno"])
    assert res.terms == ("celltypelarge", "celltypesmallcell", "celltypesquamous", "karno")
    assert res.references == {"celltype": "adeno"}
    assert "Reference level of celltype: 'adeno'" in res.summary()
    formula = cox_ph(data, time="time", event="status", covariates="celltype + karno")
    np.testing.assert_allclose(formula.coef, res.coef, rtol=1e-12)


def test_missing_rows_dropped_and_reported() -> None:
    data = load_data("lung.csv")
    res = cox_ph(data, time="time", event="status", covariates=["age", "ph.ecog"])
    assert res.n == int(data["ph.ecog"].notna().sum())
    assert any("1 row(s) with missing values dropped" in w for w in res.warnings)


def test_collinear_column_is_not_estimable() -> None:
    data = load_data("lung.csv").dropna(subset=["ph.ecog"])
    data["age_copy"] = data["age"] * 2.0
    res = cox_ph(data, time="time", event="status", covariates=["age", "age_copy", "sex"])
    assert np.isnan(res.table.loc[1, "coef"]) and not np.isnan(res.table.loc[0, "coef"])
    assert any("collinear" in w for w in res.warnings)
    ref = cox_ph(data, time="time", event="status", covariates=["age", "sex"])
    np.testing.assert_allclose(res.coef[[0, 2]], ref.coef, rtol=1e-9)


def test_monotone_likelihood_is_reported() -> None:
    """No events among x = 1: the coefficient runs to -infinity; rrball says so."""
    rng = np.random.default_rng(7)
    n = 60
    x = np.repeat([0, 1], n // 2)
    t = rng.exponential(10, n)
    e = np.where(x == 1, 0, 1)
    res = cox_ph(pd.DataFrame({"t": t, "e": e, "x": x}), time="t", event="e", covariates=["x"])
    assert any("may be infinite" in w for w in res.warnings)
    assert res.coef[0] < -5


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"time": "nope", "event": "status", "covariates": ["age"]}, "not a column"),
        ({"time": "time", "event": "status", "covariates": ["nope"]}, "not columns"),
        ({"time": "time", "event": "status", "covariates": ["age"], "ties": "exact"}, "ties"),
        ({"time": "time", "event": "status", "covariates": "age * sex"}, "additive"),
        ({"time": "time", "event": "status", "covariates": []}, "at least one"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        cox_ph(load_data("lung.csv"), **kwargs)


def test_bad_values_are_named() -> None:
    data = pd.DataFrame({"t": [1.0, -2.0, 3.0], "e": [1, 1, 0], "x": [0.1, 0.2, 0.3]})
    with pytest.raises(InputError, match=r"t: has negative times.*\(at 0-based position 1\)"):
        cox_ph(data, time="t", event="e", covariates=["x"])
    data = pd.DataFrame({"t": [1.0, 2.0, 3.0], "e": [1, 2, 0], "x": [0.1, 0.2, 0.3]})
    with pytest.raises(InputError, match="e: must be 0"):
        cox_ph(data, time="t", event="e", covariates=["x"])
    data = pd.DataFrame({"t": [1.0, 2.0, 3.0], "e": [0, 0, 0], "x": [0.1, 0.2, 0.3]})
    with pytest.raises(InputError, match="no events"):
        cox_ph(data, time="t", event="e", covariates=["x"])


def test_summary_reads_like_summary_coxph() -> None:
    res, _ = fit_from_fixture("cox__gehan__treat_cluster_pair")
    text = res.summary()
    assert "robust se" in text and "Concordance = 0.690  (se = 0.045)" in text
    assert "Likelihood ratio test = 16.35  on 1 df" in text
    assert "coxph(Surv(time, cens) ~ factor(treat)" in text


def test_singular_information_is_reported_not_raised() -> None:
    """Monotone likelihood with an information matrix that underflows (review H2)."""
    d = pd.DataFrame({"time": [17, 13, 10, 6, 6, 1, 2, 1], "event": [0, 0, 0, 0, 0, 1, 1, 1]})
    d["x"] = d["time"]
    res = cox_ph(d, time="time", event="event", covariates=["x"])
    assert not res.converged and bool(res.table["infinite"].iloc[0])
    assert np.isnan(res.table["p_value"].iloc[0])
    assert any("infinite" in w for w in res.warnings)


def test_no_estimable_covariate() -> None:
    d = pd.DataFrame({"time": [1, 2, 3, 4], "event": [1, 0, 1, 1], "k": 1.0})
    with pytest.raises(InputError, match="no estimable column"):
        cox_ph(d, time="time", event="event", covariates=["k"])


def test_error_positions_refer_to_the_users_rows() -> None:
    """Rows with missing covariates are dropped first; positions still count in the input."""
    d = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, -6], "e": [1, 0, 1, 1, 0, 1],
                      "x": [np.nan, 1, 2, 3, 4, 5]})
    with pytest.raises(InputError) as err:
        cox_ph(d, time="t", event="e", covariates=["x"])
    assert err.value.positions == (5,)


def test_numpy_scalars_accepted() -> None:
    from rrball.stats import logrank_test, restricted_mean_survival_time

    d = load_data("aml.csv")
    a = logrank_test(d["time"], d["status"], d["x"], rho=np.int64(1))
    b = logrank_test(d["time"], d["status"], d["x"], rho=1)
    assert a.statistic == b.statistic
    r = restricted_mean_survival_time(d["time"], d["status"], tau=np.int64(30))
    assert r.tau == 30.0
    with pytest.raises(InputError, match="rho"):
        logrank_test(d["time"], d["status"], d["x"], rho=True)
