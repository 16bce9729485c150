"""Log-rank / G-rho tests against R survival's survdiff (fixtures from survival.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rrball.stats import logrank_test
from tests._rfixture import assert_matches_r, fixture_names, load_data, load_fixture

LR_CASES = fixture_names("logrank__")


@pytest.mark.parametrize("name", LR_CASES)
def test_matches_survdiff(name: str) -> None:
    """Chi-square, df, p, O, E and the variance matrix equal R ``survdiff``."""
    fx = load_fixture(name)
    v = fx["values"]
    data = load_data(fx["data"]["file"])
    if v.get("strata"):
        data = data[data[v["strata"]].notna()]
    present = {str(x): x for x in pd.unique(data[v["group"]])}
    levels = [present[str(g)] for g in v["groups"]]
    res = logrank_test(
        data[v["time"]],
        data[v["event"]],
        data[v["group"]],
        strata=data[v["strata"]] if v.get("strata") else None,
        rho=float(v["rho"]),
        levels=levels,
    )
    assert res.df == int(v["df"])
    assert [res.n[g] for g in res.groups] == [int(x) for x in v["n"]]
    assert_matches_r(res.statistic, fx, v["statistic"], "statistic")
    assert_matches_r(res.p_value, fx, v["p_value"], "p_value")
    assert_matches_r(res.observed, fx, v["observed"], "observed")
    assert_matches_r(res.expected, fx, v["expected"], "expected")
    assert_matches_r(res.variance, fx, v["variance"], "variance")


def test_summary_prints_like_survdiff() -> None:
    data = load_data("aml.csv")
    text = logrank_test(data["time"], data["status"], data["x"]).summary()
    assert "Log-rank test (rho = 0)" in text
    assert "x=Maintained" in text and "Chisq = 3.4  on 1 degrees of freedom" in text
    assert "survdiff(" in text


def test_group_order_does_not_change_statistic() -> None:
    data = load_data("veteran.csv")
    a = logrank_test(data["time"], data["status"], data["celltype"])
    b = logrank_test(
        data["time"], data["status"], data["celltype"],
        levels=["squamous", "large", "adeno", "smallcell"],
    )
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12)
    assert dict(zip(a.groups, a.observed, strict=True)) == pytest.approx(
        dict(zip(b.groups, b.observed, strict=True))
    )


def test_variance_rows_sum_to_zero() -> None:
    """O - E sums to zero over groups, so each row of its covariance matrix does too."""
    data = load_data("veteran.csv")
    res = logrank_test(data["time"], data["status"], data["celltype"])
    np.testing.assert_allclose(res.variance.sum(axis=1), 0.0, atol=1e-10)
    assert res.observed.sum() == pytest.approx(res.expected.sum(), rel=1e-12)
