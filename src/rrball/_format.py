"""Number formatting shared by ``summary()`` methods and, later, the report renderers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["format_number", "format_p", "format_table"]


def format_number(value: Any, digits: int = 4) -> str:
    """Significant-digit formatting like R's print (``NA`` for missing)."""
    if value is None:
        return "NA"
    x = float(value)
    if math.isnan(x):
        return "NA"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}"


def format_p(value: Any) -> str:
    """p-value as R prints it in survdiff/coxph footers (``p = 0.001``, ``p < 2e-16``)."""
    if value is None or math.isnan(float(value)):
        return "NA"
    p = float(value)
    if p < 2.2e-16:
        return "< 2e-16"
    if p < 1e-4:
        return f"{p:.1e}"
    return f"{p:.2g}" if p < 0.1 else f"{p:.2f}".rstrip("0").rstrip(".")


def format_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], first_left: bool = True
) -> str:
    """Right-aligned plain-text table (first column left-aligned), as R prints matrices."""
    cols = list(zip(header, *rows, strict=True)) if rows else [(h,) for h in header]
    widths = [max(len(c) for c in col) for col in cols]
    lines = []
    for row in (header, *rows):
        cells = []
        for i, (cell, w) in enumerate(zip(row, widths, strict=True)):
            cells.append(cell.ljust(w) if (i == 0 and first_left) else cell.rjust(w))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
