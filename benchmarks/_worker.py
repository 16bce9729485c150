"""Time one tool on one task in this process; print JSON ``{"seconds": [...]}``.

Usage: python _worker.py TOOL TASK N REPEATS. Loading the data is not timed; each tool does the
whole job a user would ask for (KM: every group's curve with its 95% CI; log-rank: the K-group
chi-square test).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from _data import load

COVARIATES = ["x1", "x2", "x3", "x4", "x5"]


def rrball_task(task: str, d: pd.DataFrame) -> Callable[[], object]:
    from rrball.stats import cox_ph, cumulative_incidence, gray_test, kaplan_meier, logrank_test

    t, e, g = d["time"].to_numpy(), d["event"].to_numpy(), d["group"].to_numpy()
    if task == "km":
        return lambda: kaplan_meier(t, e, group=g)
    if task == "cox":
        return lambda: cox_ph(d, time="time", event="event", covariates=COVARIATES)
    if task == "cif":
        s = d["status"].to_numpy()

        def run() -> object:
            return cumulative_incidence(t, s, group=g), gray_test(t, s, g)
        return run
    return lambda: logrank_test(t, e, g)


def lifelines_task(task: str, d: pd.DataFrame) -> Callable[[], object]:
    from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    t, e, g = d["time"].to_numpy(), d["event"].to_numpy(), d["group"].to_numpy()
    if task == "cox":
        frame = d[["time", "event", *COVARIATES]]
        return lambda: CoxPHFitter().fit(frame, duration_col="time", event_col="event")
    if task == "cif":
        s = d["status"].to_numpy()

        def run_cif() -> object:
            # lifelines has no Gray test; CIF per group and cause (it jitters tied times)
            return [AalenJohansenFitter(calculate_variance=True).fit(t[g == k], s[g == k], c)
                    for k in np.unique(g) for c in (1, 2)]
        return run_cif
    if task == "km":
        def run() -> object:
            return [KaplanMeierFitter().fit(t[g == k], e[g == k]) for k in np.unique(g)]
        return run
    return lambda: multivariate_logrank_test(t, g, e)


def statsmodels_task(task: str, d: pd.DataFrame) -> Callable[[], object]:
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    t, e, g = d["time"].to_numpy(), d["event"].to_numpy(), d["group"].to_numpy()
    if task == "cox":
        xx = d[COVARIATES].to_numpy()
        return lambda: PHReg(t, xx, status=e, ties="efron").fit()
    if task == "cif":
        raise SystemExit("statsmodels has no cumulative incidence estimator")
    if task == "km":
        def run() -> object:
            # SurvfuncRight computes S(t) and its Greenwood SE on construction
            return [SurvfuncRight(t[g == k], e[g == k]) for k in np.unique(g)]
        return run
    return lambda: survdiff(t, e, g)


def sksurv_task(task: str, d: pd.DataFrame) -> Callable[[], object]:
    from sksurv.compare import compare_survival
    from sksurv.linear_model import CoxPHSurvivalAnalysis
    from sksurv.nonparametric import cumulative_incidence_competing_risks, kaplan_meier_estimator
    from sksurv.util import Surv

    t, e, g = d["time"].to_numpy(), d["event"].to_numpy().astype(bool), d["group"].to_numpy()
    if task == "cox":
        yy = Surv.from_arrays(e, t)
        xx = d[COVARIATES]
        return lambda: CoxPHSurvivalAnalysis(ties="efron").fit(xx, yy)
    if task == "cif":
        s = d["status"].to_numpy()

        def run_cif() -> object:
            return [cumulative_incidence_competing_risks(s[g == k], t[g == k], conf_type="log-log")
                    for k in np.unique(g)]
        return run_cif
    if task == "km":
        def run() -> object:
            return [
                kaplan_meier_estimator(e[g == k], t[g == k], conf_type="log-log")
                for k in np.unique(g)
            ]
        return run
    y = Surv.from_arrays(e, t)
    return lambda: compare_survival(y, g)


TOOLS = {
    "rrball": rrball_task,
    "lifelines": lifelines_task,
    "statsmodels": statsmodels_task,
    "scikit-survival": sksurv_task,
}


def main() -> None:
    tool, task, n, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    warnings.simplefilter("ignore")
    d = load(n)
    fn = TOOLS[tool](task, d)
    fn()  # warm-up (imports, caches), not timed
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
