"""The validation engine: raw text tables -> typed tables, or one CohortValidationError.

data-dictionary.md §2.3 (metadata), §2.4 (generic cell/file/unit rules), §3 (rules, run by
``rrball.cohort.rules``), §3.6 (error records). Lazy: every rule runs and every violation is
collected; nothing is returned unless there is no error. Pure: readers hand in ``RawTable``s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rrball.cohort._cells import (
    ParseSettings,
    missing_mask,
    parse_column,
    parse_column_by_value,
)
from rrball.cohort.schema import (
    DIRECT_IDENTIFIERS,
    METADATA_KEYS,
    MRD_SCALES,
    SCHEMA_VERSION,
    TABLE_ORDER,
    TABLES,
    UNIT_DEFAULTS,
    UNIT_FACTORS,
    normalise_name,
)
from rrball.errors import CohortIssue, CohortValidationError

__all__ = ["FIXES", "Finding", "RawTable", "ValidatedData", "validate_tables"]

REDACTED = "<redacted>"
_MAX_VALUE = 60

FIXES: dict[str, str] = {
    "R-GEN-001": "Rename to the dictionary name or drop it.",
    "R-GEN-002": "Add the column (it may be empty only where optional).",
    "R-GEN-003": "Enter the value; use the code `unknown` only where its list has one.",
    "R-GEN-004": "Enter a plain number / 1 or 0.",
    "R-GEN-005": "Use a listed raw value or code (§2.2).",
    "R-GEN-006": "Enter YYYY-MM-DD or set date_format.",
    "R-GEN-007": "Enter the full date, or set partial_event_dates = impute and accept flagged "
    "imputation.",
    "R-GEN-008": "Correct the date.",
    "R-GEN-009": "Remove the duplicate.",
    "R-GEN-010": "Add the table / rename the sheet.",
    "R-GEN-011": "Use codes from the list separated by `;`.",
    "R-GEN-012": "Enter the bare number in the declared unit; for <LOD MRD enter mrd_detected = 0 "
    "and the LOD in mrd_lod.",
    "R-UNIT-001": "Declare the unit; rrball never guesses.",
    "R-UNIT-002": "Use an allowed unit or convert before import.",
    "R-UNIT-003": "Correct the value or the declared unit.",
    "R-UNIT-004": "Check the declaration.",
    "R-UNIT-005": "Correct value or mrd_scale.",
    "R-META-001": "Add the key.",
    "R-META-002": "Remove or correct its spelling.",
    "R-META-003": "Use an allowed value.",
    "R-META-004": "Convert with rrball validate --upgrade or use a matching rrball.",
    "R-PRIV-001": "Delete the column and import again.",
    "R-PRIV-002": "Remove the identifier from the text.",
    "R-PRIV-003": "Use a study code that is not a hospital number or a date.",
    "R-PRIV-004": "Enter the birth date as YYYY-MM if exact age is not needed.",
    "R-PRIV-006": "Load files with the same date_shifted flag together.",
    "R-FILE-001": "Save the file as UTF-8 CSV (or XLSX) with a header row and import again.",
    "R-FILE-002": "Replace the formula by its value (paste values) and save again.",
    "R-FILE-003": "Unmerge the cells and fill each cell.",
}
_DEFAULT_FIX = "Correct the value (see data-dictionary.md for the rule)."


@dataclass(slots=True)
class RawTable:
    """One table as read from a file: raw header names, text cells, source rows.

    ``label`` is the table name in the user's terms (sheet, flat sheet, instrument); ``rows`` the
    1-based source row of each data row; ``source_column`` maps (position, long column) to the
    column name in the file when it differs (flat layout); ``issues`` are reader findings
    (formulas, merged cells) reported with the rest.
    """

    name: str
    label: str
    source: str
    header: list[str]
    cells: list[npt.NDArray[np.object_]]
    rows: npt.NDArray[np.int64]
    source_column: Callable[[int, str], str] | None = None
    issues: list[CohortIssue] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.rows)


@dataclass(slots=True)
class Finding:
    """A rule hit on positions of one parsed table (converted to §3.6 records by the engine)."""

    table: str
    positions: npt.NDArray[np.intp] | Sequence[int]
    column: str | None
    rule_id: str
    severity: str
    problem: str | Sequence[str]
    conflict: Sequence[str] | None = None


@dataclass(slots=True)
class ParsedTable:
    """Typed columns (pandas), raw text per column, source rows, and how to name columns."""

    name: str
    label: str
    source: str
    frame: pd.DataFrame
    raw: dict[str, npt.NDArray[np.object_]]
    rows: npt.NDArray[np.int64]
    header_names: dict[str, str]
    source_column: Callable[[int, str], str] | None = None
    redacted: frozenset[str] = frozenset()


@dataclass(slots=True)
class ValidatedData:
    """The engine's output: typed tables, metadata, warnings and the source rows per table."""

    tables: dict[str, ParsedTable]
    meta: dict[str, Any]
    warnings: list[CohortIssue]
    # (toxicity table, full ADSL) of ``endpoints`` when a forked process derived them already
    analysis: tuple[pd.DataFrame, pd.DataFrame] | None = None


# ---- issue construction ------------------------------------------------------------------------
def _clip(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = str(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def make_issue(
    *, table: str, row: int | None, column: str | None, value: str | None, rule_id: str,
    severity: str, problem: str, source: str, conflict: str | None = None,
) -> CohortIssue:
    """A §3.6 record with its message ``{table} row {row}, {column} = {value}: … [{rule}]``."""
    fix = FIXES.get(rule_id, _DEFAULT_FIX)
    where = table if row is None else f"{table} row {row}"
    if column is not None:
        where += f", {column}"
        if value is not None:
            where += f" = {value}"
    msg = f"{where}: {problem} [{rule_id}]. Fix: {fix}"
    if conflict:
        msg = msg.rstrip(".") + f" (conflicts with {conflict})."
    return CohortIssue(table, row, column, value, rule_id, severity, msg, fix, source)


def finding_issues(f: Finding, tables: Mapping[str, ParsedTable]) -> list[CohortIssue]:
    """Expand a finding to one record per position, with raw values and source rows.

    The records of ``make_issue`` with what is the same for every position (column name,
    redaction, fix) worked out once: a finding may cover every patient (R-PRIV-004)."""
    pt = tables[f.table]
    pos = np.asarray(f.positions, dtype=np.intp)
    col = f.column
    rule_id, severity, label, source = f.rule_id, f.severity, pt.label, pt.source
    fix = FIXES.get(rule_id, _DEFAULT_FIX)
    tail = f" [{rule_id}]. Fix: {fix}"
    priv = rule_id.startswith("R-PRIV-00") and rule_id != "R-PRIV-003"
    redact = col is not None and (col in pt.redacted or priv)
    raw = pt.raw.get(col) if col is not None and not redact else None
    shown_all = None if col is None else pt.header_names.get(col, col)
    named = pt.source_column
    problems = f.problem
    conflicts = f.conflict
    rows = pt.rows[pos].tolist()
    out = []
    for k, i in enumerate(pos.tolist()):
        row = int(rows[k])
        value: str | None = None
        where = f"{label} row {row}"
        shown = None
        if col is not None:
            shown = named(i, col) if named is not None else shown_all
            if redact:
                value = REDACTED
            elif raw is not None:
                value = _clip(raw[i])
        if shown is not None:
            where += f", {shown}" if value is None else f", {shown} = {value}"
        problem = problems if isinstance(problems, str) else problems[k]
        msg = f"{where}: {problem}{tail}"
        conflict = None if conflicts is None else conflicts[k]
        if conflict:
            msg = msg.rstrip(".") + f" (conflicts with {conflict})."
        out.append(CohortIssue(label, row, shown, value, rule_id, severity, msg, fix, source))
    return out


# ---- metadata (§2.3) -----------------------------------------------------------------------------
def parse_metadata(pairs: Sequence[tuple[str, str | None, int]], source: str, label: str,
                   today: dt.date) -> tuple[dict[str, Any], list[CohortIssue]]:
    """Metadata key/value rows -> typed settings with defaults; R-META-001…004, R-UNIT-002."""
    issues: list[CohortIssue] = []
    meta: dict[str, Any] = {}
    seen: dict[str, int] = {}

    def issue(row: int | None, key: str, value: str | None, rule: str, problem: str,
              sev: str = "E") -> None:
        issues.append(make_issue(table=label, row=row, column=key, value=value, rule_id=rule,
                                 severity=sev, problem=problem, source=source))

    for key_raw, value_raw, row in pairs:
        key = normalise_name(key_raw)
        value = None if value_raw is None else str(value_raw).strip()
        if not key:
            continue
        if key in seen:
            issue(row, key, _clip(value), "R-GEN-009", f"metadata key repeated (row {seen[key]})")
            continue
        seen[key] = row
        spec = METADATA_KEYS.get(key)
        if spec is None:
            issue(row, key, _clip(value), "R-META-002", "unknown metadata key (ignored)", "W")
            continue
        if value is None or value == "":
            continue
        if key == "schema_version" and value != SCHEMA_VERSION:
            issue(row, key, _clip(value), "R-META-004", "schema version not supported")
            continue
        ok, parsed = _meta_value(spec.kind, value, spec.allowed, spec.lo, spec.hi)
        if not ok:
            rule = "R-UNIT-002" if key.startswith("unit_") or key == "mrd_scale" else "R-META-003"
            allowed = f" (allowed: {', '.join(spec.allowed)})" if spec.allowed else ""
            issue(row, key, _clip(value), rule, f"invalid value for {key}{allowed}")
            continue
        if key == "study_code" and not pd.Series([parsed]).str.fullmatch(
                r"[A-Za-z0-9_-]{1,32}").iloc[0]:
            issue(row, key, _clip(value), "R-META-003", "study_code must match [A-Za-z0-9_-]{1,32}")
            continue
        if key == "export_date" and parsed > today:
            issue(row, key, _clip(value), "R-META-003", "export_date after the import day")
            continue
        meta[key] = parsed
    for spec in METADATA_KEYS.values():
        if spec.key not in meta and spec.default is not None:
            meta[spec.key] = _meta_value(spec.kind, spec.default, spec.allowed, None, None)[1]
        if spec.req == "R" and spec.key not in meta and not any(
                i.column == spec.key for i in issues):
            issue(None, spec.key, None, "R-META-001", "required metadata key missing")
    meta.setdefault("export_date", today)
    if "data_cutoff_date" in meta and meta["data_cutoff_date"] > meta["export_date"]:
        issue(seen.get("data_cutoff_date"), "data_cutoff_date", str(meta["data_cutoff_date"]),
              "R-META-003", "data_cutoff_date after export_date")
    return meta, issues


def _meta_value(kind: str, value: str, allowed: tuple[str, ...], lo: float | None,
                hi: float | None) -> tuple[bool, Any]:
    try:
        if kind in ("str",):
            return (not allowed or value in allowed), value
        if kind == "enum":
            return value in allowed, value
        if kind == "bool":
            v = value.strip().lower()
            return v in ("0", "1", "yes", "no", "true", "false"), v in ("1", "yes", "true")
        if kind == "date":
            return True, dt.date.fromisoformat(value)
        if kind == "list":
            return True, [p.strip() for p in value.split(";") if p.strip()]
        if kind in ("int", "float", "intlist"):
            vals = [float(p) for p in value.split(";")] if kind == "intlist" else [float(value)]
            for x in vals:
                if kind != "float" and not x.is_integer():
                    return False, None
                if (lo is not None and x < lo) or (hi is not None and x > hi):
                    return False, None
            if kind == "intlist":
                return True, [int(x) for x in vals]
            return True, (int(vals[0]) if kind == "int" else vals[0])
    except ValueError:
        return False, None
    return False, None  # pragma: no cover


# ---- the engine ----------------------------------------------------------------------------------
def validate_tables(
    raw: Mapping[str, RawTable],
    meta_pairs: Sequence[tuple[str, str | None, int]] | None,
    *,
    meta_source: str = "metadata",
    meta_label: str = "metadata",
    today: dt.date | None = None,
    extra_issues: Sequence[CohortIssue] = (),
    run_rules: bool = True,
    analysis: bool = False,
) -> ValidatedData:
    """Parse and check every table; raise ``CohortValidationError`` listing every error.

    Order of the records: by table (§1 order), row, column (§3.6). ``analysis``: a forked rules
    process (large cohorts) may derive the toxicity table and ADSL of valid tables meanwhile
    (``ValidatedData.analysis``).
    """
    from rrball.cohort import rules as rules_mod

    today = today or dt.date.today()
    issues: list[CohortIssue] = list(extra_issues)
    meta, meta_issues = parse_metadata(meta_pairs or [], meta_source, meta_label, today)
    issues += meta_issues
    st = ParseSettings(
        date_format=meta.get("date_format", "iso"),
        decimal_comma=bool(meta.get("decimal_comma", False)),
        na_tokens=frozenset(meta.get("na_tokens", ["NA", "N/A", "."])),
        partial_event_dates=meta.get("partial_event_dates", "refuse"),
        export_date=meta.get("export_date", today),
    )
    parsed: dict[str, ParsedTable] = {}
    derived_data: tuple[pd.DataFrame, pd.DataFrame] | None = None
    early: dict[str, list[Finding]] = {}  # findings of rules run by the parsing process
    done = _parse_tables(raw, st, meta, early)
    for name in TABLE_ORDER:
        spec = TABLES[name]
        if name not in raw:
            if spec.required:
                issues.append(make_issue(table=name, row=None, column=None, value=None,
                                         rule_id="R-GEN-010", severity="E",
                                         problem="required table missing", source=meta_source))
            continue
        pt, tissues = done[name]
        issues += tissues
        parsed[name] = pt
    for name, rt in raw.items():
        if name not in TABLES:
            issues.append(make_issue(table=rt.label, row=None, column=None, value=None,
                                     rule_id="R-GEN-010", severity="E",
                                     problem="unknown table or sheet name", source=rt.source))
    if "centre_id" not in meta and "patients" in parsed and \
            parsed["patients"].frame["centre_id"].isna().any():
        issues.append(make_issue(table=meta_label, row=None, column="centre_id", value=None,
                                 rule_id="R-META-001", severity="E",
                                 problem="centre_id missing from metadata and from patients",
                                 source=meta_source))
    if run_rules and not any(i.severity == "E" and i.rule_id in _STRUCTURAL for i in issues):
        frames = {k: v.frame for k, v in parsed.items()}
        # rules on derived labels (§3.4 R-XF-007/034/041/042) need valid inputs: computed
        # with the others when there is no error so far, used only if the rules add none
        found, derived, pending = rules_mod.run_checked_analysis(
            frames, meta, derived=not any(i.severity == "E" for i in issues),
            analysis=analysis, early=early)
        try:
            for f in found:
                issues += finding_issues(f, parsed)
            if derived is not None and not any(i.severity == "E" for i in issues):
                for f in derived:
                    issues += finding_issues(f, parsed)
            if not any(i.severity == "E" for i in issues):
                derived_data = pending.get()
        finally:
            pending.close()
    errors = _sorted([i for i in issues if i.severity == "E"])
    warnings = _sorted([i for i in issues if i.severity != "E"])
    if errors:
        raise CohortValidationError(errors, warnings)
    return ValidatedData(parsed, meta, warnings, derived_data)


_STRUCTURAL = frozenset({"R-GEN-002", "R-GEN-009", "R-GEN-010", "R-META-001", "R-META-004",
                         "R-PRIV-001"})
_ORDER = {n: i for i, n in enumerate(("metadata", *TABLE_ORDER))}


def _sorted(items: list[CohortIssue]) -> list[CohortIssue]:
    return sorted(items, key=lambda i: (_ORDER.get(i.table, 99), i.table,
                                        -1 if i.row is None else i.row, i.column or "", i.rule_id))


_FORKED_PARSE = "assessments"  # parsed here while a forked process parses the other tables


def _parse_tables(raw: Mapping[str, RawTable], st: ParseSettings, meta: Mapping[str, Any],
                  early: dict[str, list[Finding]],
                  ) -> dict[str, tuple[ParsedTable, list[CohortIssue]]]:
    """``_parse_table`` of each table of the dictionary in ``raw``. On a large cohort
    (``rules.fork_call``), a forked process parses the tables other than assessments meanwhile
    and sends their typed frames and records; each of those tables is then rebuilt here from
    them (``_parse_table(..., done=...)``), as parsing it here gives; it then runs the rules
    that need no assessments on its tables (``rules.run_early``, into ``early``). Any
    failure: all here."""
    from rrball.cohort import rules as rules_mod

    names = [n for n in TABLE_ORDER if n in raw]
    others = [n for n in names if n != _FORKED_PARSE]
    if _FORKED_PARSE in names and others and \
            sum(raw[n].n for n in names) >= rules_mod._PARALLEL_MIN_ROWS:

        def there() -> tuple[dict[str, tuple[pd.DataFrame, list[CohortIssue]]],
                             dict[str, list[Finding]]]:
            out = {}
            for n in others:
                pt, tissues = _parse_table(raw[n], st, meta)
                out[n] = (pt.frame, tissues)
            return out, rules_mod.run_early({n: f for n, (f, _) in out.items()}, meta,
                                            _FORKED_PARSE)

        ok, theirs, mine = rules_mod.fork_call(
            there, lambda: _parse_table(raw[_FORKED_PARSE], st, meta))
        if ok:
            early.update(theirs[1])
            return {n: mine if n == _FORKED_PARSE else
                    _parse_table(raw[n], st, meta, theirs[0][n]) for n in names}
    return {n: _parse_table(raw[n], st, meta) for n in names}


def _parse_table(rt: RawTable, st: ParseSettings, meta: Mapping[str, Any],
                 done: tuple[pd.DataFrame, list[CohortIssue]] | None = None,
                 ) -> tuple[ParsedTable, list[CohortIssue]]:
    """Parse one table: (parsed table, records). ``done``: the typed frame and records that
    this function gave for ``rt`` in another process (only the table is rebuilt here)."""
    spec = TABLES[rt.name]
    issues: list[CohortIssue] = list(rt.issues)

    def tissue(row: int | None, column: str | None, value: str | None, rule: str, problem: str,
               sev: str = "E") -> None:
        issues.append(make_issue(table=rt.label, row=row, column=column, value=value,
                                 rule_id=rule, severity=sev, problem=problem, source=rt.source))

    by_norm: dict[str, int] = {}
    redacted: set[str] = set()
    for j, h in enumerate(rt.header):
        norm = normalise_name(h)
        if norm in DIRECT_IDENTIFIERS:
            tissue(None, str(h), REDACTED, "R-PRIV-001", "direct identifiers are not accepted")
            redacted.add(norm)
            continue
        if not norm:
            if len(missing_mask(rt.cells[j], frozenset())) and not missing_mask(
                    rt.cells[j], frozenset()).all():
                tissue(None, f"column {j + 1}", None, "R-GEN-001",
                       "column without a header (ignored)", "W")
            continue
        if norm in by_norm:
            tissue(None, str(h), None, "R-GEN-009", "two columns with the same name")
            continue
        by_norm[norm] = j
    header_names = {normalise_name(rt.header[j]): str(rt.header[j]) for j in by_norm.values()}
    for norm in by_norm:
        base = norm[:-5] if norm.endswith("_unit") else None
        if norm not in spec.columns and not (base and base in spec.columns
                                             and spec.columns[base].unit_key):
            tissue(None, header_names[norm], None, "R-GEN-001",
                   "column not in the dictionary (ignored)", "W")
    for c in spec.columns.values():
        if c.req == "R" and c.name not in by_norm:
            tissue(None, c.name, None, "R-GEN-002", "required column absent")
    n = rt.n
    frame: dict[str, pd.Series] = {}
    raw_cols: dict[str, npt.NDArray[np.object_]] = {}
    empty = np.full(n, None, dtype=object)
    pt = ParsedTable(rt.name, rt.label, rt.source, pd.DataFrame(), raw_cols, rt.rows,
                     header_names, rt.source_column, frozenset(redacted))
    if done is not None:  # the raw columns as below; frame and records from ``done``
        for c in spec.columns.values():
            jj = by_norm.get(c.name)
            raw_cols[c.name] = rt.cells[jj] if jj is not None else empty
        for c in spec.columns.values():
            if (c.unit_key or c.lo is not None) and c.name + "_unit" in by_norm:
                raw_cols[c.name + "_unit"] = rt.cells[by_norm[c.name + "_unit"]]
        pt.frame = done[0]
        return pt, done[1]
    findings: list[Finding] = []
    for c in spec.columns.values():
        jj = by_norm.get(c.name)
        cells = rt.cells[jj] if jj is not None else empty
        raw_cols[c.name] = cells
        if jj is not None:
            raw_missing, values, _miss, bads, extra = parse_column_by_value(c, cells, st)
        else:
            raw_missing = np.ones(n, dtype=bool)
            values, _miss, bads, extra = parse_column(c, cells, st, raw_missing)
        for b in bads:
            findings.append(Finding(rt.name, b.positions, c.name, b.rule_id, b.severity,
                                    b.problem))
        if c.req == "R" and jj is not None and raw_missing.any():
            findings.append(Finding(rt.name, np.flatnonzero(raw_missing), c.name,
                                    "R-GEN-003", "E", "required value empty"))
        if c.free_text and jj is not None:
            findings += _free_text(rt.name, c.name, values)
        frame[c.name] = values
        frame.update(extra)
    for c in spec.columns.values():
        if c.unit_key or c.lo is not None:
            unit_cells = rt.cells[by_norm[c.name + "_unit"]] if c.name + "_unit" in by_norm \
                else None
            if unit_cells is not None:
                raw_cols[c.name + "_unit"] = unit_cells
            findings += _units_and_range(rt.name, c, frame, unit_cells, meta, st)
    if rt.name == "assessments":
        findings += _mrd_scale(frame, meta)
    pt.frame = pd.DataFrame(frame)
    pt.frame["_row"] = rt.rows
    pt.frame["_pos"] = np.arange(n)
    for f in findings:
        issues += finding_issues(f, {rt.name: pt})
    return pt, issues


_EMAIL = r"[\w.+-]+@[\w-]+\.[\w.]+"
_PHONE = r"\+?\d[\d\s().-]{5,}\d"
_LONGNUM = r"\d{9,}"
_DATE_IN_TEXT = r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b"


def _free_text(table: str, column: str, values: pd.Series) -> list[Finding]:
    """R-PRIV-002: e-mail, phone (≥ 7 digits with separators), ≥ 9-digit runs, dates (§6)."""
    s = values.dropna().astype(str)
    if s.empty:
        return []
    phone = s.str.findall(_PHONE).map(
        lambda xs: any(sum(ch.isdigit() for ch in x) >= 7 for x in xs))
    hit = (s.str.contains(_EMAIL, regex=True) | phone | s.str.contains(_LONGNUM, regex=True)
           | s.str.contains(_DATE_IN_TEXT, regex=True))
    pos = s.index[hit.to_numpy()].to_numpy()
    if not len(pos):
        return []
    return [Finding(table, pos, column, "R-PRIV-002", "E",
                    "identifier pattern (e-mail, phone, long number or date) inside free text")]


def _units_and_range(table: str, c: Any, frame: dict[str, pd.Series],
                     unit_cells: npt.NDArray[np.object_] | None, meta: Mapping[str, Any],
                     st: ParseSettings) -> list[Finding]:
    """Unit declaration (R-UNIT-001/002), conversion, range (column rule or R-UNIT-003)."""
    out: list[Finding] = []
    x = frame[c.name].to_numpy(dtype=np.float64, copy=True)
    has = ~np.isnan(x)
    unit_key = c.unit_key
    units: npt.NDArray[np.object_] | None = None
    if unit_key is not None and has.any():
        declared = meta.get(unit_key, UNIT_DEFAULTS.get(unit_key))
        allowed = UNIT_FACTORS[unit_key]
        units = np.full(len(x), declared, dtype=object)
        if unit_cells is not None:
            row_units = pd.Series(unit_cells, dtype=object)
            given = ~missing_mask(unit_cells, st.na_tokens)
            bad_u = given & ~row_units.astype(str).str.strip().isin(list(allowed)).to_numpy()
            if bad_u.any():
                out.append(Finding(table, np.flatnonzero(bad_u), c.name + "_unit", "R-UNIT-002",
                                   "E", f"unit not allowed (allowed: {', '.join(allowed)})"))
            units[given & ~bad_u] = row_units[given & ~bad_u].astype(str).str.strip()
            units[bad_u] = None
        no_unit = has & pd.isna(pd.Series(units, dtype=object)).to_numpy()
        if no_unit.any():
            out.append(Finding(table, np.flatnonzero(no_unit)[:1], c.name, "R-UNIT-001", "E",
                               f"values but no declared unit ({unit_key} in metadata or a "
                               f"{c.name}_unit column)"))
        conv = x.copy()
        for u, factor in allowed.items():
            m = units == u
            if unit_key == "unit_temperature" and u == "F":
                conv[m] = (x[m] - 32.0) * 5.0 / 9.0
            else:
                conv[m] = x[m] * factor
        conv[no_unit] = np.nan
        x = conv
        frame[c.name] = pd.Series(x)
    if c.lo is None or c.range_rule is None:
        return out
    lo_bad = (x <= c.lo) if c.lo_open else (x < c.lo)
    out_of = ~np.isnan(x) & (lo_bad | (x > c.hi))
    if out_of.any():
        idx = np.flatnonzero(out_of)
        rule_per: dict[str, list[int]] = {}
        problems: dict[str, list[str]] = {}
        rng = f"{c.lo:g}–{c.hi:g}" if c.hi < 1e299 else f"> {c.lo:g}"
        for i in idx:
            hint = None
            if unit_key is not None and units is not None and units[i] is not None:
                hint = _plausible_unit(unit_key, float(frame[c.name].iloc[i]), float(units_factor(
                    unit_key, units[i])), c.lo, c.hi)
            rule = "R-UNIT-003" if hint else c.range_rule
            text = f"outside {rng} after conversion" + (f"; the value fits {hint}?" if hint
                                                      else "")
            rule_per.setdefault(rule, []).append(int(i))
            problems.setdefault(rule, []).append(text)
        for rule, pos in rule_per.items():
            out.append(Finding(table, pos, c.name, rule, "E", problems[rule]))
        x[out_of] = np.nan
        frame[c.name] = pd.Series(x)
    if c.warn_lo is not None and c.warn_hi is not None:
        w = ~np.isnan(x) & ((x < c.warn_lo) | (x > c.warn_hi))
        if w.any():
            out.append(Finding(table, np.flatnonzero(w), c.name, c.range_rule, "W",
                               f"unusual value (outside {c.warn_lo:g}–{c.warn_hi:g})"))
    ok = ~np.isnan(x)
    if unit_key in ("unit_plt",) and ok.sum() >= 5 and np.median(x[ok]) > 1000:
        out.append(Finding(table, np.flatnonzero(has)[:1], c.name, "R-UNIT-004", "W",
                           "median typical of /uL, not 10^9/L"))
    if unit_key == "unit_bilirubin" and ok.sum() >= 5 and np.median(x[ok]) > 15:
        out.append(Finding(table, np.flatnonzero(has)[:1], c.name, "R-UNIT-004", "W",
                           "median typical of umol/L, not mg/dL"))
    return out


def units_factor(unit_key: str, unit: object) -> float:
    """Factor of a declared unit to the canonical unit (1 for affine temperature)."""
    return UNIT_FACTORS[unit_key].get(str(unit), 1.0)


def _plausible_unit(unit_key: str, converted: float, factor: float, lo: float,
                    hi: float) -> str | None:
    raw = converted / factor if factor else converted
    for u, f in UNIT_FACTORS[unit_key].items():
        if unit_key == "unit_temperature":
            v = (raw - 32.0) * 5.0 / 9.0 if u == "F" else raw
        else:
            v = raw * f
        if lo <= v <= hi and abs(f - factor) > 1e-12:
            return u
    return None


def _mrd_scale(frame: dict[str, pd.Series], meta: Mapping[str, Any]) -> list[Finding]:
    """MRD values and LODs to fractions (§2.3 ``mrd_scale``; R-UNIT-001/005, R-ASM-008/009)."""
    out: list[Finding] = []
    unit = frame["mrd_unit"]
    scale = meta.get("mrd_scale")
    for col in ("mrd_value", "mrd_lod"):
        x = frame[col].to_numpy(dtype=np.float64, copy=True)
        cell = (unit == "fraction_of_nucleated_cells").to_numpy() | unit.isna().to_numpy()
        has = ~np.isnan(x)
        frac = has & cell
        if frac.any() and scale not in MRD_SCALES:
            out.append(Finding("assessments", np.flatnonzero(frac)[:1], col, "R-UNIT-001", "E",
                               "MRD cell-fraction values but no mrd_scale in metadata"))
            x[frac] = np.nan
        elif frac.any():
            v = x[frac]
            if scale == "fraction":
                bad = (v < 0) | (v > 1)
            elif scale == "percent":
                bad = (v < 0) | (v > 100)
            else:
                bad = v > 0
            bpos = np.flatnonzero(frac)[bad]
            if len(bpos):
                out.append(Finding("assessments", bpos, col, "R-UNIT-005", "E",
                                   f"outside the bounds of mrd_scale = {scale}"))
            conv = v / 100.0 if scale == "percent" else (10.0 ** v if scale == "log10" else v)
            conv[bad] = np.nan
            x[frac] = conv
        if col == "mrd_lod":
            lod_bad = ~np.isnan(x) & frac & ((x <= 0) | (x > 0.1))
            if lod_bad.any():
                out.append(Finding("assessments", np.flatnonzero(lod_bad), col, "R-ASM-009", "E",
                                   "LOD must be > 0 and <= 0.1 as a fraction"))
                x[lod_bad] = np.nan
        else:
            tr = has & (unit == "transcript_ratio_pct").to_numpy() & ((x < 0) | (x > 1000))
            cp = has & (unit == "copies").to_numpy() & (x < 0)
            for m, text in ((tr, "transcript ratio outside 0–1000 %"), (cp, "copies < 0")):
                if m.any():
                    out.append(Finding("assessments", np.flatnonzero(m), col, "R-ASM-008", "E",
                                       text))
                    x[m] = np.nan
        frame[col] = pd.Series(x)
    return out
