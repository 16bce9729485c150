"""REDCap reader/writer (data-dictionary.md §7): flat "CSV raw data" exports plus the project's
data dictionary, into the raw long tables of §1; and the REDCap export of a cohort.

Reading (``read_redcap``): classic projects with repeating instruments and longitudinal projects
(``redcap_event_name``; repeating instruments and repeating events). Checkbox columns
``field___code`` are reassembled into ``set`` values; instances become row keys
(``line_id = {record_id}-L{instance}``, see ``rrball.cohort.redcap``); instance fields
(``as_line_instance`` …, ``ae_hsct_instance``) become id references and ``ae_episode`` the AE
episode id; the data access group gives ``centre_id`` when ``pt_centre_id`` is empty. Units come
from the project dictionary's ``@RRBALL-UNIT`` tags (written as per-row ``<column>_unit`` cells,
§2.4, so each field keeps its own unit); study settings from an optional ``metadata.csv`` next to
the export. The R-RC-001…009 findings (and R-PRIV-001 for identifier fields, whose cells are never
read) are returned with the raw tables: the caller hands them to the validator, so nothing is
returned unless the whole export is valid. Source rows are physical CSV line numbers (header = 1).

Files are identified by their content: the dictionary's first header cell is
``Variable / Field Name`` (or the API's ``field_name``); the records' is the record id field.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rrball.cohort import redcap as rc
from rrball.cohort.readers._common import file_issue
from rrball.cohort.readers.csv import read_csv_text
from rrball.cohort.schema import (
    CODE_LISTS,
    DIRECT_IDENTIFIERS,
    ID_PATTERN,
    MRD_SCALES,
    TABLES,
    UNIT_FACTORS,
    normalise_name,
)
from rrball.cohort.validation import REDACTED, RawTable
from rrball.errors import CohortIssue, InputError

__all__ = [
    "RC_FIXES",
    "RedcapInput",
    "find_redcap_files",
    "is_redcap_dictionary",
    "rc_issue",
    "read_redcap",
    "write_redcap",
]

RC_FIXES: Mapping[str, str] = {
    "R-RC-001": "Export the data again as \"CSV / Microsoft Excel (raw data)\", not labels.",
    "R-RC-002": "Use an instrument of the rrball project (data-dictionary.md §7) or remove the "
    "row.",
    "R-RC-003": "Give every repeating instance a positive integer, unique per record and "
    "instrument (across events), and make the instrument repeating.",
    "R-RC-004": "Correct pt_centre_id or assign the record to its centre's data access group.",
    "R-RC-005": "Upload the dictionary emitted by `rrball redcap-dictionary` (it carries the "
    "unit tags and version) and export again.",
    "R-RC-006": "Use the checkbox codes of the rrball dictionary (§2.2).",
    "R-RC-007": "Enter the patient form once per record (one event) or make the values agree.",
    "R-RC-008": "Enter a study code (letters, digits, _ . -) as record_id.",
    "R-RC-009": "Enter the instance number of an existing form of the same record.",
}
_DICT_LABEL = "dictionary"
_SPECIAL = {"redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
            "redcap_data_access_group", "redcap_survey_identifier", "redcap_record_name"}
_LABEL_HEADERS = {"record id", "event name", "repeat instrument", "repeat instance",
                  "data access group", "survey identifier"}
_DICT_KEYS = {
    "variable / field name": "name", "field_name": "name", "form name": "form",
    "form_name": "form", "field type": "type", "field_type": "type", "field label": "label",
    "field_label": "label", "choices, calculations, or slider labels": "choices",
    "select_choices_or_calculations": "choices", "identifier?": "identifier",
    "identifier": "identifier", "field annotation": "annotation",
    "field_annotation": "annotation",
}


def rc_issue(*, table: str, row: int | None, column: str | None, value: str | None,
             rule_id: str, problem: str, source: str, severity: str = "E",
             conflict: str | None = None) -> CohortIssue:
    """A §3.6 record for the REDCap rules (message and fix as ``make_issue`` builds them)."""
    from rrball.cohort.validation import FIXES, make_issue

    issue = make_issue(table=table, row=row, column=column, value=value, rule_id=rule_id,
                       severity=severity, problem=problem, source=source)
    fix = RC_FIXES.get(rule_id) or FIXES.get(rule_id) or issue.fix
    message = issue.message.replace(f"Fix: {issue.fix}", f"Fix: {fix}", 1)
    if conflict:
        message = message.rstrip(".") + f" (conflicts with {conflict})."
    return CohortIssue(issue.table, issue.row, issue.column, issue.value, issue.rule_id,
                       issue.severity, message, fix, issue.source)


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:59] + "…"


# ---- CSV text ------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Csv:
    header: list[str]
    rows: list[list[str]]
    lines: list[int]


def _read_csv(data: bytes, source: str) -> tuple[_Csv | None, list[CohortIssue]]:
    """Rows with their physical start line (header = line 1; quoted newlines counted)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [file_issue(source, source, "R-FILE-001",
                                 f"not UTF-8 text (byte {exc.start}); save as UTF-8")]
    if "\x00" in text:
        return None, [file_issue(source, source, "R-FILE-001", "binary content, not a CSV")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        rows: list[list[str]] = []
        lines: list[int] = []
        prev = reader.line_num
        for rec in reader:
            start = prev + 1
            prev = reader.line_num
            if not any(c.strip() for c in rec):
                continue
            rows.append(rec)
            lines.append(start)
    except csv.Error as exc:
        return None, [file_issue(source, source, "R-FILE-001",
                                 f"not a well-formed CSV ({str(exc)[:80]})")]
    if not header:
        return None, [file_issue(source, source, "R-FILE-001", "empty file")]
    return _Csv([h.strip() for h in header], rows, lines), []


# ---- REDCap API JSON (``content=record, type=flat`` and ``content=metadata``) -----------------
#: keys of the API's metadata export, in the order of the CSV dictionary's 18 columns
API_METADATA_KEYS: tuple[str, ...] = (
    "field_name", "form_name", "section_header", "field_type", "field_label",
    "select_choices_or_calculations", "field_note", "text_validation_type_or_show_slider_number",
    "text_validation_min", "text_validation_max", "identifier", "branching_logic",
    "required_field", "custom_alignment", "question_number", "matrix_group_name",
    "matrix_ranking", "field_annotation",
)


def _json_rows(data: bytes, source: str) -> tuple[list[dict[str, object]] | None,
                                                  list[CohortIssue]]:
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [file_issue(source, source, "R-FILE-001",
                                 f"not a JSON export ({type(exc).__name__})")]
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        return None, [file_issue(source, source, "R-FILE-001",
                                 "a REDCap API export is a JSON list of records")]
    return value, []


def _json_as_csv(data: bytes, source: str) -> tuple[bytes | None, list[CohortIssue]]:
    """An API JSON export as the equivalent CSV export: records keep their keys (``type=flat``),
    metadata keys become the dictionary's 18 column headings. Record k (1-based) is reported
    as row k + 1, the line it would have in the CSV export."""
    rows, issues = _json_rows(data, source)
    if rows is None:
        return None, issues
    is_meta = bool(rows) and "field_name" in rows[0]
    header = list(API_METADATA_KEYS) if is_meta else list(dict.fromkeys(
        k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(rc.DICTIONARY_COLUMNS if is_meta else header)
    for r in rows:
        w.writerow(["" if r.get(k) is None else str(r.get(k)) for k in header])
    return buf.getvalue().encode("utf-8"), []


def _read_any(path: Path) -> tuple[_Csv | None, list[CohortIssue]]:
    data = path.read_bytes()
    if path.suffix.lower() == ".json":
        converted, issues = _json_as_csv(data, path.name)
        if converted is None:
            return None, issues
        data = converted
    return _read_csv(data, path.name)


def is_redcap_dictionary(header: Sequence[str]) -> bool:
    """A REDCap data dictionary (CSV download or API metadata) by its first header cell."""
    return bool(header) and header[0].strip().lower().lstrip("\ufeff") in (
        "variable / field name", "field_name")


# ---- the project dictionary ----------------------------------------------------------------------
@dataclass(slots=True)
class _Field:
    name: str
    form: str
    ftype: str
    label: str
    labels: dict[str, str]
    identifier: bool
    annotation: str
    line: int


@dataclass(slots=True)
class _Dictionary:
    fields: dict[str, _Field]
    record_field: str
    version: str | None
    version_line: int | None


def _parse_dictionary(csvd: _Csv) -> _Dictionary:
    pos: dict[str, int] = {}
    for j, h in enumerate(csvd.header):
        key = _DICT_KEYS.get(h.strip().lower())
        if key is not None and key not in pos:
            pos[key] = j
    if len(csvd.header) >= 18:  # REDCap's fixed column order, whatever the header spelling
        for key, j in (("name", 0), ("form", 1), ("type", 3), ("label", 4), ("choices", 5),
                       ("identifier", 10), ("annotation", 17)):
            pos.setdefault(key, j)
    fields: dict[str, _Field] = {}
    version: str | None = None
    version_line: int | None = None

    def get(r: list[str], key: str) -> str:
        j = pos.get(key)
        return r[j].strip() if j is not None and j < len(r) else ""

    for r, line in zip(csvd.rows, csvd.lines, strict=True):
        name = get(r, "name")
        if not name:
            continue
        labels: dict[str, str] = {}
        for part in get(r, "choices").split("|"):
            raw, _, label = part.partition(",")
            if raw.strip():
                labels[raw.strip()] = label.strip()
        annotation = get(r, "annotation")
        fields[name] = _Field(name, get(r, "form"), get(r, "type").lower(), get(r, "label"),
                              labels,
                              get(r, "identifier").lower() == "y", annotation, line)
        if name == rc.VERSION_FIELD:
            m = re.search(r'@DEFAULT\s*=\s*["\']?([^"\'\s]+)', annotation)
            version, version_line = (m.group(1) if m else None), line
    record_field = next(iter(fields), rc.RECORD_ID)
    return _Dictionary(fields, record_field, version, version_line)


def _unit_tag(f: _Field) -> str | None:
    m = re.search(r"@RRBALL-UNIT\s*=\s*(\S+)", f.annotation)
    return m.group(1) if m else None


def _version_status(version: str) -> str:
    """``ok``, ``old`` (older supported minor: W) or ``bad`` (unsupported: E)."""
    m = re.fullmatch(r"(\d+)\.(\d+)", version.strip())
    cur = re.fullmatch(r"(\d+)\.(\d+)", rc.DICTIONARY_VERSION)
    if m is None or cur is None or m.group(1) != cur.group(1):
        return "bad"
    if int(m.group(2)) == int(cur.group(2)):
        return "ok"
    return "old" if int(m.group(2)) < int(cur.group(2)) else "bad"


# ---- field map -----------------------------------------------------------------------------------
_FIELD_MAP: dict[str, tuple[str, str]] = {}
for _t in rc.INSTRUMENTS:
    for _c in rc.data_columns(_t):
        _FIELD_MAP[rc.field_name(_t, _c)] = (_t, _c)
    for _c, _f in rc.reference_fields(_t).items():
        _FIELD_MAP[_f] = (_t, _c)
_PREFIX_TABLE = {i.prefix: t for t, i in rc.INSTRUMENTS.items()}
_COMPLETE = {f"{i.form}_complete": t for t, i in rc.INSTRUMENTS.items()}


def _table_of_field(name: str) -> str | None:
    if name in _FIELD_MAP:
        return _FIELD_MAP[name][0]
    return _PREFIX_TABLE.get(name[:3])


def _is_identifier(name: str, dfield: _Field | None) -> bool:
    base = normalise_name(name)
    stripped = base[3:] if base[:3] in _PREFIX_TABLE else base
    if base in DIRECT_IDENTIFIERS or stripped in DIRECT_IDENTIFIERS:
        return True
    return dfield is not None and dfield.identifier and name != "pt_birth_date"



# ---- parsing the export --------------------------------------------------------------------------
@dataclass(slots=True)
class RedcapInput:
    """The files of one REDCap import: records, project dictionary, optional metadata."""

    records: Path
    dictionary: Path
    metadata: Path | None = None


@dataclass(slots=True)
class _Rows:
    """Rows of one instrument being built: values per column, source lines, source names."""

    values: list[dict[str, str | None]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    names: list[dict[str, str]] = field(default_factory=list)


class _Parser:
    """One pass over a flat export; collects issues lazily, builds raw tables."""

    def __init__(self, data: _Csv, dct: _Dictionary, source: str, dict_source: str,
                 only_complete: bool) -> None:
        self.d = data
        self.dct = dct
        self.src = source
        self.dsrc = dict_source
        self.only_complete = only_complete
        self.issues: list[CohortIssue] = []
        self.version_col: int | None = None
        self.label_cache: dict[str, frozenset[str]] = {}
        self.units: dict[tuple[str, str], str] = {}

    def add(self, *, table: str, row: int | None, column: str | None, value: str | None,
            rule_id: str, problem: str, severity: str = "E", conflict: str | None = None,
            source: str | None = None) -> None:
        self.issues.append(rc_issue(table=table, row=row, column=column, value=value,
                                    rule_id=rule_id, problem=problem,
                                    source=source or self.src, severity=severity,
                                    conflict=conflict))

    # -- header ----------------------------------------------------------------------------------
    def labels_header(self) -> bool:
        """R-RC-001 for a "CSV labels" export recognised by its header (field labels)."""
        header = self.d.header
        if self.dct.record_field in header or rc.RECORD_ID in header:
            return False
        labels = {f.label.strip().lower() for f in self.dct.fields.values() if f.label}
        hits = [h for h in header if h.strip().lower() in _LABEL_HEADERS
                or h.strip().lower() in labels or h.strip().endswith("Complete?")]
        if hits:
            self.add(table="records", row=1, column=None, value=None, rule_id="R-RC-001",
                     problem="a \"CSV labels\" export (the header holds field labels such as "
                     f"{hits[0]!r}); rrball reads raw codes only")
            return True
        self.add(table="records", row=1, column=self.dct.record_field, value=None,
                 rule_id="R-RC-008", problem="record id column missing (first column of a "
                 "REDCap export)")
        return True

    def classify_columns(self) -> None:
        """Map every export column to (table, column), checkbox code, or a special use."""
        self.col: dict[str, int] = {}
        self.plain: dict[str, tuple[str, str]] = {}  # field -> (table, column)
        self.boxes: dict[str, list[tuple[str, str]]] = {}  # field -> [(header, raw code)]
        self.complete: dict[str, int] = {}
        reported: set[str] = set()
        rid = self.dct.record_field if self.dct.record_field in self.d.header else rc.RECORD_ID
        self.rid = rid
        for j, h in enumerate(self.d.header):
            if h in self.col:
                self.add(table="records", row=1, column=h, value=None, rule_id="R-GEN-009",
                         problem="two columns with the same name")
                continue
            self.col[h] = j
            if h == rid or h in _SPECIAL or h.endswith("_timestamp") or not h:
                continue
            if h in _COMPLETE:
                self.complete[_COMPLETE[h]] = j
                continue
            base, sep, code = h.partition("___")
            dfield = self.dct.fields.get(base)
            table = _table_of_field(base)
            label = rc.INSTRUMENTS[table].form if table else (dfield.form if dfield else
                                                              "records")
            if _is_identifier(base, dfield):
                if base not in reported:
                    reported.add(base)
                    self.add(table=label, row=None, column=base, value=REDACTED,
                             rule_id="R-PRIV-001",
                             problem="direct identifiers are not accepted")
                continue
            if base == rc.VERSION_FIELD:
                self.version_col = j
                continue
            target = _FIELD_MAP.get(base)
            if target is None:
                if base not in reported:
                    reported.add(base)
                    self.add(table=label, row=None, column=base, value=None,
                             rule_id="R-GEN-001", severity="W",
                             problem="field not in the rrball dictionary (ignored)")
                continue
            spec = TABLES[target[0]].columns[target[1]]
            if sep:
                lst = rc.list_of(spec) if spec.kind == "set" else None
                if lst is None or code not in CODE_LISTS[lst]:
                    why = (f"code {code!r} is not in list {lst}" if lst else
                           f"{base} is not a checkbox (set) field")
                    self.add(table=label, row=None, column=h, value=None, rule_id="R-RC-006",
                             problem=f"checkbox column with an unknown code: {why}")
                    continue
                self.boxes.setdefault(base, []).append((h, code))
            else:
                self.plain[base] = target
        self.event_col = self.col.get("redcap_event_name")
        self.instr_col = self.col.get("redcap_repeat_instrument")
        self.inst_col = self.col.get("redcap_repeat_instance")
        self.dag_col = self.col.get("redcap_data_access_group")
        if self.only_complete:
            for table, inst in rc.INSTRUMENTS.items():
                fields_here = any(_table_of_field(f) == table for f in [*self.plain, *self.boxes])
                if fields_here and table not in self.complete:
                    self.add(table=inst.form, row=None, column=f"{inst.form}_complete",
                             value=None, rule_id="R-GEN-002",
                             problem="completion status column absent (needed by "
                             "only_complete=True)")
        self.fields_of: dict[str, list[str]] = {t: [] for t in rc.INSTRUMENTS}
        for f in [*self.plain, *self.boxes]:
            t = _table_of_field(f)
            if t is not None:
                self.fields_of[t].append(f)

    # -- cells -----------------------------------------------------------------------------------
    def cell(self, r: list[str], j: int | None) -> str:
        return r[j].strip() if j is not None and j < len(r) else ""

    def filled(self, r: list[str], table: str) -> bool:
        for f in self.fields_of[table]:
            if f in self.plain and self.cell(r, self.col[f]):
                return True
            if f in self.boxes and any(self.cell(r, self.col[h]) not in ("", "0")
                                       for h, _ in self.boxes[f]):
                return True
        return False

    def values(self, r: list[str], line: int, table: str) -> dict[str, str | None]:
        """Cells of ``table``'s fields in row ``r``, labels reported (R-RC-001), checkboxes
        reassembled (raw codes joined by ``;``)."""
        out: dict[str, str | None] = {}
        form = rc.INSTRUMENTS[table].form
        for f in self.fields_of[table]:
            t, c = _FIELD_MAP[f]
            spec = TABLES[t].columns[c]
            if f in self.boxes:
                codes: list[str] = []
                for h, code in self.boxes[f]:
                    v = self.cell(r, self.col[h])
                    if v in ("", "0"):
                        continue
                    if v == "1":
                        codes.append(code)
                    elif v.lower() in ("checked", "unchecked"):
                        self.add(table=form, row=line, column=h, value=_clip(v),
                                 rule_id="R-RC-001", problem="checkbox label instead of 1/0 "
                                 "(labels export)")
                    else:
                        self.add(table=form, row=line, column=h, value=_clip(v),
                                 rule_id="R-GEN-004", problem="checkbox cell not 1/0")
                out[c] = ";".join(codes) if codes else None
                continue
            v = self.cell(r, self.col[f])
            lst = rc.list_of(spec)
            if v and lst is not None and v not in CODE_LISTS[lst] \
                    and v.lower() in self._labels(f, lst):
                self.add(table=form, row=line, column=f, value=_clip(v),
                         rule_id="R-RC-001", problem="choice label instead of the raw "
                         "code (labels export)")
                out[c] = None
                continue
            out[c] = v or None
        return out

    def _labels(self, f: str, lst: str) -> frozenset[str]:
        """Choice labels of a field (project dictionary and rrball's), lower case, cached."""
        got = self.label_cache.get(f)
        if got is None:
            labels = {lab.lower() for lab in rc.choice_labels(lst).values()}
            dfield = self.dct.fields.get(f)
            if dfield is not None:
                labels |= {lab.lower() for lab in dfield.labels.values()}
            if lst == "yn":
                labels |= {"yes", "no"}
            got = self.label_cache[f] = frozenset(labels)
        return got

    # -- rows ------------------------------------------------------------------------------------
    def run(self) -> dict[str, RawTable]:
        d = self.d
        forms = {i.form: t for t, i in rc.INSTRUMENTS.items()}
        rows: dict[str, _Rows] = {t: _Rows() for t in rc.INSTRUMENTS}
        seen: dict[tuple[str, str, int], int] = {}
        dropped: set[tuple[str, str, int]] = set()
        patient: dict[str, dict[str, tuple[str, int]]] = {}
        patient_line: dict[str, int] = {}
        first_line: dict[str, int] = {}
        dag: dict[str, tuple[str, int]] = {}
        complete_patient: set[str] = set()
        order: list[str] = []
        for r, line in zip(d.rows, d.lines, strict=True):
            rid = self.cell(r, self.col.get(self.rid))
            if not rid:
                self.add(table="records", row=line, column=self.rid, value="",
                         rule_id="R-RC-008", problem="record_id missing")
                continue
            if not ID_PATTERN.match(rid):
                self.add(table="records", row=line, column=self.rid, value=_clip(rid),
                         rule_id="R-RC-008", problem="record_id is not a valid patient_id "
                         "(letters, digits, _ . -; at most 32 characters)")
                continue
            if rid not in first_line:
                first_line[rid] = line
                order.append(rid)
            dv = self.cell(r, self.dag_col)
            if dv and rid not in dag:
                dag[rid] = (dv, line)
            if self.version_col is not None:
                ver = self.cell(r, self.version_col)
                if ver and _version_status(ver) != "ok":
                    old = _version_status(ver) == "old"
                    self.add(table="patient", row=line, column=rc.VERSION_FIELD, value=_clip(ver),
                             rule_id="R-RC-005", severity="W" if old else "E",
                             problem="record entered under an older dictionary version" if old
                             else "dictionary version not supported by this rrball")
            instr = self.cell(r, self.instr_col)
            inst_text = self.cell(r, self.inst_col)
            tables: list[str] = []
            if instr:
                if instr in forms and rc.INSTRUMENTS[forms[instr]].repeating:
                    tables = [forms[instr]]
                elif instr in forms:
                    self.add(table="records", row=line, column="redcap_repeat_instrument",
                             value=_clip(instr), rule_id="R-RC-002",
                             problem=f"{instr} is not a repeating instrument of rrball")
                    continue
                elif normalise_name(instr) in forms:
                    self.add(table="records", row=line, column="redcap_repeat_instrument",
                             value=_clip(instr), rule_id="R-RC-001",
                             problem="instrument label instead of its name (labels export)")
                    continue
                else:
                    self.add(table="records", row=line, column="redcap_repeat_instrument",
                             value=_clip(instr), rule_id="R-RC-002",
                             problem="not an rrball instrument (patient, treatment_line, "
                             "assessment, transplant, follow_up_event, adverse_event, "
                             "administration)")
                    continue
            else:
                self._patient_row(r, line, rid, patient, patient_line, complete_patient)
                tables = [t for t, i in rc.INSTRUMENTS.items() if i.repeating and
                          self.filled(r, t)]
                if not inst_text:
                    for t in tables:
                        self.add(table=rc.INSTRUMENTS[t].form, row=line,
                                 column="redcap_repeat_instance", value="",
                                 rule_id="R-RC-003", problem=f"fields of {rc.INSTRUMENTS[t].form}"
                                 " filled in a row without a repeat instance (the instrument "
                                 "must be repeating)")
                    continue
            inst = int(inst_text) if inst_text.isdigit() else 0
            if inst < 1:
                for t in tables:
                    self.add(table=rc.INSTRUMENTS[t].form, row=line,
                             column="redcap_repeat_instance", value=_clip(inst_text),
                             rule_id="R-RC-003", problem="repeat instance missing or not a "
                             "positive integer")
                continue
            for t in tables:
                form = rc.INSTRUMENTS[t].form
                key = (rid, t, inst)
                if key in seen:
                    self.add(table=form, row=line, column="redcap_repeat_instance",
                             value=str(inst), rule_id="R-RC-003",
                             problem="repeat instance duplicated for this record and instrument",
                             conflict=f"{form} row {seen[key]}, redcap_repeat_instance = {inst}")
                    continue
                seen[key] = line
                for other in rc.INSTRUMENTS:
                    if other not in (t, "patients") and instr and self.filled(r, other):
                        self.add(table=form, row=line, column=None, value=None,
                                 rule_id="R-GEN-001", severity="W",
                                 problem=f"fields of {rc.INSTRUMENTS[other].form} in a row of "
                                 f"{form} (ignored)")
                if self.only_complete and self.cell(r, self.complete.get(t)) != "2":
                    dropped.add(key)
                    continue
                vals = self.values(r, line, t)
                vals["patient_id"] = rid
                vals["__instance"] = str(inst)
                rows[t].values.append(vals)
                rows[t].lines.append(line)
        self.kept = {k for k in seen if k not in dropped}
        self.dropped = dropped
        if self.only_complete:
            order = [p for p in order if p in complete_patient]
        self._patients(order, patient, patient_line, first_line, dag, rows)
        keep = set(order)
        return self._tables(rows, keep)

    def _patient_row(self, r: list[str], line: int, rid: str,
                     patient: dict[str, dict[str, tuple[str, int]]],
                     patient_line: dict[str, int], complete_patient: set[str]) -> None:
        """Non-repeating patient fields of one row (one value per record, R-RC-007)."""
        if not self.filled(r, "patients"):
            return
        if self.only_complete and self.cell(r, self.complete.get("patients")) != "2":
            return
        complete_patient.add(rid)
        vals = self.values(r, line, "patients")
        got = patient.setdefault(rid, {})
        patient_line.setdefault(rid, line)
        for c, v in vals.items():
            if v is None:
                continue
            if c in got and got[c][0] != v:
                f = rc.field_name("patients", c)
                self.add(table="patient", row=line, column=f, value=_clip(v), rule_id="R-RC-007",
                         problem="non-repeating patient field with different values across "
                         "events", conflict=f"patient row {got[c][1]}, {f} = {_clip(got[c][0])}")
            elif c not in got:
                got[c] = (v, line)

    def _patients(self, order: list[str], patient: dict[str, dict[str, tuple[str, int]]],
                  patient_line: dict[str, int], first_line: dict[str, int],
                  dag: dict[str, tuple[str, int]], rows: dict[str, _Rows]) -> None:
        out = rows["patients"]
        for rid in order:
            got = patient.get(rid, {})
            vals: dict[str, str | None] = {c: v for c, (v, _) in got.items()}
            vals["patient_id"] = rid
            line = patient_line.get(rid, first_line[rid])
            names = {"patient_id": self.rid}
            if rid in dag:
                dv, dline = dag[rid]
                cid = vals.get("centre_id")
                if not cid:
                    vals["centre_id"] = dv
                    names["centre_id"] = "redcap_data_access_group"
                elif rc.dag_name(cid) != rc.dag_name(dv):
                    self.add(table="patient", row=got["centre_id"][1], column="pt_centre_id",
                             value=_clip(cid), rule_id="R-RC-004",
                             problem="differs from the record's data access group",
                             conflict=f"records row {dline}, redcap_data_access_group = "
                             f"{_clip(dv)}")
            out.values.append(vals)
            out.lines.append(line)
            out.names.append(names)

    # -- raw tables ------------------------------------------------------------------------------
    def _tables(self, rows: dict[str, _Rows], keep: set[str]) -> dict[str, RawTable]:
        out: dict[str, RawTable] = {}
        for table, inst in rc.INSTRUMENTS.items():
            b = rows[table]
            if table != "patients":
                idx = [k for k, v in enumerate(b.values) if v["patient_id"] in keep]
                b = _Rows([b.values[k] for k in idx], [b.lines[k] for k in idx])
                b.names = [{} for _ in idx]
                for vals, line, names in zip(b.values, b.lines, b.names, strict=True):
                    self._keys(table, vals, line, names)
            if not b.values and not TABLES[table].required:
                continue
            out[table] = self._raw(table, inst.form, b)
        return out

    def _keys(self, table: str, vals: dict[str, str | None], line: int,
              names: dict[str, str]) -> None:
        """Row key from the instance; references from instance fields (R-RC-009)."""
        inst = rc.INSTRUMENTS[table]
        rid = str(vals["patient_id"])
        vals[TABLES[table].key] = f"{rid}-{inst.letter}{vals.pop('__instance')}"
        names[TABLES[table].key] = "redcap_repeat_instance"
        names["patient_id"] = self.rid
        for col, fname in rc.reference_fields(table).items():
            names[col] = fname
            v = vals.get(col)
            if v is None:
                continue
            if col == "ae_id":
                if not v.isdigit() or int(v) < 1:
                    self.add(table=inst.form, row=line, column=fname, value=_clip(v),
                             rule_id="R-GEN-004", problem="episode number is not a positive "
                             "whole number")
                vals[col] = f"{rid}-{rc.EPISODE_LETTER}{v}"
                continue
            target = "treatment_lines" if col == "line_id" else "transplants"
            tinst = rc.INSTRUMENTS[target]
            n = int(v) if v.isdigit() else 0
            if (rid, target, n) in self.kept:
                vals[col] = f"{rid}-{tinst.letter}{n}"
                continue
            why = " (that instance is not complete; only_complete=True)" \
                if (rid, target, n) in self.dropped else ""
            self.add(table=inst.form, row=line, column=fname, value=_clip(v),
                     rule_id="R-RC-009", problem=f"points to no {tinst.form} instance of this "
                     f"record{why}")
            vals[col] = None

    def _raw(self, table: str, form: str, b: _Rows) -> RawTable:
        spec = TABLES[table]
        present = {_FIELD_MAP[f][1] for f in self.fields_of[table]}
        cols = [c for c in spec.columns if c in present or c == spec.key or c == "patient_id"
                or (c in rc.reference_fields(table) and c in present)]
        header = list(cols)
        cells = [np.array([v.get(c) for v in b.values], dtype=object) for c in cols]
        field_of = {c: rc.field_name(table, c) for c in cols}
        field_of.update(rc.reference_fields(table))
        field_of[spec.key] = "redcap_repeat_instance"
        field_of["patient_id"] = self.rid
        for c in cols:
            unit = self.units.get((table, c))
            if unit is not None:
                header.append(f"{c}_unit")
                cells.append(np.full(len(b.values), unit, dtype=object))
                field_of[f"{c}_unit"] = field_of[c]
        names = b.names

        def source_column(i: int, col: str) -> str:
            if i < len(names) and col in names[i]:
                return names[i][col]
            return field_of.get(col, col)

        return RawTable(table, form, self.src, header, cells,
                        np.asarray(b.lines, dtype=np.int64), source_column=source_column)

    # -- units and version (§7) ------------------------------------------------------------------
    def check_dictionary(self) -> str | None:
        """R-RC-005 (tags, version), R-UNIT-002 (units); sets ``self.units``; returns the MRD
        scale of the project (None when no MRD field is exported)."""
        dct = self.dct
        if dct.version is None:
            self.add(table=_DICT_LABEL, row=dct.version_line, column=rc.VERSION_FIELD,
                     value=None, rule_id="R-RC-005", source=self.dsrc,
                     problem="project dictionary without the rrball version field "
                     "(pt_dictionary_version with @DEFAULT)")
        elif _version_status(dct.version) != "ok":
            old = _version_status(dct.version) == "old"
            self.add(table=_DICT_LABEL, row=dct.version_line, column=rc.VERSION_FIELD,
                     value=_clip(dct.version), rule_id="R-RC-005", source=self.dsrc,
                     severity="W" if old else "E",
                     problem=f"older dictionary version (current {rc.DICTIONARY_VERSION})" if old
                     else f"dictionary version not supported (this rrball reads "
                     f"{rc.DICTIONARY_VERSION})")
        mrd: dict[str, tuple[str, int]] = {}
        for f, (table, c) in self.plain.items():
            spec = TABLES[table].columns[c]
            mrd_col = table == "assessments" and c in ("mrd_value", "mrd_lod")
            fixed = rc.FIXED_UNITS.get(c)
            if spec.unit_key is None and not mrd_col and fixed is None:
                continue
            dfield = dct.fields.get(f)
            tag = _unit_tag(dfield) if dfield is not None else None
            line = dfield.line if dfield is not None else None
            if tag is None:
                if fixed is not None and spec.unit_key is None:
                    continue  # fixed unit: a tag is only checked when present
                self.add(table=_DICT_LABEL, row=line, column=f, value=None,
                         rule_id="R-RC-005", source=self.dsrc,
                         problem="measured field without an @RRBALL-UNIT tag" if dfield else
                         "measured field in the export but not in the project dictionary")
                continue
            if mrd_col:
                if tag not in MRD_SCALES:
                    self.add(table=_DICT_LABEL, row=line, column=f, value=_clip(tag),
                             rule_id="R-UNIT-002", source=self.dsrc,
                             problem=f"MRD scale not allowed (allowed: {', '.join(MRD_SCALES)})")
                else:
                    mrd[c] = (tag, line or 0)
            elif spec.unit_key is not None:
                if tag not in UNIT_FACTORS[spec.unit_key]:
                    self.add(table=_DICT_LABEL, row=line, column=f, value=_clip(tag),
                             rule_id="R-UNIT-002", source=self.dsrc,
                             problem=f"unit not allowed (allowed: "
                             f"{', '.join(UNIT_FACTORS[spec.unit_key])})")
                else:
                    self.units[(table, c)] = tag
            elif fixed is not None and tag != fixed[0]:
                self.add(table=_DICT_LABEL, row=line, column=f, value=_clip(tag),
                         rule_id="R-UNIT-002", source=self.dsrc,
                         problem=f"this field is entered in {fixed[0]} only")
        if len({v for v, _ in mrd.values()}) > 1:
            self.add(table=_DICT_LABEL, row=mrd["mrd_lod"][1], column="as_mrd_lod",
                     value=_clip(mrd["mrd_lod"][0]), rule_id="R-UNIT-002", source=self.dsrc,
                     problem="MRD value and LOD must share one scale",
                     conflict=f"{_DICT_LABEL} row {mrd['mrd_value'][1]}, as_mrd_value = "
                     f"{mrd['mrd_value'][0]}")
        scales = [v for v, _ in mrd.values()]
        return scales[0] if scales else None


# ---- entry points --------------------------------------------------------------------------------
def _redcap_defaults(records: Path) -> dict[str, str]:
    """Settings read from REDCap's export file name ``<PROJECT>_DATA_<YYYY-MM-DD>_<hhmm>.csv``."""
    m = re.match(r"^(.+?)_DATA_(?:LABELS_)?(\d{4}-\d{2}-\d{2})", records.name)
    if not m:
        return {}
    code = re.sub(r"[^A-Za-z0-9_-]", "", m.group(1))[:32]
    out = {"export_date": m.group(2)}
    if code:
        out["study_code"] = code
    return out


_UNIT_META = {*UNIT_FACTORS, "mrd_scale"}


def read_redcap(files: RedcapInput, *, only_complete: bool = False,
                ) -> tuple[dict[str, RawTable], list[tuple[str, str | None, int]],
                           list[CohortIssue], bool]:
    """Read one REDCap export: (raw tables, metadata pairs, issues, fatal).

    ``fatal`` is True when nothing could be mapped (unreadable files, a labels export, no
    record id): the caller raises the issues without running the validator.
    """
    data, issues = _read_any(files.records)
    dcsv, more = _read_any(files.dictionary)
    issues += more
    if data is None or dcsv is None:
        return {}, [], issues, True
    if not is_redcap_dictionary(dcsv.header):
        issues.append(rc_issue(table=_DICT_LABEL, row=1, column=None, value=None,
                               rule_id="R-RC-005", source=files.dictionary.name,
                               problem="not a REDCap data dictionary (first header cell must be "
                               "'Variable / Field Name')"))
        return {}, [], issues, True
    p = _Parser(data, _parse_dictionary(dcsv), files.records.name, files.dictionary.name,
                only_complete)
    if p.labels_header():
        return {}, [], [*issues, *p.issues], True
    p.classify_columns()
    scale = p.check_dictionary()
    raw = p.run()
    pairs: list[tuple[str, str | None, int]] = []
    given: set[str] = set()
    if files.metadata is not None:
        mraw, miss = read_csv_text(files.metadata.read_bytes(), "metadata", files.metadata.name)
        issues += miss
        if mraw is not None:
            heads = [h.strip().lower() for h in mraw.header]
            if "key" in heads and "value" in heads:
                k, v = heads.index("key"), heads.index("value")
                for i in range(mraw.n):
                    key = normalise_name(mraw.cells[k][i])
                    if key in _UNIT_META:
                        p.add(table="metadata", row=int(mraw.rows[i]), column=key,
                              value=_clip(str(mraw.cells[v][i])), rule_id="R-META-002",
                              severity="W", source=files.metadata.name,
                              problem="units of a REDCap import come from the project "
                              "dictionary's @RRBALL-UNIT tags (ignored)")
                        continue
                    given.add(key)
                    pairs.append((str(mraw.cells[k][i]), mraw.cells[v][i], int(mraw.rows[i])))
    defaults = _redcap_defaults(files.records)
    if p.dct.version is not None and _version_status(p.dct.version) != "bad":
        defaults.setdefault("schema_version", "1.0")
    for key, value in defaults.items():
        if key not in given:
            pairs.append((key, value, 0))
    if scale is not None:
        pairs.append(("mrd_scale", scale, 0))
    return raw, pairs, [*issues, *p.issues], False


def find_redcap_files(paths: Sequence[Path]) -> RedcapInput:
    """The records, dictionary and optional ``metadata.csv`` among ``paths`` (files, or one
    folder holding exactly the two REDCap CSVs plus an optional ``metadata.csv``)."""
    files = list(paths)
    if len(files) == 1 and files[0].is_dir():
        files = sorted([*files[0].glob("*.csv"), *files[0].glob("*.json")])
    for f in files:
        if not f.exists():
            raise InputError("path", f"{f.name} does not exist")
        if f.is_dir():
            raise InputError("path", f"{f.name} is a folder; give the two REDCap CSV files or "
                             "one folder holding them")
    meta = [f for f in files if f.name.lower() == "metadata.csv"]
    rest = [f for f in files if f.name.lower() != "metadata.csv"]
    if len(rest) != 2:
        raise InputError("path_or_paths", f"a REDCap import needs exactly two CSV files (the "
                         f"records export and the project data dictionary), got {len(rest)}")
    is_dict = [_is_dictionary_file(f) for f in rest]
    if sum(is_dict) != 1:
        raise InputError("path_or_paths", "cannot tell the records export from the data "
                         "dictionary (exactly one file must start with 'Variable / Field Name')")
    d = is_dict.index(True)
    records, dictionary = rest[1 - d], rest[d]
    if not meta and (records.parent / "metadata.csv").exists():
        meta = [records.parent / "metadata.csv"]
    return RedcapInput(records, dictionary, meta[0] if meta else None)


def _is_dictionary_file(f: Path) -> bool:
    """A CSV starting with 'Variable / Field Name', or an API metadata JSON (``field_name``)."""
    if f.suffix.lower() == ".json":
        rows, _ = _json_rows(f.read_bytes(), f.name)
        return bool(rows) and "field_name" in rows[0]  # type: ignore[index]
    with f.open("rb") as fh:
        first = fh.readline().decode("utf-8-sig", errors="replace")
    return is_redcap_dictionary(next(csv.reader([first]), []))


def looks_like_redcap_folder(path: Path) -> bool:
    """A folder without table CSVs that holds a REDCap data dictionary (format inference)."""
    if not path.is_dir() or (path / "patients.csv").exists():
        return False
    return any(_is_dictionary_file(f) for f in [*path.glob("*.csv"), *path.glob("*.json")])


def write_redcap(path: Path, records: pd.DataFrame, dictionary: pd.DataFrame,
                 meta_pairs: Sequence[tuple[str, str]]) -> None:
    """Write ``records.csv``, ``dictionary.csv`` and ``metadata.csv`` (study settings only:
    units travel in the dictionary) into the folder ``path``; all text is built first."""
    settings = [(k, v) for k, v in meta_pairs if k not in _UNIT_META]
    payload = {
        "records.csv": records.to_csv(index=False, lineterminator="\n"),
        "dictionary.csv": dictionary.to_csv(index=False, lineterminator="\n"),
        "metadata.csv": pd.DataFrame(settings, columns=["key", "value"]).to_csv(
            index=False, lineterminator="\n"),
    }
    path.mkdir(parents=True, exist_ok=True)
    for name, text in payload.items():
        (path / name).write_text(text, encoding="utf-8")

