"""Declarative mapping of one wide source table (a centre's spreadsheet) into the cohort model.

A mapping file (YAML) says, for each model table of data-dictionary.md §1, which rows to emit
from each source row and how each model column is computed from the source cells: a constant, a
copied cell, a recoded cell (``map``), a text template (``template``) or the first matching case
(``cases``). The engine is pure: ``map_frame(frame, mapping)`` turns a source ``DataFrame`` (text
cells) and a validated :class:`MappingSpec` into the raw tables, metadata pairs and notes that
``rrball.cohort.cohort.validate_raw`` checks like any other import, so the normal validator
reports every cell that does not fit (no silent drops): a value missing from a ``map`` is passed
through unchanged and fails its code list (R-GEN-005), a bad date fails R-GEN-006, and so on.

What the source cannot express is declared in the mapping, never dropped quietly, and each case
becomes a warning of the imported cohort (rule ids PROPOSED for data-dictionary.md §3):

- ``R-MAP-001`` a source row excluded by an ``exclude`` rule (with the rule's reason);
- ``R-MAP-002`` a source cell replaced by a ``cells`` entry (value and reason shown);
- ``R-MAP-003`` a source fact the model cannot hold (``notes``, e.g. a death without a date);
- ``R-MAP-004`` a source row left out of a named ``subsets`` selection.

Errors in the mapping file itself raise :class:`MappingError`, each located by YAML line and
path (``tables.patients[0].columns.sex.map``) — the convention of ``rrball.study.plan``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rrball._yaml import nearest_line, path_text, read_yaml
from rrball.cohort.schema import TABLES
from rrball.cohort.validation import RawTable, make_issue
from rrball.errors import CohortIssue, RRBallError

__all__ = [
    "Case",
    "Condition",
    "Emitter",
    "MappedTables",
    "MappingError",
    "MappingIssue",
    "MappingSpec",
    "Value",
    "map_frame",
    "parse_mapping",
]

_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_Obj = npt.NDArray[np.object_]


# ---- errors --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MappingIssue:
    """One problem of a mapping file: 1-based YAML line (or None), YAML path, message."""

    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "mapping"
        return f"{where}, {self.path or '(top)'}: {self.message}"


class MappingError(RRBallError, ValueError):
    """An invalid mapping file; ``issues`` lists every located problem."""

    def __init__(self, issues: Sequence[MappingIssue], *, source: str = "mapping") -> None:
        self.issues = tuple(issues)
        self.source = source
        body = "\n".join(f"  {i}" for i in self.issues)
        super().__init__(f"{source}: {len(self.issues)} problem(s) in the mapping\n{body}")


# ---- the mapping language ------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Model):
    """A test on one source row. Leaf: ``column`` with one of ``equals``, ``in``, ``missing``
    (true: the cell is empty or an NA value; false: it is filled). Combinations: ``all``,
    ``any``, ``not``."""

    column: str | None = None
    equals: str | None = None
    isin: list[str] | None = Field(default=None, alias="in")
    missing: bool | None = None
    all_of: list[Condition] | None = Field(default=None, alias="all")
    any_of: list[Condition] | None = Field(default=None, alias="any")
    negate: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        tests = sum(x is not None for x in (self.equals, self.isin, self.missing))
        combos = sum(x is not None for x in (self.all_of, self.any_of, self.negate))
        if self.column is not None:
            if tests != 1 or combos:
                raise ValueError("a test on 'column' needs exactly one of equals, in, missing")
        elif combos != 1 or tests:
            raise ValueError("give 'column' with equals/in/missing, or one of all, any, not")
        return self


class Value(_Model):
    """How one model cell is computed (exactly one form).

    ``value``: a constant. ``column``: the source cell, recoded by ``map`` when given (a filled
    value absent from ``map`` is passed through unchanged, so the validator reports it), with
    ``missing`` used when the cell is empty. ``template``: text with ``{source column}``
    placeholders (empty if any placeholder is empty). ``cases``: the first case whose ``when``
    holds, else ``otherwise`` (else empty).
    """

    value: str | int | float | None = None
    column: str | None = None
    map: dict[str, str | int | float] | None = None
    missing: str | int | float | None = None
    template: str | None = None
    cases: list[Case] | None = None
    otherwise: Value | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Value:
        forms = [self.value is not None, self.column is not None, self.template is not None,
                 self.cases is not None]
        if sum(forms) != 1:
            raise ValueError("give exactly one of value, column, template, cases")
        if (self.map is not None or self.missing is not None) and self.column is None:
            raise ValueError("'map' and 'missing' apply to 'column' only")
        if self.otherwise is not None and self.cases is None:
            raise ValueError("'otherwise' applies to 'cases' only")
        return self


class Case(_Model):
    """``when`` this condition holds, the cell is ``then``."""

    when: Condition
    then: Value


class Emitter(_Model):
    """Rows of one model table: one per source row where ``when`` holds (always if absent)."""

    when: Condition | None = None
    columns: dict[str, Value] = Field(min_length=1)


class Exclude(_Model):
    """Source rows not imported (each reported as R-MAP-001 with ``reason``)."""

    when: Condition
    reason: str = Field(min_length=1)


class CellOverride(_Model):
    """One source cell replaced before mapping (``value: null`` = treated as missing); reported
    as R-MAP-002 with the original value and ``reason``."""

    id: str
    column: str
    value: str | None = None
    reason: str = Field(min_length=1)


class Note(_Model):
    """A source fact the model cannot hold, declared: R-MAP-003 for every row where ``when``
    holds, naming ``column`` and its value."""

    when: Condition
    column: str
    reason: str = Field(min_length=1)


class Subset(_Model):
    """A named selection of source rows (``keep`` holds); the others are reported as R-MAP-004."""

    keep: Condition
    reason: str = Field(min_length=1)


class SourceInfo(_Model):
    file: str
    title: str | None = None
    citation: str | None = None


class MappingSpec(_Model):
    """A validated mapping file (see the module docstring)."""

    mapping_version: int = Field(ge=1, le=1)
    source: SourceInfo
    id: str = Field(description="source column holding the patient id (used by 'cells')")
    na_values: list[str] = Field(default_factory=lambda: ["", "NA"])
    metadata: dict[str, str | int | float] = Field(default_factory=dict)
    exclude: list[Exclude] = Field(default_factory=list)
    cells: list[CellOverride] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    subsets: dict[str, Subset] = Field(default_factory=dict)
    unused: dict[str, str] = Field(default_factory=dict,
                                   description="source columns deliberately not mapped, with why")
    tables: dict[str, list[Emitter]] = Field(min_length=1)
    name: str = "mapping"
    lines: dict[str, int] = Field(default_factory=dict)

    def line_of(self, path: str) -> int | None:
        """The line of a YAML path, or of its nearest parent."""
        return nearest_line(self.lines, path)


# ---- reading with line numbers -------------------------------------------------------------------


_path_text = path_text


def _aliased(loc: Sequence[str | int]) -> tuple[str | int, ...]:
    names = {"isin": "in", "all_of": "all", "any_of": "any", "negate": "not"}
    return tuple(names.get(p, p) if isinstance(p, str) else p for p in loc)


def parse_mapping(text: str, *, source: str = "mapping") -> MappingSpec:
    """Validate mapping text; raise :class:`MappingError` listing every located problem.

    Beyond the shape (pydantic), checks that each table is a model table and each column a
    column of that table (data-dictionary.md §2.5–2.11).
    """
    data, lines, problems = read_yaml(text)
    if problems:
        raise MappingError([MappingIssue(line, path, "the mapping is empty"
                                         if msg == "the file is empty" else msg)
                            for line, path, msg in problems], source=source)
    if not isinstance(data, dict):
        raise MappingError([MappingIssue(1, "", "the mapping must be a YAML mapping")],
                           source=source)
    try:
        spec = MappingSpec.model_validate({**data, "name": source, "lines": lines})
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = _aliased([p for p in err["loc"] if not (isinstance(p, str) and "[" in p)])
            path = _path_text(loc)
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = f"unknown key {loc[-1]!r}"
            elif err["type"] == "missing":
                msg = f"missing required key {loc[-1]!r}"
            p, line = path, None
            while line is None and p:
                line = lines.get(p)
                p = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", p)
            issues.append(MappingIssue(line, path, msg))
        raise MappingError(issues, source=source) from None
    issues = []
    for table, emitters in spec.tables.items():
        if table not in TABLES:
            issues.append(MappingIssue(spec.line_of(f"tables.{table}"), f"tables.{table}",
                                       f"unknown model table {table!r}; one of "
                                       f"{', '.join(TABLES)}"))
            continue
        known = TABLES[table].columns
        for i, em in enumerate(emitters):
            for col in em.columns:
                if col not in known:
                    path = f"tables.{table}[{i}].columns.{col}"
                    issues.append(MappingIssue(spec.line_of(path), path,
                                               f"{col!r} is not a column of {table} "
                                               "(data-dictionary.md §2)"))
    if issues:
        raise MappingError(issues, source=source)
    return spec


# ---- the engine ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MappedTables:
    """Output of :func:`map_frame`: raw model tables for ``validate_raw``, metadata pairs and the
    R-MAP warnings; ``kept`` = source rows imported (1-based file rows)."""

    tables: dict[str, RawTable]
    metadata: list[tuple[str, str | None, int]]
    notes: list[CohortIssue]
    kept: tuple[int, ...] = field(default=())


class _Rows:
    """Source cells as text with a missing mask; ``rows`` are 1-based file rows (header = 1)."""

    def __init__(self, frame: pd.DataFrame, na: Sequence[str]) -> None:
        self.columns = [str(c) for c in frame.columns]
        self.text = {c: frame[c].astype(object).where(frame[c].notna(), "").astype(str)
                     .str.strip().to_numpy(dtype=object) for c in frame.columns.astype(str)}
        nas = {s.strip() for s in na}
        self.miss = {c: np.array([v in nas for v in t], dtype=bool) for c, t in self.text.items()}


def _check_columns(spec: MappingSpec, columns: Sequence[str]) -> None:
    known = set(columns)
    used: set[str] = set()
    issues: list[MappingIssue] = []

    def need(col: str, path: str) -> None:
        used.add(col)
        if col not in known:
            issues.append(MappingIssue(spec.line_of(path), path,
                                       f"source column {col!r} not in {spec.source.file}"))

    def cond(c: Condition | None, path: str) -> None:
        if c is None:
            return
        if c.column is not None:
            need(c.column, f"{path}.column")
        for key, sub in (("all", c.all_of), ("any", c.any_of)):
            for j, s in enumerate(sub or ()):
                cond(s, f"{path}.{key}[{j}]")
        cond(c.negate, f"{path}.not")

    def value(v: Value | None, path: str) -> None:
        if v is None:
            return
        if v.column is not None:
            need(v.column, f"{path}.column")
        if v.template is not None:
            for name in _TEMPLATE.findall(v.template):
                need(name, f"{path}.template")
        for j, c in enumerate(v.cases or ()):
            cond(c.when, f"{path}.cases[{j}].when")
            value(c.then, f"{path}.cases[{j}].then")
        value(v.otherwise, f"{path}.otherwise")

    need(spec.id, "id")
    for i, e in enumerate(spec.exclude):
        cond(e.when, f"exclude[{i}].when")
    for i, n in enumerate(spec.notes):
        cond(n.when, f"notes[{i}].when")
        need(n.column, f"notes[{i}].column")
    for i, o in enumerate(spec.cells):
        need(o.column, f"cells[{i}].column")
    for name, s in spec.subsets.items():
        cond(s.keep, f"subsets.{name}.keep")
    for table, emitters in spec.tables.items():
        for i, em in enumerate(emitters):
            cond(em.when, f"tables.{table}[{i}].when")
            for col, v in em.columns.items():
                value(v, f"tables.{table}[{i}].columns.{col}")
    for col in spec.unused:
        need(col, f"unused.{col}")
    for col in columns:
        if col not in used:
            issues.append(MappingIssue(spec.line_of("unused"), "unused",
                                       f"source column {col!r} is neither mapped nor listed "
                                       "under 'unused' (with the reason)"))
    if issues:
        raise MappingError(issues, source=spec.name)


def _test(c: Condition, r: _Rows) -> npt.NDArray[np.bool_]:
    if c.column is not None:
        t, m = r.text[c.column], r.miss[c.column]
        if c.missing is not None:
            return m.copy() if c.missing else ~m
        allowed = {c.equals} if c.equals is not None else set(c.isin or ())
        hit: npt.NDArray[np.bool_] = np.array([v in allowed for v in t], dtype=bool) & ~m
        return hit
    if c.all_of is not None:
        out = np.ones(len(next(iter(r.text.values()), [])), dtype=bool)
        for s in c.all_of:
            out &= _test(s, r)
        return out
    if c.any_of is not None:
        out = np.zeros(len(next(iter(r.text.values()), [])), dtype=bool)
        for s in c.any_of:
            out |= _test(s, r)
        return out
    assert c.negate is not None  # guaranteed by Condition._one_form
    return ~_test(c.negate, r)


def _scalar(x: str | int | float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _eval(v: Value, r: _Rows, n: int) -> tuple[_Obj, _Obj]:
    """Cell text (``""`` = empty) and the source column each cell came from."""
    empty = np.full(n, "", dtype=object)
    if v.value is not None:
        return np.full(n, _scalar(v.value), dtype=object), empty.copy()
    if v.column is not None:
        t, m = r.text[v.column], r.miss[v.column]
        out = t.copy()
        if v.map is not None:
            table = {k.strip(): _scalar(x) for k, x in v.map.items()}
            out = np.array([table.get(x, x) for x in t], dtype=object)
        out[m] = "" if v.missing is None else _scalar(v.missing)
        return out, np.full(n, v.column, dtype=object)
    if v.template is not None:
        names = _TEMPLATE.findall(v.template)
        out = empty.copy()
        src = np.full(n, ", ".join(names), dtype=object)
        for i in range(n):
            if all(not r.miss[c][i] for c in names):
                out[i] = v.template.format_map({c: str(r.text[c][i]) for c in names})
        return out, src
    out, src = empty.copy(), empty.copy()
    done = np.zeros(n, dtype=bool)
    for case in v.cases or ():
        hit = _test(case.when, r) & ~done
        if hit.any():
            val, s = _eval(case.then, r, n)
            out[hit] = val[hit]
            done |= hit
            src[hit] = [s[i] or _first_column(case.when) for i in np.flatnonzero(hit)]
    if v.otherwise is not None and (~done).any():
        val, s = _eval(v.otherwise, r, n)
        out[~done], src[~done] = val[~done], s[~done]
    return out, src


def _first_column(c: Condition) -> str:
    if c.column is not None:
        return c.column
    for sub in (*(c.all_of or ()), *(c.any_of or ()), *((c.negate,) if c.negate else ())):
        name = _first_column(sub)
        if name:
            return name
    return ""


def map_frame(frame: pd.DataFrame, spec: MappingSpec, *, subset: str | None = None,
              ) -> MappedTables:
    """Apply ``spec`` to the source ``frame`` (one row per source row, file order; header = file
    row 1). Pure: no file access. Returns raw model tables whose rows point at the source file
    rows and whose columns are named ``<source column> -> <model column>`` in validation
    messages, so each error says which source cell to fix.

    ``subset``: the name of a ``subsets`` entry; rows outside it are left out (R-MAP-004).
    """
    if subset is not None and subset not in spec.subsets:
        raise MappingError([MappingIssue(spec.line_of("subsets"), "subsets",
                                         f"no subset {subset!r}; defined: "
                                         f"{', '.join(spec.subsets) or 'none'}")],
                           source=spec.name)
    _check_columns(spec, [str(c) for c in frame.columns])
    frame = frame.astype(object).reset_index(drop=True)
    file_rows = np.arange(2, len(frame) + 2, dtype=np.int64)
    src_label = f"{spec.source.file} (mapping {spec.name})"
    notes: list[CohortIssue] = []

    def note(row: int, column: str | None, value: str | None, rule: str, problem: str) -> None:
        notes.append(make_issue(table=spec.source.file, row=row, column=column, value=value,
                                rule_id=rule, severity="W", problem=problem, source=src_label))

    ids = frame[spec.id].astype(object).where(frame[spec.id].notna(), "").astype(str).str.strip()
    for o in spec.cells:
        at = np.flatnonzero(ids.to_numpy() == o.id)
        if not len(at):
            raise MappingError([MappingIssue(spec.line_of(f"cells[{spec.cells.index(o)}]"),
                                             f"cells[{spec.cells.index(o)}].id",
                                             f"no source row with {spec.id} = {o.id!r}")],
                               source=spec.name)
        for i in at:
            old = frame.at[int(i), o.column]
            frame.at[int(i), o.column] = o.value
            shown = "" if old is None or (isinstance(old, float) and np.isnan(old)) else str(old)
            new = "missing" if o.value is None else repr(o.value)
            note(int(file_rows[i]), o.column, shown, "R-MAP-002",
                 f"source cell replaced by {new}: {o.reason}")
    rows = _Rows(frame, spec.na_values)
    n = len(frame)
    keep = np.ones(n, dtype=bool)
    hit: npt.NDArray[np.bool_]
    for e in spec.exclude:
        hit = _test(e.when, rows) & keep
        for i in np.flatnonzero(hit):
            note(int(file_rows[i]), spec.id, str(ids.iloc[i]), "R-MAP-001",
                 f"source row not imported: {e.reason}")
        keep &= ~hit
    if subset is not None:
        s = spec.subsets[subset]
        left = ~_test(s.keep, rows) & keep
        for i in np.flatnonzero(left):
            note(int(file_rows[i]), spec.id, str(ids.iloc[i]), "R-MAP-004",
                 f"outside subset {subset!r}: {s.reason}")
        keep &= ~left
    for nt in spec.notes:
        hit = _test(nt.when, rows) & keep
        for i in np.flatnonzero(hit):
            note(int(file_rows[i]), nt.column, str(rows.text[nt.column][i]), "R-MAP-003",
                 f"not representable in the cohort model: {nt.reason}")

    tables: dict[str, RawTable] = {}
    for table, emitters in spec.tables.items():
        header: list[str] = []
        for em in emitters:
            header += [c for c in em.columns if c not in header]
        cells: dict[str, list[_Obj]] = {c: [] for c in header}
        srcs: dict[str, list[_Obj]] = {c: [] for c in header}
        row_parts: list[npt.NDArray[np.int64]] = []
        for em in emitters:
            sel = keep & (_test(em.when, rows) if em.when is not None else True)
            idx = np.flatnonzero(sel)
            row_parts.append(file_rows[idx])
            for col in header:
                if col in em.columns:
                    val, src = _eval(em.columns[col], rows, n)
                    cells[col].append(val[idx])
                    srcs[col].append(src[idx])
                else:
                    cells[col].append(np.full(len(idx), "", dtype=object))
                    srcs[col].append(np.full(len(idx), "", dtype=object))
        trows = np.concatenate(row_parts) if row_parts else np.zeros(0, dtype=np.int64)
        col_cells = [np.concatenate(cells[c]).astype(object) if cells[c] else
                     np.zeros(0, dtype=object) for c in header]
        col_src = {c: (np.concatenate(srcs[c]).astype(object) if srcs[c] else
                       np.zeros(0, dtype=object)) for c in header}
        tables[table] = RawTable(table, table, src_label, header, col_cells,
                                 trows.astype(np.int64), source_column=_namer(col_src))
    meta: list[tuple[str, str | None, int]] = [
        (str(k), _scalar(v), i + 1) for i, (k, v) in enumerate(spec.metadata.items())]
    return MappedTables(tables, meta, notes, tuple(int(x) for x in file_rows[keep]))


def _namer(col_src: Mapping[str, _Obj]) -> Callable[[int, str], str]:
    def name(i: int, col: str) -> str:
        src = col_src.get(col)
        if src is None or i >= len(src) or not src[i]:
            return col
        return f"{src[i]} -> {col}"
    return name
