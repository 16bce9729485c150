"""Study plans: bundled plans validate, broken plans give located messages, seed plans run."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from rrball.cohort import synthetic_cohort
from rrball.errors import PlanError
from rrball.study.plan import bundled_plan, bundled_plans, load_plan, parse_plan
from rrball.study.reporting import build_report
from rrball.study.runner import StudyResults, run_plan

SEEDS = {"seed_000": "seed000", "seed_001": "seed001", "seed_003": "seed003",
         "seed_004": "seed004"}

GOOD = """\
study: {id: t, title: "test"}
defaults: {time_unit: months}
analyses:
  - id: os
    type: km
    endpoint: OS
    times: ["24 months"]
"""


def test_bundled_plans_cover_every_seed_and_validate() -> None:
    """Every seed ships a plan (002 on its hand-written timeline fixture) and all load."""
    assert {*SEEDS, "seed_002"} <= set(bundled_plans())
    for name in [*SEEDS, "seed_002"]:
        plan = bundled_plan(name)
        assert plan.study.id == name
        assert plan.analyses and plan.text.startswith("# Seed")


def test_good_plan_parses_with_units_converted() -> None:
    plan = parse_plan(GOOD)
    assert plan.analyses[0].times[0].to("days") == pytest.approx(24 * 30.4375)  # type: ignore[union-attr]
    assert plan.line_of("analyses[0].endpoint") == 6


BROKEN = {
    "unknown endpoint": (GOOD.replace("endpoint: OS", "endpoint: OSS"), 6,
                         "unknown endpoint 'OSS' (did you mean 'OS'?)"),
    "typo in a column": (GOOD.replace("endpoint: OS\n", "endpoint: OS\n    by: AGEGRP1\n"), 7,
                         "unknown column 'AGEGRP1' (did you mean 'AGEGR1'?)"),
    "bad time point": (GOOD.replace('"24 months"', '"two years"'), 7, "time point 'two years'"),
    "negative time point": (GOOD.replace('"24 months"', "-3"), 7, "must be a finite number"),
    "unknown unit": (GOOD.replace('"24 months"', '"24 fortnights"'), 7, "unknown unit"),
    "unknown analysis": (GOOD.replace("type: km", "type: kaplan"), 5,
                         "unknown analysis type 'kaplan'"),
    "unknown key": (GOOD.replace("endpoint: OS", "endpoint: OS\n    colour: red"), 7,
                    "unknown key 'colour'"),
    "missing key": (GOOD.replace("    endpoint: OS\n", ""), 4, "missing required key 'endpoint'"),
    "competing risks with KM": (GOOD.replace("endpoint: OS", "endpoint: CIR"), 6,
                                "has competing events"),
    "yaml syntax": (GOOD.replace("type: km", "type: [km"), None, "YAML syntax"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_plan_gives_a_located_message(case: str) -> None:
    """Each broken plan raises PlanError naming the line (and path) of the problem."""
    text, line, fragment = BROKEN[case]
    with pytest.raises(PlanError) as info:
        parse_plan(text, source="broken.yaml")
    message = str(info.value)
    assert fragment in message
    assert "Traceback" not in message
    if line is not None:
        assert info.value.issues[0].line == line
        assert f"broken.yaml, line {line}" in message
    else:
        assert info.value.issues[0].line is not None


def test_unreadable_plan_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read the plan"):
        load_plan(tmp_path / "missing.yaml")


class _CohortWithout:
    """A cohort whose ADSL lacks one dictionary column (as an older export would)."""

    def __init__(self, column: str) -> None:
        self._cohort = synthetic_cohort("seed004", seed=4)
        self._column = column

    def analysis_table(self) -> pd.DataFrame:
        return self._cohort.analysis_table().drop(columns=[self._column])

    def endpoints(self) -> pd.DataFrame:
        return self._cohort.endpoints()


def test_column_missing_from_cohort_is_located() -> None:
    """A dictionary column this cohort's ADSL lacks is a located PlanError at run time."""
    plan = parse_plan(GOOD.replace("endpoint: OS\n", "endpoint: OS\n    by: AGEGR1\n"),
                      source="p.yaml")
    with pytest.raises(PlanError, match=r"p.yaml, line 7 \(analyses\[0\].by\): column 'AGEGR1'"):
        run_plan(plan, _CohortWithout("AGEGR1"))


@pytest.fixture(scope="module", params=sorted(SEEDS))
def seed_run(request: pytest.FixtureRequest) -> StudyResults:
    name = request.param
    plan = bundled_plan(name)
    assert plan.data.synthetic is not None
    return run_plan(plan, synthetic_cohort(SEEDS[name], seed=plan.data.synthetic.seed))


def test_seed_plan_runs_and_compares_every_quoted_number(seed_run: StudyResults) -> None:
    """Every compare entry of the plan is a row; reproduced values are sensible."""
    plan = seed_run.plan
    quoted = [c.id for a in plan.analyses for c in a.compare]
    comp = seed_run.comparison
    assert comp["id"].tolist() == quoted
    assert set(comp["within"]) <= {"yes", "no", "n/a"}
    assert any(s.status == "ok" for s in seed_run.steps)
    for _, row in comp.iterrows():
        rep = float(row["reproduced"])
        if math.isnan(rep):
            assert row["within"] == "n/a" and str(row["note"]).startswith("not estimable")
            continue
        assert math.isclose(float(row["difference"]), rep - float(row["published"]))
        if "p-value" in str(row["rule"]) or "0.05" in str(row["rule"]):
            assert 0.0 <= rep <= 1.0
        elif "CI" in str(row["rule"]) and "Wald" not in str(row["rule"]):
            assert 0.0 <= float(row["lower"]) <= rep <= float(row["upper"]) <= 100.0
    assert (comp["within"] != "n/a").sum() >= len(comp) // 2
    assert len(seed_run.data_hash) == 64


def test_seed_plan_provenance_and_consort(seed_run: StudyResults) -> None:
    plan = seed_run.plan
    assert seed_run.consort[0].n_before == seed_run.n_cohort
    for step in seed_run.steps:
        prov = step.provenance()
        assert prov["step"] == step.id and prov["plan line"] is not None
        if step.status == "ok":
            assert isinstance(prov["n"], int) and prov["n"] > 0
    assert seed_run.consistency is not None and plan.study.published is not None


def test_seed_plan_report_has_comparison_and_plan(seed_run: StudyResults) -> None:
    report = build_report(seed_run)
    assert report.data_hash == seed_run.data_hash
    assert report.plan_text == seed_run.plan.text
    titles = [t.title for t in report.tables()]
    assert any(t.startswith("Published vs reproduced") for t in titles)
    comp = next(t for t in report.tables() if t.title.startswith("Published vs reproduced"))
    assert pd.api.types.is_float_dtype(comp.body["published"])
    assert any("Declared defaults" in f for t in report.tables() for f in t.footnotes)
    assert report.figures()


def test_seed_004_reproduces_the_kaplan_meier_numbers_shape() -> None:
    """Seed 004: plain CI transform declared; 2-year OS of the whole cohort inside [0, 100]."""
    plan = bundled_plan("seed_004")
    assert plan.defaults.conf_type == "plain"
    res = run_plan(plan, synthetic_cohort("seed004", seed=4))
    row = res.comparison.set_index("id").loc["N004-09"]
    assert row["rule"].startswith("published inside reproduced 95% CI (plain)")
    assert 0 < float(row["reproduced"]) < 100


def test_not_estimable_step_is_recorded_and_run_continues() -> None:
    """A one-level subgroup makes the test not estimable; the other steps still run."""
    text = """\
study: {id: t, title: "test"}
population:
  - {column: AGE, min: 5, reason: "younger than 5"}
derive:
  AGEBAND: {from: AGE, cuts: [10], labels: ["<=10", ">10"]}
analyses:
  - id: single
    type: association
    outcome: RESPFL
    by: SAFFL
  - id: rate
    type: response_rate
    outcome: RESPFL
    by: AGEBAND
    compare:
      - {id: X1, group: ">10", value: "50"}
      - {id: X2, group: "nobody", value: "50"}
"""
    cohort = synthetic_cohort("seed004", seed=4)
    res = run_plan(parse_plan(text), cohort)
    ages = cohort.analysis_table()["AGE"]
    assert res.consort[0].n_excluded == int((ages < 5).sum())
    assert res.n_population == int((ages >= 5).sum())
    single, rate = res.steps
    assert single.status == "not estimable" and "2×2" in single.message
    assert rate.status == "ok" and rate.n == res.n_population
    comp = res.comparison.set_index("id")
    n_old = int((ages > 10).sum())
    x_old = int(cohort.analysis_table().loc[ages > 10, "RESPFL"].sum())
    assert str(comp.loc["X1", "note"]).startswith(f"{x_old}/{n_old}")
    assert comp.loc["X2", "within"] == "n/a" and "not estimable" in comp.loc["X2", "note"]
