"""Synthetic logistic data shared by every tool: n = 1e6 rows, 5 covariates (3 continuous, one
binary, one 0/1/2 score), written once (seeded) to ``benchmarks/out/logistic_1e6.csv``; smaller
n use the first n rows. Also the seed-sized contingency tables for Fisher's test."""

from __future__ import annotations

import numpy as np
import pandas as pd

from _data import OUT

DATA_FILE = OUT / "logistic_1e6.csv"
N_MAX = 1_000_000
COVARIATES = ["x1", "x2", "x3", "x4", "x5"]
FISHER_TABLES = {
    "fisher4x2": [[30, 15], [40, 12], [50, 10], [20, 5]],          # 182 patients
    "fisher3x4": [[21, 8, 9, 0], [27, 5, 7, 15], [28, 4, 7, 6]],   # KMsurv bmt group x hospital
}


def make_data() -> None:
    if DATA_FILE.exists():
        return
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(20261123)
    x = rng.normal(size=(N_MAX, 3))
    x4 = rng.integers(0, 2, N_MAX)
    x5 = rng.integers(0, 3, N_MAX)
    eta = -0.4 + x @ np.array([0.5, -0.3, 0.2]) + 0.6 * x4 - 0.25 * x5
    y = (rng.random(N_MAX) < 1 / (1 + np.exp(-eta))).astype(np.int64)
    pd.DataFrame({"y": y, "x1": np.round(x[:, 0], 6), "x2": np.round(x[:, 1], 6),
                  "x3": np.round(x[:, 2], 6), "x4": x4, "x5": x5}).to_csv(DATA_FILE, index=False)


def load(n: int) -> pd.DataFrame:
    return pd.read_csv(DATA_FILE, nrows=n)
