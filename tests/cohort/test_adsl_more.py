"""ADSL columns of data-dictionary.md §5.2 beyond the response core, on hand-built patients:
DRUGGRP, CR1DURIMP, S1GRP, RELCTX, BLMRD, BLEMD, BLDETFL, PRIORINO, PRIORCART, HSCTSTAT,
RELSITE, RESPEVFL (CRSMAXG, ICANSMXG, VODFL: test_toxicity.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rrball.cohort import load_cohort
from rrball.cohort.endpoints import DAYS_PER_MONTH
from tests.cohort._data import CR, META, RELAPSE, Tables, base_tables, write_csv


def _more() -> Tables:
    """base_tables() plus P6–P10 (one branch each)."""
    t = base_tables()
    pat0, line0 = t["patients"][0], t["treatment_lines"][0]
    bl0 = t["assessments"][0]

    def add(pid: str, pat: dict[str, str], line: dict[str, str],
            bl: dict[str, str] | None) -> None:
        t["patients"].append({**pat0, "patient_id": pid, **pat})
        t["treatment_lines"].append({**line0, "line_id": f"{pid}-L1", "patient_id": pid,
                                     **line})
        if bl is not None:
            t["assessments"].append({"assessment_id": f"{pid}-BL", "patient_id": pid,
                                     "assessment_date": "2019-01-29", **bl})
        t["follow_up"].append({"event_id": f"{pid}-LC", "patient_id": pid, "event_type": "3",
                               "event_date": "2020-06-01", "vital_status": "1"})

    # P6 primary refractory S1, inotuzumab, CAR-T and InO before
    add("P6", {"primary_refractory": "1", "first_cr_date": "", "first_relapse_date": ""},
        {"regimen": "4", "relapse_number": "0", "disease_status_at_start": "1",
         "prior_inotuzumab": "1", "prior_car_t": "1"},
        {k: v for k, v in bl0.items() if k not in ("assessment_id", "patient_id",
                                                   "assessment_date")})
    # P7 S2 after allo-HSCT, mini-HCVD-InO, CR1 dates partial (month / year)
    add("P7", {"first_cr_date": "2018-03", "first_relapse_date": "2018"},
        {"regimen": "7", "salvage_number": "2", "relapse_number": "2",
         "prior_allo_hsct": "1"},
        {"bm_blast_pct": "0", "pb_blasts": "0", "emd": "1", "emd_sites": "2",
         "mrd_detected": "1", "mrd_value": "0.02", "mrd_unit": "1", "mrd_method": "1",
         "mrd_sample": "1"})
    t["transplants"].append({"hsct_id": "P7-H0", "patient_id": "P7", "hsct_date": "2018-09",
                             "hsct_type": "1", "donor_type": "2"})
    t["follow_up"].insert(0, {"event_id": "P7-R0", "patient_id": "P7", "event_type": "1",
                              "event_date": "2018-12-01", "relapse_sites": "1"})
    # P8 MRD-negative CR treated (status 6), regimen 8, nothing detectable: not
    # response-evaluable
    add("P8", {}, {"regimen": "8", "salvage_number": "0", "relapse_number": "0",
                   "disease_status_at_start": "6", "remission_number_at_start": "1"},
        {**CR, "bm_blast_pct": "0"})
    # P9 MRD-positive (status 3), chemotherapy line (no DRUGGRP), transcript-ratio MRD, no
    # baseline assessment row for EMD (EMD from emd_at_start)
    add("P9", {}, {"regimen": "20", "regimen_detail": "FLAG-Ida", "disease_status_at_start": "3",
                   "remission_number_at_start": "2", "salvage_number": "1",
                   "emd_at_start": "1", "emd_sites_at_start": "1"},
        {"mrd_detected": "1", "mrd_value": "0.5", "mrd_unit": "2", "mrd_method": "3",
         "mrd_sample": "1"})
    # P10 status unknown, n_cycles 0 (not SAFFL)
    add("P10", {}, {"disease_status_at_start": "9", "n_cycles": "0"}, None)
    # P1's relapse is combined BM + CNS
    for r in t["follow_up"]:
        if r["event_id"] == "P1-R":
            r["relapse_sites"] = "1;2"
    return t


@pytest.fixture(scope="module")
def adsl(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    c = load_cohort(write_csv(tmp_path_factory.mktemp("m") / "c", _more()))
    return c.analysis_table().set_index("SUBJID")


def test_druggrp(adsl: pd.DataFrame) -> None:
    got = adsl["DRUGGRP"].to_dict()
    assert got["P1"] == "blinatumomab" and got["P6"] == "inotuzumab"
    assert got["P7"] == "mini_hcvd_ino" and got["P8"] == "mini_hcvd_ino_blina"
    assert pd.isna(got["P9"])


def test_cr1_duration_midpoint_imputation(adsl: pd.DataFrame) -> None:
    """§2.1: full dates -> no flag; YYYY-MM -> 15th; YYYY -> 1 July; coarsest flag wins."""
    assert pd.isna(adsl.loc["P1", "CR1DURIMP"])
    assert adsl.loc["P1", "CR1DUR"] == pytest.approx(320 / DAYS_PER_MONTH)
    # 2018-03 -> 2018-03-15; 2018 -> 2018-07-01: 108 days, flag M
    assert adsl.loc["P7", "CR1DURIMP"] == "M"
    assert adsl.loc["P7", "CR1DUR"] == pytest.approx(108 / DAYS_PER_MONTH)
    assert pd.isna(adsl.loc["P6", "CR1DUR"]) and pd.isna(adsl.loc["P6", "CR1DURIMP"])


def test_s1grp(adsl: pd.DataFrame) -> None:
    """Seed 003 strata for S1 lines only: primary refractory; CR1 < / ≥ 12 months."""
    assert adsl.loc["P6", "S1GRP"] == "primary_refractory"
    assert adsl.loc["P1", "S1GRP"] == "cr1_lt_cut"  # 10.5 months
    assert pd.isna(adsl.loc["P7", "S1GRP"])  # S2
    assert pd.isna(adsl.loc["P8", "S1GRP"])  # not a salvage


@pytest.mark.parametrize(("rule", "group"), [("ge", "cr1_ge_cut"), ("gt", "cr1_lt_cut")])
def test_s1grp_cut_exactly_on_the_boundary(tmp_path: Path, rule: str, group: str) -> None:
    """cr1_cut_rule: a CR1 duration exactly equal to the cut goes up only under ``ge``."""
    cut = repr(320 / DAYS_PER_MONTH)
    c = load_cohort(write_csv(tmp_path / "c", base_tables(),
                              [*META, ("cr1_cut_months", cut), ("cr1_cut_rule", rule)]))
    assert c.analysis_table().set_index("SUBJID").loc["P1", "S1GRP"] == group


def test_s1grp_cr1_above_cut(tmp_path: Path) -> None:
    c = load_cohort(write_csv(tmp_path / "c", base_tables(), [*META, ("cr1_cut_months", "6")]))
    assert c.analysis_table().set_index("SUBJID").loc["P1", "S1GRP"] == "cr1_ge_cut"


def test_relctx(adsl: pd.DataFrame) -> None:
    got = adsl["RELCTX"].to_dict()
    assert got["P6"] == "primary_refractory"
    assert got["P7"] == "after_allo_hsct"
    assert got["P1"] == "after_chemotherapy" and got["P9"] == "after_chemotherapy"
    assert pd.isna(got["P8"]) and pd.isna(got["P10"])  # status 6 and 9


def test_baseline_mrd_emd_detectable(adsl: pd.DataFrame) -> None:
    """BLMRD as a fraction (0 when not detected, empty for a transcript ratio); BLEMD from
    the assessment or emd_at_start; BLDETFL = blasts > 0, MRD detected or EMD present."""
    assert adsl.loc["P7", "BLMRD"] == pytest.approx(0.02)
    assert adsl.loc["P7", "BLEMD"] == "present" and adsl.loc["P7", "BLDETFL"] == 1
    assert adsl.loc["P8", "BLMRD"] == 0.0 and adsl.loc["P8", "BLEMD"] == "none"
    assert adsl.loc["P8", "BLDETFL"] == 0
    assert pd.isna(adsl.loc["P9", "BLMRD"]) and adsl.loc["P9", "BLEMD"] == "present"
    assert adsl.loc["P9", "BLDETFL"] == 1
    assert adsl.loc["P1", "BLDETFL"] == 1 and adsl.loc["P1", "BLEMD"] == "none"
    assert pd.isna(adsl.loc["P10", "BLEMD"]) and adsl.loc["P10", "BLDETFL"] == 0


def test_prior_exposures_copied(adsl: pd.DataFrame) -> None:
    assert (adsl.loc["P6", "PRIORINO"], adsl.loc["P6", "PRIORCART"]) == ("yes", "yes")
    assert pd.isna(adsl.loc["P1", "PRIORINO"])


def test_respevfl(adsl: pd.DataFrame) -> None:
    """SAFFL and (BLDETFL or status ≠ cr_mrd_negative)."""
    assert adsl.loc["P8", "RESPEVFL"] == 0  # MRD-negative CR, nothing detectable
    assert adsl.loc["P10", "RESPEVFL"] == 0 and adsl.loc["P10", "SAFFL"] == 0
    assert adsl.loc["P1", "RESPEVFL"] == 1 and adsl.loc["P9", "RESPEVFL"] == 1


def test_hsctstat(tmp_path: Path) -> None:
    """CR-family status with MRD suffix of the last evaluable assessment before day 0, else
    active_disease; empty without HSCT."""
    t = base_tables()
    t["transplants"].append({"hsct_id": "P2-H", "patient_id": "P2", "hsct_date": "2019-05-01",
                             "hsct_type": "1", "donor_type": "2", "line_id": "P2-L1"})
    a = load_cohort(write_csv(tmp_path / "c", t)).analysis_table().set_index("SUBJID")
    assert a.loc["P3", "HSCTSTAT"] == "CR_MRDNEG"
    assert a.loc["P2", "HSCTSTAT"] == "active_disease"
    assert pd.isna(a.loc["P1", "HSCTSTAT"])


def test_relsite_reported(adsl: pd.DataFrame) -> None:
    assert adsl.loc["P1", "RELSITE"] == "bone_marrow;cns"
    assert adsl.loc["P5", "RELSITE"] == "bone_marrow"
    assert pd.isna(adsl.loc["P2", "RELSITE"])


def test_relsite_derived(tmp_path: Path) -> None:
    """Assessment-derived relapse (relapse_source = derived): haematological -> bone_marrow;
    extramedullary -> the assessment's EMD site."""
    t = base_tables()
    t["assessments"] += [
        {"assessment_id": "P1-A2", "patient_id": "P1", "assessment_date": "2019-08-20",
         **RELAPSE},
        {"assessment_id": "P3-A2", "patient_id": "P3", "assessment_date": "2019-04-01",
         **{**CR, "emd": "2", "emd_sites": "1"}},
    ]
    c = load_cohort(write_csv(tmp_path / "c", t, [*META, ("relapse_source", "derived")]))
    a = c.analysis_table().set_index("SUBJID")
    assert a.loc["P1", "RELDT"] == pd.Timestamp("2019-08-20")
    assert a.loc["P1", "RELSITE"] == "bone_marrow"
    assert a.loc["P3", "RELSITE"] == "cns"
