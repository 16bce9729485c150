"""The demo job: a survival analysis of a public transplant cohort, printed as readable summaries.

Data: Klein & Moeschberger's bone-marrow-transplant cohort (R package KMsurv, ``bmt``; 137
patients: ALL, AML low risk, AML high risk), embedded in the package as the same bytes the tests
use. Later issues grow this into the full study report.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources

import pandas as pd

from rrball.stats import (
    kaplan_meier,
    landmark,
    logrank_test,
    median_follow_up,
    restricted_mean_survival_time,
)

DISEASE = {1: "ALL", 2: "AML low risk", 3: "AML high risk"}


def load_bmt() -> pd.DataFrame:
    """The embedded KMsurv ``bmt`` table with a readable disease-group column."""
    with resources.files("rrball").joinpath("data/bmt.csv").open("r", encoding="utf-8") as fh:
        data = pd.read_csv(fh)
    data["disease"] = data["group"].map(DISEASE)
    return data


def demo_sections() -> Iterator[tuple[str, str]]:
    """(title, text) pairs of the demo report, computed from the embedded data."""
    bmt = load_bmt()
    levels = list(DISEASE.values())
    os_km = kaplan_meier(bmt["t1"], bmt["d1"], group=bmt["disease"], levels=levels)
    yield "Overall survival by disease group (days from transplant)", os_km.summary()
    at = os_km.at([365, 730])
    at_text = at.assign(
        time=at["time"].astype(int),
        surv=at["surv"].round(3),
        lower=at["lower"].round(3),
        upper=at["upper"].round(3),
    )[["group", "time", "n_risk", "surv", "lower", "upper"]].to_string(index=False)
    yield "Overall survival at 1 and 2 years", at_text
    yield "Log-rank test, overall survival", logrank_test(
        bmt["t1"], bmt["d1"], bmt["disease"], levels=levels
    ).summary()
    dfs = kaplan_meier(bmt["t2"], bmt["d3"], group=bmt["disease"], levels=levels)
    yield "Disease-free survival by disease group", dfs.summary()
    yield "Disease-free survival, Peto & Peto test (rho = 1)", logrank_test(
        bmt["t2"], bmt["d3"], bmt["disease"], rho=1, levels=levels
    ).summary()
    yield "Restricted mean overall survival, first 2 years", restricted_mean_survival_time(
        bmt["t1"], bmt["d1"], tau=730, group=bmt["disease"], levels=levels
    ).summary()
    yield "Median follow-up", median_follow_up(bmt["t1"], bmt["d1"]).summary()
    lm = landmark(bmt, landmark=100, time="t1", event="d1",
                  covariates_at_landmark={"platelets_by_day100": ("tp", "dp")})
    lm_data = lm.data
    lm_test = logrank_test(lm_data["t1"], lm_data["d1"], lm_data["platelets_by_day100"])
    yield "Landmark at day 100: overall survival by platelet recovery by day 100", (
        lm.summary() + "\n\n" + lm_test.summary()
    )
