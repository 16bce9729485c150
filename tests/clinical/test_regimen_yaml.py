"""A centre's own regimen YAML is validated against the packaged schema with located errors."""

from __future__ import annotations

import pytest

from rrball.clinical import list_regimens, load_regimen_yaml, regimen_doses
from rrball.errors import ClinicalInputError

CUSTOM = """
name: centre_ino_capped
title: Centre inotuzumab with a BSA-capped dose
indication: test
source: "[S:L-BESP] with a centre cap"
max_cycles: 1
blocks:
  - label: cycle 1
    cycles: [1]
    length_days: 21
    administrations:
      - drug: inotuzumab ozogamicin
        route: IV
        days: [1]
        display_decimals: 3
        dose:
          - {amount: 0.8, basis: per_m2, unit: mg, cap: 1.6, source: "[S:L-BESP] centre cap"}
"""


def test_custom_regimen_loads_and_cap_binds() -> None:
    reg = load_regimen_yaml(CUSTOM)
    res = regimen_doses(reg, weight_kg=120, height_cm=190, cycle=1)
    assert res.doses[0].cap_applied and res.doses[0].dose == 1.6
    assert res.doses[0].uncapped_dose > 1.6


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"[S:L-BESP] centre cap"', '"[S:NOPE] centre cap"', "unknown source key [S:NOPE]"),
        ('"[S:L-BESP] centre cap"', '"no key"', "cites no source key"),
        ("days: [1]", "days: [25]", "after the cycle end"),
        ("amount: 0.8", "amount: $missing", "not defined in 'parameters'"),
        ("basis: per_m2", "basis: per_lb", "basis"),
        ("max_cycles: 1", "max_cycles: 1\nunverified: [U99]", "unknown UNVERIFIED item"),
        ("name: centre_ino_capped", "name: Bad Name", "name"),
    ],
)
def test_schema_errors_are_located(old: str, new: str, message: str) -> None:
    with pytest.raises(ClinicalInputError) as err:
        load_regimen_yaml(CUSTOM.replace(old, new))
    assert message in str(err.value)
    assert err.value.field == "regimen YAML"


def test_yaml_syntax_error_and_packaged_regimens() -> None:
    with pytest.raises(ClinicalInputError):
        load_regimen_yaml("name: [unclosed")
    assert {
        "blinatumomab_rr_us",
        "blinatumomab_mrd_us",
        "blinatumomab_seed000",
        "inotuzumab_us",
        "inotuzumab_seed000",
        "inotuzumab_seed004_peds",
        "mini_hcvd_ino_seed003_original",
        "mini_hcvd_ino_blina_seed003_amended",
        "pomp_seed003_original",
        "pomp_blina_seed003_amended",
    } <= set(list_regimens())
