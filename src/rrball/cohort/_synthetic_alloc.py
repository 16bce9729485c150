"""Exact allocation for synthetic cohorts (data-dictionary.md §8 rule 1).

Published counts are fixed k of n; joint cells that a seed does not give are filled by iterative
proportional fitting (IPF) and rounded with a margin-preserving largest-remainder rule. The
rounding is an integer transportation problem: cells lie between floor and ceil of the fitted
value, rows and columns keep their totals, and the sum of the chosen remainders is maximal (a
linear programme whose vertices are integral: the constraint matrix is totally unimodular).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.optimize import linprog

__all__ = ["controlled_round", "flags", "ipf", "largest_remainder", "pick", "split"]

IntArr = npt.NDArray[np.int64]
FloatArr = npt.NDArray[np.float64]


def largest_remainder(weights: Sequence[float] | FloatArr, total: int) -> IntArr:
    """Integers proportional to ``weights`` summing to ``total`` (ties: first index)."""
    w = np.asarray(weights, dtype=np.float64)
    x = w / w.sum() * total if w.sum() > 0 else np.zeros_like(w)
    out = np.floor(x + 1e-9).astype(np.int64)
    rem = x - out
    order = np.lexsort((np.arange(len(w)), -rem))
    out[order[: total - int(out.sum())]] += 1
    return out


def ipf(seed: FloatArr, rows: Sequence[float], cols: Sequence[float],
        iters: int = 200) -> FloatArr:
    """Two-margin iterative proportional fitting of ``seed`` to row and column totals."""
    x = np.asarray(seed, dtype=np.float64).copy() + 1e-12
    r = np.asarray(rows, dtype=np.float64)
    c = np.asarray(cols, dtype=np.float64)
    for _ in range(iters):
        x *= (r / np.maximum(x.sum(axis=1), 1e-300))[:, None]
        x *= (c / np.maximum(x.sum(axis=0), 1e-300))[None, :]
        if np.allclose(x.sum(axis=1), r, atol=1e-9):
            break
    return x


def controlled_round(x: FloatArr, rows: Sequence[int], cols: Sequence[int],
                     cap: IntArr | None = None) -> IntArr:
    """Integer table with the given row/column totals, each cell floor/ceil of ``x`` where
    possible, maximising the rounded-up remainders (largest remainder in two dimensions).

    ``cap`` bounds cells from above (e.g. available patients); if the floor/ceil box is
    infeasible the bounds widen to [0, cap].
    """
    x = np.asarray(x, dtype=np.float64)
    nr, nc = x.shape
    lo = np.floor(x + 1e-9)
    hi = np.ceil(x - 1e-9)
    big = np.full_like(x, 1e9) if cap is None else cap.astype(np.float64)
    lo, hi = np.minimum(lo, big), np.minimum(hi, big)
    a_eq = np.zeros((nr + nc, nr * nc))
    for i in range(nr):
        a_eq[i, i * nc:(i + 1) * nc] = 1
    for j in range(nc):
        a_eq[nr + j, j::nc] = 1
    b_eq = np.concatenate([np.asarray(rows, float), np.asarray(cols, float)])
    cost = -(x - np.floor(x)).ravel()
    for lo_b, hi_b in ((lo, hi), (np.zeros_like(x), big)):
        res = linprog(cost, A_eq=a_eq, b_eq=b_eq,
                      bounds=list(zip(lo_b.ravel(), hi_b.ravel(), strict=True)),
                      method="highs-ds")
        if res.status == 0:
            out: IntArr = np.rint(res.x).astype(np.int64).reshape(nr, nc)
            return out
    raise ValueError("no integer table with these margins")


def split(counts: Sequence[int] | IntArr, margin: Sequence[int],
          weights: FloatArr | None = None) -> IntArr:
    """Split existing cells (``counts``) over the levels of a new variable whose totals are
    ``margin``: IPF of ``counts × weights`` (independence if no weights) + controlled rounding.
    Returns a (cells × levels) integer table."""
    cnt = np.asarray(counts, dtype=np.int64)
    w = np.ones((len(cnt), len(margin))) if weights is None else np.asarray(weights, float)
    seed = cnt[:, None] * w
    fit = ipf(seed, cnt.astype(float).tolist(), margin)
    cap = np.repeat(cnt[:, None], len(margin), axis=1)
    cap = np.where(w > 0, cap, 0)
    return controlled_round(fit, list(cnt), list(margin), cap)


def flags(rng: np.random.Generator, n: int, k: int) -> npt.NDArray[np.bool_]:
    """Exactly ``k`` of ``n`` True, shuffled."""
    f = np.zeros(n, dtype=bool)
    f[:k] = True
    return rng.permutation(f)


def pick(rng: np.random.Generator, eligible: npt.NDArray[np.bool_], k: int,
         ) -> npt.NDArray[np.bool_]:
    """Exactly ``k`` of the eligible positions, chosen at random."""
    idx = np.flatnonzero(eligible)
    if k > len(idx):
        raise ValueError(f"cannot pick {k} of {len(idx)} eligible")
    out = np.zeros(len(eligible), dtype=bool)
    out[rng.choice(idx, size=k, replace=False)] = True
    return out
