"""Time one Python tool on one response task in this process; print JSON ``{"seconds": [...]}``.

Usage: python _response_worker.py TOOL TASK N REPEATS. TASK is ``logistic`` (5 covariates +
intercept, estimates with SEs) or ``fisher4x2`` / ``fisher3x4`` (exact p of the seed-sized
tables; N ignored). Loading the data is not timed. rrball's logistic run omits the profile CIs
(``profile=False``) because no peer computes them; the profile timing is a separate tool
``rrball+profile``.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np

from _response_data import COVARIATES, FISHER_TABLES, load


def task_fn(tool: str, task: str, n: int) -> Callable[[], object]:
    if task.startswith("fisher"):
        table = np.array(FISHER_TABLES[task])
        if tool == "rrball":
            from rrball.stats import fisher_exact_test
            return lambda: fisher_exact_test(table)
        raise SystemExit(f"no {tool} for {task}")
    d = load(n)
    if tool in ("rrball", "rrball+profile"):
        from rrball.stats import logistic_regression
        prof = tool == "rrball+profile"
        return lambda: logistic_regression(d, outcome="y", covariates=COVARIATES, profile=prof)
    X = np.column_stack([np.ones(n), d[COVARIATES].to_numpy(dtype=float)])
    y = d["y"].to_numpy(dtype=float)
    if tool == "statsmodels":
        import statsmodels.api as sm

        def run_sm() -> object:
            res = sm.GLM(y, X, family=sm.families.Binomial()).fit()
            return res.params, res.bse
        return run_sm
    if tool == "scikit-learn":
        from sklearn.linear_model import LogisticRegression

        def run_sk() -> object:
            return LogisticRegression(penalty=None, tol=1e-8, max_iter=1000).fit(
                X[:, 1:], y).coef_
        return run_sk
    raise SystemExit(f"unknown tool {tool}")


def main() -> None:
    tool, task, n, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    warnings.simplefilter("ignore")
    run = task_fn(tool, task, n)
    run()  # warm-up
    secs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        secs.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": secs}))


if __name__ == "__main__":
    main()
