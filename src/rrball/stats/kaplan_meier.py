"""Kaplan-Meier (product-limit) survival curves with Greenwood standard errors.

Equivalent R: ``survival::survfit(Surv(time, event) ~ group, conf.type = "log")`` (and
``Surv(entry, time, event)`` for left truncation); ``summary(fit, times = )`` for ``.at()``;
``quantile(fit)`` for ``.quantile()``; ``print(fit)`` for ``summary()``. Checked against R on lung,
veteran, aml, gehan, KMsurv bmt and channing in ``tests/stats``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from rrball._format import format_number, format_table
from rrball._result import ResultMixin, json_safe
from rrball._validate import (
    FloatArray,
    as_event,
    as_groups,
    as_time,
    check_choice,
    check_conf_level,
    check_same_length,
)
from rrball.errors import InputError
from rrball.stats._ci import CONF_TYPES, survival_ci
from rrball.stats._km_core import Curves, product_limit
from rrball.stats._risk_sets import TIMEFIX_TOLERANCE, merge_near_ties

__all__ = ["KaplanMeierResult", "kaplan_meier"]

TABLE_COLUMNS = (
    "group", "time", "n_risk", "n_event", "n_censor", "surv", "std_err", "std_err_cumhaz",
    "lower", "upper",
)
AT_COLUMNS = ("group", "time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper")
QUANTILE_COLUMNS = ("group", "prob", "estimate", "lower", "upper")


@dataclass(frozen=True, slots=True, kw_only=True)
class KaplanMeierResult(ResultMixin):
    """Kaplan-Meier curves, one per group.

    ``.table`` columns: ``group, time, n_risk, n_event, n_censor, surv, std_err, std_err_cumhaz,
    lower, upper`` — one row per group × distinct observed time. ``std_err`` is the Greenwood SE of
    S(t) (what ``summary.survfit`` prints); ``std_err_cumhaz`` is the SE of −log S(t) (R's
    ``survfit()$std.err``). CI limits are NaN where R gives NA.
    """

    groups: tuple[Hashable, ...]
    conf_type: str
    conf_level: float
    method: Mapping[str, object]
    warnings: tuple[str, ...]
    n: Mapping[Hashable, int]
    events: Mapping[Hashable, int]
    has_entry: bool
    _curves: Curves = field(repr=False)
    _lower: FloatArray = field(repr=False)
    _upper: FloatArray = field(repr=False)
    _summary_table: pd.DataFrame = field(repr=False)

    # ---- data ------------------------------------------------------------------------------
    @property
    def n_total(self) -> int:
        return int(sum(self.n.values()))

    @property
    def table(self) -> pd.DataFrame:
        c = self._curves
        with np.errstate(invalid="ignore"):
            greenwood = c.surv * c.se_cumhaz
        return pd.DataFrame(
            {
                "group": [self.groups[i] for i in c.group],
                "time": c.time,
                "n_risk": c.n_risk,
                "n_event": c.n_event,
                "n_censor": c.n_censor,
                "surv": c.surv,
                "std_err": greenwood,
                "std_err_cumhaz": c.se_cumhaz,
                "lower": self._lower,
                "upper": self._upper,
            },
            columns=list(TABLE_COLUMNS),
        )

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "groups": list(self.groups),
            "conf_type": self.conf_type,
            "conf_level": self.conf_level,
            "method": dict(self.method),
            "warnings": list(self.warnings),
            "n": dict(self.n),
            "events": dict(self.events),
            "table": self.table.to_dict(orient="list"),
        }
        return dict(json_safe(out))

    def curve(self, group: Hashable | None = None) -> pd.DataFrame:
        """The rows of one group's curve (the only group when ``group`` is None)."""
        k = self._group_index(group)
        return self.table.iloc[self._curves.rows(k)].reset_index(drop=True)

    def _group_index(self, group: Hashable | None) -> int:
        if group is None:
            if len(self.groups) != 1:
                raise InputError("group", f"name one of the groups {list(self.groups)!r}")
            return 0
        for i, label in enumerate(self.groups):
            if label == group or str(label) == str(group):
                return i
        raise InputError("group", f"{group!r} is not one of {list(self.groups)!r}")

    # ---- survival at chosen times (R summary(fit, times=)) ----------------------------------
    def at(self, times: Sequence[float] | FloatArray | float, extend: bool = False) -> pd.DataFrame:
        """S(t) at chosen times, as R ``summary(fit, times = times, extend = extend)``.

        Each requested time takes the curve's value at the last observed time at or before it;
        ``n_risk`` is the number at risk at that time; ``n_event``/``n_censor`` count what
        happened since the previous requested time. Times after a group's last observation are
        dropped unless ``extend=True`` (then ``n_risk`` is 0 and S is carried forward). Times are
        sorted; a repeated time is repeated in the output with no new events (as R).
        """
        req = np.sort(as_time(np.atleast_1d(np.asarray(times, dtype=float)), "times"))
        c = self._curves
        frames = []
        with np.errstate(invalid="ignore"):
            greenwood_all = c.surv * c.se_cumhaz
        for k, label in enumerate(self.groups):
            sl = c.rows(k)
            t = c.time[sl]
            keep = req if extend else req[req <= t[-1]]
            last = np.searchsorted(t, keep, side="right") - 1
            nxt = np.searchsorted(t, keep, side="left")
            before = last < 0
            li = np.where(before, 0, last)
            n_risk = np.where(nxt < t.size, c.n_risk[sl][np.minimum(nxt, t.size - 1)], 0)
            cum_e = np.where(before, 0, np.cumsum(c.n_event[sl])[li])
            cum_c = np.where(before, 0, np.cumsum(c.n_censor[sl])[li])
            frames.append(
                pd.DataFrame(
                    {
                        "group": [label] * keep.size,
                        "time": keep,
                        "n_risk": n_risk.astype(np.int64),
                        "n_event": np.diff(cum_e, prepend=0).astype(np.int64),
                        "n_censor": np.diff(cum_c, prepend=0).astype(np.int64),
                        "surv": np.where(before, 1.0, c.surv[sl][li]),
                        "std_err": np.where(before, 0.0, greenwood_all[sl][li]),
                        "lower": np.where(before, 1.0, self._lower[sl][li]),
                        "upper": np.where(before, 1.0, self._upper[sl][li]),
                    },
                    columns=list(AT_COLUMNS),
                )
            )
        return pd.concat(frames, ignore_index=True)

    # ---- quantiles (R quantile.survfit) -----------------------------------------------------
    def quantile(self, probs: Sequence[float] | float = (0.25, 0.5, 0.75)) -> pd.DataFrame:
        """Survival-time quantiles with CIs, as R ``quantile.survfit``.

        The p-th quantile is the first time S(t) <= 1 - p. Where S equals 1 - p exactly over a
        stretch (within ``sqrt(machine eps)``, the rounding fuzz R allows), the estimate is the
        midpoint of the stretch — the usual median of an even-sized sample. The CI limits are the
        times where the lower and upper pointwise bands cross 1 - p, by the same rule; NaN when a
        curve or band never reaches 1 - p.
        """
        p = np.atleast_1d(np.asarray(probs, dtype=np.float64))
        if p.size == 0 or np.any(~np.isfinite(p)) or np.any((p <= 0) | (p >= 1)):
            raise InputError("probs", "each probability must lie strictly between 0 and 1")
        c = self._curves
        rows = []
        for k, label in enumerate(self.groups):
            sl = c.rows(k)
            t = c.time[sl]
            for prob in p:
                level = 1.0 - float(prob)
                rows.append(
                    (
                        label,
                        float(prob),
                        _crossing(t, c.surv[sl], level),
                        _crossing(t, self._lower[sl], level),
                        _crossing(t, self._upper[sl], level),
                    )
                )
        return pd.DataFrame(rows, columns=list(QUANTILE_COLUMNS))

    def median(self) -> pd.DataFrame:
        """Median survival with CI (``quantile(0.5)``)."""
        return self.quantile(0.5)

    @property
    def summary_table(self) -> pd.DataFrame:
        """The table ``print(fit)`` shows: ``group, n, events, median, lower, upper``.

        R's print rule for the median differs from ``quantile()`` in one case: when S sits
        exactly at 0.5 up to the end of follow-up, print reports the start of that stretch and
        ``quantile()`` (``.median()``) the midpoint to the last observation time.
        """
        return self._summary_table.copy()

    # ---- printing ---------------------------------------------------------------------------
    def summary(self) -> str:
        pct = f"{self.conf_level:g}"
        header = ["", "n", "events", "median", f"{pct}LCL", f"{pct}UCL"]
        rows = []
        for r in self._summary_table.itertuples():
            rows.append(
                [
                    "all" if len(self.groups) == 1 else f"{self.method['group']}={r.group}",
                    str(r.n),
                    str(r.events),
                    format_number(r.median),
                    format_number(r.lower),
                    format_number(r.upper),
                ]
            )
        lines = [
            "Kaplan-Meier estimate"
            + (" with left truncation (delayed entry)" if self.has_entry else ""),
            f"{round(self.conf_level * 100)}% pointwise CI, {self.conf_type} transform; "
            "median CI where the band crosses 0.5",
            "",
            format_table(header, rows),
        ]
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"KaplanMeierResult(groups={len(self.groups)}, n={self.n_total}, "
            f"events={sum(self.events.values())}, conf_type={self.conf_type!r})"
        )


def _crossing(
    t: FloatArray, values: FloatArray, level: float, *, print_rule: bool = False
) -> float:
    """Where the horizontal line at ``level`` meets a step curve (R ``quantile.survfit`` rule).

    The answer is the first time the curve takes its largest value at or below ``level``. For a
    non-increasing curve (S itself) that is the first time S <= level; a confidence band need not
    be monotone (its variance grows), and R then meets the line where the band is closest to it
    from below — verified on R's outputs (KMsurv bmt, AML low-risk group). A flat stretch exactly
    at ``level`` (within ``sqrt(machine eps)``) gives the midpoint of the stretch.
    """
    tol = TIMEFIX_TOLERANCE
    with np.errstate(invalid="ignore"):
        reached = values <= level + tol
    if not reached.any():
        return math.nan
    best = float(np.max(values[reached]))
    i = int(np.flatnonzero(reached & (values == best))[0])
    if abs(best - level) > tol:
        return float(t[i])
    with np.errstate(invalid="ignore"):
        drops = np.flatnonzero(values[i + 1 :] < level - tol)
    if not drops.size and print_rule:
        return float(t[i])  # print.survfit: no later drop, no midpoint
    end = float(t[i + 1 + int(drops[0])]) if drops.size else float(t[-1])
    return (float(t[i]) + end) / 2.0


def kaplan_meier(
    time: Any,
    event: Any,
    *,
    group: Any = None,
    conf_type: str = "log",
    conf_level: float = 0.95,
    entry: Any = None,
    levels: Sequence[Hashable] | None = None,
    timefix: bool = True,
) -> KaplanMeierResult:
    """Kaplan-Meier survival curves with Greenwood SEs and pointwise CIs.

    Parameters
    ----------
    time, event:
        Follow-up time (any unit, >= 0) and event indicator (1/True = event, 0/False = censored).
    group:
        Optional labels; one curve per label, in sorted label order unless ``levels`` is given.
    conf_type:
        ``"log"`` (R's default), ``"log-log"``, ``"plain"``, ``"logit"`` or ``"arcsin"``.
    conf_level:
        Confidence level of the pointwise intervals (default 0.95).
    entry:
        Delayed-entry (left-truncation) times: a subject is at risk on ``(entry, time]``.
    levels:
        Output order of the groups (every level must occur).
    timefix:
        Merge near-tied times caused by floating-point rounding (R's ``timefix = TRUE``,
        default); the result's ``warnings`` report how many values moved.

    Returns
    -------
    KaplanMeierResult

    Raises
    ------
    InputError
        Negative, missing or infinite times; event not 0/1; length mismatch; an empty group; no
        events at all (an all-censored cohort is almost always a coding error of ``event``);
        entry not before exit.

    Notes
    -----
    S(t) = prod over event times u <= t of (1 - d(u)/n(u)); var(-log S) = sum d/(n(n - d))
    (Greenwood). See ``docs/methods/kaplan_meier.md``.
    Equivalent R:
    ``survfit(Surv(time, event) ~ group, conf.type = conf_type, conf.int = conf_level)``.
    """
    t = as_time(time, "time")
    ev = as_event(event, t.size, "event")
    groups = as_groups(group, t.size, "group", levels=levels)
    check_choice(conf_type, CONF_TYPES, "conf_type")
    level = check_conf_level(conf_level)
    en: FloatArray | None = None
    warnings: list[str] = []
    if entry is not None:
        en = as_time(entry, "entry", allow_negative=True)
        check_same_length(t.size, en.size, "entry")
    if not ev.any():
        raise InputError(
            "event",
            "has no events (every subject censored): nothing to estimate. Check the event coding "
            "(1 = event, 0 = censored)",
        )
    if timefix:
        fixed = merge_near_ties(t) if en is None else merge_near_ties(t, en)
        t = fixed.arrays[0]
        if en is not None:
            en = fixed.arrays[1]
        if (note := fixed.note()) is not None:
            warnings.append(note)
    if en is not None:
        bad = np.flatnonzero(en >= t)
        if bad.size:
            raise InputError("entry", "must be strictly before the exit time", bad)
    curves = product_limit(t, ev, groups.codes, groups.k, en)
    lower, upper = survival_ci(curves.surv, curves.se_cumhaz, conf_type, level)
    counts = np.bincount(groups.codes, minlength=groups.k)
    events = np.bincount(groups.codes, weights=ev.astype(np.float64), minlength=groups.k)
    for label, n_ev in zip(groups.labels, events, strict=True):
        if n_ev == 0 and groups.k > 1:
            warnings.append(f"group {label!r} has no events: its curve stays at 1")
    group_name = getattr(group, "name", None) or "group"
    lhs = "Surv(time, event)" if en is None else "Surv(entry, time, event)"
    rhs = "1" if group is None else str(group_name)
    method = MappingProxyType(
        {
            "estimator": "kaplan-meier",
            "variance": "greenwood",
            "conf_type": conf_type,
            "conf_level": level,
            "timefix": timefix,
            "left_truncation": en is not None,
            "group": str(group_name),
            "r_call": f'survfit({lhs} ~ {rhs}, conf.type = "{conf_type}", conf.int = {level:g})',
        }
    )
    rows = []
    for k, label in enumerate(groups.labels):
        sl = curves.rows(k)
        t_k = curves.time[sl]
        rows.append((label, int(counts[k]), int(events[k]),
                     _crossing(t_k, curves.surv[sl], 0.5, print_rule=True),
                     _crossing(t_k, lower[sl], 0.5, print_rule=True),
                     _crossing(t_k, upper[sl], 0.5, print_rule=True)))
    summary_table = pd.DataFrame(rows, columns=["group", "n", "events", "median", "lower", "upper"])
    for arr in (curves.time, curves.n_risk, curves.n_event, curves.n_censor, curves.surv,
                curves.se_cumhaz, lower, upper):
        arr.setflags(write=False)
    return KaplanMeierResult(
        groups=groups.labels,
        conf_type=conf_type,
        conf_level=level,
        method=method,
        warnings=tuple(warnings),
        n=MappingProxyType({lab: int(c) for lab, c in zip(groups.labels, counts, strict=True)}),
        events=MappingProxyType(
            {lab: int(e) for lab, e in zip(groups.labels, events, strict=True)}
        ),
        has_entry=en is not None,
        _curves=curves,
        _lower=lower,
        _upper=upper,
        _summary_table=summary_table,
    )
