"""Dose calculators against hand-worked label arithmetic (clinical-reference.md §2.1–2.10).

Each case states the arithmetic from the label text; the expected value is computed from that
arithmetic (BSA by Mosteller, sqrt(H*W/3600)), then checked against the §2.10 rounded value.
Research tool, not for clinical dosing decisions.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rrball.clinical import (
    DISCLAIMER,
    blinatumomab_dose,
    inotuzumab_dose,
    list_regimens,
    regimen,
    regimen_doses,
)
from rrball.errors import ClinicalInputError


def bsa(h: float, w: float) -> float:
    return math.sqrt(h * w / 3600)


# (weight, height, indication, cycle, day, arithmetic, expected mcg/day, cap_applied, §2.10 value)
BLINA_CASES = [
    (45, 160, "rr", 1, 1, "45.0 kg is >= 45: flat 9", 9.0, False, 9.0),
    (45, 160, "rr", 1, 8, ">= 45 kg, C1 D8-28: flat 28", 28.0, False, None),
    (45, 160, "rr", 2, 1, ">= 45 kg, cycles 2-9: flat 28", 28.0, False, None),
    (70, 175, "rr", 1, 7, ">= 45 kg, C1 D1-7: flat 9", 9.0, False, None),
    (70, 175, "rr", 2, 28, ">= 45 kg, C2 D28: flat 28", 28.0, False, None),
    (
        44.9,
        150,
        "rr",
        1,
        1,
        "5 x sqrt(150*44.9/3600) = 5 x 1.36778",
        5 * bsa(150, 44.9),
        False,
        6.839,
    ),
    (44.9, 150, "rr", 1, 8, "15 x 1.36778", 15 * bsa(150, 44.9), False, 20.517),
    (
        44.9,
        150,
        "rr",
        2,
        1,
        "15 x 1.36778 (no step-up in cycle 2)",
        15 * bsa(150, 44.9),
        False,
        None,
    ),
    (20, 115, "rr", 1, 1, "5 x sqrt(115*20/3600) = 5 x 0.79931", 5 * bsa(115, 20), False, None),
    (20, 115, "rr", 1, 8, "15 x 0.79931", 15 * bsa(115, 20), False, None),
    (20, 115, "rr", 6, 1, "continued therapy: 15 x 0.79931", 15 * bsa(115, 20), False, None),
    (
        18,
        110,
        "mrd_positive",
        1,
        1,
        "15 x sqrt(110*18/3600) = 15 x 0.74162",
        15 * bsa(110, 18),
        False,
        11.124,
    ),
    (45, 160, "mrd_positive", 1, 1, ">= 45 kg MRD+: flat 28, no step-up", 28.0, False, None),
    (
        120,
        190,
        "seed000_adult_mr",
        1,
        1,
        "15 x sqrt(190*120/3600) = 15 x 2.51661, uncapped",
        15 * bsa(190, 120),
        False,
        37.749,
    ),
    (
        44.9,
        150,
        "seed000",
        1,
        1,
        "seed 000 < 45 kg: 5 x 1.36778, no cap stated",
        5 * bsa(150, 44.9),
        False,
        None,
    ),
    (70, 175, "seed000", 2, 1, "seed 000 > 45 kg later cycle: flat 28", 28.0, False, None),
]


@pytest.mark.parametrize("case", BLINA_CASES, ids=lambda c: f"{c[0]}kg-{c[2]}-C{c[3]}D{c[4]}")
def test_blinatumomab_dose_table(case: tuple[object, ...]) -> None:
    """Blinatumomab doses follow the label/seed tables (§2.1, §2.2, §2.4, §2.10)."""
    w, h, ind, cyc, day, _arith, expected, capped, ref = case
    res = blinatumomab_dose(w, h, cycle=cyc, day=day, indication=ind)  # type: ignore[arg-type]
    assert res.dose == pytest.approx(expected, rel=1e-12)
    assert res.cap_applied is capped
    if ref is not None:
        assert round(res.dose, 3) == pytest.approx(ref)
    assert res.unit == "mcg/day"
    assert res.source.startswith("[S:")
    assert DISCLAIMER in res.summary()
    assert res.to_dict()["disclaimer"] == DISCLAIMER
    assert res.inputs["weight_kg"] == w
    assert res.formula == "mosteller"


def test_blinatumomab_adult_mr_flags_dose_above_label() -> None:
    """Seed 000 adult MR at BSA 2.5166: 37.749 mcg/day, computed uncapped and flagged (§2.4)."""
    res = blinatumomab_dose(120, 190, cycle=1, day=1, indication="seed000_adult_mr")
    assert res.exceeds_label_fixed_dose
    assert res.label_fixed_dose == 28
    small = blinatumomab_dose(50, 160, cycle=1, day=1, indication="seed000_adult_mr")
    assert small.dose == pytest.approx(15 * bsa(160, 50))
    assert not small.exceeds_label_fixed_dose


@pytest.mark.parametrize(("cycle", "day"), [(1, 29), (1, 42), (5, 35), (6, 29), (9, 84)])
def test_blinatumomab_treatment_free_days_give_zero(cycle: int, day: int) -> None:
    """Days 29-42 (cycles 1-5) and 29-84 (cycles 6-9) are treatment-free: dose 0 [S:L-BLIN]."""
    res = blinatumomab_dose(70, 175, cycle=cycle, day=day, indication="rr")
    assert res.dose == 0.0
    assert res.treatment_free
    assert "treatment-free" in res.source


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cycle": 10, "day": 1, "indication": "rr"}, "cycle"),
        ({"cycle": 5, "day": 43, "indication": "rr"}, "day"),
        ({"cycle": 5, "day": 85, "indication": "rr"}, "day"),
        ({"cycle": 5, "day": 1, "indication": "mrd_positive"}, "cycle"),
        ({"cycle": 1, "day": 0, "indication": "rr"}, "day"),
        ({"cycle": 1, "day": 1, "indication": "label"}, "indication"),
        (
            {"cycle": 1, "day": 1, "indication": "rr", "step_up_every_cycle": True},
            "step_up_every_cycle",
        ),
    ],
)
def test_blinatumomab_refuses_undefined_cycles_and_days(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ClinicalInputError) as err:
        blinatumomab_dose(70, 175, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def test_seed000_step_up_every_cycle_parameter() -> None:
    """U41: with step_up_every_cycle, cycle 2 day 1 is 9 mcg/day instead of 28."""
    default = blinatumomab_dose(70, 175, cycle=2, day=1, indication="seed000")
    every = blinatumomab_dose(
        70, 175, cycle=2, day=1, indication="seed000", step_up_every_cycle=True
    )
    assert (default.dose, every.dose) == (28.0, 9.0)
    assert "U41" in every.unverified


# (height, weight, cycle, day, response, arithmetic, expected mg, §2.10 value)
INO_CASES = [
    (170, 70, 1, 1, None, "0.8 x sqrt(170*70/3600) = 0.8 x 1.81812", 0.8 * bsa(170, 70), 1.454),
    (170, 70, 1, 8, None, "0.5 x 1.81812", 0.5 * bsa(170, 70), 0.909),
    (170, 70, 1, 15, None, "0.5 x 1.81812", 0.5 * bsa(170, 70), 0.909),
    (170, 70, 2, 1, "CR", "after CR: 0.5 x 1.81812", 0.5 * bsa(170, 70), 0.909),
    (170, 70, 2, 8, "CR", "0.5 x 1.81812", 0.5 * bsa(170, 70), 0.909),
    (170, 70, 2, 15, "CRi", "0.5 x 1.81812", 0.5 * bsa(170, 70), 0.909),
    (170, 70, 2, 1, "PR", "no CR/CRi: 0.8 x 1.81812", 0.8 * bsa(170, 70), 1.454),
    (
        170,
        70,
        3,
        1,
        "CR_MRDNEG",
        "after CR (MRD suffix ignored): 0.5 x 1.81812",
        0.5 * bsa(170, 70),
        None,
    ),
    (115, 20, 1, 1, None, "0.8 x sqrt(115*20/3600) = 0.8 x 0.79931", 0.8 * bsa(115, 20), None),
    (150, 44.9, 1, 8, None, "0.5 x 1.36778", 0.5 * bsa(150, 44.9), None),
    (160, 45, 2, 1, "NO_RESPONSE", "0.8 x 1.41421", 0.8 * bsa(160, 45), None),
]


@pytest.mark.parametrize("case", INO_CASES, ids=lambda c: f"{c[1]}kg-C{c[2]}D{c[3]}-{c[4]}")
def test_inotuzumab_dose_table(case: tuple[object, ...]) -> None:
    """Inotuzumab 0.8/0.5/0.5 mg/m² in cycle 1; later day 1 by response (§2.5, §2.10)."""
    h, w, cyc, day, resp, _arith, expected, ref = case
    res = inotuzumab_dose(h, w, cycle=cyc, day=day, response_before_cycle=resp)  # type: ignore[arg-type]
    assert res.dose == pytest.approx(expected, rel=1e-12)
    assert res.per_m2_or_flat == "per_m2"
    assert res.cap is None and not res.cap_applied
    if ref is not None:
        assert round(res.dose, 3) == pytest.approx(ref)
    assert res.dose_display == f"{res.dose:.3f}"
    assert "[S:L-BESP]" in res.source
    assert DISCLAIMER in res.summary()


def test_inotuzumab_needs_response_from_cycle_2_and_refuses_crh() -> None:
    with pytest.raises(ClinicalInputError) as err:
        inotuzumab_dose(170, 70, cycle=2, day=1, response_before_cycle=None)
    assert err.value.field == "response_before_cycle"
    with pytest.raises(ClinicalInputError) as err:
        inotuzumab_dose(170, 70, cycle=2, day=1, response_before_cycle="CRh")
    assert "besponsa_label" in err.value.accepted
    with pytest.raises(ClinicalInputError) as err:
        inotuzumab_dose(170, 70, cycle=7, day=1, response_before_cycle="CR")
    assert err.value.field == "cycle"


def test_inotuzumab_cycle4_without_cr_warns_to_discontinue() -> None:
    res = inotuzumab_dose(170, 70, cycle=4, day=1, response_before_cycle="PR")
    assert any("discontinue" in w for w in res.warnings)


def test_inotuzumab_day_without_dose_and_extended_cycle1() -> None:
    """Day 2 has no dose; day 25 exists only when cycle 1 is extended to 28 days."""
    assert inotuzumab_dose(170, 70, cycle=1, day=2, response_before_cycle=None).dose == 0.0
    with pytest.raises(ClinicalInputError):
        inotuzumab_dose(170, 70, cycle=1, day=25, response_before_cycle=None)
    ext = inotuzumab_dose(
        170,
        70,
        cycle=1,
        day=25,
        response_before_cycle=None,
        parameters={"cycle1_length_days": 28},
    )
    assert ext.treatment_free
    with pytest.raises(ClinicalInputError):
        inotuzumab_dose(
            170,
            70,
            cycle=1,
            day=1,
            response_before_cycle=None,
            parameters={"cycle1_length_days": 35},
        )


def test_seed003_fractionated_and_chemotherapy_vectors() -> None:
    """§2.10: fractionated InO 0.6/0.3 mg/m²; CPM 150 mg/m² x6; MTX 250; Ara-C 500 mg/m²."""
    b = bsa(170, 70)
    c1 = regimen_doses("mini_hcvd_ino_blina_seed003_amended", weight_kg=70, height_cm=170, cycle=1)
    by = {(d.drug, d.day): d for d in c1.doses}
    assert by[("inotuzumab ozogamicin", 2)].dose == pytest.approx(0.6 * b)  # 1.091
    assert by[("inotuzumab ozogamicin", 8)].dose == pytest.approx(0.3 * b)  # 0.545
    assert round(by[("inotuzumab ozogamicin", 2)].dose, 3) == pytest.approx(1.091)
    cpm = [d for d in c1.doses if d.drug == "cyclophosphamide"]
    assert len(cpm) == 3 and all(d.doses_per_day == 2 for d in cpm)  # 6 doses
    assert cpm[0].dose == pytest.approx(150 * b) and cpm[0].dose_display == "272.7"
    assert by[("vincristine", 1)].dose == 2.0 and by[("vincristine", 1)].per_m2_or_flat == "flat"
    c2 = regimen_doses("mini_hcvd_ino_blina_seed003_amended", weight_kg=70, height_cm=170, cycle=2)
    by2 = {(d.drug, d.day): d for d in c2.doses}
    assert by2[("methotrexate", 1)].dose_display == "454.5"
    assert by2[("cytarabine", 2)].dose_display == "909.1"
    assert by2[("inotuzumab ozogamicin", 8)].dose == pytest.approx(0.3 * b)
    c5 = regimen_doses("mini_hcvd_ino_blina_seed003_amended", weight_kg=70, height_cm=170, cycle=5)
    assert {d.dose for d in c5.doses if d.drug == "blinatumomab"} == {9.0, 28.0}
    assert "U09" in c5.doses[0].unverified


def test_seed003_original_requires_ino_dose_inside_published_range() -> None:
    """U11: the original InO dose must be given explicitly within 1.3-1.8 / 1.0-1.3 mg/m²."""
    with pytest.raises(ClinicalInputError) as err:
        regimen_doses("mini_hcvd_ino_seed003_original", weight_kg=70, height_cm=170, cycle=1)
    assert "ino_dose_c1_mg_m2" in err.value.field
    with pytest.raises(ClinicalInputError):
        regimen_doses(
            "mini_hcvd_ino_seed003_original",
            weight_kg=70,
            height_cm=170,
            cycle=1,
            parameters={"ino_dose_c1_mg_m2": 2.0},
        )
    res = regimen_doses(
        "mini_hcvd_ino_seed003_original",
        weight_kg=70,
        height_cm=170,
        cycle=1,
        parameters={"ino_dose_c1_mg_m2": 1.5},
    )
    ino = [d for d in res.doses if d.drug == "inotuzumab ozogamicin"]
    assert [d.day for d in ino] == [3]
    assert ino[0].dose == pytest.approx(1.5 * bsa(170, 70))


def test_paediatric_premedication_and_binding_caps() -> None:
    """Dexamethasone 5 mg/m² (max 20 mg): 110 cm/18 kg → 3.708 mg (§2.10, cap not binding);
    methylprednisolone 1 mg/kg max 50 mg binds for a 60 kg adolescent (U06)."""
    res = regimen_doses(
        "blinatumomab_rr_us", weight_kg=18, height_cm=110, cycle=1, day=1, age_years=6
    )
    dex = next(d for d in res.doses if d.drug == "dexamethasone")
    assert dex.dose == pytest.approx(5 * bsa(110, 18)) and round(dex.dose, 3) == 3.708
    assert dex.cap == 20 and not dex.cap_applied
    adult = regimen_doses(
        "blinatumomab_rr_us", weight_kg=70, height_cm=175, cycle=2, day=1, age_years=40
    )
    assert [d.dose for d in adult.doses if d.drug == "dexamethasone"] == [20.0]
    child_c2 = regimen_doses(
        "blinatumomab_rr_us", weight_kg=18, height_cm=110, cycle=2, day=1, age_years=6
    )
    assert not [d for d in child_c2.doses if d.role == "premedication"]
    teen = regimen_doses("inotuzumab_us", weight_kg=60, height_cm=165, cycle=1, age_years=16)
    mp = [d for d in teen.doses if d.drug == "methylprednisolone"]
    assert len(mp) == 3 and all(
        d.cap_applied and d.dose == 50.0 and d.uncapped_dose == 60.0 for d in mp
    )
    unknown_age = regimen_doses("blinatumomab_rr_us", weight_kg=70, height_cm=175, cycle=1)
    assert any("age_years" in w for w in unknown_age.warnings)
    assert DISCLAIMER in unknown_age.summary()


def test_every_packaged_rule_cites_a_source() -> None:
    """Every dose rule of every packaged regimen names a known [S:...] key."""
    for name in list_regimens():
        reg = regimen(name)
        for block in reg.blocks:
            for adm in block.administrations:
                for rule in adm.dose:
                    assert "[S:" in rule.source, (name, adm.drug)


@given(
    weight=st.floats(min_value=10, max_value=44.99),
    height=st.floats(min_value=80, max_value=250),
    cycle=st.integers(min_value=1, max_value=9),
    day=st.integers(min_value=1, max_value=28),
)
def test_blinatumomab_dose_never_exceeds_cap(
    weight: float, height: float, cycle: int, day: int
) -> None:
    """Property: a capped dose never exceeds its cap, and equals min(per-m² dose, cap)."""
    bmi = weight / (height / 100) ** 2
    if not 8 <= bmi <= 80:
        return
    res = blinatumomab_dose(weight, height, cycle=cycle, day=day, indication="rr")
    assert res.cap is not None
    assert res.dose <= res.cap
    assert res.dose == pytest.approx(min(res.uncapped_dose, res.cap))


@given(weight=st.floats(min_value=30, max_value=150), age=st.floats(min_value=1, max_value=17.9))
def test_methylprednisolone_never_exceeds_cap(weight: float, age: float) -> None:
    res = regimen_doses(
        "inotuzumab_us", weight_kg=weight, height_cm=160, cycle=1, day=1, age_years=age
    )
    mp = next(d for d in res.doses if d.drug == "methylprednisolone")
    assert mp.cap is not None and mp.dose <= mp.cap
    assert mp.cap_applied == (weight > 50)
