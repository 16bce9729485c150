"""Model terms of plan regressions: ``continuous`` columns are one linear term, the rest
factors (logistic_screen, cox, fine_gray)."""

from __future__ import annotations

import pytest

from rrball.cohort import synthetic_cohort
from rrball.errors import PlanError
from rrball.study.plan import parse_plan
from rrball.study.runner import run_plan


def test_continuous_covariate_is_one_linear_term() -> None:
    """``continuous: [AGE]`` keeps age numeric (one OR per year), as ``glm(y ~ AGE)`` in R."""
    from rrball.stats import logistic_regression

    cohort = synthetic_cohort("seed000", seed=1)
    text = """study: {id: c, title: c}
analyses:
  - id: m
    type: logistic_screen
    outcome: RESPFL
    candidates: [AGE, SEX]
    continuous: [AGE]
    force: [AGE, SEX]
"""
    res = run_plan(parse_plan(text), cohort)
    model = res.steps[0].output.results["multivariable"]
    terms = list(model.table["term"])
    assert "AGE" in terms and len(terms) == 3  # intercept, AGE, SEX level
    a = cohort.analysis_table()
    direct = logistic_regression(a[["RESPFL", "AGE", "SEX"]], outcome="RESPFL",
                                 covariates=["AGE", "SEX"])
    got = model.table.set_index("term").loc["AGE", "coef"]
    assert got == pytest.approx(direct.table.set_index("term").loc["AGE", "coef"],
                                rel=1e-12)


def test_continuous_column_must_be_a_model_column() -> None:
    text = """study: {id: c, title: c}
analyses:
  - id: m
    type: logistic_screen
    outcome: RESPFL
    candidates: [SEX]
    continuous: [AGE]
"""
    with pytest.raises(PlanError, match="'AGE' is not among the model's columns"):
        parse_plan(text)
