"""Tests of association in R×C contingency tables: Pearson chi-square and Fisher's exact test.

Equivalent R: ``chisq.test(table, correct = ...)`` and ``fisher.test(table)``. Fisher's p-value is
exact for any R×C table (network enumeration in ``_exact_rxc``; never Monte Carlo); for 2×2 tables
the conditional maximum-likelihood odds ratio and its exact confidence interval are added. Checked
against R on tables from Bioconductor ``ALL`` and KMsurv ``bmt`` in ``tests/stats``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize as _optimize
from scipy import special as _special

from rrball._format import format_number, format_p, format_table
from rrball._result import ResultMixin, frozen_array, json_safe
from rrball._validate import as_count_table, check_choice, check_conf_level
from rrball.errors import InputError
from rrball.stats._exact_rxc import exact_rxc_p_value

__all__ = [
    "ChiSquareResult",
    "FisherExactResult",
    "chi_square_test",
    "fisher_exact_test",
]

FloatMatrix = npt.NDArray[np.float64]
_REL_ERR = 1.0 + 1e-7
_ALTERNATIVES = ("two.sided", "less", "greater")


def _labels(
    table: Any, shape: tuple[int, int]
) -> tuple[tuple[Hashable, ...], tuple[Hashable, ...]]:
    if isinstance(table, pd.DataFrame):
        return tuple(table.index.tolist()), tuple(table.columns.tolist())
    return tuple(range(shape[0])), tuple(range(shape[1]))


def _matrix_lines(
    values: npt.NDArray[Any], rows: tuple[Hashable, ...], cols: tuple[Hashable, ...], digits: int
) -> str:
    body = [[str(r), *(format_number(float(v), digits) for v in values[i])]
            for i, r in enumerate(rows)]
    return format_table(["", *(str(c) for c in cols)], body)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChiSquareResult(ResultMixin):
    """Pearson's chi-square test of independence (R ``chisq.test``).

    ``expected`` are the counts expected under independence; ``residuals`` the Pearson residuals
    (O - E)/sqrt(E); ``std_residuals`` the adjusted (standardised) residuals R calls ``stdres``.
    ``small_expected`` is True when any expected count is below 5: the approximation may be poor
    and Fisher's exact test (``fisher_exact_test``) is the usual alternative.
    ``to_frame()`` columns: ``row, column, observed, expected, residual, std_residual``.
    """

    statistic: float
    df: int
    p_value: float
    observed: npt.NDArray[np.int64]
    expected: FloatMatrix
    residuals: FloatMatrix
    std_residuals: FloatMatrix
    row_labels: tuple[Hashable, ...]
    column_labels: tuple[Hashable, ...]
    n: int
    correction: bool
    small_expected: bool
    method: Mapping[str, object]
    warnings: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        r, c = self.observed.shape
        return pd.DataFrame(
            {
                "row": [self.row_labels[i] for i in range(r) for _ in range(c)],
                "column": [self.column_labels[j] for _ in range(r) for j in range(c)],
                "observed": self.observed.ravel(),
                "expected": self.expected.ravel(),
                "residual": self.residuals.ravel(),
                "std_residual": self.std_residuals.ravel(),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "statistic": self.statistic, "df": self.df, "p_value": self.p_value,
                    "observed": self.observed.tolist(), "expected": self.expected.tolist(),
                    "residuals": self.residuals.tolist(),
                    "std_residuals": self.std_residuals.tolist(),
                    "row_labels": list(self.row_labels),
                    "column_labels": list(self.column_labels), "n": self.n,
                    "correction": self.correction, "small_expected": self.small_expected,
                    "method": dict(self.method), "warnings": list(self.warnings),
                }
            )
        )

    def summary(self) -> str:
        lines = [
            str(self.method["title"]),
            "",
            f"X-squared = {format_number(self.statistic, 5)}, df = {self.df}, "
            f"p-value = {format_p(self.p_value)}",
            "",
            "Expected counts under independence:",
            _matrix_lines(self.expected, self.row_labels, self.column_labels, 4),
        ]
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        r, c = self.observed.shape
        return (
            f"ChiSquareResult(table={r}x{c}, statistic={self.statistic:.4g}, df={self.df}, "
            f"p_value={self.p_value:.4g}, correction={self.correction})"
        )


def chi_square_test(table: Any, *, correction: bool = False) -> ChiSquareResult:
    """Pearson chi-square test of independence for an R×C table of counts.

    Parameters
    ----------
    table:
        2-dimensional array-like or DataFrame (e.g. ``pandas.crosstab``) of whole-number counts;
        DataFrame index/columns label the output.
    correction:
        Apply Yates' continuity correction (2×2 tables only, as R). Default ``False``: the
        analysis of seed 003 (clinical-reference §5.3) is reproduced without it. R's own
        default is ``correct = TRUE``; rrball's default is named in ``method``.

    Notes
    -----
    E_ij = r_i c_j / N; X^2 = sum (|O - E| - Y)^2 / E with Y = min(0.5, min_ij |O_ij - E_ij|)
    for a corrected 2×2 table and Y = 0 otherwise; df = (R - 1)(C - 1).
    Equivalent R: ``chisq.test(table, correct = correction)``.
    """
    obs = as_count_table(table, "table")
    if not isinstance(correction, (bool, np.bool_)):
        raise InputError("correction", f"must be True or False, got {correction!r}")
    r, c = obs.shape
    if r < 2 or c < 2:
        raise InputError("table", f"needs at least 2 rows and 2 columns, got shape {obs.shape}")
    row_tot = obs.sum(axis=1)
    col_tot = obs.sum(axis=0)
    empty_rows = np.flatnonzero(row_tot == 0)
    empty_cols = np.flatnonzero(col_tot == 0)
    if empty_rows.size or empty_cols.size:
        raise InputError(
            "table",
            f"has empty rows {empty_rows.tolist()} / columns {empty_cols.tolist()} (0-based): "
            "expected counts would be 0; drop them first",
        )
    n = int(obs.sum())
    expected = np.outer(row_tot, col_tot).astype(np.float64) / n
    diff = obs - expected
    yates = 0.0
    applied = bool(correction) and r == 2 and c == 2
    if applied:
        yates = min(0.5, float(np.abs(diff).min()))
    statistic = float(np.sum((np.abs(diff) - yates) ** 2 / expected))
    df = (r - 1) * (c - 1)
    p_value = float(_special.chdtrc(df, statistic))
    residuals = diff / np.sqrt(expected)
    v = np.outer(1.0 - row_tot / n, 1.0 - col_tot / n)
    std_residuals = diff / np.sqrt(expected * v)
    warnings: list[str] = []
    small = bool((expected < 5).any())
    if small:
        k = int((expected < 5).sum())
        warnings.append(
            f"{k} of {expected.size} expected counts are below 5 (smallest "
            f"{format_number(float(expected.min()), 3)}): the chi-square approximation may be "
            "incorrect; use fisher_exact_test() (R: fisher.test)"
        )
    if correction and not applied:
        warnings.append("Yates' correction applies to 2x2 tables only; not applied (as R)")
    title = "Pearson's Chi-squared test" + (
        " with Yates' continuity correction" if applied else ""
    )
    rows, cols = _labels(table, (r, c))
    return ChiSquareResult(
        statistic=statistic,
        df=df,
        p_value=p_value,
        observed=frozen_array(obs),
        expected=frozen_array(expected),
        residuals=frozen_array(residuals),
        std_residuals=frozen_array(std_residuals),
        row_labels=rows,
        column_labels=cols,
        n=n,
        correction=applied,
        small_expected=small,
        method=MappingProxyType(
            {"test": "pearson", "correction": bool(correction), "correction_applied": applied,
             "yates": yates, "title": title,
             "r_call": f"chisq.test(table, correct = {'TRUE' if correction else 'FALSE'})"}
        ),
        warnings=tuple(warnings),
    )


# ---- Fisher -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FisherExactResult(ResultMixin):
    """Fisher's exact test (R ``fisher.test``), any R×C table.

    For 2×2 tables ``conditional_odds_ratio`` is the conditional maximum-likelihood estimate
    (not the sample odds ratio ad/bc) with its exact ``or_lower``/``or_upper`` limits; NaN for
    larger tables. ``to_frame()`` columns: ``p_value, conditional_odds_ratio, or_lower,
    or_upper, conf_level, alternative, n``.
    """

    p_value: float
    conditional_odds_ratio: float
    or_lower: float
    or_upper: float
    conf_level: float
    alternative: str
    observed: npt.NDArray[np.int64]
    row_labels: tuple[Hashable, ...]
    column_labels: tuple[Hashable, ...]
    n: int
    method: Mapping[str, object]
    warnings: tuple[str, ...] = field(default=())

    @property
    def is_2x2(self) -> bool:
        return bool(self.observed.shape == (2, 2))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [[self.p_value, self.conditional_odds_ratio, self.or_lower, self.or_upper,
              self.conf_level, self.alternative, self.n]],
            columns=["p_value", "conditional_odds_ratio", "or_lower", "or_upper", "conf_level",
                     "alternative", "n"],
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "p_value": self.p_value,
                    "conditional_odds_ratio": self.conditional_odds_ratio,
                    "or_lower": self.or_lower, "or_upper": self.or_upper,
                    "conf_level": self.conf_level, "alternative": self.alternative,
                    "observed": self.observed.tolist(), "row_labels": list(self.row_labels),
                    "column_labels": list(self.column_labels), "n": self.n,
                    "method": dict(self.method), "warnings": list(self.warnings),
                }
            )
        )

    def summary(self) -> str:
        r, c = self.observed.shape
        title = ("Fisher's Exact Test for Count Data" if self.is_2x2
                 else f"Fisher's Exact Test for Count Data ({r}x{c}, exact enumeration)")
        lines = [
            title,
            "",
            _matrix_lines(self.observed, self.row_labels, self.column_labels, 6),
            "",
            f"p-value = {format_p(self.p_value)}",
        ]
        if self.is_2x2:
            alt = {"two.sided": "not equal to 1", "less": "less than 1",
                   "greater": "greater than 1"}[self.alternative]
            lines += [
                f"alternative hypothesis: true odds ratio is {alt}",
                f"{100 * self.conf_level:g} percent confidence interval: "
                f"{format_number(self.or_lower, 6)} {format_number(self.or_upper, 6)}",
                "sample estimates (conditional MLE): odds ratio "
                f"{format_number(self.conditional_odds_ratio, 6)}",
            ]
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        r, c = self.observed.shape
        extra = (f", conditional_odds_ratio={self.conditional_odds_ratio:.4g}"
                 if self.is_2x2 else "")
        return f"FisherExactResult(table={r}x{c}, p_value={self.p_value:.4g}{extra})"


class _NoncentralHypergeometric:
    """Law of the [0, 0] cell of a 2×2 table given its margins, odds ratio psi."""

    def __init__(self, table: npt.NDArray[np.int64]) -> None:
        m = int(table[:, 0].sum())
        n = int(table[:, 1].sum())
        k = int(table[0, :].sum())
        self.x = int(table[0, 0])
        self.lo = max(0, k - n)
        self.hi = min(k, m)
        self.support = np.arange(self.lo, self.hi + 1, dtype=np.float64)
        s = self.support
        self.logd = (
            _special.gammaln(m + 1) - _special.gammaln(s + 1) - _special.gammaln(m - s + 1)
            + _special.gammaln(n + 1) - _special.gammaln(k - s + 1)
            - _special.gammaln(n - k + s + 1)
        )

    def probs(self, log_psi: float) -> npt.NDArray[np.float64]:
        w = self.logd + self.support * log_psi
        w = w - w.max()
        d = np.exp(w)
        return np.asarray(d / d.sum(), dtype=np.float64)

    def mean(self, log_psi: float) -> float:
        return float(np.dot(self.support, self.probs(log_psi)))

    def upper_tail(self, log_psi: float) -> float:  # P(X >= x)
        d = self.probs(log_psi)
        return float(d[self.support >= self.x].sum())

    def lower_tail(self, log_psi: float) -> float:  # P(X <= x)
        d = self.probs(log_psi)
        return float(d[self.support <= self.x].sum())


def _root_log_psi(fun: Any, target: float) -> float:
    """Solve fun(log psi) = target for a function increasing in log psi (expanding bracket)."""
    a, b = -1.0, 1.0
    while fun(a) > target:
        a *= 2.0
        if a < -1e4:  # pragma: no cover - guarded by the boundary cases
            return -math.inf
    while fun(b) < target:
        b *= 2.0
        if b > 1e4:  # pragma: no cover
            return math.inf
    root = _optimize.brentq(lambda t: fun(t) - target, a, b, xtol=1e-14, rtol=1e-15,
                            maxiter=500)
    return float(root)


def _conditional_or(
    table: npt.NDArray[np.int64], conf_level: float, alternative: str
) -> tuple[float, float, float]:
    nh = _NoncentralHypergeometric(table)
    x, lo, hi = nh.x, nh.lo, nh.hi
    if lo == hi:
        return math.nan, 0.0, math.inf
    if x == lo:
        estimate = 0.0
    elif x == hi:
        estimate = math.inf
    else:
        estimate = math.exp(_root_log_psi(nh.mean, float(x)))

    def lower(alpha: float) -> float:
        if x == lo:
            return 0.0
        return math.exp(_root_log_psi(nh.upper_tail, alpha))

    def upper(alpha: float) -> float:
        if x == hi:
            return math.inf
        # P(X <= x) decreases in psi: solve on the negated function
        return math.exp(_root_log_psi(lambda t: -nh.lower_tail(t), -alpha))

    if alternative == "less":
        return estimate, 0.0, upper(1 - conf_level)
    if alternative == "greater":
        return estimate, lower(1 - conf_level), math.inf
    alpha = (1 - conf_level) / 2
    return estimate, lower(alpha), upper(alpha)


def _p_2x2(table: npt.NDArray[np.int64], alternative: str) -> float:
    nh = _NoncentralHypergeometric(table)
    d = nh.probs(0.0)
    if alternative == "less":
        return float(min(1.0, d[nh.support <= nh.x].sum()))
    if alternative == "greater":
        return float(min(1.0, d[nh.support >= nh.x].sum()))
    obs = d[nh.x - nh.lo]
    return float(min(1.0, d[d <= obs * _REL_ERR].sum()))


def fisher_exact_test(
    table: Any, *, alternative: str = "two.sided", conf_level: float = 0.95
) -> FisherExactResult:
    """Fisher's exact test of independence for an R×C table of counts.

    Parameters
    ----------
    table:
        2-dimensional array-like or DataFrame of whole-number counts (rows or columns that are
        all zero are allowed and do not change the p-value).
    alternative:
        ``"two.sided"`` (default), ``"less"`` or ``"greater"`` (one-sided, 2×2 only; the odds
        ratio of row 1 vs row 2 for column 1 vs column 2).
    conf_level:
        Level of the exact odds-ratio interval (2×2).

    Notes
    -----
    p-value: sum of the hypergeometric probabilities of all tables with the observed margins
    whose probability is at most P(observed) * (1 + 1e-7) (R's rule). 2×2 odds ratio: the
    conditional MLE solves E_psi[X] = x for the [0, 0] cell X under the noncentral
    hypergeometric law; the limits solve P_psi(X >= x) = alpha/2 and P_psi(X <= x) = alpha/2.
    R's ``fisher.test`` finds these roots with ``uniroot``'s default tolerance (about 1e-4);
    rrball solves them to ~1e-14, so the two agree to about 4 digits (the tests use both R's
    printed values and R roots refined with ``uniroot(tol = 1e-14)``).
    Equivalent R: ``fisher.test(table, alternative = alternative, conf.level = conf_level)``.
    """
    obs = as_count_table(table, "table")
    check_choice(alternative, _ALTERNATIVES, "alternative")
    level = check_conf_level(conf_level)
    r, c = obs.shape
    if r < 2 or c < 2:
        raise InputError("table", f"needs at least 2 rows and 2 columns, got shape {obs.shape}")
    n = int(obs.sum())
    if n == 0:
        raise InputError("table", "has no observations (all cells are 0)")
    is_2x2 = (r, c) == (2, 2)
    if alternative != "two.sided" and not is_2x2:
        raise InputError("alternative", "one-sided tests are defined for 2x2 tables only")
    warnings: list[str] = []
    if is_2x2:
        p_value = _p_2x2(obs, alternative)
        estimate, lower, upper = _conditional_or(obs, level, alternative)
        if math.isinf(estimate) or estimate == 0.0:
            warnings.append(
                "a zero cell puts the observed table at the edge of its support: the "
                "conditional MLE of the odds ratio is "
                f"{'infinite' if math.isinf(estimate) else '0'} and one CI limit is open"
            )
    else:
        p_value = exact_rxc_p_value(obs)
        estimate, lower, upper = math.nan, math.nan, math.nan
    rows, cols = _labels(table, (r, c))
    r_call = "fisher.test(table" + (
        f", alternative = \"{alternative}\"" if alternative != "two.sided" else ""
    ) + (f", conf.level = {level:g}" if level != 0.95 else "") + ")"
    return FisherExactResult(
        p_value=p_value,
        conditional_odds_ratio=estimate,
        or_lower=lower,
        or_upper=upper,
        conf_level=level,
        alternative=alternative,
        observed=frozen_array(obs),
        row_labels=rows,
        column_labels=cols,
        n=n,
        method=MappingProxyType(
            {"test": "fisher", "algorithm": "exact enumeration" if not is_2x2 else
             "hypergeometric", "alternative": alternative, "conf_level": level,
             "monte_carlo": False, "rel_err": _REL_ERR - 1.0, "r_call": r_call}
        ),
        warnings=tuple(warnings),
    )
