"""Named style presets: fonts, palette and number rules, passed explicitly (never global state).

A :class:`Style` is an immutable value. Figures apply it through ``matplotlib.rc_context`` and
per-artist settings; renderers use its number rules (p-values, decimals, CI separator). Nothing in
rrball changes ``matplotlib.rcParams`` globally.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = ["OKABE_ITO", "PRESETS", "Style", "get_style"]

#: Okabe & Ito (2008) colour-blind-safe palette, black last (used for reference lines).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)

PRule = Literal["default", "jama", "nejm"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Style:
    """Formatting and figure settings of one journal-like preset.

    ``p_rule``:
      - ``"default"``: 2 significant digits below 0.1, 2 decimals above; ``< 0.001`` floor.
      - ``"jama"``: JAMA rule — 2 decimals if p ≥ 0.01 (3 if 0.001 ≤ p < 0.01 or p rounds to
        0.05), ``< .001`` floor, no leading zero.
      - ``"nejm"``: 3 decimals, ``< 0.001`` floor, ``> 0.99`` ceiling.
    """

    name: str
    font_family: str = "DejaVu Sans"
    font_size: float = 9.0
    palette: tuple[str, ...] = OKABE_ITO
    p_rule: PRule = "default"
    estimate_digits: int = 2
    percent_digits: int = 1
    ci_separator: str = "–"
    figure_width_in: float = 6.5
    dpi: int = 200
    line_width: float = 1.4
    extra_rc: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def color(self, i: int) -> str:
        """The i-th palette colour (cycling, skipping black for data series)."""
        data = [c for c in self.palette if c != "#000000"] or list(self.palette)
        return data[i % len(data)]

    def rc(self) -> dict[str, object]:
        """rcParams for ``matplotlib.rc_context`` (local to one figure build)."""
        rc: dict[str, object] = {
            "font.family": "sans-serif",
            "font.sans-serif": [self.font_family, "DejaVu Sans"],
            "font.size": self.font_size,
            "axes.titlesize": self.font_size + 1,
            "axes.labelsize": self.font_size,
            "xtick.labelsize": self.font_size - 1,
            "ytick.labelsize": self.font_size - 1,
            "legend.fontsize": self.font_size - 1,
            "legend.frameon": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.linewidth": 0.8,
            "lines.linewidth": self.line_width,
            "svg.fonttype": "none",
            "pdf.fonttype": 42,
        }
        rc.update(self.extra_rc)
        return rc

    def format_p(self, p: float | None) -> str:
        """A p-value under this style's rule (``"NA"`` for missing)."""
        if p is None or not math.isfinite(p):
            return "NA"
        if self.p_rule == "jama":
            if p < 0.001:
                return "<.001"
            if p < 0.01 or round(p, 2) == 0.05:
                return f"{p:.3f}".lstrip("0")
            return f"{p:.2f}".lstrip("0")
        if self.p_rule == "nejm":
            if p < 0.001:
                return "<0.001"
            if p > 0.99:
                return ">0.99"
            return f"{p:.3f}"
        if p < 0.001:
            return "<0.001"
        if p < 0.1:
            return f"{p:.2g}"
        return f"{p:.2f}"

    def format_p_phrase(self, p: float | None) -> str:
        """``"p = 0.03"`` or ``"p < 0.001"`` (for figure annotations)."""
        text = self.format_p(p)
        return f"p {text[0]} {text[1:]}" if text[:1] in "<>" else f"p = {text}"

    def format_number(self, x: float | None, digits: int | None = None) -> str:
        """Fixed decimals (``estimate_digits`` by default); ``"NA"`` for missing."""
        if x is None or not math.isfinite(x):
            return "NA" if x is None or math.isnan(x) else ("∞" if x > 0 else "−∞")
        d = self.estimate_digits if digits is None else digits
        return f"{x:.{d}f}"

    def format_percent(self, proportion: float | None, digits: int | None = None) -> str:
        """A proportion (0–1) as a percentage with ``percent_digits`` decimals."""
        if proportion is None or not math.isfinite(proportion):
            return "NA"
        d = self.percent_digits if digits is None else digits
        return f"{100 * proportion:.{d}f}"

    def format_ci(self, lower: float | None, upper: float | None,
                  digits: int | None = None) -> str:
        """``"1.23–4.56"`` with this style's separator."""
        return (f"{self.format_number(lower, digits)}{self.ci_separator}"
                f"{self.format_number(upper, digits)}")


PRESETS: Mapping[str, Style] = MappingProxyType({
    "default": Style(name="default"),
    "jama": Style(name="jama", font_family="DejaVu Sans", p_rule="jama", ci_separator=" to ",
                  percent_digits=1),
    "nejm": Style(name="nejm", font_family="DejaVu Serif", p_rule="nejm", estimate_digits=2),
})


def get_style(name: str = "default") -> Style:
    """A named preset (``"default"``, ``"jama"``, ``"nejm"``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"style {name!r} is not one of {', '.join(PRESETS)}") from None
