"""Univariable screening then one multivariable logistic model (seed 000's analysis).

Equivalent R: for each candidate ``anova(glm(y ~ x, binomial), test = "LRT")`` (or the Wald
chi-square of the term), keep p <= threshold, then ``glm(y ~ selected, binomial)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import special as _special

from rrball._format import format_number, format_p, format_table
from rrball._result import ResultMixin, json_safe
from rrball._validate import check_choice
from rrball.errors import InputError
from rrball.stats.logistic import LogisticResult, logistic_regression

__all__ = ["ScreenResult", "univariable_screen"]

P_VALUE_TYPES = ("lr", "wald")
TABLE_COLUMNS = ("candidate", "df", "n", "n_events", "lr_p_value", "wald_p_value", "p_value",
                 "selected", "separation")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreenResult(ResultMixin):
    """Univariable models, the selection and the multivariable model on the selected set.

    ``.table`` columns: ``candidate, df, n, n_events, lr_p_value, wald_p_value, p_value`` (the
    declared type used for selection), ``selected``, ``separation``. ``models`` maps each
    candidate to its univariable ``LogisticResult``; ``multivariable`` is None when nothing is
    selected. ``events_per_variable`` = min(events, non-events) / parameters of the
    multivariable model (a warning below 10).
    """

    models: Mapping[str, LogisticResult]
    selected: tuple[str, ...]
    multivariable: LogisticResult | None
    threshold: float
    p_value_type: str
    events_per_variable: float
    n: int
    n_dropped: int
    method: Mapping[str, object]
    warnings: tuple[str, ...] = field(default=())
    _table: pd.DataFrame = field(repr=False)

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "table": self._table.to_dict(orient="list"),
                    "selected": list(self.selected), "threshold": self.threshold,
                    "p_value_type": self.p_value_type,
                    "events_per_variable": self.events_per_variable, "n": self.n,
                    "n_dropped": self.n_dropped,
                    "multivariable": (self.multivariable.to_dict()
                                      if self.multivariable is not None else None),
                    "method": dict(self.method), "warnings": list(self.warnings),
                }
            )
        )

    def summary(self) -> str:
        kind = "likelihood-ratio" if self.p_value_type == "lr" else "Wald"
        rows = [
            [str(r.candidate), str(r.df), format_p(r.lr_p_value), format_p(r.wald_p_value),
             "yes" if r.selected else "", "SEPARATION" if r.separation else ""]
            for r in self._table.itertuples()
        ]
        lines = [
            f"Univariable screening: keep candidates with {kind} p <= {self.threshold:g} "
            f"(n = {self.n})",
            "",
            format_table(["candidate", "df", "LR p", "Wald p", "selected", ""], rows),
            "",
            f"Selected: {', '.join(self.selected) if self.selected else 'none'}",
        ]
        if self.multivariable is not None:
            lines += [f"Events per variable: {format_number(self.events_per_variable, 3)}", "",
                      self.multivariable.summary()]
        lines += [f"Note: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"ScreenResult(candidates={len(self.models)}, selected={list(self.selected)}, "
                f"threshold={self.threshold:g}, p_value={self.p_value_type!r})")


def _term_wald_p(model: LogisticResult, candidate: str) -> float:
    names = model.term_columns[candidate]
    idx = [model.terms.index(t) for t in names]
    b = model.coef[idx]
    v = model.vcov[np.ix_(idx, idx)]
    try:
        stat = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError:  # pragma: no cover - vcov is positive definite after fit
        return math.nan
    return float(_special.chdtrc(len(idx), stat))


def univariable_screen(
    data: Any,
    *,
    outcome: str,
    candidates: Sequence[str],
    threshold: float = 0.10,
    p_value: str = "lr",
    method: str = "ml",
    conf_level: float = 0.95,
    common_sample: bool = True,
) -> ScreenResult:
    """Screen candidates one at a time, keep those with p <= threshold, fit them together.

    Parameters
    ----------
    data, outcome:
        As :func:`logistic_regression`.
    candidates:
        Covariate columns to screen (each becomes one univariable model; a categorical column is
        one term with K - 1 coefficients and one K - 1 df test).
    threshold:
        Keep candidates with p <= threshold (seed 000: 0.10).
    p_value:
        ``"lr"`` likelihood-ratio test against the intercept-only model (default) or ``"wald"``
        (Wald chi-square of the term; for one coefficient the z-test SPSS prints).
    method:
        ``"ml"`` or ``"firth"`` for every model.
    common_sample:
        Use the rows complete for the outcome and every candidate in all models (default), so the
        univariable and multivariable fits share one sample; ``False`` lets each univariable
        model use its own complete cases (what SPSS and a per-model R ``glm`` do).

    Notes
    -----
    Equivalent R: ``anova(glm(outcome ~ x, family = binomial), test = "LRT")`` per candidate;
    then ``glm(outcome ~ selected, family = binomial)``.
    """
    check_choice(p_value, P_VALUE_TYPES, "p_value")
    if method == "firth" and p_value == "lr":
        raise InputError("p_value", "the likelihood-ratio screen is defined for method='ml'; use "
                         "p_value='wald' with method='firth'")
    if not (isinstance(threshold, (int, float)) and 0.0 < float(threshold) <= 1.0):
        raise InputError("threshold", f"must be in (0, 1], got {threshold!r}")
    if isinstance(candidates, str) or len(candidates) == 0:
        raise InputError("candidates", "must be a non-empty list of column names")
    if not isinstance(data, pd.DataFrame):
        raise InputError("data", f"must be a pandas DataFrame, got {type(data).__name__}")
    unknown = [c for c in [outcome, *candidates] if c not in data.columns]
    if unknown:
        raise InputError("candidates" if outcome not in unknown else "outcome",
                         f"unknown column(s) {unknown!r}")
    warn: list[str] = []
    frame = data
    dropped = 0
    if common_sample:
        complete = data[[outcome, *candidates]].notna().all(axis=1)
        dropped = int((~complete).sum())
        frame = data.loc[complete].reset_index(drop=True)
        if dropped:
            warn.append(f"{dropped} row(s) with a missing outcome or candidate dropped from every "
                        "model (common complete-case sample)")
    models: dict[str, LogisticResult] = {}
    rows = []
    for cand in candidates:
        m = logistic_regression(frame, outcome=outcome, covariates=[cand], method=method,
                                conf_level=conf_level, profile=True)
        models[cand] = m
        idx = [m.terms.index(t) for t in m.term_columns[cand]]
        lr = m.null_deviance - m.deviance
        lr_p = float(_special.chdtrc(len(idx), max(lr, 0.0))) if method == "ml" else math.nan
        wald_p = _term_wald_p(m, cand)
        chosen = lr_p if p_value == "lr" else wald_p
        rows.append({"candidate": cand, "df": len(idx), "n": m.n, "n_events": m.n_events,
                     "lr_p_value": lr_p, "wald_p_value": wald_p, "p_value": chosen,
                     "selected": bool(chosen <= threshold), "separation": m.separation})
        if m.separation and method == "ml":
            warn.append(f"{cand}: separation in the univariable model; its p-value is unreliable "
                        "(consider method='firth')")
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    selected = tuple(table.loc[table["selected"], "candidate"])
    multi = None
    epv = math.nan
    if selected:
        multi = logistic_regression(frame, outcome=outcome, covariates=list(selected),
                                    method=method, conf_level=conf_level)
        epv = multi.events_per_variable
        if epv < 10:
            warn.append(f"events per variable in the multivariable model = {epv:.3g} (< 10)")
    else:
        warn.append(f"no candidate has p <= {threshold:g}: no multivariable model")
    return ScreenResult(
        models=MappingProxyType(models),
        selected=selected,
        multivariable=multi,
        threshold=float(threshold),
        p_value_type=p_value,
        events_per_variable=epv,
        n=len(frame),
        n_dropped=dropped,
        method=MappingProxyType({"p_value": p_value, "threshold": float(threshold),
                                 "method": method, "common_sample": common_sample}),
        warnings=tuple(warn),
        _table=table,
    )
