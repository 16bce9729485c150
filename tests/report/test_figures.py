"""Figures render on public data, are not blank, and leave global matplotlib state alone."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from rrball.report.document import Report
from rrball.report.figures import cif_plot, forest_plot, km_plot, response_bars, swimmer_plot
from rrball.report.render import figure_bytes, save_figure
from rrball.stats import cumulative_incidence, kaplan_meier, logrank_test, proportion_ci


def _pixels(fig: Figure) -> np.ndarray:  # type: ignore[type-arg]
    return np.asarray(mpimg.imread(io.BytesIO(figure_bytes(fig, "png")), format="png"))


@pytest.mark.parametrize("name", ["km_bmt", "cif_bmt", "forest_cox", "response_bars",
                                  "swimmer"])
def test_figure_png_is_not_blank(report: Report, name: str) -> None:
    """Each figure's PNG has real content: pixel variance and many non-white pixels."""
    (item,) = [f for f in report.figures() if f.name == name]
    px = _pixels(item.figure)[..., :3]
    assert px.std() > 0.05
    non_white = (px.min(axis=2) < 0.9).mean()
    assert non_white > 0.02


def test_save_figure_writes_raster_and_vector(report: Report, tmp_path: Path) -> None:
    """PNG, PDF and SVG files are written with their signatures."""
    fig = report.figures()[0].figure
    paths = save_figure(fig, tmp_path / "km", formats=("png", "pdf", "svg"))
    assert [p.suffix for p in paths] == [".png", ".pdf", ".svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    assert b"<svg" in paths[2].read_bytes()[:2000]


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def test_km_risk_table_is_read_from_result_at(bmt: pd.DataFrame) -> None:
    """Numbers at risk under the ticks equal result.at(ticks, extend=True).n_risk."""
    km = kaplan_meier(bmt["t2"], bmt["d3"], group=bmt["group"])
    lr = logrank_test(bmt["t2"], bmt["d3"], bmt["group"])
    ticks = [0.0, 500.0, 1000.0, 1500.0, 2000.0]
    fig = km_plot(km, times=ticks, test=lr)
    rt = fig.axes[1]
    shown = sorted((round(t.get_position()[0]), t.get_text()) for t in rt.texts)
    at = km.at(ticks, extend=True)
    expected = sorted((round(float(t)), str(int(n))) for t, n in zip(at["time"], at["n_risk"],
                                                                        strict=True))
    assert shown == expected
    assert list(fig.axes[0].get_xticks()) == ticks
    text = "\n".join(_texts(fig))
    assert "Log-rank test: p = 0.001" in text
    assert "95% CI (log transform)" in text


def test_km_into_given_axes_and_without_risk_table(bmt: pd.DataFrame) -> None:
    """ax= is honoured (its Figure is returned); risk_table=False adds no axes."""
    km = kaplan_meier(bmt["t2"], bmt["d3"])
    fig = Figure()
    ax = fig.add_subplot()
    assert km_plot(km, ax=ax, risk_table=False, median_lines=False) is fig
    assert len(fig.axes) == 1
    assert km_plot(km, ax=ax) is fig
    assert len(ax.child_axes) == 1  # the risk table is an inset under ax


def test_cif_numbers_at_risk(bmt_competing: pd.DataFrame) -> None:
    """The CIF risk table reads the result's own numbers at risk, the same as an all-cause
    Kaplan-Meier of the same patients; a Kaplan-Meier of other patients is refused."""
    c = bmt_competing
    cif = cumulative_incidence(c["time"], c["status"], group=c["group"])
    km = kaplan_meier(c["time"], c["status"] > 0, group=c["group"])
    ticks = [0.0, 500.0, 1000.0, 2000.0]
    own = cif.at(ticks).drop_duplicates(["group", "time"])["n_risk"].to_numpy()
    np.testing.assert_array_equal(own, km.at(ticks, extend=True)["n_risk"].to_numpy())
    assert len(cif_plot(cif).axes) == 2
    other = kaplan_meier(c["time"][:50], c["status"][:50] > 0, group=c["group"][:50])
    with pytest.raises(ValueError, match=r"same patients|groups"):
        cif_plot(cif, at_risk=other)
    assert len(cif_plot(cif, risk_table=False).axes) == 1


def test_forest_lists_values_and_handles_non_estimable_terms() -> None:
    """Values column shows estimate (CI); an infinite OR is listed as not estimable."""
    table = pd.DataFrame({"term": ["a", "b"], "estimate": [2.0, np.inf],
                          "lower": [1.2, np.nan], "upper": [3.5, np.inf],
                          "p_value": [0.004, np.nan]})
    text = "\n".join(_texts(forest_plot(table, measure="OR")))
    assert "2.00 (1.20–3.50)" in text
    assert "not estimable" in text
    assert "0.004" in text


def test_response_bars_annotate_exact_ci(response_counts: pd.DataFrame) -> None:
    """The highlighted share is annotated with the Clopper-Pearson interval."""
    fig = response_bars(response_counts, highlight=["CR", "CRi"])
    ci = proportion_ci(45, 55, method="exact")
    text = "\n".join(_texts(fig))
    assert f"{100 * ci.estimate:.0f}%" in text
    assert f"({100 * ci.lower:.0f}–{100 * ci.upper:.0f})" in text
    assert "n = 55" in text
    with pytest.raises(ValueError, match="first column"):
        response_bars(response_counts, highlight=["NR"])


def test_swimmer_validates_lanes(lanes: pd.DataFrame) -> None:
    """Unknown kinds and treatment rows without an end are refused."""
    with pytest.raises(ValueError, match="unknown kind"):
        swimmer_plot(pd.concat([lanes, pd.DataFrame([{"patient": "x", "kind": "surgery",
                                                      "start": 1}])]))
    with pytest.raises(ValueError, match="end >= start"):
        swimmer_plot([{"patient": "x", "kind": "treatment", "start": 5, "end": 1,
                       "label": "InO"}])
    text = "\n".join(_texts(swimmer_plot(lanes)))
    for label in ("Blinatumomab", "Inotuzumab", "allo-HSCT", "Death", "Ongoing",
                  "Response: CR MRD-neg"):
        assert label in text


def test_figures_do_not_touch_global_rcparams(bmt: pd.DataFrame) -> None:
    """Building a styled figure leaves matplotlib.rcParams exactly as it was."""
    before = dict(matplotlib.rcParams)
    km = kaplan_meier(bmt["t2"], bmt["d3"], group=bmt["group"])
    km_plot(km)
    assert dict(matplotlib.rcParams) == before
