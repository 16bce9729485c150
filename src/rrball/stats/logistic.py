"""Binary logistic regression: maximum likelihood or Firth's penalised likelihood, Wald and
profile-likelihood odds-ratio CIs, and a separation check.

Equivalent R: ``glm(y ~ x, family = binomial)`` with ``confint.default`` (Wald) and
``MASS::confint.glm`` (profile likelihood); ``method = "firth"``: ``glm(..., method =
"brglmFit", type = "AS_mean")`` from brglm2. Checked against R on the Bioconductor ``ALL``
phenotype table in ``tests/stats/test_logistic.py``.
"""

from __future__ import annotations

import math
import warnings as _warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special as _special

from rrball._format import format_number, format_p, format_table
from rrball._result import ResultMixin, frozen_array, json_safe
from rrball._validate import check_choice, check_conf_level
from rrball.errors import InputError
from rrball.stats import _logistic_core as core

__all__ = ["LogisticResult", "logistic_regression"]

TABLE_COLUMNS = (
    "term", "coef", "se", "z", "p_value", "odds_ratio", "or_lower", "or_upper",
    "or_profile_lower", "or_profile_upper", "infinite_ml",
)
METHODS = ("ml", "firth")
ENGINES = ("rrball", "statsmodels")


@dataclass(frozen=True, slots=True, kw_only=True)
class LogisticResult(ResultMixin):
    """A fitted binary logistic regression.

    ``.table`` columns: ``term, coef, se, z, p_value, odds_ratio, or_lower, or_upper`` (Wald:
    exp(coef -/+ z_{1-alpha/2} se), R ``confint.default``) and ``or_profile_lower,
    or_profile_upper`` (profile likelihood, the exact roots that ``MASS::confint.glm``
    approximates; for Firth the profile *penalised* likelihood), plus ``infinite_ml`` (True for
    terms whose ML estimate is infinite under separation). ``separation`` is True when complete
    or quasi-complete separation was detected: ML estimates, SEs and Wald tests of the model are
    then not meaningful (use ``method="firth"``).
    """

    terms: tuple[str, ...]
    coef: npt.NDArray[np.float64]
    se: npt.NDArray[np.float64]
    vcov: npt.NDArray[np.float64]
    deviance: float
    null_deviance: float
    aic: float
    loglik: float
    penalized_loglik: float | None
    n: int
    n_events: int
    n_dropped: int
    df_residual: int
    iterations: int
    converged: bool
    separation: bool
    separation_kind: str | None
    separated_terms: tuple[str, ...]
    outcome: str
    covariates: tuple[str, ...]
    term_columns: Mapping[str, tuple[str, ...]]
    references: Mapping[str, Hashable]
    conf_level: float
    method: Mapping[str, object]
    warnings: tuple[str, ...] = field(default=())
    _table: pd.DataFrame = field(repr=False)

    @property
    def table(self) -> pd.DataFrame:
        return self._table.copy()

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (``TABLE_COLUMNS``), numbers as numbers."""
        return self.table

    @property
    def events_per_variable(self) -> float:
        """min(events, non-events) / number of coefficients besides the intercept."""
        k = len(self.terms) - 1
        return math.inf if k == 0 else min(self.n_events, self.n - self.n_events) / k

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "table": self._table.to_dict(orient="list"),
                    "vcov": self.vcov.tolist(),
                    "deviance": self.deviance, "null_deviance": self.null_deviance,
                    "aic": self.aic, "loglik": self.loglik,
                    "penalized_loglik": self.penalized_loglik, "n": self.n,
                    "n_events": self.n_events, "n_dropped": self.n_dropped,
                    "df_residual": self.df_residual, "iterations": self.iterations,
                    "converged": self.converged, "separation": self.separation,
                    "separation_kind": self.separation_kind,
                    "separated_terms": list(self.separated_terms), "outcome": self.outcome,
                    "covariates": list(self.covariates),
                    "references": {k: v for k, v in self.references.items()},
                    "conf_level": self.conf_level, "method": dict(self.method),
                    "warnings": list(self.warnings),
                }
            )
        )

    def summary(self) -> str:
        t = self._table
        firth = self.method["method"] == "firth"
        head = ("Logistic regression, Firth's penalised likelihood (brglm2 AS_mean)" if firth
                else "Logistic regression (maximum likelihood, binomial logit)")
        lines = [head, f"Outcome: {self.outcome} (1 = event); n = {self.n}, events = "
                 f"{self.n_events}" + (f", {self.n_dropped} rows with missing values dropped"
                                       if self.n_dropped else ""), ""]
        rows = [
            [str(r.term), format_number(r.coef, 5), format_number(r.se, 5), format_number(r.z, 4),
             format_p(r.p_value)]
            for r in t.itertuples()
        ]
        lines.append(format_table(["", "Estimate", "Std. Error", "z value", "Pr(>|z|)"], rows))
        pct = f"{100 * self.conf_level:g}%"
        lines += ["", f"Odds ratios (Exp(B)) with {pct} CI (Wald; profile "
                  + ("penalised " if firth else "") + "likelihood):"]
        rows2 = [
            [str(r.term), format_number(r.odds_ratio, 4),
             f"{format_number(r.or_lower, 4)} - {format_number(r.or_upper, 4)}",
             f"{format_number(r.or_profile_lower, 4)} - {format_number(r.or_profile_upper, 4)}"]
            for r in t.itertuples() if r.term != "(Intercept)"
        ]
        lines.append(format_table(["", "Exp(B)", "Wald CI", "Profile CI"], rows2))
        lines += [
            "",
            f"Null deviance: {format_number(self.null_deviance, 6)} on {self.n - 1} df; "
            f"residual deviance: {format_number(self.deviance, 6)} on {self.df_residual} df",
            f"AIC: {format_number(self.aic, 6)}; log-likelihood: {format_number(self.loglik, 6)}"
            + (f"; penalised log-likelihood: {format_number(self.penalized_loglik, 6)}"
               if self.penalized_loglik is not None else ""),
            f"Iterations: {self.iterations}; converged: {self.converged}",
        ]
        if self.separation:
            lines.append(
                f"SEPARATION: {self.separation_kind} separation detected "
                f"(infinite ML estimate for {', '.join(self.separated_terms)})"
                + ("; ML estimates, SEs and Wald tests are not meaningful — refit with "
                   "method='firth'" if not firth else "; Firth estimates remain finite")
            )
        lines += [f"Note: {w}" for w in self.warnings]
        lines.append(f"Equivalent R: {self.method['r_call']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"LogisticResult(method={self.method['method']!r}, n={self.n}, "
            f"events={self.n_events}, terms={len(self.terms)}, separation={self.separation})"
        )


def _prepare(
    data: Any, outcome: str, covariates: Sequence[str]
) -> tuple[pd.DataFrame, npt.NDArray[np.float64], int]:
    if not isinstance(data, pd.DataFrame):
        raise InputError("data", f"must be a pandas DataFrame, got {type(data).__name__}")
    if not isinstance(outcome, str):
        raise InputError("outcome", f"must be a column name, got {outcome!r}")
    if outcome not in data.columns:
        raise InputError("outcome", f"column {outcome!r} is not in data")
    unknown = [c for c in covariates if c not in data.columns]
    if unknown:
        raise InputError("covariates", f"unknown column(s) {unknown!r}; data has "
                         f"{list(map(str, data.columns))!r}")
    if outcome in covariates:
        raise InputError("covariates", f"contains the outcome {outcome!r}")
    if len(set(covariates)) != len(covariates):
        raise InputError("covariates", "lists a column twice")
    frame = data[[outcome, *covariates]]
    complete = frame.notna().all(axis=1).to_numpy()
    dropped = int((~complete).sum())
    frame = frame.loc[complete].reset_index(drop=True)
    if len(frame) == 0:
        raise InputError("data", "has no complete rows for the outcome and covariates")
    raw = frame[outcome]
    positions = np.flatnonzero(complete)
    if raw.dtype == np.bool_:
        y = raw.to_numpy(dtype=np.float64)
    else:
        num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isin(num, (0.0, 1.0)))
        if bad.size:
            shown = ", ".join(repr(v) for v in pd.unique(raw.iloc[bad])[:5])
            raise InputError(
                "outcome", f"column {outcome!r} must be 0/1 (or boolean); found {shown}",
                positions[bad],
            )
        y = num
    return frame, y, dropped


def _formula(outcome: str, covariates: Sequence[str]) -> str:
    return f"{outcome} ~ {' + '.join(covariates) if covariates else '1'}"


def logistic_regression(
    data: Any,
    *,
    outcome: str,
    covariates: Sequence[str] | str,
    method: str = "ml",
    conf_level: float = 0.95,
    profile: bool = True,
    engine: str = "rrball",
) -> LogisticResult:
    """Fit a binary logistic regression and report odds ratios (SPSS "Exp(B)") with CIs.

    Parameters
    ----------
    data:
        DataFrame with one row per patient.
    outcome:
        Column coded 1 = event (e.g. complete remission) and 0 = no event (booleans accepted).
    covariates:
        Column names (or one ``"a + b"`` string). Numeric columns enter as they are; text,
        boolean and categorical columns are dummy-coded against their first level (sorted, or the
        categorical's order) like R's treatment contrasts; terms are named as R names them
        (``sexM``). Rows with a missing value in the outcome or a covariate are dropped (R's
        ``na.omit``) and counted in ``n_dropped`` and ``warnings``.
    method:
        ``"ml"`` maximum likelihood (R ``glm``) or ``"firth"`` (Firth's penalised likelihood,
        finite under separation; R brglm2 ``type = "AS_mean"``).
    conf_level:
        Level of the Wald and profile CIs.
    profile:
        Compute the profile-likelihood CIs (2 root searches per coefficient, each point a
        constrained refit). ``False`` leaves those columns NaN, for speed on very large data.
    engine:
        ``"rrball"`` (Newton/IRLS on X'WX, default) or ``"statsmodels"`` (statsmodels GLM IRLS,
        ML only; same estimates, several times slower for n >= 1e5).

    Notes
    -----
    ML: Newton-Raphson = IRLS for the logit link, started as R does (mu = (y + 1/2)/2), stopped
    when |dev - dev_old|/(|dev| + 0.1) < 1e-15 or the step is below 1e-12 — R's criterion at
    ``glm.control(epsilon = 1e-15)``. SE from the inverse Fisher information; z = coef/se;
    p = 2 Phi(-|z|). Wald OR CI: exp(coef -/+ z se). Profile CI: the b with
    D(b) - D(beta_hat) = chi2_{1, conf_level}, D(b) the deviance maximised over the other
    coefficients with this one fixed at b (MASS interpolates a spline through a grid of such
    points; rrball solves for the root). AIC = deviance + 2p (binary data).
    Firth: maximises l(beta) + 1/2 log|X'WX|; SE from the Fisher information at the estimate
    (as brglm2 ``summary``); profile CI from the penalised likelihood ratio (Heinze & Schemper
    2002). Separation: linear programme of Konis (2007), run when the ML fit shows fitted
    probabilities within 1e-8 of 0 or 1, no convergence, or |coef| > 15.
    Equivalent R: ``glm(outcome ~ covariates, family = binomial, control =
    glm.control(epsilon = 1e-15, maxit = 100))``; ``confint.default(fit)``;
    ``MASS::confint(fit)``; ``glm(..., method = "brglmFit", type = "AS_mean")``.
    """
    check_choice(method, METHODS, "method")
    check_choice(engine, ENGINES, "engine")
    level = check_conf_level(conf_level)
    if isinstance(covariates, str):
        covs = [c.strip() for c in covariates.split("+") if c.strip()]
    else:
        covs = list(covariates)
    if engine == "statsmodels" and method == "firth":
        raise InputError("engine", "statsmodels has no Firth regression; use engine='rrball'")
    frame, y, dropped = _prepare(data, outcome, covs)
    design = core.build_design(frame, covs)
    core.check_rank(design)
    X = design.X
    n, p = X.shape
    n_events = int(y.sum())
    warn: list[str] = []
    if dropped:
        warn.append(f"{dropped} row(s) with missing outcome or covariate dropped (complete-case "
                    "analysis, as R's na.omit)")
    if n_events in (0, n):
        only = "events" if n_events else "non-events"
        raise InputError("outcome", f"column {outcome!r} has only {only}: nothing to model")
    # ---- fit ------------------------------------------------------------------------------
    if method == "ml":
        fit = _fit_statsmodels(X, y, warn) if engine == "statsmodels" else core.fit_ml(X, y)
        pen: float | None = None
    else:
        fit = core.fit_firth(X, y)
        pen = core.penalized_loglik(X, y, fit.beta)
    beta = fit.beta
    mu = core._expit(fit.eta)
    w = mu * (1.0 - mu)
    vcov = core.information_inverse(X, w)
    se = np.sqrt(np.diag(vcov))
    deviance = -2.0 * fit.loglik
    ybar = n_events / n
    null_deviance = -2.0 * float(n_events * math.log(ybar) + (n - n_events) * math.log1p(-ybar))
    # ---- separation -----------------------------------------------------------------------
    ml_fit = fit if method == "ml" else core.fit_ml(X, y)
    ml_mu = core._expit(ml_fit.eta)
    suspicious = (
        not ml_fit.converged
        or bool(np.any(ml_mu < 1e-8))
        or bool(np.any(ml_mu > 1.0 - 1e-8))
        or bool(np.any(np.abs(ml_fit.beta) > 15.0))
    )
    kind: str | None = None
    sep_cols: tuple[int, ...] = ()
    if suspicious:
        kind, sep_cols = core.detect_separation(X, y)
    separation = kind is not None
    sep_terms = tuple(design.names[j] for j in sep_cols)
    if separation and method == "ml":
        warn.append(
            f"{kind} separation: the ML estimate is infinite for {', '.join(sep_terms)}; "
            "coefficients, SEs, Wald tests and CIs of this fit are not meaningful — use "
            "method='firth' (R: brglm2 / logistf)"
        )
    if not fit.converged:
        warn.append(f"the fit did not converge in {fit.iterations} iterations")
    # ---- tests and CIs --------------------------------------------------------------------
    with np.errstate(divide="ignore", invalid="ignore"):
        z = beta / se
    p_value = 2.0 * _special.ndtr(-np.abs(z))
    zq = float(_special.ndtri(0.5 + level / 2.0))
    crit = zq * zq
    prof = np.full((p, 2), np.nan)
    if profile:
        for j in range(p):
            if method == "ml" and separation:
                break
            prof[j] = _profile_term(X, y, j, beta, float(se[j]), crit, method, deviance, pen)
        if method == "ml" and separation:
            warn.append("profile-likelihood CIs not computed: the likelihood has no maximum "
                        "under separation")
    infinite = np.zeros(p, dtype=bool)
    with np.errstate(over="ignore"):
        or_wald = np.exp(beta), np.exp(beta - zq * se), np.exp(beta + zq * se)
        or_prof = np.exp(prof)
    infinite[list(sep_cols)] = True
    table = pd.DataFrame(
        {
            "term": list(design.names),
            "coef": beta,
            "se": se,
            "z": z,
            "p_value": p_value,
            "odds_ratio": or_wald[0],
            "or_lower": or_wald[1],
            "or_upper": or_wald[2],
            "or_profile_lower": or_prof[:, 0],
            "or_profile_upper": or_prof[:, 1],
            "infinite_ml": infinite,
        }
    )
    epv = min(n_events, n - n_events) / max(p - 1, 1)
    if p > 1 and epv < 10:
        warn.append(f"events per variable = {epv:.3g} (< 10): estimates may be unstable")
    formula = _formula(outcome, covs)
    r_call = (
        f"glm({formula}, family = binomial, control = glm.control(epsilon = 1e-15, maxit = 100))"
        if method == "ml" else
        f"glm({formula}, family = binomial, method = \"brglmFit\", type = \"AS_mean\")"
    )
    return LogisticResult(
        terms=design.names,
        coef=frozen_array(beta),
        se=frozen_array(se),
        vcov=frozen_array(vcov),
        deviance=deviance,
        null_deviance=null_deviance,
        aic=deviance + 2.0 * p,
        loglik=fit.loglik,
        penalized_loglik=pen,
        n=n,
        n_events=n_events,
        n_dropped=dropped,
        df_residual=n - p,
        iterations=fit.iterations,
        converged=fit.converged,
        separation=separation,
        separation_kind=kind,
        separated_terms=sep_terms,
        outcome=outcome,
        covariates=tuple(covs),
        term_columns=MappingProxyType(
            {k: tuple(design.names[i] for i in v) for k, v in design.term_columns.items()}
        ),
        references=MappingProxyType(dict(design.references)),
        conf_level=level,
        method=MappingProxyType(
            {"method": method, "engine": engine, "conf_level": level, "profile": profile,
             "ci": "wald + profile likelihood" if profile else "wald",
             "epsilon": core.EPSILON, "r_call": r_call}
        ),
        warnings=tuple(warn),
        _table=table,
    )


def _profile_term(
    X: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    j: int,
    beta: npt.NDArray[np.float64],
    se: float,
    crit: float,
    method: str,
    deviance: float,
    pen: float | None,
) -> tuple[float, float]:
    keep = np.arange(X.shape[1]) != j
    Xr = X[:, keep]
    xj = X[:, j]
    start = {"beta": beta.copy()}

    if method == "ml":
        def objective(b: float) -> float:
            f = core.fit_ml(Xr, y, offset=xj * b, start=start["beta"][keep])
            start["beta"][keep] = f.beta  # continuation: the next point starts here
            return -2.0 * f.loglik - deviance
    else:
        assert pen is not None

        def objective(b: float) -> float:
            f = core.fit_firth(X, y, fixed=(j, b), start=start["beta"])
            start["beta"] = f.beta
            return 2.0 * (pen - core.penalized_loglik(X, y, f.beta))

    return core.profile_limits(objective, float(beta[j]), se, crit)


def _fit_statsmodels(
    X: npt.NDArray[np.float64], y: npt.NDArray[np.float64], warn: list[str]
) -> core.Fit:
    import statsmodels.api as sm  # local: statsmodels is only needed for this engine

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        res = sm.GLM(y, X, family=sm.families.Binomial()).fit(
            maxiter=core.MAXIT, tol_criterion="deviance", atol=0.0, rtol=core.EPSILON,
            wls_method="lstsq",
        )
    for c in caught:
        warn.append(f"statsmodels: {c.message}")
    beta = np.asarray(res.params, dtype=np.float64)
    eta = X @ beta
    return core.Fit(beta, eta, core._loglik(eta, y), int(res.fit_history["iteration"]),
                    bool(res.converged))
