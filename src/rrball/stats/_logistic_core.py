"""Numerical core of binary logistic regression: Newton/IRLS, Firth's penalised likelihood,
profile-likelihood limits, design matrices and the separation check.

Pure numpy/scipy; the public wrapper is ``rrball.stats.logistic``. The Newton iteration of a
canonical-link binomial GLM is Fisher scoring, i.e. exactly R's IRLS; it is solved on the
information matrix X'WX (Cholesky on the column-equilibrated matrix) rather than by a QR of
sqrt(W) X, which gives the same fixed point at a fraction of the cost for large n.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import linalg as _linalg
from scipy import optimize as _optimize
from scipy import special as _special
from scipy.linalg import lapack as _lapack

from rrball.errors import InputError

FloatArray = npt.NDArray[np.float64]

# R's glm.control(epsilon = 1e-15): |dev - dev_old| / (|dev| + 0.1) < epsilon; rrball also stops
# once the Newton step is below 1e-12 (relative), then the estimates are at machine precision.
EPSILON = 1e-15
MAXIT = 100


@dataclass(frozen=True, slots=True)
class Design:
    """Model matrix with R's column names and the columns of each covariate (term)."""

    X: FloatArray
    names: tuple[str, ...]
    term_columns: dict[str, tuple[int, ...]]
    references: dict[str, Hashable]


def build_design(frame: pd.DataFrame, covariates: Sequence[str]) -> Design:
    """Intercept + numeric columns as they are + categorical columns dummy-coded against their
    first level (sorted order, or the categorical's own order): R's treatment contrasts, named
    ``<column><level>`` as R names them (``sexM``)."""
    cols: list[FloatArray] = [np.ones(len(frame))]
    names = ["(Intercept)"]
    term_columns: dict[str, tuple[int, ...]] = {}
    references: dict[str, Hashable] = {}
    for cov in covariates:
        s = frame[cov]
        if s.dtype == np.bool_:
            cols.append(s.to_numpy(dtype=np.float64))
            names.append(f"{cov}TRUE")
            term_columns[cov] = (len(names) - 1,)
            references[cov] = False
        elif s.dtype.kind in "iuf" and not isinstance(s.dtype, pd.CategoricalDtype):
            cols.append(s.to_numpy(dtype=np.float64))
            names.append(str(cov))
            term_columns[cov] = (len(names) - 1,)
        else:
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lv for lv in s.cat.categories if (s == lv).any()]
            else:
                try:
                    levels = sorted(pd.unique(s))
                except TypeError as exc:
                    raise InputError(
                        "covariates", f"column {cov!r} mixes label types that cannot be sorted; "
                        "make it a pandas Categorical with the reference level first"
                    ) from exc
            if len(levels) < 2:
                raise InputError("covariates", f"column {cov!r} has a single level {levels!r}")
            references[cov] = levels[0]
            idx = []
            values = s.to_numpy()
            for lv in levels[1:]:
                cols.append((values == lv).astype(np.float64))
                names.append(f"{cov}{lv}")
                idx.append(len(names) - 1)
            term_columns[cov] = tuple(idx)
    X = np.column_stack(cols)
    return Design(X=X, names=tuple(names), term_columns=term_columns, references=references)


def check_rank(design: Design) -> None:
    """Refuse aliased columns. Pivoted Cholesky of the column-scaled Gram matrix X'X (p x p, one
    BLAS pass over the data) instead of a QR of the n x p matrix: same verdict, far cheaper."""
    X = design.X
    scale = np.sqrt((X * X).sum(axis=0))
    scale[scale == 0] = 1.0
    xs = X / scale
    gram = xs.T @ xs
    # a pivot below 1e-13 of the unit diagonal = a column whose residual, after the others, has
    # under ~3e-7 of its length: R's glm QR tolerance (1e-7) on the Gram matrix's square scale
    _, piv, rank, _ = _lapack.dpstrf(gram, tol=1e-13)
    rank = int(rank)
    if rank < X.shape[1]:
        aliased = [design.names[i] for i in sorted(int(j) - 1 for j in piv[rank:])]
        raise InputError(
            "covariates",
            f"the model matrix is rank deficient: {aliased} are linear combinations of the other "
            "columns (constant or collinear covariates); R would report NA for them — drop them",
        )


def _loglik(eta: FloatArray, y: FloatArray) -> float:
    # log L = sum y*eta - log(1 + exp(eta)), computed stably
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def _expit(eta: FloatArray) -> FloatArray:
    return np.asarray(_special.expit(eta), dtype=np.float64)


def _info_solve(X: FloatArray, w: FloatArray, rhs: FloatArray) -> FloatArray:
    """Solve (X'WX) d = rhs: Jacobi equilibration + Cholesky (lstsq if not positive definite)."""
    H = (X * w[:, None]).T @ X
    d = np.sqrt(np.diag(H))
    d[d == 0] = 1.0
    Hs = H / np.outer(d, d)
    try:
        c = _linalg.cho_factor(Hs, check_finite=False)
        return np.asarray(_linalg.cho_solve(c, rhs / d, check_finite=False) / d)
    except _linalg.LinAlgError:
        return np.asarray(np.linalg.lstsq(Hs, rhs / d, rcond=None)[0] / d)


def information_inverse(X: FloatArray, w: FloatArray) -> FloatArray:
    H = (X * w[:, None]).T @ X
    d = np.sqrt(np.diag(H))
    d[d == 0] = 1.0
    Hs = H / np.outer(d, d)
    try:
        inv = _linalg.cho_solve(_linalg.cho_factor(Hs, check_finite=False), np.eye(H.shape[0]))
    except _linalg.LinAlgError:
        inv = np.linalg.pinv(Hs)
    return np.asarray(inv / np.outer(d, d))


@dataclass(frozen=True, slots=True)
class Fit:
    beta: FloatArray
    eta: FloatArray
    loglik: float
    iterations: int
    converged: bool


def fit_ml(
    X: FloatArray,
    y: FloatArray,
    offset: FloatArray | None = None,
    start: FloatArray | None = None,
    maxit: int = MAXIT,
) -> Fit:
    """Maximum likelihood by Newton-Raphson (= IRLS / Fisher scoring for the logit link)."""
    n, p = X.shape
    off = np.zeros(n) if offset is None else offset
    if p == 0:
        eta = off.copy()
        return Fit(np.zeros(0), eta, _loglik(eta, y), 0, True)
    if start is None:
        # R's binomial()$initialize: mu = (y + 0.5) / 2, eta = logit(mu); one weighted LS step
        mu = (y + 0.5) / 2.0
        eta0 = np.log(mu / (1.0 - mu))
        w0 = mu * (1.0 - mu)
        beta = _info_solve(X, w0, X.T @ (w0 * (eta0 - off)))
    else:
        beta = start.copy()
    eta = X @ beta + off
    dev_old = -2.0 * _loglik(eta, y)
    converged = False
    it = 0
    for it in range(1, maxit + 1):  # noqa: B007 - the count is reported
        mu = _expit(eta)
        w = mu * (1.0 - mu)
        step = _info_solve(X, w, X.T @ (y - mu))
        new_beta = beta + step
        eta = X @ new_beta + off
        dev = -2.0 * _loglik(eta, y)
        # step halving when a full Newton step overshoots (far starts, e.g. profile points);
        # it never triggers near the optimum, so the fixed point is R's
        halvings = 0
        while dev > dev_old * (1 + 1e-12) + 1e-12 and halvings < 30:
            step = step / 2.0
            new_beta = beta + step
            eta = X @ new_beta + off
            dev = -2.0 * _loglik(eta, y)
            halvings += 1
        beta = new_beta
        small_step = bool(np.all(np.abs(step) <= 1e-12 * np.maximum(np.abs(beta), 1.0)))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < EPSILON or small_step:
            converged = True
            break
        dev_old = dev
    return Fit(beta, eta, _loglik(eta, y), it, converged)


def hat_values(X: FloatArray, w: FloatArray) -> FloatArray:
    """Diagonal of W^1/2 X (X'WX)^-1 X' W^1/2."""
    inv = information_inverse(X, w)
    return np.asarray(np.einsum("ij,jk,ik->i", X, inv, X) * w)


def penalized_loglik(X: FloatArray, y: FloatArray, beta: FloatArray) -> float:
    eta = X @ beta
    mu = _expit(eta)
    w = mu * (1.0 - mu)
    sign, logdet = np.linalg.slogdet((X * w[:, None]).T @ X)
    if sign <= 0:
        return -math.inf
    return _loglik(eta, y) + 0.5 * float(logdet)


def fit_firth(
    X: FloatArray,
    y: FloatArray,
    fixed: tuple[int, float] | None = None,
    start: FloatArray | None = None,
    maxit: int = 200,
) -> Fit:
    """Firth's penalised likelihood (Jeffreys prior) = brglm2 ``type = "AS_mean"`` for the logit
    link: solve X'(y - mu + h (1/2 - mu)) = 0 by quasi-Newton steps on the Fisher information,
    halving a step when it lowers the penalised log-likelihood. ``fixed = (j, b)`` holds
    coefficient j at b (for the profile penalised likelihood; the penalty keeps the full X)."""
    p = X.shape[1]
    beta = np.zeros(p) if start is None else start.copy()
    if fixed is not None:
        beta[fixed[0]] = fixed[1]
    free = np.ones(p, dtype=bool)
    if fixed is not None:
        free[fixed[0]] = False
    Xf = X[:, free]
    current = penalized_loglik(X, y, beta)
    converged = False
    it = 0
    for it in range(1, maxit + 1):  # noqa: B007
        eta = X @ beta
        mu = _expit(eta)
        w = mu * (1.0 - mu)
        h = hat_values(X, w)
        score = Xf.T @ (y - mu + h * (0.5 - mu))
        step = _info_solve(Xf, w, score)
        lam = 1.0
        for _ in range(30):
            trial = beta.copy()
            trial[free] += lam * step
            value = penalized_loglik(X, y, trial)
            if value >= current - 1e-12 * abs(current):
                break
            lam /= 2.0
        beta = trial
        current = value
        if np.all(np.abs(lam * step) <= 1e-11 * np.maximum(np.abs(beta[free]), 1.0)):
            converged = True
            # one more full step at the solution brings the score to rounding level
            eta = X @ beta
            mu = _expit(eta)
            w = mu * (1.0 - mu)
            h = hat_values(X, w)
            beta[free] += _info_solve(Xf, w, Xf.T @ (y - mu + h * (0.5 - mu)))
            break
    eta = X @ beta
    return Fit(beta, eta, _loglik(eta, y), it, converged)


def profile_limits(
    objective: Callable[[float], float],
    estimate: float,
    se: float,
    critical: float,
) -> tuple[float, float]:
    """Roots of objective(b) = critical on each side of the estimate (objective(estimate) = 0,
    increasing away from it). NaN when a side never reaches the critical value (e.g. under
    separation the profile flattens out)."""

    def side(direction: float) -> float:
        step = max(se, 1e-8) if math.isfinite(se) and se > 0 else 1.0
        a, fa = estimate, -critical
        b = estimate + direction * 2.0 * step
        for _ in range(60):
            fb = objective(b) - critical
            if not math.isfinite(fb):
                return math.nan
            if fb > 0:
                root = _optimize.brentq(
                    lambda t: objective(t) - critical, min(a, b), max(a, b),
                    xtol=1e-13, rtol=1e-15, maxiter=200,
                )
                return float(root)
            if fb <= fa + 1e-10 and abs(b - estimate) > 50 * step:
                return math.nan  # flat profile: no finite limit on this side
            a, fa = b, fb
            b = estimate + direction * (abs(b - estimate) * 1.6)
        return math.nan

    return side(-1.0), side(1.0)


def detect_separation(X: FloatArray, y: FloatArray) -> tuple[str | None, tuple[int, ...]]:
    """Linear-programming check for (quasi-)complete separation (Konis 2007; the idea of R's
    detectseparation): a direction b != 0 with (2y - 1) x_i'b >= 0 for every i exists iff the
    ML estimate is infinite. Returns the kind (``"complete"``, ``"quasi-complete"`` or None) and
    the columns with an infinite estimate (those non-zero in some such direction)."""
    s = 2.0 * y - 1.0
    scale = np.abs(X).max(axis=0)
    scale[scale == 0] = 1.0
    A = (X / scale) * s[:, None]
    n, p = A.shape
    bounds = [(-1.0, 1.0)] * p
    a_ub = -A
    b_ub = np.zeros(n)
    tol = 1e-7
    res = _optimize.linprog(-A.sum(axis=0), A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0 or -res.fun <= tol * n:
        return None, ()
    infinite: list[int] = []
    for j in range(p):
        for sign in (1.0, -1.0):
            c = np.zeros(p)
            c[j] = -sign
            r = _optimize.linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
            if r.status == 0 and -r.fun > tol:
                infinite.append(j)
                break
    # complete separation: a direction with every (2y-1) x_i'b strictly positive
    c = np.zeros(p + 1)
    c[-1] = -1.0
    a2 = np.column_stack((-A, np.ones(n)))
    r2 = _optimize.linprog(c, A_ub=a2, b_ub=b_ub, bounds=[*bounds, (None, 1.0)], method="highs")
    kind = "complete" if (r2.status == 0 and -r2.fun > tol) else "quasi-complete"
    return kind, tuple(infinite)
