"""SPSS ``.sav`` reader/writer (pyreadstat) for the flat layout (data-dictionary.md §4, §0).

An SPSS file is the flat single sheet of §4: one case per patient × treatment line, variable
names as the flat column names. Reading: numeric codes are read as raw codes (value labels are
ignored, §4); SPSS date variables are read as dates; system-missing is empty. Writing: code
columns are numeric raw codes with the dictionary's codes as value labels (§2.2), ``date`` columns
SPSS dates, everything else text; ``set`` columns keep their raw codes joined by ``;``.

An SPSS file has no metadata table: the §2.3 key/value pairs travel in the file's document note
(one ``key=value`` line each, continued on ``+`` lines past 78 characters). Rows that do not fit
the flat layout are written next to the file as ``<stem>.<table>.csv`` long sheets and read back
from there, so the round trip is lossless.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from rrball.cohort.readers._common import cell_text, file_issue, make_raw
from rrball.cohort.readers.csv import read_csv_text
from rrball.cohort.schema import CODE_LISTS, TABLES, Column, normalise_name
from rrball.cohort.validation import RawTable
from rrball.errors import CohortIssue

__all__ = ["flat_column_spec", "read_sav", "write_sav"]

SHEET = "flat"
_PREFIXED = {"relapse_date": ("follow_up", "event_date"),
             "relapse_sites": ("follow_up", "relapse_sites"),
             "relapse_confirmation": ("follow_up", "relapse_confirmation"),
             "death_date": ("follow_up", "event_date"), "death_cause": ("follow_up", "death_cause"),
             "last_contact_date": ("follow_up", "event_date"),
             "vital_status": ("follow_up", "vital_status"),
             "status_at_last_contact": ("follow_up", "status_at_last_contact"),
             "prior_hsct_date": ("transplants", "hsct_date"),
             "bl_date": ("assessments", "assessment_date")}
_GROUP = re.compile(r"^(?:bl|a\d+)_(.+)$")


def flat_column_spec(name: str) -> Column | None:
    """The dictionary column behind a flat column name (§4), or None."""
    if name in _PREFIXED:
        t, c = _PREFIXED[name]
        return TABLES[t].columns[c]
    for t in ("patients", "treatment_lines", "transplants"):
        if name in TABLES[t].columns:
            return TABLES[t].columns[name]
    m = _GROUP.match(name)
    if m:
        inner = "assessment_date" if m.group(1) == "date" else m.group(1)
        return TABLES["assessments"].columns.get(inner)
    return None


def _code_list(col: Column) -> Mapping[str, str] | None:
    if col.kind == "bool":
        return CODE_LISTS["yn"]
    if col.kind in ("tri", "enum"):
        return CODE_LISTS[col.codes or "tri"]
    return None


def _note_lines(text: str, width: int = 78) -> list[str]:
    """SPSS document lines hold 80 characters: long settings continue on ``+`` lines (no chunk
    ends with a blank, which SPSS would pad away)."""
    out: list[str] = []
    first = True
    while text:
        room = width if first else width - 1
        cut = min(room, len(text))
        while cut > 1 and cut < len(text) and text[cut - 1] == " ":
            cut -= 1
        out.append(("" if first else "+") + text[:cut])
        text, first = text[cut:], False
    return out


def write_sav(path: Path, flat: pd.DataFrame, long: Mapping[str, pd.DataFrame],
              meta_pairs: list[tuple[str, str]]) -> None:
    """Write the flat sheet as ``.sav`` (value labels for codes) plus long-sheet CSVs."""
    data: dict[str, Any] = {}
    labels: dict[str, dict[int | float, str]] = {}
    for name in flat.columns:
        text = flat[name].astype(str)
        spec = flat_column_spec(str(name))
        codes = _code_list(spec) if spec is not None else None
        if codes is not None:
            raw_of = {code: float(raw) for raw, code in codes.items()}
            data[name] = text.map(lambda v, m=raw_of: m.get(v, float("nan"))).astype(float)
            labels[str(name)] = {float(raw): code for raw, code in codes.items()}
        elif spec is not None and spec.kind in ("int", "float"):
            data[name] = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)
        elif spec is not None and spec.kind == "date":
            data[name] = [dt.date.fromisoformat(v) if v else None for v in text]
        elif spec is not None and spec.kind == "set":
            set_codes = CODE_LISTS[spec.codes or spec.name]
            raw_of_s = {code: raw for raw, code in set_codes.items()}
            data[name] = [";".join(raw_of_s.get(p, p) for p in v.split(";")) if v else ""
                          for v in text]
        else:
            data[name] = text
    df = pd.DataFrame(data)
    note = [line for k, v in meta_pairs for line in _note_lines(f"{k}={v}")]
    pyreadstat.write_sav(df, str(path), note=note, variable_value_labels=labels)
    for old in path.parent.glob(f"{path.stem}.*.csv"):
        old.unlink()
    for table, frame in long.items():
        frame.to_csv(path.parent / f"{path.stem}.{table}.csv", index=False)


def read_sav(path: Path) -> tuple[dict[str, RawTable], list[tuple[str, str | None, int]] | None,
                                  list[CohortIssue]]:
    """Read a ``.sav`` flat file (raw codes, dates) and its ``<stem>.<table>.csv`` long sheets."""
    try:
        df, meta = pyreadstat.read_sav(str(path), apply_value_formats=False,
                                       user_missing=False)
    except Exception as exc:  # pyreadstat raises its own types for bad files
        return {}, None, [file_issue(path.name, path.name, "R-FILE-001",
                                     f"not a readable SPSS .sav file ({type(exc).__name__})")]
    header = [str(c) for c in df.columns]
    rows = [[cell_text(v) for v in r] for r in df.itertuples(index=False, name=None)]
    raw = {SHEET: make_raw(SHEET, SHEET, path.name, header, rows)}
    pairs: list[tuple[str, str | None, int]] | None = None
    notes = [ln.rstrip() for n in (getattr(meta, "notes", None) or [])
             for ln in str(n).splitlines()]
    joined: list[str] = []
    for ln in notes:
        if ln.startswith("+") and joined:
            joined[-1] += ln[1:]
        elif "=" in ln:
            joined.append(ln)
    if joined:
        pairs = []
        for i, ln in enumerate(joined, start=1):
            k, v = ln.split("=", 1)
            pairs.append((k.strip(), v.strip(), i))
    issues: list[CohortIssue] = []
    for f in sorted(path.parent.glob(f"{path.stem}.*.csv")):
        table = normalise_name(f.name[len(path.stem) + 1:-4])
        rt, more = read_csv_text(f.read_bytes(), table, f.name)
        issues += more
        if rt is not None:
            raw[table] = rt
    return raw, pairs, issues
