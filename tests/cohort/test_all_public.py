"""The Bioconductor ``ALL`` public cohort through ``cohort/mappings/all_bioc.yaml``.

Hand checks: ADSL and ADTTE rows of seven patients recomputed by hand from their raw rows of
``src/rrball/data/all_pdata.csv`` (arithmetic in the comments; elapsed days, origin day = 0,
data-dictionary.md §0 and §5.3). t0 = diagnosis date (PROPOSED in the mapping). Cross-check: CR
counts by BCR/ABL and Fisher / chi-square p against R (``tests/cohort/r/export_all_pdata.R``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rrball.cohort import public_cohort
from rrball.cohort.mapping import MappingError, map_frame, parse_mapping
from rrball.cohort.readers.mapped import load_mapped, public_source, read_source_csv
from rrball.errors import CohortValidationError
from rrball.stats import chi_square_test, fisher_exact_test

FIXTURE = Path(__file__).with_name("fixtures") / "all_bioc__cr_by_bcr_abl.json"


@pytest.fixture(scope="module")
def b_cohort():  # type: ignore[no-untyped-def]
    return public_cohort("all", subset="b_lineage")


@pytest.fixture(scope="module")
def adsl(b_cohort) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return b_cohort.analysis_table().set_index("SUBJID")


@pytest.fixture(scope="module")
def adtte(b_cohort) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    e = b_cohort.endpoints()
    e["SUBJID"] = e["USUBJID"].str.split("-", n=1).str[1]
    return e.set_index(["SUBJID", "PARAMCD"])


def _tte(adtte: pd.DataFrame, pid: str, param: str) -> tuple[int, int]:
    row = adtte.loc[(pid, param)]
    return int(row["AVAL"]), int(row["CNSR"])


# ---- the bundled raw table -----------------------------------------------------------------------


def test_raw_table_is_the_full_phenotype_table() -> None:
    """All 128 patients and the 21 pData columns, with their R names, as text."""
    data, _ = public_source("all")
    raw = read_source_csv(data)
    assert raw.shape == (128, 21)
    assert list(raw.columns[:8]) == ["cod", "diagnosis", "sex", "age", "BT", "remission", "CR",
                                     "date.cr"]
    assert raw.loc[raw["cod"] == "24006", "date.cr"].item() == "not known"


def test_full_cohort_counts_and_declared_losses() -> None:
    """128 rows: 11 excluded with a reason (R-MAP-001), 2 malformed dates replaced (R-MAP-002)."""
    c = public_cohort("all")
    assert len(c.table("patients")) == 117
    rules = pd.Series([w.rule_id for w in c.warnings]).value_counts()
    assert rules["R-MAP-001"] == 11
    assert rules["R-MAP-002"] == 2
    excluded = sorted(w.value for w in c.warnings if w.rule_id == "R-MAP-001")
    assert excluded == sorted(["8024", "14016", "16009", "22009", "22010", "25006", "28047",
                               "37013", "LAL5", "24006", "LAL4"])
    # the 9 transplants (all undated) are declared, never silently dropped
    notes = [w for w in c.warnings if w.rule_id == "R-MAP-003"]
    assert sum(w.column == "transplant" for w in notes) == 9


def test_b_lineage_subset(b_cohort) -> None:  # type: ignore[no-untyped-def]
    """117 imported, 31 T-lineage left out by the b_lineage subset (R-MAP-004)."""
    assert len(b_cohort.table("patients")) == 86
    assert sum(w.rule_id == "R-MAP-004" for w in b_cohort.warnings) == 31


# ---- hand-checked patients -----------------------------------------------------------------------


def test_cr_then_relapse_1010(adsl: pd.DataFrame, adtte: pd.DataFrame) -> None:
    """1010: dx 3/29/2000, CR 6/27/2000, f.u REL, last seen 8/28/2000; NEG, M, 19 y."""
    r = adsl.loc["1010"]
    assert (r["AGE"], r["SEX"], r["PHSTAT"], r["KMT2A"]) == (19, "male", "negative",
                                                             "not_rearranged")
    assert (r["RESPFL"], r["CRFL"], r["RELFL"], r["DTHFL"]) == (1, 1, 1, 0)
    assert r["RESPDT"] == pd.Timestamp("2000-06-27")
    assert r["RELDT"] == pd.Timestamp("2000-08-28")  # PROPOSED: date last seen = relapse date
    # t0 -> CR: Mar 29 -> Apr 29 (31) -> May 29 (30) -> Jun 27 (29) = 90
    # CR -> relapse: Jun 27 -> Jul 27 (30) -> Aug 27 (31) -> Aug 28 (1) = 62; t0 -> relapse 152
    assert _tte(adtte, "1010", "OS") == (152, 1)       # alive at last contact = relapse date
    assert _tte(adtte, "1010", "EFS") == (152, 0)      # relapse
    assert _tte(adtte, "1010", "DFS") == (62, 0)       # from CR date
    assert _tte(adtte, "1010", "CRDUR") == (62, 0)
    assert _tte(adtte, "1010", "CIR") == (62, 0)


def test_ccr_22011(adsl: pd.DataFrame, adtte: pd.DataFrame) -> None:
    """22011: dx 4/7/2000, CR 5/19/2000, f.u CCR, last seen 7/31/2002."""
    r = adsl.loc["22011"]
    assert (r["RESPFL"], r["RELFL"], r["DTHFL"], r["HSCTFL"]) == (1, 0, 0, 0)
    # t0 -> CR: Apr 7 -> May 7 (30) -> May 19 (12) = 42
    # t0 -> last seen: 2000-04-07 -> 2002-04-07 = 365 + 365 = 730 (29 Feb 2000 is before t0);
    #   Apr 7 -> Jul 7 (30 + 31 + 30 = 91) -> Jul 31 (24): 730 + 91 + 24 = 845
    assert _tte(adtte, "22011", "OS") == (845, 1)
    assert _tte(adtte, "22011", "EFS") == (845, 1)
    assert _tte(adtte, "22011", "DFS") == (845 - 42, 1)  # 803, censored at last contact
    assert _tte(adtte, "22011", "FU") == (845, 0)         # reverse KM: alive = "event"


def test_death_in_induction_24011(adsl: pd.DataFrame, adtte: pd.DataFrame) -> None:
    """24011: dx 8/5/1997, CR = DEATH IN INDUCTION, no other date; BCR/ABL p210, F, 51 y.

    The death has no date, so it cannot be imported (R-MAP-003): not in CR, EFS induction failure
    at t0 (efs_failure_timing = t0), OS/FU censored at the origin (no follow-up, CNSR 7)."""
    r = adsl.loc["24011"]
    assert (r["AGE"], r["SEX"], r["PHSTAT"]) == (51, "female", "positive")
    assert (r["RESPFL"], r["REFRFL"], r["BESTRESP"]) == (0, 1, "NOT_EVALUABLE")
    assert _tte(adtte, "24011", "EFS") == (0, 0)
    assert adtte.loc[("24011", "EFS"), "EVNTDESC"] == "INDUCTION FAILURE"
    assert _tte(adtte, "24011", "OS") == (0, 7)
    assert ("24011", "DFS") not in adtte.index          # DFS population is RESPFL


def test_refractory_12006(adsl: pd.DataFrame, adtte: pd.DataFrame) -> None:
    """12006: dx 2/20/1997, CR = REF, no date; BCR/ABL p210, M, 46 y."""
    r = adsl.loc["12006"]
    assert (r["RESPFL"], r["REFRFL"], r["PHSTAT"]) == (0, 1, "positive")
    assert _tte(adtte, "12006", "EFS") == (0, 0)
    assert _tte(adtte, "12006", "OS") == (0, 7)


def test_transplant_in_ccr_28019(adsl: pd.DataFrame, adtte: pd.DataFrame) -> None:
    """28019: dx 2/10/1998, CR 4/2/1998, transplant TRUE (no date), f.u BMT / CCR, last seen
    3/21/2001; BCR/ABL p190, M, 21 y. The undated HSCT is not imported (HSCTFL 0)."""
    r = adsl.loc["28019"]
    assert (r["RESPFL"], r["HSCTFL"], r["RELFL"], r["PHSTAT"]) == (1, 0, 0, "positive")
    assert b_isoform("28019") == "p190"
    # t0 -> CR: Feb 10 -> Mar 10 (28, 1998) -> Apr 2 (23) = 51
    # t0 -> last seen: 1998-02-10 -> 2001-02-10 = 365 + 365 + 366 (29 Feb 2000) = 1096;
    #   Feb 10 -> Mar 10 (28, 2001) -> Mar 21 (11): 1096 + 39 = 1135
    assert _tte(adtte, "28019", "OS") == (1135, 1)
    assert _tte(adtte, "28019", "DFS") == (1135 - 51, 1)  # 1084
    assert _tte(adtte, "28019", "TTHSCT") == (1135, 1)    # no dated HSCT: censored


def test_dated_death_in_cr_48001(adsl: pd.DataFrame, adtte: pd.DataFrame) -> None:
    """48001: dx 3/22/1997, CR 5/20/1997, f.u MUD / DEATH IN CR, last seen 12/18/1998 (= death)."""
    r = adsl.loc["48001"]
    assert (r["RESPFL"], r["DTHFL"], r["RELFL"]) == (1, 1, 0)
    # t0 -> CR: Mar 22 -> Apr 22 (31) -> May 20 (28) = 59
    # t0 -> death: 1997-03-22 -> 1998-03-22 = 365; Mar 22 -> Dec 22 (31+30+31+30+31+31+30+31+30
    #   = 275) -> Dec 18 (-4): 365 + 271 = 636
    assert _tte(adtte, "48001", "OS") == (636, 0)
    assert _tte(adtte, "48001", "EFS") == (636, 0)
    assert _tte(adtte, "48001", "DFS") == (636 - 59, 0)   # 577: death in CR is a DFS event
    assert _tte(adtte, "48001", "CRDUR") == (577, 5)      # death without relapse censors CRDUR
    assert _tte(adtte, "48001", "NRM") == (577, 0)


def test_undated_death_in_cr_1005(adsl: pd.DataFrame, adtte: pd.DataFrame) -> None:
    """1005: dx 5/21/1997, CR 8/6/1997, f.u BMT / DEATH IN CR, no last-seen date.

    The death cannot be dated (R-MAP-003): last contact falls back to the CR date, so DFS is
    censored at its origin (AVAL 0, CNSR 7) — the DFS event is lost, as the mapping declares."""
    r = adsl.loc["1005"]
    assert (r["RESPFL"], r["DTHFL"], r["LSTCNDT"]) == (1, 0, pd.Timestamp("1997-08-06"))
    # t0 -> CR: May 21 -> Jun 21 (31) -> Jul 21 (30) -> Aug 6 (16) = 77
    assert _tte(adtte, "1005", "OS") == (77, 1)
    assert _tte(adtte, "1005", "DFS") == (0, 7)


def b_isoform(pid: str) -> str:
    p = public_cohort("all", subset="b_lineage").table("patients").set_index("patient_id")
    return str(p.loc[pid, "bcr_abl1_isoform"])


# ---- cross-check against R -----------------------------------------------------------------------


def test_cr_by_bcr_abl_matches_r(adsl: pd.DataFrame) -> None:
    """CR counts by BCR/ABL among B-lineage patients, Fisher and chi-square p as in R."""
    fx = json.loads(FIXTURE.read_text())
    v = fx["values"]
    tab = pd.crosstab(adsl["PHSTAT"], adsl["RESPFL"]).loc[v["groups"], [0, 1]]
    assert len(adsl) == v["n"]
    assert tab.sum(axis=1).tolist() == v["n_group"]
    assert tab[1].tolist() == v["n_cr"]
    counts = tab[[1, 0]].to_numpy()
    rtol = fx["tolerance"]["rtol"]
    assert fisher_exact_test(counts).p_value == pytest.approx(v["fisher_p"], rel=rtol)
    chi = chi_square_test(counts, correction=False)
    assert chi.statistic == pytest.approx(v["chisq_statistic"], rel=rtol)
    assert chi.p_value == pytest.approx(v["chisq_p"], rel=rtol)


# ---- the mapping engine --------------------------------------------------------------------------


def _spec_text() -> str:
    return public_source("all")[1].read_text(encoding="utf-8")


def test_without_cell_overrides_the_bad_dates_are_errors() -> None:
    """No silent drops: the two malformed 'date last seen' cells fail R-GEN-006, located at the
    source row and named '<source column> -> <model column>'."""
    text = _spec_text()
    start, end = text.index("\ncells:"), text.index("\nnotes:")
    spec = parse_mapping(text[:start] + text[end:], source="all_bioc.yaml")
    with pytest.raises(CohortValidationError) as exc:
        load_mapped(public_source("all")[0], spec)
    bad = [(e.row, e.column, e.value) for e in exc.value.errors if e.rule_id == "R-GEN-006"]
    assert (16, "date last seen -> event_date", "00/09/01") in bad
    assert (38, "date last seen -> event_date", "00/09/20+T12501") in bad


def test_unmapped_code_is_a_validation_error() -> None:
    """A source value missing from a 'map' is passed through and fails its code list."""
    frame = read_source_csv(public_source("all")[0])
    frame.loc[frame["cod"] == "1010", "sex"] = "X"
    spec = parse_mapping(_spec_text(), source="all_bioc.yaml")
    from rrball.cohort.cohort import validate_raw

    mapped = map_frame(frame, spec)
    with pytest.raises(CohortValidationError) as exc:
        validate_raw(mapped.tables, mapped.metadata, source="x.csv", issues=mapped.notes)
    hits = [e for e in exc.value.errors if e.rule_id == "R-GEN-005"]
    assert [(e.row, e.column, e.value) for e in hits] == [(3, "sex -> sex", "X")]


@pytest.mark.parametrize(("edit", "line_has", "message"), [
    ("        sex: {column: sex,", "sex:", "not a column"),
])
def test_mapping_errors_are_located(edit: str, line_has: str, message: str) -> None:
    """An unknown model column is reported with its YAML line and path."""
    text = _spec_text().replace(edit, "        sexe: {column: sex,", 1)
    with pytest.raises(MappingError) as exc:
        parse_mapping(text, source="m.yaml")
    (issue,) = exc.value.issues
    assert issue.path == "tables.patients[0].columns.sexe"
    assert issue.line is not None and "sexe:" in text.splitlines()[issue.line - 1]
    assert "not a column of patients" in issue.message


def test_unknown_source_column_and_unaccounted_column() -> None:
    """A referenced source column must exist; every source column is mapped or listed unused."""
    text = _spec_text().replace("  mdr: \"no model column (multidrug-resistance phenotype)\"\n", "")
    text = text.replace("{column: date.cr}\n", "{column: date_cr}\n", 1)
    spec = parse_mapping(text, source="m.yaml")
    frame = read_source_csv(public_source("all")[0])
    with pytest.raises(MappingError) as exc:
        map_frame(frame, spec)
    msgs = [i.message for i in exc.value.issues]
    assert any("'date_cr' not in all_pdata.csv" in m for m in msgs)
    assert any("'mdr' is neither mapped nor listed" in m for m in msgs)


def test_pydantic_shape_errors_are_located() -> None:
    text = _spec_text().replace("  - when: {column: CR, missing: true}",
                                "  - when: {column: CR, missing: true, equals: CR}", 1)
    with pytest.raises(MappingError) as exc:
        parse_mapping(text, source="m.yaml")
    issue = exc.value.issues[0]
    assert issue.path.startswith("exclude[0].when")
    assert issue.line is not None and "missing: true, equals" in text.splitlines()[issue.line - 1]
    assert np.isfinite(issue.line)


def test_bundled_plan_runs_on_the_public_cohort() -> None:
    """``data: public: {name: all, subset: b_lineage}`` names the cohort; CR 72/86, DFS log-rank."""
    from rrball.study.plan import bundled_plan
    from rrball.study.runner import run_plan

    plan = bundled_plan("all_bioc")
    assert plan.data.public is not None
    assert (plan.data.public.name, plan.data.public.subset) == ("all", "b_lineage")
    res = run_plan(plan, public_cohort("all", subset="b_lineage"))
    assert all(s.status == "ok" for s in res.steps)
    cr = res.step("cr").output
    assert cr is not None
    overall = cr.results["All"]
    assert (overall.x, overall.n) == (72, 86)  # type: ignore[attr-defined]
