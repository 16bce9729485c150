"""Baseline disease state (§3.3 B1-B6) and best overall response per line (§3.4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rrball.clinical import (
    BEST_RESPONSE_RANK,
    baseline_disease_state,
    best_overall_response,
)
from rrball.errors import ClinicalInputError

MRD = {
    "mrd_scale": "fraction",
    "mrd_unit": "fraction_of_nucleated_cells",
    "mrd_sample": "BM",
    "mrd_method": "flow",
    "mrd_lod": 1e-5,
}
CR_BM = {"bm_blast_pct": 1.0, "pb_blasts": False, "emd": "none", "anc": 3.0, "plt": 200.0}
D0 = dt.date(2024, 1, 1)


def mrd(value: float) -> dict[str, Any]:
    return {**MRD, "mrd_value": value, "mrd_detected": value > 0}


# ---- baseline §3.3 -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("assessment", "ever", "state", "rule"),
    [
        # B1: nothing known
        ({}, None, "NOT_EVALUABLE", "baseline.ne.no_assessment"),
        # B2: never in CR, 5.1 % > 5 % (seed000 CR limit <= 5)
        ({"bm_blast_pct": 5.1}, False, "PRIMARY_REFRACTORY", "baseline.primary_refractory"),
        # B3 at the boundary: 5.0 % is not > 5 -> not HR; 5.1 % is
        (
            {"bm_blast_pct": 5.1},
            True,
            "HEMATOLOGICAL_RELAPSE",
            "baseline.hematological_relapse.marrow_blasts",
        ),
        (
            {"bm_blast_pct": 5.0, "pb_blasts": True, "emd": "none"},
            True,
            "HEMATOLOGICAL_RELAPSE",
            "baseline.hematological_relapse.pb_blasts",
        ),
        # B4: marrow <= 5 %, EMD present
        (
            {"bm_blast_pct": 2.0, "pb_blasts": False, "emd": "present"},
            True,
            "ISOLATED_EMD_RELAPSE",
            "baseline.isolated_emd_relapse",
        ),
        # B5 seed000: MRD 1.01e-4 > 1e-4 -> MR
        ({**CR_BM, **mrd(1.01e-4)}, True, "MOLECULAR_RELAPSE", "baseline.molecular_relapse"),
        # B6 seed000: MRD exactly 1e-4 is "not > 1e-4" -> MRD-negative (deviation kept)
        ({**CR_BM, **mrd(1e-4)}, True, "CR_MRD_NEGATIVE", "baseline.cr_mrd_negative"),
        ({**CR_BM, **mrd(0.0)}, True, "CR_MRD_NEGATIVE", "baseline.cr_mrd_negative"),
        # MRD not measured: B5 vs B6 undecided
        (CR_BM, True, "CR_MRD_UNKNOWN", "baseline.cr_mrd_unknown"),
        # > 5 % with unknown history: B2 vs B3 needs ever_in_cr
        ({"bm_blast_pct": 40.0}, None, "NOT_EVALUABLE", "baseline.ne.missing_inputs"),
        (
            {"bm_blast_pct": None, "emd": "none"},
            True,
            "NOT_EVALUABLE",
            "baseline.ne.missing_inputs",
        ),
    ],
)
def test_baseline_rules_seed000(
    assessment: dict[str, Any], ever: bool | None, state: str, rule: str
) -> None:
    """§3.3 rules B1-B6 under seed000 thresholds, first match wins, each naming its rule."""
    r = baseline_disease_state(assessment, criteria_set="seed000", ever_in_cr=ever)
    assert (r.state, r.rule_id) == (state, rule)
    if state == "NOT_EVALUABLE":
        assert r.missing


@pytest.mark.parametrize(
    ("value", "state"),
    [(0.99e-4, "CR_MRD_NEGATIVE"), (1e-4, "MRD_POSITIVE_CR"), (1.01e-4, "MRD_POSITIVE_CR")],
)
def test_baseline_mrd_boundary_besponsa(value: float, state: str) -> None:
    """besponsa_label: negative needs < 1e-4, so 1e-4 exactly is MRD-positive CR (§3.8)."""
    a = {**CR_BM, "bm_blast_pct": 1.0, **mrd(value)}
    assert baseline_disease_state(a, criteria_set="besponsa_label", ever_in_cr=True).state == state


@pytest.mark.parametrize(
    ("value", "remission", "flag"),
    [(0.99e-3, 1, False), (1e-3, 1, True), (1e-3, 2, True), (1e-3, 3, False), (1e-3, None, None)],
)
def test_label_mrd_positive_indication_b5prime(
    value: float, remission: int | None, flag: bool | None
) -> None:
    """B5': CR1/CR2 and MRD >= 1e-3 (>= 0.1 %) [S:L-BLIN]; 1e-3 exactly meets it."""
    r = baseline_disease_state(
        {**CR_BM, **mrd(value)},
        criteria_set="seed000",
        ever_in_cr=True,
        remission_number=remission,
    )
    assert r.state == "MOLECULAR_RELAPSE"
    assert r.label_mrd_positive_indication is flag


def test_baseline_between_limits_and_extensions() -> None:
    """consensus_2010: relapse needs >= 25 %; 10 % after a CR is indeterminate (between limits).
    Never in CR with PB blasts but marrow < 5 %: primary refractory (PROPOSED extension)."""
    r = baseline_disease_state(
        {"bm_blast_pct": 10.0}, criteria_set="consensus_2010", ever_in_cr=True
    )
    assert (r.state, r.rule_id) == (
        "INDETERMINATE",
        "baseline.indeterminate.between_cr_and_relapse",
    )
    r25 = baseline_disease_state(
        {"bm_blast_pct": 25.0}, criteria_set="consensus_2010", ever_in_cr=True
    )
    assert r25.state == "HEMATOLOGICAL_RELAPSE"
    pr = baseline_disease_state(
        {"bm_blast_pct": 1.0, "pb_blasts": True, "emd": "none"},
        criteria_set="seed000",
        ever_in_cr=False,
    )
    assert (pr.state, pr.rule_id) == ("PRIMARY_REFRACTORY", "baseline.primary_refractory.pb_blasts")
    assert pr.prior_state == "REFRACTORY"
    neg = baseline_disease_state({**CR_BM, **mrd(0.0)}, criteria_set="seed000", ever_in_cr=True)
    assert (neg.prior_state, neg.prior_mrd_negative) == ("CR", True)
    assert "Baseline disease state CR_MRD_NEGATIVE" in neg.summary()
    assert neg.to_dict()["prior_state"] == "CR"


def test_baseline_input_errors() -> None:
    with pytest.raises(ClinicalInputError, match="criteria_set"):
        baseline_disease_state(CR_BM)
    with pytest.raises(ClinicalInputError, match="ever_in_cr"):
        baseline_disease_state(CR_BM, criteria_set="seed000", ever_in_cr="yes")  # type: ignore[arg-type]
    with pytest.raises(ClinicalInputError, match="remission_number"):
        baseline_disease_state(CR_BM, criteria_set="seed000", remission_number=0)


# ---- best overall response §3.4 ----------------------------------------------------------------
def at(days: int, **kw: Any) -> dict[str, Any]:
    return {"date": D0 + dt.timedelta(days=days), **kw}


NR = {"bm_blast_pct": 40.0, "pb_blasts": True, "emd": "none", "anc": 0.2, "plt": 20.0}
CRH = {"bm_blast_pct": 2.0, "pb_blasts": False, "emd": "none", "anc": 0.8, "plt": 60.0}


def test_best_response_highest_level_and_window() -> None:
    """NR (day 14), CRh (day 28), CR MRD+ (day 42): best = CR on day 42; the day -5 marrow and
    the day-90 marrow after HSCT (day 80) are excluded and listed."""
    res = best_overall_response(
        [
            at(42, **CR_BM, **mrd(3e-4)),
            at(14, **NR),
            at(-5, **NR),
            at(28, **CRH),
            at(90, **CR_BM, **mrd(0.0)),
        ],
        criteria_set="blincyto_trials",
        line_start=D0,
        hsct_date=D0 + dt.timedelta(days=80),
        initial_state="HEMATOLOGICAL_RELAPSE",
    )
    assert (res.status, res.rule_id) == ("CR_MRDPOS", "best_response.highest_level")
    assert res.date == D0 + dt.timedelta(days=42)
    assert res.response_rule_id == "response.cr"
    assert [why for _, why in res.excluded] == ["before line_start", "on/after HSCT (day 0)"]
    assert len(res.series) == 3


def test_best_response_ties_mrd_then_earliest() -> None:
    """Two CRs: MRD-negative beats MRD-positive (tie.mrd); two equal CR_MRDNEG: earliest date."""
    mrd_tie = best_overall_response(
        [at(20, **CR_BM, **mrd(5e-4)), at(40, **CR_BM, **mrd(0.0))],
        criteria_set="besponsa_label",
        line_start=D0,
    )
    assert (mrd_tie.status, mrd_tie.rule_id) == ("CR_MRDNEG", "best_response.tie.mrd")
    assert mrd_tie.date == D0 + dt.timedelta(days=40)
    date_tie = best_overall_response(
        [at(40, **CR_BM, **mrd(0.0)), at(20, **CR_BM, **mrd(0.0))],
        criteria_set="besponsa_label",
        line_start=D0,
    )
    assert (date_tie.rule_id, date_tie.date) == (
        "best_response.tie.earliest_date",
        D0 + dt.timedelta(days=20),
    )


@pytest.mark.parametrize(
    ("end_day", "included"),
    [(41, 1), (42, 2), (43, 2)],
)
def test_window_end_is_inclusive(end_day: int, included: int) -> None:
    """window_end includes its own date: assessment on day 42 counts at window_end = day 42."""
    res = best_overall_response(
        [at(14, **NR), at(42, **CR_BM)],
        criteria_set="blincyto_trials",
        line_start=D0,
        window_end=D0 + dt.timedelta(days=end_day),
    )
    assert len(res.series) == included


def test_next_line_start_is_exclusive_and_refractory() -> None:
    """An assessment on the next line's start day belongs to the next line; with the window
    complete and no CR-family response, best response is REFRACTORY (§3.6)."""
    res = best_overall_response(
        [at(14, **NR), at(30, **CR_BM)],
        criteria_set="blincyto_trials",
        line_start=D0,
        next_line_start=D0 + dt.timedelta(days=30),
        window_complete=True,
    )
    assert (res.status, res.rule_id) == ("REFRACTORY", "best_response.refractory")
    assert res.response is not None and res.response.level == "NO_RESPONSE"
    open_window = best_overall_response(
        [at(14, **NR)], criteria_set="blincyto_trials", line_start=D0
    )
    assert open_window.status == "NO_RESPONSE"


def test_not_evaluable_outcomes_and_errors() -> None:
    empty = best_overall_response([], criteria_set="seed000", line_start=D0)
    assert empty.rule_id == "best_response.ne.no_assessment_in_window"
    ne = best_overall_response([at(3, emd="unknown")], criteria_set="seed000", line_start=D0)
    assert (ne.status, ne.rule_id) == ("NOT_EVALUABLE", "best_response.ne.none_evaluable")
    with pytest.raises(ClinicalInputError, match="date"):
        best_overall_response([CR_BM], criteria_set="seed000", line_start=D0)
    with pytest.raises(ClinicalInputError, match="window_end"):
        best_overall_response(
            [], criteria_set="seed000", line_start=D0, window_end=D0 - dt.timedelta(days=1)
        )
    with pytest.raises(ClinicalInputError, match="criteria_set"):
        best_overall_response([], criteria_set="who", line_start=D0)


def test_baseline_feeds_best_response() -> None:
    """MRD-positive CR at baseline (blinatumomab MRD indication): MRD negativity on day 42 is the
    best response; a later MRD rise after negativity is molecular relapse, ranked lower."""
    base = baseline_disease_state(
        {**CR_BM, **mrd(2e-3)}, criteria_set="blincyto_trials", ever_in_cr=True, remission_number=1
    )
    assert base.state == "MRD_POSITIVE_CR" and base.label_mrd_positive_indication
    res = best_overall_response(
        [at(42, **CR_BM, **mrd(0.0)), at(84, **CR_BM, **mrd(4e-4))],
        criteria_set="blincyto_trials",
        line_start=D0,
        initial_state=base,
    )
    assert res.status == "CR_MRDNEG" and res.date == D0 + dt.timedelta(days=42)
    assert [r.level for r in res.series] == ["CR", "MOLECULAR_RELAPSE"]
    assert "Best overall response CR_MRDNEG" in res.summary()
    assert res.to_dict()["date"] == "2024-02-12"


def test_rank_starts_as_the_reference_orders_it() -> None:
    """§3.4: CR > CRh > CRp > CRi > PR > NO_RESPONSE > PD."""
    ref = ["CR", "CRh", "CRp", "CRi", "PR", "NO_RESPONSE", "PROGRESSIVE_DISEASE"]
    positions = [BEST_RESPONSE_RANK.index(x) for x in ref]
    assert positions == sorted(positions)


_ASSESSMENT = st.fixed_dictionaries(
    {
        "date": st.dates(D0, D0 + dt.timedelta(days=120)),
        "bm_blast_pct": st.sampled_from([None, 0.0, 4.9, 5.0, 5.1, 30.0]),
        "pb_blasts": st.sampled_from([None, False, True]),
        "emd": st.sampled_from([None, "none", "present", "new", "resolved"]),
        "anc": st.sampled_from([None, 0.4, 1.0, 2.0]),
        "plt": st.sampled_from([None, 40.0, 100.0, 150.0]),
        "mrd_value": st.sampled_from([None, 0.0, 1e-5, 1e-4, 1e-3]),
    }
)


def _with_mrd(a: dict[str, Any]) -> dict[str, Any]:
    if a["mrd_value"] is None:
        return a
    return {**a, **MRD, "mrd_detected": a["mrd_value"] > 0}


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(_ASSESSMENT, min_size=1, max_size=6),
    cset=st.sampled_from(["blincyto_trials", "besponsa_label", "seed000", "consensus_2010"]),
    data=st.data(),
)
def test_best_response_invariant_to_input_order(
    items: list[dict[str, Any]], cset: str, data: st.DataObject
) -> None:
    """Property: the best response (status, date, rule) does not depend on the input order."""
    xs = [_with_mrd(a) for a in items]
    shuffled = data.draw(st.permutations(xs))
    kw: dict[str, Any] = {
        "criteria_set": cset,
        "line_start": D0,
        "initial_state": "HEMATOLOGICAL_RELAPSE",
    }
    r1 = best_overall_response(xs, **kw)
    r2 = best_overall_response(shuffled, **kw)
    assert (r1.status, r1.date, r1.rule_id, r1.response_rule_id) == (
        r2.status,
        r2.date,
        r2.rule_id,
        r2.response_rule_id,
    )
    assert r1.level in (*BEST_RESPONSE_RANK, "NOT_EVALUABLE")
