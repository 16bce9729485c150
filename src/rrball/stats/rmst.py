"""Restricted mean survival time (area under the Kaplan-Meier curve up to ``tau``).

Equivalent R: ``print(survfit(Surv(time, event) ~ group), rmean = tau)`` (columns ``rmean`` and
``se(rmean)``); the between-group difference uses the normal approximation with independent groups,
``se = sqrt(se1^2 + se2^2)`` (as survRM2's ``rmst2`` contrast on the difference scale).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _sps

from rrball._format import format_number, format_p, format_table
from rrball._result import ResultMixin, json_safe
from rrball._validate import check_conf_level, is_real
from rrball.errors import InputError
from rrball.stats._ci import z_value
from rrball.stats._km_core import Curves
from rrball.stats.kaplan_meier import kaplan_meier

__all__ = ["RMSTResult", "restricted_mean_survival_time"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RMSTResult(ResultMixin):
    """RMST per group (``table``: ``group, tau, estimate, std_err, lower, upper``) and, with two or
    more groups, differences from the reference group (``differences``: ``contrast, estimate,
    std_err, lower, upper, statistic, p_value``)."""

    tau: float
    conf_level: float
    groups: tuple[Hashable, ...]
    method: Mapping[str, object]
    warnings: tuple[str, ...]
    _table: pd.DataFrame
    _differences: pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    @property
    def differences(self) -> pd.DataFrame:
        return self._differences.copy()

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "tau": self.tau,
                    "conf_level": self.conf_level,
                    "method": dict(self.method),
                    "table": self._table.to_dict(orient="list"),
                    "differences": self._differences.to_dict(orient="list"),
                    "warnings": list(self.warnings),
                }
            )
        )

    def summary(self) -> str:
        pct = f"{round(self.conf_level * 100)}%"
        rows = [
            [str(r.group), format_number(r.estimate), format_number(r.std_err),
             f"{format_number(r.lower)} to {format_number(r.upper)}"]
            for r in self._table.itertuples()
        ]
        lines = [
            f"Restricted mean survival time up to tau = {format_number(self.tau)}",
            "",
            format_table(["group", "rmst", "se(rmst)", f"{pct} CI"], rows),
        ]
        if len(self._differences):
            drows = [
                [str(r.contrast), format_number(r.estimate), format_number(r.std_err),
                 f"{format_number(r.lower)} to {format_number(r.upper)}", format_p(r.p_value)]
                for r in self._differences.itertuples()
            ]
            lines += ["", format_table(["difference", "estimate", "se", f"{pct} CI", "p"], drows)]
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"RMSTResult(groups={len(self.groups)}, tau={self.tau:g})"


def _area_and_se(c: Curves, k: int, tau: float) -> tuple[float, float]:
    sl = c.rows(k)
    t, s = c.time[sl], c.surv[sl]
    d, n = c.n_event[sl], c.n_risk[sl]
    jump = (d > 0) & (t <= tau)
    knots = t[jump]
    surv_after = s[jump]
    # step function: 1 on [0, u1), S_j on [u_j, u_{j+1}), last value carried to tau
    edges = np.concatenate(([0.0], knots, [tau]))
    heights = np.concatenate(([1.0], surv_after))
    pieces = heights * np.diff(edges)
    area = float(pieces.sum())
    # area from each event time to tau, for the Greenwood-type variance
    tail = np.cumsum(pieces[::-1])[::-1][1:]
    dj = d[jump].astype(np.float64)
    nj = n[jump].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(nj > dj, dj / (nj * (nj - dj)), 0.0)
    return area, float(np.sqrt(np.sum(tail**2 * h)))


def restricted_mean_survival_time(
    time: Any,
    event: Any,
    *,
    tau: float,
    group: Any = None,
    conf_level: float = 0.95,
    levels: Sequence[Hashable] | None = None,
    timefix: bool = True,
) -> RMSTResult:
    """Restricted mean survival time up to ``tau`` with SE, per group and as differences.

    The curve is carried at its last value when a group's follow-up ends before ``tau`` (as R);
    choose ``tau`` within the follow-up of every group to avoid that extrapolation (a warning
    names the groups). Differences are against the first group (sorted order or ``levels[0]``).

    Notes
    -----
    RMST = integral of S(u) from 0 to tau; Var = sum over event times t_j <= tau of
    A_j^2 d_j / (n_j (n_j - d_j)) with A_j the area under S from t_j to tau.
    Equivalent R: ``print(survfit(Surv(time, event) ~ group), rmean = tau)``.
    """
    if not is_real(tau) or not np.isfinite(tau) or tau <= 0:
        raise InputError("tau", f"must be a positive finite time, got {tau!r}")
    level = check_conf_level(conf_level)
    km = kaplan_meier(time, event, group=group, levels=levels, timefix=timefix)
    c = km._curves
    z = z_value(level)
    rows = []
    warnings: list[str] = list(km.warnings)
    for k, label in enumerate(km.groups):
        area, se = _area_and_se(c, k, float(tau))
        last = float(c.time[c.rows(k)][-1])
        if last < tau:
            warnings.append(
                f"group {label!r}: follow-up ends at {last:g} < tau = {tau:g}; the curve is "
                "carried forward at its last value"
            )
        rows.append((label, float(tau), area, se, area - z * se, area + z * se))
    table = pd.DataFrame(rows, columns=["group", "tau", "estimate", "std_err", "lower", "upper"])
    diffs = []
    est_all = table["estimate"].to_numpy(dtype=np.float64)
    se_all = table["std_err"].to_numpy(dtype=np.float64)
    for j in range(1, len(rows)):
        est = float(est_all[j] - est_all[0])
        se = float(np.hypot(se_all[j], se_all[0]))
        stat = est / se if se > 0 else math.nan
        p = float(2 * _sps.norm.sf(abs(stat))) if se > 0 else math.nan
        contrast = f"{km.groups[j]} - {km.groups[0]}"
        diffs.append((contrast, est, se, est - z * se, est + z * se, stat, p))
    differences = pd.DataFrame(
        diffs, columns=["contrast", "estimate", "std_err", "lower", "upper", "statistic", "p_value"]
    )
    gname = getattr(group, "name", None) or "group"
    method = MappingProxyType(
        {
            "estimator": "restricted mean survival time (area under Kaplan-Meier)",
            "variance": "greenwood-type (as R print.survfit rmean)",
            "difference_ci": "normal, independent groups",
            "conf_level": level,
            "timefix": timefix,
            "r_call": f"print(survfit(Surv(time, event) ~ {gname if group is not None else 1}), "
            f"rmean = {tau:g})",
        }
    )
    return RMSTResult(
        tau=float(tau),
        conf_level=level,
        groups=km.groups,
        method=method,
        warnings=tuple(warnings),
        _table=table,
        _differences=differences,
    )
