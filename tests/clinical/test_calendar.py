"""Treatment calendars: delays, shortened cycles, breaks, CSV and iCalendar text."""

from __future__ import annotations

import csv
import datetime as dt
import io

from hypothesis import given
from hypothesis import strategies as st

from rrball.clinical import DISCLAIMER, treatment_calendar

START = dt.date(2024, 1, 1)


def test_blinatumomab_calendar_rows_and_breaks() -> None:
    """R/R C1: 28 infusion days (9 then 28 mcg/day), 14 treatment-free days; C2 starts day 43."""
    cal = treatment_calendar(
        "blinatumomab_rr_us", START, cycles=2, weight_kg=70, height_cm=175, age_years=40
    )
    blin = [r for r in cal.rows if r.drug == "blinatumomab"]
    assert len(blin) == 56
    assert [r.dose for r in blin[:8]] == [9.0] * 7 + [28.0]
    assert cal.cycles[1].start == START + dt.timedelta(days=42)
    assert cal.breaks[0].start == START + dt.timedelta(days=28)
    assert cal.breaks[0].end == START + dt.timedelta(days=41)
    dex = [r for r in cal.rows if r.drug == "dexamethasone"]
    assert [(r.cycle, r.day) for r in dex] == [(1, 1), (1, 8), (2, 1)]


def test_delay_and_shortened_cycle_shift_dates_and_are_noted() -> None:
    cal = treatment_calendar(
        "blinatumomab_rr_us",
        START,
        cycles=3,
        weight_kg=70,
        height_cm=175,
        delays={2: 7},
        cycle_lengths={1: 20},
    )
    c1, c2, c3 = cal.cycles
    assert c1.length_days == 20 and any("shortened" in n for n in c1.notes)
    assert max(r.day for r in cal.rows if r.cycle == 1) == 20
    assert c2.planned_start == START + dt.timedelta(days=20)
    assert c2.start == c2.planned_start + dt.timedelta(days=7)
    assert any("delayed 7 days" in n for n in c2.notes)
    assert c3.start == c2.end + dt.timedelta(days=1)


def test_inotuzumab_calendar_uses_response_per_cycle() -> None:
    cal = treatment_calendar(
        "inotuzumab_us", START, cycles=2, weight_kg=70, height_cm=170, responses={2: "CR"}
    )
    day1 = [r.dose for r in cal.rows if r.day == 1]
    assert day1[0] > day1[1]  # 0.8 then 0.5 mg/m2
    assert cal.cycles[1].start == START + dt.timedelta(days=21)


def test_csv_and_ics_exports() -> None:
    cal = treatment_calendar("inotuzumab_us", START, cycles=1, weight_kg=70, height_cm=170)
    text = cal.to_csv()
    assert text.startswith(f"# {DISCLAIMER}")
    rows = list(csv.DictReader(io.StringIO(text.split("\n", 1)[1])))
    assert [r["date"] for r in rows] == ["2024-01-01", "2024-01-08", "2024-01-15"]
    ics = cal.to_ics()
    lines = ics.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert ics.count("BEGIN:VEVENT") == 3 and "DTSTART;VALUE=DATE:20240108" in ics
    assert "\n" not in ics.replace("\r\n", "")
    assert "Research tool\\, not for clinical dosing decisions" in ics.replace("\r\n ", "")


@given(
    name=st.sampled_from(["blinatumomab_rr_us", "inotuzumab_us", "pomp_blina_seed003_amended"]),
    cycles=st.integers(min_value=1, max_value=4),
    delays=st.dictionaries(st.integers(1, 4), st.integers(0, 30), max_size=3),
    lengths=st.dictionaries(st.integers(1, 4), st.integers(1, 60), max_size=3),
)
def test_no_dose_inside_a_break(
    name: str, cycles: int, delays: dict[int, int], lengths: dict[int, int]
) -> None:
    """Property: no administration is scheduled inside a break, and rows stay inside cycles."""
    delays = {k: v for k, v in delays.items() if k <= cycles}
    lengths = {k: v for k, v in lengths.items() if k <= cycles}
    cal = treatment_calendar(
        name,
        START,
        cycles=cycles,
        weight_kg=30,
        height_cm=140,
        responses=dict.fromkeys(range(2, 5), "PR"),
        delays=delays,
        cycle_lengths=lengths,
    )
    for r in cal.rows:
        assert not any(b.start <= r.date <= b.end for b in cal.breaks)
        c = cal.cycles[r.cycle - 1]
        assert c.start <= r.date <= c.end
    for prev, nxt in zip(cal.cycles, cal.cycles[1:], strict=False):
        assert nxt.start > prev.end
