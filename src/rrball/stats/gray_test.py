"""Gray's K-sample test for equality of cumulative incidence curves (Gray, Ann Stat 1988).

For the cause of interest, each group's subdistribution hazard is compared with the pooled one:
the score of group i sums, over event times, the weight (1 - F0(t-))^rho times
d_i - d * R_i / sum_k R_k, where R_i = n_i (1 - F_i(t-)) / S_i(t-) is the group's subdistribution
risk set (n_i at risk, S_i its all-cause Kaplan-Meier, F_i its cumulative incidence) and F0 the
pooled cumulative incidence. The covariance is Gray's asymptotic estimator; strata add scores and
covariances. The statistic is s' V^-1 s over all groups but one (the scores sum to zero), on
K - 1 df.

Equivalent R: ``cmprsk::cuminc(time, status, group, strata, rho)$Tests`` (one row per cause),
checked against its outputs.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special as _special

from rrball._format import format_p, format_table
from rrball._result import ResultMixin, frozen_array, json_safe
from rrball._validate import FloatArray, as_groups, as_time, is_real
from rrball.errors import InputError
from rrball.stats._risk_sets import chi_square_form, merge_near_ties
from rrball.stats.competing_risks import as_status

__all__ = ["GrayTestResult", "gray_test"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GrayTestResult(ResultMixin):
    """Per cause: ``statistic, df, p_value`` (``table``), plus the scores and covariances."""

    groups: tuple[Hashable, ...]
    causes: tuple[int, ...]
    rho: float
    method: Mapping[str, object]
    warnings: tuple[str, ...]
    scores: Mapping[int, FloatArray]
    covariances: Mapping[int, FloatArray]
    _table: pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def statistic(self, cause: int) -> float:
        """The chi-square statistic for one cause."""
        rows = self._table[self._table["cause"] == cause]
        if rows.empty:
            raise InputError("cause", f"{cause!r} is not one of {list(self.causes)!r}")
        return float(rows["statistic"].to_numpy()[0])

    def to_dict(self) -> dict[str, Any]:
        return dict(json_safe({"groups": list(self.groups), "causes": list(self.causes),
                               "rho": self.rho, "method": dict(self.method),
                               "table": self._table.to_dict(orient="list"),
                               "warnings": list(self.warnings)}))

    def summary(self) -> str:
        rows = [[str(r.cause), f"{r.statistic:.4g}", str(r.df), format_p(r.p_value)]
                for r in self._table.itertuples()]
        lines = [
            f"Gray's test for equal cumulative incidence across {len(self.groups)} groups "
            f"(rho = {self.rho:g})"
            + (f", stratified by {self.method['strata']}" if self.method.get("strata") else ""),
            "",
            format_table(["cause", "stat", "df", "p"], rows),
        ]
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"GrayTestResult(groups={len(self.groups)}, causes={self.causes}, rho={self.rho:g})"


@dataclass(frozen=True, slots=True)
class _Tabulated:
    """One stratum's counts per distinct time (rows) and group (columns), by status code."""

    n_t: int
    by_status: dict[int, FloatArray]
    d_all: FloatArray


def _tabulate(
    time: FloatArray, status: npt.NDArray[np.int64], g: npt.NDArray[np.intp], k: int
) -> _Tabulated:
    times, inv = np.unique(time, return_inverse=True)
    n_t = times.size
    cell = inv * k + g

    def counts(mask: npt.NDArray[np.bool_] | None) -> FloatArray:
        sel = cell if mask is None else cell[mask]
        out: FloatArray = np.bincount(sel, minlength=n_t * k).reshape(n_t, k).astype(np.float64)
        return out

    by_status = {int(c): counts(status == c) for c in np.unique(status[status > 0])}
    return _Tabulated(n_t, by_status, counts(None))


def _stratum(tab: _Tabulated, k: int, cause: int, rho: float) -> tuple[FloatArray, FloatArray]:
    """Scores (k) and covariance (k x k) of one stratum."""
    n_t = tab.n_t
    zero = np.zeros((n_t, k))
    d1 = tab.by_status.get(cause, zero)
    d2 = sum((d for c, d in tab.by_status.items() if c != cause), zero)
    d_all = tab.d_all
    at_risk = np.cumsum(d_all[::-1], axis=0)[::-1]  # n_i at the start of each time
    live = at_risk > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(live, 1.0 - (d1 + d2) / at_risk, 1.0)
    s_after = np.cumprod(factor, axis=0)
    s_before = np.vstack([np.ones((1, k)), s_after[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        f_inc = np.where(live, s_before * d1 / at_risk, 0.0)
    f_after = np.cumsum(f_inc, axis=0)
    f_before = np.vstack([np.zeros((1, k)), f_after[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        weight_n = np.where(live, at_risk / s_before, 0.0)  # n_i / S_i(t-)
        sub_risk = np.where(live, at_risk * (1.0 - f_before) / s_before, 0.0)
    nd1 = d1.sum(axis=1)
    nd2 = d2.sum(axis=1)
    active = (nd1 > 0) | (nd2 > 0)
    tr = weight_n.sum(axis=1)
    tq = sub_risk.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f0_inc = np.where(active & (tr > 0), nd1 / tr, 0.0)
    f0_after = np.cumsum(f0_inc)
    f0_before = np.concatenate(([0.0], f0_after[:-1]))
    fb = (1.0 - f0_before) ** rho
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(live & active[:, None], nd1[:, None] * sub_risk / tq[:, None], 0.0)
    score = (fb[:, None] * np.where(live, d1 - expected, 0.0) * active[:, None]).sum(axis=0)
    # a_t = fb * tr * (diag(p) - p p'), p_i = (n_i / S_i(t-)) / tr; c = cumulative a * d1 / ...
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(active[:, None] & (tr[:, None] > 0), weight_n / tr[:, None], 0.0)
        scale = np.where(active & (tr > 0), nd1 / (tr * (1.0 - f0_before)), 0.0)
    f0 = f0_after
    with np.errstate(divide="ignore", invalid="ignore"):
        # cause of interest, per group k
        on1 = (nd1[:, None] > 0) & live
        t4 = np.where(s_after > 0, 1.0 - (1.0 - f0[:, None]) / s_after, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1.0 - (nd1[:, None] - 1.0) / (tr[:, None] * s_before - 1.0),
                      1.0)
        t3 = np.where(on1, t5 * s_before * nd1[:, None] / (tr[:, None] * at_risk), 0.0)
        t4 = np.where(on1, t4, 0.0)
        # competing causes, per group k
        on2 = (d2 > 0) & (s_after > 0) & live
        u4 = np.where(on2, (1.0 - f0[:, None]) / s_after, 0.0)
        u5 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (at_risk - 1.0), 1.0)
        u3 = np.where(on2, u5 * s_before**2 * d2 / at_risk**2, 0.0)
    v3 = (t4**2 * t3 + u4**2 * u3).sum(axis=0)
    # only times with an event contribute below (a, the c increments, t3 and u3 vanish elsewhere)
    act = np.flatnonzero(active)
    p, fb, tr, scale = p[act], fb[act], tr[act], scale[act]
    t4, t3, u4, u3 = t4[act], t3[act], u4[act], u3[act]
    n_t = act.size
    # the (time, k, k) terms are built in blocks of time so memory stays O(block * k^2)
    v2 = np.zeros((k, k))
    v = np.zeros((k, k))
    c_prev = np.zeros((k, k))
    block = max(1, 2_000_000 // (k * k))
    eye = np.eye(k)[None]
    for lo in range(0, n_t, block):
        sl = slice(lo, min(lo + block, n_t))
        pb = p[sl]
        with np.errstate(invalid="ignore"):
            a = (fb[sl] * tr[sl])[:, None, None] * (pb[:, :, None] * eye
                                                     - pb[:, :, None] * pb[:, None, :])
        a = np.where(np.isfinite(a), a, 0.0)
        c = c_prev + np.cumsum(a * scale[sl, None, None], axis=0)
        w1 = a - t4[sl, None, :] * c  # (t, i, k)
        w2 = u4[sl, None, :] * c
        v2 += (w1 * (t4[sl] * t3[sl])[:, None, :]).sum(axis=0)
        v2 -= (w2 * (u4[sl] * u3[sl])[:, None, :]).sum(axis=0)
        # sum over t and k of w[t,i,k] w[t,j,k] weight[t,k], as one matrix product (BLAS)
        m1 = w1.transpose(1, 0, 2).reshape(k, -1)
        m2 = w2.transpose(1, 0, 2).reshape(k, -1)
        v += (m1 * t3[sl].ravel()) @ m1.T + (m2 * u3[sl].ravel()) @ m2.T
        c_prev = c[-1]
    c_end = c_prev
    v = v + (c_end * v3[None, :]) @ c_end.T + c_end @ v2.T + v2 @ c_end.T
    return score, v


def gray_test(
    time: Any,
    status: Any,
    group: Any,
    *,
    strata: Any = None,
    rho: float = 0.0,
    levels: Sequence[Hashable] | None = None,
    timefix: bool = True,
) -> GrayTestResult:
    """Gray's test for equal cumulative incidence of each cause across groups.

    Parameters
    ----------
    time, status:
        Follow-up time; 0 = censored, 1, 2, ... = cause.
    group:
        Group labels (at least two groups).
    strata:
        Optional strata: scores and covariances are summed over strata.
    rho:
        Weight (1 - F0(t-))^rho on the subdistribution hazard differences (rho = 0: log-rank-like).
    timefix:
        Merge floating-point near ties first (default, as R survival; reported in
        ``warnings``). ``cmprsk`` itself does not merge them: pass ``timefix=False`` to reproduce
        cmprsk on data whose times differ only by rounding.
    """
    t = as_time(time, "time")
    st = as_status(status, t.size)
    negative = np.flatnonzero(st < 0)
    if negative.size:
        raise InputError("status", "codes must be >= 0 (0 = censored)", negative)
    if not is_real(rho) or not np.isfinite(rho) or rho < 0:
        raise InputError("rho", f"must be a finite number >= 0, got {rho!r}")
    groups = as_groups(group, t.size, "group", levels=levels)
    if groups.k < 2:
        raise InputError("group", "needs at least two groups to compare")
    sg = as_groups(strata, t.size, "strata") if strata is not None else None
    causes = tuple(int(c) for c in np.unique(st[st > 0]))
    if not causes:
        raise InputError("status", "has no events (every subject censored): the test is undefined")
    warnings: list[str] = []
    if timefix:
        fixed = merge_near_ties(t)
        t = fixed.arrays[0]
        if (note := fixed.note()) is not None:
            warnings.append(note)
    s_codes = sg.codes if sg is not None else np.zeros(t.size, dtype=np.intp)
    n_strata = sg.k if sg is not None else 1
    rows = []
    scores: dict[int, FloatArray] = {}
    covs: dict[int, FloatArray] = {}
    k = groups.k
    tables = []
    for s in range(n_strata):
        m = s_codes == s
        tables.append(_tabulate(t[m], st[m], groups.codes[m], k))
    for cause in causes:
        score = np.zeros(k)
        cov = np.zeros((k, k))
        for tab in tables:
            sc, v = _stratum(tab, k, cause, float(rho))
            score += sc
            cov += v
        stat, df, note = chi_square_form(score[: k - 1], cov[: k - 1, : k - 1])
        if note:
            warnings.append(f"cause {cause}: {note}")
        p_value = float(_special.chdtrc(df, stat)) if df > 0 else float("nan")
        rows.append((cause, stat, df, p_value))
        scores[cause] = frozen_array(score)
        covs[cause] = frozen_array(cov)
    gname = getattr(group, "name", None) or "group"
    sname = getattr(strata, "name", None) or "strata"
    method = MappingProxyType({
        "test": "gray k-sample test of cumulative incidence",
        "rho": float(rho),
        "strata": sname if sg is not None else None,
        "timefix": timefix,
        "r_call": f"cmprsk::cuminc(time, status, {gname}"
        + (f", strata = {sname}" if sg is not None else "") + f", rho = {rho:g})$Tests",
    })
    return GrayTestResult(
        groups=groups.labels, causes=causes, rho=float(rho), method=method,
        warnings=tuple(warnings), scores=MappingProxyType(scores),
        covariances=MappingProxyType(covs),
        _table=pd.DataFrame(rows, columns=["cause", "statistic", "df", "p_value"]),
    )
