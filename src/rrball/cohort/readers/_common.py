"""Helpers shared by the readers and writers: file-level issues and text conversion."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import numpy.typing as npt

from rrball.cohort.validation import RawTable, make_issue
from rrball.errors import CohortIssue

__all__ = ["cell_text", "file_issue", "make_raw"]


def file_issue(label: str, source: str, rule_id: str, problem: str,
               row: int | None = None, column: str | None = None) -> CohortIssue:
    """A file-level record (R-FILE-001 unreadable/empty, R-GEN-010 …)."""
    return make_issue(table=label, row=row, column=column, value=None, rule_id=rule_id,
                      severity="E", problem=problem, source=source)


def cell_text(value: object) -> str | None:
    """A spreadsheet cell as the text a CSV would hold (dates ISO, integral floats without .0)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def make_raw(name: str, label: str, source: str, header: list[str],
             rows: list[list[str | None]], first_row: int = 2) -> RawTable:
    """Column arrays from row lists (short rows padded with empty cells)."""
    width = len(header)
    cols: list[npt.NDArray[np.object_]] = []
    for j in range(width):
        arr = np.empty(len(rows), dtype=object)
        arr[:] = [r[j] if j < len(r) else None for r in rows]
        cols.append(arr)
    return RawTable(name, label, source, header, cols,
                    np.arange(first_row, first_row + len(rows), dtype=np.int64))
