"""logistic_regression (ML and Firth) and univariable_screen against R glm / MASS / brglm2 on the
Bioconductor ALL phenotype table (outcome CR vs refractory); separation; bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rrball.errors import InputError
from rrball.stats import logistic_regression, univariable_screen
from tests._rfixture import assert_matches_r, load_data, load_fixture

MODELS = {
    "multi": ["age", "sex", "bcr_abl", "lineage"],
    "uni_age": ["age"],
    "uni_sex": ["sex"],
    "uni_bcr_abl": ["bcr_abl"],
    "uni_lineage": ["lineage"],
    "uni_age_group": ["age_group"],
    "multi_age_group": ["age_group", "sex", "bcr_abl", "lineage"],
}
SEPARATED = {
    "uni_af4": ["all1_af4"],
    "multi_af4": ["age", "sex", "bcr_abl", "all1_af4", "lineage"],
    "uni_mol_group": ["mol_group"],
}
FIRTH = {**SEPARATED, "multi": MODELS["multi"]}


@pytest.fixture(scope="module")
def all_pheno() -> pd.DataFrame:
    return load_data("all_pheno.csv")


def _log_profile(res: object) -> np.ndarray:
    t = res.table  # type: ignore[attr-defined]
    return np.log(t[["or_profile_lower", "or_profile_upper"]].to_numpy())


@pytest.mark.parametrize("engine", ["rrball", "statsmodels"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_ml_matches_r_glm(name: str, engine: str, all_pheno: pd.DataFrame) -> None:
    """Estimates, SEs, z, p, Wald CIs, deviances, AIC and log-likelihood equal R's at 1e-9."""
    fx = load_fixture(f"logistic__all__{name}")
    v = fx["values"]
    res = logistic_regression(all_pheno, outcome="cr", covariates=MODELS[name], engine=engine,
                              profile=engine == "rrball")
    t = res.table
    assert list(t["term"]) == list(v["terms"])
    for col, key in (("coef", "coef"), ("se", "se"), ("z", "z"), ("p_value", "p_value")):
        assert_matches_r(t[col], fx, v[key], col)
    wald = np.log(t[["or_lower", "or_upper"]].to_numpy())
    assert_matches_r(wald, fx, v["wald"], "wald CI")
    assert_matches_r([res.deviance, res.null_deviance, res.aic, res.loglik], fx,
                     [v["deviance"], v["null_deviance"], v["aic"], v["loglik"]], "fit stats")
    assert res.n == int(v["n"])
    assert res.n_events == int(v["n_events"])
    assert res.df_residual == int(v["df_residual"])
    assert res.converged and not res.separation


@pytest.mark.parametrize("name", sorted(MODELS))
def test_profile_ci_matches_r(name: str, all_pheno: pd.DataFrame) -> None:
    """Profile-likelihood limits equal R's exact roots; MASS::confint.glm's spline values agree
    within its interpolation error (each fixture states its tolerance and reason)."""
    res = logistic_regression(all_pheno, outcome="cr", covariates=MODELS[name])
    exact = load_fixture(f"logistic_profile__all__{name}")
    assert_matches_r(_log_profile(res), exact, exact["values"]["profile"], "profile (exact)")
    mass = load_fixture(f"logistic_profile_mass__all__{name}")
    got = res.table[["or_profile_lower", "or_profile_upper"]].to_numpy()
    assert_matches_r(got, mass, np.exp(mass["values"]["profile"]), "profile (MASS)")


@pytest.mark.parametrize("name", sorted(SEPARATED))
def test_separation_detected(name: str, all_pheno: pd.DataFrame) -> None:
    """R glm warns 'fitted probabilities numerically 0 or 1' and the SE explodes; rrball names
    the separated term, flags the fit and still matches the limiting deviance."""
    fx = load_fixture(f"separation__all__{name}")
    v = fx["values"]
    res = logistic_regression(all_pheno, outcome="cr", covariates=SEPARATED[name])
    assert res.separation
    assert res.separation_kind == "quasi-complete"
    r_se = dict(zip(v["terms"], v["se"], strict=True))
    exploded = {t for t, s in r_se.items() if s > 1000}
    assert set(res.separated_terms) == exploded
    assert "numerically 0 or 1" in str(v["r_warnings"])
    assert_matches_r(res.deviance, fx, v["deviance"], "deviance")
    assert "SEPARATION" in res.summary() and "firth" in res.summary()
    assert list(res.table.loc[res.table["infinite_ml"], "term"]) == list(res.separated_terms)
    assert res.table["or_profile_lower"].isna().all()


@pytest.mark.parametrize("name", sorted(FIRTH))
def test_firth_matches_brglm2(name: str, all_pheno: pd.DataFrame) -> None:
    fx = load_fixture(f"firth__all__{name}")
    v = fx["values"]
    res = logistic_regression(all_pheno, outcome="cr", covariates=FIRTH[name], method="firth")
    t = res.table
    assert list(t["term"]) == list(v["terms"])
    for col in ("coef", "se", "z", "p_value"):
        assert_matches_r(t[col], fx, v[col], col)
    assert_matches_r(np.log(t[["or_lower", "or_upper"]].to_numpy()), fx, v["wald"], "wald")
    assert_matches_r(res.deviance, fx, v["deviance"], "deviance")
    assert res.converged
    prof = load_fixture(f"firth_profile__all__{name}")
    assert_matches_r(_log_profile(res), prof, prof["values"]["profile"], "profile penalised")
    assert np.isfinite(t["coef"]).all()


def test_screen_matches_r(all_pheno: pd.DataFrame) -> None:
    fx = load_fixture("screen__all__lr")
    v = fx["values"]
    cands = list(v["candidates"])
    res = univariable_screen(all_pheno, outcome="cr", candidates=cands)
    t = res.table
    assert_matches_r(t["lr_p_value"], fx, v["lr_p"], "LR p")
    assert_matches_r(t["wald_p_value"], fx, v["wald_p"], "Wald p")
    selected = [v["selected"]] if isinstance(v["selected"], str) else list(v["selected"])
    assert list(res.selected) == selected
    assert res.multivariable is not None
    assert list(res.multivariable.terms) == list(v["multi_terms"])
    assert_matches_r(res.multivariable.coef, fx, v["multi_coef"], "multivariable coef")
    assert_matches_r(res.multivariable.se, fx, v["multi_se"], "multivariable se")
    assert "Selected: bcr_abl" in res.summary()
    wald = univariable_screen(all_pheno, outcome="cr", candidates=cands, p_value="wald",
                              threshold=0.25)
    expected = [c for c, p in zip(cands, v["wald_p"], strict=True) if p <= 0.25]
    assert list(wald.selected) == expected
    assert wald.multivariable is not None
    assert wald.events_per_variable == pytest.approx(15 / 3)
    assert any("events per variable" in w for w in wald.warnings)
    assert res.to_dict()["selected"] == selected


def test_screen_nothing_selected(all_pheno: pd.DataFrame) -> None:
    res = univariable_screen(all_pheno, outcome="cr", candidates=["age"], threshold=0.01)
    assert res.selected == () and res.multivariable is None
    assert any("no candidate" in w for w in res.warnings)


def test_hand_computed_2x2_logistic() -> None:
    """One binary covariate: coef = log odds ratio ad/bc, SE = sqrt(1/a + 1/b + 1/c + 1/d)."""
    a, b, c, d = 12, 8, 5, 15  # x=1: 12 events, 8 non; x=0: 5 events, 15 non
    df = pd.DataFrame({"y": [1] * a + [0] * b + [1] * c + [0] * d,
                       "x": [1] * (a + b) + [0] * (c + d)})
    res = logistic_regression(df, outcome="y", covariates=["x"])
    assert math.isclose(res.coef[1], math.log(a * d / (b * c)), rel_tol=1e-12)
    assert math.isclose(res.se[1], math.sqrt(1 / a + 1 / b + 1 / c + 1 / d), rel_tol=1e-12)
    assert math.isclose(res.coef[0], math.log(c / d), rel_tol=1e-12)


@settings(max_examples=25)
@given(st.integers(0, 10_000))
def test_ci_contains_estimate(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 80
    x = rng.normal(size=n)
    g = rng.choice(["a", "b", "c"], size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + 0.8 * x)))).astype(int)
    df = pd.DataFrame({"y": y, "x": x, "g": g})
    for method in ("ml", "firth"):
        res = logistic_regression(df, outcome="y", covariates=["x", "g"], method=method)
        if res.separation and method == "ml":
            continue
        t = res.table
        assert (t["or_lower"] <= t["odds_ratio"]).all() and (t["odds_ratio"] <= t["or_upper"]).all()
        assert (t["or_profile_lower"] <= t["odds_ratio"] * (1 + 1e-9)).all()
        assert (t["odds_ratio"] <= t["or_profile_upper"] * (1 + 1e-9)).all()
        assert ((t["p_value"] >= 0) & (t["p_value"] <= 1)).all()


def test_missing_rows_dropped_and_reported(all_pheno: pd.DataFrame) -> None:
    df = all_pheno.copy()
    df.loc[[0, 5], "age"] = np.nan
    res = logistic_regression(df, outcome="cr", covariates=["age"], profile=False)
    assert res.n == len(df) - 2 and res.n_dropped == 2
    assert any("dropped" in w for w in res.warnings)
    assert res.table["or_profile_lower"].isna().all()


def test_categorical_reference_and_result_object(all_pheno: pd.DataFrame) -> None:
    df = all_pheno.copy()
    df["lineage"] = pd.Categorical(df["lineage"], categories=["T", "B"])
    res = logistic_regression(df, outcome="cr", covariates="age + lineage")
    assert list(res.terms) == ["(Intercept)", "age", "lineageB"]
    assert res.references["lineage"] == "T"
    frame = res.to_frame()
    assert frame["odds_ratio"].dtype.kind == "f"
    assert "Exp(B)" in res.summary()
    assert res.to_dict()["n"] == res.n
    assert "LogisticResult(" in repr(res)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"outcome": "nope", "covariates": ["age"]}, "outcome"),
        ({"outcome": "cr", "covariates": ["age", "unknown"]}, "covariates"),
        ({"outcome": "cr", "covariates": ["cr"]}, "covariates"),
        ({"outcome": "age", "covariates": ["sex"]}, "outcome"),
        ({"outcome": "cr", "covariates": ["age"], "method": "exact"}, "method"),
        ({"outcome": "cr", "covariates": ["age"], "method": "firth", "engine": "statsmodels"},
         "engine"),
    ],
)
def test_bad_input(kwargs: dict[str, object], argument: str, all_pheno: pd.DataFrame) -> None:
    with pytest.raises(InputError) as err:
        logistic_regression(all_pheno, **kwargs)  # type: ignore[arg-type]
    assert err.value.argument == argument


def test_outcome_not_binary_names_positions() -> None:
    df = pd.DataFrame({"y": [0, 1, 2, 1, 0], "x": [1.0, 2, 3, 4, 5]})
    with pytest.raises(InputError) as err:
        logistic_regression(df, outcome="y", covariates=["x"])
    assert err.value.positions == (2,)


def test_collinear_and_constant_covariates() -> None:
    df = pd.DataFrame({"y": [0, 1, 1, 0, 1, 0], "x": [1.0, 2, 3, 4, 5, 6]})
    df["x2"] = 2 * df["x"]
    with pytest.raises(InputError, match="rank deficient"):
        logistic_regression(df, outcome="y", covariates=["x", "x2"])
    df["c"] = "same"
    with pytest.raises(InputError, match="single level"):
        logistic_regression(df, outcome="y", covariates=["c"])
    with pytest.raises(InputError):
        logistic_regression([1, 2], outcome="y", covariates=["x"])
    with pytest.raises(InputError) as err:
        univariable_screen(df, outcome="y", candidates=["x"], threshold=0)
    assert err.value.argument == "threshold"
    with pytest.raises(InputError) as err:
        univariable_screen(df, outcome="y", candidates=["x"], method="firth")
    assert err.value.argument == "p_value"
