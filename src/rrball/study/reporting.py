"""``build_report(study_results) -> Report``: tables and figures of a study run (no file I/O).

The report starts with the data snapshot hash and the plan text, then the CONSORT-style
population counts and the published-vs-reproduced table, one section per analysis (existing
TableSpec builders and figures of :mod:`rrball.report`) and the published-table consistency
check. Every table carries the declared defaults, the step's provenance (plan step and line,
population n, filters, options) and the rrball version in its footnotes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from rrball import __version__
from rrball.report import ColumnSpec, FigureItem, Report, Section, TableSpec
from rrball.report.figures import cif_plot, forest_plot, km_plot, response_bars, swimmer_plot
from rrball.report.tables import (
    method_line,
    table_from_cif_at,
    table_from_cox,
    table_from_fine_gray,
    table_from_km_at,
    table_from_km_median,
    table_from_logistic,
    table_from_logrank,
    table_from_proportions,
    table_from_table_one,
)
from rrball.stats import (
    ChiSquareResult,
    CoxResult,
    CumulativeIncidenceResult,
    FineGrayResult,
    FisherExactResult,
    FollowUpResult,
    GrayTestResult,
    KaplanMeierResult,
    LandmarkData,
    LogisticResult,
    LogRankResult,
    ProportionResult,
    ScreenResult,
    TableOneResult,
)
from rrball.study.plan import Defaults
from rrball.study.runner import StepResult, StudyResults

__all__ = ["build_report", "comparison_table", "defaults_line"]

Item = TableSpec | FigureItem


def defaults_line(d: Defaults) -> str:
    """The study-level declared defaults, printed under every table."""
    return (f"Declared defaults: {d.conf_level * 100:g}% CI; KM CI transform {d.conf_type}; "
            f"ties {d.ties}; continuity correction {'yes' if d.correction else 'no'}; "
            f"binomial CI {d.binomial_ci}; screen p-value {d.screen_p_value}; "
            f"p-value display rule {d.p_value_rule}; time unit {d.time_unit}.")


def _provenance(step: StepResult) -> str:
    parts = [f"{k} {v}" for k, v in step.provenance().items() if v is not None and v != ""]
    return "Provenance: " + "; ".join(parts) + "."


def _with_notes(spec: TableSpec, notes: Sequence[str]) -> TableSpec:
    return TableSpec(title=spec.title, body=spec.body, columns=spec.columns,
                     spanners=spec.spanners, indent=spec.indent, bold=spec.bold,
                     footnotes=(*spec.footnotes, *notes), source_notes=spec.source_notes,
                     method=spec.method, n=spec.n)


def _frame_table(title: str, body: pd.DataFrame, columns: Sequence[ColumnSpec], *,
                 notes: Sequence[str] = (), n: int | None = None,
                 method: Mapping[str, object] | None = None) -> TableSpec:
    return TableSpec(title=title, body=body, columns=tuple(columns), footnotes=tuple(notes),
                     n=n, method=dict(method or {}))


def _text(key: str, label: str) -> ColumnSpec:
    return ColumnSpec(key=key, label=label, kind="text", align="left")


# ---- fixed sections -----------------------------------------------------------------------------


def _consort_table(res: StudyResults, d: Defaults) -> TableSpec:
    rows = [{"step": "Analysis table (ADSL)", "n": res.n_cohort, "excluded": math.nan,
             "reason": ""}]
    for c in res.consort:
        rows.append({"step": c.criterion, "n": c.n_after, "excluded": c.n_excluded,
                     "reason": c.reason})
    body = pd.DataFrame(rows)
    cols = (_text("step", "Step"), ColumnSpec(key="n", label="Remaining", kind="integer"),
            ColumnSpec(key="excluded", label="Excluded", kind="integer"),
            _text("reason", "Reason"))
    return _frame_table("Study population (CONSORT-style counts)", body, cols,
                        notes=(defaults_line(d),), n=res.n_population)


def comparison_table(res: StudyResults) -> TableSpec:
    """Published vs reproduced, numbers numeric (percent for proportions and survival)."""
    comp = res.comparison
    body = comp[["id", "label", "published", "published_lower", "published_upper",
                 "reproduced", "lower", "upper", "difference", "within", "rule",
                 "note"]].copy()
    cols = (_text("id", "ID"), _text("label", "Quantity"),
            ColumnSpec(key="published", label="Published", kind="number", digits=3),
            ColumnSpec(key="pub_ci", label="Published CI", kind="ci",
                       sources=("published_lower", "published_upper"), digits=1),
            ColumnSpec(key="reproduced", label="Reproduced", kind="number", digits=3),
            ColumnSpec(key="rep_ci", label="Reproduced CI", kind="ci",
                       sources=("lower", "upper"), digits=1),
            ColumnSpec(key="difference", label="Difference", kind="number", digits=3),
            _text("within", "Within sampling error"), _text("rule", "Rule"),
            _text("note", "Note"))
    notes = ("Proportions, survival and cumulative incidence in percent; ratios as printed; "
             "p-values as numbers. 'Within sampling error': the published estimate lies inside "
             "the reproduced confidence interval (exact Clopper-Pearson for proportions, the "
             "declared KM transform for survival, Wald for ratios); for p-values: the same side "
             "of 0.05. 'n/a': no interval or not estimable on these data.",
             defaults_line(res.plan.defaults))
    return _frame_table(f"Published vs reproduced ({res.plan.study.id})", body, cols,
                        notes=notes, n=res.n_population)


def _not_estimable_table(res: StudyResults) -> TableSpec | None:
    bad = [s for s in res.steps if s.status != "ok"]
    if not bad:
        return None
    body = pd.DataFrame({"step": [s.id for s in bad], "type": [s.type for s in bad],
                         "line": [s.line if s.line is not None else math.nan for s in bad],
                         "reason": [s.message for s in bad]})
    cols = (_text("step", "Step"), _text("type", "Analysis"),
            ColumnSpec(key="line", label="Plan line", kind="integer"), _text("reason", "Reason"))
    return _frame_table("Analyses not estimable on these data", body, cols)


def _consistency_table(res: StudyResults) -> TableSpec | None:
    rep = res.consistency
    if rep is None or not rep.findings:
        return None
    rows = [{"item": f.item_id, "rule": f.rule, "severity": f.severity, "message": f.message}
            for f in rep.findings]
    body = pd.DataFrame(rows)
    cols = (_text("item", "Item"), _text("rule", "Rule"), _text("severity", "Severity"),
            _text("message", "Finding"))
    return _frame_table(
        f"Published-table consistency check: {len(rep.errors)} error(s), "
        f"{len(rep.reviews)} review flag(s)", body, cols,
        notes=("Rules C1-C11 of clinical-reference.md §6.0, applied to the numbers as printed "
               "(rounding tolerance from the printed decimals).",))


# ---- per analysis ------------------------------------------------------------------------------


def _fig(step: StepResult, name: str, figure: Any, caption: str, d: Defaults) -> FigureItem:
    n = f"n = {step.output.n}; " if step.output is not None else ""
    return FigureItem(name=f"{step.id}_{name}", figure=figure, caption=caption,
                      notes=(_provenance(step), defaults_line(d),
                             f"{n}rrball {__version__}"))


def _items_response(step: StepResult, r: Mapping[str, object], d: Defaults) -> list[Item]:
    props = {k: v for k, v in r.items() if isinstance(v, ProportionResult)}
    items: list[Item] = [table_from_proportions(props, title=step.title)]
    assert step.output is not None
    counts: Mapping[str, tuple[int, int]] = step.output.extra.get("counts", {})
    if counts and step.spec.figure:
        frame = pd.DataFrame({"yes": [x for x, _ in counts.values()],
                              "no": [n - x for x, n in counts.values()]},
                             index=list(counts))
        name = step.spec.outcome_label or step.spec.outcome
        frame.columns = [name, f"not {name}"]
        fig = response_bars(frame, highlight=[name],
                            cis={k: v for k, v in props.items() if k in counts},
                            title=step.title)
        items.append(_fig(step, "bars", fig, step.title, d))
    return items


def _items_association(step: StepResult, r: Mapping[str, object], d: Defaults) -> list[Item]:
    assert step.output is not None
    table: pd.DataFrame = step.output.extra["table"]
    body = pd.DataFrame({"group": [str(i) for i in table.index]})
    cols: list[ColumnSpec] = [_text("group", step.spec.by)]
    for c in table.columns:
        body[f"c{c}"] = table[c].to_numpy()
        cols.append(ColumnSpec(key=f"c{c}", label=f"{step.spec.outcome} = {c}", kind="integer"))
    tests = []
    for name, res in r.items():
        if isinstance(res, ChiSquareResult):
            tests.append(f"{'Yates-corrected' if res.correction else 'Pearson'} chi-square = "
                         f"{res.statistic:.3f}, df {res.df}, p = {res.p_value:.4g}")
        elif isinstance(res, FisherExactResult):
            tests.append(f"Fisher's exact test p = {res.p_value:.4g}")
        del name
    return [_frame_table(step.title, body, cols, n=step.output.n, notes=tests)]


def _items_screen(step: StepResult, r: Mapping[str, object], d: Defaults) -> list[Item]:
    screen = r["screen"]
    assert isinstance(screen, ScreenResult)
    t = screen.table
    body = pd.DataFrame({"candidate": t["candidate"].astype(str), "n": t["n"],
                         "p_value": t["p_value"].astype(float),
                         "selected": ["yes" if s else "no" for s in t["selected"]]})
    cols = (_text("candidate", "Candidate"), ColumnSpec(key="n", label="N", kind="integer"),
            ColumnSpec(key="p_value", label="Univariable p", kind="p_value"),
            _text("selected", f"Selected (p <= {screen.threshold:g})"))
    items: list[Item] = [_frame_table(f"{step.title}: univariable screen", body, cols,
                                      n=screen.n, method=screen.method,
                                      notes=(method_line(screen.method),))]
    model = r.get("multivariable")
    if isinstance(model, LogisticResult):
        items.append(table_from_logistic(model, title=f"{step.title}: multivariable model"))
        if step.spec.figure:
            items.append(_fig(step, "forest", forest_plot(model, title=step.title),
                              f"{step.title}: odds ratios", d))
    return items


def _items_km(step: StepResult, r: Mapping[str, object], d: Defaults) -> list[Item]:
    assert step.output is not None
    km = r["km"]
    assert isinstance(km, KaplanMeierResult)
    test = r.get("logrank")
    lr = test if isinstance(test, LogRankResult) else None
    unit = d.time_unit
    times: list[float] = list(step.output.extra.get("times", []))
    if step.type == "landmark":
        lm = r["landmark"]
        assert isinstance(lm, LandmarkData)
        shift = step.spec.landmark.to(unit)
        times = [max(t - shift, 0.0) for t in times]
    items: list[Item] = []
    if times:
        items.append(table_from_km_at(km, times, time_label=f"Time ({unit})",
                                      title=f"{step.title}: survival at selected times"))
    items.append(table_from_km_median(km, title=f"{step.title}: median ({unit})"))
    if lr is not None:
        items.append(table_from_logrank(lr, title=f"{step.title}: log-rank test"))
    if step.spec.figure:
        fig = km_plot(km, test=lr, xlabel=f"Time ({unit})", title=step.title)
        items.append(_fig(step, "km", fig, f"{step.title} (Kaplan-Meier)", d))
    return items


#: CMPEVT codes of the competing-risk endpoints (data-dictionary.md §5.3)
_CMPEVT_LABELS: Mapping[str, Mapping[int, str]] = {
    "CIR": {1: "relapse", 2: "death without relapse"},
    "NRM": {1: "relapse", 2: "death without relapse"},
    "CIRHCT": {1: "relapse", 2: "death without relapse"},
    "NRMHCT": {1: "relapse", 2: "death without relapse"},
    "TTHSCT": {1: "allo-HSCT", 2: "death before HSCT"},
}


def _items_cif(step: StepResult, r: Mapping[str, object], d: Defaults) -> list[Item]:
    assert step.output is not None
    res = r["cif"]
    assert isinstance(res, CumulativeIncidenceResult)
    g = r.get("gray")
    gray = g if isinstance(g, GrayTestResult) else None
    labels = dict(_CMPEVT_LABELS.get(step.spec.endpoint, {1: "event", 2: "competing event"}))
    times = list(step.output.extra.get("times", []))
    items: list[Item] = []
    if times:
        items.append(table_from_cif_at(res, times, cause=step.spec.cause, cause_labels=labels,
                                       time_label=f"Time ({d.time_unit})", title=step.title))
    if step.spec.figure:
        fig = cif_plot(res, cause=step.spec.cause, test=gray, cause_labels=labels,
                       xlabel=f"Time ({d.time_unit})", title=step.title)
        items.append(_fig(step, "cif", fig, f"{step.title} (cumulative incidence)", d))
    return items


def _items_ratio(step: StepResult, r: Mapping[str, object], d: Defaults) -> list[Item]:
    model = next(iter(r.values()))
    items: list[Item] = []
    if isinstance(model, CoxResult):
        items.append(table_from_cox(model, title=step.title))
    elif isinstance(model, FineGrayResult):
        items.append(table_from_fine_gray(model, title=step.title))
    if step.spec.figure and isinstance(model, (CoxResult, FineGrayResult)):
        items.append(_fig(step, "forest", forest_plot(model, title=step.title), step.title, d))
    return items


def _items_table_one(step: StepResult, r: Mapping[str, object], d: Defaults) -> list[Item]:
    res = r["table_one"]
    assert isinstance(res, TableOneResult)
    return [table_from_table_one(res, title=step.title)]


def _items_follow_up(step: StepResult, r: Mapping[str, object], d: Defaults) -> list[Item]:
    assert step.output is not None
    res = r["follow_up"]
    assert isinstance(res, FollowUpResult)
    t = res.table.iloc[0]
    crude = step.output.extra["crude"]
    body = pd.DataFrame({
        "method": ["Reverse Kaplan-Meier (median potential follow-up)",
                   "Crude observation time (median, range)"],
        "estimate": [float(t["estimate"]), float(crude["median"])],
        "lower": [float(t["lower"]), float(crude["min"])],
        "upper": [float(t["upper"]), float(crude["max"])]})
    cols = (_text("method", "Method"),
            ColumnSpec(key="estimate", label=f"Median ({d.time_unit})", kind="number",
                       digits=1),
            ColumnSpec(key="ci", label="95% CI / range", kind="ci", sources=("lower", "upper"),
                       digits=1))
    return [_frame_table(step.title, body, cols, n=step.output.n, method=res.method,
                         notes=(method_line(res.method),))]


def _items_swimmer(step: StepResult, r: Mapping[str, object], d: Defaults) -> list[Item]:
    assert step.output is not None
    lanes: pd.DataFrame = step.output.extra["lanes"]
    counts = lanes.groupby("kind").size()
    body = pd.DataFrame({"kind": [str(k) for k in counts.index],
                         "n": [int(v) for v in counts.to_numpy()]})
    items: list[Item] = [_frame_table(
        f"{step.title}: events drawn", body,
        (_text("kind", "Lane element"), ColumnSpec(key="n", label="Count", kind="integer")),
        n=step.output.n)]
    if step.spec.figure and not lanes.empty:
        origin = str(step.output.options.get("origin", "TRTSDT"))
        start = "first index line" if origin != "TRTSDT" else "start of therapy"
        fig = swimmer_plot(lanes, xlabel=f"Time from {start} ({d.time_unit})",
                           title=step.title)
        items.append(_fig(step, "swimmer", fig, step.title, d))
    return items


def _listing_cell(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _items_listing(step: StepResult, r: Mapping[str, object], d: Defaults) -> list[Item]:
    assert step.output is not None
    shown: pd.DataFrame = step.output.extra["listing"]
    body = pd.DataFrame({c: [_listing_cell(v) for v in shown[c].tolist()]
                         for c in shown.columns})
    cols = tuple(_text(c, c) for c in shown.columns)
    return [_frame_table(step.title, body, cols, n=step.output.n,
                         method={"method": "listing", **step.output.options})]


def _items_toxicity(step: StepResult, r: Mapping[str, object], d: Defaults) -> list[Item]:
    assert step.output is not None
    t: pd.DataFrame = step.output.extra["table"]
    body = t.assign(term=t["term"].str.replace("_", " "))
    cols = (_text("term", "AE term"), _text("criteria", "Criteria"), _text("grade", "Grade"),
            _text("group", step.spec.by or "Group"),
            ColumnSpec(key="k", label="Patients", kind="integer"),
            ColumnSpec(key="n", label="N", kind="integer"),
            ColumnSpec(key="estimate", label="%", kind="number", digits=1),
            ColumnSpec(key="ci", label=f"{d.conf_level * 100:g}% CI", kind="ci",
                       sources=("lower", "upper"), digits=1),
            ColumnSpec(key="p_value", label="p", kind="p_value"))
    notes = ("Grades derived from the raw AE values (Cohort.toxicity(), data-dictionary.md "
             "§5.2); a line without an episode of a term counts as grade 0; 'any' counts a "
             f"line once over the terms listed. p: {step.output.options['test']}.",)
    return [_frame_table(step.title, body, cols, n=step.output.n, notes=notes,
                         method=step.output.options)]


_BUILDERS = {
    "response_rate": _items_response, "association": _items_association,
    "logistic_screen": _items_screen, "km": _items_km, "landmark": _items_km,
    "cif": _items_cif, "cox": _items_ratio, "fine_gray": _items_ratio,
    "table_one": _items_table_one, "follow_up": _items_follow_up, "swimmer": _items_swimmer,
    "listing": _items_listing, "toxicity": _items_toxicity,
}


def _step_section(step: StepResult, d: Defaults) -> Section:
    if step.output is None:
        return Section(heading=step.title, text=f"Not estimable on these data: {step.message}")
    items = _BUILDERS[step.type](step, step.output.results, d)
    notes = [_provenance(step), defaults_line(d)]
    notes.extend(f"Warning: {w}" for w in step.output.warnings)
    items = [_with_notes(it, notes) if isinstance(it, TableSpec) else it for it in items]
    return Section(heading=step.title, items=tuple(items))


def build_report(res: StudyResults) -> Report:
    """The whole study as a :class:`Report` (render it with ``rrball.report.render``)."""
    plan = res.plan
    d = plan.defaults
    intro = (f"Data snapshot sha256 {res.data_hash} ({res.data_label}); plan "
             f"{plan.source}; rrball {res.version}. "
             f"{plan.study.source or ''}").strip()
    first: list[Item] = [_consort_table(res, d)]
    if res.data_notes:
        body = pd.DataFrame(res.data_notes, columns=["kind", "rule", "n"])
        first.append(_frame_table(
            "Data notes: import warnings and derivation notices by rule", body,
            (_text("kind", "Kind"), _text("rule", "Rule (data-dictionary.md §3)"),
             ColumnSpec(key="n", label="Records", kind="integer")),
            notes=("Listed record by record by `rrball validate DATA --notices`.",)))
    sections = [Section(heading="Data and population", text=intro, items=tuple(first))]
    if len(res.comparison):
        sections.append(Section(heading="Published vs reproduced",
                                items=(comparison_table(res),)))
    missing = _not_estimable_table(res)
    sections.extend(_step_section(s, d) for s in res.steps)
    if missing is not None:
        sections.append(Section(heading="Not estimable", items=(missing,)))
    cons = _consistency_table(res)
    if cons is not None:
        sections.append(Section(heading="Published-table consistency check", items=(cons,)))
    return Report(title=plan.study.title, data_hash=res.data_hash, plan_text=plan.text,
                  sections=tuple(sections), subtitle=f"Study {plan.study.id}")
