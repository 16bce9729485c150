"""Analysis registry: plan names → Python callables (the only place they meet, design.md §1).

Each registered kind has two pure functions:

- ``run(spec, ctx) -> StepOutput``: the rrball.stats calls of one plan step on the step's
  population (ADSL rows after the study and step filters, joined to the ADTTE endpoint rows);
- ``reproduce(spec, output, compare, ctx) -> Reproduced``: the reproduced counterpart of one
  published number (estimate with its CI, or a p-value), with the comparison rule used.

A step that cannot be estimated on these data (one level only, no events, ...) raises
:class:`NotEstimable`; the runner records it and carries on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rrball.errors import InputError
from rrball.stats import (
    ChiSquareResult,
    CoxResult,
    CumulativeIncidenceResult,
    FineGrayResult,
    FisherExactResult,
    GrayTestResult,
    KaplanMeierResult,
    LogRankResult,
    ProportionResult,
    ScreenResult,
    chi_square_test,
    cox_ph,
    cumulative_incidence,
    fine_gray,
    fisher_exact_test,
    gray_test,
    kaplan_meier,
    landmark,
    logistic_regression,
    logrank_test,
    median_follow_up,
    proportion_ci,
    table_one,
    univariable_screen,
)
from rrball.study.plan import (
    Association,
    Compare,
    Cox,
    CumInc,
    Defaults,
    FineGray,
    FollowUp,
    KaplanMeier,
    Landmark,
    Listing,
    LogisticScreen,
    ResponseRate,
    Swimmer,
    TableOne,
    Toxicity,
)

__all__ = [
    "ANALYSES",
    "AnalysisContext",
    "AnalysisKind",
    "NotEstimable",
    "Reproduced",
    "StepOutput",
]

_DAYS_PER = {"days": 1.0, "months": 30.4375, "years": 365.25}
ALL = "All"


class NotEstimable(Exception):  # noqa: N818 - a status, not a failure of rrball
    """The step cannot be estimated on these data; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisContext:
    """What a step sees: its population (ADSL rows, derived columns included), the ADTTE
    table, the declared defaults."""

    adsl: pd.DataFrame
    adtte: pd.DataFrame
    defaults: Defaults
    toxicity: pd.DataFrame | None = None

    @property
    def unit(self) -> str:
        return self.defaults.time_unit

    def endpoint(self, paramcd: str) -> pd.DataFrame:
        """ADSL rows joined to their ``paramcd`` rows: ``time`` (study unit), ``event``
        (CNSR = 0) and ``status`` (CMPEVT, 0 when empty)."""
        rows = self.adtte[self.adtte["PARAMCD"] == paramcd]
        keep = ["USUBJID", "LINEID", "AVAL", "CNSR", "CMPEVT"]
        merged = self.adsl.merge(rows[keep], on=["USUBJID", "LINEID"], how="inner")
        if merged.empty:
            raise NotEstimable(f"no {paramcd} rows for this population")
        merged["time"] = merged["AVAL"].astype(float) / _DAYS_PER[self.unit]
        merged["event"] = (merged["CNSR"].astype(int) == 0).astype(int)
        merged["status"] = pd.to_numeric(merged["CMPEVT"], errors="coerce").fillna(0).astype(int)
        return merged


@dataclass(frozen=True, slots=True, kw_only=True)
class StepOutput:
    """Results of one step (rrball.stats result objects by name) and what produced them."""

    results: Mapping[str, object]
    n: int
    options: Mapping[str, object]
    warnings: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reproduced:
    """The reproduced counterpart of a published number and the rule that judges agreement."""

    value: float
    lower: float = math.nan
    upper: float = math.nan
    rule: str = ""
    within: bool | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class AnalysisKind:
    run: Callable[[Any, AnalysisContext], StepOutput]
    reproduce: Callable[[Any, StepOutput, Compare, AnalysisContext], Reproduced]
    label: str


# ---- helpers ------------------------------------------------------------------------------------


def _label(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _groups(data: pd.DataFrame, by: str | None) -> tuple[pd.DataFrame, list[str]]:
    if by is None:
        return data, []
    ok = data[by].notna() & (data[by].astype(str) != "")
    dropped = int((~ok).sum())
    out = data[ok].copy()
    out["_group"] = out[by].map(_label)
    warn = [f"{dropped} row(s) with missing {by} left out"] if dropped else []
    return out, warn


def _flag(data: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(data[column], errors="coerce")
    if values.isna().any() or not values.isin([0, 1]).all():
        raise NotEstimable(f"outcome {column} must be a 0/1 flag without missing values")
    return values.astype(int)


def _inside(published: float, lower: float, upper: float) -> bool | None:
    if not (math.isfinite(lower) and math.isfinite(upper)):
        return None
    return bool(lower - 1e-9 <= published <= upper + 1e-9)


def _ci_rule(level: float) -> str:
    return f"published inside reproduced {level * 100:g}% CI"


P_RULE = "same side of 0.05 (a p-value has no sampling interval)"


def _p_within(published: float, reproduced: float) -> bool | None:
    if not math.isfinite(reproduced):
        return None
    return (published < 0.05) == (reproduced < 0.05)


def _pick_group(frame: pd.DataFrame, group: str | None, column: str = "group") -> pd.DataFrame:
    if group is None or group == ALL:
        return frame
    labels = frame[column].map(lambda g: ALL if g is None else _label(g))
    return frame[labels == group]


def _missing_group(group: str | None, known: Any) -> NotEstimable:
    return NotEstimable(f"group {group!r} not among {', '.join(map(str, known))}")


def _with_reference(data: pd.DataFrame, reference: Mapping[str, Any]) -> pd.DataFrame:
    out = data.copy()
    for col, ref in reference.items():
        labels = out[col].map(_label)
        levels = sorted(labels.dropna().unique().tolist())
        ref_text = _label(ref)
        if ref_text not in levels:
            raise NotEstimable(f"reference level {ref!r} of {col} not found; levels: {levels}")
        order = [ref_text, *[lv for lv in levels if lv != ref_text]]
        out[col] = pd.Categorical(labels, categories=order)
    return out


def _term_row(table: pd.DataFrame, term: str | None) -> pd.Series:
    if term is None:
        raise NotEstimable("compare entry needs 'term' for a regression model")
    rows = table[table["term"] == term]
    if rows.empty:
        rows = table[table["term"].astype(str).str.startswith(term)]
    if len(rows) != 1:
        raise NotEstimable(f"term {term!r} not in the model; terms: "
                           f"{', '.join(map(str, table['term']))}")
    return rows.iloc[0]


def _factors(columns: list[str], spec: Any) -> list[str]:
    """Model columns entered as factors: all but the ``continuous`` ones (and those with a
    declared reference level, which ``_with_reference`` orders)."""
    return [c for c in columns if c not in spec.reference and c not in spec.continuous]


def _continuous(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = data.copy()
    for c in columns:
        values = pd.to_numeric(out[c], errors="coerce")
        if values.notna().sum() < out[c].notna().sum():
            raise NotEstimable(f"continuous column {c} has non-numeric values")
        out[c] = values.astype(float)
    return out


def _categorical(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = data.copy()
    for c in columns:
        if out[c].dtype == object or isinstance(out[c].dtype, pd.CategoricalDtype):
            continue
        if out[c].dropna().isin([0, 1]).all():
            continue
        out[c] = out[c].map(lambda v: None if pd.isna(v) else _label(v))
    return out


# ---- response -----------------------------------------------------------------------------------


def _run_response_rate(spec: ResponseRate, ctx: AnalysisContext) -> StepOutput:
    d = ctx.adsl
    y = _flag(d, spec.outcome)
    method = ctx.defaults.binomial_ci
    cl = ctx.defaults.conf_level
    results: dict[str, object] = {ALL: proportion_ci(int(y.sum()), len(y), method=method,
                                                      conf_level=cl)}
    gd, warn = _groups(d, spec.by)
    counts: dict[str, tuple[int, int]] = {}
    if spec.by is not None:
        levels = spec.levels or sorted(gd["_group"].unique().tolist())
        for lv in levels:
            sub = gd[gd["_group"] == lv]
            if sub.empty:
                warn.append(f"{spec.by} = {lv}: no patients")
                continue
            x = int(_flag(sub, spec.outcome).sum())
            results[lv] = proportion_ci(x, len(sub), method=method, conf_level=cl)
            counts[lv] = (x, len(sub))
    return StepOutput(results=results, n=len(d), warnings=tuple(warn),
                      options={"ci": method, "conf_level": cl, "outcome": spec.outcome,
                               "by": spec.by}, extra={"counts": counts})


def _rep_proportion(spec: Any, out: StepOutput, c: Compare, ctx: AnalysisContext) -> Reproduced:
    key = c.group or ALL
    r = out.results.get(key)
    if not isinstance(r, ProportionResult):
        raise _missing_group(c.group, [k for k in out.results])
    lo, hi = r.lower * 100, r.upper * 100
    note = f"{r.x}/{r.n}"
    if c.k is not None and c.n is not None:
        note += f" (published {c.k}/{c.n})"
    return Reproduced(value=r.estimate * 100, lower=lo, upper=hi,
                      rule=_ci_rule(r.conf_level) + f" ({ctx.defaults.binomial_ci})",
                      within=_inside(c.value, lo, hi), note=note)


def _run_association(spec: Association, ctx: AnalysisContext) -> StepOutput:
    gd, warn = _groups(ctx.adsl, spec.by)
    y = _flag(gd, spec.outcome)
    table = pd.crosstab(gd["_group"], y)
    if table.shape[0] < 2 or table.shape[1] < 2:
        raise NotEstimable(f"{spec.outcome} × {spec.by} table is {table.shape[0]}×"
                           f"{table.shape[1]}: a test needs at least 2×2")
    results: dict[str, object] = {}
    if "chisq" in spec.tests:
        results["chisq"] = chi_square_test(table, correction=False)
    if "chisq_yates" in spec.tests:
        results["chisq_yates"] = chi_square_test(table, correction=True)
    if "fisher" in spec.tests:
        results["fisher"] = fisher_exact_test(table)
    for r in results.values():
        warn.extend(getattr(r, "warnings", ()))
    return StepOutput(results=results, n=int(table.to_numpy().sum()), warnings=tuple(warn),
                      options={"tests": ", ".join(spec.tests), "declared correction":
                               ctx.defaults.correction},
                      extra={"table": table})


def _rep_association(spec: Association, out: StepOutput, c: Compare,
                     ctx: AnalysisContext) -> Reproduced:
    test = c.test or ("chisq_yates" if ctx.defaults.correction else "chisq")
    r = out.results.get(test)
    if not isinstance(r, (ChiSquareResult, FisherExactResult)):
        raise NotEstimable(f"test {test!r} was not run (tests: {', '.join(out.results)})")
    return Reproduced(value=r.p_value, rule=P_RULE, within=_p_within(c.value, r.p_value),
                      note=test)


def _run_screen(spec: LogisticScreen, ctx: AnalysisContext) -> StepOutput:
    d = ctx.adsl[[spec.outcome, *spec.candidates]].copy()
    d[spec.outcome] = _flag(ctx.adsl, spec.outcome)
    d = _continuous(_categorical(d, _factors(spec.candidates, spec)), spec.continuous)
    d = _with_reference(d, spec.reference)
    usable = [c for c in spec.candidates if d[c].dropna().nunique() >= 2]
    warn = [f"candidate {c} has one level only: not screened" for c in spec.candidates
            if c not in usable]
    if not usable:
        raise NotEstimable("no candidate has two or more levels")
    res = univariable_screen(d, outcome=spec.outcome, candidates=usable,
                             threshold=spec.threshold, p_value=ctx.defaults.screen_p_value,
                             conf_level=ctx.defaults.conf_level)
    warn.extend(res.warnings)
    results: dict[str, object] = {"screen": res}
    forced = [c for c in spec.force if c in usable and c not in res.selected]
    model_terms = [c for c in usable if c in res.selected or c in forced]
    if forced and model_terms:
        results["multivariable"] = logistic_regression(
            d, outcome=spec.outcome, covariates=model_terms, conf_level=ctx.defaults.conf_level)
        warn.append(f"forced into the model regardless of the screen: {', '.join(forced)}")
    elif res.multivariable is not None:
        results["multivariable"] = res.multivariable
    return StepOutput(results=results, n=res.n, warnings=tuple(warn),
                      options={"threshold": spec.threshold,
                               "screen p-value": ctx.defaults.screen_p_value,
                               "selected": ", ".join(res.selected) or "none",
                               "forced": ", ".join(forced) or "none"})


def _rep_screen(spec: LogisticScreen, out: StepOutput, c: Compare,
                ctx: AnalysisContext) -> Reproduced:
    model = out.results.get("multivariable")
    if model is None:
        screen = out.results["screen"]
        assert isinstance(screen, ScreenResult)
        raise NotEstimable("no candidate passed the screen (and none forced): no "
                           "multivariable model")
    row = _term_row(model.table, c.term)  # type: ignore[attr-defined]
    if c.quantity == "p_value":
        p = float(row["p_value"])
        return Reproduced(value=p, rule=P_RULE, within=_p_within(c.value, p), note=str(row["term"]))
    lo, hi = float(row["or_lower"]), float(row["or_upper"])
    return Reproduced(value=float(row["odds_ratio"]), lower=lo, upper=hi,
                      rule=_ci_rule(ctx.defaults.conf_level) + " (Wald)",
                      within=_inside(c.value, lo, hi), note=str(row["term"]))


# ---- survival -----------------------------------------------------------------------------------


def _times(spec: Any, ctx: AnalysisContext) -> list[float]:
    return [t.to(ctx.unit) for t in getattr(spec, "times", [])]


def _run_km(spec: KaplanMeier, ctx: AnalysisContext) -> StepOutput:
    d = ctx.endpoint(spec.endpoint)
    d, warn = _groups(d, spec.by)
    conf_type = spec.conf_type or ctx.defaults.conf_type
    group = d["_group"].to_numpy() if spec.by else None
    km = kaplan_meier(d["time"].to_numpy(), d["event"].to_numpy(), group=group,
                      conf_type=conf_type, conf_level=ctx.defaults.conf_level)
    results: dict[str, object] = {"km": km}
    if spec.by and spec.test:
        if d["_group"].nunique() >= 2:
            results["logrank"] = logrank_test(d["time"].to_numpy(), d["event"].to_numpy(),
                                              d["_group"].to_numpy())
        else:
            warn.append(f"{spec.by} has one level: no log-rank test")
    warn.extend(km.warnings)
    return StepOutput(results=results, n=len(d), warnings=tuple(warn),
                      options={"endpoint": spec.endpoint, "conf_type": conf_type,
                               "conf_level": ctx.defaults.conf_level, "time_unit": ctx.unit},
                      extra={"times": _times(spec, ctx)})


def _rep_km_like(km: KaplanMeierResult, test: LogRankResult | None, c: Compare,
                 ctx: AnalysisContext) -> Reproduced:
    if c.quantity == "p_value":
        if test is None:
            raise NotEstimable("no log-rank test (no 'by' or one level)")
        return Reproduced(value=test.p_value, rule=P_RULE, within=_p_within(c.value, test.p_value),
                          note="log-rank")
    if c.quantity == "median":
        med = _pick_group(km.median(), c.group)
        if med.empty:
            raise _missing_group(c.group, km.groups)
        r = med.iloc[0]
        lo, hi = float(r["lower"]), float(r["upper"])
        return Reproduced(value=float(r["estimate"]), lower=lo, upper=hi,
                          rule=_ci_rule(km.conf_level), within=_inside(c.value, lo, hi),
                          note=f"median, {ctx.unit}")
    assert c.time is not None
    t = c.time.to(ctx.unit)
    at = _pick_group(km.at([t]), c.group)
    if at.empty:
        raise _missing_group(c.group, km.groups)
    r = at.iloc[0]
    lo, hi = float(r["lower"]) * 100, float(r["upper"]) * 100
    return Reproduced(value=float(r["surv"]) * 100, lower=lo, upper=hi,
                      rule=_ci_rule(km.conf_level) + f" ({km.conf_type})",
                      within=_inside(c.value, lo, hi),
                      note=f"S({t:g} {ctx.unit}), n at risk {int(r['n_risk'])}")


def _rep_km(spec: KaplanMeier, out: StepOutput, c: Compare, ctx: AnalysisContext) -> Reproduced:
    km = out.results["km"]
    assert isinstance(km, KaplanMeierResult)
    test = out.results.get("logrank")
    return _rep_km_like(km, test if isinstance(test, LogRankResult) else None, c, ctx)


def _run_cox(spec: Cox, ctx: AnalysisContext) -> StepOutput:
    d = ctx.endpoint(spec.endpoint)
    d = _with_reference(_continuous(_categorical(d, _factors(spec.covariates, spec)),
                                    spec.continuous), spec.reference)
    d = d[["time", "event", *spec.covariates]].dropna()
    res = cox_ph(d, time="time", event="event", covariates=list(spec.covariates),
                 ties=ctx.defaults.ties)
    return StepOutput(results={"cox": res}, n=res.n, warnings=tuple(res.warnings),
                      options={"endpoint": spec.endpoint, "ties": ctx.defaults.ties})


def _rep_ratio(key: str) -> Callable[[Any, StepOutput, Compare, AnalysisContext], Reproduced]:
    def rep(spec: Any, out: StepOutput, c: Compare, ctx: AnalysisContext) -> Reproduced:
        model = out.results[key]
        assert isinstance(model, (CoxResult, FineGrayResult))
        row = _term_row(model.table, c.term)
        if c.quantity == "p_value":
            p = float(row["p_value"])
            return Reproduced(value=p, rule=P_RULE, within=_p_within(c.value, p),
                              note=str(row["term"]))
        lo, hi = float(row["lower"]), float(row["upper"])
        return Reproduced(value=float(row["exp_coef"]), lower=lo, upper=hi,
                          rule=_ci_rule(model.conf_level), within=_inside(c.value, lo, hi),
                          note=str(row["term"]))
    return rep


def _run_cif(spec: CumInc, ctx: AnalysisContext) -> StepOutput:
    d = ctx.endpoint(spec.endpoint)
    d, warn = _groups(d, spec.by)
    group = d["_group"].to_numpy() if spec.by else None
    res = cumulative_incidence(d["time"].to_numpy(), d["status"].to_numpy(), group=group,
                               conf_level=ctx.defaults.conf_level)
    if spec.cause not in res.causes:
        raise NotEstimable(f"no events of cause {spec.cause} ({spec.endpoint})")
    results: dict[str, object] = {"cif": res}
    if spec.by and spec.test:
        if d["_group"].nunique() >= 2:
            results["gray"] = gray_test(d["time"].to_numpy(), d["status"].to_numpy(),
                                        d["_group"].to_numpy())
        else:
            warn.append(f"{spec.by} has one level: no Gray test")
    warn.extend(res.warnings)
    return StepOutput(results=results, n=len(d), warnings=tuple(warn),
                      options={"endpoint": spec.endpoint, "cause": spec.cause,
                               "competing": "CMPEVT 2", "time_unit": ctx.unit},
                      extra={"times": _times(spec, ctx)})


def _rep_cif(spec: CumInc, out: StepOutput, c: Compare, ctx: AnalysisContext) -> Reproduced:
    res = out.results["cif"]
    assert isinstance(res, CumulativeIncidenceResult)
    if c.quantity == "p_value":
        g = out.results.get("gray")
        if not isinstance(g, GrayTestResult):
            raise NotEstimable("no Gray test (no 'by' or one level)")
        rows = g.table[g.table["cause"] == spec.cause]
        p = float(rows["p_value"].iloc[0])
        return Reproduced(value=p, rule=P_RULE, within=_p_within(c.value, p), note="Gray")
    assert c.time is not None
    t = c.time.to(ctx.unit)
    at = res.at([t])
    at = _pick_group(at[at["cause"] == spec.cause], c.group)
    if at.empty:
        raise _missing_group(c.group, res.groups)
    r = at.iloc[0]
    lo, hi = float(r["lower"]) * 100, float(r["upper"]) * 100
    return Reproduced(value=float(r["estimate"]) * 100, lower=lo, upper=hi,
                      rule=_ci_rule(res.conf_level), within=_inside(c.value, lo, hi),
                      note=f"cause {spec.cause} at {t:g} {ctx.unit}")


def _run_fine_gray(spec: FineGray, ctx: AnalysisContext) -> StepOutput:
    d = ctx.endpoint(spec.endpoint)
    d = _with_reference(_continuous(_categorical(d, _factors(spec.covariates, spec)),
                                    spec.continuous), spec.reference)
    d = d[["time", "status", *spec.covariates]].dropna()
    if not (d["status"] == spec.cause).any():
        raise NotEstimable(f"no events of cause {spec.cause}")
    res = fine_gray(d, time="time", status="status", cause=spec.cause,
                    covariates=list(spec.covariates))
    return StepOutput(results={"fine_gray": res}, n=res.n, warnings=tuple(res.warnings),
                      options={"endpoint": spec.endpoint, "cause": spec.cause})


def _run_landmark(spec: Landmark, ctx: AnalysisContext) -> StepOutput:
    d = ctx.endpoint(spec.endpoint)
    start = pd.to_datetime(d["TRTSDT"])
    switch = pd.to_datetime(d[spec.switch], errors="coerce")
    d = d.assign(_switch_time=(switch - start).dt.days / _DAYS_PER[ctx.unit])
    L = spec.landmark.to(ctx.unit)
    ld = landmark(d, landmark=L, time="time", event="event",
                  covariates_at_landmark={"_at_L": "_switch_time"})
    data = ld.data
    if data.empty:
        raise NotEstimable(f"nobody event-free beyond the landmark {spec.landmark}")
    labels = np.where(data["_at_L"].to_numpy() == 1, spec.label, f"no {spec.label}")
    km = kaplan_meier(data["time"].to_numpy(), data["event"].to_numpy(), group=labels,
                      conf_type=ctx.defaults.conf_type, conf_level=ctx.defaults.conf_level)
    results: dict[str, object] = {"landmark": ld, "km": km}
    warn = [f"excluded at the landmark: {k} {v}" for k, v in ld.excluded.items()]
    if len(set(labels.tolist())) >= 2:
        results["logrank"] = logrank_test(data["time"].to_numpy(), data["event"].to_numpy(),
                                          labels)
    return StepOutput(results=results, n=ld.n_kept, warnings=tuple(warn),
                      options={"endpoint": spec.endpoint, "landmark": f"{L:g} {ctx.unit}",
                               "switch": spec.switch, "conf_type": ctx.defaults.conf_type},
                      extra={"times": _times(spec, ctx), "n_before": ld.n_total})


def _rep_landmark(spec: Landmark, out: StepOutput, c: Compare,
                  ctx: AnalysisContext) -> Reproduced:
    km = out.results["km"]
    assert isinstance(km, KaplanMeierResult)
    test = out.results.get("logrank")
    if c.time is not None and c.quantity == "estimate":
        # published times are from t0; the landmark curve starts at L
        shifted = c.model_copy(update={"time": type(c.time)(
            max(c.time.to(ctx.unit) - spec.landmark.to(ctx.unit), 0.0))})
        return _rep_km_like(km, None, shifted, ctx)
    return _rep_km_like(km, test if isinstance(test, LogRankResult) else None, c, ctx)


def _run_table_one(spec: TableOne, ctx: AnalysisContext) -> StepOutput:
    gd, warn = _groups(ctx.adsl, spec.by)
    if gd["_group"].nunique() < 1:
        raise NotEstimable(f"{spec.by} is empty")
    data = gd[["_group", *spec.variables]].rename(columns={"_group": spec.by})
    data = _categorical(data, list(spec.categorical))
    res = table_one(data, by=spec.by, variables=list(spec.variables),
                    categorical=list(spec.categorical), tests=data[spec.by].nunique() >= 2)
    warn.extend(res.warnings)
    return StepOutput(results={"table_one": res}, n=len(data), warnings=tuple(warn),
                      options={"by": spec.by})


def _rep_none(spec: Any, out: StepOutput, c: Compare, ctx: AnalysisContext) -> Reproduced:
    raise NotEstimable(f"{type(spec).__name__} has no comparable numbers")


def _run_follow_up(spec: FollowUp, ctx: AnalysisContext) -> StepOutput:
    d = ctx.endpoint(spec.endpoint)
    res = median_follow_up(d["time"].to_numpy(), d["event"].to_numpy(),
                           conf_level=ctx.defaults.conf_level)
    fu = ctx.endpoint("FU")["time"]
    crude = {"median": float(fu.median()), "min": float(fu.min()), "max": float(fu.max())}
    return StepOutput(results={"follow_up": res}, n=len(d), warnings=tuple(res.warnings),
                      options={"method": "reverse Kaplan-Meier", "time_unit": ctx.unit},
                      extra={"crude": crude})


def _rep_follow_up(spec: FollowUp, out: StepOutput, c: Compare,
                   ctx: AnalysisContext) -> Reproduced:
    crude = out.extra["crude"]
    return Reproduced(value=float(crude["median"]), lower=float(crude["min"]),
                      upper=float(crude["max"]), rule="published inside reproduced range",
                      within=_inside(c.value, float(crude["min"]), float(crude["max"])),
                      note=f"crude median observation time, {ctx.unit}")


def _swimmer_rows(lane: str, r: pd.Series, rel: Mapping[str, float]) -> list[dict[str, object]]:
    """Lane elements of one ADSL row; ``rel`` holds its dates in study units from the lane
    origin (NaN when absent)."""
    rows: list[dict[str, object]] = [
        {"patient": lane, "kind": "treatment", "start": rel["TRTSDT"],
         "end": max(rel["TRTEDT"], rel["TRTSDT"]) if not math.isnan(rel["TRTEDT"])
         else rel["TRTSDT"], "label": str(r["REGIMEN"])}]
    if not math.isnan(rel["RESPDT"]):
        rows.append({"patient": lane, "kind": "response", "start": rel["RESPDT"],
                     "end": math.nan, "label": str(r["BESTRESP"])})
    for kind, col in (("hsct", "HSCTDT"), ("relapse", "RELDT"), ("death", "DTHDT")):
        if not math.isnan(rel[col]):
            rows.append({"patient": lane, "kind": kind, "start": rel[col], "end": math.nan,
                         "label": ""})
    return rows


_SWIM_DATES = ("TRTSDT", "TRTEDT", "RESPDT", "HSCTDT", "RELDT", "DTHDT", "LSTCNDT")


def _run_swimmer(spec: Swimmer, ctx: AnalysisContext) -> StepOutput:
    per = _DAYS_PER[ctx.unit]
    data = ctx.adsl.sort_values(["TRTSDT", "USUBJID"], kind="stable")
    dates = {c: pd.to_datetime(data[c], errors="coerce") for c in _SWIM_DATES}
    by_patient = spec.lanes == "patient"
    key = data["USUBJID"] if by_patient else data["USUBJID"] + "|" + data["LINEID"]
    lanes_in_order = list(dict.fromkeys(key))
    shown = set(lanes_in_order[:spec.max_lanes])
    origin = dates["TRTSDT"].groupby(key).transform("min") if by_patient else dates["TRTSDT"]
    rows: list[dict[str, object]] = []
    done_once: set[str] = set()
    for i, (_, r) in enumerate(data.iterrows()):
        k = str(key.iloc[i])
        if k not in shown:
            continue
        lane = str(r["SUBJID"]) if by_patient else f"{r['SUBJID']} {r['LINEID']}"
        rel = {c: float((dates[c].iloc[i] - origin.iloc[i]).days) / per
               if pd.notna(dates[c].iloc[i]) else math.nan for c in _SWIM_DATES}
        if by_patient and k in done_once:  # HSCT, death: drawn once per patient
            rel["HSCTDT"] = rel["DTHDT"] = math.nan
        done_once.add(k)
        rows.extend(_swimmer_rows(lane, r, rel))
    # "ongoing" arrow at the last contact of lanes without death
    alive = data.assign(_k=key.to_numpy()).loc[lambda d: d["_k"].isin(shown)]
    for _, grp in alive.groupby("_k", sort=False):
        if grp["DTHDT"].notna().any():
            continue
        last = pd.to_datetime(grp["LSTCNDT"]).max()
        start = pd.to_datetime(grp["TRTSDT"]).min() if by_patient else \
            pd.to_datetime(grp["TRTSDT"]).iloc[0]
        if pd.notna(last):
            first = grp.iloc[0]
            lane = str(first["SUBJID"]) if by_patient else f"{first['SUBJID']} {first['LINEID']}"
            rows.append({"patient": lane, "kind": "ongoing",
                         "start": float((last - start).days) / per, "end": math.nan,
                         "label": ""})
    lanes = pd.DataFrame(rows, columns=["patient", "kind", "start", "end", "label"])
    lanes = lanes.drop_duplicates(ignore_index=True)  # a relapse shared by two lines
    n_lanes = len(lanes_in_order)
    unit = "patients" if by_patient else "patient-lines"
    warn = ([f"first {spec.max_lanes} of {n_lanes} {unit} by start date"]
            if n_lanes > spec.max_lanes else [])
    origin_text = "first index-line start of the patient" if by_patient else "TRTSDT"
    return StepOutput(results={}, n=min(n_lanes, spec.max_lanes), warnings=tuple(warn),
                      options={"lanes": spec.lanes, "origin": origin_text,
                               "time_unit": ctx.unit},
                      extra={"lanes": lanes})


def _run_listing(spec: Listing, ctx: AnalysisContext) -> StepOutput:
    data = ctx.adsl.sort_values(list(spec.sort_by), kind="stable")
    shown = data[list(spec.columns)].head(spec.max_rows).reset_index(drop=True)
    warn = ([f"first {spec.max_rows} of {len(data)} rows"] if len(data) > spec.max_rows
            else [])
    return StepOutput(results={}, n=len(data), warnings=tuple(warn),
                      options={"columns": ", ".join(spec.columns),
                               "sorted by": ", ".join(spec.sort_by)},
                      extra={"listing": shown})


# ---- toxicity -----------------------------------------------------------------------------------

ANY_TERM = "any"


def _grade_band(g: int | str) -> tuple[int, int]:
    """A plan grade: ``3`` = grade 3 or more; ``"3-4"`` = grades 3 to 4 (grade 5 excluded)."""
    if isinstance(g, int):
        return g, 5
    lo, _, hi = str(g).partition("-")
    return int(lo), int(hi or 5)


def _grade_label(g: int | str) -> str:
    lo, hi = _grade_band(g)
    if hi == 5:
        return "any grade" if lo == 1 else f"grade >= {lo}"
    return f"grade {lo}" if lo == hi else f"grade {lo}-{hi}"


#: a line with an episode diagnosed under a criteria set that gives no severity grade
#: (modified Seattle, Baltimore; an EBMT diagnosis without severity): counts at "any grade"
DIAGNOSED_UNGRADED = 0.5


def _line_grades(tox: pd.DataFrame, term: str, spec: Toxicity) -> tuple[pd.Series, str]:
    """Maximum grade per (USUBJID, LINEID) for one term (or every term for ``any``) under the
    chosen criteria set, ``DIAGNOSED_UNGRADED`` for a diagnosis without a grade; the set's
    name for the table."""
    if term == ANY_TERM:
        terms = spec.terms if spec.terms is not None else sorted(tox["TERM"].unique())
        parts = [_line_grades(tox, t, spec)[0] for t in terms]
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.Series(dtype=float), "per term as above"
        both = pd.concat(parts)
        return both.groupby(level=[0, 1]).max(), "per term as above"
    rows = tox[tox["TERM"] == term]
    chosen = spec.criteria.get(term)
    if chosen is not None:
        rows = rows[rows["CRITSET"] == chosen]
        label = chosen
    else:
        rows = rows[rows["PRIMFL"] == "Y"]
        sets = sorted(rows["CRITSET"].dropna().astype(str).unique())
        label = " / ".join(sets) if sets else "primary set"
    grades = pd.to_numeric(rows["MAXGRADE"], errors="coerce")
    if "DIAGFL" in rows:
        ungraded = grades.isna() & (rows["DIAGFL"] == "Y")
        grades = grades.where(~ungraded, DIAGNOSED_UNGRADED)
    return grades.groupby([rows["USUBJID"], rows["LINEID"]]).max(), label


def _test_p(table: pd.DataFrame, test: str) -> float:
    if test == "fisher":
        return fisher_exact_test(table).p_value
    return chi_square_test(table, correction=test == "chisq_yates").p_value


def _run_toxicity(spec: Toxicity, ctx: AnalysisContext) -> StepOutput:
    if ctx.toxicity is None:
        raise NotEstimable("this cohort has no toxicity table")
    gd, warn = _groups(ctx.adsl, spec.by)
    keys = pd.MultiIndex.from_frame(gd[["USUBJID", "LINEID"]])
    group = gd["_group"].to_numpy() if spec.by is not None else None
    levels = sorted(set(group.tolist())) if group is not None else []
    recorded = sorted(ctx.toxicity["TERM"].dropna().astype(str).unique())
    terms = list(spec.terms) if spec.terms is not None else recorded
    if spec.any_term and terms:
        terms.append(ANY_TERM)
    method, cl = ctx.defaults.binomial_ci, ctx.defaults.conf_level
    rows: list[dict[str, object]] = []
    results: dict[str, object] = {}
    for term in terms:
        per_line, critset = _line_grades(ctx.toxicity, term, spec)
        grade = per_line.reindex(keys).fillna(0.0).to_numpy()  # no episode = grade 0
        for g in spec.grades:
            lo, hi = _grade_band(g)
            band = _grade_label(g)
            hit = ((grade >= lo) & (grade <= hi)) | ((grade == DIAGNOSED_UNGRADED) & (lo == 1))
            unknown = int(((grade == DIAGNOSED_UNGRADED) & (lo > 1)).sum())
            if unknown:
                warn.append(f"{term}, {band}: {unknown} line(s) diagnosed without a severity "
                            f"grade ({critset}) are not counted")
            cells = [(ALL, hit)]
            if group is not None:
                cells += [(lv, hit[group == lv]) for lv in levels]
            p_value = math.nan
            if group is not None and len(levels) >= 2:
                table = pd.crosstab(group, hit)
                if table.shape == (len(levels), 2):
                    p_value = _test_p(table, spec.test)
                results[f"p|{term}|{band}"] = p_value
            for lv, h in cells:
                if len(h) == 0:
                    continue
                prop = proportion_ci(int(h.sum()), len(h), method=method, conf_level=cl)
                results[f"{term}|{band}|{lv}"] = prop
                rows.append({"term": term, "criteria": critset, "grade": band,
                             "group": lv, "k": prop.x, "n": prop.n,
                             "estimate": prop.estimate * 100, "lower": prop.lower * 100,
                             "upper": prop.upper * 100,
                             "p_value": p_value if lv == ALL else math.nan})
    if not rows:
        raise NotEstimable("no AE terms to tabulate")
    table_out = pd.DataFrame(rows)
    return StepOutput(results=results, n=len(gd), warnings=tuple(warn),
                      options={"ci": method, "conf_level": cl, "grades": spec.grades,
                               "by": spec.by, "test": {"fisher": "Fisher's exact test",
                                                       "chisq": "Pearson chi-square",
                                                       "chisq_yates": "Yates chi-square"
                                                       }[spec.test] + " across groups",
                               "source": "Cohort.toxicity() (grades derived from raw values)"},
                      extra={"table": table_out})


def _rep_toxicity(spec: Toxicity, out: StepOutput, c: Compare,
                  ctx: AnalysisContext) -> Reproduced:
    term = c.term or ANY_TERM
    band = _grade_label(c.grade if c.grade is not None else spec.grades[0])
    if c.quantity == "p_value":
        p = out.results.get(f"p|{term}|{band}")
        if not isinstance(p, float):
            raise NotEstimable(f"no test for term {term!r}, {band} (needs 'by')")
        return Reproduced(value=p, rule=P_RULE, within=_p_within(c.value, p), note=spec.test)
    r = out.results.get(f"{term}|{band}|{c.group or ALL}")
    if not isinstance(r, ProportionResult):
        raise NotEstimable(f"no incidence for term {term!r}, {band}, group "
                           f"{c.group or ALL!r}")
    lo, hi = r.lower * 100, r.upper * 100
    note = f"{r.x}/{r.n}" + (f" (published {c.k}/{c.n})" if c.k is not None and c.n else "")
    return Reproduced(value=r.estimate * 100, lower=lo, upper=hi,
                      rule=_ci_rule(r.conf_level) + f" ({ctx.defaults.binomial_ci})",
                      within=_inside(c.value, lo, hi), note=note)


ANALYSES: Mapping[str, AnalysisKind] = {
    "response_rate": AnalysisKind(_run_response_rate, _rep_proportion,
                                  "response rates with binomial CI"),
    "association": AnalysisKind(_run_association, _rep_association,
                                "chi-square / Fisher by subgroup"),
    "logistic_screen": AnalysisKind(_run_screen, _rep_screen,
                                    "univariable screen → multivariable logistic"),
    "km": AnalysisKind(_run_km, _rep_km, "Kaplan-Meier, log-rank"),
    "cox": AnalysisKind(_run_cox, _rep_ratio("cox"), "Cox proportional hazards"),
    "cif": AnalysisKind(_run_cif, _rep_cif, "cumulative incidence, Gray's test"),
    "fine_gray": AnalysisKind(_run_fine_gray, _rep_ratio("fine_gray"), "Fine-Gray"),
    "landmark": AnalysisKind(_run_landmark, _rep_landmark, "landmark Kaplan-Meier"),
    "table_one": AnalysisKind(_run_table_one, _rep_none, "Table 1"),
    "follow_up": AnalysisKind(_run_follow_up, _rep_follow_up, "median follow-up"),
    "swimmer": AnalysisKind(_run_swimmer, _rep_none, "swimmer plot lanes"),
    "listing": AnalysisKind(_run_listing, _rep_none, "listing of ADSL columns"),
    "toxicity": AnalysisKind(_run_toxicity, _rep_toxicity, "toxicity incidence by grade"),
}

#: errors of the statistics layer that mean "not estimable on these data"
ESTIMATION_ERRORS: tuple[type[Exception], ...] = (NotEstimable, InputError)
