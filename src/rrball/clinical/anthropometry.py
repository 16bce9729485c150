"""Body-surface area (clinical-reference.md §2.0.1) [S:BSA].

All formulas take height H in cm and weight W in kg and give BSA in m². The labels read name no
formula (UNVERIFIED U29), so the formula is a study-level choice and is always recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rrball._result import ResultMixin, json_safe
from rrball.clinical._inputs import LIMITS_SOURCE, check_measurements
from rrball.errors import ClinicalInputError

__all__ = ["BSA_FORMULAS", "BodySurfaceAreaResult", "body_surface_area"]

BSA_REFUSE = (0.1, 3.5)
BSA_WARN = 2.5

_FORMULAS: dict[str, tuple[Callable[[float, float], float], str]] = {
    "mosteller": (
        lambda h, w: math.sqrt(h * w / 3600.0),
        "sqrt(H x W / 3600)  (Mosteller, NEJM 1987) [S:BSA]",
    ),
    "dubois": (
        lambda h, w: 0.007184 * w**0.425 * h**0.725,
        "0.007184 x W^0.425 x H^0.725  (DuBois & DuBois 1916) [S:BSA]",
    ),
    "haycock": (
        lambda h, w: 0.024265 * w**0.5378 * h**0.3964,
        "0.024265 x W^0.5378 x H^0.3964  (Haycock 1978) [S:BSA]",
    ),
    "gehan_george": (
        lambda h, w: 0.0235 * w**0.51456 * h**0.42246,
        "0.0235 x W^0.51456 x H^0.42246  (Gehan & George 1970) [S:BSA]",
    ),
}

#: formula name → the formula text with its source key
BSA_FORMULAS: Mapping[str, str] = MappingProxyType({k: v[1] for k, v in _FORMULAS.items()})


@dataclass(frozen=True, slots=True, kw_only=True)
class BodySurfaceAreaResult(ResultMixin):
    """A BSA value (m², unrounded) with the formula used, the inputs and any warnings."""

    value: float
    formula: str
    formula_text: str
    inputs: Mapping[str, Any]
    source: str
    warnings: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)

    def __float__(self) -> float:
        return self.value

    def summary(self) -> str:
        lines = [
            f"Body-surface area: {self.value:.2f} m2 (unrounded {self.value!r})",
            f"Formula: {self.formula} = {self.formula_text}",
            f"Inputs: height {self.inputs['height_cm']:g} cm, "
            f"weight {self.inputs['weight_kg']:g} kg",
        ]
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "value": self.value,
                    "formula": self.formula,
                    "formula_text": self.formula_text,
                    "inputs": dict(self.inputs),
                    "source": self.source,
                    "warnings": list(self.warnings),
                }
            )
        )


def body_surface_area(
    height_cm: float,
    weight_kg: float,
    *,
    formula: str = "mosteller",
    age_years: float | None = None,
) -> BodySurfaceAreaResult:
    """Body-surface area in m² by a named formula.

    Parameters
    ----------
    height_cm, weight_kg
        Height in centimetres and weight in kilograms. Implausible values (§2.0.2: weight outside
        1–300 kg, height outside 40–250 cm, BMI outside 8–80; heights that look like metres,
        weights that look like grams) raise :class:`~rrball.errors.ClinicalInputError`.
    formula
        ``"mosteller"`` (default, PROPOSED), ``"dubois"``, ``"haycock"``,
        ``"gehan_george"`` [S:BSA].
    age_years
        Optional; checked (0–120 years) and recorded.

    Returns
    -------
    BodySurfaceAreaResult
        ``.value`` is never rounded (§2.0.3: round for display only); ``float(result)`` works.

    Notes
    -----
    Mosteller: BSA = sqrt(H × W / 3600); DuBois: 0.007184 × W^0.425 × H^0.725; Haycock:
    0.024265 × W^0.5378 × H^0.3964; Gehan–George: 0.0235 × W^0.51456 × H^0.42246 [S:BSA].
    A computed BSA outside 0.1–3.5 m² is refused; above 2.5 m² a warning is given (§2.0.2).
    The labels read name no formula (UNVERIFIED U29).
    """
    if formula not in _FORMULAS:
        raise ClinicalInputError("formula", formula, f"one of {sorted(_FORMULAS)}")
    m = check_measurements(weight_kg, height_cm, age_years)
    fn, text = _FORMULAS[formula]
    value = fn(m.height_cm, m.weight_kg)
    if not BSA_REFUSE[0] <= value <= BSA_REFUSE[1]:
        raise ClinicalInputError(
            "bsa_m2", round(value, 4), f"{BSA_REFUSE[0]:g} to {BSA_REFUSE[1]:g} m2 {LIMITS_SOURCE}"
        )
    warnings = list(m.warnings)
    if value > BSA_WARN:
        warnings.append(
            f"BSA {value:.2f} m2 > {BSA_WARN:g} m2: per-m2 doses scale with it (no BSA cap in the "
            "labels read, UNVERIFIED U36)"
        )
    inputs: dict[str, Any] = {"height_cm": m.height_cm, "weight_kg": m.weight_kg}
    if m.age_years is not None:
        inputs["age_years"] = m.age_years
    return BodySurfaceAreaResult(
        value=value,
        formula=formula,
        formula_text=text,
        inputs=MappingProxyType(inputs),
        source="[S:BSA] clinical-reference.md §2.0.1; formula choice PROPOSED (U29)",
        warnings=tuple(warnings),
        method=MappingProxyType({"formula": formula}),
    )
