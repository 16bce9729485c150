"""Median follow-up by the reverse Kaplan-Meier method (Schemper & Smith, Control Clin Trials
1996;17:343-6): the Kaplan-Meier estimate with censoring as the event, so that deaths do not
shorten the follow-up they interrupt.

Equivalent R: ``quantile(survfit(Surv(time, 1 - event) ~ 1), c(0.25, 0.5, 0.75))``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd

from rrball._format import format_number, format_table
from rrball._result import ResultMixin, json_safe
from rrball._validate import as_event, as_time
from rrball.errors import InputError
from rrball.stats.kaplan_meier import kaplan_meier

__all__ = ["FollowUpResult", "median_follow_up"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpResult(ResultMixin):
    """Median follow-up (``estimate, lower, upper``) and the quartiles of the reverse KM.

    ``table`` columns: ``group, n, n_censored, estimate, lower, upper, q1, q3``.
    """

    conf_level: float
    conf_type: str
    groups: tuple[Hashable, ...]
    method: Mapping[str, object]
    warnings: tuple[str, ...]
    _table: pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    @property
    def estimate(self) -> float:
        """Median follow-up of the only (or first) group."""
        return float(self._table["estimate"].iloc[0])

    @property
    def lower(self) -> float:
        return float(self._table["lower"].iloc[0])

    @property
    def upper(self) -> float:
        return float(self._table["upper"].iloc[0])

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return dict(json_safe({"method": dict(self.method), "conf_level": self.conf_level,
                               "table": self._table.to_dict(orient="list"),
                               "warnings": list(self.warnings)}))

    def summary(self) -> str:
        pct = f"{round(self.conf_level * 100)}%"
        rows = [
            [str(r.group), str(r.n), str(r.n_censored), format_number(r.estimate),
             f"{format_number(r.lower)} to {format_number(r.upper)}",
             f"{format_number(r.q1)} to {format_number(r.q3)}"]
            for r in self._table.itertuples()
        ]
        lines = [
            "Median follow-up, reverse Kaplan-Meier (Schemper & Smith 1996)",
            f"{pct} CI from the {self.conf_type}-transformed band",
            "",
            format_table(["group", "n", "censored", "median", f"{pct} CI", "IQR"], rows),
        ]
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"FollowUpResult(median={self.estimate:g}, groups={len(self.groups)})"


def median_follow_up(
    time: Any,
    event: Any,
    *,
    group: Any = None,
    conf_level: float = 0.95,
    conf_type: str = "log",
    levels: Sequence[Hashable] | None = None,
) -> FollowUpResult:
    """Median potential follow-up with CI by reverse Kaplan-Meier.

    ``event`` is the usual indicator (1 = event, 0 = censored); it is reversed internally.
    """
    t = as_time(time, "time")
    ev = as_event(event, t.size, "event")
    if ev.all():
        raise InputError(
            "event",
            "every subject had the event (none censored): the reverse Kaplan-Meier follow-up is "
            "undefined; report the observed follow-up range instead",
        )
    km = kaplan_meier(t, ~ev, group=group, conf_level=conf_level, conf_type=conf_type,
                      levels=levels)
    q = km.quantile((0.25, 0.5, 0.75))
    rows = []
    for label in km.groups:
        qg = q[q["group"] == label]
        med = qg[qg["prob"] == 0.5].iloc[0]
        rows.append((label, km.n[label], km.events[label], float(med["estimate"]),
                     float(med["lower"]), float(med["upper"]),
                     float(qg[qg["prob"] == 0.25]["estimate"].iloc[0]),
                     float(qg[qg["prob"] == 0.75]["estimate"].iloc[0])))
    table = pd.DataFrame(
        rows, columns=["group", "n", "n_censored", "estimate", "lower", "upper", "q1", "q3"]
    )
    gname = getattr(group, "name", None) or "group"
    method = MappingProxyType(
        {
            "estimator": "reverse kaplan-meier",
            "conf_type": conf_type,
            "conf_level": km.conf_level,
            "r_call": "quantile(survfit(Surv(time, 1 - event) ~ "
            f"{gname if group is not None else 1}), c(0.25, 0.5, 0.75))",
        }
    )
    warnings = tuple(w.replace("has no events", "has no censored subjects")
                     for w in km.warnings)
    return FollowUpResult(conf_level=km.conf_level, conf_type=conf_type, groups=km.groups,
                          method=method, warnings=warnings, _table=table)
