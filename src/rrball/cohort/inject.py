"""Error injection for validator tests (data-dictionary.md §8 rule 5).

``synthetic_cohort(profile, seed=..., inject_errors=True)`` returns an :class:`InjectedCohort`:
the profile's tables with one violation of each E rule listed in :data:`INJECTORS`, each placed
on a patient of its own, and the list of errors the validator must report (table, source row,
column, rule id). A violation may legitimately trigger further rules on the same patient (a
duplicated line is also a second index line); those rule ids are listed per injection as
``also``, so a test can check that the validator reports every expected error and nothing that
no injection explains.

Rules that concern files rather than cells (R-GEN-009/010, R-FLAT-*, R-RC-*, R-PRIV-001/005/006,
R-FILE-*) are proven by the malformed-file corpus and the REDCap tests instead; the rules
covered here are the cell, row and cross-table rules of §2.4 and §3 (:data:`COVERED_RULES`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rrball.errors import CohortIssue, CohortValidationError

__all__ = ["COVERED_RULES", "INJECTORS", "ExpectedError", "InjectedCohort", "inject_errors"]


@dataclass(frozen=True, slots=True)
class ExpectedError:
    """One error the validator must report: where (as in the CSV export) and which rule.

    ``also`` lists rule ids the same violation may trigger as a consequence (same patient)."""

    table: str
    row: int | None
    column: str | None
    rule_id: str
    patient_id: str | None
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class InjectedCohort:
    """Text tables with injected violations, their metadata, and the expected errors."""

    tables: Mapping[str, pd.DataFrame]
    metadata: Sequence[tuple[str, str]]
    expected: tuple[ExpectedError, ...]
    profile: str = ""
    seed: int = 0
    skipped: tuple[str, ...] = field(default=())

    def write(self, folder: str | Path) -> Path:
        """Write the tables as a CSV folder (so ``rrball validate`` shows the errors)."""
        from rrball.cohort.readers.csv import write_csv_folder

        target = Path(folder)
        write_csv_folder(target, dict(self.tables), list(self.metadata))
        return target

    def validate(self) -> list[CohortIssue]:
        """Run the real validator; return its error records (``CohortIssue``), never raise."""
        from rrball.cohort.cohort import validate_raw
        from rrball.cohort.synthetic import raw_from_frames
        pairs = [(k, v, i + 2) for i, (k, v) in enumerate(self.metadata)]
        try:
            validate_raw(raw_from_frames(dict(self.tables), "injected"), pairs,
                         source="injected")
        except CohortValidationError as exc:
            return list(exc.errors)
        return []


class _Tables:
    """Mutable text tables with row lookup by patient (rows as in the CSV: index + 2)."""

    def __init__(self, tables: Mapping[str, pd.DataFrame]) -> None:
        self.t = {k: v.copy().reset_index(drop=True) for k, v in tables.items()}
        self.used: set[str] = set()

    def rows(self, table: str, pid: str) -> list[int]:
        df = self.t[table]
        return [int(i) for i in df.index[df["patient_id"] == pid]]

    def set(self, table: str, i: int, column: str, value: str) -> int:
        df = self.t[table]
        if column not in df.columns:
            df[column] = ""
        df.loc[i, column] = value
        return i + 2

    def get(self, table: str, i: int, column: str) -> str:
        df = self.t[table]
        return str(df.loc[i, column]) if column in df.columns else ""

    def append_copy(self, table: str, i: int, **changes: str) -> int:
        df = self.t[table]
        row = df.loc[[i]].copy()
        for k, v in changes.items():
            if k not in df.columns:
                df[k] = ""
                row[k] = ""
            row[k] = v
        self.t[table] = pd.concat([df, row], ignore_index=True)
        return len(self.t[table]) + 1

    def pick(self, pred: Callable[[str], bool]) -> str | None:
        for pid in self.t["patients"]["patient_id"]:
            if pid not in self.used and pred(str(pid)):
                self.used.add(str(pid))
                return str(pid)
        return None

    # predicates
    def dead(self, pid: str) -> bool:
        fu = self.t["follow_up"]
        return bool(((fu["patient_id"] == pid) & (fu["event_type"] == "2")).any())

    def has(self, table: str, pid: str, column: str | None = None) -> bool:
        if table not in self.t:
            return False
        df = self.t[table]
        sel = df["patient_id"] == pid
        if column is not None:
            if column not in df.columns:
                return False
            sel &= df[column].astype(str) != ""
        return bool(sel.any())

    def event_row(self, pid: str, event_type: str) -> int:
        fu = self.t["follow_up"]
        hits = fu.index[(fu["patient_id"] == pid) & (fu["event_type"] == event_type)]
        return int(hits[0])


Injector = Callable[[_Tables, str], list[ExpectedError]]
_Pred = Callable[[_Tables, str], bool]


def _any(t: _Tables, pid: str) -> bool:
    return True


def _with_mrd(t: _Tables, pid: str) -> bool:
    a = t.t["assessments"]
    sel = (a["patient_id"] == pid) & (a["mrd_detected"] == "1") & (a["mrd_value"] != "")
    return bool(sel.any())


def _first(t: _Tables, table: str, pid: str, column: str | None = None) -> int:
    df = t.t[table]
    sel = df["patient_id"] == pid
    if column is not None:
        sel &= df[column].astype(str) != ""
    return int(df.index[sel][0])


def _date(text: str, days: int) -> str:
    return (dt.date.fromisoformat(text) + dt.timedelta(days=days)).isoformat()


def _cell(table: str, column: str, value: str, rule: str, *, also: tuple[str, ...] = (),
          where: str | None = None,
          column_reported: str | None = None) -> tuple[_Pred, Injector]:
    """Set one cell of the patient's first row of ``table`` (with ``where`` filled); the error
    names ``column_reported`` when the rule reports the other column of a pair."""

    def pred(t: _Tables, pid: str) -> bool:
        return t.has(table, pid, where)

    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        i = _first(t, table, pid, where)
        row = t.set(table, i, column, value)
        return [ExpectedError(table, row, column_reported or column, rule, pid, also)]

    return pred, inj


def _mrd_cell(column: str, value: str, rule: str, *, also: tuple[str, ...] = (),
              column_reported: str | None = None) -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        a = t.t["assessments"]
        i = int(a.index[(a["patient_id"] == pid) & (a["mrd_detected"] == "1")
                        & (a["mrd_value"] != "")][0])
        return [ExpectedError("assessments", t.set("assessments", i, column, value),
                              column_reported or column, rule, pid, also)]

    return _with_mrd, inj


def _dup(table: str, column: str, rule: str, *, also: tuple[str, ...] = (),
         **changes: str) -> tuple[_Pred, Injector]:
    """Append a copy of the patient's first row of ``table`` (a duplicate key)."""

    def pred(t: _Tables, pid: str) -> bool:
        return t.has(table, pid)

    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        row = t.append_copy(table, _first(t, table, pid), **changes)
        return [ExpectedError(table, row, column, rule, pid, also)]

    return pred, inj


def _assessment_after_death() -> tuple[_Pred, Injector]:
    def pred(t: _Tables, pid: str) -> bool:
        return t.dead(pid) and t.has("assessments", pid)

    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        death = t.get("follow_up", t.event_row(pid, "2"), "event_date")
        i = _first(t, "assessments", pid)
        row = t.set("assessments", i, "assessment_date", _date(death, 5))
        return [ExpectedError("assessments", row, "assessment_date", "R-DATE-012", pid,
                              ("R-DATE-013", "R-KEY-003", "R-KEY-008", "R-DATE-008"))]

    return pred, inj


def _last_contact_not_death() -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        i = t.event_row(pid, "3")
        row = t.set("follow_up", i, "event_date", _date(t.get("follow_up", i, "event_date"), 3))
        return [ExpectedError("follow_up", row, "event_date", "R-DATE-014", pid,
                              ("R-DATE-012", "R-DATE-013"))]

    return (lambda t, pid: t.dead(pid)), inj


def _alive_with_death() -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        row = t.set("follow_up", t.event_row(pid, "3"), "vital_status", "1")
        return [ExpectedError("follow_up", row, "vital_status", "R-XF-033", pid)]

    return (lambda t, pid: t.dead(pid)), inj


def _ongoing_but_dead() -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        i = _first(t, "treatment_lines", pid)
        row = t.set("treatment_lines", i, "line_end_reason", "0")
        return [ExpectedError("treatment_lines", row, "line_end_reason", "R-XF-014", pid)]

    return (lambda t, pid: t.dead(pid)), inj


def _date_before(table: str, column: str, reference: str, days: int,
                 rule: str) -> tuple[_Pred, Injector]:
    """Set ``column`` ``days`` days after the same row's ``reference`` date (negative: before)."""
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        i = _first(t, table, pid)
        row = t.set(table, i, column, _date(t.get(table, i, reference), days))
        return [ExpectedError(table, row, column, rule, pid)]

    return (lambda t, pid: t.has(table, pid)), inj


def _second_last_contact() -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        t.append_copy("follow_up", t.event_row(pid, "3"), event_id=f"{pid}-LC2")
        row = _first(t, "patients", pid) + 2  # reported on the patient: "2 last_contact events"
        return [ExpectedError("patients", row, "patient_id", "R-KEY-005", pid)]

    return _any, inj


def _orphan_assessment() -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        i = _first(t, "assessments", pid)
        row = t.set("assessments", i, "line_id", "NO-SUCH-LINE")
        return [ExpectedError("assessments", row, "line_id", "R-KEY-007", pid, ("R-KEY-008",))]

    return (lambda t, pid: t.has("assessments", pid)), inj


def _no_index_line() -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        t.set("treatment_lines", _first(t, "treatment_lines", pid), "index_line", "0")
        row = _first(t, "patients", pid) + 2
        return [ExpectedError("patients", row, "patient_id", "R-KEY-009", pid)]

    def pred(t: _Tables, pid: str) -> bool:
        return len(t.rows("treatment_lines", pid)) == 1

    return pred, inj


def _ph_negative_isoform() -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        row = t.set("patients", _first(t, "patients", pid), "bcr_abl1_isoform", "1")
        return [ExpectedError("patients", row, "bcr_abl1_isoform", "R-XF-011", pid)]

    return (lambda t, pid: t.get("patients", _first(t, "patients", pid), "ph_status") == "0"), \
        inj


def _pb_blast_abs_without_blasts() -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        a = t.t["assessments"]
        i = int(a.index[(a["patient_id"] == pid) & (a["pb_blasts"] == "0")][0])
        row = t.set("assessments", i, "pb_blast_abs", "1.2")
        t.set("assessments", i, "wbc", "5")
        return [ExpectedError("assessments", row, "pb_blast_abs", "R-XF-018", pid)]

    def pred(t: _Tables, pid: str) -> bool:
        a = t.t["assessments"]
        return bool(((a["patient_id"] == pid) & (a["pb_blasts"] == "0")).any())

    return pred, inj


def _anc_above_wbc() -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        a = t.t["assessments"]
        i = int(a.index[(a["patient_id"] == pid) & (a["anc"] != "")][0])
        t.set("assessments", i, "wbc", "0.5")
        row = t.set("assessments", i, "anc", "3")
        return [ExpectedError("assessments", row, "anc", "R-XF-022", pid)]

    return (lambda t, pid: t.has("assessments", pid, "anc")), inj


def _nothing_assessed() -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        i = _first(t, "assessments", pid)
        for c in ("bm_blast_pct", "pb_blasts", "emd", "mrd_detected", "mrd_value", "mrd_lod",
                  "mrd_unit", "mrd_method", "mrd_sample", "anc", "plt", "wbc"):
            if c in t.t["assessments"].columns:
                t.set("assessments", i, c, "")
        return [ExpectedError("assessments", i + 2, "bm_blast_pct", "R-ASM-001", pid,
                              ("R-XF-007",))]

    return (lambda t, pid: t.has("assessments", pid)), inj


def _primary_refractory_status() -> tuple[_Pred, Injector]:
    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        i = _first(t, "treatment_lines", pid)
        row = t.set("treatment_lines", i, "disease_status_at_start", "1")
        return [ExpectedError("treatment_lines", row, "disease_status_at_start", "R-XF-003",
                              pid, ("R-XF-007", "R-XF-042"))]

    def pred(t: _Tables, pid: str) -> bool:
        i = _first(t, "treatment_lines", pid)
        return t.get("treatment_lines", i, "relapse_number") not in ("", "0")

    return pred, inj


def _remission_number_beyond_relapses() -> tuple[_Pred, Injector]:
    """Status MRD-positive remission in CR3+ after no relapse (CRn > relapse_number + 1)."""

    def inj(t: _Tables, pid: str) -> list[ExpectedError]:
        i = _first(t, "treatment_lines", pid)
        row = t.set("treatment_lines", i, "disease_status_at_start", "3")
        t.set("treatment_lines", i, "remission_number_at_start", "3")
        t.set("treatment_lines", i, "relapse_number", "0")
        t.set("treatment_lines", i, "salvage_number", "0")
        return [ExpectedError("treatment_lines", row, "remission_number_at_start", "R-XF-005",
                              pid, ("R-XF-007", "R-XF-042", "R-DATE-006"))]

    return _any, inj


#: (rule id, predicate on the patient, injector)
INJECTORS: tuple[tuple[str, _Pred, Injector], ...] = tuple(
    (rule, pred, inj) for rule, (pred, inj) in (
        ("R-GEN-003", _cell("patients", "sex", "", "R-GEN-003")),
        ("R-GEN-004", _cell("treatment_lines", "n_cycles", "two", "R-GEN-004")),
        ("R-GEN-005", _cell("patients", "sex", "F", "R-GEN-005")),
        ("R-GEN-006", _cell("assessments", "assessment_date", "2019-13-01", "R-GEN-006")),
        ("R-GEN-007", _cell("treatment_lines", "line_start_date", "2019-02", "R-GEN-007",
                            also=("R-KEY-008",))),
        ("R-GEN-008", _cell("patients", "first_cr_date", "2099-01-01", "R-GEN-008",
                            also=("R-DATE-003",))),
        ("R-GEN-011", _cell("follow_up", "relapse_sites", "1;1", "R-GEN-011",
                            where="relapse_sites")),
        ("R-GEN-012", _cell("assessments", "bm_blast_pct", "5 %", "R-GEN-012")),
        ("R-UNIT-003", _cell("assessments", "plt", "150000", "R-UNIT-003", where="plt")),
        ("R-UNIT-005", _mrd_cell("mrd_value", "2", "R-UNIT-005", also=("R-ASM-008",))),
        ("R-PAT-002", _cell("patients", "centre_id", "C 01", "R-PAT-002")),
        ("R-PAT-003", _cell("patients", "birth_date", "1899-06", "R-PAT-003",
                            also=("R-XF-013", "R-PRIV-004"))),
        ("R-PAT-004", _cell("patients", "age_at_diagnosis_years", "130", "R-PAT-004",
                            also=("R-XF-001",))),
        ("R-PAT-005", _cell("patients", "diagnosis_date", "1949-05", "R-PAT-005",
                            also=("R-DATE-001",))),
        ("R-LIN-002", _cell("treatment_lines", "salvage_number", "25", "R-LIN-002")),
        ("R-LIN-004", _cell("treatment_lines", "n_prior_allo_hsct", "7", "R-LIN-004")),
        ("R-LIN-010", _cell("treatment_lines", "n_cycles", "13", "R-LIN-010")),
        ("R-ASM-001", _nothing_assessed()),
        ("R-ASM-002", _cell("assessments", "bm_blast_pct", "120", "R-ASM-002",
                            where="bm_blast_pct")),
        ("R-ASM-005", _cell("assessments", "anc", "-2", "R-ASM-005", where="anc")),
        ("R-ASM-007", _mrd_cell("mrd_detected", "", "R-ASM-007")),
        ("R-ASM-009", _mrd_cell("mrd_lod", "0.5", "R-ASM-009", also=("R-XF-015",))),
        ("R-HCT-002", _cell("transplants", "hsct_number", "9", "R-HCT-002")),
        ("R-DATE-007", _date_before("treatment_lines", "line_end_date", "line_start_date", -10,
                                    "R-DATE-007")),
        ("R-DATE-012", _assessment_after_death()),
        ("R-DATE-014", _last_contact_not_death()),
        ("R-DATE-018", _date_before("transplants", "engraftment_date", "hsct_date", -1,
                                    "R-DATE-018")),
        # a duplicated patients row also doubles the patient's lines in cross-table joins
        ("R-KEY-001", _dup("patients", "patient_id", "R-KEY-001",
                           also=("R-DATE-006", "R-XF-009", "R-KEY-009"))),
        ("R-KEY-003", _dup("assessments", "assessment_id", "R-KEY-003")),
        ("R-KEY-005", _second_last_contact()),
        ("R-KEY-007", _orphan_assessment()),
        ("R-KEY-009", _no_index_line()),
        ("R-XF-003", _primary_refractory_status()),
        ("R-XF-005", _remission_number_beyond_relapses()),
        ("R-XF-011", _ph_negative_isoform()),
        ("R-XF-014", _ongoing_but_dead()),
        ("R-XF-015", _mrd_cell("mrd_detected", "0", "R-XF-015", column_reported="mrd_value")),
        ("R-XF-016", _mrd_cell("mrd_method", "3", "R-XF-016", column_reported="mrd_unit")),
        ("R-XF-018", _pb_blast_abs_without_blasts()),
        ("R-XF-022", _anc_above_wbc()),
        ("R-XF-033", _alive_with_death()),
        ("R-XF-035", _cell("follow_up", "relapse_sites", "5;1", "R-XF-035",
                           where="relapse_sites")),
        ("R-AE-011", _cell("adverse_events", "bilirubin", "1500", "R-AE-011",
                           where="bilirubin")),
        ("R-AE-016", _cell("adverse_events", "weight_kg", "400", "R-AE-016",
                           where="weight_kg")),
        ("R-AE-017", _cell("adverse_events", "hepatomegaly", "0", "R-AE-017",
                           where="hepatomegaly_painful", column_reported="hepatomegaly_painful")),
    )
)

COVERED_RULES: tuple[str, ...] = tuple(rule for rule, _, _ in INJECTORS)


def inject_errors(tables: Mapping[str, pd.DataFrame], metadata: Sequence[tuple[str, str]], *,
                  profile: str = "", seed: int = 0) -> InjectedCohort:
    """One violation of each rule of :data:`INJECTORS`, each on a patient of its own.

    A rule whose precondition no remaining patient meets (e.g. no AE rows in a seed 000
    cohort) is listed in ``skipped`` rather than injected."""
    t = _Tables(tables)
    meta = list(metadata)
    if not any(k == "unit_pb_blast_abs" for k, _ in meta):  # R-XF-018 adds that column
        meta.append(("unit_pb_blast_abs", "10^9/L"))
    expected: list[ExpectedError] = []
    skipped: list[str] = []
    for rule, pred, inj in INJECTORS:
        pid = t.pick(lambda p, pred=pred: pred(t, p))  # type: ignore[misc]
        if pid is None:
            skipped.append(rule)
            continue
        expected.extend(inj(t, pid))
    return InjectedCohort(tables=t.t, metadata=tuple(meta), expected=tuple(expected),
                          profile=profile, seed=seed, skipped=tuple(skipped))
