"""The one synthetic data file every tool reads: n = 1e6 patients, three groups.

Times are exponential with hazards depending on the group and five normal covariates x1..x5,
censored by an independent exponential, rounded to 0.01 (like times in days from dates, so there
are ties); ``status`` splits the events into two competing causes (1 = relapse-like, 2 = death in
remission-like). Smaller n use the first n rows. Written once (seeded) to
``benchmarks/out/survival_1e6.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "out"
DATA_FILE = OUT / "survival_1e6_v2.csv"
N_MAX = 1_000_000


def make_data() -> Path:
    if DATA_FILE.exists():
        return DATA_FILE
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(20261123)
    group = rng.choice(np.array(["A", "B", "C"]), size=N_MAX, p=[0.4, 0.35, 0.25])
    x = np.round(rng.normal(size=(N_MAX, 5)), 4)
    rate = np.select([group == "A", group == "B"], [1 / 700, 1 / 500], 1 / 350)
    rate = rate * np.exp(x @ np.array([0.3, -0.2, 0.1, 0.0, 0.05]))
    death = rng.exponential(1 / rate)
    censor = rng.exponential(900, size=N_MAX)
    time = np.round(np.minimum(death, censor), 2) + 0.01
    event = (death <= censor).astype(np.int64)
    status = np.where(event == 1, rng.choice(np.array([1, 2]), size=N_MAX, p=[0.6, 0.4]), 0)
    frame = pd.DataFrame({"time": time, "event": event, "status": status, "group": group})
    for j in range(5):
        frame[f"x{j + 1}"] = x[:, j]
    frame.to_csv(DATA_FILE, index=False)
    return DATA_FILE


def load(n: int) -> pd.DataFrame:
    return pd.read_csv(DATA_FILE, nrows=n)
