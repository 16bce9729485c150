"""The :class:`Report` object: what every renderer turns into HTML, PDF, Word or Excel."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from matplotlib.figure import Figure

import rrball
from rrball.report.tables import TableSpec

__all__ = ["FigureItem", "Report", "Section", "slug"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FigureItem:
    """A figure with its caption; ``notes`` carry method, options and n (printed under it)."""

    name: str
    figure: Figure
    caption: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """A heading, optional text and an ordered list of tables and figures."""

    heading: str
    items: tuple[TableSpec | FigureItem, ...] = ()
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Title, data snapshot hash, the plan text and ordered sections (design.md §6)."""

    title: str
    data_hash: str
    plan_text: str
    sections: tuple[Section, ...]
    subtitle: str = ""
    version: str = field(default=rrball.__version__)

    def tables(self) -> list[TableSpec]:
        return [it for s in self.sections for it in s.items if isinstance(it, TableSpec)]

    def figures(self) -> list[FigureItem]:
        return [it for s in self.sections for it in s.items if isinstance(it, FigureItem)]


def slug(text: str, max_len: int = 31) -> str:
    """File- and sheet-safe short name (Excel sheet names: ≤ 31 chars, no []:*?/\\)."""
    s = re.sub(r"[^A-Za-z0-9 _-]+", "", text).strip().replace(" ", "_")
    return (s or "item")[:max_len]
