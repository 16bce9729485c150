"""REDCap mapping (data-dictionary.md §7): dictionary, reader (R-RC-001…009), export round trip,
CLI ``rrball redcap-dictionary``, privacy of identifier fields."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rrball.cli.main import app
from rrball.cohort import Cohort, load_cohort, synthetic_cohort
from rrball.cohort import redcap as rc
from rrball.cohort.redcap import (
    DICTIONARY_COLUMNS,
    export_redcap,
    redcap_dictionary,
    redcap_keys,
)
from rrball.cohort.schema import TABLES
from rrball.errors import CohortIssue, CohortValidationError, InputError
from tests.cohort._data import base_tables, write_csv

EXAMPLE_ROWS = """\
record_id,patient,,text,Study ID,,,,,,,,y,,,,,
pt_sex,patient,,radio,Sex,"1, Male | 2, Female | 9, Unknown",,,,,,,y,,,,,
pt_birth_date,patient,,text,Birth date,,"YYYY, YYYY-MM or YYYY-MM-DD",,,,y,,,,,,,
ln_line_start_date,treatment_line,,text,Start of line (cycle 1 day 1),,,date_ymd,,,,,y,,,,,
as_plt,assessment,,text,Platelets,,x10^9/L,number,0,2000,,,,,,,,@RRBALL-UNIT=10^9/L
as_mrd_value,assessment,,text,MRD value,,percent of nucleated cells,number,0,100,,\
[as_mrd_detected] = '1',,,,,,@RRBALL-UNIT=percent
ae_temp_max_c,adverse_event,CRS (ASTCT 2019),text,Maximum temperature,,degrees C,number,30,45,,\
[ae_term] = '1' or [ae_term] = '9',,,,,,@RRBALL-UNIT=C
"""
AE_ROWS = [
    {"ae_obs_id": "P1-AE1a", "ae_id": "P1-AE1", "patient_id": "P1", "line_id": "P1-L1",
     "ae_term": "6", "onset_date": "2019-02-10", "obs_date": "2019-02-10", "bilirubin": "3",
     "bilirubin_uln": "1.2", "reported_grade": "3", "reported_grade_scale": "2"},
    {"ae_obs_id": "P1-AE1b", "ae_id": "P1-AE1", "patient_id": "P1", "line_id": "P1-L1",
     "ae_term": "6", "onset_date": "2019-02-10", "obs_date": "2019-02-12", "bilirubin": "2.5",
     "bilirubin_uln": "1.2"},
]


# ---- helpers -------------------------------------------------------------------------------------
def _base(tmp_path: Path) -> Cohort:
    t = base_tables()
    t["adverse_events"] = [dict(r) for r in AE_ROWS]
    t["follow_up"][0]["relapse_sites"] = "1;2"  # bone marrow + CNS: two checkbox codes
    return load_cohort(write_csv(tmp_path / "base", t))


def _export(tmp_path: Path, name: str = "rc", **kw: object) -> Path:
    c = _base(tmp_path)
    return export_redcap(c.text_tables(), c.metadata_pairs(), tmp_path / name,
                         **kw)  # type: ignore[arg-type]


def _records(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "records.csv", dtype=str, keep_default_na=False)


def _dictionary(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "dictionary.csv", dtype=str, keep_default_na=False)


def _save(folder: Path, records: pd.DataFrame | None = None,
          dictionary: pd.DataFrame | None = None) -> Path:
    if records is not None:
        records.to_csv(folder / "records.csv", index=False)
    if dictionary is not None:
        dictionary.to_csv(folder / "dictionary.csv", index=False)
    return folder


def _line(df: pd.DataFrame, mask: pd.Series) -> int:
    """CSV line of the first row in ``mask`` (header = line 1)."""
    return int(mask.to_numpy().nonzero()[0][0]) + 2


def _errors(folder: Path | list[Path], **kw: object) -> list[CohortIssue]:
    with pytest.raises(CohortValidationError) as ei:
        load_cohort(folder, format="redcap", **kw)  # type: ignore[arg-type]
    return list(ei.value.errors)


def _hits(errors: list[CohortIssue], rule: str) -> list[CohortIssue]:
    return [e for e in errors if e.rule_id == rule]


def _rows(df: pd.DataFrame, instrument: str) -> pd.Series:
    return df["redcap_repeat_instrument"] == instrument


# ---- the dictionary (§7) -------------------------------------------------------------------------
def test_dictionary_columns_and_example_rows() -> None:
    d = redcap_dictionary()
    assert tuple(d.columns) == DICTIONARY_COLUMNS and len(d.columns) == 18
    assert d.iloc[0, 0] == "record_id"  # row 2 of the CSV
    text = d.to_csv(index=False, lineterminator="\n")
    lines = {ln.split(",", 1)[0]: ln for ln in text.splitlines()[1:]}
    for expected in EXAMPLE_ROWS.splitlines():
        assert lines[expected.split(",", 1)[0]] == expected
    regimen = d.set_index("Variable / Field Name").loc["ln_regimen"]
    assert regimen["Field Type"] == "dropdown" and regimen["Required Field?"] == "y"
    choices = str(regimen["Choices, Calculations, OR Slider Labels"])
    for pair in ("1, Blinatumomab (US label, R/R)", "2, Blinatumomab (US label, MRD+)",
                 "4, Inotuzumab (US label)", "25, Other"):
        assert pair in choices
    assert choices.index("1, ") < choices.index("2, ") < choices.index("4, ") < \
        choices.index("25, ")


def test_dictionary_fields_types_and_flags() -> None:
    d = redcap_dictionary().set_index("Variable / Field Name")
    names = list(d.index)
    assert "ae_term" in names and "ae_ae_term" not in names  # prefix not doubled
    assert set(d["Form Name"]) == {i.form for i in rc.INSTRUMENTS.values()}
    for f in ("as_line_instance", "tx_line_instance", "fu_line_instance", "ae_line_instance",
              "ad_line_instance", "ae_hsct_instance", "ae_episode"):
        assert d.loc[f, "Text Validation Type OR Show Slider Number"] == "integer"
    assert d.loc["ae_line_instance", "Required Field?"] == "y"
    assert d.loc["ae_episode", "Required Field?"] == "y"
    assert not any(c in names for c in ("pt_patient_id", "ln_line_id", "as_assessment_id"))
    v = d.loc["pt_dictionary_version"]
    assert v["Field Annotation"] == '@HIDDEN @DEFAULT="1.0"'
    assert list(d.index[d["Identifier?"] == "y"]) == ["pt_birth_date"]
    assert d.loc["ln_index_line", "Field Type"] == "yesno"
    assert d.loc["ln_prior_allo_hsct", "Choices, Calculations, OR Slider Labels"] == \
        "1, Yes | 0, No | 9, Unknown"
    assert d.loc["fu_relapse_sites", "Field Type"] == "checkbox"
    assert d.loc["fu_relapse_sites", "Branching Logic (Show field only if...)"] == \
        "[fu_event_type] = '1'"
    assert d.loc["ln_remission_number_at_start", "Branching Logic (Show field only if...)"] == \
        "[ln_disease_status_at_start] = '3' or [ln_disease_status_at_start] = '6'"
    assert d.loc["ae_hypotension", "Branching Logic (Show field only if...)"] == \
        "[ae_term] = '1'"
    assert d.loc["ln_salvage_number", "Text Validation Min"] == "0"
    assert d.loc["ln_salvage_number", "Text Validation Max"] == "20"
    # every R column is required; no C or O column is
    for table in rc.INSTRUMENTS:
        for col in rc.data_columns(table):
            req = d.loc[rc.field_name(table, col), "Required Field?"]
            assert (req == "y") == (TABLES[table].columns[col].req == "R"), (table, col)
    # a sex choice with 3 codes is a radio, the 17 regimens a dropdown
    assert d.loc["pt_sex", "Field Type"] == "radio"


def test_dictionary_units_converted() -> None:
    d = redcap_dictionary(unit_overrides={"unit_bilirubin": "umol/L", "plt": "/uL",
                                          "unit_temperature": "F"},
                          mrd_scale="fraction").set_index("Variable / Field Name")
    b = d.loc["ae_bilirubin"]
    assert (b["Field Note"], b["Text Validation Min"], b["Text Validation Max"],
            b["Field Annotation"]) == ("umol/L", "0", "1026", "@RRBALL-UNIT=umol/L")
    assert d.loc["ae_bilirubin_uln", "Text Validation Max"] == "51.3"
    assert d.loc["as_plt", "Text Validation Max"] == "2000000"
    assert d.loc["ae_plt", "Field Annotation"] == "@RRBALL-UNIT=/uL"
    assert d.loc["ae_temp_max_c", "Text Validation Min"] == "86"
    assert d.loc["as_mrd_value", "Text Validation Max"] == "1"
    assert d.loc["as_mrd_value", "Field Note"] == "fraction of nucleated cells"
    assert d.loc["as_wbc", "Field Annotation"] == "@RRBALL-UNIT=10^9/L"  # not overridden


def test_dictionary_bad_units_refused_and_cohort_method(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unit_bilirubin"):
        redcap_dictionary(unit_overrides={"unit_bilirubin": "g/L"})
    with pytest.raises(InputError, match="mrd_scale"):
        redcap_dictionary(mrd_scale="ppm")
    with pytest.raises(InputError):
        redcap_dictionary(unit_overrides={"unit_colour": "red"})
    c = _base(tmp_path)
    pd.testing.assert_frame_equal(c.to_redcap_dictionary(unit_overrides={"plt": "/uL"}),
                                  redcap_dictionary(unit_overrides={"plt": "/uL"}))


# ---- round trips (§7 export) ---------------------------------------------------------------------
def _rekeyed(c: Cohort, name: str) -> pd.DataFrame:
    keys = redcap_keys({n: c.table(n) for n in c.table_names})
    df = c.table(name)
    for col, mapping in keys.items():
        if col in df.columns:
            df[col] = [mapping.get(v, v) if isinstance(v, str) else v for v in df[col]]
    return df.reset_index(drop=True)


def _same(a: Cohort, b: Cohort, *, rekey: bool) -> None:
    assert a.table_names == b.table_names
    for name in a.table_names:
        left = _rekeyed(a, name) if rekey else a.table(name).reset_index(drop=True)
        pd.testing.assert_frame_equal(left, b.table(name).reset_index(drop=True),
                                      check_dtype=False, check_exact=True)


@pytest.mark.parametrize("profile", ["seed000", "seed001", "seed003", "seed004"])
def test_round_trip_synthetic_profiles(tmp_path: Path, profile: str) -> None:
    """export -> load gives identical tables (row keys as §7 gives them), and a second round
    trip is identical without any key map; endpoints agree."""
    c = synthetic_cohort(profile, seed=1)
    d = load_cohort(c.export(tmp_path / "a", format="redcap"), format="redcap")
    _same(c, d, rekey=True)
    e = load_cohort(d.export(tmp_path / "b", format="redcap"))  # format inferred
    _same(d, e, rekey=False)
    pd.testing.assert_frame_equal(d.endpoints(), e.endpoints())


def test_round_trip_with_adverse_events_and_units(tmp_path: Path) -> None:
    c = _base(tmp_path)
    folder = export_redcap(c.text_tables(), c.metadata_pairs(), tmp_path / "u",
                           unit_overrides={"unit_bilirubin": "umol/L", "unit_plt": "/uL"},
                           mrd_scale="fraction")
    r = _records(folder)
    assert [float(v) for v in r.loc[r["ae_bilirubin"] != "", "ae_bilirubin"]] == \
        pytest.approx([51.3, 42.75])
    assert "e" not in "".join(r["as_mrd_lod"]) and "0.00001" in set(r["as_mrd_lod"])
    d = load_cohort(folder, format="redcap")
    _same(c, d, rekey=True)
    ae = d.table("adverse_events")
    assert list(ae["ae_id"]) == ["P1-E1", "P1-E1"]
    assert list(ae["ae_obs_id"]) == ["P1-O1", "P1-O2"]


def test_checkbox_reassembly_and_keys(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    r = _records(folder)
    fu = _rows(r, "follow_up_event")
    assert r.loc[fu, "fu_relapse_sites___1"].iloc[0] == "1"
    assert r.loc[fu, "fu_relapse_sites___2"].iloc[0] == "1"
    assert r.loc[fu, "fu_relapse_sites___3"].iloc[0] == "0"
    d = load_cohort(folder, format="redcap")
    f = d.table("follow_up")
    assert f.loc[f["event_id"] == "P1-F1", "relapse_sites"].iloc[0] == "bone_marrow;cns"
    assert set(d.table("treatment_lines")["line_id"]) == {f"P{k}-L1" for k in range(1, 6)}
    assert d.table("transplants")["line_id"].tolist() == ["P3-L1"]


def test_unit_from_annotation_converts_bilirubin(tmp_path: Path) -> None:
    """A project whose dictionary says umol/L: values are converted to canonical mg/dL."""
    folder = _export(tmp_path)
    dct = _dictionary(folder)
    for f in ("ae_bilirubin", "ae_bilirubin_uln", "ae_bilirubin_baseline"):
        dct.loc[dct["Variable / Field Name"] == f, "Field Annotation"] = "@RRBALL-UNIT=umol/L"
    r = _records(folder)
    bili = pd.to_numeric(r["ae_bilirubin"], errors="coerce")
    r.loc[bili == 3.0, "ae_bilirubin"] = "51.3"
    r.loc[r["ae_bilirubin_uln"] != "", "ae_bilirubin_uln"] = "20.52"
    d = load_cohort(_save(folder, r, dct), format="redcap")
    ae = d.table("adverse_events")
    assert ae["bilirubin"].tolist() == pytest.approx([3.0, 2.5 / 17.1])
    assert ae["bilirubin_uln"].tolist() == pytest.approx([1.2, 1.2])
    # and an implausible value names the unit that fits (R-UNIT-003 on the REDCap field)
    r.loc[r["ae_bilirubin"] == "51.3", "ae_bilirubin"] = "5000"
    errs = _errors(_save(folder, r))
    assert any(e.column == "ae_bilirubin" and e.table == "adverse_event" for e in errs)


# ---- input forms ---------------------------------------------------------------------------------
def test_paths_in_any_order_folder_and_inference(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    a = load_cohort([folder / "dictionary.csv", folder / "records.csv"], format="redcap")
    b = load_cohort(folder)  # folder with a REDCap dictionary: inferred
    c = load_cohort([folder / "records.csv", folder / "dictionary.csv"])
    _same(a, b, rekey=False)
    _same(a, c, rekey=False)
    (folder / "extra.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="exactly two"):
        load_cohort(folder, format="redcap")
    with pytest.raises(InputError, match="REDCap"):
        load_cohort(tmp_path / "base", only_complete=True)


def test_settings_from_metadata_or_redcap_file_name(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    (folder / "metadata.csv").unlink()
    errs = _errors(folder)
    assert {(e.rule_id, e.column) for e in errs} >= {("R-META-001", "criteria_set"),
                                                     ("R-META-001", "study_code")}
    assert not any(e.column and e.column.startswith("unit_") for e in errs)
    # REDCap's own file name gives study code and export date; criteria_set from metadata.csv
    (folder / "records.csv").rename(folder / "RRB_Study_DATA_2023-01-15_1030.csv")
    pd.DataFrame([("criteria_set", "blincyto_trials")], columns=["key", "value"]).to_csv(
        folder / "metadata.csv", index=False)
    c = load_cohort(folder, format="redcap")
    assert c.metadata["study_code"] == "RRB_Study"
    assert str(c.metadata["export_date"]) == "2023-01-15"
    # unit keys in metadata.csv are ignored (units come from the dictionary), with a warning
    pd.DataFrame([("criteria_set", "blincyto_trials"), ("unit_plt", "/uL")],
                 columns=["key", "value"]).to_csv(folder / "metadata.csv", index=False)
    c = load_cohort(folder, format="redcap")
    assert any(w.rule_id == "R-META-002" and w.column == "unit_plt" for w in c.warnings)
    assert c.table("assessments")["plt"].max() == 150.0


def test_longitudinal_export_read(tmp_path: Path) -> None:
    """Events (redcap_event_name) and a repeating *event* (instrument empty, instance set)."""
    folder = _export(tmp_path)
    classic = load_cohort(folder, format="redcap")
    r = _records(folder)
    event = {"": "enrolment_arm_1", "treatment_line": "treatment_arm_1",
             "assessment": "treatment_arm_1", "transplant": "follow_up_arm_1",
             "follow_up_event": "follow_up_arm_1", "adverse_event": "treatment_arm_1"}
    r.insert(1, "redcap_event_name", r["redcap_repeat_instrument"].map(event))
    # follow-up events as a repeating event: the instrument is the one whose fields are filled
    fu = _rows(r, "follow_up_event")
    r.loc[fu, "redcap_repeat_instrument"] = ""
    # an extra (empty) patient row per record in the treatment event, as REDCap writes it
    extra = r[r["redcap_event_name"] == "enrolment_arm_1"].copy()
    for col in extra.columns:
        if col.startswith("pt_") or col == "patient_complete":
            extra[col] = ""
    extra["redcap_event_name"] = "treatment_arm_1"
    extra["redcap_data_access_group"] = ""
    r = pd.concat([r, extra]).sort_index(kind="stable").reset_index(drop=True)
    d = load_cohort(_save(folder, r), format="redcap")
    _same(classic, d, rekey=False)


def test_only_complete(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    r = _records(folder)
    asm = _rows(r, "assessment") & (r["record_id"] == "P2")
    r.loc[asm[asm].index[-1], "assessment_complete"] = "1"  # P2's second assessment: unverified
    full = load_cohort(_save(folder, r), format="redcap")
    kept = load_cohort(folder, format="redcap", only_complete=True)
    assert len(kept.table("assessments")) == len(full.table("assessments")) - 1
    # a patient form not complete leaves the record out with all its rows
    r.loc[(r["record_id"] == "P2") & (r["redcap_repeat_instrument"] == ""),
          "patient_complete"] = "0"
    kept = load_cohort(_save(folder, r), format="redcap", only_complete=True)
    assert "P2" not in set(kept.table("patients")["patient_id"])
    assert "P2" not in set(kept.table("follow_up")["patient_id"])
    # a reference to an instance that is not complete is R-RC-009, naming why
    r = _records(folder)
    r.loc[(r["record_id"] == "P2") & (r["redcap_repeat_instrument"] == ""),
          "patient_complete"] = "2"
    r.loc[_rows(r, "treatment_line") & (r["record_id"] == "P3"),
          "treatment_line_complete"] = "0"
    errs = _errors(_save(folder, r), only_complete=True)
    hit = _hits(errs, "R-RC-009")
    assert hit and hit[0].column == "tx_line_instance" and "not complete" in hit[0].message
    r = r.drop(columns=["transplant_complete"])
    errs = _errors(_save(folder, r), only_complete=True)
    assert any(e.rule_id == "R-GEN-002" and e.column == "transplant_complete" for e in errs)


def test_dag_gives_centre_when_field_empty(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    r = _records(folder)
    main = r["redcap_repeat_instrument"] == ""
    r.loc[main, "pt_centre_id"] = ""
    r.loc[main, "redcap_data_access_group"] = "hospital_a"
    c = load_cohort(_save(folder, r), format="redcap")
    assert set(c.table("patients")["centre_id"]) == {"hospital_a"}


# ---- every REDCap rule, with rule id and row -----------------------------------------------------
Mutation = Callable[[pd.DataFrame, pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame, int | None,
                                                          str | None]]


def _rc001_header(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                 int | None, str | None]:
    r = r.rename(columns={"record_id": "Study ID", "redcap_repeat_instrument":
                          "Repeat Instrument", "pt_sex": "Sex"})
    return r, d, 1, None


def _rc001_radio(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                int | None, str | None]:
    m = (r["redcap_repeat_instrument"] == "") & (r["record_id"] == "P2")
    r.loc[m, "pt_sex"] = "Female"
    return r, d, _line(r, m), "pt_sex"


def _rc001_checkbox(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                   int | None, str | None]:
    m = _rows(r, "follow_up_event") & (r["fu_relapse_sites___1"] == "1")
    r.loc[m, "fu_relapse_sites___1"] = "Checked"
    return r, d, _line(r, m), "fu_relapse_sites___1"


def _rc001_instrument(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                     int | None, str | None]:
    m = _rows(r, "transplant")
    r.loc[m, "redcap_repeat_instrument"] = "Transplant"
    return r, d, _line(r, m), "redcap_repeat_instrument"


def _rc002_unknown(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                  int | None, str | None]:
    m = _rows(r, "transplant")
    r.loc[m, "redcap_repeat_instrument"] = "lab_results"
    return r, d, _line(r, m), "redcap_repeat_instrument"


def _rc002_patient(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                  int | None, str | None]:
    m = (r["redcap_repeat_instrument"] == "") & (r["record_id"] == "P4")
    r.loc[m, "redcap_repeat_instrument"] = "patient"
    r.loc[m, "redcap_repeat_instance"] = "1"
    return r, d, _line(r, m), "redcap_repeat_instrument"


def _rc003_duplicate(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                    int | None, str | None]:
    m = _rows(r, "assessment") & (r["record_id"] == "P1")
    r.loc[m[m].index[1], "redcap_repeat_instance"] = "1"
    return r, d, int(m[m].index[1]) + 2, "redcap_repeat_instance"


def _rc003_not_positive(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                       int | None, str | None]:
    m = _rows(r, "follow_up_event") & (r["record_id"] == "P3")
    r.loc[m, "redcap_repeat_instance"] = "0"
    return r, d, _line(r, m), "redcap_repeat_instance"


def _rc003_missing(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                  int | None, str | None]:
    m = _rows(r, "follow_up_event") & (r["record_id"] == "P2")
    r.loc[m, "redcap_repeat_instance"] = ""
    return r, d, _line(r, m), "redcap_repeat_instance"


def _rc004_a(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int | None,
                                                            str | None]:
    m = (r["redcap_repeat_instrument"] == "") & (r["record_id"] == "P3")
    r.loc[m, "redcap_data_access_group"] = "other_centre"
    return r, d, _line(r, m), "pt_centre_id"


def _rc004_b(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int | None,
                                                            str | None]:
    m = (r["redcap_repeat_instrument"] == "") & (r["record_id"] == "P5")
    r.loc[m, "pt_centre_id"] = "C9"
    return r, d, _line(r, m), "pt_centre_id"


def _rc005_version(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                  int | None, str | None]:
    d = d[d["Variable / Field Name"] != "pt_dictionary_version"]
    return r, d, None, "pt_dictionary_version"


def _rc005_unit(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                               int | None, str | None]:
    m = d["Variable / Field Name"] == "as_plt"
    d.loc[m, "Field Annotation"] = ""
    return r, d, _line(d, m), "as_plt"


def _rc005_unsupported(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                      int | None, str | None]:
    m = d["Variable / Field Name"] == "pt_dictionary_version"
    d.loc[m, "Field Annotation"] = '@HIDDEN @DEFAULT="2.0"'
    return r, d, _line(d, m), "pt_dictionary_version"


def _rc006_a(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int | None,
                                                            str | None]:
    r["fu_relapse_sites___7"] = "0"
    return r, d, None, "fu_relapse_sites___7"


def _rc006_b(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int | None,
                                                            str | None]:
    r["as_emd_sites___99"] = ""
    return r, d, None, "as_emd_sites___99"


def _rc007(field: str, value: str) -> Mutation:
    def mutate(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                          int | None, str | None]:
        r.insert(1, "redcap_event_name", "")
        r["redcap_event_name"] = r["redcap_repeat_instrument"].map(
            lambda v: "enrolment_arm_1" if v == "" else "treatment_arm_1")
        m = (r["redcap_repeat_instrument"] == "") & (r["record_id"] == "P1")
        extra = r[m].copy()
        for col in extra.columns:
            if col.startswith("pt_") and col != field:
                extra[col] = ""
        extra[field] = value
        extra["redcap_event_name"] = "follow_up_arm_1"
        r = pd.concat([r, extra], ignore_index=True)
        return r, d, len(r) + 1, field
    return mutate


def _rc008_empty(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                int | None, str | None]:
    m = _rows(r, "assessment") & (r["record_id"] == "P4")
    r.loc[m[m].index[0], "record_id"] = ""
    return r, d, int(m[m].index[0]) + 2, "record_id"


def _rc008_invalid(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                  int | None, str | None]:
    m = _rows(r, "follow_up_event") & (r["record_id"] == "P2")
    r.loc[m, "record_id"] = "P 2!"
    return r, d, _line(r, m), "record_id"


def _rc009_assessment(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                     int | None, str | None]:
    m = _rows(r, "assessment") & (r["record_id"] == "P2")
    r.loc[m[m].index[0], "as_line_instance"] = "7"
    return r, d, int(m[m].index[0]) + 2, "as_line_instance"


def _rc009_ae(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                             int | None, str | None]:
    m = _rows(r, "adverse_event")
    r.loc[m[m].index[1], "ae_line_instance"] = "2"
    return r, d, int(m[m].index[1]) + 2, "ae_line_instance"


def _rc009_hsct(r: pd.DataFrame, d: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                               int | None, str | None]:
    m = _rows(r, "adverse_event")
    r.loc[m[m].index[0], "ae_hsct_instance"] = "1"  # P1 has no transplant
    return r, d, int(m[m].index[0]) + 2, "ae_hsct_instance"


CASES: list[tuple[str, Mutation]] = [
    ("R-RC-001", _rc001_header), ("R-RC-001", _rc001_radio), ("R-RC-001", _rc001_checkbox),
    ("R-RC-001", _rc001_instrument),
    ("R-RC-002", _rc002_unknown), ("R-RC-002", _rc002_patient),
    ("R-RC-003", _rc003_duplicate), ("R-RC-003", _rc003_not_positive),
    ("R-RC-003", _rc003_missing),
    ("R-RC-004", _rc004_a), ("R-RC-004", _rc004_b),
    ("R-RC-005", _rc005_version), ("R-RC-005", _rc005_unit), ("R-RC-005", _rc005_unsupported),
    ("R-RC-006", _rc006_a), ("R-RC-006", _rc006_b),
    ("R-RC-007", _rc007("pt_sex", "2")), ("R-RC-007", _rc007("pt_diagnosis_date", "2018-02")),
    ("R-RC-008", _rc008_empty), ("R-RC-008", _rc008_invalid),
    ("R-RC-009", _rc009_assessment), ("R-RC-009", _rc009_ae), ("R-RC-009", _rc009_hsct),
]


@pytest.mark.parametrize(("rule", "mutate"), CASES,
                         ids=[f"{r}-{m.__name__}" for r, m in CASES])
def test_redcap_rules(tmp_path: Path, rule: str, mutate: Mutation) -> None:
    """A malformed export is refused (nothing returned) with the rule at its row and column."""
    folder = _export(tmp_path)
    r, d, row, column = mutate(_records(folder), _dictionary(folder))
    errs = _errors(_save(folder, r, d))
    hits = _hits(errs, rule)
    assert hits, [e.message for e in errs]
    hit = hits[0]
    assert hit.severity == "E"
    assert (hit.row, hit.column) == (row, column), hit.message
    assert f"[{rule}]" in hit.message and hit.fix and hit.fix.rstrip(".") in hit.message
    # one entry per bad cell: nothing else reported on the same cell
    if hit.row is not None:
        same = [e for e in errs if (e.table, e.row, e.column) == (hit.table, hit.row,
                                                                   hit.column)]
        assert len(same) == 1, [e.message for e in same]


def test_rules_are_collected_together(tmp_path: Path) -> None:
    """Several REDCap and model errors come back in one CohortValidationError."""
    folder = _export(tmp_path)
    r, d = _records(folder), _dictionary(folder)
    for mutate in (_rc002_unknown, _rc009_assessment, _rc004_b):
        r, d, _, _ = mutate(r, d)
    r.loc[_rows(r, "treatment_line") & (r["record_id"] == "P1"), "ln_line_start_date"] = \
        "2019-31-01"
    errs = _errors(_save(folder, r, d))
    assert {"R-RC-002", "R-RC-009", "R-RC-004", "R-GEN-006"} <= {e.rule_id for e in errs}
    gen = _hits(errs, "R-GEN-006")[0]
    assert (gen.table, gen.column) == ("treatment_line", "ln_line_start_date")


def test_older_minor_version_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          ) -> None:
    folder = _export(tmp_path)
    monkeypatch.setattr(rc, "DICTIONARY_VERSION", "1.1")
    c = load_cohort(folder, format="redcap")
    w = [x for x in c.warnings if x.rule_id == "R-RC-005"]
    assert w and w[0].severity == "W" and w[0].column == "pt_dictionary_version"


def test_required_field_absent_names_the_redcap_field(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    r = _records(folder).drop(columns=["pt_sex"])
    errs = _errors(_save(folder, r))
    assert any(e.rule_id == "R-GEN-002" and e.column == "pt_sex" for e in errs)


# ---- privacy -------------------------------------------------------------------------------------
def test_identifier_fields_never_printed(tmp_path: Path) -> None:
    folder = _export(tmp_path)
    r, d = _records(folder), _dictionary(folder)
    main = r["redcap_repeat_instrument"] == ""
    r.insert(5, "pt_surname", "")
    r.loc[main, "pt_surname"] = [f"Ivanova{k}" for k in range(int(main.sum()))]
    r.insert(6, "pt_contact", "")
    r.loc[main, "pt_contact"] = "Kazan, Lenina 5"
    r.insert(7, "mrn", "")
    r.loc[main, "mrn"] = "MRN-7788123"
    extra = pd.DataFrame([["pt_contact", "patient", "", "text", "Contact", *[""] * 5, "y",
                           *[""] * 7]], columns=d.columns)
    d = pd.concat([d, extra], ignore_index=True)
    r.loc[main & (r["record_id"] == "P1"), "pt_sex"] = "7"  # a normal error next to them
    with pytest.raises(CohortValidationError) as ei:
        load_cohort(_save(folder, r, d), format="redcap")
    exc = ei.value
    priv = {e.column for e in exc.errors if e.rule_id == "R-PRIV-001"}
    assert priv == {"pt_surname", "pt_contact", "mrn"}
    assert all(e.value == "<redacted>" for e in exc.errors if e.rule_id == "R-PRIV-001")
    text = str(exc) + "".join(repr(e) for e in [*exc.errors, *exc.warnings])
    for secret in ("Ivanova", "Lenina", "7788123"):
        assert secret not in text
    # the CLI report does not print them either
    from rich.console import Console

    from rrball.cli.validate import validate_command

    con = Console(record=True, width=240, color_system=None)
    assert validate_command(str(folder), format="redcap", console=con) == 1
    out = con.export_text()
    assert "R-PRIV-001" in out and "Ivanova" not in out and "Lenina" not in out


# ---- command line --------------------------------------------------------------------------------
def test_cli_redcap_dictionary(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "dictionary.csv"
    res = runner.invoke(app, ["redcap-dictionary", "--out", str(out), "--unit-bilirubin",
                              "umol/L", "--unit-plt", "/uL", "--mrd-scale", "fraction"])
    assert res.exit_code == 0, res.output
    d = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(d.columns) == list(DICTIONARY_COLUMNS)
    pd.testing.assert_frame_equal(d, redcap_dictionary(
        unit_overrides={"unit_bilirubin": "umol/L", "unit_plt": "/uL"},
        mrd_scale="fraction").astype(str))
    res = runner.invoke(app, ["redcap-dictionary", "--out", str(out), "--unit-plt", "mg"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    res = runner.invoke(app, ["redcap-dictionary", "--out", str(out), "--mrd-scale", "ppm"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["redcap-dictionary", "--out", str(tmp_path / "no" / "d.csv")])
    assert res.exit_code == 1 and "cannot write" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["redcap-dictionary"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["redcap-dictionary", "--out", "-"])
    assert res.exit_code == 0
    assert pd.read_csv(io.StringIO(res.stdout), dtype=str).iloc[0, 0] == "record_id"


def _api_json(folder: Path, target: Path) -> Path:
    """The REDCap API's JSON exports (records type=flat, metadata) of a CSV export folder."""
    import json

    from rrball.cohort.readers.redcap import API_METADATA_KEYS

    target.mkdir()
    rec = pd.read_csv(folder / "records.csv", dtype=str, keep_default_na=False)
    dic = pd.read_csv(folder / "dictionary.csv", dtype=str, keep_default_na=False)
    (target / "records.json").write_text(json.dumps(rec.to_dict("records")))
    meta = [dict(zip(API_METADATA_KEYS, row, strict=True))
            for row in dic.itertuples(index=False)]
    (target / "metadata.json").write_text(json.dumps(meta))
    (target / "metadata.csv").write_bytes((folder / "metadata.csv").read_bytes())
    return target


def test_api_json_export_reads_like_the_csv_export(tmp_path: Path) -> None:
    c = synthetic_cohort("seed004", seed=2)
    folder = c.export(tmp_path / "rc", format="redcap")
    from_csv = load_cohort(folder, format="redcap")
    api = _api_json(folder, tmp_path / "api")
    from_json = load_cohort([api / "records.json", api / "metadata.json"], format="redcap")
    inferred = load_cohort(api)
    for name in from_csv.table_names:
        pd.testing.assert_frame_equal(from_csv.table(name), from_json.table(name))
        pd.testing.assert_frame_equal(from_csv.table(name), inferred.table(name))


def test_api_json_errors_name_the_record_line(tmp_path: Path) -> None:
    import json

    c = synthetic_cohort("seed004", seed=2)
    api = _api_json(c.export(tmp_path / "rc", format="redcap"), tmp_path / "api")
    rows = json.loads((api / "records.json").read_text())
    rows[3]["redcap_repeat_instance"] = "zero"
    (api / "records.json").write_text(json.dumps(rows))
    with pytest.raises(CohortValidationError) as exc:
        load_cohort(api, format="redcap")
    hits = [e for e in exc.value.errors if e.rule_id == "R-RC-003"]
    assert hits and hits[0].row == 5  # record 4 of the JSON list = line 5 of the CSV export
    (api / "records.json").write_text("{not json")
    with pytest.raises(CohortValidationError) as exc:
        load_cohort(api, format="redcap")
    assert [e.rule_id for e in exc.value.errors] == ["R-FILE-001"]
