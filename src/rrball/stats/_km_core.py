"""The Kaplan-Meier product-limit computation shared by ``kaplan_meier``, RMST and follow-up.

Pure numpy, no argsort of the times: subjects are split by group with a radix sort of the small
group codes, then each group's times and event times are sorted separately (numpy's vectorised
sort) and merged by run lengths. Risk sets follow the counting-process convention: a subject with
entry ``e`` and exit ``t`` is at risk at time ``u`` when ``e < u <= t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rrball._validate import BoolArray, FloatArray, IntArray
from rrball.stats._risk_sets import runs, split_cells

__all__ = ["Curves", "product_limit"]

Int64Array = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Curves:
    """Row arrays of all groups' curves; rows of group ``k`` are ``bounds[k]:bounds[k + 1]``."""

    group: IntArray
    time: FloatArray
    n_risk: Int64Array
    n_event: Int64Array
    n_censor: Int64Array
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
    order, cell_bounds = split_cells(codes, k)
    t = time if order is None else time[order]
    e = event if order is None else event[order]
    en = entry if (entry is None or order is None) else entry[order]
    parts: list[tuple[FloatArray, Int64Array, Int64Array, Int64Array, FloatArray, FloatArray]] = []
    for j in range(k):
        lo, hi = int(cell_bounds[j]), int(cell_bounds[j + 1])
        tg = t[lo:hi]
        times, at_time = runs(np.sort(tg))
        event_times, events_at = runs(np.sort(tg[e[lo:hi]]))
        n_event = np.zeros(times.size, dtype=np.int64)
        n_event[np.searchsorted(times, event_times)] = events_at
        n_risk = np.cumsum(at_time[::-1])[::-1]
        if en is not None:
            entries = np.sort(en[lo:hi])
            # subjects who enter at or after u are not yet at risk at u
            n_risk = n_risk - (entries.size - np.searchsorted(entries, times, side="left"))
        nr = n_risk.astype(np.float64)
        d = n_event.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.cumprod(1.0 - d / nr)
            var = np.cumsum(np.where(d > 0, d / (nr * (nr - d)), 0.0))
        parts.append(
            (
                times,
                np.asarray(n_risk, dtype=np.int64),
                n_event,
                np.asarray(at_time - n_event, dtype=np.int64),
                np.asarray(surv, dtype=np.float64),
                np.asarray(np.sqrt(var), dtype=np.float64),
            )
        )
    sizes = np.array([p[0].size for p in parts], dtype=np.intp)
    return Curves(
        group=np.repeat(np.arange(k, dtype=np.intp), sizes),
        time=np.concatenate([p[0] for p in parts]),
        n_risk=np.concatenate([p[1] for p in parts]).astype(np.int64),
        n_event=np.concatenate([p[2] for p in parts]),
        n_censor=np.concatenate([p[3] for p in parts]),
        surv=np.concatenate([p[4] for p in parts]),
        se_cumhaz=np.concatenate([p[5] for p in parts]),
        bounds=np.concatenate(([0], np.cumsum(sizes))).astype(np.intp),
    )
