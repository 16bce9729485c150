"""Shared public-data results and a full Report for the report-layer tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rrball.report.document import FigureItem, Report, Section
from rrball.report.figures import cif_plot, forest_plot, km_plot, response_bars, swimmer_plot
from rrball.report.tables import (
    table_from_cif_at,
    table_from_cox,
    table_from_km_at,
    table_from_km_median,
    table_from_logistic,
    table_from_proportions,
    table_from_table_one,
)
from rrball.stats import (
    cox_ph,
    cumulative_incidence,
    gray_test,
    kaplan_meier,
    logistic_regression,
    logrank_test,
    proportion_ci,
    table_one,
)

DATA = Path(__file__).resolve().parents[1] / "stats" / "data"


@pytest.fixture(scope="session")
def bmt() -> pd.DataFrame:
    return pd.read_csv(DATA / "bmt.csv")


@pytest.fixture(scope="session")
def bmt_competing() -> pd.DataFrame:
    df = pd.read_csv(DATA / "bmt_competing.csv")
    return df.assign(relapse=(df["status"] == 1).astype(int))


@pytest.fixture(scope="session")
def all_pheno() -> pd.DataFrame:
    return pd.read_csv(DATA / "all_pheno.csv")


@pytest.fixture(scope="session")
def response_counts() -> pd.DataFrame:
    """Hand-made counts by subgroup (CR, CRi, NR)."""
    return pd.DataFrame({"CR": [40, 30, 7], "CRi": [5, 3, 2], "NR": [10, 8, 8]},
                        index=["Ph+", "Ph−", "MLL"])


@pytest.fixture(scope="session")
def lanes() -> pd.DataFrame:
    """Two seed-002-like case histories and one short lane (days from first immunotherapy)."""
    return pd.DataFrame([
        {"patient": "Case 1", "kind": "treatment", "start": 0, "end": 28, "label": "Blinatumomab"},
        {"patient": "Case 1", "kind": "relapse", "start": 42},
        {"patient": "Case 1", "kind": "treatment", "start": 45, "end": 66, "label": "Inotuzumab"},
        {"patient": "Case 1", "kind": "response", "start": 66, "label": "CR MRD-neg"},
        {"patient": "Case 1", "kind": "hsct", "start": 87},
        {"patient": "Case 1", "kind": "ongoing", "start": 420},
        {"patient": "Case 2", "kind": "relapse", "start": 0},
        {"patient": "Case 2", "kind": "treatment", "start": 2, "end": 30, "label": "Blinatumomab"},
        {"patient": "Case 2", "kind": "response", "start": 30, "label": "CR MRD-pos"},
        {"patient": "Case 2", "kind": "relapse", "start": 300},
        {"patient": "Case 2", "kind": "treatment", "start": 310, "end": 400, "label": "Inotuzumab"},
        {"patient": "Case 2", "kind": "response", "start": 400, "label": "CR MRD-neg"},
        {"patient": "Case 2", "kind": "ongoing", "start": 460},
        {"patient": "Case 3", "kind": "treatment", "start": 0, "end": 21, "label": "Inotuzumab"},
        {"patient": "Case 3", "kind": "death", "start": 95},
    ])


@pytest.fixture(scope="session")
def report(bmt: pd.DataFrame, bmt_competing: pd.DataFrame, all_pheno: pd.DataFrame,
           response_counts: pd.DataFrame, lanes: pd.DataFrame) -> Report:
    """A report with every table builder and every figure, from public data."""
    km = kaplan_meier(bmt["t2"], bmt["d3"], group=bmt["group"])
    lr = logrank_test(bmt["t2"], bmt["d3"], bmt["group"])
    c = bmt_competing
    cif = cumulative_incidence(c["time"], c["status"], group=c["group"])
    gray = gray_test(c["time"], c["status"], c["group"])
    at_risk = kaplan_meier(c["time"], c["status"] > 0, group=c["group"])
    cox = cox_ph(c, time="time", event="relapse", covariates=["age", "sex", "fab", "mtx"])
    logit = logistic_regression(all_pheno, outcome="cr", covariates=["age", "sex"])
    t1 = table_one(all_pheno, by="sex", variables=["age", "mol_group", "cr"],
                   categorical=["cr"])
    props = {"Ph+": proportion_ci(45, 55), "Ph−": proportion_ci(33, 41),
             "MLL": proportion_ci(9, 17)}
    figures = (
        FigureItem(name="km_bmt", figure=km_plot(km, test=lr, xlabel="Days"),
                   caption="Disease-free survival by group (KMsurv bmt)",
                   notes=(f"n = {km.n_total}; log-rank p = {lr.p_value:.3g}",)),
        FigureItem(name="cif_bmt", figure=cif_plot(cif, cause=1, test=gray, at_risk=at_risk,
                                                   cause_labels={1: "relapse", 2: "death"},
                                                   xlabel="Days"),
                   caption="Cumulative incidence of relapse"),
        FigureItem(name="forest_cox", figure=forest_plot(cox), caption="Cox model"),
        FigureItem(name="response_bars", figure=response_bars(
            response_counts, highlight=["CR", "CRi"], highlight_label="CR/CRi"),
            caption="Response by subgroup"),
        FigureItem(name="swimmer", figure=swimmer_plot(lanes, xlabel="Days"),
                   caption="Case histories"),
    )
    tables = (
        table_from_table_one(t1),
        table_from_km_at(km, [365, 730], time_label="Day"),
        table_from_km_median(km),
        table_from_cif_at(cif, [365], cause=1),
        table_from_cox(cox),
        table_from_logistic(logit),
        table_from_proportions(props),
    )
    return Report(
        title="rrball report test", data_hash="0" * 64,
        plan_text="study: test\nanalyses:\n  - km: dfs by group\n",
        sections=(Section(heading="Tables", items=tables),
                  Section(heading="Figures", items=figures, text="Public example data.")),
    )
