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
from rrball.cohort.deidentify import deidentify_tables
from rrball.cohort.flat import FLAT_SHEET, flat_tables, is_flat_header, split_flat
from rrball.cohort.readers.csv import read_csv_folder, write_csv_folder
from rrball.cohort.readers.sav import read_sav, write_sav
from rrball.cohort.readers.xlsx import read_xlsx, write_xlsx
from rrball.cohort.schema import METADATA_KEYS, TABLE_ORDER, TABLES
from rrball.cohort.validation import RawTable, ValidatedData, make_issue, validate_tables
from rrball.errors import CohortIssue, CohortValidationError, InputError

__all__ = ["FORMATS", "Cohort", "load_cohort", "validate_raw"]

FORMATS = ("csv", "xlsx", "flat", "sav", "redcap")
_CANONICAL_UNITS = {"unit_anc": "10^9/L", "unit_plt": "10^9/L", "unit_wbc": "10^9/L",
                    "unit_pb_blast_abs": "10^9/L", "unit_bilirubin": "mg/dL",
                    "unit_creatinine": "mg/dL", "unit_enzymes": "U/L", "unit_temperature": "C",
                    "mrd_scale": "fraction"}


class Cohort:
    """A validated cohort: typed long tables (§1), metadata, warnings, derived datasets (§5).

    Codes are stored as string codes, measurements in canonical units (§0), MRD as a fraction.
    """

    __slots__ = ("_adsl", "_adtte", "_data", "_metadata", "_notices", "_responses", "_tables",
                 "_tox", "_warnings")

    def __init__(self, data: ValidatedData) -> None:
        self._data = data
        self._tables = {k: v.frame for k, v in data.tables.items()}
        self._metadata = dict(data.meta)
        self._warnings = tuple(data.warnings)
        # derived by the forked rules process of a large cohort (``validate_tables``), or later
        self._tox: pd.DataFrame | None = data.analysis[0] if data.analysis else None
        self._adsl: pd.DataFrame | None = data.analysis[1] if data.analysis else None
        self._responses: pd.DataFrame | None = None
        self._adtte: pd.DataFrame | None = None
        self._notices: tuple[CohortIssue, ...] | None = None

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
            self._derive()
        assert self._adsl is not None
        return self._adsl

    def _derive(self) -> None:
        """ADSL and the per-assessment responses come from one derivation; both are kept."""
        adsl, responses = _ep.derive(self._tables, self._metadata, tox=self._tox_full())
        if self._adsl is None:
            self._adsl = adsl
        self._responses = responses

    def _tox_full(self) -> pd.DataFrame:
        if self._tox is None:
            self._tox = _ep.toxicity(self._tables, self._metadata)
        return self._tox

    def toxicity(self) -> pd.DataFrame:
        """Toxicity table (§5.2, CR §4.3): one row per patient-line × AE term × criteria set,
        graded from the raw AE columns (``rrball.cohort.toxicity``: columns ``TOX_COLUMNS``;
        ``patients_with_grade`` counts e.g. grade 3–4 AEs of any term)."""
        return self._tox_full().copy()

    def analysis_table(self) -> pd.DataFrame:
        """ADSL-like table (§5.2), one row per patient × index line."""
        a = self._adsl_full()
        return a[[c for c in a.columns if not c.startswith("_")]].copy()

    def endpoints(self) -> pd.DataFrame:
        """ADTTE-like table (§5.3): one row per patient-line × parameter, with CNSR and
        provenance (SRCDOM, SRCVAR, SRCID, SRCROW)."""
        if self._adtte is None:
            self._adtte = _ep.adtte(self._adsl_full(), self._metadata)
        return self._adtte.copy()

    def notices(self) -> tuple[CohortIssue, ...]:
        """Derivation notices R-DER-001…012 (§3.5, severity W) as §3.6 records: responses not
        evaluable, MRD not usable, no baseline, uncertain strata, imputed dates, cut-off,
        AVAL 0, incomplete toxicity grades, relapse sources apart, discordant MRD methods."""
        if self._notices is None:
            from rrball.cohort.notices import derivation_notices

            self._notices = tuple(derivation_notices(
                self._tables, self._metadata, self.analysis_table(), self.endpoints(),
                self.responses(), self.toxicity(), source="derivation"))
        return self._notices

    def responses(self) -> pd.DataFrame:
        """Derived response of every assessment after t0 of each index line (CR §3.4)."""
        if self._responses is None:
            self._derive()
        assert self._responses is not None
        return self._responses.copy()

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

    def to_flat(self) -> pd.DataFrame:
        """The flat single-sheet layout (§4): one text row per patient × treatment line.

        Rows that do not fit the layout are not in this sheet; ``export(format="flat")`` writes
        them as long sheets next to it so that the round trip is lossless.
        """
        return flat_tables(self.text_tables())[0]

    def to_redcap_dictionary(self, *, unit_overrides: Mapping[str, str] | None = None,
                             mrd_scale: str = "percent") -> pd.DataFrame:
        """The REDCap project dictionary of the model (§7; 18 columns, one row per field).

        It depends on the schema only (``rrball.cohort.redcap.redcap_dictionary``):
        ``unit_overrides`` such as ``{"unit_bilirubin": "umol/L"}`` fix the unit of measured
        fields, ``mrd_scale`` that of MRD values (default percent)."""
        from rrball.cohort.redcap import redcap_dictionary

        return redcap_dictionary(unit_overrides=unit_overrides, mrd_scale=mrd_scale)

    def export(self, path: str | Path, format: str = "csv", deidentify: bool = False, *,
               secret: str | bytes | None = None, keep_free_text: Sequence[str] = ()) -> Path:
        """Write the cohort as a CSV folder, an XLSX workbook (§1 "Files"), the flat layout
        (§4) as a workbook (``"flat"``) or an SPSS file (``"sav"``, codes with value labels).

        Round trip: ``load_cohort(cohort.export(p))`` gives identical tables. ``deidentify=True``
        writes the §6 de-identified export (``rrball.cohort.deidentify``): IDs re-keyed, dates
        shifted per patient by an HMAC-SHA256 offset of 1–365 days keyed by ``secret`` (or the
        environment variable ``RRBALL_DEID_SECRET``; none -> R-PRIV-005, nothing written),
        birth dates at month precision, free text dropped unless in ``keep_free_text``.
        """
        if format not in FORMATS:
            raise InputError("format", f"{format!r} is not one of {FORMATS}")
        target = Path(path)
        tables = self.text_tables()
        pairs = self.metadata_pairs()
        if deidentify:
            a = self._adsl_full()
            ages = a.groupby("SUBJID")["AGE"].max().to_dict() if len(a) else {}
            n_before = len(tables["patients"])
            day_births = int((self._tables["patients"].get(
                "birth_date__prec", pd.Series(dtype=object)) == "D").sum())
            tables, pairs = deidentify_tables(tables, pairs, secret=secret,
                                              ages={str(k): float(v) for k, v in ages.items()},
                                              keep_free_text=keep_free_text)
            _deid_warnings(n_before - len(tables["patients"]), day_births)
        if format == "redcap":  # §7: records.csv + dictionary.csv + metadata.csv in a folder
            from rrball.cohort.redcap import export_redcap

            export_redcap(tables, pairs, target)
        elif format == "csv":
            write_csv_folder(target, tables, pairs)
        elif format == "flat":
            flat, long = flat_tables(tables)
            write_xlsx(target, {FLAT_SHEET: flat, **long}, pairs)
        elif format == "sav":
            flat, long = flat_tables(tables)
            write_sav(target, flat, long, pairs)
        else:
            write_xlsx(target, tables, pairs)
        return target


def _deid_warnings(dropped: int, day_births: int) -> None:
    """What a de-identified export changes beyond the dates, said to the user (UserWarning)."""
    import warnings

    if dropped:
        warnings.warn(f"de-identified export: {dropped} patient(s) whose first index line starts "
                      "after data_cutoff_date are left out (they have no endpoint rows); "
                      "patient counts of the export differ", UserWarning, stacklevel=3)
    if day_births:
        warnings.warn(f"de-identified export: {day_births} birth date(s) written at month "
                      "precision; ages derived from them (AGE, age groups) can differ by one "
                      "year", UserWarning, stacklevel=3)


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
                           extra_issues=extra, analysis=True)
    return Cohort(data)


def _infer(path: Path) -> str:
    if path.is_dir():
        return "csv"
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "xlsx"  # a workbook with a flat sheet is recognised when it is read
    if path.suffix.lower() == ".sav":
        return "sav"
    raise CohortValidationError([make_issue(
        table="file", row=None, column=None, value=None, rule_id="R-FILE-001", severity="E",
        problem=f"cannot infer the format of {path.name} (a folder of CSVs, .xlsx or .sav)",
        source=path.name)])


def _sidecar_metadata(meta: list[tuple[str, str | None, int]] | None, sidecar: Path,
                      ) -> tuple[list[tuple[str, str | None, int]], list[CohortIssue]]:
    """§2.3: a ``metadata.csv`` given with the data (``rrball validate --meta``); its keys
    replace those the file carries (an SPSS note, a workbook sheet, a folder's metadata.csv)."""
    from rrball.cohort.readers.csv import read_csv_text

    if not sidecar.is_file():
        raise InputError("metadata", f"{sidecar.name} does not exist (a key,value CSV file is "
                         "expected)")
    raw, issues = read_csv_text(sidecar.read_bytes(), "metadata", sidecar.name)
    pairs: list[tuple[str, str | None, int]] = []
    if raw is not None:
        heads = [h.strip().lower() for h in raw.header]
        if "key" not in heads or "value" not in heads:
            issues.append(make_issue(table="metadata", row=1, column=None, value=None,
                                     rule_id="R-GEN-002", severity="E",
                                     problem="a metadata file needs the columns key and value",
                                     source=sidecar.name))
        else:
            k, v = heads.index("key"), heads.index("value")
            pairs = [(str(raw.cells[k][i]), raw.cells[v][i], int(raw.rows[i]))
                     for i in range(raw.n)]
    given = {key.strip().lower() for key, _, _ in pairs}
    kept = [m for m in (meta or []) if m[0].strip().lower() not in given]
    return [*kept, *pairs], issues


def load_cohort(path_or_paths: str | Path | Sequence[str | Path], *,
                format: str | None = None, only_complete: bool = False,
                metadata: str | Path | None = None) -> Cohort:
    """Read, validate and return a ``Cohort``; raise ``CohortValidationError`` listing every
    error (data-dictionary.md §3.6). ``format``: ``"csv"`` (folder), ``"xlsx"``, ``"flat"`` (a
    workbook whose flat sheet, §4, is split into the long tables; long sheets next to it are
    merged) or ``"sav"`` (SPSS flat file, §4); inferred when None (a workbook with a flat sheet
    is read as flat). Nothing is returned unless the whole cohort is valid.

    ``"redcap"`` (§7): ``[records.csv, dictionary.csv]`` or a folder holding them (inferred
    for two or three paths, or a folder with a REDCap data dictionary); ``only_complete=True``
    keeps only REDCap forms with status Complete (``rrball.cohort.redcap.load_redcap``).

    ``metadata``: a ``metadata.csv`` (key,value) whose settings replace those of the data file
    (§2.3; e.g. the units of a flat sheet or an SPSS file received without them).
    """
    from rrball.cohort.redcap import is_redcap_input, load_redcap

    if format == "redcap" or (format is None and is_redcap_input(path_or_paths)):
        if metadata is not None:
            raise InputError("metadata", "a REDCap import takes its settings from a "
                             "metadata.csv next to the export (units from the dictionary)")
        return load_redcap(path_or_paths, only_complete=only_complete)
    if only_complete:
        raise InputError("only_complete", "applies to REDCap imports (format=\"redcap\") only")
    if isinstance(path_or_paths, (str, Path)):
        path = Path(path_or_paths)
    else:
        paths = [Path(p) for p in path_or_paths]
        if len(paths) != 1:
            raise InputError("path_or_paths", "give one path (a CSV folder or a workbook)")
        path = paths[0]
    if format is not None and format not in FORMATS:
        raise InputError("format", f"{format!r} is not one of {FORMATS}")
    if not path.exists():
        raise InputError("path", f"{path.name} does not exist (a folder of CSV files, an .xlsx "
                         "workbook or an .sav file is expected)")
    fmt = format or _infer(path)
    if fmt == "csv":
        raw, meta, issues = read_csv_folder(path)
    elif fmt in ("xlsx", "flat", "sav"):
        raw, meta, issues = read_sav(path) if fmt == "sav" else read_xlsx(path)
        flat = [k for k, v in raw.items() if k not in TABLES and is_flat_header(v.header)]
        if fmt == "flat" and not flat:
            issues.append(make_issue(
                table="workbook", row=None, column=None, value=None, rule_id="R-GEN-010",
                severity="E", problem="no flat sheet (a sheet with patient_id and "
                "line_start_date that is not named as a table)", source=path.name))
        if flat:
            long = {k: v for k, v in raw.items() if k not in flat}
            raw, flat_issues = split_flat(raw[flat[0]], long)
            issues = [*issues, *flat_issues]
    else:
        raise InputError("format", f"{fmt!r} is not one of {FORMATS}")
    if metadata is not None:
        meta, more = _sidecar_metadata(meta, Path(metadata))
        issues = [*issues, *more]
    return validate_raw(raw, meta, source=path.name, issues=issues)


del np
