"""Partial likelihood of the Cox model (Efron or Breslow ties), its score and information, for
right-censored or counting-process (start, stop] data with strata.

Everything per Newton iteration is a handful of vectorised passes: risk-set sums are reverse
cumulative sums in (stratum, stop) order minus the same in (stratum, start) order; the information
matrix uses sum_k sum_r S2/den = X' diag(v H) X with H each subject's accumulated 1/den over the
event times at which it is at risk, so no p×p matrix is formed per event time. Covariates are
centred (as R does) for numerical stability; the likelihood is invariant to centring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rrball._validate import BoolArray, FloatArray, IntArray

__all__ = ["Evaluation", "RiskStructure", "build_risk_structure", "evaluate", "score_residuals"]


@dataclass(frozen=True, slots=True)
class RiskStructure:
    """Index arrays that do not depend on the coefficients."""

    n: int
    o_stop: IntArray | None  # None: the data are already in (stratum, stop) order
    o_start: IntArray | None
    ia: IntArray  # per event time: first position (stop order) with stop >= t
    hi: IntArray  # per event time: end of its stratum (stop order)
    ib: IntArray | None  # per event time: first position (start order) with start >= t
    hi_start: IntArray | None
    n_times: int
    ev_rows: IntArray  # subjects with an event
    ev_k: IntArray  # their event-time index
    d: npt.NDArray[np.int64]  # events per event time
    rep_k: IntArray  # one row per event, sorted by event time
    frac: FloatArray  # Efron r/d (0 for Breslow)
    p_stop: IntArray  # per subject: prefix length of event times <= stop (same stratum)
    p_start: IntArray  # per subject: prefix length of event times <= start


def build_risk_structure(
    stop: FloatArray,
    event: BoolArray,
    strata: IntArray,
    n_strata: int,
    start: FloatArray | None,
    ties: str,
) -> RiskStructure:
    n = stop.size
    presorted = bool(
        np.all((strata[1:] > strata[:-1]) | ((strata[1:] == strata[:-1]) & (stop[1:] >= stop[:-1])))
    )
    o_stop: IntArray | None = None if presorted else np.lexsort((stop, strata)).astype(np.intp)
    stop_sorted = stop if o_stop is None else stop[o_stop]
    strata_sorted = strata if o_stop is None else strata[o_stop]
    b_stop = np.searchsorted(strata_sorted, np.arange(n_strata + 1), side="left")
    ev_rows = np.flatnonzero(event).astype(np.intp)
    ev_order = np.lexsort((stop[ev_rows], strata[ev_rows]))
    es, et = strata[ev_rows][ev_order], stop[ev_rows][ev_order]
    new = np.ones(es.size, dtype=np.bool_)
    new[1:] = (es[1:] != es[:-1]) | (et[1:] != et[:-1])
    ev_time, ev_stratum = et[new], es[new]
    n_times = ev_time.size
    ev_off = np.searchsorted(ev_stratum, np.arange(n_strata + 1), side="left")
    ia = np.empty(n_times, dtype=np.intp)
    hi = np.empty(n_times, dtype=np.intp)
    p_stop = np.empty(n, dtype=np.intp)
    p_start = np.empty(n, dtype=np.intp)
    ev_k = np.empty(ev_rows.size, dtype=np.intp)
    o_start: IntArray | None = None
    ib: IntArray | None = None
    hi_start: IntArray | None = None
    if start is not None:
        o_start = np.lexsort((start, strata)).astype(np.intp)
        start_sorted = start[o_start]
        b_start = np.searchsorted(strata[o_start], np.arange(n_strata + 1), side="left")
        ib = np.empty(n_times, dtype=np.intp)
        hi_start = np.empty(n_times, dtype=np.intp)
    for s in range(n_strata):
        k0, k1 = int(ev_off[s]), int(ev_off[s + 1])
        times_s = ev_time[k0:k1]
        lo, up = int(b_stop[s]), int(b_stop[s + 1])
        ia[k0:k1] = lo + np.searchsorted(stop_sorted[lo:up], times_s, side="left")
        hi[k0:k1] = up
        members = strata == s
        p_stop[members] = k0 + np.searchsorted(times_s, stop[members], side="right")
        if start is not None:
            assert ib is not None and hi_start is not None and o_start is not None
            lo2, up2 = int(b_start[s]), int(b_start[s + 1])
            ib[k0:k1] = lo2 + np.searchsorted(start_sorted[lo2:up2], times_s, side="left")
            hi_start[k0:k1] = up2
            p_start[members] = k0 + np.searchsorted(times_s, start[members], side="right")
        else:
            p_start[members] = k0
        ev_members = strata[ev_rows] == s
        ev_k[ev_members] = k0 + np.searchsorted(times_s, stop[ev_rows][ev_members], side="left")
    d = np.bincount(ev_k, minlength=n_times).astype(np.int64)
    rep_k = np.repeat(np.arange(n_times, dtype=np.intp), d)
    first = np.repeat(np.cumsum(d) - d, d)
    r = np.arange(rep_k.size) - first
    frac = r / d[rep_k] if ties == "efron" else np.zeros(rep_k.size)
    return RiskStructure(
        n=n, o_stop=o_stop, o_start=o_start, ia=ia, hi=hi, ib=ib, hi_start=hi_start,
        n_times=n_times, ev_rows=ev_rows, ev_k=ev_k, d=d, rep_k=rep_k,
        frac=np.asarray(frac, dtype=np.float64), p_stop=p_stop, p_start=p_start,
    )


@dataclass(frozen=True, slots=True)
class Evaluation:
    loglik: float
    score: FloatArray
    information: FloatArray
    v: FloatArray
    den: FloatArray
    a: FloatArray  # one row per event: Efron-weighted risk-set mean of x
    h_subject: FloatArray  # per subject: accumulated 1/den (Efron-weighted)


def _range_sums(
    values: FloatArray, order: IntArray | None, lo: IntArray, hi: IntArray
) -> FloatArray:
    """Sums of ``values`` over positions [lo, hi) of ``order`` (reverse cumulative sums)."""
    ordered = values if order is None else values[order]
    tail = np.zeros((ordered.shape[0] + 1, *ordered.shape[1:]))
    np.cumsum(ordered[::-1], axis=0, out=tail[-2::-1])
    out: FloatArray = tail[lo] - tail[hi]
    return out


def _risk_sums(rs: RiskStructure, values: FloatArray) -> FloatArray:
    total = _range_sums(values, rs.o_stop, rs.ia, rs.hi)
    if rs.o_start is not None:
        assert rs.ib is not None and rs.hi_start is not None
        total = total - _range_sums(values, rs.o_start, rs.ib, rs.hi_start)
    return total


def _per_time(rs: RiskStructure, weights: FloatArray, idx: IntArray) -> FloatArray:
    out: FloatArray = np.bincount(idx, weights=weights, minlength=rs.n_times).astype(np.float64)
    return out


def evaluate(rs: RiskStructure, x: FloatArray, beta: FloatArray, info: bool = True) -> Evaluation:
    """Log partial likelihood, score vector and observed information at ``beta``."""
    eta = x @ beta
    # far from the optimum (step halving, monotone likelihood) exp() may overflow: the
    # log-likelihood is then not finite and the caller halves the step
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        v = np.exp(eta)
        vx = x * v[:, None]
        s0 = _risk_sums(rs, v)
        s1 = _risk_sums(rs, vx)
        ev_v = v[rs.ev_rows]
        s0d = _per_time(rs, ev_v, rs.ev_k)
        s1d = np.column_stack(
            [_per_time(rs, vx[rs.ev_rows, j], rs.ev_k) for j in range(x.shape[1])]
        )
        den = s0[rs.rep_k] - rs.frac * s0d[rs.rep_k]
        a = (s1[rs.rep_k] - rs.frac[:, None] * s1d[rs.rep_k]) / den[:, None]
        loglik = float(eta[rs.ev_rows].sum() - np.log(den).sum())
    if not np.isfinite(loglik):
        nan_p = np.full(x.shape[1], np.nan)
        return Evaluation(-np.inf, nan_p, np.full((x.shape[1], x.shape[1]), np.nan), v, den, a,
                          np.zeros(rs.n))
    score = x[rs.ev_rows].sum(axis=0) - a.sum(axis=0)
    h1 = _per_time(rs, 1.0 / den, rs.rep_k)
    h2 = _per_time(rs, rs.frac / den, rs.rep_k)
    cum = np.concatenate(([0.0], np.cumsum(h1)))
    h_subject = cum[rs.p_stop] - cum[rs.p_start]
    h_subject[rs.ev_rows] -= h2[rs.ev_k]
    if info:
        information = (x * (v * h_subject)[:, None]).T @ x - a.T @ a
    else:
        information = np.empty((x.shape[1], x.shape[1]))
    return Evaluation(loglik, score, information, v, den, a, h_subject)


def score_residuals(rs: RiskStructure, x: FloatArray, ev: Evaluation) -> FloatArray:
    """Per-subject score residuals (they sum to the score vector), Efron-weighted at ties."""
    p = x.shape[1]
    inv = 1.0 / ev.den
    g1 = np.column_stack([_per_time(rs, ev.a[:, j] * inv, rs.rep_k) for j in range(p)])
    g2 = np.column_stack([_per_time(rs, ev.a[:, j] * rs.frac * inv, rs.rep_k) for j in range(p)])
    cum_g = np.vstack([np.zeros((1, p)), np.cumsum(g1, axis=0)])
    g_subject = cum_g[rs.p_stop] - cum_g[rs.p_start]
    g_subject[rs.ev_rows] -= g2[rs.ev_k]
    resid: FloatArray = -ev.v[:, None] * (x * ev.h_subject[:, None] - g_subject)
    a_mean = np.column_stack(
        [_per_time(rs, ev.a[:, j], rs.rep_k) for j in range(p)]
    ) / rs.d[:, None]
    resid[rs.ev_rows] += x[rs.ev_rows] - a_mean[rs.ev_k]
    return resid
