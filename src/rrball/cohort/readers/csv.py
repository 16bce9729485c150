"""CSV folder reader/writer (data-dictionary.md §1 "Files", §2.3 ``metadata.csv``)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from rrball.cohort.readers._common import file_issue
from rrball.cohort.validation import RawTable
from rrball.errors import CohortIssue

__all__ = ["read_csv_folder", "read_csv_text", "write_csv_folder"]


def read_csv_text(data: bytes, name: str, source: str,
                  ) -> tuple[RawTable | None, list[CohortIssue]]:
    """Parse one CSV file's bytes into a ``RawTable`` (UTF-8, optional BOM; header row 1)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [file_issue(name, source, "R-FILE-001",
                                 f"not UTF-8 text (byte {exc.start}); save as UTF-8")]
    if "\x00" in text:
        return None, [file_issue(name, source, "R-FILE-001", "binary content, not a CSV file")]
    if not text or text.isspace():
        return RawTable(name, name, source, [], [], np.zeros(0, dtype=np.int64)), []
    try:
        # parse the validated UTF-8 bytes (without the BOM) directly: the same cells as
        # parsing ``text``, without encoding the text back to bytes
        body_bytes = data[3:] if data.startswith(codecs.BOM_UTF8) else data
        df = pd.read_csv(io.BytesIO(body_bytes), encoding="utf-8", dtype=str,
                         keep_default_na=False, na_filter=False, header=None,
                         skip_blank_lines=False, engine="c")
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        return None, [file_issue(name, source, "R-FILE-001",
                                 f"not a well-formed CSV ({str(exc).splitlines()[0][:80]})")]
    header = ["" if h is None else str(h) for h in df.iloc[0].tolist()]
    body = df.iloc[1:]
    cols = [body.iloc[:, j].to_numpy(dtype=object) for j in range(body.shape[1])]
    # blank rows are skipped: test column by column, only rows still blank so far
    blank = np.arange(len(body))
    for c in cols:
        if not len(blank):
            break
        blank = blank[c[blank] == ""]
    keep = np.ones(len(body), dtype=bool)
    keep[blank] = False
    rows = np.arange(2, len(body) + 2, dtype=np.int64)[keep]
    cells = [c[keep] if not keep.all() else c for c in cols[:len(header)]]
    return RawTable(name, name, source, header, cells, rows), []


def read_csv_folder(path: Path) -> tuple[dict[str, RawTable],
                                         list[tuple[str, str | None, int]] | None,
                                         list[CohortIssue]]:
    """Read ``<table>.csv`` files and ``metadata.csv`` (key,value) from a folder."""
    tables: dict[str, RawTable] = {}
    issues: list[CohortIssue] = []
    meta: list[tuple[str, str | None, int]] | None = None
    for f in sorted(path.glob("*.csv")):
        name = f.stem.strip().lower()
        raw, iss = read_csv_text(f.read_bytes(), name, f.name)
        issues += iss
        if raw is None:
            if name == "metadata":
                meta = []
            continue
        if name == "metadata":
            meta = _meta_pairs(raw)
            continue
        tables[name] = raw
    return tables, meta, issues


def _meta_pairs(raw: RawTable) -> list[tuple[str, str | None, int]]:
    heads = [h.strip().lower() for h in raw.header]
    if "key" in heads and "value" in heads:
        k, v = heads.index("key"), heads.index("value")
        return [(str(raw.cells[k][i]), raw.cells[v][i], int(raw.rows[i])) for i in range(raw.n)]
    return []


def write_csv_folder(path: Path, tables: Mapping[str, pd.DataFrame],
                     meta_pairs: list[tuple[str, str]]) -> None:
    """Write a CSV folder; the folder is created, files are written only after all are built."""
    payload: dict[str, str] = {}
    for name, df in tables.items():
        payload[f"{name}.csv"] = df.to_csv(index=False, lineterminator="\n")
    payload["metadata.csv"] = pd.DataFrame(meta_pairs, columns=["key", "value"]).to_csv(
        index=False, lineterminator="\n")
    path.mkdir(parents=True, exist_ok=True)
    for fname, text in payload.items():
        (path / fname).write_text(text, encoding="utf-8")
