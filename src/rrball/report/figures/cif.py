"""Cumulative-incidence figure (Aalen-Johansen curves) with a number-at-risk table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rrball.report.figures._common import (
    default_ticks,
    draw_risk_table,
    group_label,
    layout_with_risk_table,
    step_xy,
    styled,
)
from rrball.report.styles import Style, get_style
from rrball.stats import CumulativeIncidenceResult, GrayTestResult, KaplanMeierResult

__all__ = ["cif_plot", "numbers_at_risk"]


def numbers_at_risk(
    result: CumulativeIncidenceResult, at_risk: KaplanMeierResult, times: Sequence[float],
) -> pd.DataFrame:
    """Numbers at risk at ``times`` per group, read from ``at_risk.at(times, extend=True)``.

    ``CumulativeIncidenceResult`` tabulates event times only and its ``.at()`` has no ``n_risk``,
    so the risk table reads a Kaplan-Meier result of the same patients with any event as the
    event (``kaplan_meier(time, status > 0, group=...)``): its risk sets are exactly those of the
    cumulative-incidence estimator. Groups and sizes must match.
    """
    if tuple(map(str, at_risk.groups)) != tuple(map(str, result.groups)):
        raise ValueError(f"at_risk groups {at_risk.groups} differ from {result.groups}")
    if [at_risk.n[g] for g in at_risk.groups] != [result.n[g] for g in result.groups]:
        raise ValueError("at_risk has different group sizes: it must describe the same patients")
    at = at_risk.at(list(times), extend=True)
    if "group" not in at.columns:
        at = at.assign(group=str(result.groups[0]))
    return at[["group", "time", "n_risk"]].reset_index(drop=True)


def cif_plot(
    result: CumulativeIncidenceResult,
    *,
    cause: int = 1,
    ax: Axes | None = None,
    risk_table: bool = True,
    at_risk: KaplanMeierResult | None = None,
    times: Sequence[float] | None = None,
    ci: bool = True,
    test: GrayTestResult | None = None,
    cause_labels: Mapping[int, str] | None = None,
    style: Style | None = None,
    xlabel: str = "Time",
    ylabel: str | None = None,
    title: str | None = None,
) -> Figure:
    """Cumulative incidence of ``cause`` per group, rising step curves from 0.

    ``test`` (a :class:`GrayTestResult`) adds Gray's test for that cause. Numbers at risk come
    from ``result.at(ticks)``; ``at_risk`` (a Kaplan-Meier result of the same patients with any
    event as the event) is accepted for compatibility and must then agree with ``result``.
    """
    st = style or get_style()
    if cause not in result.causes:
        raise ValueError(f"cause {cause} is not one of {result.causes}")
    label = (cause_labels or {}).get(cause, f"cause {cause}")
    groups = result.groups
    table = result.table
    with styled(st):
        fig, main, rt = layout_with_risk_table(st, ax, risk_table, len(groups))
        t_max = float(table["time"].max())
        # extend each curve flat to the group's last observation
        last_seen = {str(g): t for g, t in result.last_time.items()}
        t_max = max(t_max, *last_seen.values())
        ticks = [float(t) for t in times] if times is not None else default_ticks(t_max)
        y_top = 0.0
        for i, g in enumerate(groups):
            color = st.color(i)
            sub = table[(table["cause"] == cause)
                        & ((table["group"] == g) if g is not None else True)]
            tt = sub["time"].to_numpy(dtype=float)
            est = sub["estimate"].to_numpy(dtype=float)
            lo_v = sub["lower"].to_numpy(dtype=float)
            up_v = sub["upper"].to_numpy(dtype=float)
            end = last_seen.get(str(g))
            if end is not None and len(tt) and end > tt[-1]:
                tt, est = np.r_[tt, end], np.r_[est, est[-1]]
                lo_v, up_v = np.r_[lo_v, lo_v[-1]], np.r_[up_v, up_v[-1]]
            x, y = step_xy(tt, est, 0.0)
            main.step(x, y, where="post", color=color,
                      label=f"{group_label(g)} (n = {result.n[g]})")
            y_top = max(y_top, float(np.nanmax(y)))
            if ci:
                _, lo = step_xy(tt, lo_v, 0.0)
                _, up = step_xy(tt, up_v, 0.0)
                main.fill_between(x, lo, up, step="post", color=color, alpha=0.15, lw=0)
                if np.isfinite(up).any():
                    y_top = max(y_top, float(np.nanmax(up)))
        main.set_xlim(0.0, max(max(ticks), t_max) * 1.02)
        main.set_ylim(0.0, min(1.0, max(0.1, y_top * 1.15)))
        main.set_xticks(ticks)
        main.set_xlabel(xlabel)
        main.set_ylabel(ylabel or f"Cumulative incidence of {label}")
        if title:
            main.set_title(title, loc="left")
        main.legend(loc="upper left")
        notes: list[str] = []
        if test is not None:
            gray = test.table
            gray_row = gray[gray["cause"] == cause]
            if len(gray_row):
                notes.append(f"Gray's test ({label}): "
                             f"{st.format_p_phrase(float(gray_row['p_value'].iloc[0]))}")
        if ci:
            notes.append(f"Shaded: {result.conf_level:.0%} CI "
                         f"({result.method.get('conf_type', 'log-log')} transform)")
        notes.append("Competing events: " + ", ".join(
            (cause_labels or {}).get(c, f"cause {c}") for c in result.causes if c != cause))
        main.text(0.98, 0.03, "\n".join(notes), transform=main.transAxes, ha="right",
                  va="bottom", fontsize=st.font_size - 1)
        if rt is not None:
            nar = (numbers_at_risk(result, at_risk, ticks) if at_risk is not None
                   else result.at(ticks).drop_duplicates(["group", "time"]))
            table_rows: list[tuple[str, str, list[int]]] = []
            for i, g in enumerate(groups):
                counts = [int(v) for v in nar[nar["group"].astype(str) == str(g)]["n_risk"]]
                table_rows.append((group_label(g), st.color(i), counts))
            draw_risk_table(rt, ticks, table_rows, st)
    return fig
