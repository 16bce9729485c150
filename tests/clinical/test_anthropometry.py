"""BSA formulas against the test vectors of clinical-reference.md §2.10, and input refusals."""

from __future__ import annotations

import math

import pytest

from rrball.clinical import body_surface_area
from rrball.errors import ClinicalInputError

# (height cm, weight kg, Mosteller, DuBois, Haycock, Gehan-George) — §2.10 table [S:BSA]
BSA_VECTORS = [
    (170, 70, 1.8181, 1.8097, 1.8257, 1.8313),
    (160, 45, 1.4142, 1.4354, 1.4054, 1.4220),
    (150, 44.9, 1.3678, 1.3685, 1.3682, 1.3822),
    (110, 18, 0.7416, 0.7411, 0.7401, 0.7575),
    (75, 9.5, 0.4449, 0.4279, 0.4509, 0.4638),
    (190, 120, 2.5166, 2.4667, 2.5495, 2.5329),
]
FORMULAS = ("mosteller", "dubois", "haycock", "gehan_george")


@pytest.mark.parametrize("row", BSA_VECTORS, ids=lambda r: f"{r[0]}cm-{r[1]}kg")
@pytest.mark.parametrize("k", range(4), ids=FORMULAS)
def test_bsa_matches_reference_vectors(row: tuple[float, ...], k: int) -> None:
    """Each formula reproduces the §2.10 value to its 4 printed decimals."""
    h, w = row[0], row[1]
    res = body_surface_area(h, w, formula=FORMULAS[k])
    assert res.value == pytest.approx(row[2 + k], abs=5e-5)
    assert res.formula == FORMULAS[k]
    assert "[S:BSA]" in res.formula_text


def test_mosteller_is_default_and_unrounded() -> None:
    """Default formula is Mosteller; the value is the exact sqrt(H*W/3600), never rounded."""
    res = body_surface_area(150, 44.9)
    assert res.formula == "mosteller"
    assert res.value == math.sqrt(150 * 44.9 / 3600)
    assert float(res) == res.value
    assert "mosteller" in res.summary()
    assert res.to_dict()["formula"] == "mosteller"


@pytest.mark.parametrize(
    ("height", "weight", "field", "hint"),
    [
        (1.75, 70, "height_cm", "metres"),
        (175, 70000, "weight_kg", "grams"),
        (175, 0, "weight_kg", "1 to 300"),
        (175, -5, "weight_kg", "1 to 300"),
        (39.9, 10, "height_cm", "40 to 250"),
        (250.1, 80, "height_cm", "40 to 250"),
        (175, 300.1, "weight_kg", "1 to 300"),
        (175, float("nan"), "weight_kg", "finite"),
        (69, 154, "weight_kg/height_cm", "BMI"),  # inches and pounds
        (180, 10, "weight_kg/height_cm", "BMI"),
    ],
)
def test_implausible_inputs_are_refused(
    height: float, weight: float, field: str, hint: str
) -> None:
    """Unit errors and impossible values raise ClinicalInputError naming field, value, range."""
    with pytest.raises(ClinicalInputError) as err:
        body_surface_area(height, weight)
    assert err.value.field == field
    assert hint in err.value.accepted


def test_limits_are_inclusive_at_the_refusal_edges() -> None:
    """Exactly 40 cm and 250 cm are accepted when BMI and BSA are plausible (§2.0.2); a BSA
    above 3.5 m² is refused even when weight and height are each inside their limits."""
    assert body_surface_area(40, 1.5).value == pytest.approx(math.sqrt(40 * 1.5 / 3600))
    assert body_surface_area(250, 150).value == pytest.approx(math.sqrt(250 * 150 / 3600))
    with pytest.raises(ClinicalInputError) as err:
        body_surface_area(250, 300)
    assert err.value.field == "bsa_m2"


def test_warnings_for_unusual_but_possible_values() -> None:
    """Weight > 200 kg and BSA > 2.5 m² compute with warnings; age outside 0-120 is refused."""
    res = body_surface_area(200, 210)
    assert any("weight" in w for w in res.warnings)
    assert any("BSA" in w for w in res.warnings)
    with pytest.raises(ClinicalInputError) as err:
        body_surface_area(170, 70, age_years=121)
    assert err.value.field == "age_years"


def test_unknown_formula_is_refused() -> None:
    with pytest.raises(ClinicalInputError) as err:
        body_surface_area(170, 70, formula="boyd")
    assert err.value.field == "formula"
