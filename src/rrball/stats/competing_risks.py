"""Cumulative incidence of competing events (Aalen-Johansen) with Gray's variance.

With competing events (relapse vs death in remission = non-relapse mortality), 1 - Kaplan-Meier of
one cause over-states its probability; the cumulative incidence F_c(t) = sum over event times
t_j <= t of S(t_j-) d_cj / n_j (S the all-cause Kaplan-Meier) does not. Deterministic at tied
times: all events at a time are counted together (no jitter).

Variance: the delta method applied to the cause-specific hazard increments d_cj / n_j and
(d_j - d_cj) / n_j, each with variance d(n - d) / (n^2 (n - 1)) (binomial with a correction for
tied events), treated as uncorrelated — the estimator ``cmprsk::cuminc`` reports (Gray 1988),
checked against its outputs. CI: the log(-log) transform on F, F^exp(+-z se / (F log F)), the
transform ``tidycmprsk`` uses; NaN where F is 0 or 1.

Equivalent R: ``cmprsk::cuminc(time, status, group)``; ``.at(times)`` = ``cmprsk::timepoints``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rrball._format import format_number, format_table
from rrball._result import ResultMixin, json_safe
from rrball._validate import FloatArray, as_groups, as_time, check_conf_level
from rrball.errors import InputError
from rrball.stats._ci import z_value
from rrball.stats._risk_sets import merge_near_ties, runs, split_cells

__all__ = ["CumulativeIncidenceResult", "as_status", "cumulative_incidence"]

TABLE_COLUMNS = ("group", "cause", "time", "n_risk", "n_event", "estimate", "variance",
                 "std_err", "lower", "upper")


def as_status(values: Any, n: int, argument: str = "status") -> npt.NDArray[np.int64]:
    """Competing-risks status: 0 = censored, 1, 2, ... = cause (integers)."""
    st = as_time(values, argument)
    if st.size != n:
        raise InputError(argument, f"has length {st.size} but time has length {n}")
    bad = np.flatnonzero(st != np.round(st))
    if bad.size:
        raise InputError(argument, "must hold integer codes: 0 = censored, 1, 2, ... = cause", bad)
    return st.astype(np.int64)


@dataclass(frozen=True, slots=True)
class _Curve:
    time: FloatArray  # distinct times of the group (all statuses)
    n_risk: npt.NDArray[np.int64]
    d: npt.NDArray[np.int64]  # events per time, one column per cause
    estimate: FloatArray  # per time, per cause
    variance: FloatArray


def _gray_variance_terms(d: FloatArray, n: FloatArray) -> FloatArray:
    """Var of a hazard increment d/n: d (n - d) / (n^2 (n - 1)); d/n^2 for a single event."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tie = np.where(d > 1, 1.0 - (d - 1.0) / (n - 1.0), 1.0)
    return np.asarray(tie * d / (n * n), dtype=np.float64)


def _curve(time: FloatArray, status: npt.NDArray[np.int64], causes: Sequence[int]) -> _Curve:
    times, at_time = runs(np.sort(time))
    n_risk = np.cumsum(at_time[::-1])[::-1]
    pos = np.searchsorted(times, time)
    d = np.column_stack(
        [np.bincount(pos[status == c], minlength=times.size) for c in causes]
    ).astype(np.int64)
    n = n_risk.astype(np.float64)
    d_all = np.bincount(pos[status > 0], minlength=times.size).astype(np.float64)
    s_after = np.cumprod(1.0 - d_all / n)
    s_before = np.concatenate(([1.0], s_after[:-1]))
    est = np.empty((times.size, len(causes)))
    var = np.empty((times.size, len(causes)))
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_s = np.where(s_after > 0, 1.0 / s_after, 0.0)
    for j in range(len(causes)):
        d1 = d[:, j].astype(np.float64)
        d2 = d_all - d1
        f = np.cumsum(s_before * d1 / n)
        # cause c: derivative S(t_j-) [1 + (F(t_j) - F(t)) / S(t_j)]; other causes:
        # S(t_j-) (F(t_j) - F(t)) / S(t_j). Squares expanded so that F(t) factors out of sums.
        w1 = s_before**2 * _gray_variance_terms(d1, n)
        w2 = np.where(s_after > 0, s_before**2 * _gray_variance_terms(d2, n), 0.0)
        a1 = 1.0 + inv_s * f  # cause-c term: (a1 - F(t) inv_s)^2
        a2 = inv_s * f  # other-cause term: (a2 - F(t) inv_s)^2
        v1 = np.cumsum(w1 * a1**2 + w2 * a2**2)
        v2 = np.cumsum(w1 * a1 * inv_s + w2 * a2 * inv_s)
        v3 = np.cumsum((w1 + w2) * inv_s**2)
        est[:, j] = f
        var[:, j] = v1 + f * f * v3 - 2.0 * f * v2
    return _Curve(times, n_risk.astype(np.int64), d, est, var)


def _loglog_ci(est: FloatArray, var: FloatArray, z: float) -> tuple[FloatArray, FloatArray]:
    # tiny estimates with wide variance push exp(w) to inf: the limits are then 0 and 1, as they
    # should be, so the overflow is expected
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        inner = np.where((est > 0) & (est < 1), est, np.nan)
        w = z * np.sqrt(var) / (inner * np.log(inner))
        lower = inner ** np.exp(-w)
        upper = inner ** np.exp(w)
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


@dataclass(frozen=True, slots=True, kw_only=True)
class CumulativeIncidenceResult(ResultMixin):
    """Cumulative incidence curves per group and cause.

    ``table`` columns: ``group, cause, time, n_risk, n_event, estimate, variance, std_err,
    lower, upper`` at every distinct event time (any cause) of the group.
    """

    groups: tuple[Hashable, ...]
    causes: tuple[int, ...]
    conf_level: float
    method: Mapping[str, object]
    warnings: tuple[str, ...]
    n: Mapping[Hashable, int]
    _curves: tuple[_Curve, ...]

    @property
    def table(self) -> pd.DataFrame:
        z = z_value(self.conf_level)
        frames = []
        for label, c in zip(self.groups, self._curves, strict=True):
            has_event = c.d.sum(axis=1) > 0
            for j, cause in enumerate(self.causes):
                est, var = c.estimate[has_event, j], c.variance[has_event, j]
                lower, upper = _loglog_ci(est, var, z)
                frames.append(pd.DataFrame({
                    "group": [label] * int(has_event.sum()),
                    "cause": cause,
                    "time": c.time[has_event],
                    "n_risk": c.n_risk[has_event],
                    "n_event": c.d[has_event, j],
                    "estimate": est,
                    "variance": var,
                    "std_err": np.sqrt(var),
                    "lower": lower,
                    "upper": upper,
                }, columns=list(TABLE_COLUMNS)))
        return pd.concat(frames, ignore_index=True)

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return dict(json_safe({"groups": list(self.groups), "causes": list(self.causes),
                               "conf_level": self.conf_level, "method": dict(self.method),
                               "warnings": list(self.warnings), "n": dict(self.n),
                               "table": self.table.to_dict(orient="list")}))

    @property
    def last_time(self) -> Mapping[Hashable, float]:
        """Each group's last observation time (any status): curves end there."""
        return MappingProxyType({g: float(c.time[-1]) for g, c in zip(self.groups, self._curves,
                                                                        strict=True)})

    def at(self, times: Sequence[float] | FloatArray | float) -> pd.DataFrame:
        """Estimates at chosen times, as ``cmprsk::timepoints``: the value at the last event time
        at or before t; NaN after the group's last observation (any status). ``n_risk`` is the
        number still under observation at t (time >= t), 0 after the last observation."""
        req = np.sort(as_time(np.atleast_1d(np.asarray(times, dtype=float)), "times"))
        z = z_value(self.conf_level)
        rows = []
        for label, c in zip(self.groups, self._curves, strict=True):
            idx = np.searchsorted(c.time, req, side="right") - 1
            beyond = req > c.time[-1]
            nxt = np.searchsorted(c.time, req, side="left")
            n_risk = np.where(nxt < c.time.size, c.n_risk[np.minimum(nxt, c.time.size - 1)], 0)
            for j, cause in enumerate(self.causes):
                est = np.where(idx >= 0, c.estimate[np.maximum(idx, 0), j], 0.0)
                var = np.where(idx >= 0, c.variance[np.maximum(idx, 0), j], 0.0)
                est = np.where(beyond, np.nan, est)
                var = np.where(beyond, np.nan, var)
                lower, upper = _loglog_ci(est, var, z)
                for k, t in enumerate(req):
                    rows.append((label, cause, float(t), int(n_risk[k]), est[k], var[k],
                                 np.sqrt(var[k]), lower[k], upper[k]))
        return pd.DataFrame(rows, columns=["group", "cause", "time", "n_risk", "estimate",
                                           "variance", "std_err", "lower", "upper"])

    def summary(self) -> str:
        lines = [
            "Cumulative incidence (Aalen-Johansen), competing risks",
            f"Gray's variance; {round(self.conf_level * 100)}% CI on the log(-log) scale",
            "",
        ]
        for label, c in zip(self.groups, self._curves, strict=True):
            rows = []
            for j, cause in enumerate(self.causes):
                rows.append([f"{label}" if len(self.groups) > 1 else "all", str(cause),
                             str(int(c.d[:, j].sum())),
                             format_number(float(c.estimate[-1, j]), 3),
                             format_number(float(np.sqrt(c.variance[-1, j])), 3),
                             format_number(float(c.time[-1]))])
            lines.append(format_table(
                ["group", "cause", "events", "final CIF", "se", "at time"], rows))
            lines.append("")
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"CumulativeIncidenceResult(groups={len(self.groups)}, causes={self.causes})"


def cumulative_incidence(
    time: Any,
    status: Any,
    *,
    group: Any = None,
    conf_level: float = 0.95,
    levels: Sequence[Hashable] | None = None,
    timefix: bool = True,
) -> CumulativeIncidenceResult:
    """Cumulative incidence function per cause (and group) with Gray's variance.

    Parameters
    ----------
    time:
        Follow-up time (>= 0).
    status:
        0 = censored, 1, 2, ... = cause of the first event (e.g. 1 = relapse, 2 = death in
        remission).
    group:
        Optional group labels (sorted order unless ``levels``).
    conf_level:
        Level of the pointwise log(-log) intervals.
    timefix:
        Merge floating-point near ties first (default, as R survival; reported in
        ``warnings``). ``cmprsk`` itself does not merge them: pass ``timefix=False`` to reproduce
        cmprsk on data whose times differ only by rounding.
    """
    t = as_time(time, "time")
    st = as_status(status, t.size)
    negative = np.flatnonzero(st < 0)
    if negative.size:
        raise InputError("status", "codes must be >= 0 (0 = censored)", negative)
    level = check_conf_level(conf_level)
    groups = as_groups(group, t.size, "group", levels=levels)
    causes = tuple(int(c) for c in np.unique(st[st > 0]))
    if not causes:
        raise InputError("status", "has no events (every subject censored): nothing to estimate")
    warnings: list[str] = []
    if timefix:
        fixed = merge_near_ties(t)
        t = fixed.arrays[0]
        if (note := fixed.note()) is not None:
            warnings.append(note)
    order, bounds = split_cells(groups.codes, groups.k)
    ts = t if order is None else t[order]
    ss = st if order is None else st[order]
    curves = tuple(
        _curve(ts[int(bounds[k]):int(bounds[k + 1])], ss[int(bounds[k]):int(bounds[k + 1])], causes)
        for k in range(groups.k)
    )
    counts = np.bincount(groups.codes, minlength=groups.k)
    gname = getattr(group, "name", None) or "group"
    method = MappingProxyType({
        "estimator": "aalen-johansen cumulative incidence",
        "variance": "gray (cmprsk::cuminc)",
        "conf_type": "log-log",
        "conf_level": level,
        "timefix": timefix,
        "r_call": "cmprsk::cuminc(time, status" + (f", {gname})" if group is not None else ")"),
    })
    return CumulativeIncidenceResult(
        groups=groups.labels,
        causes=causes,
        conf_level=level,
        method=method,
        warnings=tuple(warnings),
        n=MappingProxyType({g: int(c) for g, c in zip(groups.labels, counts, strict=True)}),
        _curves=curves,
    )
