"""Treatment calendars: one row per administration, breaks between cycles, CSV and iCalendar text.

Research tool, not for clinical dosing decisions.

Pure: the exports return strings (CSV text; iCalendar per RFC 5545), nothing is written to disk.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd

from rrball._result import ResultMixin, json_safe
from rrball.clinical.dosing import _compute, _patient, cycle_doses
from rrball.clinical.modifications import (
    BLIN_ESCALATE_AFTER_DAYS,
    BLIN_INTERRUPTION_CONTINUE_MAX_DAYS,
    blinatumomab_restart_rule,
)
from rrball.clinical.regimens.regimen import Administration, ParamValue, Regimen, regimen
from rrball.clinical.sources import DISCLAIMER
from rrball.errors import ClinicalInputError

__all__ = [
    "INTERRUPTION_CONTINUE_MAX_DAYS",
    "CalendarBreak",
    "CalendarCycle",
    "CalendarRow",
    "Interruption",
    "TreatmentCalendar",
    "treatment_calendar",
]

#: Interruption <= 7 days: same cycle continues; > 7 days: new cycle [S:L-BLIN] (§2.3).
INTERRUPTION_CONTINUE_MAX_DAYS = BLIN_INTERRUPTION_CONTINUE_MAX_DAYS
BLINATUMOMAB = "blinatumomab"
U03_RULE = (
    "weight and height measured before each cycle, carried forward until re-measured; doses "
    "recomputed per cycle (PROPOSED, UNVERIFIED U03)"
)

ROW_COLUMNS = (
    "date",
    "cycle",
    "day",
    "drug",
    "role",
    "dose",
    "dose_display",
    "unit",
    "dose_number",
    "doses_per_day",
    "route",
    "infusion_note",
    "per_m2_or_flat",
    "cap_applied",
    "source",
    "schedule_day",
    "weight_kg",
    "bsa_m2",
    "modification",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarRow:
    """One administration: date, cycle, day, drug, dose (unrounded and displayed), unit."""

    date: dt.date
    cycle: int
    day: int
    drug: str
    role: str
    dose: float
    dose_display: str
    unit: str
    dose_number: int
    doses_per_day: int
    route: str
    infusion_note: str
    per_m2_or_flat: str
    cap_applied: bool
    source: str
    schedule_day: int
    weight_kg: float
    bsa_m2: float
    modification: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Interruption:
    """An infusion interruption inside a blinatumomab cycle (clinical-reference.md §2.3).

    ``day`` is the first cycle day without infusion (calendar numbering of that cycle, after
    earlier interruptions of the same cycle); ``days`` its length. ``restart_step_up``: restart
    at the step dose for 7 days, then the target dose (dose modification after CRS, neurological
    or other grade 3 toxicity [S:L-BLIN-HCP]; see ``blinatumomab_toxicity_action``).
    """

    cycle: int
    day: int
    days: int
    reason: str = ""
    restart_step_up: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarCycle:
    """A scheduled cycle: planned and actual dates, delay and shortening, and notes."""

    cycle: int
    label: str
    start: dt.date
    planned_start: dt.date
    end: dt.date
    length_days: int
    planned_length_days: int
    delay_days: int
    notes: tuple[str, ...]
    weight_kg: float
    height_cm: float
    bsa_m2: float
    closed_early: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarBreak:
    """Treatment-free dates (inclusive): after a cycle's last administration, before a delayed
    cycle, or (``within_cycle=True``) an infusion interruption inside cycle ``after_cycle``."""

    after_cycle: int
    start: dt.date
    end: dt.date
    reason: str
    within_cycle: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TreatmentCalendar(ResultMixin):
    """A treatment calendar (research tool, not for clinical dosing decisions)."""

    regimen: str
    rows: tuple[CalendarRow, ...]
    cycles: tuple[CalendarCycle, ...]
    breaks: tuple[CalendarBreak, ...]
    inputs: Mapping[str, Any]
    source: str
    unverified: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)
    disclaimer: str = DISCLAIMER

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{c: getattr(r, c) for c in ROW_COLUMNS} for r in self.rows], columns=list(ROW_COLUMNS)
        )

    def summary(self) -> str:
        lines = [DISCLAIMER, f"Treatment calendar: {self.regimen}, {len(self.cycles)} cycle(s)"]
        for c in self.cycles:
            n = sum(r.cycle == c.cycle for r in self.rows)
            lines.append(
                f"  cycle {c.cycle} ({c.label}): {c.start.isoformat()} to {c.end.isoformat()}, "
                f"{c.length_days} days, {n} administrations"
            )
            lines += [f"    note: {note}" for note in c.notes]
        for b in self.breaks:
            lines.append(f"  break after cycle {b.after_cycle}: {b.start} to {b.end} ({b.reason})")
        lines.append(f"Source: {self.source}")
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "regimen": self.regimen,
                    "disclaimer": self.disclaimer,
                    "rows": [_iso(dataclasses.asdict(r)) for r in self.rows],
                    "cycles": [_iso(dataclasses.asdict(c)) for c in self.cycles],
                    "breaks": [_iso(dataclasses.asdict(b)) for b in self.breaks],
                    "inputs": dict(self.inputs),
                    "source": self.source,
                    "unverified": list(self.unverified),
                    "warnings": list(self.warnings),
                }
            )
        )

    def to_csv(self) -> str:
        """CSV text; the first line is a ``#`` comment with the disclaimer."""
        buf = io.StringIO()
        buf.write(f"# {DISCLAIMER} Regimen {self.regimen}.\n")
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(ROW_COLUMNS)
        for r in self.rows:
            writer.writerow(
                [r.date.isoformat() if c == "date" else getattr(r, c) for c in ROW_COLUMNS]
            )
        return buf.getvalue()

    def to_ics(self, *, dtstamp: dt.datetime | None = None) -> str:
        """iCalendar text (RFC 5545): one all-day VEVENT per administration.

        ``dtstamp`` (UTC) defaults to midnight of the first cycle's start so the output is
        deterministic. Lines end in CRLF and are folded at 75 octets; text is escaped.
        """
        stamp = dtstamp or dt.datetime.combine(self.cycles[0].start, dt.time(0, 0))
        stamp_text = stamp.strftime("%Y%m%dT%H%M%SZ")
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//rrball//treatment calendar//EN",
            "CALSCALE:GREGORIAN",
            f"X-WR-CALNAME:{_esc(self.regimen + ' - ' + DISCLAIMER)}",
        ]
        for i, r in enumerate(self.rows):
            dose = f"{r.dose_display} {r.unit}"
            count = f" (dose {r.dose_number}/{r.doses_per_day})" if r.doses_per_day > 1 else ""
            summary = f"C{r.cycle}D{r.day} {r.drug} {dose}{count}"
            desc = (
                f"{DISCLAIMER} Regimen {self.regimen}; {r.role}; {r.route}; {r.infusion_note}; "
                f"source: {r.source}"
            )
            nxt = r.date + dt.timedelta(days=1)
            lines += [
                "BEGIN:VEVENT",
                f"UID:{self.regimen}-{r.date:%Y%m%d}-c{r.cycle}d{r.day}-{i}@rrball",
                f"DTSTAMP:{stamp_text}",
                f"DTSTART;VALUE=DATE:{r.date:%Y%m%d}",
                f"DTEND;VALUE=DATE:{nxt:%Y%m%d}",
                f"SUMMARY:{_esc(summary)}",
                f"DESCRIPTION:{_esc(desc)}",
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
        lines.append("END:VCALENDAR")
        return "".join(_fold(line) + "\r\n" for line in lines)


def _iso(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in d.items()}


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character."""
    out: list[str] = []
    current = ""
    limit = 75
    for ch in line:
        if len((current + ch).encode("utf-8")) > limit:
            out.append(current)
            current = " " + ch
            limit = 75
        else:
            current += ch
    out.append(current)
    return "\r\n".join(out)


def _int_map(name: str, m: Mapping[int, int] | None, lo: int) -> dict[int, int]:
    out: dict[int, int] = {}
    for k, v in (m or {}).items():
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ClinicalInputError(f"{name} key", k, "a cycle number >= 1")
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ClinicalInputError(f"{name}[{k}]", v, f"a whole number of days >= {lo}")
        out[k] = v
    return out


_MEASUREMENT_KEYS = ("weight_kg", "height_cm")


def _measurement_map(
    m: Mapping[int, Mapping[str, float]] | None, cycles: int
) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for k, v in (m or {}).items():
        if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= cycles:
            raise ClinicalInputError(
                "measurements key",
                k,
                f"a cycle number 2 to {cycles} (cycle 1 uses weight_kg and height_cm)",
            )
        if not isinstance(v, Mapping) or not v or set(v) - set(_MEASUREMENT_KEYS):
            raise ClinicalInputError(
                f"measurements[{k}]", v, "a mapping with weight_kg and/or height_cm"
            )
        out[k] = dict(v)
    return out


def _interruption_list(
    items: Iterable[Interruption | Mapping[str, Any]] | None, cycles: int
) -> dict[int, list[Interruption]]:
    out: dict[int, list[Interruption]] = {}
    for i, item in enumerate(items or ()):
        if isinstance(item, Mapping):
            raw: dict[str, Any] = dict(item)
            names = {f.name for f in dataclasses.fields(Interruption)}
            if set(raw) - names:
                raise ClinicalInputError(
                    f"interruptions[{i}]", sorted(set(raw) - names), f"keys among {sorted(names)}"
                )
            try:
                item = Interruption(**raw)
            except TypeError as exc:
                raise ClinicalInputError(
                    f"interruptions[{i}]", raw, "cycle, day and days are required"
                ) from exc
        if not isinstance(item, Interruption):
            raise ClinicalInputError(f"interruptions[{i}]", item, "an Interruption or a mapping")
        for name, lo in (("cycle", 1), ("day", 2), ("days", 1)):
            v = getattr(item, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ClinicalInputError(
                    f"interruptions[{i}].{name}",
                    v,
                    f"a whole number >= {lo}"
                    + (
                        " (day 1 cannot be interrupted: delay the cycle instead)"
                        if name == "day"
                        else ""
                    ),
                )
        if item.cycle > cycles:
            raise ClinicalInputError(f"interruptions[{i}].cycle", item.cycle, f"1 to {cycles}")
        out.setdefault(item.cycle, []).append(item)
    for lst in out.values():
        lst.sort(key=lambda x: x.day)
    return out


@dataclass(slots=True)
class _Plan:
    """Schedule-day → calendar-day mapping of one cycle after interruptions."""

    shifts: list[tuple[int, int]]  # (schedule day of the first missed day, length), <= 7 days
    close_at: int | None  # schedule day from which nothing is given (> 7-day interruption)
    length: int
    breaks: list[tuple[int, int, str]]  # (first, last) calendar day, reason
    restarts: list[tuple[int, int, bool]]  # (calendar day, schedule day, step-up) of restarts

    def actual(self, s: int) -> int:
        return s + sum(k for s0, k in self.shifts if s0 <= s)


def _plan_interruptions(
    c: int, ints: list[Interruption], blin_days: list[int], planned_len: int
) -> _Plan:
    plan = _Plan([], None, planned_len, [], [])
    if not ints:
        return plan
    if not blin_days:
        raise ClinicalInputError(
            "interruptions",
            [dataclasses.asdict(x) for x in ints],
            f"interruptions of a blinatumomab infusion; cycle {c} has no blinatumomab "
            "(use delays or cycle_lengths) [S:L-BLIN]",
        )
    prev_restart = 0
    for x in ints:
        if plan.close_at is not None:
            raise ClinicalInputError(
                "interruptions",
                dataclasses.asdict(x),
                f"none after the > 7-day interruption that closed cycle {c} [S:L-BLIN]",
            )
        shift = sum(k for _, k in plan.shifts)
        s0 = x.day - shift
        last_actual = blin_days[-1] + shift
        if x.day <= prev_restart or not blin_days[0] < s0 <= blin_days[-1]:
            raise ClinicalInputError(
                f"interruptions (cycle {c}).day",
                x.day,
                f"a blinatumomab infusion day of cycle {c} after the first one and after any "
                f"earlier restart: {max(blin_days[0], prev_restart) + 1} to {last_actual}",
            )
        why = f" ({x.reason})" if x.reason else ""
        first, last = x.day, x.day + x.days - 1
        if x.days <= INTERRUPTION_CONTINUE_MAX_DAYS:
            plan.shifts.append((s0, x.days))
            plan.breaks.append(
                (
                    first,
                    last,
                    f"blinatumomab interrupted {x.days} days{why}: <= 7 days, the same cycle "
                    "continues to its full number of infusion days [S:L-BLIN]",
                )
            )
            plan.restarts.append((last + 1, s0, x.restart_step_up))
            prev_restart = last + 1
        else:
            plan.close_at = s0
            plan.breaks.append(
                (
                    first,
                    last,
                    f"blinatumomab interrupted {x.days} days{why}: > 7 days, cycle {c} closes and "
                    "a new cycle starts at day 1 [S:L-BLIN]",
                )
            )
            plan.length = last
    if plan.close_at is None:
        plan.length = planned_len + sum(k for _, k in plan.shifts)
    return plan


def treatment_calendar(
    regimen_name: str | Regimen,
    start_date: dt.date,
    *,
    cycles: int,
    weight_kg: float,
    height_cm: float,
    age_years: float | None = None,
    formula: str = "mosteller",
    variant: str | None = None,
    parameters: Mapping[str, ParamValue] | None = None,
    responses: Mapping[int, str] | None = None,
    delays: Mapping[int, int] | None = None,
    cycle_lengths: Mapping[int, int] | None = None,
    measurements: Mapping[int, Mapping[str, float]] | None = None,
    interruptions: Iterable[Interruption | Mapping[str, Any]] | None = None,
    include_premedication: bool = True,
) -> TreatmentCalendar:
    """One row per administration over ``cycles`` cycles from ``start_date``.

    Research tool, not for clinical dosing decisions.

    Parameters
    ----------
    regimen_name
        Packaged regimen name or a :class:`Regimen` (context-only regimens such as the TKIs of
        §2.9 are refused).
    start_date
        Day 1 of cycle 1 (before any delay of cycle 1).
    cycles
        Number of cycles (≤ the regimen's maximum). A cycle closed early by a > 7-day
        blinatumomab interruption counts as one of them.
    weight_kg, height_cm, age_years, formula, variant, parameters
        As :func:`rrball.clinical.regimen_doses`; ``weight_kg``/``height_cm`` are the
        measurements before cycle 1.
    responses
        Response before each cycle, where a dose depends on it (inotuzumab cycles ≥ 2).
    delays
        ``{cycle: days}``: the cycle starts that many days after its planned start (e.g. count
        recovery, :func:`rrball.clinical.inotuzumab_cycle_delay` [S:L-BESP]); the days are
        treatment-free and the calendar notes them.
    cycle_lengths
        ``{cycle: days}``: a shortened (or extended) cycle; administrations after the new length
        are not scheduled and are listed in the cycle's notes; the next cycle starts after it.
    measurements
        ``{cycle: {"weight_kg": .., "height_cm": ..}}`` measured before that cycle (cycles ≥ 2);
        each value is carried forward until re-measured and every dose of the cycle is recomputed
        (weight category, BSA, caps). The weight measured before each cycle is PROPOSED
        (UNVERIFIED U03).
    interruptions
        Blinatumomab infusion interruptions (:class:`Interruption` or mappings with ``cycle``,
        ``day``, ``days``, optional ``reason`` and ``restart_step_up``). ≤ 7 days: the same
        cycle continues until its full number of infusion days, later days shift by the
        interruption and the cycle lengthens; > 7 days: the cycle closes at the interruption
        and the next cycle starts at day 1 after it, under its own cycle-number rules
        [S:L-BLIN]. Premedication marked ``also_on_restart`` is given again at a restart (≥ 4 h
        interruption [S:L-BLIN]). Infusion-day doses follow the infusion-day count (a
        step-up day stays a step-up day) — PROPOSED. ``restart_step_up``: the first 7 infusion
        days after the restart (in the same or the new cycle) are at the step dose
        [S:L-BLIN-HCP].

    Returns
    -------
    TreatmentCalendar
        ``rows`` (date, cycle, day, drug, dose, unit, infusion note, schedule_day, weight, BSA,
        modification), ``cycles``, ``breaks``; ``to_frame()``, ``to_csv()``, ``to_ics()``.
    """
    if not isinstance(start_date, dt.date) or isinstance(start_date, dt.datetime):
        raise ClinicalInputError("start_date", start_date, "a datetime.date")
    if isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 1:
        raise ClinicalInputError("cycles", cycles, "a whole number >= 1")
    reg = regimen(regimen_name)
    reg.require_calculable()
    if reg.max_cycles is not None and cycles > reg.max_cycles:
        raise ClinicalInputError("cycles", cycles, f"1 to {reg.max_cycles} for {reg.name}")
    delay = _int_map("delays", delays, 0)
    lengths = _int_map("cycle_lengths", cycle_lengths, 1)
    for name, m in (("delays", delay), ("cycle_lengths", lengths)):
        extra = [k for k in m if k > cycles]
        if extra:
            raise ClinicalInputError(name, extra, f"cycles 1 to {cycles}")
    meas = _measurement_map(measurements, cycles)
    ints = _interruption_list(interruptions, cycles)
    both = sorted(set(ints) & set(lengths))
    if both:
        raise ClinicalInputError(
            "cycle_lengths", both, "no cycle that also has interruptions (they set its length)"
        )
    values = reg.resolve_parameters(dict(parameters or {}))
    resp = dict(responses or {})
    rows: list[CalendarRow] = []
    cyc_out: list[CalendarCycle] = []
    breaks: list[CalendarBreak] = []
    warnings: list[str] = []
    planned = start_date
    w, h = weight_kg, height_cm
    prev_basis: dict[str, str] = {}
    pending_step_up = False
    for c in range(1, cycles + 1):
        notes: list[str] = []
        if c in meas:
            w = meas[c].get("weight_kg", w)
            h = meas[c].get("height_cm", h)
        p = _patient(reg, w, h, age_years, formula, variant, resp.get(c))
        if c == 1 or c in meas:
            warnings += [f"cycle {c}: {x}" if c > 1 else x for x in p.m.warnings + p.bsa.warnings]
        if c in meas:
            notes.append(
                f"measured before cycle {c}: {p.m.weight_kg:g} kg, {p.m.height_cm:g} cm, BSA "
                f"{p.bsa.value:.4f} m2 ({p.bsa.formula}); doses recomputed (U03)"
            )
        block, pairs, notes_dose = cycle_doses(
            reg,
            p,
            values,
            c,
            include_premedication=include_premedication,
            extra_inputs={"cycle": c},
        )
        notes += notes_dose
        for adm, d in pairs:
            if adm.role == "treatment":
                old = prev_basis.get(d.drug)
                if old is not None and old != d.per_m2_or_flat:
                    notes.append(
                        f"{d.drug} dose basis changed from {old} to {d.per_m2_or_flat} "
                        f"(weight {p.m.weight_kg:g} kg before cycle {c}; U03)"
                    )
                prev_basis[d.drug] = d.per_m2_or_flat
        planned_len = reg.length_of(block, values)
        blin_days = sorted(
            {
                x
                for adm, d in pairs
                if d.drug == BLINATUMOMAB and adm.role == "treatment"
                for x in adm.days
            }
        )
        plan = _plan_interruptions(c, ints.get(c, []), blin_days, planned_len)
        length = lengths.get(c, plan.length)
        start = planned + dt.timedelta(days=delay.get(c, 0))
        if delay.get(c):
            notes.append(
                f"delayed {delay[c]} days: starts {start.isoformat()} "
                f"instead of {planned.isoformat()}"
            )
            prev_end = planned - dt.timedelta(days=1)
            breaks.append(
                CalendarBreak(
                    after_cycle=c - 1,
                    start=planned,
                    end=start - dt.timedelta(days=1),
                    reason=f"delay of cycle {c} by {delay[c]} days",
                )
            )
            if (
                c > 1
                and breaks[-2:-1]
                and breaks[-2].after_cycle == c - 1
                and not breaks[-2].within_cycle
                and (breaks[-2].end == prev_end)
            ):
                merged = CalendarBreak(
                    after_cycle=c - 1,
                    start=breaks[-2].start,
                    end=breaks[-1].end,
                    reason=f"{breaks[-2].reason}; {breaks[-1].reason}",
                )
                breaks[-2:] = [merged]
        kind = "shortened"
        if c in lengths and length != planned_len:
            allowed = block.allowed_length_days
            kind = "shortened" if length < planned_len else "extended"
            notes.append(f"{kind} to {length} days (planned {planned_len})")
            if allowed is not None and length not in allowed:
                warnings.append(f"cycle {c}: length {length} is not among {allowed} for {reg.name}")
        for first, last, why in plan.breaks:
            notes.append(f"days {first}-{last}: {why}")
        if plan.shifts:
            notes.append(
                f"lengthened to {length} days (planned {planned_len}) by "
                f"{sum(k for _, k in plan.shifts)} interruption day(s) [S:L-BLIN]"
            )
        # step-up windows (schedule days) after a toxicity restart [S:L-BLIN-HCP]
        step_windows: list[tuple[int, int, str]] = []
        if pending_step_up and blin_days:
            step_windows.append(
                (blin_days[0], blin_days[0] + BLIN_ESCALATE_AFTER_DAYS - 1, "new cycle")
            )
            notes.append(
                "restart after a toxicity interruption: step dose for the first 7 infusion days "
                "[S:L-BLIN-HCP]"
            )
            pending_step_up = False
        for _, s0, step in plan.restarts:
            if step:
                step_windows.append((s0, s0 + BLIN_ESCALATE_AFTER_DAYS - 1, "same cycle"))
        if plan.close_at is not None and any(x.restart_step_up for x in ints.get(c, [])):
            pending_step_up = True
        restart_rule = blinatumomab_restart_rule(p.m.weight_kg) if step_windows else None
        last_day = 0

        def add(
            adm: Administration,
            dres: Any,
            x: int,
            actual: int,
            mod: str = "",
            *,
            c: int = c,
            start: dt.date = start,
            p: Any = p,
        ) -> None:
            nonlocal last_day
            last_day = max(last_day, actual)
            for k in range(1, adm.doses_per_day + 1):
                rows.append(
                    CalendarRow(
                        date=start + dt.timedelta(days=actual - 1),
                        cycle=c,
                        day=actual,
                        drug=dres.drug,
                        role=dres.role,
                        dose=dres.dose,
                        dose_display=dres.dose_display,
                        unit=dres.unit,
                        dose_number=k,
                        doses_per_day=adm.doses_per_day,
                        route=dres.route,
                        infusion_note=dres.infusion_note,
                        per_m2_or_flat=dres.per_m2_or_flat,
                        cap_applied=dres.cap_applied,
                        source=dres.source,
                        schedule_day=x,
                        weight_kg=p.m.weight_kg,
                        bsa_m2=p.bsa.value,
                        modification=mod,
                    )
                )

        for adm, d in pairs:
            dropped = [x for x in adm.days if x > length and plan.close_at is None]
            if dropped:
                notes.append(f"{adm.drug} days {dropped[0]}-{dropped[-1]} not given (cycle {kind})")
            if plan.close_at is not None:
                closed = [x for x in adm.days if x >= plan.close_at]
                if closed:
                    notes.append(
                        f"{adm.drug} schedule days {closed[0]}-{closed[-1]} not given (cycle "
                        "closed by a > 7-day interruption)"
                    )
            for x in adm.days:
                if plan.close_at is not None and x >= plan.close_at:
                    continue
                actual = plan.actual(x)
                if actual > length:
                    continue
                dres, mod = d, ""
                is_blin = d.drug == BLINATUMOMAB and adm.role == "treatment"
                window = next((wd for wd in step_windows if wd[0] <= x <= wd[1]), None)
                if is_blin and window is not None and restart_rule is not None:
                    dres = _compute(reg, block, adm, restart_rule, p, values, c, x, {"cycle": c})
                    dres = dataclasses.replace(dres, dose=min(dres.dose, d.dose))
                    dres = dataclasses.replace(
                        dres, dose_display=f"{dres.dose:.{adm.display_decimals}f}"
                    )
                    mod = (
                        "restart at the step dose after a toxicity interruption "
                        f"({window[2]}), escalate after 7 days [S:L-BLIN-HCP]"
                    )
                add(adm, dres, x, actual, mod)
        # premedication again at each restart inside the cycle [S:L-BLIN]
        for actual, s0, _ in plan.restarts:
            for adm, d in pairs:
                if not adm.also_on_restart:
                    continue
                if any(r.cycle == c and r.day == actual and r.drug == d.drug for r in rows):
                    continue
                add(adm, d, s0, actual, "restart after an interruption >= 4 h [S:L-BLIN]")
        end = start + dt.timedelta(days=length - 1)
        for first, last, why in plan.breaks:
            breaks.append(
                CalendarBreak(
                    after_cycle=c,
                    start=start + dt.timedelta(days=first - 1),
                    end=start + dt.timedelta(days=min(last, length) - 1),
                    reason=why,
                    within_cycle=True,
                )
            )
        if plan.close_at is None and last_day < length:
            breaks.append(
                CalendarBreak(
                    after_cycle=c,
                    start=start + dt.timedelta(days=last_day),
                    end=end,
                    reason=block.treatment_free_note
                    or f"no treatment to day {length} of cycle {c}",
                )
            )
        cyc_out.append(
            CalendarCycle(
                cycle=c,
                label=block.label,
                start=start,
                planned_start=planned,
                end=end,
                length_days=length,
                planned_length_days=planned_len,
                delay_days=delay.get(c, 0),
                notes=tuple(notes),
                weight_kg=p.m.weight_kg,
                height_cm=p.m.height_cm,
                bsa_m2=p.bsa.value,
                closed_early=plan.close_at is not None,
            )
        )
        planned = end + dt.timedelta(days=1)
    if pending_step_up:
        warnings.append(
            "the last cycle closed after a toxicity interruption: the restart at the step dose "
            "falls outside the calendar"
        )
    rows.sort(key=lambda r: (r.date, r.role != "premedication", r.drug, r.dose_number))
    unverified = set(reg.unverified)
    if meas:
        unverified.add("U03")
    return TreatmentCalendar(
        regimen=reg.name,
        rows=tuple(rows),
        cycles=tuple(cyc_out),
        breaks=tuple(breaks),
        inputs=MappingProxyType(
            {
                "start_date": start_date.isoformat(),
                "cycles": cycles,
                "weight_kg": weight_kg,
                "height_cm": height_cm,
                "age_years": age_years,
                "formula": formula,
                "variant": variant,
                "responses": dict(resp),
                "delays": dict(delay),
                "cycle_lengths": dict(lengths),
                "measurements": {k: dict(v) for k, v in meas.items()},
                "interruptions": [dataclasses.asdict(x) for c in sorted(ints) for x in ints[c]],
            }
        ),
        source=reg.source,
        unverified=tuple(sorted(unverified)),
        warnings=tuple(warnings),
        method=MappingProxyType(
            {
                "formula": formula,
                "parameters": dict(values),
                "measurements": U03_RULE,
                "interruptions": "<= 7 days: same cycle continues; > 7 days: new cycle "
                "[S:L-BLIN]; infusion doses follow the infusion-day count (PROPOSED)",
            }
        ),
    )
