"""Dose calculators: blinatumomab, inotuzumab ozogamicin and any regimen defined as data.

Research tool, not for clinical dosing decisions.

Doses are computed from the regimen definitions (``regimens/*.yaml``, clinical-reference.md §2)
with full precision: BSA is never rounded before dosing and caps apply to the unrounded dose
(§2.0.3); the display value is rounded (blinatumomab 2, inotuzumab 3, chemotherapy 1 decimal).
Every result carries its inputs, the BSA and its formula, the per-unit dose, any cap, the rounding
and the source key of the rule used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd

from rrball._format import format_table
from rrball._result import ResultMixin, json_safe
from rrball.clinical._inputs import Measurements, check_measurements, check_number
from rrball.clinical.anthropometry import BodySurfaceAreaResult, body_surface_area
from rrball.clinical.regimens.regimen import (
    Administration,
    CycleBlock,
    DoseRule,
    ParamValue,
    Regimen,
    regimen,
)
from rrball.clinical.sources import DISCLAIMER
from rrball.errors import ClinicalInputError

__all__ = [
    "BLINATUMOMAB_INDICATIONS",
    "DoseResult",
    "RegimenDosesResult",
    "blinatumomab_dose",
    "inotuzumab_dose",
    "regimen_doses",
    "response_category",
]

#: indication → (regimen name, variant)
BLINATUMOMAB_INDICATIONS: Mapping[str, tuple[str, str | None]] = MappingProxyType(
    {
        "rr": ("blinatumomab_rr_us", None),
        "mrd_positive": ("blinatumomab_mrd_us", None),
        "seed000": ("blinatumomab_seed000", "hr_or_child"),
        "seed000_adult_mr": ("blinatumomab_seed000", "adult_mr"),
    }
)

ROUNDING = (
    "computed unrounded (BSA unrounded, cap on unrounded dose); display rounded [S:PROPOSED] §2.0.3"
)
BLIN_MIN_AGE_YEARS = 1.0 / 12.0  # labelled from 1 month [S:L-BLIN]
INO_MIN_AGE_YEARS = 1.0  # labelled from 1 year [S:FDA-INO-PED]

_CR_CRI = {"cr", "cri"}
_NOT_CR_CRI = {
    "pr",
    "nr",
    "no_response",
    "pd",
    "progressive_disease",
    "refractory",
    "relapse",
    "not_cr_or_cri",
    "bm_blast_free_no_recovery",
    "not_evaluable",
}
_AMBIGUOUS = {"crh", "crp"}


def response_category(response: str | None) -> str | None:
    """Map a response label to the inotuzumab label's two categories (or None when not given).

    ``"CR"``/``"CRi"`` (optionally with an MRD suffix such as ``"CR_MRDNEG"``) → ``"CR_or_CRi"``;
    PR, no response, PD, refractory, relapse, not evaluable → ``"not_CR_or_CRi"``. CRh and CRp are
    refused: the label's categories are CR and CRi as defined by ``besponsa_label`` [S:L-BESP-EFF];
    derive the response under that set instead of guessing.
    """
    if response is None:
        return None
    if not isinstance(response, str):
        raise ClinicalInputError("response_before_cycle", response, "a response label such as 'CR'")
    base = response.strip().lower()
    for suffix in ("_mrdneg_lowsens", "_mrdneg", "_mrdpos_low", "_mrdpos", "_mrdunk"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    if base in _CR_CRI:
        return "CR_or_CRi"
    if base in _NOT_CR_CRI:
        return "not_CR_or_CRi"
    accepted = "'CR' or 'CRi' (reduced day-1 dose) or 'PR', 'NO_RESPONSE', 'PD', 'REFRACTORY', "
    accepted += "'RELAPSE', 'NOT_EVALUABLE', 'not_CR_or_CRi'"
    if base in _AMBIGUOUS:
        accepted += (
            "; CRh/CRp are not label categories: derive the response with "
            "criteria_set='besponsa_label' (CR or CRi) [S:L-BESP-EFF]"
        )
    raise ClinicalInputError("response_before_cycle", response, accepted)


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseResult(ResultMixin):
    """One computed dose (research tool, not for clinical dosing decisions).

    ``dose`` is unrounded; ``dose_display`` is the rounded text. ``per_m2_or_flat`` is the basis
    (``"flat"``, ``"per_m2"``, ``"per_kg"``) and ``per_unit_dose`` the amount per that basis.
    ``cap_applied`` tells whether ``cap`` bound (then ``uncapped_dose`` > ``dose``).
    ``treatment_free`` is True on a day without this drug (dose 0).
    """

    regimen: str
    drug: str
    role: str
    cycle: int
    day: int
    dose: float
    dose_display: str
    unit: str
    per_unit_dose: float
    per_m2_or_flat: str
    bsa_m2: float
    formula: str
    uncapped_dose: float
    cap: float | None
    cap_applied: bool
    label_fixed_dose: float | None
    exceeds_label_fixed_dose: bool
    doses_per_day: int
    frequency: str
    route: str
    infusion_note: str
    treatment_free: bool
    arithmetic: str
    rounding: str
    inputs: Mapping[str, Any]
    source: str
    unverified: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)
    disclaimer: str = DISCLAIMER

    def summary(self) -> str:
        head = f"{self.drug} ({self.role}), {self.regimen}, cycle {self.cycle} day {self.day}"
        lines = [
            DISCLAIMER,
            head,
            f"Dose: {self.dose_display} {self.unit}"
            + (" (treatment-free day)" if self.treatment_free else ""),
            f"Arithmetic: {self.arithmetic}",
            f"BSA: {self.bsa_m2:.4f} m2 ({self.formula}); inputs: "
            + ", ".join(f"{k} {v}" for k, v in self.inputs.items()),
            f"Cap: {self.cap if self.cap is not None else 'none'}"
            + (
                " (applied)"
                if self.cap_applied
                else " (not binding)"
                if self.cap is not None
                else ""
            ),
            f"Rounding: {self.rounding}",
            f"Source: {self.source}",
        ]
        if self.exceeds_label_fixed_dose:
            lines.append(
                f"Flag: exceeds the label's fixed dose of {self.label_fixed_dose:g} {self.unit}"
            )
        if self.unverified:
            lines.append("UNVERIFIED: " + ", ".join(self.unverified))
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["inputs"] = dict(self.inputs)
        out["method"] = dict(self.method)
        return dict(json_safe(out))


@dataclass(frozen=True, slots=True, kw_only=True)
class RegimenDosesResult(ResultMixin):
    """All doses of one cycle (or one day) of a regimen; ``to_frame()`` gives one row per dose."""

    regimen: str
    cycle: int
    day: int | None
    cycle_length_days: int | None
    doses: tuple[DoseResult, ...]
    bsa: BodySurfaceAreaResult
    inputs: Mapping[str, Any]
    source: str
    unverified: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)
    disclaimer: str = DISCLAIMER

    def to_frame(self) -> pd.DataFrame:
        cols = [
            "drug",
            "role",
            "cycle",
            "day",
            "dose",
            "dose_display",
            "unit",
            "per_unit_dose",
            "per_m2_or_flat",
            "cap",
            "cap_applied",
            "doses_per_day",
            "route",
            "source",
        ]
        return pd.DataFrame([{c: getattr(d, c) for c in cols} for d in self.doses], columns=cols)

    def summary(self) -> str:
        when = f"cycle {self.cycle}" + (f" day {self.day}" if self.day is not None else "")
        rows = [
            [
                d.drug,
                d.role,
                str(d.day),
                f"{d.dose_display} {d.unit}",
                d.per_m2_or_flat,
                "yes" if d.cap_applied else "no",
            ]
            for d in self.doses
        ]
        lines = [
            DISCLAIMER,
            f"Regimen {self.regimen}, {when}; BSA {self.bsa.value:.2f} m2 ({self.bsa.formula})",
            format_table(["drug", "role", "day", "dose", "basis", "capped"], rows),
            f"Source: {self.source}",
        ]
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "regimen": self.regimen,
                    "cycle": self.cycle,
                    "day": self.day,
                    "cycle_length_days": self.cycle_length_days,
                    "doses": [d.to_dict() for d in self.doses],
                    "bsa": self.bsa.to_dict(),
                    "inputs": dict(self.inputs),
                    "source": self.source,
                    "unverified": list(self.unverified),
                    "warnings": list(self.warnings),
                    "disclaimer": self.disclaimer,
                }
            )
        )


# ---- internals ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Patient:
    m: Measurements
    bsa: BodySurfaceAreaResult
    variant: str | None
    response: str | None  # "CR_or_CRi" / "not_CR_or_CRi" / None


def _band_ok(x: float, lo: float | None, below: float | None) -> bool:
    return (lo is None or x >= lo) and (below is None or x < below)


def _applies_to_age(adm: Administration, age: float | None) -> bool | None:
    if adm.age_min_years is None and adm.age_below_years is None:
        return True
    if age is None:
        return None
    return _band_ok(age, adm.age_min_years, adm.age_below_years)


def _select_rule(reg: Regimen, adm: Administration, p: _Patient, cycle: int) -> DoseRule:
    matched: list[DoseRule] = []
    missing: set[str] = set()
    for rule in adm.dose:
        if not _band_ok(p.m.weight_kg, rule.weight_min_kg, rule.weight_below_kg):
            continue
        if rule.age_min_years is not None or rule.age_below_years is not None:
            if p.m.age_years is None:
                missing.add("age_years")
                continue
            if not _band_ok(p.m.age_years, rule.age_min_years, rule.age_below_years):
                continue
        if rule.variant is not None:
            if p.variant is None:
                missing.add("variant")
                continue
            if rule.variant != p.variant:
                continue
        if rule.response_before_cycle is not None:
            if p.response is None:
                missing.add("response_before_cycle")
                continue
            if rule.response_before_cycle != p.response:
                continue
        matched.append(rule)
    if len(matched) == 1:
        return matched[0]
    if len(matched) > 1:
        raise ClinicalInputError(
            "regimen",
            reg.name,
            f"one dose rule per patient; {adm.drug} has {len(matched)} that apply",
        )
    if "variant" in missing:
        raise ClinicalInputError(
            "variant", None, f"one of {dict(reg.variants)} (required by {reg.name})"
        )
    if "response_before_cycle" in missing:
        raise ClinicalInputError(
            "response_before_cycle",
            None,
            f"the response before cycle {cycle} ('CR', 'CRi' or another label): the {adm.drug} "
            f"dose of {reg.name} depends on it",
        )
    if "age_years" in missing:
        raise ClinicalInputError(
            "age_years", None, f"age in years (the {adm.drug} dose depends on it)"
        )
    raise ClinicalInputError(
        "variant" if p.variant else "weight_kg",
        p.variant or p.m.weight_kg,
        f"a patient covered by a dose rule of {reg.name} for {adm.drug}",
    )


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _compute(
    reg: Regimen,
    block: CycleBlock,
    adm: Administration,
    rule: DoseRule,
    p: _Patient,
    values: dict[str, ParamValue],
    cycle: int,
    day: int,
    extra_inputs: Mapping[str, Any],
) -> DoseResult:
    amount_raw = (
        reg.parameter(rule.amount[1:], values) if isinstance(rule.amount, str) else rule.amount
    )
    amount = check_number("amount", amount_raw, "a dose amount")
    unit = rule.unit
    if rule.basis == "flat":
        uncapped = amount
        arithmetic = f"flat {_fmt(amount)} {unit}"
    elif rule.basis == "per_m2":
        uncapped = amount * p.bsa.value
        arithmetic = (
            f"{_fmt(amount)} {unit} per m2 x {p.bsa.value:.6f} m2 = {_fmt(uncapped)} {unit}"
        )
    else:
        uncapped = amount * p.m.weight_kg
        arithmetic = (
            f"{_fmt(amount)} {unit} per kg x {p.m.weight_kg:g} kg = {_fmt(uncapped)} {unit}"
        )
    cap_applied = rule.cap is not None and uncapped > rule.cap
    dose = min(uncapped, rule.cap) if rule.cap is not None else uncapped
    if rule.cap is not None:
        arithmetic += f"; cap {_fmt(rule.cap)} {unit} " + (
            "applied" if cap_applied else "not binding"
        )
    exceeds = rule.label_fixed_dose is not None and dose > rule.label_fixed_dose
    warnings = list(p.m.warnings) + list(p.bsa.warnings)
    if exceeds:
        warnings.append(
            f"{_fmt(dose)} {unit} exceeds the label's fixed dose of "
            f"{_fmt(rule.label_fixed_dose or 0)} "
            f"{unit} (SEED-LITERAL, computed uncapped for reproduction)"
        )
    if adm.doses_per_day > 1:
        arithmetic += f"; per dose, {adm.doses_per_day} doses per day"
    inputs: dict[str, Any] = {
        "weight_kg": p.m.weight_kg,
        "height_cm": p.m.height_cm,
        "bsa_m2": p.bsa.value,
        "formula": p.bsa.formula,
    }
    if p.m.age_years is not None:
        inputs["age_years"] = p.m.age_years
    if p.variant is not None:
        inputs["variant"] = p.variant
    if rule.response_before_cycle is not None:
        inputs["response_before_cycle"] = p.response
    inputs.update(extra_inputs)
    src = f"{rule.source}; regimen {reg.name} ({block.label})"
    return DoseResult(
        regimen=reg.name,
        drug=adm.drug,
        role=adm.role,
        cycle=cycle,
        day=day,
        dose=dose,
        dose_display=f"{dose:.{adm.display_decimals}f}",
        unit=unit,
        per_unit_dose=amount,
        per_m2_or_flat=rule.basis,
        bsa_m2=p.bsa.value,
        formula=p.bsa.formula,
        uncapped_dose=uncapped,
        cap=rule.cap,
        cap_applied=cap_applied,
        label_fixed_dose=rule.label_fixed_dose,
        exceeds_label_fixed_dose=exceeds,
        doses_per_day=adm.doses_per_day,
        frequency=adm.frequency,
        route=adm.route,
        infusion_note=adm.infusion_note,
        treatment_free=False,
        arithmetic=arithmetic,
        rounding=f"{ROUNDING}: {adm.display_decimals} decimals",
        inputs=MappingProxyType(inputs),
        source=src,
        unverified=tuple(sorted(set(rule.unverified) | set(reg.unverified))),
        warnings=tuple(warnings),
        method=MappingProxyType({"formula": p.bsa.formula, "basis": rule.basis}),
    )


def _patient(
    reg: Regimen,
    weight_kg: float,
    height_cm: float,
    age_years: float | None,
    formula: str,
    variant: str | None,
    response: str | None,
) -> _Patient:
    m = check_measurements(weight_kg, height_cm, age_years)
    bsa = body_surface_area(m.height_cm, m.weight_kg, formula=formula)
    if variant is not None and variant not in reg.variants:
        raise ClinicalInputError("variant", variant, f"one of {sorted(reg.variants) or 'none'}")
    return _Patient(m, bsa, variant, response_category(response))


def cycle_doses(
    reg: Regimen,
    p: _Patient,
    values: dict[str, ParamValue],
    cycle: int,
    *,
    include_premedication: bool = True,
    extra_inputs: Mapping[str, Any] | None = None,
) -> tuple[CycleBlock, list[tuple[Administration, DoseResult]], list[str]]:
    """Per administration of ``cycle``: the dose (computed once, at its first day) and warnings."""
    reg.require_calculable()
    block = reg.block_for(cycle, values)
    out: list[tuple[Administration, DoseResult]] = []
    notes: list[str] = []
    for adm in block.administrations:
        if adm.role == "premedication" and not include_premedication:
            continue
        if adm.when_parameter and not all(
            reg.parameter(k, values) == v for k, v in adm.when_parameter.items()
        ):
            continue
        applies = _applies_to_age(adm, p.m.age_years)
        if applies is None:
            if adm.role == "premedication":
                notes.append(f"{adm.drug} premedication not scheduled: age_years not given")
                continue
            raise ClinicalInputError("age_years", None, f"age in years ({adm.drug} depends on it)")
        if not applies:
            continue
        rule = _select_rule(reg, adm, p, cycle)
        out.append(
            (
                adm,
                _compute(reg, block, adm, rule, p, values, cycle, adm.days[0], extra_inputs or {}),
            )
        )
    return block, out, notes


def _whole(field: str, value: object, accepted: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ClinicalInputError(field, value, accepted)
    return value


def _check_cycle(cycle: object) -> int:
    return _whole("cycle", cycle, "a whole number >= 1")


def _check_day(day: object) -> int:
    return _whole("day", day, "a whole number >= 1 (day 1 = first day of the cycle)")


def regimen_doses(
    regimen_name: str | Regimen,
    *,
    weight_kg: float,
    height_cm: float,
    cycle: int,
    day: int | None = None,
    age_years: float | None = None,
    formula: str = "mosteller",
    response_before_cycle: str | None = None,
    variant: str | None = None,
    parameters: Mapping[str, ParamValue] | None = None,
    include_premedication: bool = True,
) -> RegimenDosesResult:
    """All doses of one cycle (or of one day of it) of any regimen defined as data.

    Research tool, not for clinical dosing decisions.

    Parameters
    ----------
    regimen_name
        A packaged regimen name (see :func:`rrball.clinical.list_regimens`) or a :class:`Regimen`
        (e.g. from :func:`rrball.clinical.load_regimen_yaml`).
    weight_kg, height_cm, age_years
        Checked against the limits of clinical-reference.md §2.0.2 [S:PROPOSED].
    cycle, day
        Cycle number (from 1) and optionally one day of it; without ``day`` every administration of
        the cycle is listed (the dose of each drug on each of its days is the same).
    formula
        BSA formula [S:BSA] (default Mosteller, PROPOSED).
    response_before_cycle
        Needed where a dose depends on it (inotuzumab cycles ≥ 2 [S:L-BESP]).
    variant, parameters
        Regimen variant and overrides of its named parameters (UNVERIFIED values cite U-numbers).
    include_premedication
        List premedication doses too (premedication that depends on an unknown age is left out
        with a warning).

    Raises
    ------
    ClinicalInputError
        Implausible measurements, a cycle or day the regimen does not define, a missing input a
        dose depends on (named), unknown parameters or values outside their declared range.
    """
    cycle_i = _check_cycle(cycle)
    day_i = None if day is None else _check_day(day)
    reg = regimen(regimen_name)
    reg.require_calculable()
    values = reg.resolve_parameters(dict(parameters or {}))
    p = _patient(reg, weight_kg, height_cm, age_years, formula, variant, response_before_cycle)
    block, pairs, notes = cycle_doses(
        reg, p, values, cycle_i, include_premedication=include_premedication
    )
    length: int | None = None
    if isinstance(block.length_days, int) or block.length_days[1:] in values:
        length = reg.length_of(block, values)
    if day_i is not None and length is not None and day_i > length:
        raise ClinicalInputError("day", day_i, f"1 to {length} (cycle {cycle_i} of {reg.name})")
    doses: list[DoseResult] = []
    for adm, d in pairs:
        days = adm.days if day_i is None else [x for x in adm.days if x == day_i]
        doses += [dataclasses.replace(d, day=x) for x in days]
    doses.sort(key=lambda d: (d.day, d.role != "premedication", d.drug))
    inputs: dict[str, Any] = {"weight_kg": p.m.weight_kg, "height_cm": p.m.height_cm}
    if p.m.age_years is not None:
        inputs["age_years"] = p.m.age_years
    return RegimenDosesResult(
        regimen=reg.name,
        cycle=cycle_i,
        day=day_i,
        cycle_length_days=length,
        doses=tuple(doses),
        bsa=p.bsa,
        inputs=MappingProxyType(inputs),
        source=reg.source,
        unverified=tuple(reg.unverified),
        warnings=tuple(list(p.m.warnings) + list(p.bsa.warnings) + notes),
        method=MappingProxyType({"formula": formula, "parameters": dict(values)}),
    )


def _single_drug_dose(
    reg: Regimen,
    drug: str,
    p: _Patient,
    values: dict[str, ParamValue],
    cycle: int,
    day: int,
    extra_warnings: list[str],
) -> DoseResult:
    block, pairs, _ = cycle_doses(reg, p, values, cycle, include_premedication=False)
    length = reg.length_of(block, values)
    if day > length:
        raise ClinicalInputError("day", day, f"1 to {length} (cycle {cycle} of {reg.name})")
    for adm, d in pairs:
        if adm.drug == drug and day in adm.days:
            return dataclasses.replace(d, day=day, warnings=d.warnings + tuple(extra_warnings))
    # a day of the cycle without this drug: dose 0, the calendar's treatment-free day
    template = next(d for adm, d in pairs if adm.drug == drug)
    given = sorted({x for adm, _ in pairs if adm.drug == drug for x in adm.days})
    after_last = day > given[-1] and block.treatment_free_note
    note = block.treatment_free_note if after_last else f"no {drug} on day {day} of {reg.name}"
    return dataclasses.replace(
        template,
        day=day,
        dose=0.0,
        dose_display="0",
        uncapped_dose=0.0,
        per_unit_dose=0.0,
        cap=None,
        cap_applied=False,
        label_fixed_dose=None,
        source=f"{note}; regimen {reg.name} ({block.label})",
        exceeds_label_fixed_dose=False,
        treatment_free=True,
        arithmetic=f"day {day} is not a {drug} day (days {_ranges(given)}): {note}",
        warnings=template.warnings + tuple(extra_warnings),
    )


def _ranges(days: list[int]) -> str:
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def blinatumomab_dose(
    weight_kg: float,
    height_cm: float,
    *,
    cycle: int,
    day: int,
    indication: str,
    formula: str = "mosteller",
    age_years: float | None = None,
    step_up_every_cycle: bool = False,
) -> DoseResult:
    """Blinatumomab daily dose (mcg/day) for one day of one cycle.

    Research tool, not for clinical dosing decisions.

    Parameters
    ----------
    weight_kg, height_cm
        Actual weight as entered (no rounding; 45.0 kg is in the ≥ 45 kg category) and height.
    cycle, day
        Cycle number and day of the cycle (day 1 = start of infusion).
    indication
        ``"rr"`` — US label R/R (``blinatumomab_rr_us``, §2.1 [S:L-BLIN]): ≥ 45 kg 9 mcg/day
        cycle 1 days 1–7, then 28 mcg/day; < 45 kg 5 mcg/m²/day (max 9) then 15 mcg/m²/day
        (max 28). ``"mrd_positive"`` — US label MRD+ (``blinatumomab_mrd_us``, §2.2): 28 mcg/day or
        15 mcg/m²/day (max 28), no step-up. ``"seed000"`` — seed 000 haematological relapse /
        children (``blinatumomab_seed000``, §2.4, SEED-LITERAL, no cap stated).
        ``"seed000_adult_mr"`` — seed 000 adults with molecular relapse: 15 mcg/m²/day uncapped,
        flagged ``exceeds_label_fixed_dose`` above 28 mcg/day.
    formula
        BSA formula [S:BSA].
    age_years
        Optional; below 1 month a warning is given (below labelled age).
    step_up_every_cycle
        Seed 000 only: the first-week dose in every cycle (UNVERIFIED U41; default = label).

    Returns
    -------
    DoseResult
        With ``dose`` 0 and ``treatment_free=True`` on treatment-free days (29–42, or 29–84 in
        cycles 6–9 of the R/R label).

    Notes
    -----
    Caps bind only when BSA > 1.8 m² (5 × 1.8 = 9) or > 1.8667 m² (28/15) [S:L-BLIN]. The weight
    category uses the weight measured before each cycle (PROPOSED, UNVERIFIED U03).
    """
    if indication not in BLINATUMOMAB_INDICATIONS:
        raise ClinicalInputError(
            "indication", indication, f"one of {sorted(BLINATUMOMAB_INDICATIONS)}"
        )
    cycle_i, day_i = _check_cycle(cycle), _check_day(day)
    name, variant = BLINATUMOMAB_INDICATIONS[indication]
    reg = regimen(name)
    overrides: dict[str, ParamValue] = {}
    if step_up_every_cycle:
        if "step_up_every_cycle" not in reg.parameters:
            raise ClinicalInputError(
                "step_up_every_cycle",
                True,
                f"False for indication {indication!r} (label: cycle 1 only)",
            )
        overrides["step_up_every_cycle"] = True
    values = reg.resolve_parameters(overrides)
    p = _patient(reg, weight_kg, height_cm, age_years, formula, variant, None)
    warnings: list[str] = []
    if p.m.age_years is not None and p.m.age_years < BLIN_MIN_AGE_YEARS:
        warnings.append("age below 1 month: below the labelled age [S:L-BLIN]")
    return _single_drug_dose(reg, "blinatumomab", p, values, cycle_i, day_i, warnings)


def inotuzumab_dose(
    height_cm: float,
    weight_kg: float,
    *,
    cycle: int,
    day: int,
    response_before_cycle: str | None,
    formula: str = "mosteller",
    age_years: float | None = None,
    regimen_name: str = "inotuzumab_us",
    parameters: Mapping[str, ParamValue] | None = None,
) -> DoseResult:
    """Inotuzumab ozogamicin dose (mg) for one day of one cycle.

    Research tool, not for clinical dosing decisions.

    Parameters
    ----------
    height_cm, weight_kg
        Measurements (all doses are per m² BSA; no BSA cap in the label text read, U36).
    cycle, day
        Cycle (1–6 for the label) and day; doses on days 1, 8 and 15 [S:L-BESP].
    response_before_cycle
        Response before this cycle; required from cycle 2. ``"CR"``/``"CRi"`` → day-1 dose
        0.5 mg/m²; otherwise 0.8 mg/m² [S:L-BESP] Table 1. CRh/CRp are refused (derive the
        response under ``besponsa_label``).
    formula
        BSA formula [S:BSA].
    age_years
        Optional; below 1 year a warning is given (below labelled age [S:FDA-INO-PED]).
    regimen_name
        ``"inotuzumab_us"`` (default), ``"inotuzumab_seed000"``, ``"inotuzumab_seed004_peds"``.
    parameters
        Regimen parameters (e.g. ``{"cycle1_length_days": 28}`` when cycle 1 is extended).

    Notes
    -----
    Cycle 1: 0.8/0.5/0.5 mg/m² on days 1/8/15 (1.8 mg/m²), 21 days (28 if extended); cycles ≥ 2:
    0.5/0.5/0.5 after CR/CRi, else 0.8/0.5/0.5, 28 days; at most 6 cycles; no CR/CRi within 3
    cycles → discontinue; proceeding to HSCT: 2 cycles (3rd only if not CR/CRi and MRD-negative)
    [S:L-BESP], [S:L-BESP-HCP-IE], [S:CTA-BESP].
    """
    cycle_i, day_i = _check_cycle(cycle), _check_day(day)
    reg = regimen(regimen_name)
    if not any(a.drug == "inotuzumab ozogamicin" for b in reg.blocks for a in b.administrations):
        raise ClinicalInputError("regimen_name", regimen_name, "an inotuzumab ozogamicin regimen")
    values = reg.resolve_parameters(dict(parameters or {}))
    p = _patient(reg, weight_kg, height_cm, age_years, formula, None, response_before_cycle)
    warnings: list[str] = []
    if p.m.age_years is not None and p.m.age_years < INO_MIN_AGE_YEARS:
        warnings.append("age below 1 year: below the labelled age [S:FDA-INO-PED]")
    if reg.name == "inotuzumab_us" and cycle_i >= 4 and p.response == "not_CR_or_CRi":
        warnings.append(
            "no CR/CRi before cycle 4: the label says discontinue when CR/CRi is not reached "
            "within 3 cycles [S:L-BESP-HCP-IE]"
        )
    return _single_drug_dose(reg, "inotuzumab ozogamicin", p, values, cycle_i, day_i, warnings)
