"""Cytokine release syndrome, ASTCT 2019 consensus grading (§4.1) [S:ASTCT]."""

from __future__ import annotations

from types import MappingProxyType

from rrball.clinical._inputs import check_number as _num
from rrball.clinical.toxicity._common import ToxicityGrade, top_domain
from rrball.errors import ClinicalInputError

__all__ = ["OXYGEN_DEVICES", "grade_crs"]

FEVER_C = 38.0  # fever >= 38.0 °C [S:ASTCT]
LOW_FLOW_MAX_L_MIN = 6.0  # low-flow nasal cannula <= 6 L/min; high-flow > 6 L/min [S:ASTCT]
OXYGEN_DEVICES = MappingProxyType(
    {
        "none": 0,
        "low_flow_nasal_cannula": 2,
        "blow_by": 2,
        "nasal_cannula": -1,
        "high_flow_nasal_cannula": 3,
        "facemask": 3,
        "non_rebreather": 3,
        "venturi": 3,
        "cpap": 4,
        "bipap": 4,
        "mechanical_ventilation": 4,
    }
)


def grade_crs(
    *,
    temp_max_c: float | None,
    hypotension: bool | None,
    n_vasopressors_excl_vasopressin: int | None = 0,
    vasopressin: bool | None = False,
    oxygen_device: str | None = "none",
    o2_flow_l_min: float | None = None,
    fever_masked: bool = False,
) -> ToxicityGrade:
    """CRS grade by the ASTCT 2019 consensus [S:ASTCT] (table via PMC8021214, PMC9327779).

    Fever ≥ 38.0 °C is required unless ``fever_masked`` (antipyretic or anti-cytokine therapy
    such as tocilizumab or corticosteroids already given for CRS). Hypotension: not needing
    vasopressors → 2; one vasopressor with or without vasopressin → 3; multiple vasopressors
    (excluding vasopressin) → 4. Hypoxia: low-flow nasal cannula (≤ 6 L/min) or blow-by → 2;
    high-flow cannula (> 6 L/min), facemask, non-rebreather or Venturi → 3; CPAP, BiPAP or
    mechanical ventilation → 4. Grade = the most severe domain. ``hypotension`` must be judged
    clinically (no numeric definition in the table read, UNVERIFIED U19); grade 5 is not assigned
    (U19). Masked fever with neither hypotension nor hypoxia → 0 ("not currently gradable",
    PROPOSED). ``oxygen_device="nasal_cannula"`` is graded by ``o2_flow_l_min``.
    """
    missing: list[str] = []
    warnings: list[str] = []
    temp = None
    if temp_max_c is not None:
        temp = _num("temp_max_c", temp_max_c, "a temperature in °C")
        if not 30.0 <= temp <= 45.0:
            raise ClinicalInputError("temp_max_c", temp_max_c, "30 to 45 °C (Fahrenheit? convert)")
    if oxygen_device is not None and oxygen_device not in OXYGEN_DEVICES:
        raise ClinicalInputError("oxygen_device", oxygen_device, f"one of {sorted(OXYGEN_DEVICES)}")
    flow = None
    if o2_flow_l_min is not None:
        flow = _num("o2_flow_l_min", o2_flow_l_min, "L/min")
        if not 0.0 <= flow <= 80.0:
            raise ClinicalInputError("o2_flow_l_min", o2_flow_l_min, "0 to 80 L/min")
    nvp = n_vasopressors_excl_vasopressin
    if nvp is not None and (isinstance(nvp, bool) or not isinstance(nvp, int) or nvp < 0):
        raise ClinicalInputError("n_vasopressors_excl_vasopressin", nvp, "a whole number >= 0")
    inputs = MappingProxyType(
        {
            "temp_max_c": temp,
            "fever_masked": fever_masked,
            "hypotension": hypotension,
            "n_vasopressors_excl_vasopressin": nvp,
            "vasopressin": vasopressin,
            "oxygen_device": oxygen_device,
            "o2_flow_l_min": flow,
        }
    )
    febrile = None if temp is None else temp >= FEVER_C
    if febrile is None and not fever_masked:
        missing.append("temp_max_c")
    g_fever = 1 if febrile else 0
    g_hyp = 0
    if hypotension is None:
        missing.append("hypotension")
    elif hypotension:
        if nvp is None:
            missing.append("n_vasopressors_excl_vasopressin")
            g_hyp = 2
        elif nvp >= 2:
            g_hyp = 4
        elif nvp == 1 or vasopressin:
            g_hyp = 3
        else:
            g_hyp = 2
    elif (nvp or 0) > 0 or vasopressin:
        warnings.append("vasopressors recorded without hypotension (R-XF-028): not graded")
    g_oxy = 0
    if oxygen_device is None:
        missing.append("oxygen_device")
    else:
        g_oxy = OXYGEN_DEVICES[oxygen_device]
        if oxygen_device in ("nasal_cannula", "low_flow_nasal_cannula", "high_flow_nasal_cannula"):
            if flow is None:
                if oxygen_device == "nasal_cannula":
                    missing.append("o2_flow_l_min")
                    g_oxy = 2
            else:
                by_flow = 2 if flow <= LOW_FLOW_MAX_L_MIN else 3
                if g_oxy not in (-1, by_flow):
                    warnings.append(
                        f"{oxygen_device} with {flow:g} L/min: graded by flow (<= 6 low, > 6 high)"
                    )
                g_oxy = by_flow
    domains = {"fever": g_fever, "hypotension": g_hyp, "hypoxia": g_oxy}
    if not febrile and not fever_masked:
        grade, domain, rule = 0, None, "crs.no_fever"
        if febrile is None:
            rule = "crs.fever_unknown"
    else:
        grade, domain = top_domain(domains)
        rule = f"crs.grade{grade}.{domain}" if domain else "crs.masked_fever.not_gradable"
        if fever_masked and grade == 0:
            warnings.append("fever masked, no hypotension or hypoxia: not currently gradable")
    return ToxicityGrade(
        term="crs",
        grade=grade,
        domain=domain,
        domains=MappingProxyType(domains),
        criteria="ASTCT 2019",
        rule_id=rule,
        inputs=inputs,
        incomplete=bool(missing),
        missing=tuple(missing),
        source="[S:ASTCT] (PMC8021214 Table 1, PMC9327779); clinical-reference.md §4.1",
        unverified=("U19",),
        warnings=tuple(warnings),
        method=MappingProxyType({"fever_c": FEVER_C, "low_flow_max_l_min": LOW_FLOW_MAX_L_MIN}),
    )
