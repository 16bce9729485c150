"""Exact conditional p-value of an R×C table (Fisher-Freeman-Halton), network-style enumeration.

The tables with the observed margins form a network: stage j allocates column j to the rows, a
node is the multiset of row totals still to fill. A node's completions have a closed-form total
probability (N'!/prod r'! prod c'!) and cheap bounds on the largest and smallest completion
probability (relaxations that drop either the row or the column constraints). A path whose past
probability times every completion is at most the observed one is added whole; one whose every
completion is more likely is dropped; only paths straddling the observed probability are expanded
(Mehta & Patel 1983, the idea behind R's FEXACT; this code is written from that description, not
from FEXACT). Paths that reach the same node with the same past probability are merged.
Everything is vectorised over the frontier of (node, past) entries. Exact: no Monte Carlo.

R's rule for "as or less likely": P(table) <= P(observed) * (1 + 1e-7).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

__all__ = ["exact_rxc_p_value", "log_table_probability"]

_REL_ERR = 1e-7
# Past log-probabilities closer than this are merged into one path class (relative error of the
# merged probability <= 1e-11, far below the 1e-9 agreement required with R).
_MERGE_SCALE = 1e11
_CHUNK = 2_000_000  # entries x allocations per broadcast block (memory bound)

IntMatrix = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def log_table_probability(table: IntMatrix) -> float:
    """log P(table | margins) under independence (multivariate hypergeometric)."""
    r = table.sum(axis=1)
    c = table.sum(axis=0)
    n = int(r.sum())
    return float(
        gammaln(r + 1).sum() + gammaln(c + 1).sum() - gammaln(n + 1) - gammaln(table + 1).sum()
    )


def _compositions(total: int, bounds: IntMatrix) -> IntMatrix:
    """All vectors x >= 0 with sum(x) == total and x <= bounds (rows of the result)."""
    k = bounds.size
    cur = np.zeros((1, 0), dtype=np.int64)
    partial = np.zeros(1, dtype=np.int64)
    suffix_cap = np.concatenate((np.cumsum(bounds[::-1])[::-1], [0]))
    for i in range(k - 1):
        lo = np.maximum(total - partial - suffix_cap[i + 1], 0)
        hi = np.minimum(bounds[i], total - partial)
        counts = np.maximum(hi - lo + 1, 0)
        rep = np.repeat(np.arange(cur.shape[0]), counts)
        offsets = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts)
        vals = lo[rep] + offsets
        cur = np.column_stack((cur[rep], vals))
        partial = partial[rep] + vals
    last = total - partial
    ok = (last >= 0) & (last <= bounds[k - 1])
    return np.column_stack((cur[ok], last[ok])).astype(np.int64)


def _even_split_cost(totals: IntMatrix, parts: IntMatrix, lf: FloatArray) -> FloatArray:
    """sum over totals of min sum log(x!) splitting each total into `parts` integer pieces."""
    parts = np.maximum(parts, 1)
    q = totals // parts
    rem = totals - q * parts
    return np.asarray((rem * lf[q + 1] + (parts - rem) * lf[q]).sum(axis=-1), dtype=np.float64)


def exact_rxc_p_value(table: IntMatrix) -> float:
    """Two-sided exact p-value of an R×C table of counts (zero rows/columns allowed)."""
    t = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return 1.0
    if t.shape[0] > t.shape[1]:
        t = t.T  # fewer rows = smaller node state
    # largest columns last: the early stages (where the frontier is small) have few allocations
    t = t[:, np.argsort(t.sum(axis=0), kind="stable")]
    rows = t.sum(axis=1).astype(np.int64)
    cols = t.sum(axis=0).astype(np.int64)
    n = int(rows.sum())
    n_cols = cols.size
    lf = gammaln(np.arange(n + 2, dtype=np.float64) + 1.0)
    const = float(lf[rows].sum() + lf[cols].sum() - lf[n])
    w_obs = -float(lf[t].sum())
    threshold = w_obs + math.log1p(_REL_ERR)
    # suffix sums over remaining columns
    col_rest_lf = np.concatenate((np.cumsum(lf[cols][::-1])[::-1], [0.0]))
    # frontier: one entry per (node state, past log-weight class)
    states = np.sort(rows)[None, :]
    past = np.zeros(1)
    weight = np.ones(1)
    total = 0.0
    for j in range(n_cols - 2):
        comps = _compositions(int(cols[j]), states.max(axis=0))
        wx = -lf[comps].sum(axis=1)
        rest_cols = cols[j + 1:]
        new_states: list[IntMatrix] = []
        new_past: list[FloatArray] = []
        new_weight: list[FloatArray] = []
        block = max(1, _CHUNK // max(comps.shape[0], 1))
        for start in range(0, states.shape[0], block):
            s = states[start:start + block]
            child = s[:, None, :] - comps[None, :, :]
            ok = (child >= 0).all(axis=2)
            ei, ci = np.nonzero(ok)
            child = np.sort(child[ei, ci], axis=1)
            cp = past[start:start + block][ei] + wx[ci]
            cw = weight[start:start + block][ei]
            # bounds on the completions of each child node
            remaining = child.sum(axis=1)
            log_total = lf[remaining] - lf[child].sum(axis=1) - col_rest_lf[j + 1]
            n_rest = rest_cols.size
            ub_rows = -_even_split_cost(child, np.full_like(child, n_rest), lf)
            live_rows = (child > 0).sum(axis=1)
            ub_cols = -_even_split_cost(
                np.broadcast_to(rest_cols, (child.shape[0], n_rest)),
                np.broadcast_to(live_rows[:, None], (child.shape[0], n_rest)),
                lf,
            )
            w_max = np.minimum(ub_rows, ub_cols)
            w_min = np.maximum(-lf[child].sum(axis=1), -col_rest_lf[j + 1])
            all_in = cp + w_max <= threshold
            if all_in.any():
                total += float(np.sum(cw[all_in] * np.exp(const + cp[all_in] + log_total[all_in])))
            keep = ~all_in & (cp + w_min <= threshold)
            new_states.append(child[keep])
            new_past.append(cp[keep])
            new_weight.append(cw[keep])
        states = np.concatenate(new_states) if new_states else np.zeros((0, rows.size), np.int64)
        past = np.concatenate(new_past) if new_past else np.zeros(0)
        weight = np.concatenate(new_weight) if new_weight else np.zeros(0)
        if states.shape[0] == 0:
            break
        # merge paths reaching the same node with the same past probability
        node = _row_codes(states)
        past_key = np.round(past * _MERGE_SCALE).astype(np.int64)
        if node is None:
            key = np.column_stack((states, past_key))
            uniq, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
            group, n_groups = inverse.ravel(), uniq.shape[0]
        else:
            order = np.lexsort((past_key, node))
            n_o, p_o = node[order], past_key[order]
            new = np.ones(order.size, dtype=np.bool_)
            new[1:] = (n_o[1:] != n_o[:-1]) | (p_o[1:] != p_o[:-1])
            first = order[new]
            group = np.empty(order.size, dtype=np.intp)
            group[order] = np.cumsum(new) - 1
            n_groups = first.size
        weight = np.asarray(
            np.bincount(group, weights=weight, minlength=n_groups), dtype=np.float64
        )
        states = states[first]
        past = past[first]
    if states.shape[0]:
        total += _last_two_columns(states, past, weight, cols[-2:], lf, const, threshold)
    return float(min(1.0, total))


def _row_codes(states: IntMatrix) -> npt.NDArray[np.int64] | None:
    """One int64 per row (mixed radix over the row maxima), so rows can be grouped with a 1-d
    sort instead of numpy's slow row-wise unique; None if the codes could overflow."""
    if states.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    base = states.max(axis=0).astype(np.float64) + 1.0
    if float(np.prod(base)) >= 2.0**62:
        return None
    radix = np.concatenate((np.cumprod(base[::-1])[::-1][1:], [1.0])).astype(np.int64)
    out: npt.NDArray[np.int64] = states.astype(np.int64) @ radix
    return out


def _last_two_columns(
    states: IntMatrix,
    past: FloatArray,
    weight: FloatArray,
    last_cols: IntMatrix,
    lf: FloatArray,
    const: float,
    threshold: float,
) -> float:
    """Sum the qualifying completions of nodes with two columns left, exactly.

    For each distinct node the completion log-weights are sorted once with their running sums of
    probability; every (past, weight) entry at that node then needs one binary search.
    """
    comps = _compositions(int(last_cols[0]), states.max(axis=0))
    wx = -lf[comps].sum(axis=1)
    node = _row_codes(states)
    if node is None:
        uniq, inverse = np.unique(states, axis=0, return_inverse=True)
        inverse = inverse.ravel()
    else:
        _, first, inverse = np.unique(node, return_index=True, return_inverse=True)
        uniq = states[first]
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(uniq.shape[0] + 1))
    total = 0.0
    for u in range(uniq.shape[0]):
        s = uniq[u]
        rest = s[None, :] - comps
        ok = (rest >= 0).all(axis=1)
        wf = np.sort(wx[ok] - lf[rest[ok]].sum(axis=1))
        top = wf[-1]
        cum = np.cumsum(np.exp(wf - top))
        idx = order[bounds[u]:bounds[u + 1]]
        k = np.searchsorted(wf, threshold - past[idx], side="right")
        hit = k > 0
        if hit.any():
            sel = idx[hit]
            total += float(
                np.sum(weight[sel] * np.exp(const + past[sel] + top) * cum[k[hit] - 1])
            )
    return total
