"""Newton-Raphson for the partial likelihoods (Cox, Fine-Gray), with the safeguards users need:
step halving, aliased (collinear) columns, coefficients drifting to infinity (monotone likelihood),
and a singular information matrix — reported, never a traceback or a silent number."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from rrball._validate import FloatArray, IntArray

__all__ = ["NewtonOutcome", "estimable_columns", "maximise", "safe_inverse"]


class Evaluated(Protocol):
    @property
    def loglik(self) -> float: ...
    @property
    def score(self) -> FloatArray: ...
    @property
    def information(self) -> FloatArray: ...


def estimable_columns(x: FloatArray, names: Sequence[str]) -> tuple[IntArray, list[str]]:
    """Columns kept in order while each adds rank (a later column loses, as R); and the names of
    the aliased ones. Columns are scaled to unit max first; constant columns (after centring) are
    aliased with the baseline."""
    n = x.shape[0]
    scale = np.abs(x).max(axis=0) if n else np.ones(x.shape[1])
    keep: list[int] = []
    for j in range(x.shape[1]):
        if scale[j] == 0:
            continue
        trial = [*keep, j]
        rank = np.linalg.matrix_rank(x[:, trial] / scale[trial], tol=1e-7 * np.sqrt(n))
        if rank == len(trial):
            keep.append(j)
    aliased = [names[j] for j in range(x.shape[1]) if j not in keep]
    return np.asarray(keep, dtype=np.intp), aliased


def _solve(information: FloatArray, score: FloatArray) -> FloatArray | None:
    if not (np.all(np.isfinite(information)) and np.all(np.isfinite(score))):
        return None
    try:
        out = np.linalg.solve(information, score)
    except np.linalg.LinAlgError:
        return None
    return np.asarray(out, dtype=np.float64) if np.all(np.isfinite(out)) else None


def safe_inverse(information: FloatArray) -> FloatArray | None:
    """Inverse of the information, or None when it is singular or not finite."""
    if not np.all(np.isfinite(information)):
        return None
    try:
        inv = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(inv)) or np.any(np.diag(inv) <= 0):
        return None
    return np.asarray(inv, dtype=np.float64)


E = TypeVar("E", bound=Evaluated)


@dataclass(frozen=True, slots=True)
class NewtonOutcome:
    beta: FloatArray
    iterations: int
    converged: bool
    drifting: IntArray  # coefficients still moving when the likelihood stopped changing
    note: str | None


def maximise(
    evaluate: Callable[[FloatArray], E], p: int, max_iter: int
) -> tuple[NewtonOutcome, E]:
    """Maximise from beta = 0. Converged when the log-likelihood changes by < 1e-13 (relative)
    or the step is negligible; one more Newton step from there is exact to rounding."""
    beta: FloatArray = np.zeros(p)
    cur = evaluate(beta)
    last: FloatArray = np.zeros(p)
    for it in range(1, max_iter + 1):
        step = _solve(cur.information, cur.score)
        if step is None:
            return NewtonOutcome(beta, it, False, np.arange(p, dtype=np.intp),
                                 "the information matrix became singular (monotone likelihood: "
                                 "a coefficient is running to infinity)"), cur
        new_beta = beta + step
        new = evaluate(new_beta)
        halvings = 0
        while (not np.isfinite(new.loglik) or new.loglik < cur.loglik - 1e-12 * abs(cur.loglik)) \
                and halvings < 40:
            new_beta = (beta + new_beta) / 2.0
            new = evaluate(new_beta)
            halvings += 1
        change = abs(new.loglik - cur.loglik)
        beta, cur, last = new_beta, new, step
        small_step = np.max(np.abs(step), initial=0.0) <= 1e-9 * (1.0 + np.max(np.abs(beta),
                                                                               initial=0.0))
        if change <= 1e-13 * max(1.0, abs(cur.loglik)) or small_step:
            final = _solve(cur.information, cur.score)
            if final is None:
                drift = np.arange(p, dtype=np.intp)
                return NewtonOutcome(beta, it, False, drift,
                                     "the information matrix is singular at the solution"), cur
            trial = evaluate(beta + final)
            if np.isfinite(trial.loglik) and trial.loglik >= cur.loglik - 1e-12 * abs(cur.loglik):
                beta, cur = beta + final, trial
            drift = np.flatnonzero(np.abs(final) > 1e-4 * np.maximum(1.0, np.abs(beta)))
            return NewtonOutcome(beta, it, drift.size == 0, drift.astype(np.intp), None), cur
    drift = np.flatnonzero(np.abs(last) > 1e-4 * np.maximum(1.0, np.abs(beta)))
    return NewtonOutcome(beta, max_iter, False, drift.astype(np.intp),
                         f"did not converge in {max_iter} iterations"), cur
