"""Forest plot of odds, hazard or subdistribution-hazard ratios on a log axis."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

from rrball.report.figures._common import new_figure, styled
from rrball.report.styles import Style, get_style
from rrball.stats import CoxResult, FineGrayResult, LogisticResult

__all__ = ["forest_frame", "forest_plot"]

ForestSource = CoxResult | FineGrayResult | LogisticResult | pd.DataFrame


def forest_frame(source: ForestSource) -> tuple[pd.DataFrame, str, float]:
    """``term, estimate, lower, upper, p_value`` plus the measure name and conf level.

    A DataFrame must already have these columns (``p_value`` optional); results are read from
    their ``.table`` (the logistic intercept is dropped).
    """
    if isinstance(source, LogisticResult):
        t = source.table
        t = t[t["term"] != "(Intercept)"]
        frame = pd.DataFrame({"term": t["term"], "estimate": t["odds_ratio"],
                              "lower": t["or_lower"], "upper": t["or_upper"],
                              "p_value": t["p_value"]})
        return frame.reset_index(drop=True), "OR", source.conf_level
    if isinstance(source, (CoxResult, FineGrayResult)):
        t = source.table
        frame = pd.DataFrame({"term": t["term"], "estimate": t["exp_coef"], "lower": t["lower"],
                              "upper": t["upper"], "p_value": t["p_value"]})
        measure = "HR" if isinstance(source, CoxResult) else "SHR"
        return frame.reset_index(drop=True), measure, source.conf_level
    missing = {"term", "estimate", "lower", "upper"} - set(source.columns)
    if missing:
        raise ValueError(f"forest_plot: the table lacks column(s) {sorted(missing)}")
    frame = source.copy()
    if "p_value" not in frame.columns:
        frame["p_value"] = np.nan
    return frame.reset_index(drop=True), "Ratio", 0.95


def forest_plot(
    source: ForestSource,
    *,
    measure: str | None = None,
    labels: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    style: Style | None = None,
    show_values: bool = True,
    title: str | None = None,
    favours: tuple[str, str] | None = None,
) -> Figure:
    """Point estimates (squares) and CIs (lines) per term on a log axis, reference line at 1.

    Terms whose estimate or limits are not finite (e.g. separation) are listed as
    "not estimable" without a marker. ``labels`` renames terms; ``favours`` writes two captions
    under the axis (left, right of 1).
    """
    st = style or get_style()
    frame, default_measure, conf_level = forest_frame(source)
    name = measure or default_measure
    lab = labels or {}
    n = len(frame)
    with styled(st):
        value_ax: Axes | None = None
        p_ax: Axes | None = None
        if ax is None:
            fig = new_figure(st, 1.1 + 0.32 * max(n, 1))
            if show_values:
                gs = fig.add_gridspec(1, 3, width_ratios=[3.0, 1.5, 0.55], wspace=0.0)
                main = fig.add_subplot(gs[0])
                value_ax = fig.add_subplot(gs[1], sharey=main)
                p_ax = fig.add_subplot(gs[2], sharey=main)
            else:
                main = fig.add_subplot()
        else:
            parent = ax.get_figure()
            if not isinstance(parent, Figure):
                raise TypeError("ax must belong to a matplotlib Figure")
            fig, main = parent, ax
            if show_values:
                value_ax = ax.inset_axes((1.02, 0.0, 0.45, 1.0), sharey=ax)
                p_ax = ax.inset_axes((1.47, 0.0, 0.18, 1.0), sharey=ax)
        finite = frame[["estimate", "lower", "upper"]].apply(
            lambda c: np.isfinite(c.to_numpy(dtype=float)) & (c.to_numpy(dtype=float) > 0))
        ok = finite.all(axis=1).to_numpy()
        lo_all = frame.loc[ok, "lower"].to_numpy(dtype=float)
        up_all = frame.loc[ok, "upper"].to_numpy(dtype=float)
        x_lo = min(0.5, float(lo_all.min()) * 0.8) if ok.any() else 0.25
        x_hi = max(2.0, float(up_all.max()) * 1.25) if ok.any() else 4.0
        ys = np.arange(n)[::-1]
        color = st.color(0)
        for y, (_, row), good in zip(ys, frame.iterrows(), ok, strict=True):
            if not good:
                continue
            main.plot([row["lower"], row["upper"]], [y, y], color=color, lw=1.2)
            main.plot([row["estimate"]], [y], marker="s", ms=6, color=color, ls="none")
        main.axvline(1.0, color="#000000", lw=0.8, ls="-")
        main.set_xscale("log")
        main.set_xlim(x_lo, x_hi)
        main.set_ylim(-0.7, n - 0.3)
        main.set_yticks(ys)
        main.set_yticklabels([lab.get(str(t), str(t)) for t in frame["term"]])
        ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
                 if x_lo <= v <= x_hi]
        main.xaxis.set_major_locator(FixedLocator(ticks))
        main.xaxis.set_minor_locator(NullLocator())
        main.xaxis.set_minor_formatter(NullFormatter())
        main.set_xticklabels([f"{v:g}" for v in ticks])
        main.set_xlabel(f"{name} ({conf_level:.0%} CI, log scale)")
        main.spines["left"].set_visible(False)
        main.tick_params(axis="y", length=0)
        if value_ax is not None and p_ax is not None:
            for side_ax in (value_ax, p_ax):
                side_ax.set_axis_off()
                side_ax.set_xlim(0.0, 1.0)
            value_ax.text(0.0, n - 0.35, f"{name} ({conf_level:.0%} CI)", ha="left",
                          va="bottom", fontweight="bold", fontsize=st.font_size - 1)
            p_ax.text(0.0, n - 0.35, "p", ha="left", va="bottom", fontweight="bold",
                      fontsize=st.font_size - 1)
            for y, (_, row), good in zip(ys, frame.iterrows(), ok, strict=True):
                text = (f"{st.format_number(float(row['estimate']))} "
                        f"({st.format_ci(float(row['lower']), float(row['upper']))})"
                        if good else "not estimable")
                value_ax.text(0.0, y, text, ha="left", va="center", fontsize=st.font_size - 1)
                p = float(row["p_value"])
                if good and math.isfinite(p):
                    p_ax.text(0.0, y, st.format_p(p), ha="left", va="center",
                              fontsize=st.font_size - 1)
        if favours is not None:
            main.annotate(f"← {favours[0]}", xy=(1.0, 0.0), xycoords=("data", "axes fraction"),
                          xytext=(-4, -30), textcoords="offset points", ha="right", va="top",
                          fontsize=st.font_size - 1)
            main.annotate(f"{favours[1]} →", xy=(1.0, 0.0), xycoords=("data", "axes fraction"),
                          xytext=(4, -30), textcoords="offset points", ha="left", va="top",
                          fontsize=st.font_size - 1)
        if title:
            main.set_title(title, loc="left")
    return fig
