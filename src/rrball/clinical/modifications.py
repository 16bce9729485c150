"""Dose modifications that change calendars: blinatumomab (§2.3) and inotuzumab ozogamicin (§2.6).

Research tool, not for clinical dosing decisions.

Each function applies the deterministic rows of the reference tables and names the rule that
fired (stable rule ids ``blinatumomab.mod.*``, ``inotuzumab.mod.*``) with its source. What the
reference leaves open stays a named parameter citing its UNVERIFIED number (U02, U05, U28).
The results feed :func:`rrball.clinical.treatment_calendar`: a blinatumomab interruption becomes
an :class:`~rrball.clinical.calendar.Interruption`, an inotuzumab cycle delay a ``delays`` entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rrball._result import ResultMixin, json_safe
from rrball.clinical._inputs import check_number
from rrball.clinical._text import trail_lines
from rrball.clinical.regimens.regimen import DoseRule
from rrball.clinical.sources import DISCLAIMER
from rrball.errors import ClinicalInputError

__all__ = [
    "BLIN_ESCALATE_AFTER_DAYS",
    "BLIN_INTERRUPTION_CONTINUE_MAX_DAYS",
    "BLIN_TOXICITY_EVENTS",
    "INO_DELAY_DISCONTINUE_DAYS",
    "INO_TOXICITY_EVENTS",
    "CycleDelayResult",
    "DoseModificationResult",
    "blinatumomab_restart_rule",
    "blinatumomab_toxicity_action",
    "inotuzumab_cycle_delay",
    "inotuzumab_toxicity_action",
]

#: Interruption <= 7 days: the same cycle continues; > 7 days: a new cycle [S:L-BLIN].
BLIN_INTERRUPTION_CONTINUE_MAX_DAYS = 7
#: Restart at the step dose, escalate to the target dose after 7 days [S:L-BLIN-HCP].
BLIN_ESCALATE_AFTER_DAYS = 7
#: Inotuzumab: discontinue when counts have not recovered > 28 days (drug-related) [S:L-BESP].
INO_DELAY_DISCONTINUE_DAYS = 28
BLIN_TOXICITY_EVENTS = ("crs", "neurological", "other")
INO_TOXICITY_EVENTS = (
    "neutropenia",
    "thrombocytopenia",
    "vod",
    "severe_liver_toxicity",
    "liver_tests",
    "non_hematological",
    "infusion_reaction",
)
ACTIONS = (
    "no_rule",
    "continue",
    "interrupt",
    "hold_dose",
    "discontinue",
    "consider_discontinuation",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseModificationResult(ResultMixin):
    """What a toxicity does to the schedule (research tool, not for clinical dosing decisions).

    ``action`` is one of ``no_rule`` (the reference has no row for it), ``continue``,
    ``interrupt``, ``hold_dose``, ``discontinue``, ``consider_discontinuation``.
    ``restart_step_up`` (blinatumomab): restart at the step dose and escalate after
    ``escalate_after_days`` days. ``resume_when`` says when treatment may resume.
    """

    drug: str
    event: str
    grade: int | None
    action: str
    rule_id: str
    reason: str
    resume_when: str
    restart_step_up: bool
    restart_dose: str | None
    escalate_after_days: int | None
    supportive_care: str
    inputs: Mapping[str, Any]
    source: str
    unverified: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)
    disclaimer: str = DISCLAIMER

    @property
    def stops_treatment(self) -> bool:
        return self.action == "discontinue"

    def summary(self) -> str:
        lines = [
            DISCLAIMER,
            f"{self.drug}: {self.event}"
            + (f" grade {self.grade}" if self.grade is not None else "")
            + f" -> {self.action}",
            f"Rule: {self.rule_id} - {self.reason}",
        ]
        if self.resume_when:
            lines.append(f"Resume: {self.resume_when}")
        if self.restart_dose:
            lines.append(
                f"Restart: {self.restart_dose}"
                + (
                    f", escalate after {self.escalate_after_days} days if no recurrence"
                    if self.escalate_after_days
                    else ""
                )
            )
        if self.supportive_care:
            lines.append(f"Supportive care: {self.supportive_care}")
        lines += trail_lines({}, self.source, self.unverified, self.warnings)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["inputs"] = dict(self.inputs)
        out["method"] = dict(self.method)
        return dict(json_safe(out))


def _grade(grade: object, lo: int = 1, hi: int = 4) -> int:
    if isinstance(grade, bool) or not isinstance(grade, int) or not lo <= grade <= hi:
        raise ClinicalInputError("grade", grade, f"a whole number {lo} to {hi}")
    return grade


def _opt_days(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ClinicalInputError(name, value, "a whole number of days >= 0")
    return value


def _weight(weight_kg: object) -> float:
    w = check_number("weight_kg", weight_kg, "weight in kg, 1 to 300")
    if not 1.0 <= w <= 300.0:
        raise ClinicalInputError("weight_kg", weight_kg, "weight in kg, 1 to 300")
    return w


def blinatumomab_restart_rule(weight_kg: float) -> DoseRule:
    """The restart (step) dose after a toxicity interruption [S:L-BLIN-HCP].

    >= 45 kg: 9 mcg/day; < 45 kg: 5 mcg/m²/day (CRS row of the label table); the cap of 9 mcg/day
    is the cap of the same step dose in the label's Table 1 [S:L-BLIN].
    """
    if _weight(weight_kg) >= 45.0:
        return DoseRule(
            amount=9,
            basis="flat",
            unit="mcg/day",
            source="[S:L-BLIN-HCP] restart at 9 mcg/day after a toxicity interruption (>= 45 kg)",
        )
    return DoseRule(
        amount=5,
        basis="per_m2",
        unit="mcg/day",
        cap=9,
        source="[S:L-BLIN-HCP] restart at 5 mcg/m2/day (< 45 kg); cap 9 mcg/day as [S:L-BLIN] "
        "Table 1",
        unverified=["U02"],
    )


def blinatumomab_toxicity_action(
    event: str,
    grade: int,
    *,
    weight_kg: float,
    days_to_resolve: int | None = None,
    occurred_at_step_dose: bool | None = None,
    seizures: int | None = None,
    bsa_analogue_below_45kg: bool = True,
) -> DoseModificationResult:
    """Blinatumomab dose modification for a toxicity (clinical-reference.md §2.3).

    Research tool, not for clinical dosing decisions.

    Parameters
    ----------
    event
        ``"crs"``, ``"neurological"`` or ``"other"`` (other clinically relevant adverse reaction).
    grade
        1 to 4; the grading system behind the label's grades is UNVERIFIED (U02).
    weight_kg
        Decides the restart dose (>= 45 kg: 9 mcg/day; < 45 kg: 5 mcg/m²/day).
    days_to_resolve
        Days until the toxicity resolved (neurological: to <= grade 1; other: to <= grade 1);
        None = not yet known (the discontinuation rules that need it are then reported pending).
    occurred_at_step_dose
        Neurological grade 3: the toxicity occurred at 9 mcg/day [S:L-BLIN-HCP] (the older table
        [S:BLIN-TOX16] reads "recurs").
    seizures
        Number of seizures (neurological): more than one → discontinue permanently.
    bsa_analogue_below_45kg
        Neurological and other grade 3 below 45 kg: apply the BSA analogue of the restart dose
        (5 → 15 mcg/m²/day), UNVERIFIED U02. When False the restart dose is left undetermined.

    Notes
    -----
    Rules [S:L-BLIN-HCP], [S:BLIN-TOX16]:
    ``blinatumomab.mod.crs.grade3`` interrupt, restart at the step dose when resolved, escalate
    after 7 days; dexamethasone 8 mg q8h up to 3 days then taper over 4 days (< 45 kg: 5 mg/m²,
    max 8 mg). ``blinatumomab.mod.crs.grade4`` discontinue. ``blinatumomab.mod.neuro.seizures``
    more than one seizure → discontinue. ``blinatumomab.mod.neuro.grade3`` withhold until
    <= grade 1 for >= 3 days, restart at the step dose; ``.grade3.discontinue`` when it occurred
    at 9 mcg/day or took > 7 days to resolve. ``blinatumomab.mod.neuro.grade4`` discontinue.
    ``blinatumomab.mod.other.grade3`` withhold until <= grade 1, restart at the step dose;
    ``.grade3.discontinue`` when > 14 days to resolve. ``blinatumomab.mod.other.grade4`` consider
    permanent discontinuation. Grades 1-2: ``blinatumomab.mod.no_rule`` (no row in the table).
    """
    if event not in BLIN_TOXICITY_EVENTS:
        raise ClinicalInputError("event", event, f"one of {BLIN_TOXICITY_EVENTS}")
    g = _grade(grade)
    w = _weight(weight_kg)
    days = _opt_days("days_to_resolve", days_to_resolve)
    if seizures is not None and (
        isinstance(seizures, bool) or not isinstance(seizures, int) or seizures < 0
    ):
        raise ClinicalInputError("seizures", seizures, "a whole number >= 0")
    heavy = w >= 45.0
    step = "9 mcg/day" if heavy else "5 mcg/m2/day"
    target = "28 mcg/day" if heavy else "15 mcg/m2/day"
    unverified = ["U02"]
    warnings: list[str] = []
    inputs = {
        "event": event,
        "grade": g,
        "weight_kg": w,
        "days_to_resolve": days,
        "occurred_at_step_dose": occurred_at_step_dose,
        "seizures": seizures,
    }

    def out(
        action: str,
        rule_id: str,
        reason: str,
        source: str,
        *,
        resume_when: str = "",
        restart: bool = False,
        care: str = "",
    ) -> DoseModificationResult:
        restart_dose: str | None = None
        if restart:
            if heavy or event == "crs" or bsa_analogue_below_45kg:
                restart_dose = f"{step} (then {target})"
            else:
                restart = False
                warnings.append(
                    "< 45 kg restart dose for this event not in the text read (UNVERIFIED U02); "
                    "bsa_analogue_below_45kg=False leaves it undetermined"
                )
        return DoseModificationResult(
            drug="blinatumomab",
            event=event,
            grade=g,
            action=action,
            rule_id=rule_id,
            reason=reason,
            resume_when=resume_when,
            restart_step_up=restart,
            restart_dose=restart_dose,
            escalate_after_days=BLIN_ESCALATE_AFTER_DAYS if restart else None,
            supportive_care=care,
            inputs=MappingProxyType(inputs),
            source=source,
            unverified=tuple(sorted(set(unverified))),
            warnings=tuple(warnings),
            method=MappingProxyType({"bsa_analogue_below_45kg": bsa_analogue_below_45kg}),
        )

    if event == "crs":
        care = (
            "dexamethasone 8 mg every 8 h IV/PO up to 3 days, taper over 4 days"
            if heavy
            else "dexamethasone 5 mg/m2 (max 8 mg) every 8 h up to 3 days, taper over 4 days"
        )
        if g == 4:
            return out(
                "discontinue",
                "blinatumomab.mod.crs.grade4",
                "CRS grade 4: discontinue permanently",
                "[S:L-BLIN-HCP]",
                care=care,
            )
        if g == 3:
            return out(
                "interrupt",
                "blinatumomab.mod.crs.grade3",
                "CRS grade 3: interrupt until resolved",
                "[S:L-BLIN-HCP]",
                resume_when="when CRS has resolved",
                restart=True,
                care=care,
            )
    if event == "neurological":
        if seizures is not None and seizures > 1:
            return out(
                "discontinue",
                "blinatumomab.mod.neuro.seizures",
                f"{seizures} seizures (more than one): discontinue permanently",
                "[S:L-BLIN-HCP]",
            )
        if g == 4:
            return out(
                "discontinue",
                "blinatumomab.mod.neuro.grade4",
                "neurological toxicity grade 4: discontinue permanently",
                "[S:L-BLIN-HCP]",
            )
        if g == 3:
            src = "[S:L-BLIN-HCP] (older table [S:BLIN-TOX16] reads 'recurs')"
            if occurred_at_step_dose or (days is not None and days > 7):
                why = (
                    "occurred at the 9 mcg/day step dose"
                    if occurred_at_step_dose
                    else f"took {days} days (> 7) to resolve"
                )
                return out(
                    "discontinue",
                    "blinatumomab.mod.neuro.grade3.discontinue",
                    f"neurological toxicity grade 3 {why}: discontinue permanently",
                    src,
                )
            if occurred_at_step_dose is None:
                warnings.append(
                    "occurred_at_step_dose unknown: discontinue if it occurred at 9 mcg/day"
                )
            if days is None:
                warnings.append("days_to_resolve unknown: discontinue if > 7 days to resolve")
            return out(
                "interrupt",
                "blinatumomab.mod.neuro.grade3",
                "neurological toxicity grade 3: withhold",
                src,
                resume_when="when <= grade 1 for at least 3 days",
                restart=True,
            )
        if seizures == 1:
            warnings.append("one seizure: permanent discontinuation applies to more than one")
    if event == "other":
        if g == 4:
            return out(
                "consider_discontinuation",
                "blinatumomab.mod.other.grade4",
                "other clinically relevant adverse reaction grade 4: consider permanent "
                "discontinuation",
                "[S:BLIN-TOX16]",
            )
        if g == 3:
            if days is not None and days > 14:
                return out(
                    "discontinue",
                    "blinatumomab.mod.other.grade3.discontinue",
                    f"grade 3 took {days} days (> 14) to resolve: discontinue",
                    "[S:BLIN-TOX16]",
                )
            if days is None:
                warnings.append("days_to_resolve unknown: discontinue if > 14 days to resolve")
            return out(
                "interrupt",
                "blinatumomab.mod.other.grade3",
                "other clinically relevant adverse reaction grade 3: withhold",
                "[S:BLIN-TOX16]",
                resume_when="when <= grade 1",
                restart=True,
            )
    return out(
        "no_rule",
        "blinatumomab.mod.no_rule",
        f"the reference table has no modification for {event} grade {g}",
        "[S:L-BLIN-HCP], [S:BLIN-TOX16]",
    )


def inotuzumab_toxicity_action(
    event: str,
    *,
    grade: int | None = None,
    bilirubin_x_uln: float | None = None,
    ast_alt_x_uln: float | None = None,
    gilbert_or_haemolysis: bool = False,
    severe: bool | None = None,
    interruption_days: int | None = None,
    apply_u05_interruption_rules: bool = False,
) -> DoseModificationResult:
    """Inotuzumab ozogamicin dose modification (clinical-reference.md §2.6).

    Research tool, not for clinical dosing decisions.

    Parameters
    ----------
    event
        ``"neutropenia"``, ``"thrombocytopenia"`` (within a cycle), ``"vod"``,
        ``"severe_liver_toxicity"``, ``"liver_tests"`` (with ``bilirubin_x_uln`` and
        ``ast_alt_x_uln``), ``"non_hematological"`` (with ``grade``), ``"infusion_reaction"``
        (with ``severe``).
    gilbert_or_haemolysis
        The bilirubin rule does not apply (Gilbert's syndrome or haemolysis) [S:L-BESP-HCP-IE].
    interruption_days, apply_u05_interruption_rules
        The dose changes by interruption length (< 7 d delay; >= 7 d omit the dose; >= 14 d
        reduce the total dose by 25 % then 2 doses per cycle; > 28 d consider stopping) are
        UNVERIFIED (U05): applied only when ``apply_u05_interruption_rules=True``.

    Notes
    -----
    Rules: ``inotuzumab.mod.cytopenia.within_cycle`` day 8/15 doses are not interrupted for
    neutropenia or thrombocytopenia [S:L-BESP]; ``inotuzumab.mod.vod`` discontinue
    [S:L-BESP-HCP-IE]; ``inotuzumab.mod.liver_tests.hold`` bilirubin > 1.5 × ULN and AST/ALT
    > 2.5 × ULN → hold each dose until bilirubin <= 1.5 × ULN and AST/ALT <= 2.5 × ULN
    [S:L-BESP-HCP-IE]; ``inotuzumab.mod.non_hematological.grade2plus`` interrupt until grade 1 or
    the pre-treatment grade; ``inotuzumab.mod.infusion_reaction`` interrupt, severe or
    life-threatening → discontinue. Never re-escalate after a toxicity-driven reduction
    [S:L-BESP].
    """
    if event not in INO_TOXICITY_EVENTS:
        raise ClinicalInputError("event", event, f"one of {INO_TOXICITY_EVENTS}")
    g = None if grade is None else _grade(grade)
    idays = _opt_days("interruption_days", interruption_days)
    inputs: dict[str, Any] = {
        "event": event,
        "grade": g,
        "bilirubin_x_uln": bilirubin_x_uln,
        "ast_alt_x_uln": ast_alt_x_uln,
        "gilbert_or_haemolysis": gilbert_or_haemolysis,
        "severe": severe,
        "interruption_days": idays,
    }
    warnings: list[str] = []
    unverified: list[str] = []

    def out(
        action: str, rule_id: str, reason: str, source: str, *, resume_when: str = ""
    ) -> DoseModificationResult:
        if idays is not None and action in ("interrupt", "hold_dose"):
            if apply_u05_interruption_rules:
                unverified.append("U05")
                if idays > 28:
                    extra = "> 28 days: consider stopping"
                elif idays >= 14:
                    extra = ">= 14 days: reduce the total dose by 25 %, then 2 doses per cycle"
                elif idays >= 7:
                    extra = ">= 7 days: omit the dose"
                else:
                    extra = "< 7 days: delay the dose"
                warnings.append(f"interruption of {idays} days, {extra} (UNVERIFIED U05)")
            else:
                warnings.append(
                    "dose change by interruption length not applied (UNVERIFIED U05; set "
                    "apply_u05_interruption_rules=True to apply it)"
                )
        return DoseModificationResult(
            drug="inotuzumab ozogamicin",
            event=event,
            grade=g,
            action=action,
            rule_id=rule_id,
            reason=reason,
            resume_when=resume_when,
            restart_step_up=False,
            restart_dose=None,
            escalate_after_days=None,
            supportive_care="",
            inputs=MappingProxyType(inputs),
            source=source,
            unverified=tuple(sorted(set(unverified))),
            warnings=tuple(warnings),
            method=MappingProxyType({"apply_u05_interruption_rules": apply_u05_interruption_rules}),
        )

    if event in ("neutropenia", "thrombocytopenia"):
        return out(
            "continue",
            "inotuzumab.mod.cytopenia.within_cycle",
            "day 8 and day 15 doses are not interrupted for neutropenia or thrombocytopenia; "
            "a low count delays the next cycle (inotuzumab_cycle_delay)",
            "[S:L-BESP]",
        )
    if event in ("vod", "severe_liver_toxicity"):
        return out(
            "discontinue",
            "inotuzumab.mod.vod",
            "VOD or other severe liver toxicity: discontinue permanently",
            "[S:L-BESP-HCP-IE]",
        )
    if event == "liver_tests":
        if bilirubin_x_uln is None or ast_alt_x_uln is None:
            raise ClinicalInputError(
                "bilirubin_x_uln/ast_alt_x_uln",
                (bilirubin_x_uln, ast_alt_x_uln),
                "both values as multiples of the ULN for event 'liver_tests'",
            )
        bili = check_number("bilirubin_x_uln", bilirubin_x_uln, "a multiple of the ULN >= 0")
        tx = check_number("ast_alt_x_uln", ast_alt_x_uln, "a multiple of the ULN >= 0")
        if bili < 0 or tx < 0:
            raise ClinicalInputError("bilirubin_x_uln/ast_alt_x_uln", (bili, tx), "values >= 0")
        if bili > 1.5 and tx > 2.5 and not gilbert_or_haemolysis:
            return out(
                "hold_dose",
                "inotuzumab.mod.liver_tests.hold",
                f"bilirubin {bili:g} x ULN > 1.5 and AST/ALT {tx:g} x ULN > 2.5: hold the dose; "
                "discontinue if no recovery",
                "[S:L-BESP-HCP-IE]",
                resume_when="bilirubin <= 1.5 x ULN and AST/ALT <= 2.5 x ULN",
            )
        why = (
            "Gilbert's syndrome or haemolysis: the bilirubin rule does not apply"
            if gilbert_or_haemolysis and bili > 1.5 and tx > 2.5
            else "not both bilirubin > 1.5 x ULN and AST/ALT > 2.5 x ULN"
        )
        return out("continue", "inotuzumab.mod.liver_tests.continue", why, "[S:L-BESP-HCP-IE]")
    if event == "non_hematological":
        if g is None:
            raise ClinicalInputError("grade", None, "1 to 4 for event 'non_hematological'")
        if g >= 2:
            return out(
                "interrupt",
                "inotuzumab.mod.non_hematological.grade2plus",
                f"non-haematological toxicity grade {g} (>= 2): interrupt",
                "[S:L-BESP-HCP-IE]",
                resume_when="grade 1 or the pre-treatment grade",
            )
        return out(
            "continue",
            "inotuzumab.mod.non_hematological.grade1",
            "non-haematological toxicity grade 1: no interruption rule",
            "[S:L-BESP-HCP-IE]",
        )
    # infusion reaction
    if severe is None:
        raise ClinicalInputError(
            "severe", None, "True (severe/life-threatening) or False for 'infusion_reaction'"
        )
    if severe:
        return out(
            "discontinue",
            "inotuzumab.mod.infusion_reaction.severe",
            "severe or life-threatening infusion reaction: discontinue",
            "[S:L-BESP-HCP-IE]",
        )
    return out(
        "interrupt",
        "inotuzumab.mod.infusion_reaction",
        "infusion reaction: interrupt the infusion",
        "[S:L-BESP-HCP-IE]",
        resume_when="when the reaction has resolved",
    )


# ---- inotuzumab: delay of the next cycle for counts (§2.6) -------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class CycleDelayResult(ResultMixin):
    """Delay of the next inotuzumab cycle for blood counts; ``delay_days`` feeds the calendar.

    ``ready_date`` is the first count date on/after the planned start meeting the criteria
    (None when none does); ``discontinue`` is True when recovery took / is taking more than 28
    days and the cytopenia is drug-related, None when relatedness is unknown.
    """

    planned_start: dt.date
    ready_date: dt.date | None
    delay_days: int | None
    criteria: str
    rule_id: str
    discontinue: bool | None
    inputs: Mapping[str, Any]
    source: str
    unverified: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)
    disclaimer: str = DISCLAIMER

    def summary(self) -> str:
        ready = self.ready_date.isoformat() if self.ready_date else "not yet"
        lines = [
            DISCLAIMER,
            f"Next inotuzumab cycle planned {self.planned_start.isoformat()}: ready {ready}"
            + (f" (delay {self.delay_days} days)" if self.delay_days is not None else ""),
            f"Rule: {self.rule_id} - {self.criteria}",
        ]
        if self.discontinue:
            lines.append("Discontinue: counts not recovered > 28 days (drug-related)")
        lines += trail_lines({}, self.source, self.unverified, self.warnings)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["planned_start"] = self.planned_start.isoformat()
        out["ready_date"] = self.ready_date.isoformat() if self.ready_date else None
        out["inputs"] = dict(self.inputs)
        out["method"] = dict(self.method)
        return dict(json_safe(out))


def _count(name: str, value: object, hi: float) -> float:
    x = check_number(name, value, f"x10^9/L, 0 to {hi:g}")
    if not 0.0 <= x <= hi:
        raise ClinicalInputError(name, value, f"x10^9/L, 0 to {hi:g}")
    return x


def inotuzumab_cycle_delay(
    planned_start: dt.date,
    counts: Iterable[tuple[dt.date, float, float] | Mapping[str, Any]],
    *,
    pretreatment_anc: float,
    pretreatment_plt: float,
    drug_related: bool | None = None,
) -> CycleDelayResult:
    """When the next inotuzumab cycle may start, from dated blood counts (§2.6) [S:L-BESP].

    Research tool, not for clinical dosing decisions.

    Parameters
    ----------
    planned_start
        Planned day 1 of the next cycle.
    counts
        Dated counts ``(date, anc, plt)`` or mappings with ``date``, ``anc``, ``plt``
        (×10^9/L; platelets independent of transfusion [S:L-BESP]). Any order.
    pretreatment_anc, pretreatment_plt
        Counts before the first inotuzumab dose; they choose the rule.
    drug_related
        Whether the cytopenia is drug-related (discontinuation after > 28 days needs it).

    Notes
    -----
    ``inotuzumab.delay.normal_baseline``: pre-treatment ANC >= 1 and platelets >= 50 → delay
    until ANC >= 1 and platelets >= 50 (each criterion only for the count whose baseline met
    it). ``inotuzumab.delay.low_baseline``: pre-treatment ANC < 1 and/or platelets < 50 → delay
    until counts recover to the pre-treatment values or to ANC >= 1 and platelets >= 50 (the list
    is UNVERIFIED U05; the third criterion — stable or improved disease with cytopenia
    attributed to the disease — is clinical judgement and not computed).
    Discontinue when not recovered > 28 days after the planned start and drug-related.
    """
    if not isinstance(planned_start, dt.date) or isinstance(planned_start, dt.datetime):
        raise ClinicalInputError("planned_start", planned_start, "a datetime.date")
    pre_anc = _count("pretreatment_anc", pretreatment_anc, 100.0)
    pre_plt = _count("pretreatment_plt", pretreatment_plt, 2000.0)
    rows: list[tuple[dt.date, float, float]] = []
    for i, item in enumerate(counts):
        if isinstance(item, Mapping):
            unknown = set(item) - {"date", "anc", "plt"}
            if unknown:
                raise ClinicalInputError(f"counts[{i}]", sorted(unknown), "keys date, anc, plt")
            d, anc, plt = item.get("date"), item.get("anc"), item.get("plt")
        else:
            if len(item) != 3:
                raise ClinicalInputError(f"counts[{i}]", item, "(date, anc, plt)")
            d, anc, plt = item
        if not isinstance(d, dt.date) or isinstance(d, dt.datetime):
            raise ClinicalInputError(f"counts[{i}].date", d, "a datetime.date")
        rows.append(
            (d, _count(f"counts[{i}].anc", anc, 100.0), _count(f"counts[{i}].plt", plt, 2000.0))
        )
    rows.sort()
    unverified: list[str] = []
    warnings: list[str] = []
    if pre_anc >= 1.0 and pre_plt >= 50.0:
        rule = "inotuzumab.delay.normal_baseline"
        criteria = "ANC >= 1.0 and platelets >= 50 x10^9/L (pre-treatment counts met both)"

        def ready(anc: float, plt: float) -> bool:
            return anc >= 1.0 and plt >= 50.0

    else:
        rule = "inotuzumab.delay.low_baseline"
        unverified.append("U05")
        criteria = (
            f"recovery to pre-treatment counts (ANC >= {pre_anc:g}, platelets >= {pre_plt:g}) "
            "or ANC >= 1.0 and platelets >= 50 x10^9/L (list UNVERIFIED U05)"
        )
        if pre_anc >= 1.0 or pre_plt >= 50.0:
            warnings.append(
                "one pre-treatment count met its threshold: the label's per-count rule "
                "(delay until that count recovers) also applies [S:L-BESP]"
            )
        warnings.append(
            "not computed: 'stable or improved disease with cytopenia attributed to the disease' "
            "(clinical judgement, UNVERIFIED U05)"
        )

        def ready(anc: float, plt: float) -> bool:
            return (anc >= pre_anc and plt >= pre_plt) or (anc >= 1.0 and plt >= 50.0)

    hit = next((d for d, anc, plt in rows if d >= planned_start and ready(anc, plt)), None)
    delay = None if hit is None else (hit - planned_start).days
    last = max((d for d, _, _ in rows if d >= planned_start), default=None)
    waited = delay if delay is not None else ((last - planned_start).days if last else 0)
    discontinue: bool | None = False
    if waited > INO_DELAY_DISCONTINUE_DAYS:
        discontinue = drug_related
        rule += ".over_28_days"
        if drug_related is None:
            warnings.append("> 28 days without recovery: discontinue if drug-related (not given)")
    if hit is None:
        warnings.append("no count on/after the planned start meets the criteria yet")
    return CycleDelayResult(
        planned_start=planned_start,
        ready_date=hit,
        delay_days=delay,
        criteria=criteria,
        rule_id=rule,
        discontinue=discontinue,
        inputs=MappingProxyType(
            {
                "pretreatment_anc": pre_anc,
                "pretreatment_plt": pre_plt,
                "drug_related": drug_related,
                "counts": [(d.isoformat(), a, p) for d, a, p in rows],
            }
        ),
        source="[S:L-BESP] §2.6 (platelet count independent of transfusion)",
        unverified=tuple(unverified),
        warnings=tuple(warnings),
        method=MappingProxyType({"discontinue_after_days": INO_DELAY_DISCONTINUE_DAYS}),
    )
