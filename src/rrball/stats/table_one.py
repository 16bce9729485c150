"""Table 1: baseline characteristics by group with gtsummary's default tests.

Categorical: n (%) per level, Pearson chi-square without correction, Fisher's exact test when any
expected count is below 5. Continuous: median (Q1, Q3) (or mean (SD)), Wilcoxon rank-sum for two
groups, Kruskal-Wallis for more. Standardised mean differences (two groups) and missing counts.
Equivalent R: ``gtsummary::tbl_summary(data, by = by) |> add_p()`` (+ ``add_difference()`` /
``tableone::ExtractSmd`` for the SMD). Numbers stay numbers; formatting belongs to the renderer.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _stats

from rrball._format import format_number, format_p, format_table
from rrball._result import ResultMixin, json_safe
from rrball._validate import check_choice
from rrball.errors import InputError
from rrball.stats.contingency import chi_square_test, fisher_exact_test

__all__ = ["TableOneResult", "table_one"]

FRAME_COLUMNS = (
    "variable", "type", "level", "group", "n", "pct", "n_nonmissing", "n_missing", "median",
    "q1", "q3", "mean", "sd", "min", "max", "test", "statistic", "p_value", "smd",
)
TESTS = {
    "chisq": "Pearson's chi-squared test (no continuity correction)",
    "fisher": "Fisher's exact test (any expected count < 5)",
    "wilcoxon": "Wilcoxon rank-sum test",
    "kruskal": "Kruskal-Wallis rank-sum test",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TableOneResult(ResultMixin):
    """Summary statistics by group, one test per variable.

    ``to_frame()`` is tidy, one row per variable × level (categorical) or variable
    (continuous) × group, columns ``FRAME_COLUMNS`` (``group`` = "Overall" for the whole
    cohort); ``tests`` has one row per variable: ``variable, type, test, statistic, p_value,
    smd``. ``footnote`` names the statistics and the tests used.
    """

    by: str
    groups: tuple[Hashable, ...]
    variables: tuple[str, ...]
    types: Mapping[str, str]
    footnote: str
    method: Mapping[str, object]
    warnings: tuple[str, ...] = field(default=())
    _frame: pd.DataFrame = field(repr=False)
    _tests: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self._frame.copy()

    @property
    def tests(self) -> pd.DataFrame:
        return self._tests.copy()

    def to_dict(self) -> dict[str, Any]:
        return dict(json_safe({
            "by": self.by, "groups": list(self.groups), "variables": list(self.variables),
            "types": dict(self.types), "table": self._frame.to_dict(orient="list"),
            "tests": self._tests.to_dict(orient="list"), "footnote": self.footnote,
            "method": dict(self.method), "warnings": list(self.warnings),
        }))

    def summary(self) -> str:
        cols = ["Overall", *self.groups]
        f = self._frame
        n_by = {g: int(f.loc[(f["group"] == g), "n_nonmissing"].max()) for g in cols}
        header = ["Characteristic", *(f"{g} (N = {self._group_n(g)})" for g in cols), "p-value"]
        rows: list[list[str]] = []
        tests = self._tests.set_index("variable")
        for var in self.variables:
            sub = f[f["variable"] == var]
            p = format_p(tests.loc[var, "p_value"])
            if self.types[var] == "continuous":
                cells = []
                for g in cols:
                    r = sub[sub["group"] == g].iloc[0]
                    if self.method["continuous"] == "mean":
                        cells.append(f"{format_number(r['mean'], 3)} ({format_number(r['sd'], 3)})")
                    else:
                        cells.append(f"{format_number(r['median'], 3)} ({format_number(r['q1'], 3)}"
                                     f", {format_number(r['q3'], 3)})")
                rows.append([var, *cells, p])
            else:
                rows.append([var, *([""] * len(cols)), p])
                for level in pd.unique(sub["level"]):
                    cells = []
                    for g in cols:
                        r = sub[(sub["group"] == g) & (sub["level"] == level)].iloc[0]
                        cells.append(f"{int(r['n'])} ({100 * r['pct']:.0f}%)")
                    rows.append([f"  {level}", *cells, ""])
            miss = sub.groupby("group")["n_missing"].max()
            if miss.sum() > 0:
                rows.append(["  Unknown", *(str(int(miss.get(g, 0))) for g in cols), ""])
        del n_by
        return "\n".join([format_table(header, rows), "", self.footnote,
                          *(f"Note: {w}" for w in self.warnings)])

    def _group_n(self, g: Hashable) -> int:
        f = self._frame
        sub = f[(f["group"] == g) & (f["variable"] == self.variables[0])]
        return int(sub["n_nonmissing"].iloc[0] + sub["n_missing"].iloc[0])

    def __repr__(self) -> str:
        return (f"TableOneResult(by={self.by!r}, groups={len(self.groups)}, "
                f"variables={len(self.variables)})")


def _smd_continuous(a: np.ndarray, b: np.ndarray) -> float:
    s = math.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2) if a.size > 1 and b.size > 1 else 0
    return abs(float(a.mean() - b.mean())) / s if s > 0 else math.nan


def _smd_categorical(p1: np.ndarray, p2: np.ndarray) -> float:
    """Yang & Dalton (2012) multi-level SMD: sqrt(d' S^-1 d) over levels 2..K."""
    d = (p1 - p2)[1:]
    if d.size == 0:
        return math.nan
    s = np.zeros((d.size, d.size))
    q1, q2 = p1[1:], p2[1:]
    s += (np.diag(q1) - np.outer(q1, q1) + np.diag(q2) - np.outer(q2, q2)) / 2
    try:
        return float(math.sqrt(max(d @ np.linalg.solve(s, d), 0.0)))
    except np.linalg.LinAlgError:
        return float(math.sqrt(max(d @ np.linalg.pinv(s) @ d, 0.0)))


def _wilcoxon(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """R ``wilcox.test(a, b)``: exact when both n < 50 and no ties, else normal approximation
    with continuity correction; the statistic is R's W (rank sum of a minus n_a (n_a + 1)/2)."""
    ties = np.unique(np.concatenate([a, b])).size < a.size + b.size
    exact = a.size < 50 and b.size < 50 and not ties
    res = _stats.mannwhitneyu(a, b, alternative="two-sided", use_continuity=True,
                              method="exact" if exact else "asymptotic")
    return float(res.statistic), float(res.pvalue)


def table_one(
    data: Any,
    *,
    by: str,
    variables: Sequence[str],
    categorical: Sequence[str] = (),
    continuous: str = "median",
    tests: bool = True,
) -> TableOneResult:
    """Baseline table by group, with gtsummary's default statistics and tests.

    Parameters
    ----------
    data:
        DataFrame, one row per patient.
    by:
        Grouping column (rows with it missing are excluded and reported).
    variables:
        Columns to summarise. Numeric columns with at least 10 distinct values are continuous,
        everything else categorical (gtsummary's rule); list a numeric column in
        ``categorical`` to force it.
    continuous:
        ``"median"`` (median (Q1, Q3), R type-7 quantiles) or ``"mean"`` (mean (SD)).
    tests:
        Add p-values (footnoted) and SMDs.
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError("data", f"must be a pandas DataFrame, got {type(data).__name__}")
    check_choice(continuous, ("median", "mean"), "continuous")
    if by not in data.columns:
        raise InputError("by", f"column {by!r} is not in data")
    unknown = [v for v in [*variables, *categorical] if v not in data.columns]
    if unknown:
        raise InputError("variables", f"unknown column(s) {unknown!r}")
    if len(variables) == 0:
        raise InputError("variables", "is empty")
    warn: list[str] = []
    keep = data[by].notna()
    if (~keep).any():
        warn.append(f"{int((~keep).sum())} row(s) with missing {by!r} excluded")
    df = data.loc[keep]
    try:
        groups = tuple(sorted(pd.unique(df[by])))
    except TypeError:
        groups = tuple(pd.unique(df[by]))
    if len(groups) < 2:
        raise InputError("by", f"needs at least two groups, found {list(groups)!r}")
    rows: list[dict[str, Any]] = []
    trows: list[dict[str, Any]] = []
    types: dict[str, str] = {}
    used: set[str] = set()
    for var in variables:
        s = df[var]
        is_cont = (s.dtype.kind in "iuf" and s.dtype != np.bool_ and var not in categorical
                   and s.nunique(dropna=True) >= 10)
        types[var] = "continuous" if is_cont else "categorical"
        parts = [("Overall", s), *((g, s[df[by] == g]) for g in groups)]
        test, stat, p, smd = "", math.nan, math.nan, math.nan
        if is_cont:
            for g, x in parts:
                v = x.dropna().to_numpy(dtype=float)
                q = np.quantile(v, [0.25, 0.5, 0.75]) if v.size else [math.nan] * 3
                rows.append({"variable": var, "type": "continuous", "level": None, "group": g,
                             "n": v.size, "pct": math.nan, "n_nonmissing": v.size,
                             "n_missing": int(x.isna().sum()), "median": q[1], "q1": q[0],
                             "q3": q[2], "mean": v.mean() if v.size else math.nan,
                             "sd": v.std(ddof=1) if v.size > 1 else math.nan,
                             "min": v.min() if v.size else math.nan,
                             "max": v.max() if v.size else math.nan})
            samples = [x.dropna().to_numpy(dtype=float) for _, x in parts[1:]]
            if tests and all(a.size > 0 for a in samples):
                if len(groups) == 2:
                    test = "wilcoxon"
                    stat, p = _wilcoxon(samples[0], samples[1])
                    smd = _smd_continuous(samples[0], samples[1])
                else:
                    test = "kruskal"
                    kw = _stats.kruskal(*samples)
                    stat, p = float(kw.statistic), float(kw.pvalue)
        else:
            nonmiss = s.dropna()
            try:
                levels = (list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype)
                          else sorted(pd.unique(nonmiss)))
            except TypeError:
                levels = list(pd.unique(nonmiss))
            counts = pd.crosstab(nonmiss, df.loc[nonmiss.index, by]).reindex(
                index=levels, columns=list(groups), fill_value=0)
            for g, x in parts:
                xs = x.dropna()
                for lv in levels:
                    k = int((xs == lv).sum())
                    rows.append({"variable": var, "type": "categorical", "level": lv, "group": g,
                                 "n": k, "pct": k / xs.size if xs.size else math.nan,
                                 "n_nonmissing": int(xs.size), "n_missing": int(x.isna().sum())})
            tab = counts.to_numpy()
            tab = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
            if tests and tab.shape[0] >= 2 and tab.shape[1] >= 2:
                chi = chi_square_test(tab)
                if chi.small_expected:
                    test, p = "fisher", fisher_exact_test(tab).p_value
                else:
                    test, stat, p = "chisq", chi.statistic, chi.p_value
                if len(groups) == 2:
                    cols = counts.to_numpy().astype(float)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        props = cols / cols.sum(axis=0)
                    smd = _smd_categorical(props[:, 0], props[:, 1])
        if test:
            used.add(test)
        trows.append({"variable": var, "type": types[var], "test": test or None,
                      "statistic": stat, "p_value": p, "smd": smd})
    frame = pd.DataFrame(rows)
    for col in FRAME_COLUMNS:
        if col not in frame.columns:
            frame[col] = math.nan
    test_frame = pd.DataFrame(trows, columns=["variable", "type", "test", "statistic",
                                              "p_value", "smd"])
    frame = frame.drop(columns=["test", "statistic", "p_value", "smd"]).merge(
        test_frame.drop(columns=["type"]), on="variable", how="left")[list(FRAME_COLUMNS)]
    stat_text = ("median (Q1, Q3)" if continuous == "median" else "mean (SD)")
    foot = f"n (%); {stat_text}."
    if used:
        foot += " Tests: " + "; ".join(TESTS[t] for t in TESTS if t in used) + "."
    return TableOneResult(
        by=by, groups=groups, variables=tuple(variables), types=MappingProxyType(types),
        footnote=foot,
        method=MappingProxyType({"continuous": continuous, "tests": tests,
                                 "categorical_test": "chisq (no correction); fisher if any "
                                 "expected < 5", "continuous_test": "wilcoxon (2 groups); "
                                 "kruskal (> 2)", "r_call": f"gtsummary::tbl_summary(data, by = "
                                 f"{by}) |> add_p()"}),
        warnings=tuple(warn), _frame=frame, _tests=test_frame,
    )
