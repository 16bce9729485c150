"""table_one: gtsummary's default tests and statistics, checked against R's base functions
(chisq.test(correct = FALSE) / fisher.test / wilcox.test / kruskal.test / quantile type 7)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rrball.errors import InputError
from rrball.stats.table_one import FRAME_COLUMNS, table_one
from tests._rfixture import assert_matches_r, load_data, load_fixture


@pytest.mark.parametrize("by", ["lineage", "mol_group"])
def test_matches_r(by: str) -> None:
    fx = load_fixture(f"table_one__all__{by}")
    v = fx["values"]
    d = load_data("all_pheno.csv")
    cats = list(v["cat_vars"])
    res = table_one(d, by=by, variables=["age", *cats])
    tests = res.tests.set_index("variable")
    assert list(tests.loc[cats, "test"]) == list(v["cat_tests"])
    assert_matches_r(tests.loc[cats, "p_value"], fx, v["cat_p"], "categorical p")
    assert tests.loc["age", "test"] == ("wilcoxon" if by == "lineage" else "kruskal")
    assert_matches_r(tests.loc["age", "p_value"], fx, v["age_p"], "age p")
    f = res.to_frame()
    age = f[(f["variable"] == "age") & (f["group"] != "Overall")]
    assert [str(g) for g in age["group"]] == list(v["groups"])
    assert_matches_r(age[["q1", "median", "q3"]].to_numpy(), fx, v["age_quantiles"], "quantiles")


def test_frame_smd_missing_and_footnote() -> None:
    d = load_data("all_pheno.csv")
    d.loc[[0, 1, 2], "age"] = np.nan
    res = table_one(d, by="lineage", variables=["age", "sex"])
    f = res.to_frame()
    assert list(f.columns) == list(FRAME_COLUMNS)
    assert f["n"].dtype.kind in "iu" and f["pct"].dtype.kind == "f"
    overall_age = (f["variable"] == "age") & (f["group"] == "Overall")
    assert int(f.loc[overall_age, "n_missing"].iloc[0]) == 3
    sex = f[(f["variable"] == "sex") & (f["group"] == "B")]
    assert math.isclose(sex["pct"].sum(), 1.0)
    t = res.tests.set_index("variable")
    b = d[d["lineage"] == "B"]["age"].dropna()
    tt = d[d["lineage"] == "T"]["age"].dropna()
    smd = abs(b.mean() - tt.mean()) / math.sqrt((b.var() + tt.var()) / 2)
    assert math.isclose(t.loc["age", "smd"], smd, rel_tol=1e-12)
    pb = (d[d["lineage"] == "B"]["sex"] == "M").mean()
    pt = (d[d["lineage"] == "T"]["sex"] == "M").mean()
    binary = abs(pb - pt) / math.sqrt((pb * (1 - pb) + pt * (1 - pt)) / 2)
    assert math.isclose(t.loc["sex", "smd"], binary, rel_tol=1e-12)
    assert "Wilcoxon rank-sum test" in res.footnote
    text = res.summary()
    assert "Unknown" in text and "p-value" in text
    assert res.to_dict()["by"] == "lineage"
    assert "TableOneResult(" in repr(res)
    mean = table_one(d, by="lineage", variables=["age"], continuous="mean")
    assert "mean (SD)" in mean.footnote


def test_bad_input() -> None:
    d = pd.DataFrame({"g": ["a", "b", "a"], "x": [1, 2, 3]})
    with pytest.raises(InputError) as err:
        table_one(d, by="nope", variables=["x"])
    assert err.value.argument == "by"
    with pytest.raises(InputError) as err:
        table_one(d, by="g", variables=["x", "missing_col"])
    assert err.value.argument == "variables"
    with pytest.raises(InputError) as err:
        table_one(d.assign(g="a"), by="g", variables=["x"])
    assert err.value.argument == "by"
