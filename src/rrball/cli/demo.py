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
    counting_process,
    cox_ph,
    cumulative_incidence,
    fine_gray,
    gray_test,
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
    # first event after transplant: 1 = relapse, 2 = death in remission (non-relapse mortality)
    data["first_event"] = 0
    data.loc[data["d1"].eq(1) & data["d2"].eq(0), "first_event"] = 2
    data.loc[data["d2"].eq(1), "first_event"] = 1
    data["patient"] = range(1, len(data) + 1)
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
    cif = cumulative_incidence(bmt["t2"], bmt["first_event"], group=bmt["disease"], levels=levels)
    at = cif.at([365, 730])
    at_text = at.assign(
        cause=at["cause"].map({1: "relapse", 2: "NRM"}),
        time=at["time"].astype(int),
        estimate=at["estimate"].round(3),
        lower=at["lower"].round(3),
        upper=at["upper"].round(3),
    )[["group", "cause", "time", "estimate", "lower", "upper"]].to_string(index=False)
    gray = gray_test(bmt["t2"], bmt["first_event"], bmt["disease"], levels=levels)
    yield "Relapse and non-relapse mortality (competing risks) at 1 and 2 years", (
        at_text + "\n\n" + gray.summary()
    )
    yield "Fine-Gray regression: relapse by disease group and patient age", fine_gray(
        bmt, time="t2", status="first_event", cause=1, covariates="factor(disease) + z1"
    ).summary()
    yield "Cox model: disease-free survival", cox_ph(
        bmt, time="t2", event="d3", covariates="factor(disease) + z1 + z8 + z10"
    ).summary()
    split = counting_process(bmt, id="patient", time="t2", event="d3",
                             time_varying={"platelets": ("tp", "dp"), "acute_gvhd": ("ta", "da")})
    td = cox_ph(split, start="tstart", time="tstop", event="d3",
                covariates="platelets + acute_gvhd + factor(disease)")
    yield "Cox model with time-dependent platelet recovery and acute GVHD", (
        td.summary() + "\n\n" + td.proportional_hazards_test().summary()
    )
