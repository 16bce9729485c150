"""Calendars with per-cycle measurements (U03), blinatumomab interruptions (§2.3) and the dose
modifications of §2.3 (blinatumomab) and §2.6 (inotuzumab)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rrball.clinical import (
    Interruption,
    blinatumomab_toxicity_action,
    inotuzumab_cycle_delay,
    inotuzumab_toxicity_action,
    treatment_calendar,
)
from rrball.errors import ClinicalInputError

START = dt.date(2024, 1, 1)


def blin(cal: Any, cycle: int) -> list[Any]:
    return [r for r in cal.rows if r.drug == "blinatumomab" and r.cycle == cycle]


# ---- per-cycle measurements (U03) --------------------------------------------------------------
def test_measurements_recompute_doses_per_cycle() -> None:
    """Cycle 1 at 40 kg / 150 cm: BSA sqrt(150*40/3600) = 1.290994; 15 mcg/m2 = 19.3649 mcg/day.
    Before cycle 2 weight 46 kg (>= 45): flat 28 mcg/day. Before cycle 3 44 kg / 150 cm:
    BSA sqrt(150*44/3600) = 1.354006; 15 x 1.354006 = 20.3101 mcg/day (height carried)."""
    cal = treatment_calendar(
        "blinatumomab_rr_us",
        START,
        cycles=3,
        weight_kg=40,
        height_cm=150,
        measurements={2: {"weight_kg": 46}, 3: {"weight_kg": 44}},
    )
    assert blin(cal, 1)[-1].dose == pytest.approx(15 * math.sqrt(150 * 40 / 3600))
    assert {r.dose for r in blin(cal, 2)} == {28.0}
    assert {r.per_m2_or_flat for r in blin(cal, 2)} == {"flat"}
    assert blin(cal, 3)[0].dose == pytest.approx(15 * math.sqrt(150 * 44 / 3600))
    assert blin(cal, 3)[0].bsa_m2 == pytest.approx(1.354006, abs=1e-6)
    assert [c.weight_kg for c in cal.cycles] == [40, 46, 44]
    assert any("dose basis changed from per_m2 to flat" in n for n in cal.cycles[1].notes)
    assert "U03" in cal.unverified and "U03" in str(cal.method["measurements"])


@pytest.mark.parametrize(("weight", "basis"), [(44.9, "per_m2"), (45.0, "flat"), (45.1, "flat")])
def test_measurement_at_45kg_boundary(weight: float, basis: str) -> None:
    """Weight category re-checked before cycle 2: 44.9 per m2, 45.0 and 45.1 flat (>= 45)."""
    cal = treatment_calendar(
        "blinatumomab_mrd_us",
        START,
        cycles=2,
        weight_kg=70,
        height_cm=160,
        measurements={2: {"weight_kg": weight}},
    )
    assert {r.per_m2_or_flat for r in blin(cal, 2)} == {basis}


def test_measurement_input_errors() -> None:
    kw: dict[str, Any] = {"cycles": 2, "weight_kg": 70, "height_cm": 170}
    with pytest.raises(ClinicalInputError, match="cycle 1 uses weight_kg"):
        treatment_calendar("inotuzumab_us", START, measurements={1: {"weight_kg": 60}}, **kw)
    with pytest.raises(ClinicalInputError, match="weight_kg and/or height_cm"):
        treatment_calendar("inotuzumab_us", START, measurements={2: {"bmi": 20}}, **kw)
    with pytest.raises(ClinicalInputError, match="height_cm"):
        treatment_calendar("inotuzumab_us", START, measurements={2: {"height_cm": 1.7}}, **kw)


# ---- interruptions (§2.3) ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("days", "c1_length", "c1_infusion_days", "c2_start_offset", "closed"),
    [
        # 7 days (<= 7): same cycle continues; 42 + 7 = 49 days; 28 infusion days; C2 on day 50
        (7, 49, 28, 49, False),
        # 8 days (> 7): cycle 1 closes; infusion days 1-9 (9 days), length 9 + 8 = 17; C2 day 18
        (8, 17, 9, 17, True),
    ],
)
def test_interruption_boundary_7_days(
    days: int, c1_length: int, c1_infusion_days: int, c2_start_offset: int, closed: bool
) -> None:
    """Interruption from cycle day 10: <= 7 days continues the cycle, > 7 days starts a new one."""
    cal = treatment_calendar(
        "blinatumomab_rr_us",
        START,
        cycles=2,
        weight_kg=70,
        height_cm=175,
        age_years=40,
        interruptions=[Interruption(cycle=1, day=10, days=days, reason="CRS")],
    )
    c1, c2 = cal.cycles
    assert c1.length_days == c1_length and c1.closed_early is closed
    assert len(blin(cal, 1)) == c1_infusion_days
    assert c2.start == START + dt.timedelta(days=c2_start_offset)
    gap = next(b for b in cal.breaks if b.within_cycle)
    assert (gap.start, gap.end) == (
        START + dt.timedelta(days=9),
        START + dt.timedelta(days=9 + days - 1),
    )
    assert ("<= 7 days" in gap.reason) is not closed
    # cycle 2 follows the cycle-2 rules (no step-up): 28 mcg/day from day 1
    assert {r.dose for r in blin(cal, 2)} == {28.0}


def test_interruption_shifts_step_dose_and_restart_premedication() -> None:
    """Interruption on day 5 for 2 days in the step-up week: infusion days 1-4 at 9, restart day 7
    continues the step week (schedule days 5-7 at 9), schedule day 8 (28 mcg/day and the step-dose
    premedication) falls on cycle day 10; dexamethasone again at the restart (day 7)."""
    cal = treatment_calendar(
        "blinatumomab_rr_us",
        START,
        cycles=1,
        weight_kg=70,
        height_cm=175,
        age_years=40,
        interruptions=[{"cycle": 1, "day": 5, "days": 2}],
    )
    rows = blin(cal, 1)
    assert [(r.day, r.schedule_day, r.dose) for r in rows[:8]] == [
        (1, 1, 9.0),
        (2, 2, 9.0),
        (3, 3, 9.0),
        (4, 4, 9.0),
        (7, 5, 9.0),
        (8, 6, 9.0),
        (9, 7, 9.0),
        (10, 8, 28.0),
    ]
    dex = [(r.day, bool(r.modification)) for r in cal.rows if r.drug == "dexamethasone"]
    assert dex == [(1, False), (7, True), (10, False)]
    assert cal.cycles[0].length_days == 44


def test_restart_step_up_after_toxicity() -> None:
    """CRS grade 3 (>= 45 kg): restart at 9 mcg/day for 7 infusion days, then 28 [S:L-BLIN-HCP];
    cycle 2 day 12 interrupted 3 days -> schedule days 12-18 at 9, 19-28 at 28."""
    action = blinatumomab_toxicity_action("crs", 3, weight_kg=70)
    cal = treatment_calendar(
        "blinatumomab_rr_us",
        START,
        cycles=2,
        weight_kg=70,
        height_cm=175,
        interruptions=[
            Interruption(cycle=2, day=12, days=3, restart_step_up=action.restart_step_up)
        ],
    )
    doses = {r.schedule_day: r.dose for r in blin(cal, 2)}
    assert [doses[d] for d in range(10, 21)] == [28.0] * 2 + [9.0] * 7 + [28.0] * 2
    assert sum(1 for r in blin(cal, 2) if r.modification) == 7


def test_restart_step_up_below_45kg_never_exceeds_the_planned_dose() -> None:
    """< 45 kg: restart 5 mcg/m2/day. 30 kg / 140 cm: BSA sqrt(140*30/3600) = 1.080123;
    5 x 1.080123 = 5.4006 mcg/day for 7 days, then 15 x 1.080123 = 16.2019."""
    cal = treatment_calendar(
        "blinatumomab_mrd_us",
        START,
        cycles=1,
        weight_kg=30,
        height_cm=140,
        interruptions=[Interruption(cycle=1, day=10, days=2, restart_step_up=True)],
    )
    bsa = math.sqrt(140 * 30 / 3600)
    doses = {r.schedule_day: r.dose for r in blin(cal, 1)}
    assert doses[9] == pytest.approx(15 * bsa)
    assert doses[10] == pytest.approx(5 * bsa) and doses[16] == pytest.approx(5 * bsa)
    assert doses[17] == pytest.approx(15 * bsa)


@pytest.mark.parametrize(
    ("regimen", "interruption", "message"),
    [
        ("inotuzumab_us", {"cycle": 1, "day": 3, "days": 2}, "no blinatumomab"),
        ("blinatumomab_rr_us", {"cycle": 1, "day": 1, "days": 2}, "delay the cycle"),
        ("blinatumomab_rr_us", {"cycle": 1, "day": 29, "days": 2}, "infusion day"),
        ("blinatumomab_rr_us", {"cycle": 3, "day": 5, "days": 2}, "1 to 2"),
        ("blinatumomab_rr_us", {"cycle": 1, "day": 5}, "required"),
    ],
)
def test_interruption_input_errors(
    regimen: str, interruption: dict[str, int], message: str
) -> None:
    with pytest.raises(ClinicalInputError, match=message):
        treatment_calendar(
            regimen,
            START,
            cycles=2,
            weight_kg=70,
            height_cm=175,
            interruptions=[interruption],
        )


def test_no_interruption_after_a_cycle_closed() -> None:
    with pytest.raises(ClinicalInputError, match="none after the > 7-day"):
        treatment_calendar(
            "blinatumomab_rr_us",
            START,
            cycles=1,
            weight_kg=70,
            height_cm=175,
            interruptions=[
                Interruption(cycle=1, day=5, days=10),
                Interruption(cycle=1, day=20, days=2),
            ],
        )


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(["blinatumomab_rr_us", "blinatumomab_mrd_us", "blinatumomab_seed000"]),
    cycles=st.integers(min_value=1, max_value=3),
    cuts=st.lists(
        st.tuples(st.integers(1, 3), st.integers(2, 40), st.integers(1, 12), st.booleans()),
        max_size=3,
    ),
    delays=st.dictionaries(st.integers(1, 3), st.integers(0, 20), max_size=2),
)
def test_interrupted_calendar_never_schedules_inside_a_break(
    name: str,
    cycles: int,
    cuts: list[tuple[int, int, int, bool]],
    delays: dict[int, int],
) -> None:
    """Property: with any valid interruptions no dose falls in a break or outside its cycle, a
    cycle interrupted only by <= 7-day gaps keeps all 28 infusion days, and cycles never overlap."""
    chosen: list[Interruption] = []
    for c, day, days, step in cuts:
        if c > cycles or any(x.cycle == c for x in chosen):
            continue  # one interruption per cycle keeps every drawn one valid
        if day > 28:
            continue
        chosen.append(Interruption(cycle=c, day=day, days=days, restart_step_up=step))
    cal = treatment_calendar(
        name,
        START,
        cycles=cycles,
        weight_kg=30,
        height_cm=140,
        age_years=10,
        variant="hr_or_child" if name == "blinatumomab_seed000" else None,
        delays={k: v for k, v in delays.items() if k <= cycles},
        interruptions=chosen,
    )
    for r in cal.rows:
        assert not any(b.start <= r.date <= b.end for b in cal.breaks)
        c = cal.cycles[r.cycle - 1]
        assert c.start <= r.date <= c.end
    for prev, nxt in zip(cal.cycles, cal.cycles[1:], strict=False):
        assert nxt.start > prev.end
    for x in chosen:
        n = len(blin(cal, x.cycle))
        if x.days <= 7:
            assert n == 28
        else:
            assert n == x.day - 1
    for r in cal.rows:
        if r.drug == "blinatumomab" and r.modification:
            assert r.dose <= max(q.dose for q in blin(cal, r.cycle))


# ---- blinatumomab dose modification (§2.3) -----------------------------------------------------
@pytest.mark.parametrize(
    ("event", "grade", "kw", "action", "rule"),
    [
        ("crs", 2, {}, "no_rule", "blinatumomab.mod.no_rule"),
        ("crs", 3, {}, "interrupt", "blinatumomab.mod.crs.grade3"),
        ("crs", 4, {}, "discontinue", "blinatumomab.mod.crs.grade4"),
        ("neurological", 3, {"days_to_resolve": 7}, "interrupt", "blinatumomab.mod.neuro.grade3"),
        (
            "neurological",
            3,
            {"days_to_resolve": 8},
            "discontinue",
            "blinatumomab.mod.neuro.grade3.discontinue",
        ),
        (
            "neurological",
            3,
            {"occurred_at_step_dose": True},
            "discontinue",
            "blinatumomab.mod.neuro.grade3.discontinue",
        ),
        ("neurological", 2, {"seizures": 1}, "no_rule", "blinatumomab.mod.no_rule"),
        ("neurological", 2, {"seizures": 2}, "discontinue", "blinatumomab.mod.neuro.seizures"),
        ("neurological", 4, {}, "discontinue", "blinatumomab.mod.neuro.grade4"),
        ("other", 3, {"days_to_resolve": 14}, "interrupt", "blinatumomab.mod.other.grade3"),
        (
            "other",
            3,
            {"days_to_resolve": 15},
            "discontinue",
            "blinatumomab.mod.other.grade3.discontinue",
        ),
        ("other", 4, {}, "consider_discontinuation", "blinatumomab.mod.other.grade4"),
    ],
)
def test_blinatumomab_toxicity_rules(
    event: str, grade: int, kw: dict[str, Any], action: str, rule: str
) -> None:
    """§2.3 table incl. the > 7 (neurological) and > 14 (other) day boundaries."""
    r = blinatumomab_toxicity_action(event, grade, weight_kg=70, **kw)
    assert (r.action, r.rule_id) == (action, rule)
    assert "[S:" in r.source and "U02" in r.unverified
    assert r.restart_step_up is (action == "interrupt")


@pytest.mark.parametrize(("weight", "restart"), [(44.9, "5 mcg/m2/day"), (45.0, "9 mcg/day")])
def test_blinatumomab_restart_dose_by_weight(weight: float, restart: str) -> None:
    r = blinatumomab_toxicity_action("crs", 3, weight_kg=weight)
    assert r.restart_dose is not None and r.restart_dose.startswith(restart)
    assert r.escalate_after_days == 7
    assert ("5 mg/m2 (max 8 mg)" in r.supportive_care) is (weight < 45)
    assert "Research tool" in r.summary()


def test_bsa_analogue_is_a_named_parameter() -> None:
    """Neurological grade 3 below 45 kg: restart dose only with the U02 analogue."""
    on = blinatumomab_toxicity_action("neurological", 3, weight_kg=30)
    off = blinatumomab_toxicity_action(
        "neurological", 3, weight_kg=30, bsa_analogue_below_45kg=False
    )
    assert on.restart_step_up and on.restart_dose == "5 mcg/m2/day (then 15 mcg/m2/day)"
    assert not off.restart_step_up and off.restart_dose is None
    assert any("U02" in w for w in off.warnings)
    with pytest.raises(ClinicalInputError, match="event"):
        blinatumomab_toxicity_action("rash", 3, weight_kg=70)
    with pytest.raises(ClinicalInputError, match="grade"):
        blinatumomab_toxicity_action("crs", 5, weight_kg=70)


# ---- inotuzumab (§2.6) -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "kw", "action", "rule"),
    [
        ("neutropenia", {}, "continue", "inotuzumab.mod.cytopenia.within_cycle"),
        ("vod", {}, "discontinue", "inotuzumab.mod.vod"),
        # boundaries: bilirubin > 1.5 and AST/ALT > 2.5 x ULN (both strict)
        (
            "liver_tests",
            {"bilirubin_x_uln": 1.51, "ast_alt_x_uln": 2.51},
            "hold_dose",
            "inotuzumab.mod.liver_tests.hold",
        ),
        (
            "liver_tests",
            {"bilirubin_x_uln": 1.5, "ast_alt_x_uln": 3.0},
            "continue",
            "inotuzumab.mod.liver_tests.continue",
        ),
        (
            "liver_tests",
            {"bilirubin_x_uln": 2.0, "ast_alt_x_uln": 2.5},
            "continue",
            "inotuzumab.mod.liver_tests.continue",
        ),
        (
            "liver_tests",
            {"bilirubin_x_uln": 2.0, "ast_alt_x_uln": 3.0, "gilbert_or_haemolysis": True},
            "continue",
            "inotuzumab.mod.liver_tests.continue",
        ),
        ("non_hematological", {"grade": 1}, "continue", "inotuzumab.mod.non_hematological.grade1"),
        (
            "non_hematological",
            {"grade": 2},
            "interrupt",
            "inotuzumab.mod.non_hematological.grade2plus",
        ),
        ("infusion_reaction", {"severe": False}, "interrupt", "inotuzumab.mod.infusion_reaction"),
        (
            "infusion_reaction",
            {"severe": True},
            "discontinue",
            "inotuzumab.mod.infusion_reaction.severe",
        ),
    ],
)
def test_inotuzumab_toxicity_rules(event: str, kw: dict[str, Any], action: str, rule: str) -> None:
    r = inotuzumab_toxicity_action(event, **kw)
    assert (r.action, r.rule_id) == (action, rule)
    assert "[S:" in r.source


@pytest.mark.parametrize(
    ("days", "text"),
    [(6, "< 7 days"), (7, ">= 7 days"), (14, ">= 14 days"), (28, ">= 14 days"), (29, "> 28")],
)
def test_inotuzumab_u05_interruption_rules_only_when_asked(days: int, text: str) -> None:
    on = inotuzumab_toxicity_action(
        "non_hematological", grade=3, interruption_days=days, apply_u05_interruption_rules=True
    )
    assert "U05" in on.unverified and any(text in w for w in on.warnings)
    off = inotuzumab_toxicity_action("non_hematological", grade=3, interruption_days=days)
    assert "U05" not in off.unverified and any("not applied" in w for w in off.warnings)


def test_inotuzumab_toxicity_input_errors() -> None:
    with pytest.raises(ClinicalInputError, match="bilirubin"):
        inotuzumab_toxicity_action("liver_tests", bilirubin_x_uln=2.0)
    with pytest.raises(ClinicalInputError, match="grade"):
        inotuzumab_toxicity_action("non_hematological")
    with pytest.raises(ClinicalInputError, match="severe"):
        inotuzumab_toxicity_action("infusion_reaction")


PLANNED = dt.date(2024, 1, 22)


@pytest.mark.parametrize(
    ("counts", "delay", "rule"),
    [
        # ready on the planned day: ANC 1.0 >= 1, platelets 50 >= 50 (boundaries)
        ([(PLANNED, 1.0, 50.0)], 0, "inotuzumab.delay.normal_baseline"),
        # ANC 0.99 < 1 on day 0; ANC 1.2 and plt 60 on day 5 -> delay 5
        ([(PLANNED, 0.99, 80.0), (PLANNED + dt.timedelta(days=5), 1.2, 60.0)], 5, None),
        # platelets 49.9 < 50 until day 10
        (
            [(PLANNED + dt.timedelta(days=10), 2.0, 55.0), (PLANNED, 2.0, 49.9)],
            10,
            "inotuzumab.delay.normal_baseline",
        ),
    ],
)
def test_inotuzumab_cycle_delay_normal_baseline(
    counts: list[tuple[dt.date, float, float]], delay: int, rule: str | None
) -> None:
    """Pre-treatment ANC >= 1 and platelets >= 50: delay until both recover [S:L-BESP]."""
    r = inotuzumab_cycle_delay(PLANNED, counts, pretreatment_anc=2.0, pretreatment_plt=120.0)
    assert r.delay_days == delay and r.discontinue is False
    if rule:
        assert r.rule_id == rule
    cal = treatment_calendar(
        "inotuzumab_us",
        dt.date(2024, 1, 1),
        cycles=2,
        weight_kg=70,
        height_cm=170,
        responses={2: "CR"},
        delays={2: r.delay_days or 0},
    )
    assert cal.cycles[1].start == PLANNED + dt.timedelta(days=delay)


@pytest.mark.parametrize(
    ("wait", "related", "discontinue", "suffix"),
    [(28, True, False, ""), (29, True, True, ".over_28_days"), (29, None, None, ".over_28_days")],
)
def test_inotuzumab_cycle_delay_28_day_boundary(
    wait: int, related: bool | None, discontinue: bool | None, suffix: str
) -> None:
    """No recovery for 28 days: still waiting; > 28 days and drug-related: discontinue."""
    counts = [(PLANNED + dt.timedelta(days=d), 0.5, 30.0) for d in range(0, wait + 1, 7)]
    counts.append((PLANNED + dt.timedelta(days=wait), 0.5, 30.0))
    r = inotuzumab_cycle_delay(
        PLANNED, counts, pretreatment_anc=2.0, pretreatment_plt=120.0, drug_related=related
    )
    assert r.ready_date is None and r.delay_days is None
    assert r.discontinue is discontinue
    assert r.rule_id == "inotuzumab.delay.normal_baseline" + suffix


def test_inotuzumab_cycle_delay_low_baseline_u05() -> None:
    """Pre-treatment ANC 0.4 (< 1): recovery to the pre-treatment counts suffices (U05)."""
    r = inotuzumab_cycle_delay(
        PLANNED,
        [
            {"date": PLANNED, "anc": 0.3, "plt": 40.0},
            {"date": PLANNED + dt.timedelta(3), "anc": 0.4, "plt": 40.0},
        ],
        pretreatment_anc=0.4,
        pretreatment_plt=35.0,
    )
    assert (r.delay_days, r.rule_id) == (3, "inotuzumab.delay.low_baseline")
    assert "U05" in r.unverified and "Research tool" in r.summary()
    with pytest.raises(ClinicalInputError, match="date"):
        inotuzumab_cycle_delay(
            PLANNED, [("2024-01-01", 1.0, 50.0)], pretreatment_anc=1, pretreatment_plt=50
        )
