"""``run_plan(plan, cohort) -> StudyResults``: every analysis with provenance, no rendering.

The runner derives the plan's columns, applies the study population filters (CONSORT-style
counts of who was excluded and why), runs each analysis through the registry of
:mod:`rrball.study.analyses` on its own population, and builds the published-vs-reproduced table.
A step that cannot be estimated on the data is recorded as such and the run carries on; a plan
that asks for a column the cohort does not have raises a located :class:`PlanError`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

import rrball
from rrball.errors import PlanError, PlanIssue
from rrball.study.analyses import ANALYSES, ESTIMATION_ERRORS, AnalysisContext, StepOutput
from rrball.study.consistency import ConsistencyReport, check_publication, published_seed
from rrball.study.plan import Derive, Filter, Plan, column_refs

__all__ = ["COMPARISON_COLUMNS", "ConsortStep", "StepResult", "StudyResults", "data_hash",
           "run_plan"]

COMPARISON_COLUMNS = ("id", "label", "analysis", "published", "published_lower",
                      "published_upper", "reproduced", "lower", "upper", "difference",
                      "within", "rule", "note")

ProgressHook = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsortStep:
    """One population filter: who was there, who was excluded and why."""

    criterion: str
    reason: str
    n_before: int
    n_excluded: int

    @property
    def n_after(self) -> int:
        return self.n_before - self.n_excluded


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """One plan step: its results (or why it is not estimable) and provenance."""

    id: str
    type: str
    title: str
    line: int | None
    status: Literal["ok", "not estimable"]
    message: str
    output: StepOutput | None
    population: tuple[ConsortStep, ...]
    spec: Any = field(repr=False)

    @property
    def n(self) -> int | None:
        return self.output.n if self.output is not None else None

    def provenance(self) -> dict[str, object]:
        """Plan step and line, population n and filters, options (for footnotes)."""
        out: dict[str, object] = {"step": self.id, "type": self.type, "plan line": self.line,
                                  "n": self.n}
        if self.population:
            out["filters"] = "; ".join(f"{c.criterion} (excluded {c.n_excluded})"
                                       for c in self.population)
        if self.output is not None:
            out.update(self.output.options)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyResults:
    """Everything a report needs: plan, data snapshot hash, CONSORT counts, steps, comparison."""

    plan: Plan
    data_hash: str
    data_label: str
    n_cohort: int
    consort: tuple[ConsortStep, ...]
    steps: tuple[StepResult, ...]
    consistency: ConsistencyReport | None
    version: str = rrball.__version__
    data_notes: tuple[tuple[str, str, int], ...] = ()
    _comparison: pd.DataFrame = field(repr=False)

    @property
    def comparison(self) -> pd.DataFrame:
        """Published vs reproduced: one row per quoted number (columns COMPARISON_COLUMNS)."""
        return self._comparison.copy()

    @property
    def n_population(self) -> int:
        return self.consort[-1].n_after if self.consort else self.n_cohort

    def step(self, step_id: str) -> StepResult:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def summary(self) -> str:
        lines = [f"{self.plan.study.id}: {self.plan.study.title}",
                 f"data {self.data_label} (sha256 {self.data_hash[:16]}…), "
                 f"n = {self.n_cohort} → {self.n_population} after filters"]
        for s in self.steps:
            extra = f"n = {s.n}" if s.status == "ok" else s.message
            lines.append(f"  {s.id:<20} {s.type:<16} {s.status:<14} {extra}")
        comp = self._comparison
        if len(comp):
            yes = int((comp["within"] == "yes").sum())
            lines.append(f"published vs reproduced: {yes} of {len(comp)} within sampling error")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# ---- data preparation ---------------------------------------------------------------------------


def data_hash(adsl: pd.DataFrame, adtte: pd.DataFrame) -> str:
    """sha256 of the analysis datasets (ADSL + ADTTE as CSV text): the data snapshot id."""
    h = hashlib.sha256()
    for frame in (adsl, adtte):
        h.update(frame.to_csv(index=False, date_format="%Y-%m-%d").encode("utf-8"))
    return h.hexdigest()


def _label(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _derive(frame: pd.DataFrame, spec: Derive) -> pd.Series:
    if spec.when is not None:
        return _mask(frame, spec.when).fillna(False).astype(bool).astype(int)
    assert spec.source is not None
    src = frame[spec.source]
    if spec.map is not None:
        table = {_label(k): v for k, v in spec.map.items()}
        default = spec.default

        def one(v: Any) -> Any:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return None
            return table.get(_label(v), default)

        return src.map(one)
    if spec.cases is not None:
        out = src.astype(object).copy()
        done = pd.Series(False, index=frame.index)
        for case in spec.cases:
            hit = _mask(frame, case.when).fillna(False).astype(bool) & ~done
            out[hit] = frame.loc[hit, case.source].astype(object)
            done |= hit
        return out
    assert spec.cuts is not None and spec.labels is not None
    bins = [-math.inf, *spec.cuts, math.inf]
    return pd.cut(pd.to_numeric(src, errors="coerce"), bins=bins, labels=spec.labels,
                  right=True).astype(object)


def _mask(frame: pd.DataFrame, f: Filter) -> pd.Series:
    col = frame[f.column]
    if f.not_missing:
        return col.notna() & (col.astype(str) != "")
    if f.min is not None or f.max is not None:
        x = pd.to_numeric(col, errors="coerce")
        ok = x.notna()
        if f.min is not None:
            ok &= x >= f.min
        if f.max is not None:
            ok &= x <= f.max
        return ok
    labels = col.map(lambda v: None if pd.isna(v) else _label(v))
    if f.equals is not None:
        return labels == _label(f.equals)
    if f.isin is not None:
        return labels.isin([_label(v) for v in f.isin])
    assert f.not_in is not None
    return ~labels.isin([_label(v) for v in f.not_in]) & labels.notna()


def _apply(frame: pd.DataFrame, filters: Sequence[Filter]) -> tuple[pd.DataFrame,
                                                                     tuple[ConsortStep, ...]]:
    steps = []
    for f in filters:
        keep = _mask(frame, f)
        steps.append(ConsortStep(criterion=f.describe(), reason=f.reason or
                                 f"not {f.describe()}", n_before=len(frame),
                                 n_excluded=int((~keep).sum())))
        frame = frame[keep]
    return frame, tuple(steps)


def _check_columns(plan: Plan, adsl: pd.DataFrame) -> None:
    present = set(adsl.columns) | set(plan.derive)
    issues = [PlanIssue(plan.line_of(path), path,
                        f"column {col!r} is not in this cohort's analysis table (ADSL of "
                        f"rrball {rrball.__version__}); derive it in 'derive' or drop it")
              for path, col in column_refs(plan) if col not in present]
    if issues:
        raise PlanError(issues, source=plan.source)


# ---- comparison ---------------------------------------------------------------------------------


def _comparison_rows(plan: Plan, steps: Sequence[StepResult],
                     ctx_of: dict[str, AnalysisContext]) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for s in steps:
        kind = ANALYSES[s.type]
        for c in s.spec.compare:
            row: dict[str, object] = {
                "id": c.id, "label": c.label or c.id, "analysis": s.id, "published": c.value,
                "published_lower": math.nan if c.lower is None else c.lower,
                "published_upper": math.nan if c.upper is None else c.upper,
                "reproduced": math.nan, "lower": math.nan, "upper": math.nan,
                "difference": math.nan, "within": "n/a", "rule": "", "note": ""}
            if s.output is None:
                row["note"] = f"not estimable: {s.message}"
            else:
                try:
                    rep = kind.reproduce(s.spec, s.output, c, ctx_of[s.id])
                except ESTIMATION_ERRORS as exc:
                    row["note"] = f"not estimable: {exc}"
                else:
                    row.update(reproduced=rep.value, lower=rep.lower, upper=rep.upper,
                               difference=rep.value - c.value, rule=rep.rule, note=rep.note,
                               within={True: "yes", False: "no", None: "n/a"}[rep.within])
            rows.append(row)
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


# ---- entry point ---------------------------------------------------------------------------------


def _data_notes(cohort: Any) -> tuple[tuple[str, str, int], ...]:
    """(kind, rule id, count) of the cohort's import warnings and derivation notices."""
    out: list[tuple[str, str, int]] = []
    for kind, items in (("import warning", getattr(cohort, "warnings", ())),
                        ("derivation notice", cohort.notices() if hasattr(cohort, "notices")
                         else ())):
        counts: dict[str, int] = {}
        for i in items:
            counts[i.rule_id] = counts.get(i.rule_id, 0) + 1
        out.extend((kind, rule, n) for rule, n in sorted(counts.items()))
    return tuple(out)


def run_plan(plan: Plan, cohort: Any, *, data_label: str = "cohort",
             on_step: ProgressHook | None = None) -> StudyResults:
    """Run every analysis of ``plan`` on ``cohort`` (a :class:`rrball.cohort.Cohort`).

    ``on_step(step_id, index, total)`` is called before each step (progress display).
    Raises :class:`PlanError` (located) when the plan needs columns the cohort lacks.
    """
    adsl_raw: pd.DataFrame = cohort.analysis_table()
    adtte: pd.DataFrame = cohort.endpoints()
    digest = data_hash(adsl_raw, adtte)
    _check_columns(plan, adsl_raw)
    adsl = adsl_raw.copy()
    for name, derived in plan.derive.items():
        adsl[name] = _derive(adsl, derived)
    population, consort = _apply(adsl, plan.population)
    needs_tox = any(a.type == "toxicity" for a in plan.analyses)
    tox: pd.DataFrame | None = cohort.toxicity() if needs_tox and hasattr(cohort, "toxicity") \
        else None
    steps: list[StepResult] = []
    contexts: dict[str, AnalysisContext] = {}
    total = len(plan.analyses)
    for i, spec in enumerate(plan.analyses):
        if on_step is not None:
            on_step(spec.id, i, total)
        frame, filters = _apply(population, spec.population)
        ctx = AnalysisContext(adsl=frame, adtte=adtte, defaults=plan.defaults,
                              toxicity=tox)
        contexts[spec.id] = ctx
        kind = ANALYSES[spec.type]
        title = spec.title or f"{kind.label} ({spec.id})"
        line = plan.line_of(f"analyses[{i}]")
        try:
            if frame.empty:
                raise ESTIMATION_ERRORS[0]("no patients left after the filters")
            out = kind.run(spec, ctx)
        except ESTIMATION_ERRORS as exc:
            steps.append(StepResult(id=spec.id, type=spec.type, title=title, line=line,
                                    status="not estimable", message=str(exc), output=None,
                                    population=filters, spec=spec))
            continue
        steps.append(StepResult(id=spec.id, type=spec.type, title=title, line=line,
                                status="ok", message="", output=out, population=filters,
                                spec=spec))
    if on_step is not None:
        on_step("done", total, total)
    consistency = None
    if plan.study.published:
        consistency = check_publication(published_seed(plan.study.published))
    return StudyResults(plan=plan, data_hash=digest, data_label=data_label,
                        data_notes=_data_notes(cohort),
                        n_cohort=len(adsl), consort=consort, steps=tuple(steps),
                        consistency=consistency,
                        _comparison=_comparison_rows(plan, steps, contexts))
