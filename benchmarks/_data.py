"""The one synthetic data file every tool reads: n = 1e6 patients, three groups.

Times are exponential with group-specific hazards, censored by an independent exponential,
rounded to 0.01 (like times in days from dates, so there are ties); smaller n use the first n
rows. Written once (seeded) to ``benchmarks/out/survival_1e6.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "out"
DATA_FILE = OUT / "survival_1e6.csv"
N_MAX = 1_000_000


def make_data() -> Path:
    if DATA_FILE.exists():
        return DATA_FILE
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(20261123)
    group = rng.choice(np.array(["A", "B", "C"]), size=N_MAX, p=[0.4, 0.35, 0.25])
    rate = np.select([group == "A", group == "B"], [1 / 700, 1 / 500], 1 / 350)
    death = rng.exponential(1 / rate)
    censor = rng.exponential(900, size=N_MAX)
    time = np.round(np.minimum(death, censor), 2) + 0.01
    event = (death <= censor).astype(np.int64)
    pd.DataFrame({"time": time, "event": event, "group": group}).to_csv(DATA_FILE, index=False)
    return DATA_FILE


def load(n: int) -> pd.DataFrame:
    return pd.read_csv(DATA_FILE, nrows=n)
