"""Report layer: figures, renderer-neutral tables (TableSpec) and renderers.

The layer formats results; it computes no statistics (design.md §6). Figures take result objects
and return matplotlib ``Figure`` objects built without pyplot; tables become :class:`TableSpec`
objects whose body stays numeric until a renderer formats it with an explicit :class:`Style`.
File output lives in :mod:`rrball.report.render` only.
"""

from rrball.report.document import FigureItem, Report, Section
from rrball.report.styles import PRESETS, Style, get_style
from rrball.report.tables import ColumnSpec, TableSpec

__all__ = ["PRESETS", "ColumnSpec", "FigureItem", "Report", "Section", "Style", "TableSpec",
           "get_style"]
