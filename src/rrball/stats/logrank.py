"""Log-rank and Fleming-Harrington G-rho tests for K groups, optionally stratified.

Equivalent R: ``survival::survdiff(Surv(time, event) ~ group + strata(s), rho = rho)``. Checked
against R on lung, veteran, aml, gehan (paired strata) and KMsurv bmt in ``tests/stats``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special as _special

from rrball._format import format_number, format_p, format_table
from rrball._result import ResultMixin, frozen_array, json_safe
from rrball._validate import FloatArray, as_event, as_groups, as_time, is_real
from rrball.errors import InputError
from rrball.stats._risk_sets import chi_square_form, merge_near_ties, runs, split_cells

__all__ = ["LogRankResult", "logrank_test"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRankResult(ResultMixin):
    """Chi-square test comparing K survival curves (R ``survdiff``).

    ``observed``/``expected`` are per group, summed over strata (weighted by S(t-)^rho when
    rho != 0, as R reports them); ``variance`` is the K×K covariance matrix of O − E.
    """

    statistic: float
    df: int
    p_value: float
    groups: tuple[Hashable, ...]
    n: Mapping[Hashable, int]
    observed: npt.NDArray[np.float64]
    expected: npt.NDArray[np.float64]
    variance: npt.NDArray[np.float64]
    rho: float
    strata: tuple[Hashable, ...] | None
    method: Mapping[str, object]
    warnings: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """One row per group: ``group, n, observed, expected, o_minus_e, variance``."""
        return pd.DataFrame(
            {
                "group": list(self.groups),
                "n": [self.n[g] for g in self.groups],
                "observed": self.observed,
                "expected": self.expected,
                "o_minus_e": self.observed - self.expected,
                "variance": np.diag(self.variance),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "statistic": self.statistic,
                    "df": self.df,
                    "p_value": self.p_value,
                    "groups": list(self.groups),
                    "n": dict(self.n),
                    "observed": self.observed,
                    "expected": self.expected,
                    "variance": self.variance.tolist(),
                    "rho": self.rho,
                    "strata": list(self.strata) if self.strata is not None else None,
                    "method": dict(self.method),
                    "warnings": list(self.warnings),
                }
            )
        )

    def summary(self) -> str:
        name = str(self.method["test"])
        rows = []
        for i, g in enumerate(self.groups):
            o, e, v = self.observed[i], self.expected[i], self.variance[i, i]
            with np.errstate(divide="ignore", invalid="ignore"):
                oe2e = (o - e) ** 2 / e
                oe2v = (o - e) ** 2 / v
            rows.append(
                [
                    f"{self.method['group']}={g}",
                    str(self.n[g]),
                    format_number(float(o), 3),
                    format_number(float(e), 3),
                    format_number(float(oe2e), 3),
                    format_number(float(oe2v), 3),
                ]
            )
        header = ["", "N", "Observed", "Expected", "(O-E)^2/E", "(O-E)^2/V"]
        lines = [
            f"{name} (rho = {self.rho:g})"
            + (f", stratified by {self.method['strata']} ({len(self.strata)} strata)"
               if self.strata is not None else ""),
            "",
            format_table(header, rows),
            "",
            f" Chisq = {self.statistic:.1f}  on {self.df} degrees of freedom, p = "
            f"{format_p(self.p_value)}",
        ]
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"LogRankResult(groups={len(self.groups)}, statistic={self.statistic:.4g}, "
            f"df={self.df}, p_value={self.p_value:.4g}, rho={self.rho:g})"
        )


def _stratum_sums(
    cells: list[tuple[FloatArray, FloatArray]], rho: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """O, E (weighted) and Var(O - E) of one stratum from each group's sorted (times, event
    times)."""
    k = len(cells)
    all_events = np.concatenate([ev for _, ev in cells])
    if all_events.size == 0:
        return np.zeros(k), np.zeros(k), np.zeros((k, k))
    event_times = np.unique(all_events)
    n_k = np.empty((event_times.size, k), dtype=np.float64)
    d_k = np.zeros((event_times.size, k), dtype=np.float64)
    for j, (times, ev_times) in enumerate(cells):
        n_k[:, j] = times.size - np.searchsorted(times, event_times, side="left")
        distinct, counts = runs(ev_times)
        d_k[np.searchsorted(event_times, distinct), j] = counts
    n_at = n_k.sum(axis=1)
    d = d_k.sum(axis=1)
    if rho == 0.0:
        w = np.ones_like(d)
    else:
        # Fleming-Harrington weight: pooled Kaplan-Meier just before each event time, to rho
        surv_before = np.concatenate(([1.0], np.cumprod(1.0 - d / n_at)[:-1]))
        w = surv_before**rho
    share = n_k / n_at[:, None]
    observed = (w[:, None] * d_k).sum(axis=0)
    expected = (w[:, None] * d[:, None] * share).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(n_at > 1, w**2 * d * (n_at - d) / (n_at - 1.0), 0.0)
    variance = np.diag((c[:, None] * share).sum(axis=0)) - (share * c[:, None]).T @ share
    return observed, expected, variance


def logrank_test(
    time: Any,
    event: Any,
    group: Any,
    *,
    strata: Any = None,
    rho: float = 0.0,
    levels: Sequence[Hashable] | None = None,
    timefix: bool = True,
) -> LogRankResult:
    """Compare survival of K groups: log-rank (rho = 0) or G-rho test (rho = 1: Peto & Peto).

    Parameters
    ----------
    time, event:
        Follow-up time and event indicator (1 = event, 0 = censored).
    group:
        Group labels (at least two groups).
    strata:
        Optional stratum labels: O, E and the variance are computed within each stratum and
        summed (R ``strata()``), so the groups are compared only within strata.
    rho:
        Weight S(t-)^rho on each event time, S the pooled Kaplan-Meier of the stratum.
    levels:
        Output order of the groups.
    timefix:
        Merge floating-point near ties first, as R does (default).

    Notes
    -----
    statistic = (O - E)' V^-1 (O - E) over the groups with positive expected count but one;
    df = (number of groups with expected > 0) - 1.
    Equivalent R: ``survdiff(Surv(time, event) ~ group + strata(strata), rho = rho)``.
    """
    t = as_time(time, "time")
    ev = as_event(event, t.size, "event")
    groups = as_groups(group, t.size, "group", levels=levels)
    if groups.k < 2:
        raise InputError("group", "needs at least two groups to compare")
    if not is_real(rho) or not np.isfinite(rho) or rho < 0:
        raise InputError("rho", f"must be a finite number >= 0, got {rho!r}")
    st = as_groups(strata, t.size, "strata") if strata is not None else None
    if not ev.any():
        raise InputError("event", "has no events (every subject censored): the test is undefined")
    warnings: list[str] = []
    if timefix:
        fixed = merge_near_ties(t)
        t = fixed.arrays[0]
        if (note := fixed.note()) is not None:
            warnings.append(note)
    k = groups.k
    n_strata = st.k if st is not None else 1
    cell = groups.codes if st is None else st.codes * k + groups.codes
    order, bounds = split_cells(cell, n_strata * k)
    ts = t if order is None else t[order]
    es = ev if order is None else ev[order]
    observed = np.zeros(k)
    expected = np.zeros(k)
    variance = np.zeros((k, k))
    for s in range(n_strata):
        cells = []
        for j in range(k):
            lo, hi = int(bounds[s * k + j]), int(bounds[s * k + j + 1])
            cells.append((np.sort(ts[lo:hi]), np.sort(ts[lo:hi][es[lo:hi]])))
        o, e, v = _stratum_sums(cells, float(rho))
        observed += o
        expected += e
        variance += v
    keep = np.flatnonzero(expected > 0)
    df = int(keep.size - 1)
    if df < 1:
        # R prints "Chisq = 0 on 0 degrees of freedom"; rrball says plainly there is no test.
        statistic, p_value = float("nan"), float("nan")
        warnings.append(
            "no comparison possible: fewer than two groups have subjects at risk at any event "
            "time (statistic and p-value are NaN)"
        )
    else:
        diff = (observed - expected)[keep[1:]]
        sub = variance[np.ix_(keep[1:], keep[1:])]
        statistic, df, note = chi_square_form(diff, sub)
        if note:
            warnings.append(note)
        # upper tail of chi-square(df)
        p_value = float(_special.chdtrc(df, statistic)) if df > 0 else float("nan")
    counts = np.bincount(groups.codes, minlength=k)
    gname = getattr(group, "name", None) or "group"
    sname = getattr(strata, "name", None) or "strata"
    rhs = str(gname) + (f" + strata({sname})" if st is not None else "")
    test = "Log-rank test" if rho == 0 else (
        "Peto & Peto test" if rho == 1 else "Fleming-Harrington G-rho test"
    )
    method = MappingProxyType(
        {
            "test": test,
            "rho": float(rho),
            "timefix": timefix,
            "group": str(gname),
            "strata": str(sname) if st is not None else None,
            "r_call": f"survdiff(Surv(time, event) ~ {rhs}, rho = {rho:g})",
        }
    )
    return LogRankResult(
        statistic=statistic,
        df=df,
        p_value=p_value,
        groups=groups.labels,
        n=MappingProxyType({g: int(c) for g, c in zip(groups.labels, counts, strict=True)}),
        observed=frozen_array(observed),
        expected=frozen_array(expected),
        variance=frozen_array(variance),
        rho=float(rho),
        strata=st.labels if st is not None else None,
        method=method,
        warnings=tuple(warnings),
    )
