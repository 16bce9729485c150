"""Kaplan-Meier figure with CI bands, censor marks, medians and a number-at-risk table."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
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
from rrball.stats import KaplanMeierResult, LogRankResult

__all__ = ["km_plot"]


def km_plot(
    result: KaplanMeierResult,
    *,
    ax: Axes | None = None,
    risk_table: bool = True,
    times: Sequence[float] | None = None,
    ci: bool = True,
    censor_marks: bool = True,
    median_lines: bool = True,
    test: LogRankResult | None = None,
    style: Style | None = None,
    xlabel: str = "Time",
    ylabel: str = "Survival probability",
    title: str | None = None,
) -> Figure:
    """Step curves of a :class:`KaplanMeierResult`, one per group.

    Parameters
    ----------
    result:
        From :func:`rrball.stats.kaplan_meier`; nothing is re-estimated here.
    ax:
        Draw into this Axes (its Figure is returned); by default a new Figure is made.
    risk_table:
        Numbers at risk under the x-ticks, read from ``result.at(ticks, extend=True)``.
    times:
        The x-ticks (and risk-table columns); default: round values from 0 to the last time.
    ci, censor_marks, median_lines:
        Pointwise CI band (``result.conf_type`` transform), ``+`` at censored times, dashed
        lines at the median survival of each group where it is reached.
    test:
        A :class:`LogRankResult` whose p-value and test name are printed on the plot.
    style:
        A :class:`Style` preset (default ``get_style("default")``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    st = style or get_style()
    groups = result.groups
    with styled(st):
        fig, main, rt = layout_with_risk_table(st, ax, risk_table, len(groups))
        t_max = float(result.table["time"].max())
        ticks = [float(t) for t in times] if times is not None else default_ticks(t_max)
        medians = result.median().set_index("group")["estimate"] if median_lines else None
        median_x: list[float] = []
        for i, g in enumerate(groups):
            color = st.color(i)
            cur = result.curve(g) if len(groups) > 1 else result.curve()
            x, y = step_xy(cur["time"].to_numpy(), cur["surv"].to_numpy(), 1.0)
            n_g = result.n[g]
            main.step(x, y, where="post", color=color, lw=st.line_width,
                      label=f"{group_label(g)} (n = {n_g}, events = {result.events[g]})")
            if ci:
                _, lo = step_xy(cur["time"].to_numpy(), cur["lower"].to_numpy(), 1.0)
                _, up = step_xy(cur["time"].to_numpy(), cur["upper"].to_numpy(), 1.0)
                ok = np.isfinite(lo) & np.isfinite(up)
                main.fill_between(x, np.where(ok, lo, np.nan), np.where(ok, up, np.nan),
                                  step="post", color=color, alpha=0.15, lw=0)
            if censor_marks:
                cens = cur[cur["n_censor"] > 0]
                main.plot(cens["time"], cens["surv"], ls="none", marker="|", ms=6, mew=1.0,
                          color=color)
            if medians is not None:
                hit = medians[medians.index == g]
                m = float(hit.iloc[0]) if len(hit) else math.nan
                if math.isfinite(m):
                    median_x.append(m)
                    main.plot([m, m], [0.0, 0.5], ls="--", lw=0.8, color=color)
        if median_x:
            main.plot([0.0, max(median_x)], [0.5, 0.5], ls="--", lw=0.8, color="#555555")
        main.set_xlim(0.0, max(max(ticks), t_max) * 1.02)
        main.set_ylim(0.0, 1.02)
        main.set_xticks(ticks)
        main.set_ylabel(ylabel)
        main.set_xlabel(xlabel)
        if title:
            main.set_title(title, loc="left")
        main.legend(loc="upper right")
        notes = [f"Shaded: {result.conf_level:.0%} CI ({result.conf_type} transform)"] if ci else []
        if test is not None:
            name = str(test.method.get("test", "Log-rank test"))
            rho = f", rho = {test.rho:g}" if test.rho else ""
            notes.insert(0, f"{name}{rho}: {st.format_p_phrase(test.p_value)}")
        if median_x:
            notes.append("Dashed: median survival")
        if notes:
            main.text(0.02, 0.03, "\n".join(notes), transform=main.transAxes, ha="left",
                      va="bottom", fontsize=st.font_size - 1)
        if rt is not None:
            at = result.at(ticks, extend=True)
            rows = []
            for i, g in enumerate(groups):
                sub = at[at["group"] == g] if "group" in at.columns else at
                counts = [int(v) for v in sub["n_risk"].to_numpy()]
                rows.append((group_label(g), st.color(i), counts))
            draw_risk_table(rt, ticks, rows, st)
            main.tick_params(axis="x", labelbottom=True)
    return fig
