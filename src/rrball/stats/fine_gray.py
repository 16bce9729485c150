"""Fine-Gray proportional subdistribution hazards regression (Fine & Gray, JASA 1999).

The subdistribution hazard of the cause of interest is modelled as in a Cox model, but a patient
who failed from a competing cause stays in the risk set after that failure, with weight
G(t-)/G(X-) (G the Kaplan-Meier of the censoring distribution): inverse probability of censoring
weighting. exp(coef) are subdistribution hazard ratios (sHR): they describe the cumulative
incidence, not the cause-specific hazard. Tied event times: Breslow.

Variance: the sandwich I^-1 [sum_i (eta_i + psi_i)(eta_i + psi_i)'] I^-1 of Fine & Gray, where
eta_i is subject i's score residual and psi_i the extra term for having estimated G (its censoring
martingale, weighted by the score's sensitivity to G). Ties between censoring and events follow
``cmprsk::crr`` (a censoring at t counts as after the events at t), checked on its outputs.

Equivalent R: ``cmprsk::crr(ftime, fstatus, cov1 = X, failcode = cause, cencode = 0)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special as _special

from rrball._format import format_p, format_table
from rrball._result import ResultMixin, frozen_array, json_safe
from rrball._validate import BoolArray, FloatArray, as_time, check_conf_level, is_real
from rrball.errors import InputError
from rrball.stats._ci import z_value
from rrball.stats._design import model_matrix, positions_in
from rrball.stats._km_core import product_limit
from rrball.stats._newton import estimable_columns, maximise, safe_inverse
from rrball.stats._risk_sets import merge_near_ties
from rrball.stats.competing_risks import as_status
from rrball.stats.cox import TestStatistic

__all__ = ["FineGrayResult", "fine_gray"]


@dataclass(frozen=True, slots=True)
class _Setup:
    time: FloatArray
    status: npt.NDArray[np.int64]
    event: BoolArray  # cause of interest
    competing: BoolArray
    u: FloatArray  # distinct event times of the cause
    d: FloatArray  # events per time
    g_u: FloatArray  # censoring survival just before each event time
    g_x: FloatArray  # censoring survival just before each subject's time
    order: npt.NDArray[np.intp]  # subjects by time
    comp_order: npt.NDArray[np.intp]  # competing-event subjects by time
    ia: npt.NDArray[np.intp]  # first subject (time order) with time >= u_k
    ic: npt.NDArray[np.intp]  # competing subjects with time < u_k
    kx: npt.NDArray[np.intp]  # per subject: event times <= its time


def _setup(time: FloatArray, status: npt.NDArray[np.int64], cause: int) -> _Setup:
    n = time.size
    censored = status == 0
    km_c = product_limit(time, censored, np.zeros(n, dtype=np.intp), 1)

    def g_before(t: FloatArray) -> FloatArray:
        idx = np.searchsorted(km_c.time, t, side="left") - 1
        out: FloatArray = np.where(idx >= 0, km_c.surv[np.maximum(idx, 0)], 1.0)
        return out

    event = status == cause
    competing = (status > 0) & ~event
    u, d = np.unique(time[event], return_counts=True)
    order = np.argsort(time, kind="stable")
    comp = np.flatnonzero(competing)
    comp_order = comp[np.argsort(time[comp], kind="stable")]
    return _Setup(
        time=time, status=status, event=event, competing=competing, u=u,
        d=d.astype(np.float64), g_u=g_before(u), g_x=g_before(time), order=order,
        comp_order=comp_order,
        ia=np.searchsorted(time[order], u, side="left"),
        ic=np.searchsorted(time[comp_order], u, side="left"),
        kx=np.searchsorted(u, time, side="right"),
    )


def _rev_at(
    values: FloatArray, order: npt.NDArray[np.intp], idx: npt.NDArray[np.intp]
) -> FloatArray:
    ordered = values[order]
    rev = np.cumsum(ordered[::-1], axis=0)[::-1]
    out: FloatArray = np.concatenate([rev, np.zeros((1, *ordered.shape[1:]))])[idx]
    return out


def _cum0(values: FloatArray) -> FloatArray:
    out: FloatArray = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])
    return out


@dataclass(frozen=True, slots=True)
class _Eval:
    loglik: float
    score: FloatArray
    information: FloatArray
    v: FloatArray
    s0: FloatArray
    a: FloatArray


def _evaluate(s: _Setup, x: FloatArray, beta: FloatArray) -> _Eval:
    eta = x @ beta
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        v = np.exp(eta)
        wv = v[s.comp_order] / s.g_x[s.comp_order]
        s0 = _rev_at(v, s.order, s.ia) + s.g_u * _cum0(wv)[s.ic]
        s1 = _rev_at(x * v[:, None], s.order, s.ia) + s.g_u[:, None] * _cum0(
            wv[:, None] * x[s.comp_order])[s.ic]
        a = s1 / s0[:, None]
        loglik = float(eta[s.event].sum() - np.sum(s.d * np.log(s0)))
    score = x[s.event].sum(axis=0) - (s.d[:, None] * a).sum(axis=0)
    h = s.d / s0
    h_subject = _cum0(h)[s.kx]
    tail = _cum0(h * s.g_u)
    h_subject = h_subject + np.where(s.competing, (tail[-1] - tail[s.kx]) / s.g_x, 0.0)
    information = (x * (v * h_subject)[:, None]).T @ x - (a * s.d[:, None]).T @ a
    return _Eval(loglik, score, information, v, s0, a)


def _influence(s: _Setup, x: FloatArray, ev: _Eval) -> FloatArray:
    """eta_i + psi_i for every subject (they sum to the score)."""
    n = x.shape[0]
    h = s.d / ev.s0
    ha = h[:, None] * ev.a
    hg, hag = h * s.g_u, ha * s.g_u[:, None]
    cum_h, cum_ha, cum_hg, cum_hag = _cum0(h), _cum0(ha), _cum0(hg), _cum0(hag)
    comp = s.competing
    h_sub = cum_h[s.kx] + np.where(comp, (cum_hg[-1] - cum_hg[s.kx]) / s.g_x, 0.0)
    a_sub = cum_ha[s.kx] + np.where(comp[:, None], (cum_hag[-1] - cum_hag[s.kx]) / s.g_x[:, None],
                                    0.0)
    resid = -ev.v[:, None] * (x * h_sub[:, None] - a_sub)
    ke = np.searchsorted(s.u, s.time[s.event])
    resid[s.event] += x[s.event] - ev.a[ke]
    # psi: sensitivity of the score to the censoring hazard at each censoring time c
    censored = s.status == 0
    if not censored.any():
        return resid
    cu, n_cens = np.unique(s.time[censored], return_counts=True)
    at_risk = n - np.searchsorted(np.sort(s.time), cu, side="left")
    kc = np.searchsorted(s.u, cu, side="left")  # event times at or after c
    b0 = cum_hg[-1] - cum_hg[kc]
    b1 = cum_hag[-1] - cum_hag[kc]
    wv = ev.v[s.comp_order] / s.g_x[s.comp_order]
    jc = np.searchsorted(s.time[s.comp_order], cu, side="left")  # competing failures before c
    q = b0[:, None] * _cum0(wv[:, None] * x[s.comp_order])[jc] - b1 * _cum0(wv)[jc][:, None]
    qy = q / at_risk[:, None]
    compensator = _cum0(qy * (n_cens / at_risk)[:, None])
    psi = -compensator[np.searchsorted(cu, s.time, side="right")]
    psi[censored] += qy[np.searchsorted(cu, s.time[censored])]
    out: FloatArray = resid + psi
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class FineGrayResult(ResultMixin):
    """A fitted Fine-Gray model.

    ``table`` columns: ``term, coef, exp_coef, se, z, p_value, lower, upper`` (sandwich SE; CI
    of the subdistribution hazard ratio on the exp scale). ``loglik`` = (null, fitted) log
    pseudo-partial likelihood; ``tests["likelihood_ratio"]`` the pseudo likelihood-ratio test.
    """

    cause: int
    terms: tuple[str, ...]
    coef: FloatArray
    var: FloatArray
    loglik: tuple[float, float]
    tests: Mapping[str, TestStatistic]
    n: int
    n_events: int
    n_competing: int
    iterations: int
    converged: bool
    conf_level: float
    method: Mapping[str, object]
    warnings: tuple[str, ...]
    references: Mapping[str, object]
    _table: pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return dict(json_safe({
            "cause": self.cause, "table": self._table.to_dict(orient="list"),
            "var": self.var.tolist(), "loglik": list(self.loglik),
            "n": self.n, "n_events": self.n_events, "n_competing": self.n_competing,
            "converged": self.converged, "method": dict(self.method),
            "warnings": list(self.warnings),
        }))

    def summary(self) -> str:
        pct = f"{round(self.conf_level * 100)}%"
        rows = [[str(r.term), f"{r.coef:.4g}", f"{r.exp_coef:.4g}", f"{r.se:.4g}", f"{r.z:.3f}",
                 format_p(r.p_value), f"{r.lower:.4g}", f"{r.upper:.4g}"]
                for r in self._table.itertuples()]
        lr = self.tests["likelihood_ratio"]
        lines = [
            f"Fine-Gray competing-risks regression for cause {self.cause}",
            f"  n = {self.n}; events of cause {self.cause}: {self.n_events}; competing events: "
            f"{self.n_competing}",
            "",
            format_table(["", "coef", "sHR", "se(coef)", "z", "p", f"lower {pct}", f"upper {pct}"],
                         rows),
            "",
            f"Pseudo log-likelihood = {self.loglik[1]:.4g}; pseudo likelihood ratio test = "
            f"{lr.statistic:.2f} on {lr.df} df, p = {format_p(lr.p_value)}",
        ]
        for col, ref in self.references.items():
            lines.append(f"Reference level of {col}: {ref!r}")
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"FineGrayResult(cause={self.cause}, terms={len(self.terms)}, n={self.n}, "
                f"converged={self.converged})")


def fine_gray(
    data: pd.DataFrame,
    *,
    time: str,
    status: str,
    cause: int,
    covariates: str | Sequence[str],
    conf_level: float = 0.95,
    timefix: bool = True,
    max_iter: int = 100,
) -> FineGrayResult:
    """Fit a Fine-Gray subdistribution hazards model for ``cause``.

    Parameters
    ----------
    data:
        One row per patient.
    time, status:
        Column names: follow-up time and status (0 = censored, 1, 2, ... = cause).
    cause:
        The cause of interest (e.g. 1 = relapse); every other non-zero code competes.
    covariates:
        Column names or an additive right-hand side; text columns become treatment contrasts.
    timefix:
        Merge floating-point near ties first (default, as R survival; reported in
        ``warnings``). ``cmprsk`` itself does not merge them: pass ``timefix=False`` to reproduce
        cmprsk on data whose times differ only by rounding.
    """
    level = check_conf_level(conf_level)
    if not isinstance(data, pd.DataFrame):
        raise InputError("data", "must be a pandas DataFrame")
    for col, arg in ((time, "time"), (status, "status")):
        if not isinstance(col, str) or col not in data.columns:
            raise InputError(arg, f"{col!r} is not a column of data")
    design = model_matrix(data, covariates, required=[time, status])
    warnings: list[str] = []
    if design.dropped.size:
        warnings.append(f"{design.dropped.size} row(s) with missing values dropped")
    sub = data.iloc[design.kept]
    with positions_in(design.kept):
        t = as_time(sub[time], time)
        st = as_status(sub[status], t.size, status)
    if np.any(st < 0):
        raise InputError(status, "codes must be >= 0 (0 = censored)", np.flatnonzero(st < 0))
    if not is_real(cause) or float(cause) != round(float(cause)) or not np.any(st == cause):
        raise InputError("cause", f"{cause!r} does not occur in {status}")
    cause = int(cause)
    if timefix:
        fixed = merge_near_ties(t)
        t = fixed.arrays[0]
        if (note := fixed.note()) is not None:
            warnings.append(note)
    xc = design.matrix - design.matrix.mean(axis=0)
    est, aliased = estimable_columns(xc, design.columns)
    if aliased:
        warnings.append(f"collinear or constant column(s) {aliased!r}: not estimable (NaN)")
    if est.size == 0:
        raise InputError(
            "covariates", "no estimable column: every covariate is constant or collinear"
        )
    x = xc[:, est]
    s = _setup(t, st, int(cause))
    ev0 = _evaluate(s, x, np.zeros(x.shape[1]))
    outcome, cur = maximise(lambda b: _evaluate(s, x, b), x.shape[1], max_iter)
    beta, iterations, converged = outcome.beta, outcome.iterations, outcome.converged
    if outcome.note:
        warnings.append(outcome.note)
    infinite_est = np.zeros(beta.size, dtype=np.bool_)
    infinite_est[outcome.drifting] = True
    if infinite_est.any():
        names = [design.columns[est[j]] for j in outcome.drifting]
        warnings.append(
            f"coefficient(s) {names!r} may be infinite (monotone pseudo-likelihood, e.g. no "
            f"events of cause {cause} in a category): not converged; their SEs, tests and CIs "
            "are not reported"
        )
    inv_info = safe_inverse(cur.information)
    p_full = design.matrix.shape[1]
    var = np.full((p_full, p_full), np.nan)
    if inv_info is not None:
        infl = _influence(s, x, cur)
        var[np.ix_(est, est)] = inv_info @ (infl.T @ infl) @ inv_info
    coef = np.full(p_full, np.nan)
    coef[est] = beta
    infinite = np.zeros(p_full, dtype=np.bool_)
    infinite[est] = infinite_est
    se = np.sqrt(np.diag(var))
    se[infinite] = np.nan
    z = coef / se
    zq = z_value(level)
    with np.errstate(over="ignore"):
        table = pd.DataFrame({
            "term": list(design.columns), "coef": coef, "exp_coef": np.exp(coef), "se": se,
            "z": z, "p_value": 2.0 * _special.ndtr(-np.abs(z)),
            "lower": np.exp(coef - zq * se), "upper": np.exp(coef + zq * se),
            "infinite": infinite,
        })
    beta = coef
    lr = 2.0 * (cur.loglik - ev0.loglik)
    df = int(est.size)
    tests = MappingProxyType({"likelihood_ratio": TestStatistic(
        float(lr), df, float(_special.chdtrc(df, lr)))})
    method = MappingProxyType({
        "model": "fine-gray subdistribution hazards",
        "ties": "breslow",
        "variance": "sandwich with censoring-distribution correction (fine & gray 1999)",
        "ci": "Wald, exp scale",
        "conf_level": level,
        "timefix": timefix,
        "r_call": f"cmprsk::crr({time}, {status}, cov1 = model.matrix(~ "
        + " + ".join(dict.fromkeys(design.assign)) + f")[, -1], failcode = {cause}, "
        "gtol = 1e-12)",
    })
    return FineGrayResult(
        cause=int(cause), terms=design.columns, coef=frozen_array(beta), var=frozen_array(var),
        loglik=(ev0.loglik, cur.loglik), tests=tests, n=int(t.size),
        n_events=int(s.event.sum()), n_competing=int(s.competing.sum()),
        iterations=iterations, converged=converged, conf_level=level, method=method,
        warnings=tuple(warnings), references=MappingProxyType(dict(design.references)),
        _table=table,
    )
