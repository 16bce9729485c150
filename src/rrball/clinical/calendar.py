"""Treatment calendars: one row per administration, breaks between cycles, CSV and iCalendar text.

Research tool, not for clinical dosing decisions.

Pure: the exports return strings (CSV text; iCalendar per RFC 5545), nothing is written to disk.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd

from rrball._result import ResultMixin, json_safe
from rrball.clinical.dosing import _patient, cycle_doses
from rrball.clinical.regimens.regimen import ParamValue, Regimen, regimen
from rrball.clinical.sources import DISCLAIMER
from rrball.errors import ClinicalInputError

__all__ = [
    "CalendarBreak",
    "CalendarCycle",
    "CalendarRow",
    "TreatmentCalendar",
    "treatment_calendar",
]

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


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarBreak:
    """Treatment-free dates (inclusive) after a cycle's last administration."""

    after_cycle: int
    start: dt.date
    end: dt.date
    reason: str


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
    include_premedication: bool = True,
) -> TreatmentCalendar:
    """One row per administration over ``cycles`` cycles from ``start_date``.

    Research tool, not for clinical dosing decisions.

    Parameters
    ----------
    regimen_name
        Packaged regimen name or a :class:`Regimen`.
    start_date
        Day 1 of cycle 1 (before any delay of cycle 1).
    cycles
        Number of cycles (≤ the regimen's maximum).
    weight_kg, height_cm, age_years, formula, variant, parameters
        As :func:`rrball.clinical.regimen_doses` (measurements are used for every cycle; the
        weight measured before each cycle should be used, PROPOSED U03: build one calendar per
        cycle when it changes).
    responses
        Response before each cycle, where a dose depends on it (inotuzumab cycles ≥ 2).
    delays
        ``{cycle: days}``: the cycle starts that many days after its planned start (e.g. count
        recovery [S:L-BESP]); the days are treatment-free and the calendar notes them.
    cycle_lengths
        ``{cycle: days}``: a shortened (or extended) cycle; administrations after the new length
        are not scheduled and are listed in the cycle's notes; the next cycle starts after it.

    Returns
    -------
    TreatmentCalendar
        ``rows`` (date, cycle, day, drug, dose, unit, infusion note, ...), ``cycles``, ``breaks``;
        ``to_frame()``, ``to_csv()``, ``to_ics()``.
    """
    if not isinstance(start_date, dt.date) or isinstance(start_date, dt.datetime):
        raise ClinicalInputError("start_date", start_date, "a datetime.date")
    if isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 1:
        raise ClinicalInputError("cycles", cycles, "a whole number >= 1")
    reg = regimen(regimen_name)
    if reg.max_cycles is not None and cycles > reg.max_cycles:
        raise ClinicalInputError("cycles", cycles, f"1 to {reg.max_cycles} for {reg.name}")
    delay = _int_map("delays", delays, 0)
    lengths = _int_map("cycle_lengths", cycle_lengths, 1)
    for name, m in (("delays", delay), ("cycle_lengths", lengths)):
        extra = [k for k in m if k > cycles]
        if extra:
            raise ClinicalInputError(name, extra, f"cycles 1 to {cycles}")
    values = reg.resolve_parameters(dict(parameters or {}))
    resp = dict(responses or {})
    rows: list[CalendarRow] = []
    cyc_out: list[CalendarCycle] = []
    breaks: list[CalendarBreak] = []
    warnings: list[str] = []
    planned = start_date
    for c in range(1, cycles + 1):
        p = _patient(reg, weight_kg, height_cm, age_years, formula, variant, resp.get(c))
        if c == 1:
            warnings += list(p.m.warnings) + list(p.bsa.warnings)
        block, pairs, notes_dose = cycle_doses(
            reg,
            p,
            values,
            c,
            include_premedication=include_premedication,
            extra_inputs={"cycle": c},
        )
        planned_len = reg.length_of(block, values)
        length = lengths.get(c, planned_len)
        start = planned + dt.timedelta(days=delay.get(c, 0))
        notes = list(notes_dose)
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
                and (breaks[-2].end == prev_end)
            ):
                merged = CalendarBreak(
                    after_cycle=c - 1,
                    start=breaks[-2].start,
                    end=breaks[-1].end,
                    reason=f"{breaks[-2].reason}; {breaks[-1].reason}",
                )
                breaks[-2:] = [merged]
        if length != planned_len:
            allowed = block.allowed_length_days
            kind = "shortened" if length < planned_len else "extended"
            notes.append(f"{kind} to {length} days (planned {planned_len})")
            if allowed is not None and length not in allowed:
                warnings.append(f"cycle {c}: length {length} is not among {allowed} for {reg.name}")
        last_day = 0
        for adm, d in pairs:
            dropped = [x for x in adm.days if x > length]
            if dropped:
                notes.append(f"{adm.drug} days {dropped[0]}-{dropped[-1]} not given (cycle {kind})")
            for x in adm.days:
                if x > length:
                    continue
                last_day = max(last_day, x)
                for k in range(1, adm.doses_per_day + 1):
                    rows.append(
                        CalendarRow(
                            date=start + dt.timedelta(days=x - 1),
                            cycle=c,
                            day=x,
                            drug=d.drug,
                            role=d.role,
                            dose=d.dose,
                            dose_display=d.dose_display,
                            unit=d.unit,
                            dose_number=k,
                            doses_per_day=adm.doses_per_day,
                            route=d.route,
                            infusion_note=d.infusion_note,
                            per_m2_or_flat=d.per_m2_or_flat,
                            cap_applied=d.cap_applied,
                            source=d.source,
                        )
                    )
        end = start + dt.timedelta(days=length - 1)
        if last_day < length:
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
            )
        )
        planned = end + dt.timedelta(days=1)
    rows.sort(key=lambda r: (r.date, r.role != "premedication", r.drug, r.dose_number))
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
            }
        ),
        source=reg.source,
        unverified=tuple(reg.unverified),
        warnings=tuple(warnings),
        method=MappingProxyType({"formula": formula, "parameters": dict(values)}),
    )
