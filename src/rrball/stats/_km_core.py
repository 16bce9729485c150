"""The Kaplan-Meier product-limit computation shared by ``kaplan_meier``, RMST and follow-up.

Pure numpy: one sort of all subjects by (group, time), one pass of reductions for the counts, and
one cumulative product / sum per group. Risk sets follow the counting-process convention: a subject
with entry ``e`` and exit ``t`` is at risk at time ``u`` when ``e < u <= t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rrball._validate import BoolArray, FloatArray, IntArray

npt_int = npt.NDArray[np.int64]

__all__ = ["Curves", "product_limit"]


@dataclass(frozen=True, slots=True)
class Curves:
    """Row arrays of all groups' curves, rows of group ``k`` are ``bounds[k]:bounds[k + 1]``."""

    group: IntArray
    time: FloatArray
    n_risk: npt_int
    n_event: npt_int
    n_censor: npt_int
    surv: FloatArray
    se_cumhaz: FloatArray
    bounds: IntArray

    def rows(self, k: int) -> slice:
        return slice(int(self.bounds[k]), int(self.bounds[k + 1]))


def product_limit(
    time: FloatArray,
    event: BoolArray,
    codes: IntArray,
    k: int,
    entry: FloatArray | None = None,
) -> Curves:
    """Product-limit estimate with Greenwood variance, one curve per group code 0..k-1."""
    n = time.size
    order = np.lexsort((time, codes))
    t = time[order]
    g = codes[order]
    e = event[order].astype(np.int64)
    new_row = np.empty(n, dtype=np.bool_)
    new_row[0] = True
    np.not_equal(t[1:], t[:-1], out=new_row[1:])
    new_row[1:] |= g[1:] != g[:-1]
    starts = np.flatnonzero(new_row)
    n_event = np.add.reduceat(e, starts)
    count = np.diff(np.append(starts, n))
    n_censor = count - n_event
    row_group = g[starts]
    row_time = t[starts]
    subject_end = np.searchsorted(g, np.arange(k), side="right")
    n_risk = subject_end[row_group] - starts
    if entry is not None:
        e_order = np.lexsort((entry, codes))
        en = entry[e_order]
        eg = codes[e_order]
        entry_bounds = np.searchsorted(eg, np.arange(k + 1), side="left")
        for j in range(k):
            lo, hi = int(entry_bounds[j]), int(entry_bounds[j + 1])
            sel = row_group == j
            # subjects of group j who enter at or after u are not yet at risk at u
            later = hi - lo - np.searchsorted(en[lo:hi], row_time[sel], side="left")
            n_risk[sel] -= later
    bounds = np.searchsorted(row_group, np.arange(k + 1), side="left")
    surv = np.empty(starts.size, dtype=np.float64)
    var = np.empty(starts.size, dtype=np.float64)
    nr = n_risk.astype(np.float64)
    d = n_event.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = 1.0 - d / nr
        term = np.where(d > 0, d / (nr * (nr - d)), 0.0)
    for j in range(k):
        sl = slice(int(bounds[j]), int(bounds[j + 1]))
        surv[sl] = np.cumprod(factor[sl])
        var[sl] = np.cumsum(term[sl])
    return Curves(
        group=row_group.astype(np.intp),
        time=row_time,
        n_risk=n_risk.astype(np.int64),
        n_event=n_event.astype(np.int64),
        n_censor=n_censor.astype(np.int64),
        surv=surv,
        se_cumhaz=np.sqrt(var),
        bounds=bounds.astype(np.intp),
    )
