"""Figure plumbing shared by the plots: Agg canvases, risk tables, annotations."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager

import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from rrball.report.styles import Style


@contextmanager
def styled(style: Style) -> Iterator[None]:
    """rcParams of ``style`` for the duration of one figure build (never global)."""
    with matplotlib.rc_context(style.rc()):  # type: ignore[arg-type]  # keys: Style.rc()
        yield


def new_figure(style: Style, height_in: float) -> Figure:
    """A Figure on an explicit Agg canvas (no pyplot state, no backend switching)."""
    fig = Figure(figsize=(style.figure_width_in, height_in), dpi=style.dpi,
                 layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def default_ticks(t_max: float, nbins: int = 6) -> list[float]:
    """Round tick positions from 0 to ``t_max`` (the risk-table columns)."""
    ticks = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(0.0, t_max)
    return [float(t) for t in ticks if 0.0 <= t <= t_max * 1.0001]


def group_label(group: Hashable) -> str:
    return "All" if group is None or group == "all" else str(group)


def draw_risk_table(
    ax: Axes, ticks: Sequence[float], rows: Sequence[tuple[str, str, Sequence[int]]],
    style: Style, title: str = "Number at risk",
) -> None:
    """Numbers at risk under the x-ticks: one row per group (label, colour, counts)."""
    ax.set_ylim(-0.5, len(rows) - 0.5)
    for i, (_label, color, counts) in enumerate(rows):
        y = len(rows) - 1 - i
        for t, n in zip(ticks, counts, strict=True):
            ax.text(t, y, str(n), ha="center", va="center", color=color,
                    fontsize=style.font_size - 1)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in reversed(rows)], fontsize=style.font_size - 1)
    for tick, (_, color, _) in zip(ax.get_yticklabels(), list(reversed(rows)), strict=True):
        tick.set_color(color)
    ax.tick_params(axis="both", length=0)
    ax.tick_params(axis="y", pad=14)
    ax.tick_params(axis="x", labelbottom=False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, loc="left", fontsize=style.font_size - 1, fontweight="bold")


def step_xy(time: Sequence[float] | npt.NDArray[np.float64],
            value: Sequence[float] | npt.NDArray[np.float64],
            start: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Prepend (0, start) so a step curve starts at the origin."""
    t = np.concatenate([[0.0], np.asarray(time, dtype=float)])
    v = np.concatenate([[start], np.asarray(value, dtype=float)])
    return t, v


def finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def layout_with_risk_table(
    style: Style, ax: Axes | None, risk_table: bool, n_rows: int, height_in: float = 4.2,
) -> tuple[Figure, Axes, Axes | None]:
    """The curve axes and (optionally) a risk-table axes sharing its x-axis.

    With ``ax`` given, the figure is ``ax``'s and the risk table is an inset below it.
    """
    if ax is None:
        table_h = 0.28 + 0.2 * n_rows if risk_table else 0.0
        fig = new_figure(style, height_in + table_h)
        if risk_table:
            gs = fig.add_gridspec(2, 1, height_ratios=[height_in, table_h])
            main = fig.add_subplot(gs[0])
            rt = fig.add_subplot(gs[1], sharex=main)
            return fig, main, rt
        return fig, fig.add_subplot(), None
    parent = ax.get_figure()
    if not isinstance(parent, Figure):
        raise TypeError("ax must belong to a matplotlib Figure")
    if not risk_table:
        return parent, ax, None
    rt = ax.inset_axes((0.0, -0.22 - 0.09 * n_rows, 1.0, 0.07 * n_rows + 0.04), sharex=ax)
    return parent, ax, rt


Formatter = Callable[[float], str]
