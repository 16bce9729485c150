"""Study plans (PLAN.yaml): pydantic models, a line-keeping YAML reader and located errors.

A plan declares once what a publication did: the study and its declared defaults (CI transform,
ties, continuity correction, p-value display rule, confidence level, time unit), the population
filters (each with the reason printed in a CONSORT-style count), derived columns, the analyses
(referenced by registry name, see :mod:`rrball.study.analyses`) and the published numbers each
analysis is compared with. Columns are ADSL columns (data-dictionary.md §5.2) or derived ones;
endpoints are ADTTE ``PARAMCD`` codes (§5.3).

Every problem is reported as a :class:`rrball.errors.PlanError` whose issues carry the 1-based
plan line and the YAML path (``analyses[2].endpoint``) — never a traceback. Loading is pure
(:func:`parse_plan` takes text); :func:`load_plan` is the thin file reader.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from rrball._yaml import nearest_line, path_text, read_yaml
from rrball.cohort.schema import CODE_LISTS
from rrball.errors import PlanError, PlanIssue

__all__ = [
    "ADSL_COLUMNS",
    "ANALYSIS_TYPES",
    "ENDPOINTS",
    "Analysis",
    "Compare",
    "Defaults",
    "Derive",
    "Duration",
    "Filter",
    "Listing",
    "Plan",
    "StudyInfo",
    "Swimmer",
    "Toxicity",
    "bundled_plan",
    "bundled_plans",
    "column_refs",
    "load_plan",
    "parse_plan",
]

#: ADTTE parameters (data-dictionary.md §5.3) and whether they carry competing-risk codes.
ENDPOINTS: Mapping[str, bool] = {
    "OS": False, "EFS": False, "DFS": False, "CRDUR": False, "CIR": True, "NRM": True,
    "TTHSCT": True, "FU": False, "OSHCT": False, "DFSHCT": False, "CIRHCT": True,
    "NRMHCT": True,
}

#: ADSL columns of data-dictionary.md §5.2 (plus EVALFL and WINDEND of the current derivation).
ADSL_COLUMNS: frozenset[str] = frozenset((
    "STUDYID", "USUBJID", "SUBJID", "SITEID", "LINEID", "REGIMEN", "DRUGGRP", "TRTSDT",
    "TRTEDT", "NCYCLES", "AGE", "AGEIMP", "AGEGR1", "SEX", "PHSTAT", "KMT2A", "CYTORISK", "IKZF1",
    "SALVNUM", "SALVGR", "RELNUM", "REMNUM", "DCTREAS", "CR1DUR", "CR1DURIMP", "S1GRP",
    "RELCTX", "BLSTATR",
    "BLSTATD", "BLBMBL", "BLMRD", "BLEMD", "BLDETFL", "PRIORHSCT", "PRIORBLIN", "PRIORINO",
    "PRIORCART", "TKI", "CRITSET", "BESTRESP", "BESTMRD", "BESTRDT", "RESPDT", "RESPFL", "CRFL",
    "REFRFL", "MRDEVLFL", "MRDNEGFL", "MRDNEGEMDFL", "HSCTFL", "HSCTDT", "HSCTSTAT", "RELFL",
    "RELDT", "RELSITE", "DTHFL", "DTHDT", "DTHCAUS", "LSTCNDT", "LSTASDT", "NEXTLNDT", "CRSMAXG",
    "ICANSMXG", "VODFL", "SAFFL", "RESPEVFL", "EVALFL", "WINDEND"
))

_DAYS_PER: Mapping[str, float] = {"days": 1.0, "weeks": 7.0, "months": 30.4375, "years": 365.25}
_UNIT_ALIASES: Mapping[str, str] = {
    "d": "days", "day": "days", "days": "days", "w": "weeks", "week": "weeks", "weeks": "weeks",
    "m": "months", "mo": "months", "month": "months", "months": "months", "y": "years",
    "yr": "years", "year": "years", "years": "years",
}
_TIME_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)?\s*$")

TimeUnit = Literal["days", "months", "years"]


# ---- time points --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Duration:
    """A time point as written in the plan: a number and an optional unit.

    A bare number is in the study's ``time_unit``; ``"24 months"`` or ``"2 years"`` are converted
    with CR §5.1 (month = 30.4375 days, year = 365.25 days).
    """

    value: float
    unit: str | None = None

    def to(self, unit: str) -> float:
        if self.unit is None or self.unit == unit:
            return self.value
        return self.value * _DAYS_PER[self.unit] / _DAYS_PER[unit]

    def __str__(self) -> str:
        return f"{self.value:g}" + (f" {self.unit}" if self.unit else "")


def _parse_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    if isinstance(value, bool):
        raise ValueError(f"time point {value!r} is not a number or '<number> <unit>'")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"time point {value!r} must be a finite number >= 0")
        return Duration(float(value))
    if isinstance(value, str):
        m = _TIME_RE.match(value)
        if m is None:
            raise ValueError(f"time point {value!r} is not '<number> [days|months|years]'")
        unit = m.group(2)
        if unit is not None and unit.lower() not in _UNIT_ALIASES:
            raise ValueError(f"time point {value!r}: unknown unit {unit!r} (days, weeks, "
                             "months, years)")
        return Duration(float(m.group(1)), _UNIT_ALIASES[unit.lower()] if unit else None)
    raise ValueError(f"time point {value!r} is not a number or '<number> <unit>'")


TimePoint = Annotated[Duration, BeforeValidator(_parse_duration)]


def _number_or_text(value: Any) -> float:
    """A quoted number: ``39.4``, ``"39.4"``, ``"<0.0001"`` (the bound is kept)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lstrip("<>=≤≥ ").rstrip("% ")
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    raise ValueError(f"{value!r} is not a number")


Quoted = Annotated[float, BeforeValidator(_number_or_text)]


# ---- models -------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class StudyInfo(_Model):
    """Who and what: the id, title, the seed (source) and the published-numbers file."""

    id: str
    title: str
    seed: str | None = None
    source: str | None = None
    published: str | None = Field(
        default=None, description="name of rrball/study/published/<name>.yaml (consistency check)")


class Defaults(_Model):
    """Declared defaults, printed in every footnote (one study-level block)."""

    conf_level: float = Field(default=0.95, gt=0.5, lt=1.0)
    conf_type: Literal["log", "log-log", "plain", "logit", "arcsin"] = "log"
    ties: Literal["efron", "breslow"] = "efron"
    correction: bool = False
    binomial_ci: Literal["exact", "wilson", "wilson-cc"] = "exact"
    screen_p_value: Literal["lr", "wald"] = "wald"
    p_value_rule: Literal["default", "jama", "nejm"] = "default"
    time_unit: TimeUnit = "days"


class SyntheticData(_Model):
    profile: Literal["seed000", "seed001", "seed003", "seed004"]
    seed: int = 1


class PublicData(_Model):
    """A public cohort bundled with rrball (``rrball.cohort.public_cohort``) and an optional named
    subset of its mapping (e.g. ``b_lineage``)."""

    name: Literal["all"]
    subset: str | None = None


class DataSpec(_Model):
    """Default data of the plan when ``--data`` is not given."""

    synthetic: SyntheticData | None = None
    path: str | None = None
    public: PublicData | None = None


class Filter(_Model):
    """Keep the rows where ``column`` satisfies the condition; ``reason`` labels the excluded."""

    column: str
    equals: str | int | float | None = None
    isin: list[str | int | float] | None = Field(default=None, alias="in")
    not_in: list[str | int | float] | None = None
    min: float | None = None
    max: float | None = None
    not_missing: bool = False
    reason: str | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> Filter:
        given = [self.equals is not None, self.isin is not None, self.not_in is not None,
                 self.min is not None or self.max is not None, self.not_missing]
        if sum(given) != 1:
            raise ValueError("give exactly one condition: equals, in, not_in, min/max or "
                             "not_missing")
        return self

    def describe(self) -> str:
        if self.equals is not None:
            return f"{self.column} = {self.equals}"
        if self.isin is not None:
            return f"{self.column} in {{{', '.join(map(str, self.isin))}}}"
        if self.not_in is not None:
            return f"{self.column} not in {{{', '.join(map(str, self.not_in))}}}"
        if self.not_missing:
            return f"{self.column} recorded"
        lo = "" if self.min is None else f"{self.min:g} <= "
        hi = "" if self.max is None else f" <= {self.max:g}"
        return f"{lo}{self.column}{hi}"


class Case(_Model):
    """One branch of a ``cases`` derivation: rows matching ``when`` take column ``from``."""

    when: Filter
    source: str = Field(alias="from")


class Derive(_Model):
    """A derived column: a recoding of one ADSL column (``map``; unmapped values stay missing),
    a cut of a numeric column into labelled intervals (``cuts`` right-closed, ``labels``), or
    ``cases``: the first case whose ``when`` matches gives the column to copy, ``from`` the
    column for the other rows (e.g. seed 000's response: MRD conversion for lines started in
    MRD-positive remission, responder flag otherwise), or ``when``: a 0/1 flag of a filter."""

    source: str | None = Field(default=None, alias="from")
    map: dict[str | int, str | int] | None = None
    cuts: list[float] | None = None
    labels: list[str] | None = None
    cases: list[Case] | None = None
    when: Filter | None = Field(default=None, description="a 0/1 flag: 1 where the filter "
                                "matches (e.g. a later line recorded: NEXTLNDT not_missing)")
    default: str | int | None = None

    @model_validator(mode="after")
    def _map_or_cut(self) -> Derive:
        if sum(x is not None for x in (self.map, self.cuts, self.cases, self.when)) != 1:
            raise ValueError("give exactly one of map, cuts, cases or when")
        if self.when is None and self.source is None:
            raise ValueError("'from' (the source column) is required for map, cuts and cases")
        if self.cuts is not None and (self.labels is None
                                      or len(self.labels) != len(self.cuts) + 1):
            raise ValueError("cuts need labels with one more entry than cuts")
        return self


class Compare(_Model):
    """A published number to compare with the reproduced one.

    ``value`` is the published estimate as printed (percent for proportions, survival and
    incidence; ratio for OR/HR; plain for p and medians); ``group``/``time``/``term``/``test``
    select the reproduced quantity of the analysis.
    """

    id: str
    label: str | None = None
    quantity: Literal["estimate", "p_value", "median"] = "estimate"
    group: str | None = None
    time: TimePoint | None = None
    term: str | None = None
    test: Literal["chisq", "chisq_yates", "fisher", "logrank", "gray"] | None = None
    value: Quoted
    lower: Quoted | None = None
    upper: Quoted | None = None
    k: int | None = Field(default=None, ge=0)
    n: int | None = Field(default=None, ge=1)
    grade: int | str | None = Field(default=None, description="toxicity: the grade threshold "
                                    "(3 = grade >= 3) or band ('3-4') of the quoted number")

    @field_validator("grade")
    @classmethod
    def _grade_ok(cls, v: int | str | None) -> int | str | None:
        if v is not None:
            _check_grade(v)
        return v


class _AnalysisBase(_Model):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")
    title: str | None = None
    population: list[Filter] = Field(default_factory=list)
    compare: list[Compare] = Field(default_factory=list)
    figure: bool = True


class ResponseRate(_AnalysisBase):
    """Response rates (x/n, binomial CI) overall and per level of ``by``."""

    type: Literal["response_rate"]
    outcome: str
    outcome_label: str | None = Field(default=None, description="legend text (e.g. Responder)")
    by: str | None = None
    levels: list[str] | None = None


TestName = Literal["chisq", "chisq_yates", "fisher"]
_ALL_TESTS: tuple[TestName, ...] = ("chisq", "chisq_yates", "fisher")


class Association(_AnalysisBase):
    """``outcome`` × ``by`` contingency table with chi-square (± Yates) and Fisher's test."""

    type: Literal["association"]
    outcome: str
    by: str
    tests: list[TestName] = Field(default_factory=lambda: list(_ALL_TESTS))


class LogisticScreen(_AnalysisBase):
    """Univariable screen at ``threshold`` then one multivariable logistic model (seed 000)."""

    type: Literal["logistic_screen"]
    outcome: str
    candidates: list[str] = Field(min_length=1)
    threshold: float = Field(default=0.10, gt=0, le=1)
    reference: dict[str, str | int] = Field(default_factory=dict)
    force: list[str] = Field(default_factory=list,
                             description="candidates kept in the model whatever their p "
                             "(the published table's covariates, e.g. seed 000 Table 2)")
    continuous: list[str] = Field(default_factory=list,
                                  description="numeric columns entered as one linear term "
                                  "(per unit); every other column is a factor")


class KaplanMeier(_AnalysisBase):
    """Kaplan-Meier of an ADTTE endpoint: S(t) at ``times``, medians, log-rank when ``by``."""

    type: Literal["km"]
    endpoint: str
    by: str | None = None
    times: list[TimePoint] = Field(default_factory=list)
    test: bool = True
    conf_type: Literal["log", "log-log", "plain", "logit", "arcsin"] | None = None


class Cox(_AnalysisBase):
    type: Literal["cox"]
    endpoint: str
    covariates: list[str] = Field(min_length=1)
    reference: dict[str, str | int] = Field(default_factory=dict)
    continuous: list[str] = Field(default_factory=list,
                                  description="numeric columns entered as one linear term "
                                  "(per unit); every other column is a factor")


class CumInc(_AnalysisBase):
    """Aalen-Johansen cumulative incidence of an endpoint with ``CMPEVT`` codes; Gray's test."""

    type: Literal["cif"]
    endpoint: str
    by: str | None = None
    times: list[TimePoint] = Field(default_factory=list)
    cause: int = Field(default=1, ge=1)
    test: bool = True


class FineGray(_AnalysisBase):
    type: Literal["fine_gray"]
    endpoint: str
    cause: int = Field(default=1, ge=1)
    covariates: list[str] = Field(min_length=1)
    reference: dict[str, str | int] = Field(default_factory=dict)
    continuous: list[str] = Field(default_factory=list,
                                  description="numeric columns entered as one linear term "
                                  "(per unit); every other column is a factor")


class Landmark(_AnalysisBase):
    """Landmark analysis: patients event-free at L grouped by ``switch`` (a date column, e.g.
    ``HSCTDT``) at or before L, followed from L (CR §5.5)."""

    type: Literal["landmark"]
    endpoint: str
    landmark: TimePoint
    switch: str
    label: str = "switched"
    times: list[TimePoint] = Field(default_factory=list)


class TableOne(_AnalysisBase):
    type: Literal["table_one"]
    by: str
    variables: list[str] = Field(min_length=1)
    categorical: list[str] = Field(default_factory=list)


class FollowUp(_AnalysisBase):
    """Median follow-up: reverse Kaplan-Meier on ``OS`` rows and the crude observation time."""

    type: Literal["follow_up"]
    endpoint: str = "OS"


class Swimmer(_AnalysisBase):
    """Swimmer lanes from ADSL dates: treatment (TRTSDT-TRTEDT), response (RESPDT, labelled
    BESTRESP), allo-HSCT, relapse, death, and an arrow when alive at last contact.

    ``lanes: line`` draws one lane per ADSL row (patient × index line, origin its t0);
    ``lanes: patient`` draws one lane per patient with every index line on it (origin the
    patient's first index-line start), for case series with several lines per patient."""

    type: Literal["swimmer"]
    max_lanes: int = Field(default=40, ge=1, le=200)
    lanes: Literal["line", "patient"] = "line"


AE_TERMS: tuple[str, ...] = tuple(CODE_LISTS["ae_term"].values())
GRADE_SETS: tuple[str, ...] = tuple(CODE_LISTS["grade_scale"].values())


def _check_grade(g: int | str) -> None:
    """A toxicity grade: a threshold 1-5 (grade >= g) or a band ``"a-b"`` with 1 <= a <= b <= 5."""
    if isinstance(g, int):
        ok = 1 <= g <= 5
    else:
        m = re.fullmatch(r"\s*([1-5])\s*-\s*([1-5])\s*", g)
        ok = m is not None and int(m.group(1)) <= int(m.group(2))
    if not ok:
        raise ValueError(f"grade {g!r}: a threshold from 1 to 5 (grade >= g) or a band such "
                         "as '3-4'")


class Toxicity(_AnalysisBase):
    """Toxicity incidence: patients (index lines) with an episode of each AE term reaching each
    grade threshold, overall and per level of ``by``, exact CI and Fisher's test per row.

    Grades come from ``Cohort.toxicity()`` (derived from raw values, data-dictionary.md §5.2).
    ``criteria`` picks the criteria set of a term (e.g. ``sos_vod: modified_seattle``); by
    default each term's primary set (SOS/VOD: the line's ``vod_criteria``). ``any`` (a row of
    its own) counts a line once whatever the term. Lines without an episode count as grade 0."""

    type: Literal["toxicity"]
    terms: list[str] | None = Field(default=None, description="AE terms; None = all recorded")
    criteria: dict[str, str] = Field(default_factory=dict)
    grades: list[int | str] = Field(default_factory=lambda: list[int | str]([1, 3]),
                                    min_length=1,
                                    description="3 = grade 3 or more; '3-4' = grades 3 to 4")
    by: str | None = None
    any_term: bool = True
    test: TestName = Field(default="fisher", description="test across the groups of by")

    @model_validator(mode="after")
    def _known(self) -> Toxicity:
        for t in [*(self.terms or []), *self.criteria]:
            if t not in AE_TERMS:
                raise ValueError(f"unknown AE term {t!r}; terms: {', '.join(AE_TERMS)}")
        for t, cs in self.criteria.items():
            if cs not in GRADE_SETS:
                raise ValueError(f"{t}: unknown criteria set {cs!r}; sets: "
                                 f"{', '.join(GRADE_SETS)}")
        for g in self.grades:
            _check_grade(g)
        return self


class Listing(_AnalysisBase):
    """A listing of ADSL columns, one row per patient × index line (case series, audits)."""

    type: Literal["listing"]
    columns: list[str] = Field(min_length=1)
    sort_by: list[str] = Field(default_factory=lambda: ["USUBJID", "TRTSDT"])
    max_rows: int = Field(default=500, ge=1, le=10_000)


Analysis = Annotated[
    ResponseRate | Association | LogisticScreen | KaplanMeier | Cox | CumInc | FineGray
    | Landmark | TableOne | FollowUp | Swimmer | Listing | Toxicity,
    Field(discriminator="type"),
]

ANALYSIS_TYPES: tuple[str, ...] = ("response_rate", "association", "logistic_screen", "km",
                                   "cox", "cif", "fine_gray", "landmark", "table_one",
                                   "follow_up", "swimmer", "listing", "toxicity")


class Plan(_Model):
    """A validated study plan. ``text`` is the plan as written; ``lines`` maps YAML paths to
    1-based lines (for messages raised while running)."""

    study: StudyInfo
    data: DataSpec = Field(default_factory=DataSpec)
    defaults: Defaults = Field(default_factory=Defaults)
    population: list[Filter] = Field(default_factory=list)
    derive: dict[str, Derive] = Field(default_factory=dict)
    analyses: list[Analysis] = Field(min_length=1)
    text: str = ""
    source: str = "plan"
    folder: str = Field(default="", description="folder of the plan file (data.path base)")
    lines: dict[str, int] = Field(default_factory=dict)

    @field_validator("analyses")
    @classmethod
    def _unique_ids(cls, v: list[Any]) -> list[Any]:
        seen: set[str] = set()
        for a in v:
            if a.id in seen:
                raise ValueError(f"analysis id {a.id!r} is used twice")
            seen.add(a.id)
        return v

    def line_of(self, path: str) -> int | None:
        """The plan line of a YAML path (``analyses[2].endpoint``), or of its nearest parent."""
        return nearest_line(self.lines, path)

    def error(self, path: str, message: str) -> PlanError:
        """A :class:`PlanError` located at ``path``."""
        return PlanError([PlanIssue(self.line_of(path), path, message)], source=self.source)

    def columns(self) -> frozenset[str]:
        """ADSL columns plus the derived ones."""
        return ADSL_COLUMNS | frozenset(self.derive)


# ---- YAML with line numbers ----------------------------------------------------------------------

_path_text = path_text


def _read_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    data, lines, problems = read_yaml(text)
    if problems:
        raise PlanError([PlanIssue(line, path, "the plan is empty" if msg == "the file is empty"
                                   else msg) for line, path, msg in problems],
                        source=source)
    return data, lines


def _data_path(data: Any, loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """A pydantic error location → the YAML path (union tags dropped)."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        in_dict = isinstance(cur, dict) and part in cur
        in_list = isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        if in_dict or in_list:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and part not in cur:
            if part in ANALYSIS_TYPES or "[" in part or "-" in part:
                continue  # union tag or function-validator marker
            out.append(part)
            cur = None
        else:
            continue
    return tuple(out)


def _nearest_line(lines: Mapping[str, int], path: tuple[str | int, ...]) -> int | None:
    p = path
    while True:
        text = _path_text(p)
        if text in lines:
            return lines[text]
        if not p:
            return None
        p = p[:-1]


def _pydantic_issues(exc: ValidationError, data: Any,
                     lines: Mapping[str, int]) -> list[PlanIssue]:
    issues: list[PlanIssue] = []
    for err in exc.errors():
        path = _data_path(data, err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        kind = err["type"]
        if kind == "extra_forbidden":
            msg = f"unknown key {path[-1]!r}" if path else "unknown key"
        elif kind == "union_tag_invalid":
            tag = err.get("input", {}).get("type") if isinstance(err.get("input"), dict) else None
            msg = f"unknown analysis type {tag!r}; allowed: {', '.join(ANALYSIS_TYPES)}"
            path = (*path, "type")
        elif kind == "union_tag_not_found":
            msg = f"analysis without 'type'; allowed: {', '.join(ANALYSIS_TYPES)}"
        elif kind == "missing":
            msg = f"missing required key {err['loc'][-1]!r}"
        elif kind == "literal_error":
            msg = f"{err.get('input')!r}: {msg}"
        issues.append(PlanIssue(_nearest_line(lines, path), _path_text(path), msg))
    return issues


# ---- semantic checks (columns, endpoints) -------------------------------------------------------


def column_refs(plan: Plan) -> Iterator[tuple[str, str]]:
    """Every (yaml path, column) the plan references."""
    for i, f in enumerate(plan.population):
        yield f"population[{i}].column", f.column
    for name, d in plan.derive.items():
        if d.source is not None:
            yield f"derive.{name}.from", d.source
        if d.when is not None:
            yield f"derive.{name}.when.column", d.when.column
        for j, case in enumerate(d.cases or ()):
            yield f"derive.{name}.cases[{j}].when.column", case.when.column
            yield f"derive.{name}.cases[{j}].from", case.source
    for i, a in enumerate(plan.analyses):
        base = f"analyses[{i}]"
        for j, f in enumerate(a.population):
            yield f"{base}.population[{j}].column", f.column
        for key in ("outcome", "by", "switch"):
            value = getattr(a, key, None)
            if isinstance(value, str):
                yield f"{base}.{key}", value
        for key in ("candidates", "covariates", "variables", "categorical", "force", "columns",
                    "sort_by", "continuous"):
            for j, col in enumerate(getattr(a, key, ()) or ()):
                yield f"{base}.{key}[{j}]", col
        for col in (getattr(a, "reference", None) or {}):
            yield f"{base}.reference.{col}", col


def _semantic_issues(plan: Plan) -> list[PlanIssue]:
    issues: list[PlanIssue] = []
    known = plan.columns()
    for name in plan.derive:
        if name in ADSL_COLUMNS:
            issues.append(PlanIssue(plan.line_of(f"derive.{name}"), f"derive.{name}",
                                    f"{name!r} is an ADSL column; choose a new name"))
    for i, a in enumerate(plan.analyses):
        terms = getattr(a, "candidates", None) or getattr(a, "covariates", None) or []
        for j, col in enumerate(getattr(a, "continuous", ())):
            if col not in terms:
                issues.append(PlanIssue(plan.line_of(f"analyses[{i}].continuous[{j}]"),
                                        f"analyses[{i}].continuous[{j}]",
                                        f"{col!r} is not among the model's columns "
                                        f"({', '.join(terms)})"))
    for path, col in column_refs(plan):
        if col not in known:
            near = _close(col, known)
            hint = f" (did you mean {near!r}?)" if near else ""
            issues.append(PlanIssue(plan.line_of(path), path,
                                    f"unknown column {col!r}{hint}: not an ADSL column "
                                    "(data-dictionary.md §5.2) nor derived in 'derive'"))
    for i, a in enumerate(plan.analyses):
        endpoint = getattr(a, "endpoint", None)
        if endpoint is None:
            continue
        path = f"analyses[{i}].endpoint"
        if endpoint not in ENDPOINTS:
            near = _close(endpoint, ENDPOINTS)
            hint = f" (did you mean {near!r}?)" if near else ""
            issues.append(PlanIssue(plan.line_of(path), path,
                                    f"unknown endpoint {endpoint!r}{hint}; ADTTE PARAMCD is one "
                                    f"of {', '.join(ENDPOINTS)}"))
        elif a.type in ("cif", "fine_gray") and not ENDPOINTS[endpoint]:
            cr = ", ".join(k for k, v in ENDPOINTS.items() if v)
            issues.append(PlanIssue(plan.line_of(path), path,
                                    f"{a.type} needs a competing-risk endpoint ({cr}), "
                                    f"not {endpoint!r}"))
        elif a.type in ("km", "cox", "landmark", "follow_up") and ENDPOINTS[endpoint]:
            issues.append(PlanIssue(plan.line_of(path), path,
                                    f"{endpoint} has competing events: use type cif or "
                                    "fine_gray (1 - KM is not a cumulative incidence, CR §5.4)"))
        for j, c in enumerate(a.compare):
            if a.type in ("km", "cif", "landmark") and c.quantity == "estimate" and c.time is None:
                cpath = f"analyses[{i}].compare[{j}]"
                issues.append(PlanIssue(plan.line_of(cpath), cpath,
                                        "a survival or incidence estimate needs 'time'"))
    return issues


def _close(word: str, choices: Iterator[str] | Mapping[str, Any] | frozenset[str]) -> str | None:
    import difflib

    hits = difflib.get_close_matches(word.upper(), [str(c) for c in choices], n=1, cutoff=0.6)
    return hits[0] if hits else None


# ---- entry points --------------------------------------------------------------------------------


def parse_plan(text: str, *, source: str = "plan", folder: str = "") -> Plan:
    """Validate plan text; raise :class:`PlanError` listing every located problem."""
    data, lines = _read_yaml(text, source)
    if not isinstance(data, dict):
        raise PlanError([PlanIssue(1, "", "the plan must be a mapping (study:, analyses:, ...)")],
                        source=source)
    for reserved in ("text", "source", "lines", "folder"):
        if reserved in data:
            raise PlanError([PlanIssue(lines.get(reserved), reserved,
                                       f"unknown key {reserved!r}")], source=source)
    try:
        plan = Plan.model_validate({**data, "text": text, "source": source, "lines": lines,
                                    "folder": folder})
    except ValidationError as exc:
        raise PlanError(_pydantic_issues(exc, data, lines), source=source) from None
    issues = _semantic_issues(plan)
    if issues:
        raise PlanError(issues, source=source)
    return plan


def load_plan(path: str | Path) -> Plan:
    """Read and validate a PLAN.yaml file (the only file access of this module)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError([PlanIssue(None, "", f"cannot read the plan: {exc}")],
                        source=p.name) from None
    return parse_plan(text, source=p.name, folder=str(p.resolve().parent))


def bundled_plans() -> dict[str, Path]:
    """The seed plans shipped with rrball (``seed_000`` … ``seed_004``) by name."""
    folder = Path(__file__).with_name("plans")
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def bundled_plan(name: str) -> Plan:
    """A shipped plan by name (``"seed_004"``)."""
    plans = bundled_plans()
    if name not in plans:
        raise PlanError([PlanIssue(None, "", f"no bundled plan {name!r}; available: "
                                   f"{', '.join(plans)}")], source=name)
    return load_plan(plans[name])
