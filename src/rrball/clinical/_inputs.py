"""Plausibility checks for patient measurements (clinical-reference.md §2.0.2, PROPOSED limits).

Refusals raise :class:`~rrball.errors.ClinicalInputError` naming the field, the value and the
accepted range; softer limits return warning texts. Nothing is ever converted or guessed: a height
of 1.75 is refused (it looks like metres), a weight of 70000 is refused (it looks like grams).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rrball.errors import ClinicalInputError

__all__ = ["Measurements", "check_age", "check_measurements", "check_number"]

WEIGHT_REFUSE = (1.0, 300.0)
WEIGHT_WARN = (3.0, 200.0)
HEIGHT_REFUSE = (40.0, 250.0)
HEIGHT_WARN = (50.0, 220.0)
BMI_REFUSE = (8.0, 80.0)
BMI_WARN = (12.0, 60.0)
AGE_REFUSE = (0.0, 120.0)
LIMITS_SOURCE = "[S:PROPOSED] clinical-reference.md §2.0.2"


def check_number(field: str, value: object, accepted: str) -> float:
    """``value`` as a finite float, or ClinicalInputError (bools and text are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ClinicalInputError(field, value, f"a number; {accepted}")
    x = float(value)
    if not math.isfinite(x):
        raise ClinicalInputError(field, value, f"a finite number; {accepted}")
    return x


@dataclass(frozen=True, slots=True)
class Measurements:
    """Checked weight (kg), height (cm), optional age (years) and the warnings they raised."""

    weight_kg: float
    height_cm: float
    age_years: float | None
    warnings: tuple[str, ...]


def check_age(age_years: object) -> float | None:
    if age_years is None:
        return None
    accepted = f"age in years, 0 to {AGE_REFUSE[1]:g} {LIMITS_SOURCE}"
    age = check_number("age_years", age_years, accepted)
    if not AGE_REFUSE[0] <= age <= AGE_REFUSE[1]:
        raise ClinicalInputError("age_years", age_years, accepted)
    return age


def check_measurements(
    weight_kg: object,
    height_cm: object,
    age_years: object = None,
    *,
    weight_unit: str = "kg",
    height_unit: str = "cm",
) -> Measurements:
    """Validate weight and height (and age); refuse implausible values, warn on unusual ones."""
    if weight_unit != "kg":
        raise ClinicalInputError("weight_unit", weight_unit, "'kg' only (convert before calling)")
    if height_unit != "cm":
        raise ClinicalInputError("height_unit", height_unit, "'cm' only (convert before calling)")
    w_acc = f"weight in kg, {WEIGHT_REFUSE[0]:g} to {WEIGHT_REFUSE[1]:g} {LIMITS_SOURCE}"
    h_acc = f"height in cm, {HEIGHT_REFUSE[0]:g} to {HEIGHT_REFUSE[1]:g} {LIMITS_SOURCE}"
    w = check_number("weight_kg", weight_kg, w_acc)
    h = check_number("height_cm", height_cm, h_acc)
    if w > WEIGHT_REFUSE[1]:
        hint = " (looks like grams: give kilograms)" if w >= 1000 else ""
        raise ClinicalInputError("weight_kg", weight_kg, w_acc + hint)
    if w < WEIGHT_REFUSE[0]:
        raise ClinicalInputError("weight_kg", weight_kg, w_acc)
    if h < HEIGHT_REFUSE[0]:
        hint = " (looks like metres: give centimetres)" if 0 < h < 3 else ""
        raise ClinicalInputError("height_cm", height_cm, h_acc + hint)
    if h > HEIGHT_REFUSE[1]:
        hint = " (looks like millimetres: give centimetres)" if h >= 400 else ""
        raise ClinicalInputError("height_cm", height_cm, h_acc + hint)
    warnings: list[str] = []
    if not WEIGHT_WARN[0] <= w <= WEIGHT_WARN[1]:
        warnings.append(f"weight {w:g} kg is outside {WEIGHT_WARN[0]:g}-{WEIGHT_WARN[1]:g} kg")
    if not HEIGHT_WARN[0] <= h <= HEIGHT_WARN[1]:
        warnings.append(f"height {h:g} cm is outside {HEIGHT_WARN[0]:g}-{HEIGHT_WARN[1]:g} cm")
    bmi = w / (h / 100.0) ** 2
    if not BMI_REFUSE[0] <= bmi <= BMI_REFUSE[1]:
        raise ClinicalInputError(
            "weight_kg/height_cm",
            f"{w:g} kg / {h:g} cm (BMI {bmi:.1f})",
            f"BMI {BMI_REFUSE[0]:g} to {BMI_REFUSE[1]:g} kg/m2; outside it a unit error "
            f"(pounds, inches) is likely {LIMITS_SOURCE}",
        )
    if not BMI_WARN[0] <= bmi <= BMI_WARN[1]:
        warnings.append(f"BMI {bmi:.1f} kg/m2 is outside {BMI_WARN[0]:g}-{BMI_WARN[1]:g}")
    return Measurements(w, h, check_age(age_years), tuple(warnings))
