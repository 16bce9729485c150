"""Excel workbooks (openpyxl): one sheet per table, numbers as numbers with number formats."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rrball.report.document import Report, slug
from rrball.report.tables import ColumnSpec, TableSpec

__all__ = ["number_format", "render_xlsx", "write_table_sheet"]


def number_format(col: ColumnSpec, source_index: int) -> str | None:
    """Excel number format of one source column of ``col`` (None for text)."""
    d = 2 if col.digits is None else col.digits
    fixed = "0" if d == 0 else "0." + "0" * d
    kind = col.kind
    if kind == "text":
        return None
    if kind == "integer":
        return "0"
    if kind == "p_value":
        return "0.0000"
    if kind == "percent":
        return "0.0%" if col.digits is None else ("0%" if d == 0 else "0." + "0" * d + "%")
    if kind == "n_pct":
        return "0" if source_index == 0 else "0.0%"
    if kind == "summary":
        return "0" if source_index == 0 else "0.0%" if source_index == 1 else "0.0"
    return fixed


_SUFFIX = {"ci": ("lower", "upper"), "n_pct": ("n", "proportion"),
           "summary": ("n", "proportion", "median", "Q1", "Q3")}


def _cell_value(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (bool, str)):
        return v
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    return int(x) if float(x).is_integer() and abs(x) < 2**53 and not isinstance(v, float) \
        else x


def write_table_sheet(ws: Any, spec: TableSpec) -> None:
    """Title, header, numeric body (merged kinds split into their numeric parts), footnotes."""
    from openpyxl.styles import Alignment, Font

    ws.cell(row=1, column=1, value=spec.title).font = Font(bold=True)
    headers: list[str] = []
    layout: list[tuple[ColumnSpec, int, str]] = []
    for c in spec.columns:
        keys = c.source_keys()
        for i, key in enumerate(keys):
            suffix = _SUFFIX.get(c.kind)
            headers.append(c.label if len(keys) == 1 or suffix is None
                           else f"{c.label}, {suffix[i]}")
            layout.append((c, i, key))
    for j, h in enumerate(headers, start=1):
        ws.cell(row=3, column=j, value=h).font = Font(bold=True)
    for r in range(spec.n_rows):
        for j, (c, i, key) in enumerate(layout, start=1):
            cell = ws.cell(row=4 + r, column=j, value=_cell_value(spec.value(r, key)))
            fmt = number_format(c, i)
            if fmt is not None and cell.value is not None and not isinstance(cell.value, str):
                cell.number_format = fmt
            if j == 1 and spec.indent[r]:
                cell.alignment = Alignment(indent=2 * spec.indent[r])
            if spec.bold[r]:
                cell.font = Font(bold=True)
    row = 4 + spec.n_rows + 1
    for note in (*spec.all_footnotes(), *spec.source_notes):
        ws.cell(row=row, column=1, value=note)
        row += 1
    for j, h in enumerate(headers, start=1):
        letter = ws.cell(row=3, column=j).column_letter
        ws.column_dimensions[letter].width = max(10, min(40, len(h) + 2))


def render_xlsx(report: Report, path: str | Path) -> Path:
    """One sheet per table (named after the table), plus an ``About`` sheet first."""
    from openpyxl import Workbook

    wb = Workbook()
    about = wb.active
    about.title = "About"
    about.append(["Title", report.title])
    about.append(["Data snapshot (SHA-256)", report.data_hash])
    about.append(["rrball", report.version])
    about.append(["Plan", report.plan_text])
    used: set[str] = {"About"}
    for k, spec in enumerate(report.tables(), start=1):
        base = slug(f"T{k} {spec.title}")
        name = base
        n = 2
        while name in used:
            name = f"{base[:28]}_{n}"
            n += 1
        used.add(name)
        write_table_sheet(wb.create_sheet(title=name), spec)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(out))
    return out
