"""Seed 002's two case histories replayed (clinical-reference.md §6.3).

Dates come from the seed where given (dd.mm.yyyy) and are reconstructed from its relative timing
otherwise. Values the seed does not report (blood counts, weights, ALT) are ILLUSTRATIVE inputs
chosen to be consistent with the narrative; the derived statuses must follow the narrative:
relapse → blinatumomab → progression with EMD → inotuzumab → CR with MRD → HSCT … (case 1);
post-HSCT relapse → blinatumomab → CR MRD+ → MRD− → isolated EMD relapses → InO → CR (case 2).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rrball.clinical import (
    ctcae_grade,
    derive_response_series,
    diagnose_sos_vod,
    grade_crs,
    treatment_calendar,
)

FLOW_BM = {
    "mrd_scale": "fraction",
    "mrd_unit": "fraction_of_nucleated_cells",
    "mrd_sample": "BM",
    "mrd_method": "flow",
    "mrd_lod": 1e-5,
}
RECOVERED = {"pb_blasts": False, "anc": 2.5, "plt": 180.0}  # illustrative counts


def asm(date: dt.date, **kw: Any) -> dict[str, Any]:
    return {"date": date, **kw}


def test_case1_relapse_blinatumomab_failure_ino_cr_hsct() -> None:
    blina_start = dt.date(2018, 5, 10)
    blina = treatment_calendar(
        "blinatumomab_rr_us",
        blina_start,
        cycles=1,
        weight_kg=60,
        height_cm=165,
        age_years=31,
        cycle_lengths={1: 28},
    )
    ino_start = dt.date(2018, 6, 28)
    ino = treatment_calendar(
        "inotuzumab_us", ino_start, cycles=1, weight_kg=60, height_cm=165, age_years=31
    )
    hsct = dt.date(2018, 8, 9)
    # "HSCT 3 weeks after InO": last InO dose (day 15) about 3 weeks before day 0
    assert 18 <= (hsct - max(r.date for r in ino.rows)).days <= 28
    assert max(r.date for r in blina.rows if r.drug == "blinatumomab") < ino_start
    series = derive_response_series(
        [
            # second relapse: BM 90 % blasts, no EMD (from molecular remission / CR2)
            asm(dt.date(2018, 4, 25), bm_blast_pct=90.0, emd="none", pb_blasts=True),
            # 2 weeks after blinatumomab: BM 18 %, eyelid, mandibular nodes, breast (new EMD)
            asm(dt.date(2018, 6, 20), bm_blast_pct=18.0, emd="new", pb_blasts=False),
            # after InO: complete BM and EM remission; BCR-ABL "0.0637 copies" (ratio, I002-05)
            asm(
                dt.date(2018, 7, 26),
                bm_blast_pct=1.0,
                emd="resolved",
                mrd_detected=True,
                mrd_value=0.0637,
                mrd_unit="transcript_ratio_pct",
                mrd_sample="BM",
                **RECOVERED,
            ),
            # day +24: engraftment, MRD-negative
            asm(
                dt.date(2018, 9, 2),
                bm_blast_pct=0.5,
                emd="none",
                mrd_detected=False,
                mrd_value=0.0,
                **FLOW_BM,
                **RECOVERED,
            ),
            # 11 months after HSCT: MRD-negative CR
            asm(
                dt.date(2019, 7, 9),
                bm_blast_pct=0.5,
                emd="none",
                mrd_detected=False,
                mrd_value=0.0,
                **FLOW_BM,
                **RECOVERED,
            ),
        ],
        criteria_set="consensus_2010",
        initial_state="CR_MRDNEG",
        initial_mrd_negative=True,
    )
    assert [r.status for r in series] == [
        "HEMATOLOGICAL_RELAPSE",
        "PROGRESSIVE_DISEASE",
        "CR_MRDUNK",
        "CR_MRDNEG",
        "CR_MRDNEG",
    ]
    assert series[1].rule_id == "response.pd.new_emd"
    assert any("not a cell fraction" in w for w in series[2].warnings)
    # grade 3 ALT elevation after InO (illustrative ALT 250 U/L, ULN 40 → 6.25 × ULN)
    assert ctcae_grade("ALT", 250, 40).grade == 3
    # "no SOS" after HSCT
    sos = diagnose_sos_vod(
        day=14,
        bilirubin_mg_dl=0.8,
        hepatomegaly=False,
        ruq_pain=False,
        ascites="none",
        weight_kg=60.5,
        baseline_weight_kg=60,
        transfusion_refractory_thrombocytopenia=False,
        weight_gain_3_days_despite_diuretics=False,
        bilirubin_rising_3_days=False,
    )
    assert sos.diagnosed_by == ()


def test_case2_post_hsct_relapses_blinatumomab_then_ino_for_emd() -> None:
    hsct = dt.date(2015, 11, 25)
    relapse3 = hsct + dt.timedelta(days=50)
    blina = treatment_calendar(
        "blinatumomab_rr_us",
        relapse3 + dt.timedelta(days=3),
        cycles=3,
        weight_kg=58,
        height_cm=168,
        age_years=25,
    )
    assert len(blina.cycles) == 3 and blina.cycles[2].start > blina.cycles[0].end
    # CRS on day 2, treated with tocilizumab: graded (fever ≥ 38 °C) at onset
    assert grade_crs(temp_max_c=38.6, hypotension=False).grade == 1
    assert grade_crs(temp_max_c=37.2, fever_masked=True, hypotension=False).grade == 0
    c1_end = blina.cycles[0].end
    series = derive_response_series(
        [
            asm(
                hsct + dt.timedelta(days=20),
                bm_blast_pct=0.5,
                emd="none",
                mrd_detected=False,
                mrd_value=0.0,
                **FLOW_BM,
                **RECOVERED,
            ),
            asm(relapse3, bm_blast_pct=35.0, emd="none", pb_blasts=True),
            asm(
                c1_end,
                bm_blast_pct=1.0,
                emd="none",
                mrd_detected=True,
                mrd_value=2e-3,
                **FLOW_BM,
                **RECOVERED,
            ),
            asm(
                blina.cycles[1].end,
                bm_blast_pct=0.5,
                emd="none",
                mrd_detected=False,
                mrd_value=0.0,
                **FLOW_BM,
                **RECOVERED,
            ),
            asm(hsct + dt.timedelta(days=365), bm_blast_pct=0.5, emd="new"),  # left orbit
            asm(hsct + dt.timedelta(days=420), bm_blast_pct=0.5, emd="resolved", **RECOVERED),
            asm(hsct + dt.timedelta(days=365 + 548), bm_blast_pct=0.5, emd="new"),  # nasal
            asm(hsct + dt.timedelta(days=365 + 600), bm_blast_pct=0.5, emd="resolved", **RECOVERED),
            # breast relapse, BM MRD-negative
            asm(
                hsct + dt.timedelta(days=365 + 548 + 183),
                bm_blast_pct=0.5,
                emd="new",
                mrd_detected=False,
                mrd_value=0.0,
                **FLOW_BM,
            ),
        ],
        criteria_set="besponsa_label",
        initial_state="CRi",
    )
    assert [r.level for r in series] == [
        "CR",
        "HEMATOLOGICAL_RELAPSE",
        "CR",
        "CR",
        "EXTRAMEDULLARY_RELAPSE",
        "CR",
        "EXTRAMEDULLARY_RELAPSE",
        "CR",
        "EXTRAMEDULLARY_RELAPSE",
    ]
    assert series[2].status == "CR_MRDPOS"  # 4th remission, flow MRD+
    assert series[3].status == "CR_MRDNEG"  # MRD-negative after the 2nd cycle
    relapse6 = series[-1].date
    assert relapse6 is not None
    ino = treatment_calendar(
        "inotuzumab_us",
        relapse6 + dt.timedelta(days=7),
        cycles=4,
        weight_kg=58,
        height_cm=168,
        age_years=28,
        responses={2: "PR", 3: "CR", 4: "CR"},
    )
    # complete metabolic response after 4 cycles (PET-CT): EMD resolved, BM in remission
    final = derive_response_series(
        [
            asm(
                ino.cycles[-1].end,
                bm_blast_pct=0.5,
                emd="resolved",
                mrd_detected=False,
                mrd_value=0.0,
                **FLOW_BM,
                **RECOVERED,
            )
        ],
        criteria_set="besponsa_label",
        initial_state="EXTRAMEDULLARY_RELAPSE",
    )
    assert final[0].status == "CR_MRDNEG"
    day1 = [r.dose for r in ino.rows if r.day == 1]
    assert day1[0] == day1[1] > day1[2] == day1[3]  # 0.8 until CR, then 0.5 mg/m2
