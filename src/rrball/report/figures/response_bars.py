"""Stacked response bars by subgroup with n and the exact CI of the chosen categories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rrball.report.figures._common import new_figure, styled
from rrball.report.styles import Style, get_style
from rrball.stats import ProportionResult, proportion_ci

__all__ = ["response_bars"]


def response_bars(
    counts: pd.DataFrame,
    *,
    highlight: Sequence[str],
    cis: Mapping[str, ProportionResult] | None = None,
    ax: Axes | None = None,
    style: Style | None = None,
    highlight_label: str | None = None,
    title: str | None = None,
    ylabel: str = "Patients, %",
) -> Figure:
    """One stacked bar per subgroup: the share of each response category.

    Parameters
    ----------
    counts:
        Wide table of counts: index = subgroup labels (bar order), columns = response
        categories in stacking order from the bottom (e.g. ``CR, CRi, PR, NR, not evaluable``).
        Every patient of a subgroup is in exactly one category, so a row sum is that n.
    highlight:
        Categories whose combined share is annotated (e.g. ``["CR", "CRi"]`` for CR/CRi); they
        must be the first columns so the combined share is the top of their stack.
    cis:
        The :class:`ProportionResult` of the combined categories per subgroup. When omitted it
        is obtained from the public stats API, ``rrball.stats.proportion_ci(x, n,
        method="exact")`` (Clopper-Pearson) — the only statistics call of the report layer.
    """
    st = style or get_style()
    cats = [str(c) for c in counts.columns]
    hl = [str(c) for c in highlight]
    if not hl or cats[: len(hl)] != hl:
        raise ValueError(f"highlight {hl} must be the first column(s) of counts, got {cats}")
    data = counts.astype(int)
    totals = data.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError("every subgroup needs at least one patient")
    shares = data.div(totals, axis=0).to_numpy(dtype=float)
    groups = [str(g) for g in data.index]
    hl_name = highlight_label or "/".join(hl)
    results: dict[str, ProportionResult] = {}
    for g, (_, row) in zip(groups, data.iterrows(), strict=True):
        if cis is not None and g in cis:
            results[g] = cis[g]
        else:
            results[g] = proportion_ci(int(row[hl].sum()), int(row.sum()), method="exact")
    with styled(st):
        if ax is None:
            fig = new_figure(st, 4.2)
            main = fig.add_subplot()
        else:
            parent = ax.get_figure()
            if not isinstance(parent, Figure):
                raise TypeError("ax must belong to a matplotlib Figure")
            fig, main = parent, ax
        x = np.arange(len(groups))
        bottom = np.zeros(len(groups))
        for j, cat in enumerate(cats):
            color = st.color(j) if j < len(cats) - 1 or len(cats) <= 2 else "#BBBBBB"
            main.bar(x, shares[:, j] * 100, bottom=bottom * 100, width=0.6, color=color,
                     edgecolor="white", lw=0.6, label=cat)
            bottom += shares[:, j]
        for i, g in enumerate(groups):
            r = results[g]
            main.errorbar([x[i]], [r.estimate * 100],
                          yerr=[[r.estimate * 100 - r.lower * 100],
                                [r.upper * 100 - r.estimate * 100]],
                          fmt="o", ms=3.5, color="#000000", capsize=3, lw=1.0)
            main.text(x[i] + 0.33, r.estimate * 100,
                      f"{st.format_percent(r.estimate, 0)}%\n"
                      f"({st.format_percent(r.lower, 0)}{st.ci_separator}"
                      f"{st.format_percent(r.upper, 0)})",
                      ha="left", va="center", fontsize=st.font_size - 2)
        main.set_xticks(x)
        main.set_xticklabels([f"{g}\nn = {int(totals.iloc[i])}" for i, g in enumerate(groups)])
        main.set_xlim(-0.6, len(groups) - 0.1)
        main.set_ylim(0, 100)
        main.set_ylabel(ylabel)
        main.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="Response")
        first = next(iter(results.values()))
        level = f"{first.conf_level:.0%}"
        main.set_title(title or f"{hl_name} with {level} CI ({first.method.get('method')})",
                       loc="left")
    return fig
