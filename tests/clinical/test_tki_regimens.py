"""TKIs of §2.9: declarative regimen data validated by the same schema, refused by calculators."""

from __future__ import annotations

import datetime as dt

import pytest

from rrball.clinical import (
    inotuzumab_dose,
    list_regimens,
    load_regimen_yaml,
    regimen,
    regimen_doses,
    treatment_calendar,
)
from rrball.errors import ClinicalInputError

TKIS = ("tki_dasatinib", "tki_imatinib", "tki_nilotinib", "tki_bosutinib", "tki_ponatinib")


# drug, rule index, amount, basis, doses per day, UNVERIFIED cited — values of §2.9
@pytest.mark.parametrize(
    ("name", "drug", "rule", "amount", "basis", "per_day", "unverified"),
    [
        ("tki_dasatinib", "dasatinib", 0, 140, "flat", 1, []),  # adults 140 mg once daily
        ("tki_imatinib", "imatinib", 0, 600, "flat", 1, ["U25"]),  # adult 600 mg/day
        ("tki_imatinib", "imatinib", 1, 340, "per_m2", 1, ["U25"]),  # COG 340 mg/m2/day
        ("tki_nilotinib", "nilotinib", 0, 400, "flat", 2, ["U25"]),  # 400 mg twice daily
        ("tki_bosutinib", "bosutinib", 0, "$daily_dose_mg", "flat", 1, ["U25"]),  # 400-500 mg
        ("tki_ponatinib", "ponatinib", 0, 30, "flat", 1, []),  # newly diagnosed
        ("tki_ponatinib", "ponatinib", 1, 15, "flat", 1, []),  # after MRD-negative CR
        ("tki_ponatinib", "ponatinib", 2, 45, "flat", 1, []),  # R/R or T315I
    ],
)
def test_tki_definitions_match_the_reference(
    name: str,
    drug: str,
    rule: int,
    amount: float | str,
    basis: str,
    per_day: int,
    unverified: list[str],
) -> None:
    """Each TKI is packaged as data with the usual dose of §2.9 and the U-number it relies on."""
    reg = regimen(name)
    assert reg.context_only is not None and "§2.9" in reg.context_only
    (adm,) = reg.blocks[0].administrations
    assert adm.drug == drug and adm.doses_per_day == per_day
    r = adm.dose[rule]
    assert (r.amount, r.basis, r.unverified) == (amount, basis, unverified)
    assert "[S:" in r.source


@pytest.mark.parametrize("name", TKIS)
def test_calculators_refuse_context_only_regimens(name: str) -> None:
    """Dose calculation and calendars are refused with a message naming §2.9."""
    assert name in list_regimens()
    with pytest.raises(ClinicalInputError, match=r"context only, not for calculators.*§2\.9"):
        regimen_doses(name, weight_kg=70, height_cm=170, cycle=1, age_years=40)
    with pytest.raises(ClinicalInputError, match="context only"):
        treatment_calendar(
            name, dt.date(2024, 1, 1), cycles=1, weight_kg=70, height_cm=170, age_years=40
        )
    with pytest.raises(ClinicalInputError, match="inotuzumab"):
        inotuzumab_dose(170, 70, cycle=1, day=1, response_before_cycle=None, regimen_name=name)


def test_centre_context_only_regimen_is_validated_by_the_same_schema() -> None:
    """A centre's context-only file needs a cited reason like any source text."""
    text = """
name: centre_tki
title: centre TKI
indication: test
source: "[S:L-DASA]"
context_only: "not for calculators [S:L-DASA]"
blocks:
  - label: daily
    cycles_from: 1
    length_days: 28
    administrations:
      - drug: dasatinib
        route: PO
        days: ["1-28"]
        dose:
          - {amount: 140, basis: flat, unit: mg, source: "[S:L-DASA]"}
"""
    reg = load_regimen_yaml(text)
    with pytest.raises(ClinicalInputError, match="centre_tki is context only"):
        regimen_doses(reg, weight_kg=70, height_cm=170, cycle=1)
    with pytest.raises(ClinicalInputError, match="context_only"):
        load_regimen_yaml(text.replace('"not for calculators [S:L-DASA]"', '"no source"'))
