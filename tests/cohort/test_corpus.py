"""Generated malformed-file corpus (issue 7 proof): each case gives its rule id, no traceback,
nothing written. Rule ids of data-dictionary.md §2.4, §3 and the reader's R-FILE ids."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from rrball.cohort import CohortValidationError, load_cohort
from rrball.cohort.schema import TABLES
from tests.cohort._data import META, Tables, base_tables, write_csv

Case = tuple[str, Callable[[Tables, list[tuple[str, str]]], None], str]
CASES: list[Case] = []


def case(cid: str, rule: str) -> Callable[[Callable[[Tables, list[tuple[str, str]]], None]],
                                          None]:
    def deco(fn: Callable[[Tables, list[tuple[str, str]]], None]) -> None:
        CASES.append((cid, fn, rule))
    return deco


def setter(table: str, i: int, col: str, value: str) -> Callable[[Tables, list[tuple[str, str]]],
                                                                 None]:
    def fn(t: Tables, m: list[tuple[str, str]]) -> None:
        t[table][i][col] = value
    return fn


# wrong types, comparators
_NUM = [("treatment_lines", "salvage_number"), ("treatment_lines", "relapse_number"),
        ("treatment_lines", "n_cycles"), ("assessments", "bm_blast_pct"),
        ("assessments", "anc"), ("assessments", "plt"), ("assessments", "wbc")]
for tab, col in _NUM:
    for k, v in enumerate(["abc", "two", "1,5,3", "--1"]):
        CASES.append((f"type-{col}-{k}", setter(tab, 0, col, v), "R-GEN-004"))
    for k, v in enumerate(["<5", "5 %", "12x10^9", ">1"]):
        CASES.append((f"comparator-{col}-{k}", setter(tab, 0, col, v), "R-GEN-012"))
# bad / partial / future dates
_DATES = [("treatment_lines", "line_start_date"), ("assessments", "assessment_date"),
          ("follow_up", "event_date")]
for tab, col in _DATES:
    for k, v in enumerate(["2019-13-01", "01/02/2019", "early 2019", "19-02-01", "2019-02-30",
                           "Feb 2019"]):
        CASES.append((f"date-{col}-{k}", setter(tab, 1, col, v), "R-GEN-006"))
    CASES.append((f"partial-{col}", setter(tab, 1, col, "2019-02"), "R-GEN-007"))
    CASES.append((f"future-{col}", setter(tab, 1, col, "2099-01-01"), "R-GEN-008"))
CASES.append(("pdate-bad", setter("patients", 0, "diagnosis_date", "soon"), "R-GEN-006"))
CASES.append(("pdate-future", setter("patients", 0, "diagnosis_date", "2099"), "R-GEN-008"))
# impossible date orders
CASES += [
    ("order-line-before-dx", setter("treatment_lines", 0, "line_start_date", "2017-01-01"),
     "R-DATE-004"),
    ("order-cr-before-dx", setter("patients", 0, "first_cr_date", "2017-12-01"), "R-DATE-002"),
    ("order-rel-before-cr", setter("patients", 0, "first_relapse_date", "2018-02-01"),
     "R-DATE-003"),
    ("order-birth-after-dx", setter("patients", 0, "birth_date", "2018-06"), "R-DATE-001"),
    ("order-line-end", setter("treatment_lines", 0, "line_end_date", "2019-01-01"),
     "R-DATE-007"),
    ("order-after-death", setter("assessments", 1, "assessment_date", "2020-02-01"),
     "R-DATE-012"),
    ("order-after-lc", setter("assessments", 3, "assessment_date", "2020-07-01"), "R-DATE-013"),
    ("order-lc-not-death", setter("follow_up", 2, "event_date", "2020-01-05"), "R-DATE-014"),
    ("order-rel-before-frel", setter("treatment_lines", 0, "line_start_date", "2019-01-10"),
     "R-DATE-005"),
]
# out-of-range values (column rules and unit plausibility)
CASES += [
    ("range-bm", setter("assessments", 0, "bm_blast_pct", "150"), "R-ASM-002"),
    ("range-bm-neg", setter("assessments", 0, "bm_blast_pct", "-1"), "R-ASM-002"),
    ("range-plt-uL", setter("assessments", 0, "plt", "152000"), "R-UNIT-003"),
    ("range-anc-uL", setter("assessments", 0, "anc", "1500"), "R-UNIT-003"),
    ("range-wbc-uL", setter("assessments", 0, "wbc", "5000"), "R-UNIT-003"),
    ("range-salv", setter("treatment_lines", 0, "salvage_number", "25"), "R-LIN-002"),
    ("range-rel", setter("treatment_lines", 0, "relapse_number", "21"), "R-LIN-003"),
    ("range-cycles", setter("treatment_lines", 0, "n_cycles", "13"), "R-LIN-010"),
    ("range-weight", setter("treatment_lines", 0, "weight_kg", "400"), "R-LIN-006"),
    ("range-height", setter("treatment_lines", 0, "height_cm", "20"), "R-LIN-007"),
    ("range-cd19", setter("treatment_lines", 0, "cd19_pct", "101"), "R-LIN-009"),
    ("range-age", setter("patients", 0, "age_at_diagnosis_years", "130"), "R-PAT-004"),
    ("range-lod", setter("assessments", 1, "mrd_lod", "0.5"), "R-ASM-009"),
    ("range-agvhd", setter("transplants", 0, "agvhd_max_grade", "7"), "R-HCT-003"),
    ("range-sentinel", setter("assessments", 0, "bm_blast_pct", "999"), "R-ASM-002"),
]
# missing required cells: every required column of every table present in the base
for tab, rows in base_tables().items():
    for col, spec in TABLES[tab].columns.items():
        if spec.req == "R" and rows and col in rows[0]:
            CASES.append((f"required-{tab}-{col}", setter(tab, 0, col, ""), "R-GEN-003"))
            if tab in ("patients", "treatment_lines"):
                CASES.append((f"required-na-{tab}-{col}", setter(tab, 0, col, "NA"),
                              "R-GEN-003"))
# unknown codes
for tab, col in [("patients", "sex"), ("patients", "ph_status"), ("patients", "kmt2a_status"),
                 ("treatment_lines", "regimen"), ("treatment_lines", "disease_status_at_start"),
                 ("assessments", "emd"), ("assessments", "mrd_method"),
                 ("follow_up", "event_type"), ("transplants", "hsct_type"),
                 ("patients", "primary_refractory")]:
    for k, v in enumerate(["Woman", "77", "x"]):
        CASES.append((f"code-{col}-{k}", setter(tab, 0, col, v), "R-GEN-005"))
CASES.append(("set-unknown", setter("follow_up", 0, "relapse_sites", "1;42"), "R-GEN-011"))
CASES.append(("set-repeat", setter("follow_up", 0, "relapse_sites", "1;1"), "R-GEN-011"))
CASES.append(("bool-bad", setter("treatment_lines", 0, "index_line", "maybe"), "R-GEN-004"))


# duplicate keys, orphans, structure
@case("dup-patient", "R-KEY-001")
def _dup_patient(t: Tables, m: list[tuple[str, str]]) -> None:
    t["patients"].append(dict(t["patients"][0]))


@case("dup-patient-case", "R-KEY-001")
def _dup_case(t: Tables, m: list[tuple[str, str]]) -> None:
    t["patients"][1]["patient_id"] = "p1"


@case("dup-line", "R-KEY-002")
def _dup_line(t: Tables, m: list[tuple[str, str]]) -> None:
    t["treatment_lines"][1]["line_id"] = "P1-L1"


@case("dup-assessment", "R-KEY-003")
def _dup_asm(t: Tables, m: list[tuple[str, str]]) -> None:
    t["assessments"][1]["assessment_id"] = "P1-BL"


@case("dup-assessment-date", "R-KEY-003")
def _dup_asm_date(t: Tables, m: list[tuple[str, str]]) -> None:
    t["assessments"][3]["assessment_date"] = t["assessments"][2]["assessment_date"]


@case("dup-event", "R-KEY-005")
def _dup_event(t: Tables, m: list[tuple[str, str]]) -> None:
    t["follow_up"][1]["event_id"] = "P1-R"


@case("two-last-contacts", "R-KEY-005")
def _two_lc(t: Tables, m: list[tuple[str, str]]) -> None:
    t["follow_up"].append({"event_id": "P2-LC2", "patient_id": "P2", "event_type": "3",
                           "event_date": "2020-05-01", "vital_status": "1"})


@case("no-last-contact", "R-KEY-005")
def _no_lc(t: Tables, m: list[tuple[str, str]]) -> None:
    t["follow_up"] = [r for r in t["follow_up"] if r["event_id"] != "P2-LC"]


@case("no-index-line", "R-KEY-009")
def _no_index(t: Tables, m: list[tuple[str, str]]) -> None:
    t["treatment_lines"][0]["index_line"] = "0"


@case("orphan-assessment", "R-KEY-007")
def _orphan_asm(t: Tables, m: list[tuple[str, str]]) -> None:
    t["assessments"].append({**t["assessments"][0], "assessment_id": "X9", "patient_id": "P9"})


@case("orphan-event", "R-KEY-007")
def _orphan_fu(t: Tables, m: list[tuple[str, str]]) -> None:
    t["follow_up"].append({**t["follow_up"][3], "event_id": "X9", "patient_id": "P9"})


@case("orphan-line-ref", "R-KEY-007")
def _orphan_ref(t: Tables, m: list[tuple[str, str]]) -> None:
    t["transplants"][0]["line_id"] = "NOPE"


@case("foreign-line-ref", "R-KEY-007")
def _foreign_ref(t: Tables, m: list[tuple[str, str]]) -> None:
    t["transplants"][0]["line_id"] = "P1-L1"


@case("same-day-relapses", "R-KEY-011")
def _same_rel(t: Tables, m: list[tuple[str, str]]) -> None:
    t["follow_up"].append({**t["follow_up"][0], "event_id": "P1-R2"})


# cross-field rules
CASES += [
    ("xf-isoform", setter("patients", 0, "bcr_abl1_isoform", "1"), "R-XF-011"),
    ("xf-kmt2a-partner", setter("patients", 0, "kmt2a_partner", "AFF1"), "R-XF-011"),
    ("xf-pb-abs", setter("assessments", 1, "pb_blast_abs", "1"), "R-XF-018"),
    ("xf-anc-wbc", setter("assessments", 0, "wbc", "0.1"), "R-XF-022"),
    ("xf-mrd-zero", setter("assessments", 1, "mrd_value", "0.01"), "R-XF-015"),
    ("xf-fusion-frac", setter("assessments", 1, "mrd_method", "3"), "R-XF-016"),
    ("xf-molecular", setter("follow_up", 0, "relapse_sites", "1;5"), "R-XF-035"),
    ("xf-vital", setter("follow_up", 3, "vital_status", "2"), "R-XF-033"),
    ("xf-status-prim", setter("treatment_lines", 0, "disease_status_at_start", "1"),
     "R-XF-003"),
    ("xf-salv0", setter("treatment_lines", 0, "salvage_number", "0"), "R-XF-006"),
    ("xf-remission", setter("treatment_lines", 0, "disease_status_at_start", "3"), "R-GEN-003"),
    ("lin-detail", setter("treatment_lines", 0, "regimen", "20"), "R-LIN-001"),
    ("pattern-id", setter("patients", 0, "patient_id", "P 1!"), "R-PAT-001"),
    ("priv-free-text", setter("patients", 0, "frontline_protocol", "call 555-123-4567"),
     "R-PRIV-002"),
    ("priv-email", setter("treatment_lines", 0, "regimen_detail", "dr@x.org"), "R-PRIV-002"),
    ("hct-donor", setter("transplants", 0, "donor_type", ""), "R-GEN-003"),
    ("hct-before-line", setter("transplants", 0, "hsct_date", "2019-02-01"), "R-DATE-011"),
]


@case("asm-nothing", "R-ASM-001")
def _asm_nothing(t: Tables, m: list[tuple[str, str]]) -> None:
    t["assessments"][0] = {k: v for k, v in t["assessments"][0].items()
                           if k in ("assessment_id", "patient_id", "assessment_date", "anc")}


# metadata and units
def meta_set(key: str, value: str | None) -> Callable[[Tables, list[tuple[str, str]]], None]:
    def fn(t: Tables, m: list[tuple[str, str]]) -> None:
        m[:] = [(k, v) for k, v in m if k != key]
        if value is not None:
            m.append((key, value))
    return fn


CASES += [
    ("unit-missing-plt", meta_set("unit_plt", None), "R-UNIT-001"),
    ("unit-missing-anc", meta_set("unit_anc", None), "R-UNIT-001"),
    ("unit-bad-plt", meta_set("unit_plt", "mg"), "R-UNIT-002"),
    ("unit-missing-mrd", meta_set("mrd_scale", None), "R-UNIT-001"),
    ("unit-bad-mrd", meta_set("mrd_scale", "ppm"), "R-UNIT-002"),
    ("unit-mrd-log10", meta_set("mrd_scale", "log10"), "R-UNIT-005"),
    ("meta-version", meta_set("schema_version", "2.0"), "R-META-004"),
    ("meta-criteria", meta_set("criteria_set", "who"), "R-META-003"),
    ("meta-study", meta_set("study_code", None), "R-META-001"),
    ("meta-study-bad", meta_set("study_code", "a b"), "R-META-003"),
    ("meta-criteria-missing", meta_set("criteria_set", None), "R-META-001"),
    ("meta-export-future", meta_set("export_date", "2999-01-01"), "R-META-003"),
    ("meta-window", meta_set("response_window_days", "5"), "R-META-003"),
    ("meta-cutoff", meta_set("data_cutoff_date", "2023-06-30"), "R-META-003"),
    ("meta-dateformat", meta_set("date_format", "ydm"), "R-META-003"),
]


@case("unit-row-bad", "R-UNIT-002")
def _row_unit(t: Tables, m: list[tuple[str, str]]) -> None:
    t["assessments"][0]["plt_unit"] = "kg"


# columns and tables
@case("missing-column", "R-GEN-002")
def _missing_col(t: Tables, m: list[tuple[str, str]]) -> None:
    for r in t["patients"]:
        del r["sex"]


@case("identifier-column", "R-PRIV-001")
def _surname(t: Tables, m: list[tuple[str, str]]) -> None:
    for r in t["patients"]:
        r["Surname"] = "Smith"


@case("missing-table", "R-GEN-010")
def _no_fu(t: Tables, m: list[tuple[str, str]]) -> None:
    del t["follow_up"]


@case("unknown-table", "R-GEN-010")
def _unknown_table(t: Tables, m: list[tuple[str, str]]) -> None:
    t["labs"] = [{"x": "1"}]


@pytest.mark.parametrize(("cid", "mutate", "rule"), CASES, ids=[c[0] for c in CASES])
def test_corpus_case(tmp_path: Path, cid: str,
                     mutate: Callable[[Tables, list[tuple[str, str]]], None], rule: str) -> None:
    """The case is refused with the expected rule id; nothing is written to the folder."""
    t = base_tables()
    meta = list(META)
    mutate(t, meta)
    folder = write_csv(tmp_path / "c", t, meta)
    before = sorted((p.name, p.stat().st_size) for p in folder.iterdir())
    with pytest.raises(CohortValidationError) as info:
        load_cohort(folder)
    rules = {e.rule_id for e in info.value.errors}
    assert rule in rules, (cid, rules, [e.message for e in info.value.errors][:5])
    assert all(e.severity == "E" for e in info.value.errors)
    assert sorted((p.name, p.stat().st_size) for p in folder.iterdir()) == before


def test_corpus_size() -> None:
    """Issue 7 asks for at least 200 generated cases (plus the file-level ones below)."""
    assert len(CASES) >= 200


# ---- file-level cases: encodings, empty files, duplicate headers, XLSX ------------------------
def _folder(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "c", base_tables())


@pytest.mark.parametrize(("name", "payload", "rule"), [
    ("latin1", "patient_id,centre_id\nPé,C1\n".encode("latin-1"), "R-FILE-001"),
    ("binary", b"\x00\x01\x02PK", "R-FILE-001"),
    ("empty", b"", "R-GEN-002"),
    ("header-only", b"patient_id,sex\n", "R-GEN-002"),
    ("dup-header", b"patient_id,Patient ID,sex\nP1,P1,1\n", "R-GEN-009"),
    ("ragged", b'patient_id,sex\n"P1,1\n', "R-FILE-001"),
])
def test_file_cases(tmp_path: Path, name: str, payload: bytes, rule: str) -> None:
    """Broken patients.csv files: refused with the expected rule id, never a traceback."""
    folder = _folder(tmp_path)
    (folder / "patients.csv").write_bytes(payload)
    with pytest.raises(CohortValidationError) as info:
        load_cohort(folder)
    assert rule in {e.rule_id for e in info.value.errors}


def test_missing_metadata_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "metadata.csv").unlink()
    with pytest.raises(CohortValidationError) as info:
        load_cohort(folder)
    assert "R-GEN-010" in {e.rule_id for e in info.value.errors}


def _workbook(tables: Tables) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in {**tables, "metadata": [dict(key=k, value=v) for k, v in META]}.items():
        ws = wb.create_sheet(name)
        df = pd.DataFrame(rows).fillna("")
        ws.append(list(df.columns))
        for r in df.itertuples(index=False):
            ws.append([v if v != "" else None for v in r])
    return wb


def test_xlsx_formula_and_merged(tmp_path: Path) -> None:
    """A formula cell (R-FILE-002) and a merged range (R-FILE-003) are reported by cell."""
    wb = _workbook(base_tables())
    ws = wb["assessments"]
    ws["F2"] = "=1+1"
    wb["patients"].merge_cells("C2:C3")
    path = tmp_path / "c.xlsx"
    wb.save(path)
    with pytest.raises(CohortValidationError) as info:
        load_cohort(path)
    found = {(e.rule_id, e.table, e.row) for e in info.value.errors}
    assert ("R-FILE-002", "assessments", 2) in found
    assert ("R-FILE-003", "patients", 2) in found


def test_xlsx_valid_with_native_dates(tmp_path: Path) -> None:
    """Native Excel date cells and numeric cells read as the same cohort as the CSV folder."""
    import datetime as dt

    wb = _workbook(base_tables())
    ws = wb["treatment_lines"]
    col = [c.value for c in ws[1]].index("line_start_date") + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(r, col).value = dt.datetime(2019, 2, 1)
    ws2 = wb["treatment_lines"]
    scol = [c.value for c in ws2[1]].index("salvage_number") + 1
    ws2.cell(2, scol).value = 1.0
    path = tmp_path / "c.xlsx"
    wb.save(path)
    x = load_cohort(path)
    c = load_cohort(_folder(tmp_path))
    pd.testing.assert_frame_equal(x.table("treatment_lines"), c.table("treatment_lines"))


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(CohortValidationError) as info:
        load_cohort(path)
    assert "R-FILE-001" in {e.rule_id for e in info.value.errors}


def test_error_record_fields(tmp_path: Path) -> None:
    """§3.6: row as in the file (header = 1), column as written, message format, sorted."""
    t = base_tables()
    t["assessments"][2]["plt"] = "152000"
    t["patients"][0]["sex"] = "Woman"
    folder = write_csv(tmp_path / "c", t)
    with pytest.raises(CohortValidationError) as info:
        load_cohort(folder)
    errs = info.value.errors
    assert [e.table for e in errs] == ["patients", "assessments"]
    e = errs[1]
    assert (e.row, e.column, e.value, e.rule_id, e.source) == (4, "plt", "152000", "R-UNIT-003",
                                                                "assessments.csv")
    assert e.message.startswith("assessments row 4, plt = 152000: outside 0–2000")
    assert "/uL?" in e.message and e.message.endswith("Fix: " + e.fix)
    assert io.StringIO(str(info.value)).read().startswith("cohort refused: 2 validation errors")


def test_warnings_do_not_refuse(tmp_path: Path) -> None:
    """Unknown column (R-GEN-001) and unknown metadata key (R-META-002) are warnings only."""
    t = base_tables()
    for r in t["patients"]:
        r["favourite_colour"] = "blue"
    c = load_cohort(write_csv(tmp_path / "c", t, [*META, ("colour", "x")]))
    assert {"R-GEN-001", "R-META-002"} <= {w.rule_id for w in c.warnings}
