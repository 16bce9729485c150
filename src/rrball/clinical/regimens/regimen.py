"""Regimen definitions as data: the pydantic schema, the validator and the loaders.

Packaged regimens live next to this module as YAML (read-only, via :mod:`importlib.resources`,
cached). A centre's own regimen is parsed from YAML *text* with :func:`load_regimen_yaml` and
checked against the same schema; every problem is reported with its location in the document.
Every dose rule and every parameter cites a source key ``[S:...]`` (Appendix A of
clinical-reference.md); UNVERIFIED values name their U-number.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from rrball.clinical.sources import check_source_keys, check_unverified
from rrball.errors import ClinicalInputError

__all__ = [
    "Administration",
    "CycleBlock",
    "DoseRule",
    "Parameter",
    "Regimen",
    "list_regimens",
    "load_regimen_yaml",
    "regimen",
]

ParamValue = float | int | bool | str
_DAY_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
RESPONSE_CONDITIONS = ("CR_or_CRi", "not_CR_or_CRi")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _source_problems(text: str) -> str:
    problems = check_source_keys(text)
    if problems:
        raise ValueError("; ".join(problems))
    return text


def _unverified_problems(values: list[str]) -> list[str]:
    problems = check_unverified(values)
    if problems:
        raise ValueError("; ".join(problems))
    return values


SourceText = Annotated[str, AfterValidator(_source_problems)]
UNumbers = Annotated[list[str], AfterValidator(_unverified_problems)]


class Parameter(_Model):
    """A named, overridable setting (UNVERIFIED values and study-level choices)."""

    description: str
    default: ParamValue | None = None
    minimum: float | None = None
    maximum: float | None = None
    allowed: list[ParamValue] | None = None
    unit: str | None = None
    source: SourceText
    unverified: UNumbers = Field(default_factory=list)

    @property
    def required(self) -> bool:
        return self.default is None


class DoseRule(_Model):
    """One dose: an amount per unit of a basis, an optional cap and the patients it applies to.

    ``amount`` is a number or ``"$name"`` (a regimen parameter). ``weight_min_kg`` is inclusive,
    ``weight_below_kg`` exclusive; likewise for age. ``cap`` is in the dose unit and applies to the
    unrounded dose. ``label_fixed_dose`` flags (never caps) a dose above the label's fixed dose.
    """

    amount: float | str
    basis: Literal["flat", "per_m2", "per_kg"]
    unit: str
    cap: float | None = None
    weight_min_kg: float | None = None
    weight_below_kg: float | None = None
    age_min_years: float | None = None
    age_below_years: float | None = None
    response_before_cycle: Literal["CR_or_CRi", "not_CR_or_CRi"] | None = None
    variant: str | None = None
    label_fixed_dose: float | None = None
    source: SourceText
    unverified: UNumbers = Field(default_factory=list)
    note: str | None = None

    @field_validator("amount")
    @classmethod
    def _amount(cls, v: float | str) -> float | str:
        if isinstance(v, str) and not v.startswith("$"):
            raise ValueError("amount must be a number or '$parameter_name'")
        if isinstance(v, float | int) and v <= 0:
            raise ValueError("amount must be > 0")
        return v


class Administration(_Model):
    """A drug given on some days of a cycle, with its dose rules (first matching rule applies).

    ``also_on_restart`` (premedication): given again when an infusion restarts after an
    interruption inside the cycle (blinatumomab, restart after >= 4 h [S:L-BLIN]).
    """

    drug: str
    role: Literal["treatment", "premedication"] = "treatment"
    route: str
    days: list[int]
    doses_per_day: int = Field(default=1, ge=1, le=6)
    frequency: str = "once daily"
    infusion_note: str = ""
    display_decimals: int = Field(default=1, ge=0, le=4)
    age_min_years: float | None = None
    age_below_years: float | None = None
    when_parameter: dict[str, ParamValue] | None = None
    also_on_restart: bool = False
    dose: list[DoseRule] = Field(min_length=1)

    @field_validator("days", mode="before")
    @classmethod
    def _expand_days(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        out: list[Any] = []
        for item in v:
            m = _DAY_RANGE.match(item) if isinstance(item, str) else None
            if m:
                a, b = int(m.group(1)), int(m.group(2))
                if b < a:
                    raise ValueError(f"day range {item!r} runs backwards")
                out.extend(range(a, b + 1))
            else:
                out.append(item)
        return out

    @field_validator("days")
    @classmethod
    def _days_ok(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("at least one day is needed")
        if any(d < 1 for d in v):
            raise ValueError("days are numbered from 1 (day 1 = first day of the cycle)")
        if len(set(v)) != len(v):
            raise ValueError("a day is listed twice")
        return sorted(v)


class CycleBlock(_Model):
    """The cycles sharing one plan: which cycles, cycle length and administrations."""

    label: str
    cycles: list[int] | None = None
    cycles_from: int | None = Field(default=None, ge=1)
    length_days: int | str
    allowed_length_days: list[int] | None = None
    when_parameter: dict[str, ParamValue] | None = None
    treatment_free_note: str = ""
    administrations: list[Administration] = Field(min_length=1)

    @model_validator(mode="after")
    def _cycles_given(self) -> CycleBlock:
        if (self.cycles is None) == (self.cycles_from is None):
            raise ValueError("give exactly one of 'cycles' (a list) or 'cycles_from' (first cycle)")
        if self.cycles is not None and (not self.cycles or min(self.cycles) < 1):
            raise ValueError("cycles are numbered from 1")
        if isinstance(self.length_days, str) and not self.length_days.startswith("$"):
            raise ValueError("length_days must be an integer or '$parameter_name'")
        if isinstance(self.length_days, int):
            if self.length_days < 1:
                raise ValueError("length_days must be >= 1")
            for adm in self.administrations:
                if max(adm.days) > self.length_days:
                    raise ValueError(
                        f"{adm.drug}: day {max(adm.days)} is after the cycle end "
                        f"(length {self.length_days} days)"
                    )
        return self

    def covers(self, cycle: int) -> bool:
        if self.cycles is not None:
            return cycle in self.cycles
        return self.cycles_from is not None and cycle >= self.cycles_from


class Regimen(_Model):
    """A regimen definition (the YAML schema). See ``regimens/*.yaml`` for examples."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    indication: str
    source: SourceText
    unverified: UNumbers = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    max_cycles: int | None = Field(default=None, ge=1)
    context_only: SourceText | None = None
    variants: dict[str, str] = Field(default_factory=dict)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    blocks: list[CycleBlock] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_checks(self) -> Regimen:
        problems: list[str] = []
        for name, p in self.parameters.items():
            if p.default is not None:
                problems += _param_value_problems(name, p, p.default)
        for bi, block in enumerate(self.blocks):
            where = f"blocks[{bi}] ({block.label})"
            refs = [block.length_days] if isinstance(block.length_days, str) else []
            conds = [block.when_parameter or {}]
            for adm in block.administrations:
                conds.append(adm.when_parameter or {})
                for rule in adm.dose:
                    if isinstance(rule.amount, str):
                        refs.append(rule.amount)
                    if rule.variant is not None and rule.variant not in self.variants:
                        problems.append(f"{where}: {adm.drug}: unknown variant {rule.variant!r}")
            for ref in refs:
                if ref[1:] not in self.parameters:
                    problems.append(f"{where}: parameter {ref!r} is not defined in 'parameters'")
            for cond in conds:
                problems += [
                    f"{where}: when_parameter names unknown parameter {k!r}"
                    for k in cond
                    if k not in self.parameters
                ]
            if self.max_cycles is not None and block.cycles is not None:
                over = [c for c in block.cycles if c > self.max_cycles]
                if over:
                    problems.append(f"{where}: cycles {over} exceed max_cycles {self.max_cycles}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # ---- lookups ------------------------------------------------------------------------
    def require_calculable(self) -> None:
        """Refuse dose calculation for a context-only regimen (e.g. the TKIs of §2.9).

        Such a definition records the usual doses as context; exposure belongs in a
        concomitant-medication record (drug, start, stop, dose if known), never a computed dose.
        """
        if self.context_only is not None:
            raise ClinicalInputError(
                "regimen",
                self.name,
                "a regimen for dose calculation; "
                f"{self.name} is context only, not for calculators: {self.context_only}",
            )

    def resolve_parameters(self, overrides: dict[str, ParamValue] | None) -> dict[str, ParamValue]:
        """Defaults updated by ``overrides``; unknown names or out-of-range values are refused.

        Required parameters (no default) stay absent until given; code that needs one raises.
        """
        values: dict[str, ParamValue] = {
            k: p.default for k, p in self.parameters.items() if p.default is not None
        }
        for name, value in (overrides or {}).items():
            if name not in self.parameters:
                raise ClinicalInputError(
                    f"parameters[{name!r}]",
                    value,
                    f"one of {sorted(self.parameters)} for {self.name}",
                )
            problems = _param_value_problems(name, self.parameters[name], value)
            if problems:
                raise ClinicalInputError(f"parameters[{name!r}]", value, "; ".join(problems))
            values[name] = value
        return values

    def parameter(self, name: str, values: dict[str, ParamValue]) -> ParamValue:
        """A parameter value, or ClinicalInputError naming it when it is required and missing."""
        if name not in values:
            p = self.parameters[name]
            u = f" (UNVERIFIED {', '.join(p.unverified)})" if p.unverified else ""
            raise ClinicalInputError(
                f"parameters[{name!r}]",
                None,
                f"required for {self.name}: {p.description}{u}; {_param_range_text(p)}",
            )
        return values[name]

    def block_for(self, cycle: int, values: dict[str, ParamValue]) -> CycleBlock:
        """The block describing ``cycle`` (ClinicalInputError when no block covers it)."""
        if self.max_cycles is not None and cycle > self.max_cycles:
            raise ClinicalInputError(
                "cycle", cycle, f"1 to {self.max_cycles} for {self.name} (see {self.source})"
            )
        if cycle < 1:
            raise ClinicalInputError("cycle", cycle, "cycles are numbered from 1")
        for block in self.blocks:
            if block.covers(cycle) and _matches(block.when_parameter, values, self):
                return block
        raise ClinicalInputError("cycle", cycle, f"a cycle defined by regimen {self.name}")

    def length_of(self, block: CycleBlock, values: dict[str, ParamValue]) -> int:
        if isinstance(block.length_days, int):
            return block.length_days
        value = self.parameter(block.length_days[1:], values)
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise ClinicalInputError(block.length_days[1:], value, "a whole number of days")
        return int(value)


def _param_range_text(p: Parameter) -> str:
    parts = []
    if p.allowed is not None:
        parts.append(f"allowed {p.allowed}")
    if p.minimum is not None or p.maximum is not None:
        parts.append(f"range [{p.minimum}, {p.maximum}]")
    return ", ".join(parts) or "any value"


def _param_value_problems(name: str, p: Parameter, value: ParamValue) -> list[str]:
    if p.allowed is not None and value not in p.allowed:
        return [f"parameter {name}: {value!r} is not one of {p.allowed}"]
    if p.minimum is not None or p.maximum is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [f"parameter {name}: {value!r} is not a number"]
        if (p.minimum is not None and value < p.minimum) or (
            p.maximum is not None and value > p.maximum
        ):
            return [f"parameter {name}: {value!r} is outside [{p.minimum}, {p.maximum}]"]
    return []


def _matches(
    cond: dict[str, ParamValue] | None, values: dict[str, ParamValue], reg: Regimen
) -> bool:
    if not cond:
        return True
    return all(reg.parameter(k, values) == v for k, v in cond.items())


def load_regimen_yaml(text: str) -> Regimen:
    """Parse and validate a regimen from YAML text (e.g. a centre's own regimen file's content).

    Raises
    ------
    ClinicalInputError
        On YAML syntax errors and on every schema problem, each named with its location
        (``blocks.0.administrations.1.dose.0.source: unknown source key [S:XYZ]``).
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ClinicalInputError("regimen YAML", "<text>", f"valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ClinicalInputError("regimen YAML", type(data).__name__, "a mapping at the top level")
    try:
        return Regimen.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '<top>'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ClinicalInputError(
            "regimen YAML",
            data.get("name", "<unnamed>"),
            "the regimen schema: " + "; ".join(problems),
        ) from exc


@functools.cache
def _packaged() -> dict[str, Regimen]:
    out: dict[str, Regimen] = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            reg = load_regimen_yaml(entry.read_text(encoding="utf-8"))
            if reg.name in out:  # pragma: no cover - guarded by tests
                raise ClinicalInputError("regimen", reg.name, "unique regimen names")
            out[reg.name] = reg
    return out


def list_regimens() -> tuple[str, ...]:
    """Names of the packaged regimens."""
    return tuple(sorted(_packaged()))


def regimen(name: str | Regimen) -> Regimen:
    """A packaged regimen definition by name (drugs, doses, days, cycle lengths, sources)."""
    if isinstance(name, Regimen):
        return name
    regs = _packaged()
    if name not in regs:
        raise ClinicalInputError("regimen", name, f"one of {sorted(regs)}")
    return regs[name]
