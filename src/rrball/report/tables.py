"""Renderer-neutral tables: results → :class:`TableSpec` (design.md §6).

A TableSpec holds a **numeric** body (a DataFrame; numbers stay numbers) plus presentation:
column labels and kinds, spanners, indented or bold rows, footnotes (method line with every
option from ``result.method``, n, rrball version) and source notes. Formatting happens only at
render time through a :class:`~rrball.report.styles.Style`, so Excel receives the numbers with
number formats and HTML/Word receive text from the same spec. No rendering library is named here.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

import rrball
from rrball.report.styles import Style
from rrball.stats import (
    CoxResult,
    CumulativeIncidenceResult,
    FineGrayResult,
    KaplanMeierResult,
    LogisticResult,
    LogRankResult,
    ProportionResult,
    TableOneResult,
)

__all__ = [
    "ColumnKind",
    "ColumnSpec",
    "Spanner",
    "TableSpec",
    "method_line",
    "table_from_cif_at",
    "table_from_cox",
    "table_from_fine_gray",
    "table_from_km_at",
    "table_from_km_median",
    "table_from_logistic",
    "table_from_logrank",
    "table_from_proportions",
    "table_from_table_one",
]

ColumnKind = Literal["text", "integer", "number", "percent", "p_value", "ci", "n_pct",
                     "summary"]

#: number of source columns each kind reads from the body
_ARITY: Mapping[str, int] = {"text": 1, "integer": 1, "number": 1, "percent": 1, "p_value": 1,
                             "ci": 2, "n_pct": 2, "summary": 5}


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnSpec:
    """One displayed column: a label, a kind and the body columns it reads.

    Kinds: ``text``; ``integer``; ``number`` (``digits`` decimals, default the style's);
    ``percent`` (body holds a proportion 0–1); ``p_value`` (the style's p rule); ``ci`` (lower,
    upper); ``n_pct`` (count, proportion → ``"12 (35.3)"``); ``summary`` (count, proportion,
    median, q1, q3 → ``n (%)`` where the count is present, else ``median (q1, q3)``).
    """

    key: str
    label: str
    kind: ColumnKind = "number"
    sources: tuple[str, ...] = ()
    digits: int | None = None
    align: Literal["left", "right", "center"] = "right"
    missing: str = "NA"
    """Text of a missing limit in a ``ci`` cell (``"NR"``: not reached, median tables)."""

    def source_keys(self) -> tuple[str, ...]:
        return self.sources or (self.key,)


@dataclass(frozen=True, slots=True, kw_only=True)
class Spanner:
    """A header label spanning consecutive displayed columns."""

    label: str
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TableSpec:
    """A table as data plus presentation; see the module docstring."""

    title: str
    body: pd.DataFrame
    columns: tuple[ColumnSpec, ...]
    spanners: tuple[Spanner, ...] = ()
    indent: tuple[int, ...] = ()
    bold: tuple[bool, ...] = ()
    footnotes: tuple[str, ...] = ()
    source_notes: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)
    n: int | None = None
    version: str = rrball.__version__

    def __post_init__(self) -> None:
        object.__setattr__(self, "body", self.body.reset_index(drop=True).copy())
        rows = len(self.body)
        if not self.indent:
            object.__setattr__(self, "indent", (0,) * rows)
        if not self.bold:
            object.__setattr__(self, "bold", (False,) * rows)
        if len(self.indent) != rows or len(self.bold) != rows:
            raise ValueError("indent and bold need one entry per body row")
        for col in self.columns:
            keys = col.source_keys()
            if len(keys) != _ARITY[col.kind]:
                raise ValueError(f"column {col.key!r} of kind {col.kind} needs "
                                 f"{_ARITY[col.kind]} source column(s)")
            missing = [k for k in keys if k not in self.body.columns]
            if missing:
                raise ValueError(f"column {col.key!r} reads missing body column(s) {missing}")

    @property
    def n_rows(self) -> int:
        return len(self.body)

    def all_footnotes(self) -> tuple[str, ...]:
        """Footnotes plus the n and version line every rrball table carries."""
        tail = ([f"n = {self.n}"] if self.n is not None else []) + [f"rrball {self.version}"]
        return (*self.footnotes, "; ".join(tail))

    def value(self, row: int, key: str) -> Any:
        """The raw body value (numbers stay numbers; NaN for missing)."""
        return self.body.at[row, key]

    def cell_text(self, row: int, col: ColumnSpec, style: Style) -> str:
        """The formatted text of one cell under ``style``."""
        vals = [self.body.at[row, k] for k in col.source_keys()]
        return format_cell(col, vals, style)

    def header(self) -> list[str]:
        return [c.label for c in self.columns]

    def text_rows(self, style: Style) -> list[list[str]]:
        """Every body row as formatted strings (for HTML, Word, PDF and plain text)."""
        return [[self.cell_text(r, c, style) for c in self.columns] for r in range(self.n_rows)]

    def to_text(self, style: Style) -> str:
        """Plain-text rendering (for logs, snapshots and ``summary()``-like output)."""
        rows = [self.header(), *self.text_rows(style)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.columns))]
        lines = [self.title]
        for j, r in enumerate(rows):
            pad = "  " * (self.indent[j - 1] if j else 0)
            cells = [(pad + r[0]).ljust(widths[0] + len(pad))] + [
                cell.rjust(w) for cell, w in zip(r[1:], widths[1:], strict=True)]
            lines.append("  ".join(cells).rstrip())
        lines.extend(self.all_footnotes())
        lines.extend(self.source_notes)
        return "\n".join(lines)


def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def format_cell(col: ColumnSpec, vals: Sequence[Any], style: Style) -> str:
    """Format the source values of one cell by the column kind (render-time formatting)."""
    v = vals[0]
    kind = col.kind
    if kind == "text":
        return "" if _missing(v) else str(v)
    if kind == "summary":
        count, prop, med, q1, q3 = vals
        if not _missing(count) and not _missing(prop):
            return f"{int(count)} ({style.format_percent(float(prop), col.digits)})"
        if not _missing(med):
            d = 1 if col.digits is None else col.digits
            return (f"{style.format_number(float(med), d)} ({style.format_number(float(q1), d)}, "
                    f"{style.format_number(float(q3), d)})")
        return ""
    if all(_missing(x) for x in vals):
        if col.missing != "NA" and kind in ("number", "ci"):
            return col.missing if kind == "number" else \
                f"{col.missing}{style.ci_separator}{col.missing}"
        return ""
    if kind == "integer":
        return str(int(v))
    if kind == "number":
        return style.format_number(float(v), col.digits)
    if kind == "percent":
        return style.format_percent(float(v), col.digits)
    if kind == "p_value":
        return style.format_p(float(v))
    if kind == "ci":
        lo, hi = _float(vals[0]), _float(vals[1])
        if col.missing != "NA" and (lo is None or hi is None):
            def part(x: float | None) -> str:
                return col.missing if x is None else style.format_number(x, col.digits)
            return f"{part(lo)}{style.ci_separator}{part(hi)}"
        return style.format_ci(lo, hi, col.digits)
    if kind == "n_pct":
        return f"{int(vals[0])} ({style.format_percent(float(vals[1]), col.digits)})"
    raise ValueError(f"unknown column kind {kind!r}")


def _float(v: Any) -> float | None:
    return None if _missing(v) else float(v)


def method_line(method: Mapping[str, object]) -> str:
    """``"Method: estimator kaplan-meier; conf_type log; … R: survfit(…)"`` from result.method."""
    parts = []
    r_call = None
    for k, v in method.items():
        if k == "r_call":
            r_call = str(v)
            continue
        if v is None or k == "title":
            continue
        text = ", ".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v)
        parts.append(f"{k.replace('_', ' ')} {text}")
    line = "Method: " + "; ".join(parts)
    if r_call:
        line += f". Equivalent R: {r_call}"
    return line


def _conf(level: float) -> str:
    return f"{level * 100:g}% CI"


# ---- survival -----------------------------------------------------------------------------------


def table_from_km_at(
    result: KaplanMeierResult, times: Sequence[float], *, time_label: str = "Time",
    title: str | None = None,
) -> TableSpec:
    """S(t) with CI at chosen times, one row per group × time (from ``result.at(times)``)."""
    at = result.at(list(times))
    body = pd.DataFrame({
        "group": [("All" if g is None else str(g)) for g in at.get("group", [None] * len(at))],
        "time": at["time"].astype(float),
        "n_risk": at["n_risk"].astype(int),
        "surv": at["surv"].astype(float),
        "lower": at["lower"].astype(float),
        "upper": at["upper"].astype(float),
    })
    cols = (
        ColumnSpec(key="group", label="Group", kind="text", align="left"),
        ColumnSpec(key="time", label=time_label, kind="number", digits=0),
        ColumnSpec(key="n_risk", label="At risk", kind="integer"),
        ColumnSpec(key="surv", label="Survival, %", kind="percent"),
        ColumnSpec(key="ci", label=_conf(result.conf_level), kind="ci",
                   sources=("lower_pct", "upper_pct"), digits=1),
    )
    body["lower_pct"] = body["lower"] * 100
    body["upper_pct"] = body["upper"] * 100
    return TableSpec(
        title=title or "Kaplan-Meier survival at selected times",
        body=body, columns=cols,
        footnotes=(method_line(result.method),
                   f"{_conf(result.conf_level)}, {result.conf_type} transform; "
                   "Greenwood variance."),
        method=dict(result.method), n=result.n_total,
    )


def table_from_km_median(result: KaplanMeierResult, *, title: str | None = None) -> TableSpec:
    """Median survival with CI per group (``result.median()``), with n and events."""
    med = result.median()
    body = pd.DataFrame({
        "group": [("All" if g is None else str(g)) for g in med["group"]],
        "n": [int(result.n[g]) for g in med["group"]],
        "events": [int(result.events[g]) for g in med["group"]],
        "median": med["estimate"].astype(float),
        "lower": med["lower"].astype(float),
        "upper": med["upper"].astype(float),
    })
    cols = (
        ColumnSpec(key="group", label="Group", kind="text", align="left"),
        ColumnSpec(key="n", label="N", kind="integer"),
        ColumnSpec(key="events", label="Events", kind="integer"),
        ColumnSpec(key="median", label="Median", kind="number", digits=1, missing="NR"),
        ColumnSpec(key="ci", label=_conf(result.conf_level), kind="ci",
                   sources=("lower", "upper"), digits=1, missing="NR"),
    )
    return TableSpec(
        title=title or "Median survival", body=body, columns=cols,
        footnotes=(method_line(result.method),
                   "NR: not reached (the survival curve or its CI band does not cross "
                   "0.5)."),
        method=dict(result.method), n=result.n_total,
    )


def table_from_logrank(result: LogRankResult, *, title: str | None = None) -> TableSpec:
    """Observed and expected events per group with the test in a footnote."""
    body = pd.DataFrame({
        "group": [str(g) for g in result.groups],
        "n": [int(result.n[g]) for g in result.groups],
        "observed": np.asarray(result.observed, dtype=float),
        "expected": np.asarray(result.expected, dtype=float),
    })
    cols = (
        ColumnSpec(key="group", label="Group", kind="text", align="left"),
        ColumnSpec(key="n", label="N", kind="integer"),
        ColumnSpec(key="observed", label="Observed", kind="number", digits=0),
        ColumnSpec(key="expected", label="Expected", kind="number", digits=1),
    )
    test = (f"{result.method.get('test', 'Log-rank test')}: chi-square = {result.statistic:.2f}"
            f" on {result.df} df, p = {result.p_value:.3g}")
    return TableSpec(title=title or "Log-rank test", body=body, columns=cols,
                     footnotes=(test, method_line(result.method)), method=dict(result.method),
                     n=int(sum(result.n.values())))


def table_from_cif_at(
    result: CumulativeIncidenceResult, times: Sequence[float], *, cause: int | None = None,
    time_label: str = "Time", cause_labels: Mapping[int, str] | None = None,
    title: str | None = None,
) -> TableSpec:
    """Cumulative incidence with CI at chosen times (``result.at(times)``)."""
    at = result.at(list(times))
    if cause is not None:
        at = at[at["cause"] == cause]
    labels = cause_labels or {}
    body = pd.DataFrame({
        "group": [("All" if g is None else str(g)) for g in at["group"]],
        "cause": [labels.get(int(c), f"cause {int(c)}") for c in at["cause"]],
        "time": at["time"].astype(float).to_numpy(),
        "estimate": at["estimate"].astype(float).to_numpy(),
        "lower_pct": at["lower"].astype(float).to_numpy() * 100,
        "upper_pct": at["upper"].astype(float).to_numpy() * 100,
    })
    cols = (
        ColumnSpec(key="group", label="Group", kind="text", align="left"),
        ColumnSpec(key="cause", label="Cause", kind="text", align="left"),
        ColumnSpec(key="time", label=time_label, kind="number", digits=0),
        ColumnSpec(key="estimate", label="Cumulative incidence, %", kind="percent"),
        ColumnSpec(key="ci", label=_conf(result.conf_level), kind="ci",
                   sources=("lower_pct", "upper_pct"), digits=1),
    )
    return TableSpec(title=title or "Cumulative incidence at selected times", body=body,
                     columns=cols, footnotes=(method_line(result.method),),
                     method=dict(result.method), n=int(sum(result.n.values())))


# ---- regression ---------------------------------------------------------------------------------


def _ratio_table(
    terms: Sequence[str], est: pd.Series[float], lower: pd.Series[float],
    upper: pd.Series[float], p: pd.Series[float], *, measure: str, conf_level: float,
    title: str, method: Mapping[str, object], n: int, extra: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
) -> TableSpec:
    lab = labels or {}
    body = pd.DataFrame({
        "term": [lab.get(t, t) for t in terms],
        "estimate": np.asarray(est, dtype=float),
        "lower": np.asarray(lower, dtype=float),
        "upper": np.asarray(upper, dtype=float),
        "p_value": np.asarray(p, dtype=float),
    })
    cols = (
        ColumnSpec(key="term", label="Variable", kind="text", align="left"),
        ColumnSpec(key="estimate", label=measure, kind="number"),
        ColumnSpec(key="ci", label=_conf(conf_level), kind="ci", sources=("lower", "upper")),
        ColumnSpec(key="p_value", label="p", kind="p_value"),
    )
    return TableSpec(title=title, body=body, columns=cols,
                     footnotes=(*extra, method_line(method)), method=dict(method), n=n)


def table_from_cox(result: CoxResult, *, title: str | None = None,
                   labels: Mapping[str, str] | None = None) -> TableSpec:
    """Hazard ratios with Wald CI and p (``result.table``)."""
    t = result.table
    return _ratio_table(
        t["term"].tolist(), t["exp_coef"], t["lower"], t["upper"], t["p_value"],
        measure="HR", conf_level=result.conf_level, labels=labels,
        title=title or "Cox proportional hazards model", method=result.method, n=result.n,
        extra=(f"HR, hazard ratio; {result.n_events} events; ties: {result.ties}.",),
    )


def table_from_fine_gray(result: FineGrayResult, *, title: str | None = None,
                         labels: Mapping[str, str] | None = None) -> TableSpec:
    """Subdistribution hazard ratios (``result.table``)."""
    t = result.table
    return _ratio_table(
        t["term"].tolist(), t["exp_coef"], t["lower"], t["upper"], t["p_value"],
        measure="SHR", conf_level=result.conf_level, labels=labels,
        title=title or f"Fine-Gray model for cause {result.cause}", method=result.method,
        n=result.n,
        extra=(f"SHR, subdistribution hazard ratio; {result.n_events} events of cause "
               f"{result.cause}, {result.n_competing} competing events.",),
    )


def table_from_logistic(result: LogisticResult, *, title: str | None = None,
                        labels: Mapping[str, str] | None = None,
                        intercept: bool = False) -> TableSpec:
    """Odds ratios with Wald CI and p (``result.table``); the intercept is dropped by default."""
    t = result.table
    if not intercept:
        t = t[t["term"] != "(Intercept)"]
    extra = [f"OR, odds ratio; {result.n_events} events of {result.n}; "
             f"reference levels: {', '.join(f'{k} = {v}' for k, v in result.references.items())}"
             if result.references else f"OR, odds ratio; {result.n_events} events of {result.n}"]
    if result.separation:
        extra.append(f"Separation detected ({result.separation_kind}): ML estimates of "
                     f"{', '.join(result.separated_terms)} are not meaningful.")
    return _ratio_table(
        t["term"].tolist(), t["odds_ratio"], t["or_lower"], t["or_upper"], t["p_value"],
        measure="OR", conf_level=result.conf_level, labels=labels,
        title=title or "Logistic regression", method=result.method, n=result.n, extra=extra,
    )


# ---- response -----------------------------------------------------------------------------------


def table_from_proportions(
    rows: Mapping[str, ProportionResult], *, title: str = "Response rates",
    label: str = "Subgroup",
) -> TableSpec:
    """``x/n (%)`` with CI per labelled :class:`ProportionResult`."""
    if not rows:
        raise ValueError("rows: at least one ProportionResult is needed")
    results = list(rows.values())
    body = pd.DataFrame({
        "label": list(rows.keys()),
        "x": [r.x for r in results],
        "n": [r.n for r in results],
        "estimate": [r.estimate for r in results],
        "lower_pct": [r.lower * 100 for r in results],
        "upper_pct": [r.upper * 100 for r in results],
    })
    first = results[0]
    cols = (
        ColumnSpec(key="label", label=label, kind="text", align="left"),
        ColumnSpec(key="x", label="Responders", kind="integer"),
        ColumnSpec(key="n", label="N", kind="integer"),
        ColumnSpec(key="estimate", label="%", kind="percent"),
        ColumnSpec(key="ci", label=_conf(first.conf_level), kind="ci",
                   sources=("lower_pct", "upper_pct"), digits=1),
    )
    return TableSpec(title=title, body=body, columns=cols,
                     footnotes=(method_line(first.method),), method=dict(first.method),
                     n=int(sum(r.n for r in results)))


def table_from_table_one(result: TableOneResult, *, title: str = "Patient characteristics",
                         labels: Mapping[str, str] | None = None) -> TableSpec:
    """Table 1: a bold row per variable, indented level rows, one column per group + p."""
    frame = result.to_frame()
    lab = labels or {}
    groups: list[Hashable] = ["Overall", *result.groups]
    pvals = dict(zip(result.tests["variable"], result.tests["p_value"].astype(float),
                     strict=True))
    records: list[dict[str, Any]] = []
    indent: list[int] = []
    bold: list[bool] = []
    for var in result.variables:
        sub = frame[frame["variable"] == var]
        kind = result.types[var]
        p = float(pvals.get(var, math.nan))
        if kind == "continuous":
            rec: dict[str, Any] = {"label": f"{lab.get(var, var)}, median (Q1, Q3)", "p": p}
            for gi, g in enumerate(groups):
                row = sub[sub["group"].astype(str) == str(g)].iloc[0]
                rec |= {f"g{gi}_n": math.nan, f"g{gi}_pct": math.nan,
                        f"g{gi}_median": float(row["median"]), f"g{gi}_q1": float(row["q1"]),
                        f"g{gi}_q3": float(row["q3"])}
            records.append(rec)
            indent.append(0)
            bold.append(True)
            continue
        head: dict[str, Any] = {"label": f"{lab.get(var, var)}, n (%)", "p": p}
        for gi in range(len(groups)):
            head |= {f"g{gi}_{s}": math.nan for s in ("n", "pct", "median", "q1", "q3")}
        records.append(head)
        indent.append(0)
        bold.append(True)
        for level in dict.fromkeys(sub["level"].tolist()):
            rec = {"label": str(level), "p": math.nan}
            for gi, g in enumerate(groups):
                row = sub[(sub["group"].astype(str) == str(g)) & (sub["level"] == level)].iloc[0]
                rec |= {f"g{gi}_n": int(row["n"]), f"g{gi}_pct": float(row["pct"]),
                        f"g{gi}_median": math.nan, f"g{gi}_q1": math.nan, f"g{gi}_q3": math.nan}
            records.append(rec)
            indent.append(1)
            bold.append(False)
    body = pd.DataFrame(records)
    n_by = frame.drop_duplicates(["variable", "group"]).groupby("group", sort=False)[
        "n_nonmissing"].max()
    cols = [ColumnSpec(key="label", label="Characteristic", kind="text", align="left")]
    for gi, g in enumerate(groups):
        n_g = int(n_by.get(g, n_by.get(str(g), 0)))
        cols.append(ColumnSpec(key=f"g{gi}", label=f"{g} (N = {n_g})", kind="summary",
                               sources=tuple(f"g{gi}_{s}" for s in
                                             ("n", "pct", "median", "q1", "q3"))))
    cols.append(ColumnSpec(key="p", label="p", kind="p_value"))
    spanner = Spanner(label=str(result.by), keys=tuple(f"g{gi}" for gi in
                                                       range(1, len(groups))))
    return TableSpec(title=title, body=body, columns=tuple(cols), spanners=(spanner,),
                     indent=tuple(indent), bold=tuple(bold),
                     footnotes=(result.footnote, method_line(result.method)),
                     method=dict(result.method), n=int(n_by.get("Overall", 0)))
