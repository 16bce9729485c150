"""Saving figures: PNG (raster) and PDF/SVG (vector)."""

from __future__ import annotations

import io
import weakref
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

__all__ = ["FIGURE_FORMATS", "figure_bytes", "save_figure"]

FIGURE_FORMATS = ("png", "pdf", "svg")

# One report writes each figure several times (HTML/SVG, PDF and Word/PNG, the figure files):
# the encoded bytes are kept per figure object and format for as long as the figure lives.
# Figures of a Report are final once built; a figure changed after rendering must be copied.
_ENCODED: weakref.WeakKeyDictionary[Figure, dict[tuple[str, int], bytes]] = \
    weakref.WeakKeyDictionary()


def figure_bytes(fig: Figure, fmt: str, *, dpi: int | None = None) -> bytes:
    """The figure encoded as ``png``, ``pdf`` or ``svg`` (metadata without dates: reproducible).

    Encodings are cached per figure object, format and dpi (see ``_ENCODED``)."""
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FIGURE_FORMATS)}")
    key = (fmt, int(dpi or fig.dpi))
    cached = _ENCODED.setdefault(fig, {})
    if key in cached:
        return cached[key]
    buf = io.BytesIO()
    metadata: dict[str, str | None] = {"Creator": "rrball"}
    if fmt == "pdf":
        metadata["CreationDate"] = None
    if fmt == "svg":
        metadata = {"Creator": "rrball", "Date": None}
    if fmt == "png":
        metadata = {"Software": "rrball"}
    fig.savefig(buf, format=fmt, dpi=key[1], metadata=metadata)
    cached[key] = buf.getvalue()
    return cached[key]


def save_figure(fig: Figure, path_stem: str | Path,
                formats: Sequence[str] = FIGURE_FORMATS) -> list[Path]:
    """Write ``path_stem.<fmt>`` for each format; returns the paths written."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        path.write_bytes(figure_bytes(fig, fmt))
        paths.append(path)
    return paths
