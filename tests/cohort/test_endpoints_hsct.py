"""Post-HSCT ADTTE parameters OSHCT, DFSHCT, CIRHCT, NRMHCT (data-dictionary.md §5.3: population
HSCTFL, origin HSCT day 0, relapse = first relapse > day 0 whether or not the line responded)
with every CNSR code they can take and the same-day rules; DTIMPFL (R-DER-007)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rrball.cohort import load_cohort
from tests.cohort._data import CR, META, Tables, base_tables, write_csv

HCT = ("OSHCT", "DFSHCT", "CIRHCT", "NRMHCT")


def _hx(pid: str, date: str) -> dict[str, str]:
    return {"hsct_id": f"{pid}-H", "patient_id": pid, "hsct_date": date, "hsct_type": "1",
            "donor_type": "2", "line_id": f"{pid}-L1"}


def _fu(t: Tables, pid: str, *events: tuple[str, str]) -> None:
    """Replace the patient's follow-up by (type code, date) events; death implies last contact
    on the death date."""
    t["follow_up"] = [r for r in t["follow_up"] if r["patient_id"] != pid]
    dead = False
    for k, (typ, date) in enumerate(events):
        row = {"event_id": f"{pid}-E{k}", "patient_id": pid, "event_type": typ,
               "event_date": date}
        if typ == "1":
            row["relapse_sites"] = "1"
        if typ == "2":
            row["death_cause"] = "11"
            dead = True
        if typ == "3":
            row["vital_status"] = "2" if dead else "1"
        t["follow_up"].append(row)


def _tables() -> Tables:
    """P1 HSCT 2019-05-01, relapse 2019-09-01, death 2020-01-01 (base); P2 non-responder,
    HSCT 2019-04-01, relapse 2019-08-01, alive; P3 HSCT 2019-05-01 alive after the cut-off
    (base); P4 HSCT and death on 2019-06-01; P5 HSCT 2019-05-01, relapse and death same day
    2019-08-01 (base)."""
    t = base_tables()
    t["transplants"] += [_hx("P1", "2019-05-01"), _hx("P2", "2019-04-01"),
                         _hx("P4", "2019-06-01"), _hx("P5", "2019-05-01")]
    _fu(t, "P2", ("1", "2019-08-01"), ("3", "2020-06-01"))
    _fu(t, "P4", ("2", "2019-06-01"), ("3", "2019-06-01"))
    return t


def row(e: pd.DataFrame, pid: str, param: str) -> pd.Series:
    sel = e[(e["USUBJID"] == f"T1-{pid}") & (e["PARAMCD"] == param)]
    assert len(sel) == 1, sel
    return sel.iloc[0]


@pytest.fixture(scope="module")
def e(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return load_cohort(write_csv(tmp_path_factory.mktemp("h") / "c", _tables())).endpoints()


def test_population_origin_and_provenance(e: pd.DataFrame) -> None:
    for p in HCT:
        sub = e[e["PARAMCD"] == p]
        assert set(sub["USUBJID"]) == {f"T1-P{k}" for k in (1, 2, 3, 4, 5)}
        assert set(sub["ORIGIN"]) == {"hsct"}
    r = row(e, "P1", "OSHCT")
    assert (pd.Timestamp("2019-05-01"), "P1-H", 245) == (r.STARTDT, r.STSRCID, r.AVAL)


def test_relapse_then_death(e: pd.DataFrame) -> None:
    """P1: DFSHCT/CIRHCT relapse event; NRMHCT competing relapse (CNSR 5, CMPEVT 1)."""
    assert (row(e, "P1", "DFSHCT").CNSR, row(e, "P1", "DFSHCT").EVNTDESC) == (0, "RELAPSE")
    c = row(e, "P1", "CIRHCT")
    assert (0, 1, pd.Timestamp("2019-09-01"), "P1-R") == (c.CNSR, c.CMPEVT, c.ADT, c.SRCID)
    n = row(e, "P1", "NRMHCT")
    assert (n.CNSR, n.CMPEVT, n.CNSDTDSC) == (5, 1, "COMPETING EVENT")
    assert (row(e, "P1", "OSHCT").CNSR, row(e, "P1", "OSHCT").EVNTDESC) == (0, "DEATH")


def test_relapse_counts_without_line_response(e: pd.DataFrame) -> None:
    """P2 never responded (no RELDT) but relapsed after HSCT: a post-HSCT relapse."""
    c = row(e, "P2", "CIRHCT")
    assert (c.CNSR, c.CMPEVT, c.AVAL) == (0, 1, 122)
    assert row(e, "P2", "DFSHCT").EVNTDESC == "RELAPSE"
    assert (row(e, "P2", "NRMHCT").CNSR, row(e, "P2", "NRMHCT").CMPEVT) == (5, 1)
    o = row(e, "P2", "OSHCT")
    assert (o.CNSR, o.CNSDTDSC, o.SRCID) == (1, "LAST CONTACT", "P2-E1")
    assert e[(e["USUBJID"] == "T1-P2") & (e["PARAMCD"] == "CIR")].empty  # not a responder


def test_hsct_and_death_same_day(e: pd.DataFrame) -> None:
    """Ties table: HSCT happened (TTHSCT event); post-HSCT NRM with AVAL 0; CIR competing."""
    assert (row(e, "P4", "TTHSCT").CNSR, row(e, "P4", "TTHSCT").CMPEVT) == (0, 1)
    n = row(e, "P4", "NRMHCT")
    assert (n.CNSR, n.CMPEVT, n.AVAL) == (0, 2, 0)
    c = row(e, "P4", "CIRHCT")
    assert (c.CNSR, c.CMPEVT, c.AVAL) == (5, 2, 0)
    assert (row(e, "P4", "OSHCT").CNSR, row(e, "P4", "OSHCT").AVAL) == (0, 0)
    assert row(e, "P4", "DFSHCT").EVNTDESC == "DEATH"


def test_relapse_and_death_same_day_after_hsct(e: pd.DataFrame) -> None:
    """P5: relapse first (CIRHCT CMPEVT 1, NRMHCT CNSR 5, DFSHCT RELAPSE), OSHCT death."""
    assert row(e, "P5", "CIRHCT").CMPEVT == 1 and row(e, "P5", "CIRHCT").CNSR == 0
    assert row(e, "P5", "NRMHCT").CNSR == 5
    assert row(e, "P5", "DFSHCT").EVNTDESC == "RELAPSE"
    assert row(e, "P5", "OSHCT").EVNTDESC == "DEATH"


def test_cutoff_cnsr6(e: pd.DataFrame) -> None:
    for p in HCT:
        r = row(e, "P3", p)
        assert (6, pd.Timestamp("2022-06-30"), "DATA CUT-OFF") == (r.CNSR, r.ADT, r.CNSDTDSC)
    assert row(e, "P3", "CIRHCT").CMPEVT == 0


def test_relapse_on_day0_is_not_post_hsct(tmp_path: Path) -> None:
    """Ties table: relapse on the HSCT date precedes HSCT (active disease), so it is not a
    relapse > day 0; the later death is then NRM."""
    t = base_tables()
    t["transplants"].append(_hx("P1", "2019-09-01"))  # P1 relapse 2019-09-01, death 2020-01-01
    e = load_cohort(write_csv(tmp_path / "c", t)).endpoints()
    assert (row(e, "P1", "CIRHCT").CNSR, row(e, "P1", "CIRHCT").CMPEVT) == (5, 2)
    assert (row(e, "P1", "NRMHCT").CNSR, row(e, "P1", "NRMHCT").CMPEVT) == (0, 2)


def test_alive_last_contact_and_origin_day(tmp_path: Path) -> None:
    """CNSR 1 at last contact; last contact on day 0 -> CNSR 7 (rule 4); a line whose HSCT is
    after the cut-off gets no post-HSCT row."""
    t = base_tables()
    t["transplants"] += [_hx("P2", "2019-04-01")]
    _fu(t, "P2", ("3", "2019-04-01"))
    t["transplants"] = [h for h in t["transplants"] if h["patient_id"] != "P3"] + [
        _hx("P3", "2022-07-15")]
    e = load_cohort(write_csv(tmp_path / "c", t)).endpoints()
    r = row(e, "P2", "OSHCT")
    assert (r.CNSR, r.AVAL, r.CNSDTDSC) == (7, 0, "ORIGIN")
    assert e[(e["USUBJID"] == "T1-P3") & e["PARAMCD"].isin(HCT)].empty


def test_dfshct_last_assessment_cnsr2_and_7(tmp_path: Path) -> None:
    """dfs_censor_at = last_assessment: an assessment after day 0 -> CNSR 2; none -> censored
    on day 0 with CNSR 7 (rule 4)."""
    t = base_tables()
    t["transplants"].append(_hx("P2", "2019-04-01"))
    t["assessments"].append({"assessment_id": "P3-A2", "patient_id": "P3",
                             "assessment_date": "2019-08-01", **CR})
    e = load_cohort(write_csv(tmp_path / "c", t,
                              [*META, ("dfs_censor_at", "last_assessment")])).endpoints()
    r3 = row(e, "P3", "DFSHCT")
    assert (2, pd.Timestamp("2019-08-01"), "LAST DISEASE ASSESSMENT") == (
        r3.CNSR, r3.ADT, r3.CNSDTDSC)
    r2 = row(e, "P2", "DFSHCT")
    assert (r2.CNSR, r2.AVAL) == (7, 0)
    assert row(e, "P3", "CIRHCT").CNSR == 6  # CIR/NRM censor at last contact (cut-off here)


def test_dfshct_new_therapy_cnsr4_and_event_wins_same_day(tmp_path: Path) -> None:
    """censor_at_new_therapy: a line started after day 0 censors DFSHCT (CNSR 4); an event on
    the same day as the new line wins (rule 3)."""
    t = base_tables()
    base_line = t["treatment_lines"][0]
    t["treatment_lines"] += [
        {**base_line, "line_id": "P3-L2", "patient_id": "P3", "line_start_date": "2020-01-01",
         "index_line": "0", "regimen": "20", "regimen_detail": "DLI", "salvage_number": "2",
         "prior_blinatumomab": "1", "prior_allo_hsct": "1"},
        {**base_line, "line_id": "P5-L2", "patient_id": "P5", "line_start_date": "2019-08-01",
         "index_line": "0", "regimen": "20", "regimen_detail": "FLAG", "salvage_number": "2",
         "prior_blinatumomab": "1", "prior_allo_hsct": "1"}]
    t["transplants"].append(_hx("P5", "2019-05-01"))
    e = load_cohort(write_csv(tmp_path / "c", t,
                              [*META, ("censor_at_new_therapy", "1")])).endpoints()
    r3 = row(e, "P3", "DFSHCT")
    assert (4, pd.Timestamp("2020-01-01"), "NEW THERAPY", "P3-L2") == (
        r3.CNSR, r3.ADT, r3.CNSDTDSC, r3.SRCID)
    assert row(e, "P5", "DFSHCT").EVNTDESC == "RELAPSE"


def test_dtimpfl(tmp_path: Path) -> None:
    """R-DER-007: partial_event_dates = impute; a partial death date (and its last contact)
    flags the OS/OSHCT rows ending on it; a partial line start flags every t0-origin row."""
    t = base_tables()
    t["transplants"].append(_hx("P1", "2019-05-01"))
    for r in t["follow_up"]:
        if r["patient_id"] == "P1" and r["event_type"] in ("2", "3"):
            r["event_date"] = "2020-01"
    for ln in t["treatment_lines"]:
        if ln["patient_id"] == "P2":
            ln["line_start_date"] = "2019-02"
    e = load_cohort(write_csv(tmp_path / "c", t,
                              [*META, ("partial_event_dates", "impute")])).endpoints()
    assert row(e, "P1", "OS").DTIMPFL == "Y" and row(e, "P1", "OSHCT").DTIMPFL == "Y"
    assert pd.Timestamp("2020-01-15") == row(e, "P1", "OS").ADT
    assert pd.isna(row(e, "P1", "DFS").DTIMPFL)  # relapse 2019-09-01 from RESPDT: full dates
    assert pd.isna(row(e, "P1", "CIRHCT").DTIMPFL)
    assert set(e.loc[e["USUBJID"] == "T1-P2", "DTIMPFL"]) == {"Y"}
    assert e.loc[e["USUBJID"] == "T1-P4", "DTIMPFL"].isna().all()
