"""Event times for synthetic cohorts and their calibration (data-dictionary.md §8 rule 3).

Model, in days from t0 (every patient is alive at day ``MIN_ALIVE`` so the response
assessment exists):

* non-responders die at ``MIN_ALIVE + T``, ``T`` piecewise exponential (rate ``lam_nr``, times
  ``exp(shape)`` after ``BREAK`` days);
* responders have a first event (relapse or non-relapse death) at ``start + T``, ``T`` piecewise
  exponential with rate ``lam_e`` (``start`` = response date, or 30 days after an HSCT, which
  they therefore survive); it is a relapse with probability ``p_rel``, followed by death after an
  exponential time with rate ``lam_post``;
* censoring: the administrative follow-up of the design (data cut-off, cap) and an optional
  loss-to-follow-up hazard.

The hazards are log-linear in a parameter vector θ per profile. ``calibrate`` chooses θ so that
the EXPECTED Kaplan–Meier (or Aalen–Johansen) estimate at each target time, over many seeds with
the profile's own allocation and censoring, equals the published value (least squares when a
seed's targets are not jointly feasible). Uniform draws are fixed per seed (common random
numbers), so the same θ gives the same cohort.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares

__all__ = ["BREAK", "MIN_ALIVE", "Hazards", "Target", "Times", "batch_curve", "calibrate",
           "draw_uniforms", "evaluate", "simulate_times"]

FArr = npt.NDArray[np.float64]
BArr = npt.NDArray[np.bool_]
IArr = npt.NDArray[np.int64]
MIN_ALIVE = 40
BREAK = 365.0
DPM = 30.4375


@dataclass(frozen=True, slots=True)
class Hazards:
    """Per-patient daily hazards of the model (see module docstring)."""

    lam_nr: FArr
    lam_e: FArr
    lam_post: FArr
    p_rel: FArr
    shape: float
    ltfu: float  # daily loss-to-follow-up hazard (0 = none)


@dataclass(frozen=True, slots=True)
class Times:
    """Integer days from t0; ``inf`` = does not happen."""

    death: FArr
    relapse: FArr
    last_contact: FArr
    dead: BArr


@dataclass(frozen=True, slots=True)
class Target:
    """A published estimate. ``kind``: ``OS``, ``DFS``, ``CRDUR``, ``CIR`` (cumulative incidence),
    ``LM`` (landmark OS of ``group`` responders by HSCT ≤ ``landmark``; ``group`` selects the
    HSCT arm when ``hsct`` is True) or ``FUMED`` (median crude observation, days)."""

    id: str
    kind: str
    group: Callable[[Mapping[str, npt.NDArray[np.generic]]], BArr]
    months: float
    value: float
    landmark_days: float = 0.0
    hsct: bool | None = None
    weight: float = 1.0


def draw_uniforms(rng: np.random.Generator, n: int) -> FArr:
    """Four uniforms per patient (event time, event type, post-relapse time, loss)."""
    return rng.random((4, n))


def _pwexp(u: FArr, rate: FArr, shape: float) -> FArr:
    h = -np.log(np.maximum(u, 1e-300))
    h1 = rate * BREAK
    late = BREAK + (h - h1) / (rate * np.exp(shape))
    return np.where(h < h1, h / rate, late)


def simulate_times(hz: Hazards, u: FArr, resp: BArr, resp_day: FArr, hsct: BArr,
                   hsct_day: FArr, follow: FArr) -> Times:
    """Event and last-contact days (integers as floats) for one or many cohorts."""
    start = np.where(hsct, hsct_day + 30, np.maximum(resp_day, MIN_ALIVE))
    e = np.floor(start + _pwexp(u[0], np.where(resp, hz.lam_e, hz.lam_nr), hz.shape))
    nr_death = np.floor(MIN_ALIVE + _pwexp(u[0], hz.lam_nr, hz.shape))
    is_rel = resp & (u[1] < hz.p_rel)
    post = np.floor(1 - np.log(np.maximum(u[2], 1e-300)) / hz.lam_post)
    death = np.where(resp, np.where(is_rel, e + post, e), nr_death)
    relapse = np.where(is_rel, e, np.inf)
    cens = follow.copy()
    if hz.ltfu > 0:
        loss = np.floor(MIN_ALIVE - np.log(np.maximum(u[3], 1e-300)) / hz.ltfu)
        loss = np.where(hsct, np.maximum(loss, hsct_day + 31), loss)  # HSCT is known
        cens = np.minimum(cens, loss)
    dead = death <= cens
    return Times(death, relapse, np.where(dead, death, cens), dead)


def batch_curve(strata: IArr, time: FArr, event: BArr, t: float,
                cause1: BArr | None = None) -> tuple[FArr, BArr]:
    """Kaplan–Meier survival (or, with ``cause1``, the Aalen–Johansen cumulative incidence of
    cause 1) at ``t`` for every stratum at once. Returns (estimate, estimable) per stratum;
    estimable = someone was observed up to ``t``."""
    k = int(strata.max()) + 1 if len(strata) else 0
    order = np.lexsort((~event, time, strata))
    s, tm, ev = strata[order], time[order], event[order]
    end = np.searchsorted(s, s, side="right")
    at_risk = end - np.arange(len(s))
    use = ev & (tm <= t)
    logs = np.where(use, np.log(np.maximum(1.0 - 1.0 / at_risk, 1e-300)), 0.0)
    seen = np.bincount(s, weights=(tm >= t).astype(float), minlength=k) > 0
    surv = np.exp(np.bincount(s, weights=logs, minlength=k))
    surv = np.where(surv < 1e-250, 0.0, surv)
    if cause1 is None:
        return surv, seen | (surv == 0)
    c1 = cause1[order]
    cum = np.cumsum(logs)
    first = np.searchsorted(s, s, side="left")
    before = cum - logs - np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    contrib = np.where(use & c1, np.exp(before) / at_risk, 0.0)
    cif: FArr = np.bincount(s, weights=contrib, minlength=k).astype(np.float64)
    return cif, seen | (surv == 0)


def evaluate(targets: Sequence[Target], attrs: Mapping[str, npt.NDArray[np.generic]],
             tm: Times, rep: IArr, n_rep: int) -> FArr:
    """Mean over replicates of each target's estimate (percent; days for ``FUMED``)."""
    resp = np.asarray(attrs["resp"], dtype=bool)
    r0 = np.asarray(attrs["resp_day"], dtype=float)
    hsct = np.asarray(attrs["hsct"], dtype=bool)
    hday = np.asarray(attrs["hsct_day"], dtype=float)
    lc = tm.last_contact
    out = np.empty(len(targets))
    for i, tg in enumerate(targets):
        g = tg.group(attrs)
        t = tg.months * DPM
        if tg.kind == "FUMED":
            vals = [np.median(lc[g & (rep == r)]) for r in range(n_rep)]
            out[i] = float(np.mean(vals))
            continue
        if tg.kind == "OS":
            sel, time, ev, c1 = g, lc, tm.dead, None
        elif tg.kind == "LM":
            L = tg.landmark_days
            sel = g & resp & (lc > L) & (tm.relapse > L)
            grp = hsct & (hday <= L)
            sel &= grp if tg.hsct else ~grp
            time, ev, c1 = lc - L, tm.dead, None
        else:
            first = np.minimum(tm.relapse, tm.death)
            sel = g & resp
            time = np.minimum(first, lc) - r0
            if tg.kind == "DFS":
                ev, c1 = first <= lc, None
            elif tg.kind == "CRDUR":
                ev, c1 = tm.relapse <= lc, None
            else:  # CIR
                ev, c1 = first <= lc, np.isfinite(tm.relapse) & (tm.relapse <= lc)
        est, ok = batch_curve(rep[sel], time[sel], ev[sel], t, None if c1 is None else c1[sel])
        est = est[:n_rep] if len(est) >= n_rep else np.pad(est, (0, n_rep - len(est)))
        ok = ok[:n_rep] if len(ok) >= n_rep else np.pad(ok, (0, n_rep - len(ok)))
        out[i] = 100 * float(np.mean(est[ok])) if ok.any() else np.nan
    return out


def calibrate(theta0: Sequence[float],
              hazards: Callable[[FArr, Mapping[str, npt.NDArray[np.generic]]], Hazards],
              targets: Sequence[Target], attrs: Mapping[str, npt.NDArray[np.generic]],
              u: FArr, rep: IArr, n_rep: int) -> tuple[FArr, FArr]:
    """Least-squares θ (log hazards) so that the mean estimates meet ``targets``.
    ``attrs`` and ``u`` hold ``n_rep`` stacked cohorts (common random numbers)."""
    resp = np.asarray(attrs["resp"], dtype=bool)
    args = (resp, np.asarray(attrs["resp_day"], float), np.asarray(attrs["hsct"], bool),
            np.asarray(attrs["hsct_day"], float), np.asarray(attrs["follow"], float))
    goal = np.array([tg.value for tg in targets])
    w = np.array([tg.weight for tg in targets])
    scale = np.array([50.0 if tg.kind == "FUMED" else 1.0 for tg in targets])

    def resid(th: FArr) -> FArr:
        tm = simulate_times(hazards(th, attrs), u, *args)
        r = (evaluate(targets, attrs, tm, rep, n_rep) - goal) / scale * w
        out: FArr = np.nan_to_num(r, nan=50.0)
        return out

    fit: Any = least_squares(resid, np.asarray(theta0, float), diff_step=0.02, xtol=1e-6,
                        ftol=1e-8, max_nfev=200)
    tm = simulate_times(hazards(fit.x, attrs), u, *args)
    x: FArr = np.asarray(fit.x, dtype=np.float64)
    return x, evaluate(targets, attrs, tm, rep, n_rep)
