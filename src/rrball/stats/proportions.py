"""Confidence intervals for one binomial proportion (response rates).

Equivalent R: ``binom.test(x, n)`` (Clopper-Pearson, ``method="exact"``), ``prop.test(x, n,
correct = FALSE)`` (Wilson score, ``"wilson"``) and ``prop.test(x, n)`` (Wilson with continuity
correction, ``"wilson-cc"``). Checked against R in ``tests/stats/test_proportions.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd
from scipy import special as _special
from scipy import stats as _stats

from rrball._format import format_number, format_p
from rrball._result import ResultMixin, json_safe
from rrball._validate import as_count, check_choice, check_conf_level
from rrball.errors import InputError

__all__ = ["PROPORTION_METHODS", "ProportionResult", "proportion_ci"]

PROPORTION_METHODS = ("exact", "wilson", "wilson-cc")
FRAME_COLUMNS = (
    "x", "n", "estimate", "lower", "upper", "conf_level", "null_value", "statistic", "p_value",
    "method",
)
# R's tolerance for "as or less likely than the observed" in exact two-sided p-values
# (binom.test and fisher.test: d <= d_obs * (1 + 1e-7)).
_REL_ERR = 1.0 + 1e-7


@dataclass(frozen=True, slots=True, kw_only=True)
class ProportionResult(ResultMixin):
    """A proportion x/n with its confidence interval and the test of ``null_value``.

    ``to_frame()`` columns: ``x, n, estimate, lower, upper, conf_level, null_value, statistic,
    p_value, method``. ``statistic`` is NaN for the exact method (the test is the binomial
    distribution itself) and the chi-square statistic of ``prop.test`` otherwise.
    """

    x: int
    n: int
    estimate: float
    lower: float
    upper: float
    conf_level: float
    null_value: float
    statistic: float
    p_value: float
    method: Mapping[str, object]
    warnings: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [[self.x, self.n, self.estimate, self.lower, self.upper, self.conf_level,
              self.null_value, self.statistic, self.p_value, self.method["method"]]],
            columns=list(FRAME_COLUMNS),
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "x": self.x, "n": self.n, "estimate": self.estimate, "lower": self.lower,
                    "upper": self.upper, "conf_level": self.conf_level,
                    "null_value": self.null_value, "statistic": self.statistic,
                    "p_value": self.p_value, "method": dict(self.method),
                    "warnings": list(self.warnings),
                }
            )
        )

    def summary(self) -> str:
        pct = f"{100 * self.conf_level:g}%"
        lines = [
            str(self.method["title"]),
            "",
            f"x = {self.x}, n = {self.n}, estimate = {format_number(self.estimate, 4)}",
            f"{pct} CI: {format_number(self.lower, 4)} to {format_number(self.upper, 4)}",
        ]
        test = f"H0: p = {self.null_value:g}; "
        if math.isnan(self.statistic):
            test += f"two-sided exact p = {format_p(self.p_value)}"
        else:
            test += (f"X-squared = {format_number(self.statistic, 4)}, df = 1, "
                     f"p = {format_p(self.p_value)}")
        lines.append(test)
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"ProportionResult(x={self.x}, n={self.n}, estimate={self.estimate:.4g}, "
            f"lower={self.lower:.4g}, upper={self.upper:.4g}, method={self.method['method']!r})"
        )


def _clopper_pearson(x: int, n: int, alpha: float) -> tuple[float, float]:
    lower = 0.0 if x == 0 else float(_special.betaincinv(x, n - x + 1, alpha / 2))
    upper = 1.0 if x == n else float(_special.betaincinv(x + 1, n - x, 1 - alpha / 2))
    return lower, upper


def _exact_binomial_p(x: int, n: int, p: float) -> float:
    """Two-sided exact p: total probability of outcomes no more likely than x (R's rule)."""
    if p == 0.0:
        return 1.0 if x == 0 else 0.0
    if p == 1.0:
        return 1.0 if x == n else 0.0
    if x == n * p:  # the observed outcome is the mode: every outcome counts
        return 1.0
    dist = _stats.binom(n, p)
    d = dist.pmf(range(n + 1))
    threshold = d[x] * _REL_ERR
    return float(min(1.0, d[d <= threshold].sum()))


def _wilson(x: int, n: int, alpha: float, yates: float) -> tuple[float, float]:
    """Wilson score interval with continuity correction ``yates`` (0 = none), as prop.test."""
    z = float(_special.ndtri(1 - alpha / 2))
    z22n = z * z / (2 * n)
    est = x / n
    pc = est + yates / n
    upper = 1.0 if pc >= 1 else (
        (pc + z22n + z * math.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n)
    )
    pc = est - yates / n
    lower = 0.0 if pc <= 0 else (
        (pc + z22n - z * math.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n)
    )
    return lower, upper


def proportion_ci(
    x: int,
    n: int,
    *,
    method: str = "exact",
    conf_level: float = 0.95,
    null_value: float = 0.5,
) -> ProportionResult:
    """Estimate a response rate x/n with a confidence interval.

    Parameters
    ----------
    x, n:
        Number of responders and number of patients (whole numbers, 0 <= x <= n, n >= 1).
    method:
        ``"exact"`` Clopper-Pearson (R ``binom.test``; what FDA reports, clinical-reference
        §5.3), ``"wilson"`` score interval (R ``prop.test(correct = FALSE)``), ``"wilson-cc"``
        score interval with continuity correction (R ``prop.test()`` default).
    conf_level:
        Confidence level of the interval.
    null_value:
        Proportion under H0 for the accompanying test (R's ``p``; default 0.5). For
        ``"wilson-cc"`` it also caps the continuity correction at |x - n p0| as R does.

    Notes
    -----
    Clopper-Pearson: lower = B^-1(alpha/2; x, n-x+1), upper = B^-1(1-alpha/2; x+1, n-x) (0 and 1
    at x = 0 and x = n). Wilson (Newcombe 1998, methods 3 and 4): with z = Phi^-1(1-alpha/2),
    p_c = x/n -/+ c/n, the limits are (p_c + z^2/2n -/+ z sqrt(p_c(1-p_c)/n + z^2/4n^2)) /
    (1 + z^2/n) with c = 0 or c = min(0.5, |x - n p0|).
    Exact two-sided p: sum of binomial probabilities not above P(x) * (1 + 1e-7).
    Equivalent R: ``binom.test(x, n, p = null_value, conf.level = conf_level)`` or
    ``prop.test(x, n, p = null_value, conf.level = conf_level, correct = ...)``.
    """
    check_choice(method, PROPORTION_METHODS, "method")
    level = check_conf_level(conf_level)
    n_ = as_count(n, "n", minimum=1)
    x_ = as_count(x, "x")
    if x_ > n_:
        raise InputError("x", f"is {x_}, larger than n = {n_}")
    if not (isinstance(null_value, (int, float)) and 0.0 <= float(null_value) <= 1.0):
        raise InputError("null_value", f"must be a proportion in [0, 1], got {null_value!r}")
    p0 = float(null_value)
    alpha = 1.0 - level
    warnings: list[str] = []
    if method == "exact":
        lower, upper = _clopper_pearson(x_, n_, alpha)
        statistic = math.nan
        p_value = _exact_binomial_p(x_, n_, p0)
        title = "Exact binomial test (Clopper-Pearson interval)"
        r_call = f"binom.test({x_}, {n_}, p = {p0:g}, conf.level = {level:g})"
    else:
        if p0 in (0.0, 1.0):
            raise InputError("null_value", "must be strictly between 0 and 1 for prop.test")
        correct = method == "wilson-cc"
        yates = min(0.5, abs(x_ - n_ * p0)) if correct else 0.0
        lower, upper = _wilson(x_, n_, alpha, yates)
        statistic = (abs(x_ - n_ * p0) - yates) ** 2 / (n_ * p0 * (1 - p0))
        p_value = float(_special.chdtrc(1, statistic))
        if min(n_ * p0, n_ * (1 - p0)) < 5:
            warnings.append("expected count below 5: the chi-square approximation of the test "
                            "may be poor (R: 'Chi-squared approximation may be incorrect')")
        title = "1-sample proportions test " + (
            "with continuity correction (Wilson interval, corrected)" if correct
            else "without continuity correction (Wilson score interval)"
        )
        r_call = (f"prop.test({x_}, {n_}, p = {p0:g}, conf.level = {level:g}, "
                  f"correct = {'TRUE' if correct else 'FALSE'})")
    return ProportionResult(
        x=x_,
        n=n_,
        estimate=x_ / n_,
        lower=float(lower),
        upper=float(upper),
        conf_level=level,
        null_value=p0,
        statistic=float(statistic),
        p_value=p_value,
        method=MappingProxyType(
            {"method": method, "conf_level": level, "null_value": p0, "title": title,
             "r_call": r_call}
        ),
        warnings=tuple(warnings),
    )
