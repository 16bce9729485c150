"""``Cohort`` (validated, immutable) and ``load_cohort`` (api.md ``rrball.cohort``).

data-dictionary.md §1 (files), §3 (validation: all or nothing), §5 (derived datasets). The
format is inferred from the path: a folder of CSVs (``csv``) or an ``.xlsx`` workbook (``xlsx``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rrball.cohort import endpoints as _ep
from rrball.cohort.readers.csv import read_csv_folder, write_csv_folder
from rrball.cohort.readers.xlsx import read_xlsx, write_xlsx
from rrball.cohort.schema import METADATA_KEYS, TABLE_ORDER, TABLES
from rrball.cohort.validation import RawTable, ValidatedData, make_issue, validate_tables
from rrball.errors import CohortIssue, CohortValidationError

__all__ = ["FORMATS", "Cohort", "load_cohort", "validate_raw"]

FORMATS = ("csv", "xlsx")
_CANONICAL_UNITS = {"unit_anc": "10^9/L", "unit_plt": "10^9/L", "unit_wbc": "10^9/L",
                    "unit_pb_blast_abs": "10^9/L", "unit_bilirubin": "mg/dL",
                    "unit_creatinine": "mg/dL", "unit_enzymes": "U/L", "unit_temperature": "C",
                    "mrd_scale": "fraction"}


class Cohort:
    """A validated cohort: typed long tables (§1), metadata, warnings, derived datasets (§5).

    Codes are stored as string codes, measurements in canonical units (§0), MRD as a fraction.
    """

    __slots__ = ("_adsl", "_data", "_metadata", "_tables", "_warnings")

    def __init__(self, data: ValidatedData) -> None:
        self._data = data
        self._tables = {k: v.frame for k, v in data.tables.items()}
        self._metadata = dict(data.meta)
        self._warnings = tuple(data.warnings)
        self._adsl: pd.DataFrame | None = None

    # ---- contents ------------------------------------------------------------------------------
    @property
    def warnings(self) -> tuple[CohortIssue, ...]:
        """Warnings (severity W) of the import, §3.6 records."""
        return self._warnings

    @property
    def metadata(self) -> dict[str, Any]:
        """Typed metadata settings with defaults (§2.3); a copy."""
        return dict(self._metadata)

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(k for k in TABLE_ORDER if k in self._tables)

    def table(self, name: str) -> pd.DataFrame:
        """A long table (dictionary columns only, typed), as a copy."""
        df = self._tables[name]
        return df[list(TABLES[name].columns)].copy()

    def __repr__(self) -> str:
        n = len(self._tables["patients"])
        return f"Cohort(patients={n}, tables={list(self.table_names)}, " \
               f"warnings={len(self._warnings)})"

    # ---- derived (§5) ---------------------------------------------------------------------------
    def _adsl_full(self) -> pd.DataFrame:
        if self._adsl is None:
            self._adsl = _ep.adsl(self._tables, self._metadata)
        return self._adsl

    def analysis_table(self) -> pd.DataFrame:
        """ADSL-like table (§5.2), one row per patient × index line."""
        a = self._adsl_full()
        return a[[c for c in a.columns if not c.startswith("_")]].copy()

    def endpoints(self) -> pd.DataFrame:
        """ADTTE-like table (§5.3): one row per patient-line × parameter, with CNSR and
        provenance (SRCDOM, SRCVAR, SRCID, SRCROW)."""
        return _ep.adtte(self._adsl_full(), self._metadata)

    def responses(self) -> pd.DataFrame:
        """Derived response of every assessment after t0 of each index line (CR §3.4)."""
        return _ep.response_table(self._tables, self._metadata)

    # ---- export ----------------------------------------------------------------------------------
    def text_tables(self) -> dict[str, pd.DataFrame]:
        """The long tables as canonical text (codes, ISO dates, canonical units)."""
        out: dict[str, pd.DataFrame] = {}
        for name in self.table_names:
            df = self._tables[name]
            cols: dict[str, Any] = {}
            for c in TABLES[name].columns.values():
                s = df[c.name]
                if c.kind == "date":
                    cols[c.name] = s.dt.strftime("%Y-%m-%d").where(s.notna(), "")
                elif c.kind in ("int",):
                    cols[c.name] = s.map(lambda v: "" if v != v else str(int(v)))
                elif c.kind == "float":
                    cols[c.name] = s.map(lambda v: "" if v != v else repr(float(v)))
                else:
                    cols[c.name] = s.where(s.notna(), "").astype(str)
            frame = pd.DataFrame(cols)
            nonempty = [c for c in frame.columns if (frame[c] != "").any()
                        or TABLES[name].columns[c].req == "R"]
            out[name] = frame[nonempty]
        return out

    def metadata_pairs(self) -> list[tuple[str, str]]:
        """Metadata as written by the exports (canonical units declared)."""
        pairs: list[tuple[str, str]] = []
        for key, value in {**self._metadata, **_CANONICAL_UNITS}.items():
            if key not in METADATA_KEYS or value is None:
                continue
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, list):
                text = ";".join(str(v) for v in value)
            elif isinstance(value, dt.date):
                text = value.isoformat()
            else:
                text = str(value)
            pairs.append((key, text))
        return pairs

    def export(self, path: str | Path, format: str = "csv", deidentify: bool = False) -> Path:
        """Write the cohort as a CSV folder or an XLSX workbook (§1 "Files").

        Round trip: ``load_cohort(cohort.export(p))`` gives identical tables. ``deidentify=True``
        (§6) is not implemented in this version and is refused.
        """
        if deidentify:
            raise NotImplementedError("de-identified export (§6) is not available yet")
        target = Path(path)
        tables = self.text_tables()
        pairs = self.metadata_pairs()
        if format == "csv":
            write_csv_folder(target, tables, pairs)
        elif format == "xlsx":
            write_xlsx(target, tables, pairs)
        else:
            raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
        return target


def validate_raw(raw: Mapping[str, RawTable],
                 meta_pairs: Sequence[tuple[str, str | None, int]] | None,
                 *, source: str, issues: Sequence[CohortIssue] = (),
                 today: dt.date | None = None) -> Cohort:
    """Validate raw tables from any reader and build the ``Cohort`` (or raise)."""
    extra = list(issues)
    if meta_pairs is None:
        extra.append(make_issue(table="metadata", row=None, column=None, value=None,
                                rule_id="R-GEN-010", severity="E",
                                problem="metadata table missing", source=source))
    data = validate_tables(raw, meta_pairs, meta_source=source, today=today,
                           extra_issues=extra)
    return Cohort(data)


def _infer(path: Path) -> str:
    if path.is_dir():
        return "csv"
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "xlsx"
    raise CohortValidationError([make_issue(
        table="file", row=None, column=None, value=None, rule_id="R-FILE-001", severity="E",
        problem=f"cannot infer the format of {path.name} (folder of CSVs or .xlsx)",
        source=path.name)])


def load_cohort(path_or_paths: str | Path | Sequence[str | Path], *,
                format: str | None = None) -> Cohort:
    """Read, validate and return a ``Cohort``; raise ``CohortValidationError`` listing every
    error (data-dictionary.md §3.6). ``format``: ``"csv"`` (folder) or ``"xlsx"``; inferred when
    None. Nothing is returned unless the whole cohort is valid.
    """
    if isinstance(path_or_paths, (str, Path)):
        path = Path(path_or_paths)
    else:
        paths = [Path(p) for p in path_or_paths]
        if len(paths) != 1:
            raise ValueError("only one path (a CSV folder or a workbook) is supported")
        path = paths[0]
    fmt = format or _infer(path)
    if fmt == "csv":
        raw, meta, issues = read_csv_folder(path)
    elif fmt == "xlsx":
        raw, meta, issues = read_xlsx(path)
    else:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    return validate_raw(raw, meta, source=path.name, issues=issues)


del np
