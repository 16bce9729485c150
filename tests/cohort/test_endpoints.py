"""ADSL/ADTTE on hand-built patients (data-dictionary.md §5.1–§5.3, CNSR codes and ties)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rrball.cohort import Cohort, load_cohort
from tests.cohort._data import META, base_tables, write_csv


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    return load_cohort(write_csv(tmp_path_factory.mktemp("c") / "c", base_tables()))


def row(e: pd.DataFrame, pid: str, param: str) -> pd.Series:
    sel = e[(e["USUBJID"] == f"T1-{pid}") & (e["PARAMCD"] == param)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_best_response_and_flags(cohort: Cohort) -> None:
    """P2 has no CR-family response (refractory); the others reach CR_MRDNEG on day 28."""
    a = cohort.analysis_table().set_index("SUBJID")
    assert a.loc["P2", "BESTRESP"] == "NO_RESPONSE"
    assert a.loc["P2", "RESPFL"] == 0 and a.loc["P2", "REFRFL"] == 1
    assert a.loc["P1", "BESTRESP"] == "CR" and a.loc["P1", "BESTMRD"] == "_MRDNEG"
    assert a.loc["P1", "RESPDT"] == pd.Timestamp("2019-03-01")
    assert a.loc["P1", "RELDT"] == pd.Timestamp("2019-09-01")
    assert a.loc["P3", "HSCTFL"] == 1


def test_os_event_and_censoring(cohort: Cohort) -> None:
    """OS: death is CNSR 0 with its follow_up row as provenance; P3 alive after the cut-off is
    censored at the cut-off (CNSR 6); P2 alive at last contact (CNSR 1)."""
    e = cohort.endpoints()
    r = row(e, "P1", "OS")
    assert (r.CNSR, r.AVAL, r.EVNTDESC) == (0, 334, "DEATH")
    assert (r.SRCDOM, r.SRCVAR, r.SRCID, r.SRCROW) == ("follow_up", "event_date", "P1-D", 3)
    assert pytest.approx(334 / 30.4375) == r.AVALM
    r3 = row(e, "P3", "OS")
    assert (6, pd.Timestamp("2022-06-30"), "DATA CUT-OFF") == (r3.CNSR, r3.ADT, r3.CNSDTDSC)
    r2 = row(e, "P2", "OS")
    assert (r2.CNSR, r2.CNSDTDSC, r2.SRCID) == (1, "LAST CONTACT", "P2-LC")


def test_efs_induction_failure_at_t0(cohort: Cohort) -> None:
    """EFS of a non-responder: induction failure on t0 (efs_failure_timing = t0), AVAL 0."""
    r = row(cohort.endpoints(), "P2", "EFS")
    assert (r.CNSR, r.AVAL, r.EVNTDESC) == (0, 0, "INDUCTION FAILURE")


def test_cir_nrm_complementary(cohort: Cohort) -> None:
    """P4 dies in CR: NRM event (CMPEVT 2), CIR competing (CNSR 5); P1 relapse: CIR event."""
    e = cohort.endpoints()
    assert (row(e, "P4", "NRM").CNSR, row(e, "P4", "NRM").CMPEVT) == (0, 2)
    assert (row(e, "P4", "CIR").CNSR, row(e, "P4", "CIR").CMPEVT) == (5, 2)
    assert (row(e, "P1", "CIR").CNSR, row(e, "P1", "CIR").CMPEVT) == (0, 1)
    assert (row(e, "P1", "NRM").CNSR, row(e, "P1", "NRM").CMPEVT) == (5, 1)
    assert row(e, "P4", "CRDUR").CNSR == 5  # death without relapse censors CRDUR


def test_relapse_and_death_same_day(cohort: Cohort) -> None:
    """Ties table: relapse and death on one date -> relapse is the first event."""
    e = cohort.endpoints()
    assert row(e, "P5", "DFS").EVNTDESC == "RELAPSE"
    assert row(e, "P5", "CIR").CMPEVT == 1
    assert row(e, "P5", "NRM").CNSR == 5
    assert row(e, "P5", "OS").EVNTDESC == "DEATH"


def test_tthsct_and_fu(cohort: Cohort) -> None:
    """TTHSCT: HSCT event (CMPEVT 1); death before HSCT competing; FU reverse KM codes 0/8."""
    e = cohort.endpoints()
    assert (row(e, "P3", "TTHSCT").CNSR, row(e, "P3", "TTHSCT").CMPEVT) == (0, 1)
    assert (row(e, "P1", "TTHSCT").CNSR, row(e, "P1", "TTHSCT").CMPEVT) == (5, 2)
    assert row(e, "P1", "FU").CNSR == 8
    assert row(e, "P2", "FU").CNSR == 0
    fu3 = row(e, "P3", "FU")
    assert (0, pd.Timestamp("2022-06-30")) == (fu3.CNSR, fu3.ADT)


def test_origin_day_censoring_is_cnsr7(tmp_path: Path) -> None:
    """Rule 4: with dfs_censor_at = last_assessment and no assessment after RESPDT, DFS is
    censored on the origin day: CNSR 7."""
    t = base_tables()
    t["follow_up"] = [r for r in t["follow_up"] if r["patient_id"] != "P2"] + [
        {"event_id": "P2-LC", "patient_id": "P2", "event_type": "3",
         "event_date": "2020-06-01", "vital_status": "1"}]
    meta = [*META, ("dfs_censor_at", "last_assessment")]
    c = load_cohort(write_csv(tmp_path / "c", t, meta))
    e = c.endpoints()
    r = row(e, "P3", "DFS")
    assert (r.CNSR, r.AVAL, r.CNSDTDSC) == (7, 0, "ORIGIN")


def test_censor_at_hsct(tmp_path: Path) -> None:
    """censor_at_hsct = 1: DFS of P3 censored at the HSCT date with CNSR 3."""
    c = load_cohort(write_csv(tmp_path / "c", base_tables(), [*META, ("censor_at_hsct", "1")]))
    r = row(c.endpoints(), "P3", "DFS")
    assert (3, pd.Timestamp("2019-05-01"), "transplants") == (r.CNSR, r.ADT, r.SRCDOM)
