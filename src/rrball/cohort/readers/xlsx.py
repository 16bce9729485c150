"""XLSX workbook reader/writer: one sheet per table (data-dictionary.md §1 "Files").

Formulas (R-FILE-002) and merged cells (R-FILE-003) are reported cell by cell: a formula's cached
value is not trusted and a merged range hides values. Native date cells are read as dates.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from rrball.cohort.readers._common import cell_text, file_issue, make_raw
from rrball.cohort.validation import RawTable, make_issue
from rrball.errors import CohortIssue

__all__ = ["read_xlsx", "read_xlsx_bytes", "write_xlsx"]


def read_xlsx_bytes(data: bytes, source: str) -> tuple[dict[str, RawTable],
                                                       list[tuple[str, str | None, int]] | None,
                                                       list[CohortIssue]]:
    """Read every sheet; the ``metadata`` sheet gives key/value pairs."""
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        return {}, None, [file_issue("workbook", source, "R-FILE-001",
                                     f"not a readable XLSX workbook ({type(exc).__name__})")]
    tables: dict[str, RawTable] = {}
    issues: list[CohortIssue] = []
    meta: list[tuple[str, str | None, int]] | None = None
    for ws in wb.worksheets:
        label = ws.title
        name = label.strip().lower()
        src = f"{source} [{label}]"
        rows: list[list[Any]] = [list(r) for r in ws.iter_rows(values_only=False)]
        for rng in ws.merged_cells.ranges:
            issues.append(make_issue(table=label, row=rng.min_row,
                                     column=get_column_letter(rng.min_col), value=None,
                                     rule_id="R-FILE-003", severity="E",
                                     problem=f"merged cells {rng.coord}", source=src))
        texts: list[list[str | None]] = []
        for r in rows:
            line: list[str | None] = []
            for c in r:
                if c.data_type == "f":
                    issues.append(make_issue(table=label, row=c.row, column=c.column_letter,
                                             value=None, rule_id="R-FILE-002", severity="E",
                                             problem="cell holds a formula", source=src))
                    line.append(None)
                else:
                    line.append(cell_text(c.value))
            texts.append(line)
        while texts and all(v is None or str(v).strip() == "" for v in texts[-1]):
            texts.pop()
        header = [h or "" for h in texts[0]] if texts else []
        while header and header[-1] == "":
            header.pop()
        body = texts[1:]
        if name == "metadata":
            heads = [h.strip().lower() for h in header]
            meta = []
            if "key" in heads and "value" in heads:
                k, v = heads.index("key"), heads.index("value")
                meta = [(str(r[k]), r[v] if v < len(r) else None, i + 2)
                        for i, r in enumerate(body) if k < len(r) and r[k]]
            continue
        raw = make_raw(name, label, src, header, body)
        keep = [i for i, r in enumerate(body) if any(v not in (None, "") for v in r)]
        if len(keep) != len(body):
            raw.cells = [c[keep] for c in raw.cells]
            raw.rows = raw.rows[keep]
        tables[name] = raw
    return tables, meta, issues


def read_xlsx(path: Path) -> tuple[dict[str, RawTable], list[tuple[str, str | None, int]] | None,
                                   list[CohortIssue]]:
    """Read a workbook file."""
    return read_xlsx_bytes(path.read_bytes(), path.name)


def write_xlsx(path: Path, tables: Mapping[str, pd.DataFrame],
               meta_pairs: list[tuple[str, str]]) -> None:
    """Write one sheet per table plus ``metadata`` (text cells, so codes and dates round-trip)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, df in {**tables, "metadata": pd.DataFrame(meta_pairs, columns=["key", "value"])
                     }.items():
        ws = wb.create_sheet(name)
        ws.append(list(df.columns))
        for row in df.itertuples(index=False):
            ws.append([None if v is None or (isinstance(v, float) and v != v) or v == ""
                       else str(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())
