"""Sorting, tied times and risk sets shared by the survival estimators.

Near ties
---------
Times computed from dates (``(end - start) / 365.25``) carry floating-point noise, so two subjects
with the same follow-up can get times that differ in the last bits; every estimator that treats ties
specially (Kaplan-Meier, log-rank, Cox) then gives a different answer in years than in days. R's
survival package merges such near ties before fitting (``timefix = TRUE``, ``aeqSurv``), with the
``all.equal`` idea of equality. rrball does the same, verified against R's outputs: the distinct
times are sorted, and neighbours whose gap is at most ``sqrt(machine epsilon)`` times the mean
absolute distinct time (or at most ``sqrt(machine epsilon)`` itself) are chained into one cluster
that takes its smallest value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rrball._validate import FloatArray, IntArray

__all__ = [
    "TIMEFIX_TOLERANCE",
    "TimeFix",
    "chi_square_form",
    "merge_near_ties",
    "runs",
    "split_cells",
]

TIMEFIX_TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))


@dataclass(frozen=True, slots=True)
class TimeFix:
    """Outcome of near-tie merging: arrays with ties restored and how many values moved."""

    arrays: tuple[FloatArray, ...]
    n_changed: int
    n_clusters: int

    def note(self) -> str | None:
        if self.n_changed == 0:
            return None
        return (
            f"near-tied times merged: {self.n_changed} value(s) in {self.n_clusters} cluster(s) "
            "differed only by floating-point rounding and were set to the smallest value of their "
            "cluster (as R survival's timefix/aeqSurv)"
        )


def merge_near_ties(*arrays: FloatArray, tolerance: float = TIMEFIX_TOLERANCE) -> TimeFix:
    """Merge near-tied values jointly across ``arrays`` (e.g. entry and exit times)."""
    pooled = np.concatenate(arrays)
    uniq = np.unique(pooled)
    if uniq.size < 2 or tolerance <= 0:
        return TimeFix(tuple(np.asarray(a, dtype=np.float64) for a in arrays), 0, 0)
    scale = float(np.mean(np.abs(uniq)))
    gaps = np.diff(uniq)
    # all.equal-style: a gap is rounding noise when it is small relative to the typical time, or
    # small in absolute terms (times in years near 0)
    tied = (gaps <= tolerance) | (gaps <= tolerance * scale)
    if not tied.any():
        return TimeFix(tuple(np.asarray(a, dtype=np.float64) for a in arrays), 0, 0)
    cluster = np.concatenate(([0], np.cumsum(~tied)))
    first_of_cluster = np.flatnonzero(np.concatenate(([True], ~tied)))
    replacement = uniq[first_of_cluster][cluster]
    fixed = []
    changed = 0
    for a in arrays:
        new = replacement[np.searchsorted(uniq, a)]
        changed += int(np.count_nonzero(new != a))
        fixed.append(new)
    n_clusters = int(np.count_nonzero(np.bincount(cluster) > 1))
    return TimeFix(tuple(fixed), changed, n_clusters)


def split_cells(codes: IntArray, n_cells: int) -> tuple[IntArray | None, IntArray]:
    """Order that groups subjects by cell code (stable), and the cell boundaries in that order.

    Cell codes are small integers (group, or stratum × group), so a stable sort on a 16-bit copy
    is numpy's O(n) radix sort; ``None`` stands for the identity order of a single cell.
    """
    n = codes.size
    if n_cells == 1:
        return None, np.array([0, n], dtype=np.intp)
    small = codes.astype(np.uint16) if n_cells <= np.iinfo(np.uint16).max else codes
    order = np.argsort(small, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_cells + 1), side="left")
    return order.astype(np.intp), bounds.astype(np.intp)


def runs(sorted_values: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Distinct values of a sorted array and how often each occurs."""
    if sorted_values.size == 0:
        return sorted_values, np.zeros(0, dtype=np.int64)
    first = np.empty(sorted_values.size, dtype=np.bool_)
    first[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, sorted_values.size)).astype(np.int64)
    return sorted_values[starts], counts


def chi_square_form(diff: FloatArray, variance: FloatArray) -> tuple[float, int, str | None]:
    """diff' V^-1 diff with df = rank(V). A singular V (groups compared in no stratum) uses the
    generalised inverse on its rank and says so; rank 0 means no test at all (NaN, df 0)."""
    scale = float(np.max(np.abs(variance), initial=0.0))
    if scale == 0.0 or not np.all(np.isfinite(variance)):
        return float("nan"), 0, ("no comparison possible: the groups never share a risk set "
                                 "(statistic and p-value are NaN)")
    rank = int(np.linalg.matrix_rank(variance, tol=1e-10 * scale))
    if rank == variance.shape[0]:
        return float(diff @ np.linalg.solve(variance, diff)), rank, None
    stat = float(diff @ np.linalg.pinv(variance, rcond=1e-10) @ diff)
    return stat, rank, (f"variance matrix singular (rank {rank} of {variance.shape[0]}): "
                        "generalised inverse used, df reduced to its rank")
