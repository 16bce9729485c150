"""Swimmer plot: one lane per patient with treatment segments and event markers.

Input: a DataFrame (or records) with one row per segment or event and the columns

``patient``
    Lane label (lanes are drawn in order of first appearance, top to bottom).
``kind``
    ``"treatment"`` (a segment from ``start`` to ``end``, coloured by ``label``),
    ``"response"`` (marker at ``start``; ``label`` is the response code, e.g. CR, CRi, MRD-neg),
    ``"hsct"``, ``"relapse"``, ``"death"`` (markers at ``start``), or ``"ongoing"`` (an arrow at
    ``start``: follow-up continues).
``start``
    Time from the lane's origin (any unit; the caller states it in ``xlabel``).
``end``
    End of a treatment segment (ignored for events).
``label``
    Therapy name for treatment rows, response code for response rows; optional otherwise.

The study layer builds this table from the cohort's timelines; the figure only draws it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rrball.report.figures._common import new_figure, styled
from rrball.report.styles import Style, get_style

__all__ = ["SWIMMER_KINDS", "swimmer_plot"]

SWIMMER_KINDS = ("treatment", "response", "hsct", "relapse", "death", "ongoing")

_EVENT_MARKERS: Mapping[str, tuple[str, str, str]] = {
    # kind: (marker, colour, legend label)
    "hsct": ("*", "#009E73", "allo-HSCT"),
    "relapse": ("X", "#D55E00", "Relapse / progression"),
    "death": ("s", "#000000", "Death"),
}
_RESPONSE_MARKERS = ("o", "D", "^", "v", "P", "h")


def _frame(lanes: pd.DataFrame | Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    df = lanes.copy() if isinstance(lanes, pd.DataFrame) else pd.DataFrame(list(lanes))
    missing = {"patient", "kind", "start"} - set(df.columns)
    if missing:
        raise ValueError(f"swimmer lanes lack column(s) {sorted(missing)}")
    for col in ("end", "label"):
        if col not in df.columns:
            df[col] = np.nan if col == "end" else ""
    bad = sorted(set(df["kind"]) - set(SWIMMER_KINDS))
    if bad:
        raise ValueError(f"unknown kind(s) {bad}; allowed: {', '.join(SWIMMER_KINDS)}")
    seg = df[df["kind"] == "treatment"]
    if seg["end"].isna().any() or (seg["end"] < seg["start"]).any():
        raise ValueError("every treatment row needs end >= start")
    return df


def swimmer_plot(
    lanes: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    ax: Axes | None = None,
    style: Style | None = None,
    xlabel: str = "Time",
    title: str | None = None,
) -> Figure:
    """Draw the lanes described in the module docstring; returns the Figure."""
    st = style or get_style()
    df = _frame(lanes)
    patients = list(dict.fromkeys(df["patient"].astype(str)))
    y_of = {p: len(patients) - 1 - i for i, p in enumerate(patients)}
    therapies = list(dict.fromkeys(df.loc[df["kind"] == "treatment", "label"].astype(str)))
    responses = list(dict.fromkeys(df.loc[df["kind"] == "response", "label"].astype(str)))
    t_max = float(np.nanmax(np.r_[df["start"].to_numpy(dtype=float),
                                  df["end"].to_numpy(dtype=float)]))
    with styled(st):
        if ax is None:
            fig = new_figure(st, 1.2 + 0.45 * len(patients))
            main = fig.add_subplot()
        else:
            parent = ax.get_figure()
            if not isinstance(parent, Figure):
                raise TypeError("ax must belong to a matplotlib Figure")
            fig, main = parent, ax
        handles: list[Any] = []
        for p in patients:  # follow-up line from the origin to the lane's last time
            rows = df[df["patient"].astype(str) == p]
            last = float(np.nanmax(np.r_[rows["start"].to_numpy(dtype=float),
                                         rows["end"].to_numpy(dtype=float)]))
            main.plot([0.0, last], [y_of[p], y_of[p]], color="#999999", lw=0.8, zorder=0)
        for j, therapy in enumerate(therapies):
            color = st.color(j)
            rows = df[(df["kind"] == "treatment") & (df["label"].astype(str) == therapy)]
            for _, r in rows.iterrows():
                y = y_of[str(r["patient"])]
                main.barh(y, float(r["end"]) - float(r["start"]), left=float(r["start"]),
                          height=0.5, color=color, edgecolor="white", lw=0.5)
            handles.append(Patch(facecolor=color, label=therapy))
        for j, code in enumerate(responses):
            rows = df[(df["kind"] == "response") & (df["label"].astype(str) == code)]
            marker = _RESPONSE_MARKERS[j % len(_RESPONSE_MARKERS)]
            main.plot(rows["start"].astype(float), [y_of[str(p)] for p in rows["patient"]],
                      ls="none", marker=marker, ms=6, mfc="white", mec="#000000", mew=1.0)
            handles.append(Line2D([], [], ls="none", marker=marker, mfc="white", mec="#000000",
                                  label=f"Response: {code}"))
        for kind, (marker, color, name) in _EVENT_MARKERS.items():
            rows = df[df["kind"] == kind]
            if rows.empty:
                continue
            main.plot(rows["start"].astype(float), [y_of[str(p)] + 0.0 for p in rows["patient"]],
                      ls="none", marker=marker, ms=9 if marker == "*" else 7, color=color,
                      mec="white" if kind != "death" else color, mew=0.5, zorder=4)
            handles.append(Line2D([], [], ls="none", marker=marker, color=color, label=name))
        ongoing = df[df["kind"] == "ongoing"]
        arrow = 0.04 * t_max
        for _, r in ongoing.iterrows():
            y = y_of[str(r["patient"])]
            main.annotate("", xy=(float(r["start"]) + arrow, y), xytext=(float(r["start"]), y),
                          arrowprops={"arrowstyle": "-|>", "color": "#000000", "lw": 1.2})
        if not ongoing.empty:
            handles.append(Line2D([], [], color="#000000", marker=">", ms=5,
                                  label="Ongoing"))
        main.set_yticks(range(len(patients)))
        main.set_yticklabels(list(reversed(patients)))
        main.set_ylim(-0.7, len(patients) - 0.3)
        main.set_xlim(-arrow / 2, t_max + 2 * arrow)
        main.set_xlabel(xlabel)
        main.spines["left"].set_visible(False)
        main.tick_params(axis="y", length=0)
        main.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        if title:
            main.set_title(title, loc="left")
    return fig
