"""Harrell's concordance of a risk score with survival, with its infinitesimal-jackknife SE.

A pair is comparable when one member has an event at time t while the other is at risk at t
(for counting-process data: start < t <= stop) and is not itself an event at t (pairs of events
at the same time are "tied.y", not comparable). It is concordant when the member with the event has
the higher risk score; tied scores count one half. C = (concordant + tied.x / 2) /
(concordant + discordant + tied.x), and Var(C) = sum over subjects (or clusters) of the squared
derivative of C with respect to the subject's weight — the definitions R's ``concordance()``
documents (survival's "concordance" vignette), checked against ``coxph()$concordance``.

Counting: every (event-time query, at-risk point) pair is counted once by a bottom-up merge over a
time-ordered sequence (O(n log^2 n), vectorised per level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rrball._validate import BoolArray, FloatArray, IntArray

__all__ = ["Concordance", "concordance"]

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Concordance:
    concordant: float
    discordant: float
    tied_x: float
    tied_y: float
    tied_xy: float
    concordance: float
    std_err: float


def _merge_counts(
    time: FloatArray, is_query: BoolArray, rank: I64
) -> tuple[I64, I64, I64, I64, I64, I64]:
    """For queries: points later in ``time`` order (ties: queries first) with smaller / equal
    rank and in total; for points: earlier queries with larger / equal rank and in total."""
    order = np.lexsort((~is_query, time))
    q = is_query[order]
    r = rank[order]
    n = order.size
    q_less = np.zeros(n, dtype=np.int64)
    q_eq = np.zeros(n, dtype=np.int64)
    q_tot = np.zeros(n, dtype=np.int64)
    p_more = np.zeros(n, dtype=np.int64)
    p_eq = np.zeros(n, dtype=np.int64)
    p_tot = np.zeros(n, dtype=np.int64)
    big = np.int64(int(r.max()) + 2 if n else 2)
    pos = np.arange(n, dtype=np.int64)
    width = 1
    while width < n:
        block = pos // (2 * width)
        left = (pos % (2 * width)) < width
        lq = np.flatnonzero(left & q)
        rp = np.flatnonzero(~left & ~q)
        if lq.size and rp.size:
            points = np.sort(block[rp] * big + r[rp])
            qkey = block[lq] * big + r[lq]
            start = np.searchsorted(points, block[lq] * big, side="left")
            lo = np.searchsorted(points, qkey, side="left")
            hi = np.searchsorted(points, qkey, side="right")
            end = np.searchsorted(points, (block[lq] + 1) * big, side="left")
            q_less[lq] += lo - start
            q_eq[lq] += hi - lo
            q_tot[lq] += end - start
            queries = np.sort(qkey)
            pkey = block[rp] * big + r[rp]
            start = np.searchsorted(queries, block[rp] * big, side="left")
            lo = np.searchsorted(queries, pkey, side="left")
            hi = np.searchsorted(queries, pkey, side="right")
            end = np.searchsorted(queries, (block[rp] + 1) * big, side="left")
            p_more[rp] += end - hi
            p_eq[rp] += hi - lo
            p_tot[rp] += end - start
        width *= 2
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.arange(n)
    return (q_less[inverse], q_eq[inverse], q_tot[inverse],
            p_more[inverse], p_eq[inverse], p_tot[inverse])


def _stratum_counts(
    stop: FloatArray, event: BoolArray, rank: I64, start: FloatArray | None
) -> tuple[FloatArray, FloatArray, float, float, float, float, float]:
    """Per-subject scores N_i and pair counts D_i within one stratum, and the pair totals."""
    n = stop.size
    ev = np.flatnonzero(event)
    m = ev.size
    # sequence: event-time queries (one per event) and at-risk points (every subject)
    def counts(point_time: FloatArray) -> tuple[I64, I64, I64, I64, I64, I64]:
        time = np.concatenate([stop[ev], point_time])
        is_query = np.concatenate([np.ones(m, dtype=np.bool_), np.zeros(n, dtype=np.bool_)])
        rk = np.concatenate([rank[ev], rank])
        ql, qe, qt, pm, pe, pt = _merge_counts(time, is_query, rk)
        return ql[:m], qe[:m], qt[:m], pm[m:], pe[m:], pt[m:]

    ql, qe, qt, pm, pe, pt = counts(stop)
    if start is not None:
        # at risk at t needs start < t: remove points whose start >= t
        sl, se, st, sm, spe, spt = counts(start)
        ql, qe, qt, pm, pe, pt = ql - sl, qe - se, qt - st, pm - sm, pe - spe, pt - spt
    # events at the same time (tied.y / tied.xy) and each event with itself are not comparable
    group_key = np.unique(stop[ev], return_inverse=True)[1].astype(np.int64)
    big = np.int64(int(rank.max()) + 2)
    key = group_key * big + rank[ev]
    sk = np.sort(key)
    g_lo = np.searchsorted(sk, group_key * big, side="left")
    g_hi = np.searchsorted(sk, (group_key + 1) * big, side="left")
    k_lo = np.searchsorted(sk, key, side="left")
    k_hi = np.searchsorted(sk, key, side="right")
    tie_less, tie_eq, tie_tot = k_lo - g_lo, k_hi - k_lo, g_hi - g_lo
    tie_more = g_hi - k_hi
    ql, qe, qt = ql - tie_less, qe - tie_eq, qt - tie_tot
    pm_ev, pe_ev, pt_ev = pm[ev] - tie_more, pe[ev] - tie_eq, pt[ev] - tie_tot
    pm, pe, pt = pm.copy(), pe.copy(), pt.copy()
    pm[ev], pe[ev], pt[ev] = pm_ev, pe_ev, pt_ev
    score = (pm + 0.5 * pe).astype(np.float64)
    pairs = pt.astype(np.float64)
    score[ev] += ql + 0.5 * qe
    pairs[ev] += qt
    concordant = float(ql.sum())
    tied_x = float(qe.sum())
    discordant = float((qt - ql - qe).sum())
    tied_y = float((tie_tot - tie_eq).sum()) / 2.0
    tied_xy = float((tie_eq - 1).sum()) / 2.0
    return score, pairs, concordant, discordant, tied_x, tied_y, tied_xy


def concordance(
    stop: FloatArray,
    event: BoolArray,
    risk: FloatArray,
    strata: IntArray,
    n_strata: int,
    start: FloatArray | None = None,
    cluster: IntArray | None = None,
) -> Concordance:
    """Concordance of ``risk`` (higher = shorter survival) with its IJ standard error."""
    # Risk scores of subjects with identical covariates can differ in the last bit depending on
    # where a row sits in a BLAS block; scores within 1e-12 (relative) are ties.
    resolution = 1e-12 * max(1.0, float(np.max(np.abs(risk))))
    rank = np.unique(np.round(risk / resolution), return_inverse=True)[1].astype(np.int64)
    n = stop.size
    score = np.zeros(n)
    pairs = np.zeros(n)
    totals = np.zeros(5)
    for s in range(n_strata):
        idx = np.flatnonzero(strata == s)
        if not event[idx].any():
            continue
        sc, pr, *t = _stratum_counts(
            stop[idx], event[idx], rank[idx], None if start is None else start[idx]
        )
        score[idx] = sc
        pairs[idx] = pr
        totals += t
    conc, disc, tx, ty, txy = totals
    denom = conc + disc + tx
    if denom == 0:
        return Concordance(conc, disc, tx, ty, txy, float("nan"), float("nan"))
    c = (conc + tx / 2.0) / denom
    influence = (score - c * pairs) / denom
    if cluster is not None:
        influence = np.bincount(cluster, weights=influence).astype(np.float64)
    return Concordance(conc, disc, tx, ty, txy, float(c), float(np.sqrt(np.sum(influence**2))))
