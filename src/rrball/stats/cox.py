"""Cox proportional-hazards regression (partial likelihood; Efron or Breslow ties).

Equivalent R: ``survival::coxph(Surv(time, event) ~ x1 + x2 + strata(s), ties = "efron")``, with
``Surv(start, stop, event)`` for time-dependent covariates, ``robust = TRUE`` / ``cluster = id`` for
the sandwich variance, and ``cox.zph(fit, transform = )`` for the proportional-hazards test.
Checked against R on lung, veteran, gehan and KMsurv bmt (incl. time-dependent covariates built
like ``tmerge``) in ``tests/stats/test_cox.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import special as _special

from rrball._format import format_p, format_table
from rrball._result import ResultMixin, frozen_array, json_safe
from rrball._validate import (
    FloatArray,
    IntArray,
    as_event,
    as_groups,
    as_time,
    check_choice,
    check_conf_level,
)
from rrball.errors import InputError
from rrball.stats._ci import z_value
from rrball.stats._concordance import Concordance, concordance
from rrball.stats._cox_engine import (
    RiskStructure,
    build_risk_structure,
    evaluate,
    score_residuals,
)
from rrball.stats._design import model_matrix, positions_in
from rrball.stats._km_core import product_limit
from rrball.stats._newton import estimable_columns, maximise, safe_inverse
from rrball.stats._risk_sets import merge_near_ties

__all__ = ["CoxResult", "PHTestResult", "TestStatistic", "cox_ph"]

TIES = ("efron", "breslow")
ZPH_TRANSFORMS = ("km", "rank", "identity")


@dataclass(frozen=True, slots=True)
class TestStatistic:
    """A chi-square test: ``statistic``, ``df``, ``p_value``."""

    statistic: float
    df: int
    p_value: float


def _chisq(statistic: float, df: int) -> TestStatistic:
    p = float(_special.chdtrc(df, statistic)) if df > 0 and np.isfinite(statistic) else np.nan
    return TestStatistic(float(statistic), int(df), p)


@dataclass(frozen=True, slots=True, kw_only=True)
class PHTestResult(ResultMixin):
    """Test of proportional hazards per term and GLOBAL (R ``cox.zph``).

    ``table`` columns: ``term, statistic, df, p_value``.
    """

    transform: str
    method: Mapping[str, object]
    _table: pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return dict(json_safe({"transform": self.transform, "method": dict(self.method),
                               "table": self._table.to_dict(orient="list")}))

    def summary(self) -> str:
        rows = [[str(r.term), f"{r.statistic:.4g}", str(r.df), format_p(r.p_value)]
                for r in self._table.itertuples()]
        return "\n".join([
            f"Test of proportional hazards (score test, g(t) = {self.transform})",
            "",
            format_table(["", "chisq", "df", "p"], rows),
            f"Equivalent R: cox.zph(fit, transform = \"{self.transform}\")",
        ])


@dataclass(frozen=True, slots=True, kw_only=True)
class CoxResult(ResultMixin):
    """A fitted Cox model.

    ``table`` columns: ``term, coef, exp_coef, se, robust_se (robust fits only), z, p_value,
    lower, upper`` (Wald CI on the hazard-ratio scale; with a robust variance z, p and the CI use
    the robust SE, as R's ``summary.coxph``). ``var`` is the variance matrix used for inference
    (robust when requested), ``naive_var`` the model-based one.
    """

    terms: tuple[str, ...]
    coef: FloatArray
    var: FloatArray
    naive_var: FloatArray
    loglik: tuple[float, float]
    tests: Mapping[str, TestStatistic]
    n: int
    n_events: int
    iterations: int
    converged: bool
    conf_level: float
    ties: str
    robust: bool
    method: Mapping[str, object]
    warnings: tuple[str, ...]
    references: Mapping[str, object]
    _table: pd.DataFrame = field(repr=False)
    _x: FloatArray = field(repr=False)
    _assign: tuple[str, ...] = field(repr=False)
    _rs: RiskStructure = field(repr=False)
    _stop: FloatArray = field(repr=False)
    _start: FloatArray | None = field(repr=False)
    _event: Any = field(repr=False)
    _estimable: IntArray = field(repr=False)
    _concordance_inputs: tuple[Any, ...] | None = field(repr=False)
    _cache: dict[str, Any] = field(repr=False, default_factory=dict, compare=False)

    @property
    def concordance(self) -> Concordance | None:
        """Harrell's C with its infinitesimal-jackknife SE (R ``coxph()$concordance``).

        Counting the comparable pairs is the costliest step of a large fit, and many analyses
        never look at C, so it is computed on first access (from data kept in the result) and
        then cached; None when the fit was made with ``compute_concordance=False``.
        """
        if self._concordance_inputs is None:
            return None
        if "value" not in self._cache:
            self._cache["value"] = concordance(*self._concordance_inputs)
        value: Concordance = self._cache["value"]
        return value

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return dict(json_safe({
            "table": self._table.to_dict(orient="list"),
            "var": self.var.tolist(),
            "loglik": list(self.loglik),
            "tests": {k: {"statistic": t.statistic, "df": t.df, "p_value": t.p_value}
                      for k, t in self.tests.items()},
            "concordance": None if self.concordance is None else {
                "concordance": self.concordance.concordance,
                "std_err": self.concordance.std_err},
            "n": self.n, "n_events": self.n_events, "iterations": self.iterations,
            "converged": self.converged, "method": dict(self.method),
            "warnings": list(self.warnings),
        }))

    def summary(self) -> str:
        pct = f"{round(self.conf_level * 100)}%"
        t = self._table
        header = ["", "coef", "exp(coef)", "se(coef)"]
        if self.robust:
            header.append("robust se")
        header += ["z", "Pr(>|z|)", f"lower {pct}", f"upper {pct}"]
        rows = []
        for r in t.itertuples():
            row = [str(r.term), f"{r.coef:.4g}", f"{r.exp_coef:.4g}", f"{r.se:.4g}"]
            if self.robust:
                row.append(f"{r.robust_se:.4g}")
            row += [f"{r.z:.3f}", format_p(r.p_value), f"{r.lower:.4g}", f"{r.upper:.4g}"]
            rows.append(row)
        lr, wd, sc = (self.tests[k] for k in ("likelihood_ratio", "wald", "score"))
        lines = [
            f"Cox proportional hazards ({self.ties} ties)"
            + (f", stratified by {self.method['strata']}" if self.method.get("strata") else ""),
            f"  n = {self.n}, number of events = {self.n_events}",
            "",
            format_table(header, rows),
            "",
        ]
        if self.concordance is not None:
            c = self.concordance
            lines.append(f"Concordance = {c.concordance:.3f}  (se = {c.std_err:.3f})")
        for label, test in (("Likelihood ratio test", lr), ("Wald test", wd),
                            ("Score (logrank) test", sc)):
            lines.append(f"{label:<22}= {test.statistic:.2f}  on {test.df} df,   "
                         f"p = {format_p(test.p_value)}"
                         + ("  (robust)" if self.robust and test is wd else ""))
        for ref_col, ref in self.references.items():
            lines.append(f"Reference level of {ref_col}: {ref!r}")
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"CoxResult(terms={len(self.terms)}, n={self.n}, events={self.n_events}, "
                f"ties={self.ties!r}, converged={self.converged})")

    def proportional_hazards_test(self, transform: str = "km") -> PHTestResult:
        """Score test of each term's coefficient being constant in g(t) (R ``cox.zph``).

        For each term, the score test of adding ``x * g(t)`` to the fitted model: the score is
        the sum over event times of g(t) times the Schoenfeld residuals, and its variance the
        efficient information of the added terms given the fitted ones. ``transform``: ``"km"``
        (g = 1 - pooled Kaplan-Meier just before t), ``"rank"`` (rank of the event time) or
        ``"identity"`` (t). ``"rank"`` ranks event times among all observed times (ties
        averaged) and ``"km"`` uses the Kaplan-Meier of the fitted data (with delayed entry for
        counting-process data) — both as R's ``cox.zph`` does, checked on its outputs.
        """
        check_choice(transform, ZPH_TRANSFORMS, "transform")
        rs = self._rs
        x = self._x
        ev = evaluate(rs, x, self.coef[self._estimable])
        k_time = np.empty(rs.n_times)
        k_time[rs.ev_k] = self._stop[rs.ev_rows]
        if transform == "identity":
            g = k_time
        elif transform == "rank":
            # average rank of the event time among all observed (stop) times, as R's cox.zph
            all_t = np.sort(self._stop)
            lo = np.searchsorted(all_t, k_time, side="left")
            hi = np.searchsorted(all_t, k_time, side="right")
            g = (lo + hi + 1) / 2.0
        else:
            codes = np.zeros(self._stop.size, dtype=np.intp)
            curve = product_limit(self._stop, self._event, codes, 1, self._start)
            idx = np.searchsorted(curve.time, k_time, side="left") - 1
            g = 1.0 - np.where(idx >= 0, curve.surv[np.maximum(idx, 0)], 1.0)
        gr = g[rs.rep_k]
        resid_rows = x[rs.ev_rows]
        u_gamma = (g[rs.ev_k][:, None] * resid_rows).sum(axis=0) - (gr[:, None] * ev.a).sum(axis=0)

        def weighted_info(weight_rows: FloatArray) -> FloatArray:
            per_time = np.bincount(rs.rep_k, weights=weight_rows / ev.den, minlength=rs.n_times)
            per_time2 = np.bincount(rs.rep_k, weights=weight_rows * rs.frac / ev.den,
                                    minlength=rs.n_times)
            cum = np.concatenate(([0.0], np.cumsum(per_time)))
            h = cum[rs.p_stop] - cum[rs.p_start]
            h[rs.ev_rows] -= per_time2[rs.ev_k]
            risk_part = (x * (ev.v * h)[:, None]).T @ x
            out: FloatArray = risk_part - (ev.a * weight_rows[:, None]).T @ ev.a
            return out

        i_bb = weighted_info(np.ones(rs.rep_k.size))
        i_bg = weighted_info(gr)
        i_gg = weighted_info(gr**2)
        eff = i_gg - i_bg.T @ np.linalg.solve(i_bb, i_bg)
        assign = [self._assign[j] for j in self._estimable]
        terms = list(dict.fromkeys(assign))
        rows = []
        for term in terms:
            cols = [j for j, a in enumerate(assign) if a == term]
            u = u_gamma[cols]
            stat = float(u @ np.linalg.solve(eff[np.ix_(cols, cols)], u))
            t = _chisq(stat, len(cols))
            rows.append((term, t.statistic, t.df, t.p_value))
        glob = _chisq(float(u_gamma @ np.linalg.solve(eff, u_gamma)), len(assign))
        rows.append(("GLOBAL", glob.statistic, glob.df, glob.p_value))
        return PHTestResult(
            transform=transform,
            method=MappingProxyType({"test": "score test for x * g(t)", "transform": transform}),
            _table=pd.DataFrame(rows, columns=["term", "statistic", "df", "p_value"]),
        )


def _quadratic(v: FloatArray, matrix: FloatArray) -> float:
    """v' M^-1 v; NaN when M is singular or not finite."""
    try:
        if not np.all(np.isfinite(matrix)):
            return float("nan")
        return float(v @ np.linalg.solve(matrix, v))
    except np.linalg.LinAlgError:
        return float("nan")


def _column(data: pd.DataFrame, name: str | None, argument: str) -> pd.Series | None:
    if name is None:
        return None
    if not isinstance(name, str) or name not in data.columns:
        raise InputError(argument, f"{name!r} is not a column of data")
    return data[name]


def cox_ph(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: str | Sequence[str],
    start: str | None = None,
    strata: str | None = None,
    ties: str = "efron",
    robust: bool = False,
    cluster: str | None = None,
    conf_level: float = 0.95,
    timefix: bool = True,
    max_iter: int = 100,
    compute_concordance: bool = True,
) -> CoxResult:
    """Fit a Cox proportional-hazards model.

    Parameters
    ----------
    data:
        One row per subject (or per (start, stop] interval with ``start``).
    time, event:
        Column names of the (stop) time and the 0/1 event indicator.
    covariates:
        Column names, or an additive R-style right-hand side (``"age + sex + factor(group)"``).
        Text / categorical columns become treatment-contrast dummies against their first level
        (sorted labels, or the order of a pandas Categorical), named like R (``celltypeadeno``).
    start:
        Column of interval start times: counting-process data for time-dependent covariates
        (see ``counting_process``).
    strata:
        Column whose levels get separate baseline hazards.
    ties:
        ``"efron"`` (R's default) or ``"breslow"``.
    robust, cluster:
        Sandwich variance from dfbeta residuals (``cluster``: summed within clusters, e.g.
        patient id with several rows, or matched pairs). Wald tests and CIs then use it.
    conf_level:
        Level of the hazard-ratio confidence intervals.

    Notes
    -----
    Rows with a missing value in any column used are dropped (listed in ``warnings``). Aliased
    (collinear) columns get NaN coefficients, as R. Non-convergence and coefficients drifting to
    infinity (monotone likelihood, e.g. no events in one category) are reported in ``warnings``
    and ``converged``; such estimates are not meaningful (consider Firth's penalised likelihood).
    Equivalent R: ``coxph(Surv(start, time, event) ~ covariates + strata(s), ties = ties,
    robust = robust, cluster = cluster)``.
    """
    check_choice(ties, TIES, "ties")
    level = check_conf_level(conf_level)
    if not isinstance(data, pd.DataFrame):
        raise InputError("data", "must be a pandas DataFrame")
    required = [c for c in (time, event, start, strata, cluster) if c is not None]
    for name, arg in ((time, "time"), (event, "event"), (start, "start"), (strata, "strata"),
                      (cluster, "cluster")):
        _column(data, name, arg)
    design = model_matrix(data, covariates, required=required)
    warnings: list[str] = []
    if design.dropped.size:
        shown = ", ".join(str(i) for i in design.dropped[:10])
        more = f" and {design.dropped.size - 10} more" if design.dropped.size > 10 else ""
        warnings.append(
            f"{design.dropped.size} row(s) with missing values dropped (0-based rows {shown}{more})"
        )
    rows = design.kept
    sub = data.iloc[rows]
    st: FloatArray | None = None
    with positions_in(rows):
        stop = as_time(sub[time], time)
        ev = as_event(sub[event], stop.size, event)
        if start is not None:
            st = as_time(sub[start], start, allow_negative=True)
    if timefix:
        fixed = merge_near_ties(stop) if st is None else merge_near_ties(stop, st)
        stop = fixed.arrays[0]
        if st is not None:
            st = fixed.arrays[1]
        if (note := fixed.note()) is not None:
            warnings.append(note)
    if st is not None:
        bad = np.flatnonzero(st >= stop)
        if bad.size:
            raise InputError(start, "must be strictly before the stop time",  # type: ignore[arg-type]
                             rows[bad])
    if not ev.any():
        raise InputError(event, "has no events: the model cannot be fitted")
    if strata is not None:
        sg = as_groups(sub[strata], stop.size, strata)
        s_codes, n_strata, s_labels = sg.codes, sg.k, sg.labels
    else:
        s_codes, n_strata, s_labels = np.zeros(stop.size, dtype=np.intp), 1, ("all",)
    # work in (stratum, stop) order: risk-set sums are then plain reverse cumulative sums
    perm = np.lexsort((stop, s_codes))
    stop, ev, s_codes = stop[perm], ev[perm], s_codes[perm]
    if st is not None:
        st = st[perm]
    x_full = design.matrix[perm]
    means = x_full.mean(axis=0)
    xc = x_full - means
    est, aliased = estimable_columns(xc, design.columns)
    if aliased:
        warnings.append(f"collinear or constant column(s) {aliased!r}: not estimable (NaN)")
    if est.size == 0:
        raise InputError(
            "covariates", "no estimable column: every covariate is constant or collinear"
        )
    x = xc[:, est]
    rs = build_risk_structure(stop, ev, s_codes, n_strata, st, ties)
    ev0 = evaluate(rs, x, np.zeros(x.shape[1]))
    outcome, fit = maximise(lambda b: evaluate(rs, x, b), x.shape[1], max_iter)
    beta, iterations, converged = outcome.beta, outcome.iterations, outcome.converged
    if outcome.note:
        warnings.append(outcome.note)
    drifting = [design.columns[est[j]] for j in outcome.drifting]
    if drifting:
        warnings.append(
            f"coefficient(s) {drifting!r} may be infinite (monotone likelihood: the likelihood "
            "keeps rising as they grow); their estimates, SEs, tests and CIs are not meaningful "
            "and are not reported (consider Firth's penalised likelihood)"
        )
    inverse = safe_inverse(fit.information)
    naive = inverse if inverse is not None else np.full((x.shape[1], x.shape[1]), np.nan)
    var = naive
    cl_codes: IntArray | None = None
    if cluster is not None:
        cl_codes = as_groups(sub[cluster], stop.size, cluster).codes[perm]
    use_robust = robust or cluster is not None
    robust_score: TestStatistic | None = None
    if use_robust:
        dfbeta = score_residuals(rs, x, fit) @ naive
        if cl_codes is not None:
            dfbeta = np.column_stack(
                [np.bincount(cl_codes, weights=dfbeta[:, j]) for j in range(dfbeta.shape[1])]
            )
        var = dfbeta.T @ dfbeta
        r0 = score_residuals(rs, x, ev0)
        if cl_codes is not None:
            r0 = np.column_stack(
                [np.bincount(cl_codes, weights=r0[:, j]) for j in range(r0.shape[1])]
            )
        robust_score = _chisq(_quadratic(ev0.score, r0.T @ r0), beta.size)
    p_full = x_full.shape[1]
    coef_full = np.full(p_full, np.nan)
    coef_full[est] = beta
    se_naive = np.full(p_full, np.nan)
    se_naive[est] = np.sqrt(np.diag(naive))
    se_used = np.full(p_full, np.nan)
    se_used[est] = np.sqrt(np.diag(var))
    infinite = np.zeros(p_full, dtype=np.bool_)
    infinite[est[outcome.drifting]] = True
    se_used[infinite] = np.nan  # no Wald inference for a coefficient running to infinity
    z = coef_full / se_used
    zq = z_value(level)
    with np.errstate(over="ignore"):  # a drifting (infinite) coefficient gives an infinite limit
        lower, upper = np.exp(coef_full - zq * se_used), np.exp(coef_full + zq * se_used)
        exp_coef = np.exp(coef_full)
    table = pd.DataFrame({
        "term": list(design.columns),
        "coef": coef_full,
        "exp_coef": exp_coef,
        "se": se_naive,
        **({"robust_se": se_used} if use_robust else {}),
        "z": z,
        "p_value": 2.0 * _special.ndtr(-np.abs(z)),
        "lower": lower,
        "upper": upper,
        "infinite": infinite,
    })
    df = int(beta.size)
    tests = MappingProxyType({
        "likelihood_ratio": _chisq(2.0 * (fit.loglik - ev0.loglik), df),
        "wald": _chisq(np.nan if infinite.any() else _quadratic(beta, var), df),
        "score": _chisq(_quadratic(ev0.score, ev0.information), df),
        **({"robust_score": robust_score} if robust_score is not None else {}),
    })
    conc_inputs = ((stop, ev, x @ beta, s_codes, n_strata, st, cl_codes)
                   if compute_concordance else None)
    terms_rhs = " + ".join(
        f"factor({c})" if c in design.references else c for c in dict.fromkeys(design.assign)
    )
    lhs = f"Surv({start}, {time}, {event})" if start else f"Surv({time}, {event})"
    extra = f" + strata({strata})" if strata else ""
    opts = f', ties = "{ties}"' + (", robust = TRUE" if robust else "") + (
        f", cluster = {cluster}" if cluster else "") + (
        ", control = coxph.control(eps = 1e-13, toler.chol = 1e-15)")
    method = MappingProxyType({
        "model": "cox proportional hazards",
        "ties": ties,
        "variance": "robust (sandwich)" if use_robust else "model-based (inverse information)",
        "ci": "Wald, exp scale",
        "conf_level": level,
        "timefix": timefix,
        "strata": strata,
        "strata_levels": tuple(s_labels),
        "cluster": cluster,
        "r_call": f"coxph({lhs} ~ {terms_rhs}{extra}{opts})",
    })
    var_full = np.full((p_full, p_full), np.nan)
    var_full[np.ix_(est, est)] = var
    naive_full = np.full((p_full, p_full), np.nan)
    naive_full[np.ix_(est, est)] = naive
    return CoxResult(
        terms=design.columns,
        coef=frozen_array(coef_full),
        var=frozen_array(var_full),
        naive_var=frozen_array(naive_full),
        loglik=(ev0.loglik, fit.loglik),
        tests=tests,
        n=int(stop.size),
        n_events=int(ev.sum()),
        iterations=iterations,
        converged=converged,
        conf_level=level,
        ties=ties,
        robust=use_robust,
        method=method,
        warnings=tuple(warnings),
        references=MappingProxyType(dict(design.references)),
        _table=table,
        _x=x,
        _assign=design.assign,
        _rs=rs,
        _stop=stop,
        _start=st,
        _event=ev,
        _estimable=est,
        _concordance_inputs=conc_inputs,
    )
