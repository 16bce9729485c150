"""The ``toxicity`` plan analysis: incidence of each AE term by grade threshold and group,
counted per index line from ``Cohort.toxicity()`` (one row per line × term × criteria set)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from scipy.stats import fisher_exact

from rrball.cohort import synthetic_cohort
from rrball.errors import PlanError
from rrball.study.plan import parse_plan
from rrball.study.runner import run_plan

PLAN = """
study: {id: tox, title: "toxicity test"}
derive:
  SCHEDULE:
    from: REGIMEN
    map: {mini_hcvd_ino: original, mini_hcvd_ino_blina: amended}
analyses:
  - id: vod
    type: toxicity
    terms: [sos_vod, crs]
    grades: [1, 3]
    by: SCHEDULE
    compare:
      - {id: V1, term: sos_vod, group: original, value: "13", k: 9, n: 67}
      - {id: V2, term: sos_vod, group: amended, grade: 3, value: "0"}
  - id: vod_seattle
    type: toxicity
    terms: [sos_vod]
    criteria: {sos_vod: modified_seattle}
    grades: [1]
    by: SCHEDULE
"""


class _WithToxicity:
    """A real synthetic cohort whose toxicity table is replaced by a hand-made one."""

    def __init__(self, tox: pd.DataFrame) -> None:
        self._c = synthetic_cohort("seed003", seed=3)
        self._tox = tox

    def analysis_table(self) -> pd.DataFrame:
        return self._c.analysis_table()

    def endpoints(self) -> pd.DataFrame:
        return self._c.endpoints()

    def toxicity(self) -> pd.DataFrame:
        return self._tox


def _tox_rows() -> tuple[pd.DataFrame, list[str], list[str]]:
    a = synthetic_cohort("seed003", seed=3).analysis_table()
    orig = a[a["REGIMEN"] == "mini_hcvd_ino"]
    amen = a[a["REGIMEN"] == "mini_hcvd_ino_blina"]
    rows: list[dict[str, Any]] = []

    def add(r: pd.Series, term: str, crit: str, grade: int, prim: str) -> None:
        rows.append({"USUBJID": r["USUBJID"], "LINEID": r["LINEID"], "TERM": term,
                     "CRITSET": crit, "MAXGRADE": grade, "PRIMFL": prim})

    vod_lines = []
    for i, (_, r) in enumerate(orig.head(9).iterrows()):  # 9/67 VOD, 4 of them grade >= 3
        add(r, "sos_vod", "ebmt_adult_2016", 3 if i < 4 else 2, "Y")
        add(r, "sos_vod", "modified_seattle", 1, "N")
        vod_lines.append(r["LINEID"])
    r = amen.iloc[0]  # 1/41, grade 2 under EBMT; modified Seattle not met (grade 0 row)
    add(r, "sos_vod", "ebmt_adult_2016", 2, "Y")
    add(r, "sos_vod", "modified_seattle", 0, "N")
    crs_lines = []
    for _, r in amen.iloc[1:6].iterrows():  # CRS grade 1 on 5 amended lines, one also grade 3
        add(r, "crs", "astct_2019", 1, "Y")
        crs_lines.append(r["LINEID"])
    add(amen.iloc[0], "crs", "astct_2019", 3, "Y")  # the VOD line also has CRS grade 3
    return pd.DataFrame(rows), vod_lines, crs_lines


@pytest.fixture(scope="module")
def result() -> Any:
    tox, _, _ = _tox_rows()
    return run_plan(parse_plan(PLAN), _WithToxicity(tox))


def _row(t: pd.DataFrame, term: str, grade: str, group: str) -> pd.Series:
    sel = t[(t["term"] == term) & (t["grade"] == grade) & (t["group"] == group)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_counts_per_line_with_grade_zero_for_lines_without_an_episode(result: Any) -> None:
    t = result.steps[0].output.extra["table"]
    assert (_row(t, "sos_vod", "any grade", "original")[["k", "n"]] == [9, 67]).all()
    assert (_row(t, "sos_vod", "any grade", "amended")[["k", "n"]] == [1, 41]).all()
    assert (_row(t, "sos_vod", "grade >= 3", "original")[["k", "n"]] == [4, 67]).all()
    assert (_row(t, "sos_vod", "grade >= 3", "amended")[["k", "n"]] == [0, 41]).all()
    assert (_row(t, "crs", "any grade", "All")[["k", "n"]] == [6, 108]).all()
    # 'any' counts a line once: 9 VOD + 1 VOD-and-CRS + 5 CRS-only = 15 lines
    assert (_row(t, "any", "any grade", "All")[["k", "n"]] == [15, 108]).all()
    assert (_row(t, "any", "grade >= 3", "All")[["k", "n"]] == [5, 108]).all()
    assert _row(t, "sos_vod", "any grade", "All")["criteria"] == "ebmt_adult_2016"


def test_fisher_p_and_exact_ci_are_those_of_the_two_by_two_table(result: Any) -> None:
    t = result.steps[0].output.extra["table"]
    row = _row(t, "sos_vod", "any grade", "All")
    # rows: amended, original (sorted labels); columns: no VOD, VOD
    expected = fisher_exact([[40, 1], [58, 9]]).pvalue
    assert row["p_value"] == pytest.approx(expected, rel=1e-9)
    orig = _row(t, "sos_vod", "any grade", "original")
    assert orig["estimate"] == pytest.approx(900 / 67)
    assert orig["lower"] < orig["estimate"] < orig["upper"]


def test_chosen_criteria_set_replaces_the_primary_one(result: Any) -> None:
    t = result.steps[1].output.extra["table"]
    assert (_row(t, "sos_vod", "any grade", "amended")[["k", "n"]] == [0, 41]).all()
    assert _row(t, "sos_vod", "any grade", "All")["criteria"] == "modified_seattle"


def test_published_numbers_are_compared(result: Any) -> None:
    comp = result.comparison.set_index("id")
    assert comp.loc["V1", "reproduced"] == pytest.approx(900 / 67)
    assert comp.loc["V1", "within"] == "yes"
    assert comp.loc["V2", "reproduced"] == 0.0


@pytest.mark.parametrize("bad, where", [
    ("terms: [sos_vodd]", "unknown AE term 'sos_vodd'"),
    ("criteria: {sos_vod: seattle}", "unknown criteria set 'seattle'"),
    ("grades: [0]", "a threshold from 1 to 5"),
    ("grades: [\"4-3\"]", "a threshold from 1 to 5"),
])
def test_bad_toxicity_spec_is_a_located_plan_error(bad: str, where: str) -> None:
    text = f"""study: {{id: t, title: t}}
analyses:
  - id: tox
    type: toxicity
    {bad}
"""
    with pytest.raises(PlanError) as exc:
        parse_plan(text)
    assert where in str(exc.value)
    assert "line" in str(exc.value)


def test_chi_square_p_is_compared_like_seed_003() -> None:
    """N003-20: 9/67 vs 1/41, P = 0.056 is Pearson chi-square without correction (I003-08)."""
    tox, _, _ = _tox_rows()
    text = PLAN.split("  - id: vod_seattle")[0].replace(
        "by: SCHEDULE\n    compare:", "by: SCHEDULE\n    test: chisq\n    compare:")
    text += "      - {id: P1, term: sos_vod, quantity: p_value, value: \"0.056\"}\n"
    res = run_plan(parse_plan(text), _WithToxicity(tox))
    comp = res.comparison.set_index("id")
    assert comp.loc["P1", "reproduced"] == pytest.approx(0.05580, abs=5e-5)
    assert comp.loc["P1", "within"] == "yes"



def test_ungraded_diagnosis_counts_at_any_grade_and_bands_exclude_grade_5() -> None:
    """Modified Seattle and Baltimore diagnose SOS/VOD without a severity grade (MAXGRADE
    empty, DIAGFL = Y): such a line counts at 'any grade' and is reported, not counted, at
    higher grades; '3-4' leaves grade 5 out (seed 001 quotes grade 3-4 AEs)."""
    a = synthetic_cohort("seed003", seed=3).analysis_table()
    orig = a[a["REGIMEN"] == "mini_hcvd_ino"]
    rows = []
    for i, (_, r) in enumerate(orig.head(3).iterrows()):
        rows.append({"USUBJID": r["USUBJID"], "LINEID": r["LINEID"], "TERM": "sos_vod",
                     "CRITSET": "modified_seattle", "MAXGRADE": None, "DIAGFL": "Y",
                     "PRIMFL": "N"})
        rows.append({"USUBJID": r["USUBJID"], "LINEID": r["LINEID"], "TERM": "infection",
                     "CRITSET": "ctcae_v5", "MAXGRADE": 5 if i == 0 else 3, "DIAGFL": "Y",
                     "PRIMFL": "Y"})
    text = """study: {id: t, title: t}
analyses:
  - id: v
    type: toxicity
    terms: [sos_vod]
    criteria: {sos_vod: modified_seattle}
    grades: [1, 3]
    any_term: false
  - id: i
    type: toxicity
    terms: [infection]
    grades: [3, "3-4"]
    any_term: false
"""
    res = run_plan(parse_plan(text), _WithToxicity(pd.DataFrame(rows)))
    t = res.steps[0].output.extra["table"]
    assert (_row(t, "sos_vod", "any grade", "All")[["k", "n"]] == [3, 108]).all()
    assert (_row(t, "sos_vod", "grade >= 3", "All")[["k", "n"]] == [0, 108]).all()
    assert any("3 line(s) diagnosed without a severity grade" in w
               for w in res.steps[0].output.warnings)
    t = res.steps[1].output.extra["table"]
    assert _row(t, "infection", "grade >= 3", "All")["k"] == 3
    assert _row(t, "infection", "grade 3-4", "All")["k"] == 2
