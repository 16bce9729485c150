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


def test_derive_cases_take_the_first_matching_column() -> None:
    """Seed 000's response (Decision 2): MRD conversion for lines started in MRD-positive
    remission, the responder flag otherwise; counts as published (96/128 and 44/54)."""
    cohort = synthetic_cohort("seed000", seed=0)
    text = """study: {id: c, title: c}
derive:
  RESP000:
    from: RESPFL
    cases:
      - {when: {column: BLSTATR, equals: mrd_positive}, from: MRDNEGFL}
analyses:
  - {id: r, type: response_rate, outcome: RESP000, by: REGIMEN}
"""
    res = run_plan(parse_plan(text), cohort)
    counts = res.steps[0].output.extra["counts"]
    assert counts["blinatumomab_seed000"] == (96, 128)
    assert counts["inotuzumab_seed000"] == (44, 54)
    a = cohort.analysis_table()
    mr = a["BLSTATR"] == "mrd_positive"
    assert int(a.loc[mr, "RESPFL"].sum()) == int(mr.sum())  # all MR lines are RESPFL = 1
    assert int(a.loc[mr, "MRDNEGFL"].sum()) == 62


@pytest.mark.parametrize("derive, message", [
    ("X: {from: RESPFL}", "give exactly one of map, cuts, cases or when"),
    ("X: {map: {a: b}}", "is required for map, cuts and cases"),
    ("X: {from: RESPFL, cases: [{when: {column: BLSTATX, equals: a}, from: CRFL}]}",
     "'BLSTATX'"),
])
def test_bad_derivation_is_a_located_plan_error(derive: str, message: str) -> None:
    text = f"""study: {{id: c, title: c}}
derive:
  {derive}
analyses:
  - {{id: r, type: response_rate, outcome: RESPFL}}
"""
    with pytest.raises(PlanError, match=message):
        parse_plan(text)


def test_derive_when_is_a_zero_one_flag() -> None:
    cohort = synthetic_cohort("seed004", seed=4)
    text = """study: {id: c, title: c}
derive:
  FURTHER:
    when: {column: NEXTLNDT, not_missing: true}
analyses:
  - {id: r, type: response_rate, outcome: FURTHER}
"""
    res = run_plan(parse_plan(text), cohort)
    assert res.steps[0].output.results["All"].x == 19
