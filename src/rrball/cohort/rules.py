"""Validation rules of data-dictionary.md §3 as pure functions over typed tables.

Each rule takes the typed tables (``{table: DataFrame}``, as built by the engine from the schema,
positions in column ``_pos``) and the metadata, and returns ``Finding``s with the dictionary's
rule ids (R-KEY, R-DATE, R-XF, R-ASM, R-LIN, R-AE, R-HCT, R-PRIV). No I/O; registry forms can call
them on a one-row frame (``check_rows``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rrball.cohort.validation import Finding

__all__ = ["DERIVED_RULES", "RULES", "assessment_levels", "check_rows", "run_all",
           "run_derived"]

Tables = Mapping[str, pd.DataFrame]
Rule = Callable[[Tables, Mapping[str, Any]], list[Finding]]
RULES: list[Rule] = []

_BLINA = {"blinatumomab_rr_us", "blinatumomab_mrd_us", "blinatumomab_seed000",
          "mini_hcvd_ino_blina", "blinatumomab_other"}
_INO = {"inotuzumab_us", "inotuzumab_seed000", "inotuzumab_seed004_peds", "mini_hcvd_ino",
        "mini_hcvd_ino_blina", "inotuzumab_other"}


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def _f(table: str, df: pd.DataFrame, mask: npt.ArrayLike, column: str, rule_id: str,
       problem: str | list[str], sev: str = "E",
       conflict: list[str] | Callable[[npt.NDArray[np.bool_]], list[str]] | None = None,
       ) -> list[Finding]:
    """One finding for the rows in ``mask``; ``conflict`` may be a function of the mask so that
    the texts are only built for the rows that fail."""
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return []
    pos = df["_pos"].to_numpy()[m]
    if isinstance(problem, list):
        problem = [p for p, k in zip(problem, m, strict=True) if k]
    if callable(conflict):
        conflict = conflict(m)
    elif conflict is not None:
        conflict = [c for c, k in zip(conflict, m, strict=True) if k]
    return [Finding(table, pos, column, rule_id, sev, problem, conflict)]


def _fu_conflict(rows: pd.Series, dates: pd.Series,
                 ) -> Callable[[npt.NDArray[np.bool_]], list[str]]:
    """``follow_up row {r}, event_date = {date}`` for the failing rows only."""
    def build(m: npt.NDArray[np.bool_]) -> list[str]:
        r = rows.to_numpy(dtype=object)[m]
        d = dates.to_numpy(dtype=object)[m]
        return [f"follow_up row {a}, event_date = {str(b)[:10]}" for a, b in zip(r, d, strict=True)]
    return build


def _has(df: pd.DataFrame, col: str) -> npt.NDArray[np.bool_]:
    return np.asarray(df[col].notna().to_numpy(), dtype=bool)


def _lohi(df: pd.DataFrame, col: str) -> tuple[pd.Series, pd.Series]:
    if f"{col}__lo" in df:
        return df[f"{col}__lo"], df[f"{col}__hi"]
    return df[col], df[col]


def _order(df: pd.DataFrame, a: tuple[pd.Series, pd.Series], b: tuple[pd.Series, pd.Series],
           strict: bool) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """"A before B" (§2.1): error if it fails for every completion, warning if for some."""
    alo, ahi = a
    blo, bhi = b
    known = (alo.notna() & blo.notna()).to_numpy()
    if strict:
        err = (alo >= bhi).to_numpy() & known
        warn = (ahi >= blo).to_numpy() & known & ~err
    else:
        err = (alo > bhi).to_numpy() & known
        warn = (ahi > blo).to_numpy() & known & ~err
    return err, warn


# ---- keys (§3.3) ---------------------------------------------------------------------------------
_IDS = (("patients", "patient_id", "R-KEY-001"), ("treatment_lines", "line_id", "R-KEY-002"),
        ("assessments", "assessment_id", "R-KEY-003"), ("transplants", "hsct_id", "R-KEY-004"),
        ("follow_up", "event_id", "R-KEY-005"), ("adverse_events", "ae_obs_id", "R-KEY-006"),
        ("administrations", "adm_id", "R-KEY-010"))


@rule
def unique_ids(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-KEY-001…006/010: primary keys unique; IDs differing only by case/spaces collide."""
    out: list[Finding] = []
    for table, col, rid in _IDS:
        if table not in t:
            continue
        df = t[table]
        ids = df[col]
        # normalise (strip, lower case), then compare integer keys
        key = _normalised_key(ids)
        norm = pd.Series(key, index=df.index)
        dup = norm.duplicated(keep="first").to_numpy() & (key >= 0)
        out += _f(table, df, dup, col, rid, "identifier not unique (case and spaces ignored)",
                  conflict=_first_row_conflict(table, norm, df["_row"]))
    return out


_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # the ASCII characters str.strip removes


def _normalised_key(ids: pd.Series) -> npt.NDArray[np.intp]:
    """Integer key of ``str(x).strip().lower()`` per row, -1 for a missing id (the
    normalisation of R-KEY-001…006/010; equal keys = colliding ids).

    Fast path: present ids that are ASCII text without whitespace are joined by NUL characters
    and lower-cased at once (ASCII case mapping is per character, nothing to strip)."""
    vals = ids.to_numpy(dtype=object)
    present = ids.notna().to_numpy()
    have = vals[present]
    if len(have) and pd.api.types.infer_dtype(have, skipna=False) == "string":
        joined = "\x00".join(have)
        if joined.isascii() and joined.count("\x00") == len(have) - 1 and not any(
                c in joined for c in _ASCII_SPACE):
            key = np.full(len(vals), -1, dtype=np.intp)
            key[present] = pd.factorize(pd.Series(joined.lower().split("\x00"),
                                                  dtype=object))[0]
            return key
    codes, uniq = pd.factorize(ids)
    ncodes = pd.factorize(pd.Series([str(x).strip().lower() for x in uniq], dtype=object))[0]
    return np.asarray(np.append(ncodes, -1)[codes], dtype=np.intp)  # missing ids (-1) -> -1


def _first_row_conflict(table: str, norm: pd.Series, rows: pd.Series,
                        ) -> Callable[[npt.NDArray[np.bool_]], list[str]]:
    """``{table} row {r}`` (the first row with the same key), built for failing rows only."""
    def build(m: npt.NDArray[np.bool_]) -> list[str]:
        firsts = ~norm.duplicated().to_numpy()
        first = dict(zip(norm[firsts], rows[firsts], strict=True))
        return [f"{table} row {first.get(k)}" for k in norm.to_numpy(dtype=object)[m]]
    return build


@rule
def references(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-KEY-007: every patient/line/hsct reference exists and belongs to the same patient."""
    out: list[Finding] = []
    if "patients" not in t:
        return out
    pats = set(t["patients"]["patient_id"].dropna())
    line_pat = dict(zip(t["treatment_lines"]["line_id"], t["treatment_lines"]["patient_id"],
                        strict=True)) if "treatment_lines" in t else {}
    hsct_pat = dict(zip(t["transplants"]["hsct_id"], t["transplants"]["patient_id"],
                        strict=True)) if "transplants" in t else {}
    for table, df in t.items():
        if table == "patients":
            continue
        pid = df["patient_id"]
        out += _f(table, df, pid.notna().to_numpy() & ~pid.isin(pats).to_numpy(), "patient_id",
                  "R-KEY-007", "patient not in patients (orphan row)")
        for col, owner in (("line_id", line_pat), ("hsct_id", hsct_pat)):
            if col not in df or (table == "treatment_lines" and col == "line_id") or (
                    table == "transplants" and col == "hsct_id"):
                continue
            ref = df[col]
            owner_of = ref.map(owner)
            missing = ref.notna().to_numpy() & owner_of.isna().to_numpy()
            other = ref.notna().to_numpy() & owner_of.notna().to_numpy() & (
                owner_of != pid).to_numpy()
            out += _f(table, df, missing, col, "R-KEY-007", f"{col} does not exist")
            out += _f(table, df, other, col, "R-KEY-007", f"{col} belongs to another patient")
    return out


@rule
def patient_structure(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-KEY-005 (one last contact, ≤ 1 death), R-KEY-009 (lines, index lines), R-KEY-011."""
    out: list[Finding] = []
    if "patients" not in t:
        return out
    p = t["patients"]
    fu = t.get("follow_up")
    if fu is not None:
        lc = fu[fu["event_type"] == "last_contact"].groupby("patient_id").size()
        n_lc = p["patient_id"].map(lc).fillna(0).to_numpy()
        out += _f("patients", p, n_lc != 1, "patient_id", "R-KEY-005",
                  [f"{int(k)} last_contact events (exactly one required)" for k in n_lc])
        d = fu["event_type"] == "death"
        dup = d.to_numpy() & fu["patient_id"].where(d).duplicated(keep="first").to_numpy()
        out += _f("follow_up", fu, dup, "event_type", "R-KEY-005", "second death event")
        rel = fu[fu["event_type"] == "relapse"]
        dd = rel.duplicated(["patient_id", "event_date"], keep="first").to_numpy()
        out += _f("follow_up", rel, dd, "event_date", "R-KEY-011",
                  "two relapse events on the same date")
    tl = t.get("treatment_lines")
    if tl is not None:
        nl = p["patient_id"].map(tl.groupby("patient_id").size()).fillna(0).to_numpy()
        ni = p["patient_id"].map(tl[tl["index_line"] == "yes"].groupby("patient_id").size()
                                 ).fillna(0).to_numpy()
        many = meta.get("index_lines_per_patient", "one") == "many"
        bad = (nl < 1) | ((ni < 1) if many else (ni != 1))
        out += _f("patients", p, bad, "patient_id", "R-KEY-009",
                  [f"{int(a)} treatment lines, {int(b)} index lines" for a, b in zip(
                      nl, ni, strict=True)])
    return out


@rule
def assessment_keys(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-KEY-003 (patient, date, MRD method) unique; R-KEY-004 (patient, hsct_date);
    R-KEY-006 (ae_id, obs_date) unique."""
    out: list[Finding] = []
    if "assessments" in t:
        a = t["assessments"]
        dup = a.duplicated(["patient_id", "assessment_date", "mrd_method"], keep="first")
        out += _f("assessments", a, dup.to_numpy() & a["assessment_date"].notna().to_numpy(),
                  "assessment_date", "R-KEY-003",
                  "second assessment of the patient on this date with the same MRD method")
    if "transplants" in t:
        h = t["transplants"]
        hdup = h.duplicated(["patient_id", "hsct_date"], keep="first").to_numpy()
        out += _f("transplants", h, hdup & h["hsct_date"].notna().to_numpy(), "hsct_date",
                  "R-KEY-004", "second transplant of the patient on this date")
    if "adverse_events" in t:
        ae = t["adverse_events"]
        adup = ae.duplicated(["ae_id", "obs_date"], keep="first").to_numpy()
        out += _f("adverse_events", ae, adup & ae["obs_date"].notna().to_numpy(), "obs_date",
                  "R-KEY-006", "second row of the episode on this observation date")
        for col in ("patient_id", "line_id", "hsct_id", "ae_term", "onset_date"):
            # distinct values (missing counted as one value) per episode, without a Python
            # call per group
            value = ae[col].astype(object).where(ae[col].notna(), "\0missing")
            pairs = pd.DataFrame({"e": ae["ae_id"].to_numpy(), "v": value.to_numpy()})
            n = pairs.drop_duplicates().groupby("e").size()
            many = ae["ae_id"].map(n).fillna(1).to_numpy() > 1
            out += _f("adverse_events", ae, many, col, "R-KEY-006",
                      "episode column differs between rows of one ae_id")
    return out


# ---- patients / lines cross-field (§3.4) -------------------------------------------------------
@rule
def patient_fields(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-XF-001, R-XF-002, R-XF-011, R-PAT-003, R-PAT-005, R-DATE-001…003, R-PRIV-003/004."""
    if "patients" not in t:
        return []
    p = t["patients"]
    out: list[Finding] = []
    out += _f("patients", p, ~_has(p, "birth_date") & ~_has(p, "age_at_diagnosis_years"),
              "birth_date", "R-XF-001", "neither birth_date nor age_at_diagnosis_years given")
    out += _f("patients", p, (p["primary_refractory"] == "no").to_numpy()
              & ~_has(p, "first_cr_date"), "first_cr_date", "R-GEN-003",
              "required when primary_refractory = 0 (R-XF-002)")
    for col, cond, text in (
        ("bcr_abl1_isoform", p["ph_status"] != "positive", "only with ph_status = 1"),
        ("ph_like", p["ph_status"] != "negative", "only with ph_status = 0"),
        ("kmt2a_partner", p["kmt2a_status"] != "rearranged", "only with kmt2a_status = 1"),
    ):
        out += _f("patients", p, _has(p, col) & cond.to_numpy(), col, "R-XF-011", text)
    blo, _ = _lohi(p, "birth_date")
    out += _f("patients", p, (blo < pd.Timestamp("1900-01-01")).to_numpy(), "birth_date",
              "R-PAT-003", "before 1900")
    _dlo, dhi = _lohi(p, "diagnosis_date")
    out += _f("patients", p, (dhi < pd.Timestamp("1950-01-01")).to_numpy(), "diagnosis_date",
              "R-PAT-005", "before 1950")
    out += _f("patients", p, (dhi < pd.Timestamp("1990-01-01")).to_numpy()
              & (dhi >= pd.Timestamp("1950-01-01")).to_numpy(), "diagnosis_date", "R-PAT-005",
              "before 1990", "W")
    for a, b, rid in (("birth_date", "diagnosis_date", "R-DATE-001"),
                      ("diagnosis_date", "first_cr_date", "R-DATE-002"),
                      ("first_cr_date", "first_relapse_date", "R-DATE-003")):
        err, warn = _order(p, _lohi(p, a), _lohi(p, b), strict=True)
        out += _f("patients", p, err, b, rid, f"not after {a}")
        out += _f("patients", p, warn, b, "R-DATE-016",
                  f"order with {a} undecidable (partial date)", "W")
    if "birth_date__prec" in p:
        out += _f("patients", p, (p["birth_date__prec"] == "D").to_numpy(), "birth_date",
                  "R-PRIV-004", "birth date with day precision (coarsened on export)", "W")
    ids = p["patient_id"].astype("string")
    looks = (ids.str.fullmatch(r"\d{6,}") | ids.str.contains(r"(?:19|20)\d{2}-?\d{2}-?\d{2}")
             ).fillna(False).to_numpy(dtype=bool)
    out += _f("patients", p, looks, "patient_id", "R-PRIV-003",
              "looks like a hospital number or contains a date", "W")
    return out


def _with_patient(tl: pd.DataFrame, p: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    keep = ["patient_id", *[c for c in p.columns if any(c.startswith(k) for k in cols)]]
    return tl.merge(p[keep], on="patient_id", how="left", suffixes=("", "_pt"))


@rule
def line_fields(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-XF-003…006, R-XF-009, R-LIN-001, R-LIN-004, R-DATE-004…007, R-XF-038, R-GEN-003 (C)."""
    if "treatment_lines" not in t or "patients" not in t:
        return []
    tl = _with_patient(t["treatment_lines"], t["patients"],
                       ["diagnosis_date", "primary_refractory", "first_relapse_date",
                        "ph_status"])
    T = "treatment_lines"
    out: list[Finding] = []
    st = tl["disease_status_at_start"]
    rn = tl["relapse_number"]
    out += _f(T, tl, (st == "primary_refractory").to_numpy()
              & ((tl["primary_refractory"] != "yes") | (rn != 0)).to_numpy(),
              "disease_status_at_start", "R-XF-003",
              "primary_refractory needs patients.primary_refractory = 1 and relapse_number = 0")
    rel = st.isin(["haematological_relapse", "isolated_emd_relapse", "refractory_relapse"])
    out += _f(T, tl, rel.to_numpy() & ((rn < 1) | tl["first_relapse_date"].isna()).to_numpy(),
              "relapse_number", "R-XF-004",
              "a relapse status needs relapse_number >= 1 and patients.first_relapse_date")
    rem = st.isin(["mrd_positive", "cr_mrd_negative"]).to_numpy()
    out += _f(T, tl, rem & ~_has(tl, "remission_number_at_start"), "remission_number_at_start",
              "R-GEN-003", "required for status mrd_positive / cr_mrd_negative (R-XF-005)")
    crn = tl["remission_number_at_start"].map({"not_in_cr": 0, "cr1": 1, "cr2": 2, "cr3plus": 3})
    out += _f(T, tl, rem & _has(tl, "remission_number_at_start")
              & ((crn < 1) | (crn > rn + 1)).to_numpy(), "remission_number_at_start",
              "R-XF-005", "CR number must be 1–3 and <= relapse_number + 1")
    active = st.isin(["primary_refractory", "haematological_relapse", "isolated_emd_relapse",
                      "refractory_relapse"]).to_numpy()
    out += _f(T, tl, active & (tl["salvage_number"] == 0).to_numpy(), "salvage_number",
              "R-XF-006", "salvage_number 0 with an active-disease status")
    out += _f(T, tl, (tl["salvage_number"] < rn).to_numpy(), "salvage_number", "R-XF-006",
              "salvage_number < relapse_number", "W")
    out += _f(T, tl, tl["regimen"].isin(["blinatumomab_other", "inotuzumab_other",
                                         "chemotherapy_other", "other"]).to_numpy()
              & ~_has(tl, "regimen_detail"), "regimen_detail", "R-LIN-001",
              "required for regimens 10, 11, 20, 25")
    npa = tl["n_prior_allo_hsct"]
    out += _f(T, tl, _has(tl, "n_prior_allo_hsct") & (
        ((npa == 0) & (tl["prior_allo_hsct"] == "yes"))
        | ((npa > 0) & (tl["prior_allo_hsct"] == "no"))).to_numpy(), "n_prior_allo_hsct",
        "R-LIN-004", "disagrees with prior_allo_hsct")
    out += _f(T, tl, (tl["ph_status"] == "positive").to_numpy() & ~_has(tl, "tki")
              & (tl["index_line"] == "yes").to_numpy(), "tki", "R-XF-010",
              "Ph+ index line without tki", "W")
    out += _f(T, tl, _has(tl, "reported_best_response") & ~_has(
        tl, "reported_best_response_date"), "reported_best_response_date", "R-GEN-003",
        "required when reported_best_response is given")
    out += _f(T, tl, (tl["index_line"] == "yes").to_numpy() & tl["regimen"].isin(
        ["chemotherapy_other", "car_t", "tki_only", "dli", "local_radiotherapy", "other",
         "unknown"]).to_numpy(), "regimen", "R-XF-038", "index line regimen is not an "
        "immunotherapy regimen", "W")
    err, warn = _order(tl, _lohi(tl, "diagnosis_date"), (tl["line_start_date"],
                                                         tl["line_start_date"]), strict=False)
    out += _f(T, tl, err, "line_start_date", "R-DATE-004", "before the diagnosis date")
    out += _f(T, tl, warn, "line_start_date", "R-DATE-016",
              "order with diagnosis_date undecidable (partial date)", "W")
    err, warn = _order(tl, _lohi(tl, "first_relapse_date"), (tl["line_start_date"],
                                                             tl["line_start_date"]), strict=False)
    out += _f(T, tl, err & (rn >= 1).to_numpy(), "line_start_date", "R-DATE-005",
              "before patients.first_relapse_date on a line with relapse_number >= 1")
    out += _f(T, tl, (tl["line_end_date"] < tl["line_start_date"]).to_numpy(), "line_end_date",
              "R-DATE-007", "before line_start_date")
    out += _f(T, tl, (tl["reported_best_response_date"] < tl["line_start_date"]).to_numpy(),
              "reported_best_response_date", "R-DATE-008", "before line_start_date")
    s = tl.sort_values(["patient_id", "line_start_date"])
    same = s.duplicated(["patient_id", "line_start_date"], keep="first")
    dec = (s.groupby("patient_id")["salvage_number"].diff() < 0)
    out += _f(T, s, same.to_numpy() & s["line_start_date"].notna().to_numpy(),
              "line_start_date", "R-DATE-006", "two lines of the patient start on one day")
    out += _f(T, s, dec.to_numpy(), "salvage_number", "R-DATE-006",
              "salvage_number decreases while line_start_date increases")
    # R-XF-009: prior exposure flags against earlier lines
    for flag, regs in (("prior_blinatumomab", _BLINA), ("prior_inotuzumab", _INO),
                       ("prior_car_t", {"car_t"})):
        exp = s["regimen"].isin(regs).astype(int)
        before = exp.groupby(s["patient_id"]).cumsum() - exp
        out += _f(T, s, (before > 0).to_numpy() & (s[flag] == "no").to_numpy(), flag,
                  "R-XF-009", "0 although an earlier line of the patient has such a regimen")
    return out


# ---- assessments (§2.7) -------------------------------------------------------------------------
@rule
def assessment_fields(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-ASM-001, R-ASM-007, R-XF-015, R-XF-016, R-XF-018, R-XF-022, R-XF-023, R-XF-019."""
    if "assessments" not in t:
        return []
    a = t["assessments"]
    T = "assessments"
    out: list[Finding] = []
    anyv = _has(a, "bm_blast_pct") | _has(a, "pb_blasts") | _has(a, "emd") | _has(
        a, "mrd_detected") | _has(a, "mrd_value")
    out += _f(T, a, ~anyv, "bm_blast_pct", "R-ASM-001",
              "none of bm_blast_pct, pb_blasts, emd, mrd_detected filled")
    mrd_any = (_has(a, "mrd_value") | _has(a, "mrd_unit") | _has(a, "mrd_method")
               | _has(a, "mrd_lod") | _has(a, "mrd_sample"))
    out += _f(T, a, mrd_any & ~_has(a, "mrd_detected"), "mrd_detected", "R-ASM-007",
              "required when MRD columns are filled")
    mrd_given = mrd_any | _has(a, "mrd_detected")
    for col in ("mrd_unit", "mrd_method", "mrd_sample"):
        out += _f(T, a, mrd_given & ~_has(a, col), col, "R-ASM-007", "required with MRD")
    v = a["mrd_value"]
    out += _f(T, a, ((a["mrd_detected"] == "no") & (v > 0)).to_numpy(), "mrd_value",
              "R-XF-015", "mrd_value > 0 with mrd_detected = 0")
    out += _f(T, a, ((a["mrd_detected"] == "yes") & (v == 0)).to_numpy(), "mrd_value",
              "R-XF-015", "mrd_value = 0 with mrd_detected = 1")
    out += _f(T, a, ((a["mrd_detected"] == "yes") & (v < a["mrd_lod"])).to_numpy(), "mrd_value",
              "R-XF-015", "detected value below mrd_lod", "W")
    out += _f(T, a, ((a["mrd_method"] == "fusion_qpcr")
                     & (a["mrd_unit"] == "fraction_of_nucleated_cells")).to_numpy(), "mrd_unit",
              "R-XF-016", "fusion_qpcr is not a cell fraction")
    out += _f(T, a, ((a["pb_blasts"] == "no") & (a["pb_blast_abs"] > 0)).to_numpy(),
              "pb_blast_abs", "R-XF-018", "pb_blast_abs > 0 with pb_blasts = 0")
    out += _f(T, a, (a["anc"] > a["wbc"]).to_numpy(), "anc", "R-XF-022", "anc > wbc")
    out += _f(T, a, (a["pb_blast_abs"] > a["wbc"]).to_numpy(), "pb_blast_abs", "R-XF-023",
              "pb_blast_abs > wbc")
    out += _f(T, a, a["emd"].isin(["present", "new"]).to_numpy() & ~_has(a, "emd_sites"),
              "emd_sites", "R-XF-019", "EMD present without sites", "W")
    return out


@rule
def follow_up_fields(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """Conditional requirements of §2.9 (R-GEN-003), R-XF-033, R-XF-035."""
    if "follow_up" not in t:
        return []
    fu = t["follow_up"]
    T = "follow_up"
    et = fu["event_type"]
    out: list[Finding] = []
    for typ, col in (("relapse", "relapse_sites"), ("death", "death_cause"),
                     ("last_contact", "vital_status")):
        out += _f(T, fu, (et == typ).to_numpy() & ~_has(fu, col), col, "R-GEN-003",
                  f"required for a {typ} event")
    sites = fu["relapse_sites"].astype("string")
    out += _f(T, fu, (sites.str.contains("molecular") & sites.str.contains(";")).fillna(
        False).to_numpy(dtype=bool), "relapse_sites", "R-XF-035",
        "molecular together with another site")
    dead = set(fu.loc[et == "death", "patient_id"])
    lc = (et == "last_contact").to_numpy()
    vs = fu["vital_status"]
    out += _f(T, fu, lc & (vs == "dead").to_numpy() & ~fu["patient_id"].isin(dead).to_numpy(),
              "vital_status", "R-XF-033", "dead without a death event")
    out += _f(T, fu, lc & (vs == "alive").to_numpy() & fu["patient_id"].isin(dead).to_numpy(),
              "vital_status", "R-XF-033", "alive although a death event exists")
    return out


@rule
def adverse_event_fields(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-AE-001, R-AE-003, R-AE-017, R-XF-025 (E), R-XF-026 (E), R-XF-028."""
    if "adverse_events" not in t:
        return []
    ae = t["adverse_events"]
    T = "adverse_events"
    out: list[Finding] = []
    out += _f(T, ae, (ae["ae_term"] == "other").to_numpy() & ~_has(ae, "ae_term_other"),
              "ae_term_other", "R-AE-001", "required when ae_term = other")
    out += _f(T, ae, _has(ae, "reported_grade") & ~_has(ae, "reported_grade_scale"),
              "reported_grade_scale", "R-AE-003", "required with reported_grade")
    for col in ("hepatomegaly_painful", "hepatomegaly_imaging"):
        out += _f(T, ae, ((ae[col] == "yes") & (ae["hepatomegaly"] != "yes")).to_numpy(), col,
                  "R-AE-017", "needs hepatomegaly = 1")
    for col, metak in (("alt", "uln_alt"), ("ast", "uln_ast"), ("bilirubin", "uln_bilirubin")):
        if metak not in meta:
            out += _f(T, ae, _has(ae, col) & ~_has(ae, f"{col}_uln"), f"{col}_uln", "R-XF-025",
                      f"{col} without ULN in the row or metadata")
    dev = ae["oxygen_device"]
    flow = ae["o2_flow_l_min"]
    out += _f(T, ae, ((dev == "low_flow_nc") & (flow > 6)).to_numpy(), "o2_flow_l_min",
              "R-XF-026", "low-flow nasal cannula above 6 L/min is high flow")
    out += _f(T, ae, ((dev == "none") & (flow > 0)).to_numpy(), "o2_flow_l_min", "R-XF-026",
              "oxygen flow with device none")
    out += _f(T, ae, (((ae["n_vasopressors_excl_vasopressin"] > 0) | (ae["vasopressin"] == "yes"))
                      & (ae["hypotension"] == "no")).to_numpy(), "hypotension", "R-XF-028",
              "vasopressors with hypotension = 0")
    return out


# ---- date order against death / last contact (§3.2) ---------------------------------------------
_DATED = (
    ("treatment_lines", ("line_start_date", "line_end_date")),
    ("assessments", ("assessment_date",)),
    ("transplants", ("hsct_date", "engraftment_date")),
    ("adverse_events", ("onset_date", "obs_date", "resolution_date")),
    ("administrations", ("start_date", "end_date")),
    ("follow_up", ("event_date",)),
)


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``keys.map(values)`` that also works when ``values`` is empty (nobody died)."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index)


@rule
def nothing_after_death(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-DATE-012 (≤ death), R-DATE-013 (≤ last contact), R-DATE-014, R-DATE-017 (cut-off)."""
    if "follow_up" not in t:
        return []
    fu = t["follow_up"]
    death = fu[fu["event_type"] == "death"].drop_duplicates("patient_id").set_index(
        "patient_id")
    lc = fu[fu["event_type"] == "last_contact"].drop_duplicates("patient_id").set_index(
        "patient_id")
    out: list[Finding] = []
    cutoff = meta.get("data_cutoff_date")
    for table, cols in _DATED:
        if table not in t:
            continue
        df = t[table]
        dd = _lookup(df["patient_id"], death["event_date"])
        dr = _lookup(df["patient_id"], death["_row"])
        ld = _lookup(df["patient_id"], lc["event_date"])
        lr = _lookup(df["patient_id"], lc["_row"])
        for col in cols:
            lo, _ = _lohi(df, col)
            is_lc = (df["event_type"] == "last_contact").to_numpy() if table == "follow_up" \
                else np.zeros(len(df), dtype=bool)
            after = (lo > dd).to_numpy()
            out += _f(table, df, after, col, "R-DATE-012", "after the death date",
                      conflict=_fu_conflict(dr, dd))
            out += _f(table, df, (lo > ld).to_numpy() & ~is_lc & ~after, col, "R-DATE-013",
                      "after the last-contact date",
                      conflict=_fu_conflict(lr, ld))
            if cutoff is not None:
                out += _f(table, df, (lo > pd.Timestamp(cutoff)).to_numpy(), col, "R-DATE-017",
                          "after data_cutoff_date (kept; endpoints censor at the cut-off)", "W")
    lcr = fu[fu["event_type"] == "last_contact"]
    dd = _lookup(lcr["patient_id"], death["event_date"])
    out += _f("follow_up", lcr, (dd.notna() & (dd != lcr["event_date"])).to_numpy(),
              "event_date", "R-DATE-014", "dead patient: last contact must equal the death date")
    return out


@rule
def dated_rows_vs_lines(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-DATE-008 (assessment ≥ diagnosis), R-DATE-010, R-DATE-011, R-DATE-018, R-DATE-009,
    R-HCT-001, R-KEY-008 (line window agreement)."""
    out: list[Finding] = []
    if "treatment_lines" not in t or "patients" not in t:
        return out
    tl = t["treatment_lines"]
    tl_u = tl.drop_duplicates("line_id").set_index("line_id")
    start = tl_u["line_start_date"]
    end = tl_u["line_end_date"]
    p = t["patients"].drop_duplicates("patient_id").set_index("patient_id")
    first_index = tl[tl["index_line"] == "yes"].groupby("patient_id")["line_start_date"].min()
    if "assessments" in t:
        a = t["assessments"]
        dx = a["patient_id"].map(p["diagnosis_date__hi"])
        out += _f("assessments", a, (a["assessment_date"] < dx).to_numpy(), "assessment_date",
                  "R-DATE-008", "before the diagnosis date")
    if "transplants" in t:
        h = t["transplants"]
        ls = h["line_id"].map(start)
        out += _f("transplants", h, (h["hsct_date__lo"] <= ls).to_numpy() & _has(h, "line_id"),
                  "hsct_date", "R-DATE-011", "not after the start of the line it consolidates")
        fi = h["patient_id"].map(first_index)
        out += _f("transplants", h, ((h["hsct_date__prec"] != "D") & (h["hsct_date__hi"] >= fi)
                                     ).to_numpy() & _has(h, "hsct_date"), "hsct_date",
                  "R-HCT-001", "partial date on or after the first index line start")
        out += _f("transplants", h, (h["engraftment_date"] <= h["hsct_date__lo"]).to_numpy(),
                  "engraftment_date", "R-DATE-018", "not after hsct_date")
        out += _f("transplants", h, (h["hsct_type"] == "allogeneic").to_numpy()
                  & ~_has(h, "donor_type"), "donor_type", "R-GEN-003",
                  "required for an allogeneic HSCT")
        out += _f("transplants", h, (h["hsct_type"] == "autologous").to_numpy(), "hsct_type",
                  "R-XF-031", "autologous HSCT in ALL", "W")
    if "adverse_events" in t:
        ae = t["adverse_events"]
        ls = ae["line_id"].map(start)
        out += _f("adverse_events", ae, (ae["onset_date"] < ls).to_numpy(), "onset_date",
                  "R-DATE-010", "before the line start")
        out += _f("adverse_events", ae, (ae["obs_date"] < ae["onset_date"]).to_numpy(),
                  "obs_date", "R-DATE-010", "before onset_date")
        out += _f("adverse_events", ae, (ae["resolution_date"] < ae["obs_date"]).to_numpy(),
                  "resolution_date", "R-DATE-010", "before onset/observation date")
    if "administrations" in t:
        ad = t["administrations"]
        ls = ad["line_id"].map(start)
        le = ad["line_id"].map(end)
        out += _f("administrations", ad, (ad["start_date"] < ls).to_numpy(), "start_date",
                  "R-DATE-009", "before the line start")
        out += _f("administrations", ad, (ad["end_date"] < ad["start_date"]).to_numpy(),
                  "end_date", "R-DATE-009", "before start_date")
        out += _f("administrations", ad, (ad["end_date"] > le).to_numpy(), "end_date",
                  "R-DATE-009", "after line_end_date")
        out += _f("administrations", ad, (ad["drug"] == "other").to_numpy()
                  & ~_has(ad, "drug_other"), "drug_other", "R-GEN-003",
                  "required when drug = other")
    # R-KEY-008: supplied line_id equals the line of the date window (§1)
    lines = tl[["patient_id", "line_id", "line_start_date"]].dropna().sort_values(
        "line_start_date")
    for table, col in (("assessments", "assessment_date"), ("follow_up", "event_date")):
        if table not in t:
            continue
        df = t[table]
        sub = df[df["line_id"].notna() & df[col].notna()][["_pos", "patient_id", "line_id", col]]
        if sub.empty:
            continue
        window = int(meta.get("baseline_window_days", 30)) if table == "assessments" else 0
        # merge by an integer patient code (much faster than by the id strings)
        pcode = pd.Index(lines["patient_id"].unique())
        sub = sub.assign(_key=sub[col] + pd.Timedelta(days=window),
                         _p=pcode.get_indexer(sub["patient_id"])).sort_values("_key")
        lines_p = lines.assign(_p=pcode.get_indexer(lines["patient_id"])).drop(
            columns="patient_id")
        m = pd.merge_asof(sub, lines_p.rename(columns={"line_id": "_win"}), left_on="_key",
                          right_on="line_start_date", by="_p", direction="backward")
        ok = m["_win"] == m["line_id"]
        if table == "assessments":
            # a baseline assessment may also belong to the line that was running before
            m2 = pd.merge_asof(sub.sort_values(col), lines_p.rename(columns={"line_id": "_win2"}),
                               left_on=col, right_on="line_start_date", by="_p",
                               direction="backward")
            ok2 = pd.Series((m2["_win2"] == m2["line_id"]).to_numpy(dtype=bool),
                            index=m2["_pos"].to_numpy())
            ok = ok | ok2.reindex(m["_pos"].to_numpy(), fill_value=False).to_numpy()
        badpos = m.loc[~ok.to_numpy(), "_pos"].to_numpy()
        frame = df.set_index("_pos", drop=False).loc[badpos]
        out += _f(table, frame, np.ones(len(frame), dtype=bool), "line_id", "R-KEY-008",
                  "line_id differs from the line of the date window")
    return out



# ---- rules completing §3 (R-LIN-005/008, R-DATE-006 W/009 W/019, R-KEY-003/011, R-HCT-002,
# R-XF-001 W/007/008/010/012…014/016 W/017/019…021/024…027/029/030/032…034/037/039…043) --------
_DAY_OFF = 1 << 22  # day offset so that (patient, day) keys stay positive and ordered
_BLOCK = 1 << 24
_ACTIVE_STATUS = ("primary_refractory", "haematological_relapse", "isolated_emd_relapse",
                  "refractory_relapse")
_REMISSION_STATUS = ("mrd_positive", "cr_mrd_negative")
_SALVAGE_REGIMENS = {"blinatumomab_rr_us", "blinatumomab_mrd_us", "blinatumomab_seed000",
                     "inotuzumab_us", "inotuzumab_seed000", "inotuzumab_seed004_peds",
                     "mini_hcvd_ino", "mini_hcvd_ino_blina", "blinatumomab_other",
                     "inotuzumab_other", "chemotherapy_other", "car_t", "tki_only"}
_TOX_CAUSES = ("infection", "gvhd", "sos_vod", "crs", "neurotoxicity",
               "other_treatment_related")
_CR_FAMILY = ("CR", "CRh", "CRp", "CRi")


def _dn(s: pd.Series) -> npt.NDArray[np.float64]:
    """Dates as float days since 1970-01-01 (NaN when missing)."""
    a = pd.to_datetime(s).to_numpy(dtype="datetime64[ns]")
    out = a.astype("datetime64[D]").astype(np.int64).astype(np.float64)
    out[np.isnat(a)] = np.nan
    return out


_PCODES: dict[tuple[int, int], tuple[pd.DataFrame, pd.DataFrame, npt.NDArray[np.int64]]] = {}


def _pcode(t: Tables, df: pd.DataFrame) -> npt.NDArray[np.int64]:
    """Integer patient code of each row of ``df`` (position in ``patients``), -1 for unknown
    ids; memoised per (patients, df) during one ``run_all`` / ``run_derived``."""
    p = t["patients"]
    k = (id(p), id(df))
    hit = _PCODES.get(k)
    if hit is not None and hit[0] is p and hit[1] is df:
        return hit[2]
    pats = pd.Index(p["patient_id"].dropna().unique())
    out = np.asarray(pats.get_indexer(df["patient_id"].to_numpy(dtype=object)), dtype=np.int64)
    _PCODES[k] = (p, df, out)
    return out


def _key(p: npt.NDArray[np.int64], d: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Sortable (patient, day) key; ±inf days map to the ends of the patient's block."""
    dd = np.clip(np.nan_to_num(d, nan=0.0, posinf=_DAY_OFF - 1, neginf=-_DAY_OFF + 1),
                 -_DAY_OFF + 1, _DAY_OFF - 1)
    return np.asarray(p * _BLOCK + (dd.astype(np.int64) + _DAY_OFF), dtype=np.int64)


class _Dated:
    """Rows of one table sorted by (patient, day) for vectorised window look-ups."""

    def __init__(self, p: npt.NDArray[np.int64], d: npt.NDArray[np.float64]) -> None:
        ok = (p >= 0) & ~np.isnan(d)
        self.pos = np.flatnonzero(ok)
        keys = _key(p[ok], d[ok])
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.pos = self.pos[order]

    def count(self, p: npt.NDArray[np.int64], lo: npt.NDArray[np.float64],
              hi: npt.NDArray[np.float64], lo_incl: bool = True,
              hi_incl: bool = True) -> npt.NDArray[np.int64]:
        """Rows of patient ``p`` dated within [lo, hi] (bounds inclusive or not)."""
        a = np.searchsorted(self.keys, _key(p, lo), "left" if lo_incl else "right")
        b = np.searchsorted(self.keys, _key(p, hi), "right" if hi_incl else "left")
        return np.where((p >= 0) & ~np.isnan(lo) & ~np.isnan(hi), np.maximum(b - a, 0), 0)

    def last(self, p: npt.NDArray[np.int64], hi: npt.NDArray[np.float64],
             incl: bool = True) -> npt.NDArray[np.intp]:
        """Position (in the original table) of the latest row of ``p`` dated <= ``hi``
        (< when not ``incl``), or -1."""
        j = np.searchsorted(self.keys, _key(p, hi), "right" if incl else "left") - 1
        jj = np.clip(j, 0, max(len(self.keys) - 1, 0))
        same = (j >= 0) & (len(self.keys) > 0) & (p >= 0) & ~np.isnan(hi)
        if len(self.keys):
            same &= (self.keys[jj] // _BLOCK) == p
        return np.where(same, self.pos[jj] if len(self.pos) else -1, -1)


def _rows_conflict(table: str, rows: npt.NDArray[np.int64], what: str,
                   values: npt.NDArray[np.object_] | None = None,
                   ) -> Callable[[npt.NDArray[np.bool_]], list[str]]:
    """``{table} row {r}, {what} = {value}`` for the failing rows only."""
    def build(m: npt.NDArray[np.bool_]) -> list[str]:
        r = rows[m]
        if values is None:
            return [f"{table} row {int(a)}" for a in r]
        v = values[m]
        return [f"{table} row {int(a)}, {what} = {str(b)[:10]}" for a, b in zip(r, v, strict=True)]
    return build


def _yn(s: pd.Series) -> npt.NDArray[np.object_]:
    v = s.to_numpy(dtype=object)
    out = np.full(len(v), None, dtype=object)
    out[v == "yes"] = True
    out[v == "no"] = False
    return out


def _canon(x: npt.NDArray[np.float64], thresholds: list[float]) -> npt.NDArray[np.float64]:
    """Replace each value by a representative of its interval between ``thresholds`` (values
    equal to a threshold are kept): every comparison with a threshold keeps its result, so
    rule-based classifiers give the same answer on far fewer distinct inputs."""
    ts = np.array(sorted(set(thresholds)), dtype=np.float64)
    if not len(ts):
        return np.where(np.isnan(x), np.nan, 1.0)
    top = ts[-1] + (1.0 if ts[-1] >= 1 else ts[-1])
    mids = np.concatenate([[ts[0] / 2], (ts[:-1] + ts[1:]) / 2, [top]])
    idx = np.searchsorted(ts, np.nan_to_num(x, nan=0.0), "left")
    exact = (idx < len(ts)) & (ts[np.minimum(idx, len(ts) - 1)] == x)
    return np.where(np.isnan(x), np.nan, np.where(exact, x, mids[idx]))


def _groups(cols: list[npt.NDArray[Any]]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """(first row of each distinct combination, group of each row)."""
    n = len(cols[0]) if cols else 0
    key = np.zeros(n, dtype=np.int64)
    for c in cols:
        codes, uniq = pd.factorize(pd.Series(c, dtype=object), use_na_sentinel=False)
        key = key * (len(uniq) + 1) + codes
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return np.asarray(first, dtype=np.intp), np.asarray(inv, dtype=np.intp).ravel()


def _opt(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else v


def _cs(meta: Mapping[str, Any]) -> Any:
    from rrball.clinical.response import CRITERIA_SETS
    key = meta.get("criteria_set")
    return CRITERIA_SETS.get(str(key)) if key is not None else None


def assessment_levels(a: pd.DataFrame, meta: Mapping[str, Any]) -> npt.NDArray[np.object_]:
    """Response level of each assessment judged on its own (``derive_response`` with no prior
    state, CR §3.4), vectorised: inputs are reduced to their position against the criteria
    set's cut-offs and each distinct combination is derived once. None without a criteria set.

    Used by R-XF-034, R-XF-041 (transplants) and R-XF-042 (§3.4): "a derived CR-family response"
    is an assessment whose own level is CR, CRh, CRp or CRi.
    """
    from rrball.clinical.response import Assessment, derive_response
    s = _cs(meta)
    out = np.full(len(a), None, dtype=object)
    if s is None or not len(a):
        return out
    anc_t = [c.threshold for lv in s.levels for c in lv.conds if c.field == "anc"]
    plt_t = [c.threshold for lv in s.levels for c in lv.conds if c.field == "plt"]
    bm = _canon(a["bm_blast_pct"].to_numpy(dtype=np.float64, na_value=np.nan),
                [s.bm_cr_max, s.relapse_bm])
    anc = _canon(a["anc"].to_numpy(dtype=np.float64, na_value=np.nan), anc_t)
    plt = _canon(a["plt"].to_numpy(dtype=np.float64, na_value=np.nan), plt_t)
    adq, pb, ti = _yn(a["bm_sample_adequate"]), _yn(a["pb_blasts"]), _yn(
        a["plt_transfusion_independent"])
    emd = a["emd"].to_numpy(dtype=object)
    first, inv = _groups([bm, anc, plt, adq, pb, ti, emd])
    lv = []
    for j in first:
        r = derive_response(Assessment(
            bm_blast_pct=_opt(bm[j]), bm_sample_adequate=adq[j], pb_blasts=pb[j],
            anc=_opt(anc[j]), plt=_opt(plt[j]), plt_transfusion_independent=ti[j],
            emd=_opt(emd[j])), criteria_set=s.key, prior_state=None)
        lv.append(r.level)
    return np.asarray(lv, dtype=object)[inv]


def _baseline_states(a: pd.DataFrame, rows: npt.NDArray[np.intp],
                     ever: npt.NDArray[np.object_], meta: Mapping[str, Any],
                     ) -> npt.NDArray[np.object_]:
    """CR §3.3 baseline state (``baseline_disease_state``) of assessment rows ``rows`` with the
    patient's CR history ``ever``; each distinct reduced input is derived once."""
    from rrball.clinical.best_response import baseline_disease_state
    from rrball.clinical.response import Assessment
    s = _cs(meta)
    out = np.full(len(rows), None, dtype=object)
    if s is None or not len(rows):
        return out
    sub = a.iloc[rows]
    unit = sub["mrd_unit"].to_numpy(dtype=object)
    frac = (unit == "fraction_of_nucleated_cells")
    mv = sub["mrd_value"].to_numpy(dtype=np.float64, na_value=np.nan)
    lod = sub["mrd_lod"].to_numpy(dtype=np.float64, na_value=np.nan)
    mv_c = np.where(frac, _canon(mv, [0.0, 1e-4, 1e-3]), np.where(
        np.isnan(mv), np.nan, (mv > 0).astype(np.float64)))
    lod_c = np.where(frac, _canon(lod, [1e-4]), np.where(np.isnan(lod), np.nan, 1.0))
    bm = _canon(sub["bm_blast_pct"].to_numpy(dtype=np.float64, na_value=np.nan),
                [s.bm_cr_max, s.relapse_bm])
    pb, det = _yn(sub["pb_blasts"]), _yn(sub["mrd_detected"])
    emd = sub["emd"].to_numpy(dtype=object)
    sample = sub["mrd_sample"].map({"bm": "BM", "pb": "PB"}).to_numpy(dtype=object)
    first, inv = _groups([bm, pb, emd, det, mv_c, lod_c, unit, sample, ever])
    st = []
    for j in first:
        has = not (np.isnan(mv_c[j]) and np.isnan(lod_c[j]))
        r = baseline_disease_state(Assessment(
            bm_blast_pct=_opt(bm[j]), pb_blasts=pb[j], emd=_opt(emd[j]), mrd_detected=det[j],
            mrd_value=_opt(mv_c[j]), mrd_lod=_opt(lod_c[j]),
            mrd_scale="fraction" if has and frac[j] else None, mrd_unit=_opt(unit[j]),
            mrd_sample=_opt(sample[j])), criteria_set=s.key, ever_in_cr=ever[j])
        st.append(r.state)
    return np.asarray(st, dtype=object)[inv]


def _patient_days(t: Tables, ids: pd.Series, col: str, which: str) -> npt.NDArray[np.float64]:
    """A patients date (``__lo``/``__hi`` of a pdate, or the date) looked up per row."""
    p = t["patients"].drop_duplicates("patient_id").set_index("patient_id")
    name = f"{col}__{which}" if f"{col}__{which}" in p else col
    return _dn(_lookup(ids, p[name]))


def _mid_birth(t: Tables, ids: pd.Series) -> npt.NDArray[np.float64]:
    """Birth date by midpoint imputation (§2.1: month → 15th, year → 1 July) in days."""
    p = t["patients"].drop_duplicates("patient_id").set_index("patient_id")
    lo = pd.to_datetime(_lookup(ids, p["birth_date__lo"]))
    prec = _lookup(ids, p["birth_date__prec"]).to_numpy(dtype=object)
    jul = pd.to_datetime(pd.DataFrame({"year": lo.dt.year.fillna(2000), "month": 7, "day": 1}))
    mid = np.where(prec == "M", _dn(lo) + 14, np.where(prec == "Y", _dn(jul), _dn(lo)))
    return np.where(np.isnan(_dn(lo)), np.nan, mid)


def _completed_years(b: npt.NDArray[np.float64], r: npt.NDArray[np.float64],
                     ) -> npt.NDArray[np.float64]:
    """Completed years between day numbers ``b`` and ``r`` (§0: age = completed years)."""
    ok = ~np.isnan(b) & ~np.isnan(r)
    bd = pd.DatetimeIndex(np.where(ok, b, 0).astype("datetime64[D]"))
    rd = pd.DatetimeIndex(np.where(ok, r, 0).astype("datetime64[D]"))
    before = (rd.month < bd.month) | ((rd.month == bd.month) & (rd.day < bd.day))
    yrs = (rd.year - bd.year - before).to_numpy(dtype=np.float64)
    return np.where(ok, yrs, np.nan)


def _age_at(t: Tables, ids: pd.Series, ref: npt.NDArray[np.float64],
            ) -> npt.NDArray[np.float64]:
    """Completed years at ``ref``: from the (midpoint) birth date, else from
    ``age_at_diagnosis_years`` plus the years elapsed since diagnosis (as ADSL ``AGE``)."""
    b = _mid_birth(t, ids)
    p = t["patients"].drop_duplicates("patient_id").set_index("patient_id")
    adx = _lookup(ids, p["age_at_diagnosis_years"]).to_numpy(dtype=np.float64, na_value=np.nan)
    dx = _patient_days(t, ids, "diagnosis_date", "lo")
    with np.errstate(invalid="ignore"):
        from_dx = np.floor(adx + (ref - dx) / 365.25)
    return np.where(np.isnan(b), from_dx, _completed_years(b, ref))


@rule
def patient_more(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-XF-001 (W: birth date and age at diagnosis > 1 year apart), R-PAT-003 (age at any line
    start <= 120 y), R-XF-013 (age at line start; labelled age of the regimen), §3.1/§3.4."""
    if "patients" not in t:
        return []
    p = t["patients"]
    out: list[Finding] = []
    ids = p["patient_id"]
    b = _mid_birth(t, ids)
    dx_lo, dx_hi = _dn(p["diagnosis_date__lo"]), _dn(p["diagnosis_date__hi"])
    age_dx = ((dx_lo + dx_hi) / 2 - b) / 365.25
    adx = p["age_at_diagnosis_years"].to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        apart = np.abs(age_dx - adx) > 1
    out += _f("patients", p, apart, "age_at_diagnosis_years", "R-XF-001",
              [f"differs from the age computed from birth_date ({x:.1f} y) by more than 1 year"
               for x in age_dx], "W")
    if "treatment_lines" not in t:
        return out
    tl = t["treatment_lines"]
    T = "treatment_lines"
    start = _dn(tl["line_start_date"])
    b_lo = _patient_days(t, tl["patient_id"], "birth_date", "lo")
    b_hi = _patient_days(t, tl["patient_id"], "birth_date", "hi")
    youngest = _completed_years(b_hi, start)
    old = youngest > 120
    if old.any():
        who = pd.unique(tl["patient_id"].to_numpy(dtype=object)[old])
        # every patients row of those ids (duplicated ids are R-KEY-001, still flagged here)
        m = ids.isin(who).to_numpy()
        out += _f("patients", p, m, "birth_date", "R-PAT-003",
                  "age at a line start above 120 years")
    out += _f(T, tl, old, "line_start_date", "R-XF-013",
              "age at line start above 120 years (birth_date)")
    out += _f(T, tl, b_lo > start, "line_start_date", "R-XF-013",
              "before the birth date (age < 0)")
    mid = _mid_birth(t, tl["patient_id"])
    age_days = start - mid
    no_b = np.isnan(mid)
    if no_b.any():
        adx_l = _lookup(tl["patient_id"], p.drop_duplicates("patient_id").set_index(
            "patient_id")["age_at_diagnosis_years"]).to_numpy(dtype=np.float64, na_value=np.nan)
        dx_l = _patient_days(t, tl["patient_id"], "diagnosis_date", "lo")
        age_days = np.where(no_b, adx_l * 365.25 + (start - dx_l), age_days)
    years = np.where(no_b, np.floor(age_days / 365.25), _completed_years(mid, start))
    reg = tl["regimen"]
    blina = reg.isin(list(_BLINA)).to_numpy() & (age_days / 30.4375 < 1)
    ino = reg.isin(list(_INO)).to_numpy() & (years < 1) & ~blina
    out += _f(T, tl, blina & (age_days >= 0), "regimen", "R-XF-013",
              "blinatumomab line at an age below its labelled 1 month", "W")
    out += _f(T, tl, ino & (age_days >= 0), "regimen", "R-XF-013",
              "inotuzumab line at an age below its labelled 1 year", "W")
    return out


@rule
def line_more(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-LIN-005 (W), R-LIN-008, R-DATE-006 (W), R-XF-008, R-XF-010 (regimen 7/8), R-XF-012,
    R-XF-014, R-XF-019 (`emd_at_start`), R-XF-037, R-XF-039, R-XF-040 (§3.1, §3.2, §3.4)."""
    if "treatment_lines" not in t or "patients" not in t:
        return []
    tl = t["treatment_lines"]
    T = "treatment_lines"
    out: list[Finding] = []
    salv = tl["salvage_number"]
    out += _f(T, tl, (tl["n_prior_lines"] < salv - 1).to_numpy(), "n_prior_lines", "R-LIN-005",
              "fewer prior lines than salvage_number - 1", "W")
    start = _dn(tl["line_start_date"])
    bmd = _dn(tl["body_measure_date"])
    out += _f(T, tl, bmd > start, "body_measure_date", "R-LIN-008",
              "after the line start", "W")
    out += _f(T, tl, bmd < start - 30, "body_measure_date", "R-LIN-008",
              "more than 30 days before the line start", "W")
    w = tl["weight_kg"].to_numpy(dtype=np.float64, na_value=np.nan)
    h = tl["height_cm"].to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        bmi = w / (h / 100.0) ** 2
        e = (bmi < 8) | (bmi > 80)
        wn = ((bmi < 12) | (bmi > 60)) & ~e
    out += _f(T, tl, e, "weight_kg", "R-XF-012",
              [f"BMI {x:.1f} with height_cm outside 8–80 (probable lb/in)" for x in bmi])
    out += _f(T, tl, wn, "weight_kg", "R-XF-012",
              [f"BMI {x:.1f} with height_cm outside 12–60" for x in bmi], "W")
    ph = _lookup(tl["patient_id"], t["patients"].drop_duplicates("patient_id").set_index(
        "patient_id")["ph_status"])
    out += _f(T, tl, tl["regimen"].isin(["mini_hcvd_ino", "mini_hcvd_ino_blina"]).to_numpy()
              & (ph == "positive").to_numpy(), "regimen", "R-XF-010",
              "regimen 7/8 (seed 003, Ph-negative only) with ph_status = 1", "W")
    out += _f(T, tl, (tl["emd_at_start"] == "yes").to_numpy() & ~_has(tl, "emd_sites_at_start"),
              "emd_sites_at_start", "R-XF-019", "emd_at_start = 1 without sites", "W")
    out += _f(T, tl, ((tl["cd22_pct"] == 0) & tl["regimen"].isin(list(_INO))).to_numpy(),
              "cd22_pct", "R-XF-037", "CD22 0 % on an inotuzumab line", "W")
    out += _f(T, tl, ((tl["cd19_pct"] == 0) & tl["regimen"].isin(list(_BLINA))).to_numpy(),
              "cd19_pct", "R-XF-037", "CD19 0 % on a blinatumomab line", "W")
    # R-DATE-006 (W): two salvage regimens sharing one salvage_number
    sr = tl[tl["regimen"].isin(list(_SALVAGE_REGIMENS)).to_numpy() & _has(tl, "salvage_number")]
    sr = sr.sort_values(["patient_id", "line_start_date"], kind="stable")
    out += _f(T, sr, sr.duplicated(["patient_id", "salvage_number"]).to_numpy(),
              "salvage_number", "R-DATE-006",
              "two salvage regimens share this salvage_number", "W")
    out += _f(T, tl, ((tl["n_cycles"] == 0) & (tl["index_line"] == "yes")).to_numpy(),
              "n_cycles", "R-XF-014", "index line with 0 cycles (not treated: not in SAFFL)", "W")
    pc = _pcode(t, tl)
    if "follow_up" in t:
        fu = t["follow_up"]
        dead = set(fu.loc[fu["event_type"] == "death", "patient_id"])
        isdead = tl["patient_id"].isin(dead).to_numpy()
        out += _f(T, tl, (tl["line_end_reason"] == "ongoing").to_numpy() & isdead,
                  "line_end_reason", "R-XF-014", "ongoing although the patient died")
        out += _f(T, tl, (tl["line_end_reason"] == "death").to_numpy() & ~isdead,
                  "line_end_reason", "R-XF-014", "death without a death event")
    h_t = t.get("transplants")
    if h_t is not None:
        hp = _pcode(t, h_t)
        h_hi = _dn(h_t["hsct_date__hi"])
        allo = (h_t["hsct_type"] == "allogeneic").to_numpy()
        ad = _Dated(np.where(allo, hp, -1), h_hi)
        n_before = ad.count(pc, np.full(len(tl), -np.inf), start, hi_incl=False)
        first_row = h_t["_row"].to_numpy(dtype=np.int64)
        j = ad.last(pc, start, incl=False)
        out += _f(T, tl, (tl["prior_allo_hsct"] == "no").to_numpy() & (n_before > 0),
                  "prior_allo_hsct", "R-XF-008",
                  "0 although an allogeneic transplant is dated before the line start",
                  conflict=lambda m: [f"transplants row {first_row[k]}" for k in j[m]])
        npa = tl["n_prior_allo_hsct"].to_numpy(dtype=np.float64, na_value=np.nan)
        out += _f(T, tl, npa < n_before, "n_prior_allo_hsct", "R-XF-008",
                  [f"fewer than the {k} allogeneic transplants dated before the line start"
                   for k in n_before], "W")
        anyd = _Dated(hp, h_hi)
        n_after = anyd.count(pc, start, np.full(len(tl), np.inf), lo_incl=False)
        out += _f(T, tl, (tl["line_end_reason"] == "proceed_to_hsct").to_numpy() & (n_after == 0)
                  & ~np.isnan(start), "line_end_reason", "R-XF-039",
                  "proceed_to_hsct with no HSCT after the line start", "W")
    else:
        out += _f(T, tl, (tl["line_end_reason"] == "proceed_to_hsct").to_numpy(),
                  "line_end_reason", "R-XF-039",
                  "proceed_to_hsct with no HSCT after the line start", "W")
    ad_t = t.get("administrations")
    if ad_t is not None and len(ad_t):
        cyc = ad_t[ad_t["cycle"].notna()]
        ncyc = cyc.groupby("line_id")["cycle"].nunique()
        given = _lookup(tl["line_id"], ncyc).to_numpy(dtype=np.float64, na_value=np.nan)
        nc = tl["n_cycles"].to_numpy(dtype=np.float64, na_value=np.nan)
        out += _f(T, tl, ~np.isnan(given) & ~np.isnan(nc) & (given != nc), "n_cycles",
                  "R-XF-040", [f"differs from the {g:.0f} distinct cycles in administrations"
                               for g in given], "W")
    return out


@rule
def assessment_more(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-KEY-003 (same-date rows differ only in `mrd_*`), R-XF-016 (W), R-XF-017, R-XF-020,
    R-XF-021 (§3.3, §3.4)."""
    if "assessments" not in t:
        return []
    a = t["assessments"]
    T = "assessments"
    out: list[Finding] = []
    out += _f(T, a, (a["mrd_unit"] == "copies").to_numpy(), "mrd_unit", "R-XF-016",
              "MRD in copies (not comparable with thresholds)", "W")
    out += _f(T, a, (a["bm_sample_adequate"] == "no").to_numpy() & _has(a, "bm_blast_pct"),
              "bm_blast_pct", "R-XF-017",
              "bm_sample_adequate = 0: value not used for the CR family", "W")
    sites = a["emd_sites"].astype("string")
    has_cns = sites.str.split(";").map(lambda xs: "cns" in xs, na_action="ignore").fillna(
        False).to_numpy(dtype=bool) if sites.notna().any() else np.zeros(len(a), dtype=bool)
    cns3 = (a["cns_status"] == "cns3").to_numpy()
    out += _f(T, a, cns3 & (a["emd"] == "none").to_numpy(), "emd", "R-XF-020",
              "emd = none although cns_status = cns3", "W")
    out += _f(T, a, cns3 & (a["emd"] != "none").to_numpy() & ~has_cns, "emd_sites",
              "R-XF-020", "cns_status = cns3 but the sites lack cns", "W")
    s = _cs(meta)
    if s is not None and s.levels:
        bm = a["bm_blast_pct"].to_numpy(dtype=np.float64, na_value=np.nan)
        at_cut = (bm <= s.bm_cr_max) if s.bm_cr_inclusive else (bm < s.bm_cr_max)
        cut = f"BM blasts within the {s.key} CR cut but"
        no_anc, no_plt = ~_has(a, "anc"), ~_has(a, "plt")
        out += _f(T, a, at_cut & no_anc, "anc", "R-XF-021",
                  f"{cut} anc missing (CR vs CRh/CRi undecidable)", "W")
        out += _f(T, a, at_cut & no_plt & ~no_anc, "plt", "R-XF-021",
                  f"{cut} plt missing (CR vs CRh/CRi undecidable)", "W")
    # R-KEY-003: same-date rows may differ only in their mrd_* columns
    keyc = ["patient_id", "assessment_date"]
    dup = a.duplicated(keyc, keep=False).to_numpy() & a["assessment_date"].notna().to_numpy()
    if dup.any():
        sub = a[dup]
        later = sub.duplicated(keyc, keep="first").to_numpy()
        for col in ("line_id", "assessment_reason", "bm_blast_pct", "bm_sample_adequate",
                    "pb_blasts", "pb_blast_abs", "wbc", "anc", "plt",
                    "plt_transfusion_independent", "emd", "emd_sites", "emd_method",
                    "cns_status", "reported_response"):
            nu = sub.groupby(keyc)[col].transform("nunique").to_numpy()
            out += _f(T, sub, later & (nu > 1) & sub[col].notna().to_numpy(), col, "R-KEY-003",
                      "same-date rows may differ only in their mrd_* columns")
    return out


@rule
def transplant_more(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-HCT-002: `hsct_number` increases with `hsct_date` (§3.1)."""
    if "transplants" not in t:
        return []
    h = t["transplants"]
    s = h[h["hsct_number"].notna() & h["hsct_date__lo"].notna()].sort_values(
        ["patient_id", "hsct_date__lo"], kind="stable")
    prev = s.groupby("patient_id")["hsct_number"].shift(1)
    return _f("transplants", s, (s["hsct_number"] <= prev).to_numpy(), "hsct_number",
              "R-HCT-002", "does not increase with hsct_date")


@rule
def follow_up_more(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-DATE-019, R-KEY-011 (W), R-XF-032, R-XF-043 (§3.2, §3.3, §3.4)."""
    if "follow_up" not in t or "patients" not in t:
        return []
    fu = t["follow_up"]
    T = "follow_up"
    out: list[Finding] = []
    et = fu["event_type"]
    rel = (et == "relapse").to_numpy()
    ed = _dn(fu["event_date"])
    fcr_lo = _patient_days(t, fu["patient_id"], "first_cr_date", "lo")
    fcr_hi = _patient_days(t, fu["patient_id"], "first_cr_date", "hi")
    out += _f(T, fu, rel & (ed <= fcr_lo), "event_date", "R-DATE-019",
              "relapse not after patients.first_cr_date")
    out += _f(T, fu, rel & (ed > fcr_lo) & (ed <= fcr_hi), "event_date", "R-DATE-016",
              "order with first_cr_date undecidable (partial date)", "W")
    pc = _pcode(t, fu)
    relp = np.where(rel, pc, -1)
    frel_lo = _patient_days(t, fu["patient_id"], "first_relapse_date", "lo")
    earliest = rel & ~np.isnan(ed)
    if earliest.any():
        order = np.lexsort((np.arange(len(fu)), ed, relp))
        firsts = np.zeros(len(fu), dtype=bool)
        o = order[relp[order] >= 0]
        o = o[~np.isnan(ed[o])]
        keep = np.ones(len(o), dtype=bool)
        keep[1:] = relp[o][1:] != relp[o][:-1]
        firsts[o[keep]] = True
        out += _f(T, fu, firsts & (ed < frel_lo), "event_date", "R-DATE-019",
                  "earliest relapse event before patients.first_relapse_date", "W")
        # R-KEY-011 (W): relapses within 14 days with overlapping sites
        oo = o
        bits = _site_bits(fu["relapse_sites"])
        dd = ed[oo]
        same_p = np.zeros(len(oo), dtype=bool)
        same_p[1:] = relp[oo][1:] == relp[oo][:-1]
        near = np.zeros(len(oo), dtype=bool)
        near[1:] = (dd[1:] - dd[:-1] <= 14) & (dd[1:] > dd[:-1])
        over = np.zeros(len(oo), dtype=bool)
        over[1:] = (bits[oo][1:] & bits[oo][:-1]) > 0
        m = np.zeros(len(fu), dtype=bool)
        m[oo[same_p & near & over]] = True
        rows = fu["_row"].to_numpy(dtype=np.int64)
        prev_row = np.zeros(len(fu), dtype=np.int64)
        prev_row[oo[1:]] = rows[oo[:-1]]
        out += _f(T, fu, m, "event_date", "R-KEY-011",
                  "relapse within 14 days of another with overlapping sites (probable "
                  "duplicate)", "W", conflict=_rows_conflict(T, prev_row, ""))
    # R-XF-032: death cause against the disease sequence
    death = (et == "death").to_numpy()
    rd = _Dated(relp, ed)
    n_rel = rd.count(pc, np.full(len(fu), -np.inf), ed)
    active = np.zeros(len(fu), dtype=bool)
    if "treatment_lines" in t:
        # lines started with active disease or MRD positivity (molecular relapse, CR §3.3 B5)
        tl = t["treatment_lines"]
        act = tl["disease_status_at_start"].isin([*_ACTIVE_STATUS, "mrd_positive"]).to_numpy()
        ld = _Dated(np.where(act, _pcode(t, tl), -1), _dn(tl["line_start_date"]))
        active = ld.count(pc, np.full(len(fu), -np.inf), ed) > 0
    if "assessments" in t:
        a = t["assessments"]
        act_a = _active_assessments(a, meta)
        ad = _Dated(np.where(act_a, _pcode(t, a), -1), _dn(a["assessment_date"]))
        active |= ad.count(pc, np.full(len(fu), -np.inf), ed) > 0
    cause = fu["death_cause"]
    out += _f(T, fu, death & (cause == "leukaemia").to_numpy() & (n_rel == 0) & ~active,
              "death_cause", "R-XF-032",
              "leukaemia death without a relapse or active disease before it", "W")
    out += _f(T, fu, death & cause.isin(list(_TOX_CAUSES)).to_numpy() & (n_rel > 0),
              "death_cause", "R-XF-032",
              "toxicity cause after a relapse (endpoints use the sequence)", "W")
    # R-XF-043: stale follow-up of alive patients
    ref = meta.get("data_cutoff_date") or meta.get("export_date")
    if ref is not None:
        dead = fu["patient_id"].isin(set(fu.loc[et == "death", "patient_id"])).to_numpy()
        lc = (et == "last_contact").to_numpy()
        refd = float((pd.Timestamp(ref) - pd.Timestamp("1970-01-01")).days)
        out += _f(T, fu, lc & ~dead & (ed < refd - 365), "event_date", "R-XF-043",
                  f"alive patient last seen more than 365 days before {ref} (stale follow-up)",
                  "W")
    return out


def _active_assessments(a: pd.DataFrame, meta: Mapping[str, Any]) -> npt.NDArray[np.bool_]:
    """Assessments showing disease: BM blasts above the set's CR cut, PB blasts, or EMD
    present/new (CR §3.3, §3.4)."""
    s = _cs(meta)
    if s is None or not len(a):
        return np.zeros(len(a), dtype=bool)
    bm = a["bm_blast_pct"].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(((bm > s.bm_cr_max) if s.bm_cr_inclusive else (bm >= s.bm_cr_max))
                      | (a["pb_blasts"] == "yes").to_numpy()
                      | a["emd"].isin(["present", "new"]).to_numpy(), dtype=bool)


_SITE_BIT = {"bone_marrow": 1, "cns": 2, "testis": 4, "other_emd": 8, "molecular": 16}


def _site_bits(s: pd.Series) -> npt.NDArray[np.int64]:
    """`relapse_sites` sets as bit masks (one bit per code)."""
    v = s.to_numpy(dtype=object)
    uniq, inv = np.unique(np.array([x if isinstance(x, str) else "" for x in v], dtype=object),
                          return_inverse=True)
    bits = np.array([sum(_SITE_BIT.get(p, 0) for p in str(u).split(";")) for u in uniq],
                    dtype=np.int64)
    return np.asarray(bits[inv.ravel()], dtype=np.int64)


@rule
def adverse_event_more(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-AE-016 (W), R-XF-024, R-XF-025 (W), R-XF-026 (W), R-XF-027, R-XF-029, R-XF-030,
    R-XF-033 (`outcome = fatal`) (§3.1, §3.4)."""
    if "adverse_events" not in t or "patients" not in t:
        return []
    ae = t["adverse_events"]
    T = "adverse_events"
    out: list[Finding] = []
    w = ae["weight_kg"].to_numpy(dtype=np.float64, na_value=np.nan)
    bw = ae["baseline_weight_kg"].to_numpy(dtype=np.float64, na_value=np.nan)
    out += _f(T, ae, w > 1.5 * bw, "weight_kg", "R-AE-016",
              "weight gain above 50 % of baseline_weight_kg", "W")
    term = ae["ae_term"]
    # R-XF-024: terms with a raw rule need raw inputs (per episode)
    has_raw = np.zeros(len(ae), dtype=bool)
    first_col = np.full(len(ae), "", dtype=object)
    for tm, cols in _RAW_INPUTS.items():
        m = (term == tm).to_numpy()
        if not m.any():
            continue
        h = np.zeros(len(ae), dtype=bool)
        for c in cols:
            h |= _has(ae, c)
        has_raw |= m & h
        first_col[m] = cols[0]
    rawterm = term.isin(list(_RAW_INPUTS)).to_numpy()
    ep_raw = pd.Series(has_raw).groupby(ae["ae_id"].to_numpy()).transform("any").to_numpy(
        dtype=bool)
    ep_grade = pd.Series(_has(ae, "reported_grade")).groupby(ae["ae_id"].to_numpy()).transform(
        "any").to_numpy(dtype=bool)
    first_of_ep = ~ae["ae_id"].duplicated().to_numpy()
    none_at_all = rawterm & ~ep_raw & ~ep_grade & first_of_ep
    for col in pd.unique(first_col[none_at_all]):
        out += _f(T, ae, none_at_all & (first_col == col), str(col), "R-XF-024",
                  "no raw inputs and no reported_grade: grade missing", "W")
    out += _f(T, ae, rawterm & ~ep_raw & _has(ae, "reported_grade"), "reported_grade",
              "R-XF-024", "only reported_grade: grade not derivable (reported grade kept, "
              "flagged)", "W")
    for col, tm, mk in (("anc", "neutrophil_count_decreased", "lln_anc"),
                        ("plt", "platelet_count_decreased", "lln_plt")):
        if mk not in meta:
            out += _f(T, ae, (term == tm).to_numpy() & _has(ae, col) & ~_has(ae, f"{col}_lln"),
                      f"{col}_lln", "R-XF-025",
                      f"{col} without LLN in the row or metadata: grade 1 not assignable", "W")
    out += _f(T, ae, ((ae["oxygen_device"] == "high_flow_nc") & (ae["o2_flow_l_min"] <= 6)
                      ).to_numpy(), "o2_flow_l_min", "R-XF-026",
              "high-flow nasal cannula at 6 L/min or less", "W")
    onset = _dn(ae["onset_date"])
    has_ice, has_capd = _has(ae, "ice_score"), _has(ae, "capd_score")
    if (has_ice | has_capd).any():
        age = _age_at(t, ae["patient_id"], onset)
        out += _f(T, ae, has_ice & has_capd, "capd_score", "R-XF-027",
                  "both ICE and CAPD scores given", "W")
        out += _f(T, ae, has_ice & ~has_capd & (age < 12), "ice_score", "R-XF-027",
                  "ICE score for a child under 12 (CAPD expected)", "W")
        out += _f(T, ae, has_capd & ~has_ice & (age > 12), "capd_score", "R-XF-027",
                  "CAPD score above age 12 (ICE expected)", "W")
        out += _f(T, ae, (has_ice ^ has_capd) & (age == 12),
                  "ice_score", "R-XF-027", "age exactly 12: ICE vs CAPD undecided (U20)", "W")
    pc = _pcode(t, ae)
    if "transplants" in t:
        hx = t["transplants"]
        hd = _Dated(_pcode(t, hx), _dn(hx["hsct_date__hi"]))
        before = hd.count(pc, np.full(len(ae), -np.inf), onset) > 0
        out += _f(T, ae, (term == "sos_vod").to_numpy() & ~_has(ae, "hsct_id") & before,
                  "hsct_id", "R-XF-029",
                  "sos_vod without hsct_id although an HSCT precedes onset", "W")
    if "treatment_lines" in t:
        tl = t["treatment_lines"]
        s = tl.sort_values(["patient_id", "line_start_date"], kind="stable")
        nxt = s.groupby("patient_id")["line_start_date"].shift(-1)
        nxt_of = pd.Series(nxt.to_numpy(), index=s["line_id"].to_numpy())
        nxt_of = nxt_of[~nxt_of.index.duplicated()]
        nd = _dn(_lookup(ae["line_id"], nxt_of))
        out += _f(T, ae, onset >= nd, "onset_date", "R-XF-030",
                  "on or after the start of the patient's next line (attribution doubtful)", "W")
    if "follow_up" in t:
        fu = t["follow_up"]
        dth = fu[fu["event_type"] == "death"].drop_duplicates("patient_id").set_index(
            "patient_id")["event_date"]
        dd = _dn(_lookup(ae["patient_id"], dth))
        fatal = (ae["outcome"] == "fatal").to_numpy()
        out += _f(T, ae, fatal & (np.isnan(dd) | (dd < onset)), "outcome", "R-XF-033",
                  "fatal outcome without a death on or after onset")
    return out


_RAW_INPUTS: dict[str, tuple[str, ...]] = {
    "crs": ("temp_max_c", "hypotension", "oxygen_device", "o2_flow_l_min",
            "n_vasopressors_excl_vasopressin", "vasopressin"),
    "icans": ("ice_score", "capd_score", "consciousness", "seizure",
              "deep_focal_motor_weakness", "raised_icp"),
    "sos_vod": ("bilirubin", "weight_kg", "baseline_weight_kg", "hepatomegaly", "ascites"),
    "alt_increased": ("alt",),
    "ast_increased": ("ast",),
    "bilirubin_increased": ("bilirubin",),
    "neutrophil_count_decreased": ("anc",),
    "platelet_count_decreased": ("plt",),
    "febrile_neutropenia": ("anc", "temp_max_c"),
}


@rule
def administration_more(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-DATE-009: `start_date` <= `line_end_date` when no `end_date`; start on/after the next
    line's start (W) (§3.2)."""
    if "administrations" not in t or "treatment_lines" not in t:
        return []
    ad = t["administrations"]
    tl = t["treatment_lines"]
    T = "administrations"
    out: list[Finding] = []
    u = tl.drop_duplicates("line_id").set_index("line_id")
    le = _dn(_lookup(ad["line_id"], u["line_end_date"]))
    sd = _dn(ad["start_date"])
    out += _f(T, ad, (sd > le) & ~_has(ad, "end_date"), "start_date", "R-DATE-009",
              "after line_end_date")
    s = tl.sort_values(["patient_id", "line_start_date"], kind="stable")
    nxt = pd.Series(s.groupby("patient_id")["line_start_date"].shift(-1).to_numpy(),
                    index=s["line_id"].to_numpy())
    nd = _dn(_lookup(ad["line_id"], nxt[~nxt.index.duplicated()]))
    out += _f(T, ad, sd >= nd, "start_date", "R-DATE-009",
              "on or after the start of the patient's next line", "W")
    return out


# ---- rules on derived labels: run only on tables without errors (derivations need valid
# inputs; see ``validation.validate_tables``) ------------------------------------------------------
DERIVED_RULES: list[Rule] = []


def derived_rule(fn: Rule) -> Rule:
    DERIVED_RULES.append(fn)
    return fn


_STATE_CODES: dict[str, tuple[str, ...]] = {
    "PRIMARY_REFRACTORY": ("primary_refractory",),
    "HEMATOLOGICAL_RELAPSE": ("haematological_relapse", "refractory_relapse"),
    "ISOLATED_EMD_RELAPSE": ("isolated_emd_relapse",),
    "MOLECULAR_RELAPSE": ("mrd_positive",),
    "MRD_POSITIVE_CR": ("mrd_positive",),
    "CR_MRD_NEGATIVE": ("cr_mrd_negative",),
    "CR_MRD_UNKNOWN": ("mrd_positive", "cr_mrd_negative"),
}


@derived_rule
def baseline_reconciliation(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-XF-007 (W): the CR §3.3 state of the baseline assessment (latest within
    [`line_start_date − baseline_window_days`, `line_start_date`], §2.6) or its EMD differs from
    `disease_status_at_start` / `emd_at_start`. Not-evaluable / indeterminate states are not
    compared (R-DER-004 belongs to the derivation)."""
    if "assessments" not in t or "treatment_lines" not in t or "patients" not in t:
        return []
    a = t["assessments"]
    tl = t["treatment_lines"]
    T = "treatment_lines"
    bwd = float(meta.get("baseline_window_days", 30))
    start = _dn(tl["line_start_date"])
    pc = _pcode(t, tl)
    ad = _Dated(_pcode(t, a), _dn(a["assessment_date"]))
    j = ad.last(pc, start)
    a_d = _dn(a["assessment_date"])
    ok = (j >= 0)
    ok[ok] = a_d[j[ok]] >= start[ok] - bwd
    out: list[Finding] = []
    if not ok.any():
        return out
    p = t["patients"].drop_duplicates("patient_id").set_index("patient_id")
    pr = _lookup(tl["patient_id"], p["primary_refractory"]).to_numpy(dtype=object)
    fcr = _lookup(tl["patient_id"], p["first_cr_date"]).notna().to_numpy()
    rn = tl["relapse_number"].to_numpy(dtype=np.float64, na_value=np.nan)
    ever = np.full(len(tl), None, dtype=object)
    ever[pr == "yes"] = False
    ever[fcr | (pr == "no") | (rn >= 1)] = True
    rows = np.flatnonzero(ok)
    states = _baseline_states(a, j[rows], ever[rows], meta)
    rep = tl["disease_status_at_start"].to_numpy(dtype=object)[rows]
    diff = np.array([st in _STATE_CODES and r != "unknown" and isinstance(r, str)
                     and r not in _STATE_CODES[st] for st, r in zip(states, rep, strict=True)],
                    dtype=bool)
    arow = a["_row"].to_numpy(dtype=np.int64)
    m = np.zeros(len(tl), dtype=bool)
    m[rows[diff]] = True
    prob = np.full(len(tl), "", dtype=object)
    prob[rows] = [f"differs from the derived baseline state {s} (CR §3.3)" for s in states]
    out += _f(T, tl, m, "disease_status_at_start", "R-XF-007", list(prob), "W",
              conflict=lambda mm: [f"assessments row {arow[k]}" for k in j[mm]])
    emd = a["emd"].to_numpy(dtype=object)
    dem = np.full(len(tl), None, dtype=object)
    ee = emd[j[rows]]
    de = np.full(len(rows), None, dtype=object)
    de[np.isin(ee, ["present", "new"])] = "yes"
    de[np.isin(ee, ["none", "resolved"])] = "no"
    dem[rows] = de
    rep_e = tl["emd_at_start"].to_numpy(dtype=object)
    me = np.isin(dem, ["yes", "no"]) & np.isin(rep_e, ["yes", "no"]) & (dem != rep_e)
    out += _f(T, tl, me, "emd_at_start", "R-XF-007",
              "differs from the EMD of the baseline assessment", "W",
              conflict=lambda mm: [f"assessments row {arow[k]}, emd = {emd[k]}"
                                   for k in j[mm]])
    return out


@derived_rule
def disease_sequence(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-XF-042 (W): relapse event after a line start with no derived CR-family response on that
    line before it; R-XF-034 (W): `status_at_last_contact` against the dated disease events;
    R-XF-041 (W) for `reported_status_at_hsct` (CR-family of the last assessment before day 0,
    §5.2 `HSCTSTAT`)."""
    if "follow_up" not in t or "treatment_lines" not in t or "patients" not in t:
        return []
    fu = t["follow_up"]
    tl = t["treatment_lines"]
    a = t.get("assessments")
    out: list[Finding] = []
    if a is not None and len(a):
        lv = assessment_levels(a, meta)
        crf = np.isin(lv, _CR_FAMILY)
    else:
        a = pd.DataFrame({"patient_id": pd.Series(dtype=object),
                          "assessment_date": pd.Series(dtype="datetime64[ns]")})
        crf = np.zeros(0, dtype=bool)
    ap, a_d = _pcode(t, a), _dn(a["assessment_date"])
    crd = _Dated(np.where(crf, ap, -1), a_d)
    et = fu["event_type"]
    rel = (et == "relapse").to_numpy()
    ed = _dn(fu["event_date"])
    pc = _pcode(t, fu)
    # the line of each relapse: latest line start before the event
    lpc = _pcode(t, tl)
    lstart = _dn(tl["line_start_date"])
    ld = _Dated(lpc, lstart)
    lj = ld.last(pc, ed, incl=False)
    okl = rel & (lj >= 0)
    lst = np.where(okl, lstart[np.maximum(lj, 0)], np.nan)
    inrem = np.zeros(len(fu), dtype=bool)
    inrem[okl] = np.isin(tl["disease_status_at_start"].to_numpy(dtype=object)[lj[okl]],
                         list(_REMISSION_STATUS))
    n_cr = crd.count(pc, lst, ed, lo_incl=False, hi_incl=False)
    lrow = tl["_row"].to_numpy(dtype=np.int64)
    out += _f("follow_up", fu, okl & ~inrem & (n_cr == 0), "event_date", "R-XF-042",
              "relapse with no derived CR-family response on its line before it "
              "(refractory disease recorded as relapse?)", "W",
              conflict=lambda m: [f"treatment_lines row {lrow[k]}" for k in lj[m]])
    # R-XF-034
    lc = (et == "last_contact").to_numpy()
    sal = fu["status_at_last_contact"].to_numpy(dtype=object)
    rd = _Dated(np.where(rel, pc, -1), ed)
    rj = rd.last(pc, ed)
    last_rel = np.where(rj >= 0, ed[np.maximum(rj, 0)], np.nan)
    remd = _Dated(np.where(np.isin(tl["disease_status_at_start"].to_numpy(dtype=object),
                                   list(_REMISSION_STATUS)), lpc, -1), lstart)
    later = (crd.count(pc, last_rel, ed, lo_incl=False) + remd.count(pc, last_rel, ed,
                                                                      lo_incl=False)) > 0
    out += _f("follow_up", fu, lc & (sal == "in_remission") & (rj >= 0) & ~later,
              "status_at_last_contact", "R-XF-034",
              "in_remission although the last disease event is a relapse without later "
              "remission", "W")
    n_rel = rd.count(pc, np.full(len(fu), -np.inf), ed)
    act_a = _active_assessments(a, meta)
    act_n = _Dated(np.where(act_a, ap, -1), a_d).count(pc, np.full(len(fu), -np.inf), ed)
    p = t["patients"].drop_duplicates("patient_id").set_index("patient_id")
    prim = (_lookup(fu["patient_id"], p["primary_refractory"]) == "yes").to_numpy()
    hist = tl.assign(_h=tl["disease_status_at_start"].isin(list(_ACTIVE_STATUS))
                     | (tl["relapse_number"] >= 1)).groupby("patient_id")["_h"].any()
    hist_l = _lookup(fu["patient_id"], hist).fillna(False).to_numpy(dtype=bool)
    out += _f("follow_up", fu, lc & (sal == "relapsed_or_active_disease") & (n_rel == 0)
              & (act_n == 0) & ~prim & ~hist_l, "status_at_last_contact", "R-XF-034",
              "relapsed_or_active_disease without any relapse or non-response", "W")
    # R-XF-041 for transplants
    if "transplants" in t and len(a):
        h = t["transplants"]
        rep = h["reported_status_at_hsct"].to_numpy(dtype=object)
        hd = _dn(h["hsct_date__lo"]).copy()
        hd[(h["hsct_date__prec"] != "D").to_numpy()] = np.nan
        aj = _Dated(ap, a_d).last(_pcode(t, h), hd, incl=False)
        der_cr = np.zeros(len(h), dtype=bool)
        der_cr[aj >= 0] = crf[aj[aj >= 0]]
        known = aj >= 0
        bad = known & ((np.isin(rep, ["cr1", "cr2", "cr3plus"]) & ~der_cr)
                       | ((rep == "active_disease") & der_cr))
        arow = a["_row"].to_numpy(dtype=np.int64)
        out += _f("transplants", h, bad, "reported_status_at_hsct", "R-XF-041",
                  ["differs from the derived status "
                   + ("CR-family" if c else "active_disease")
                   + " of the last assessment before day 0" for c in der_cr], "W",
                  conflict=lambda m: [f"assessments row {arow[k]}" for k in aj[m]])
    return out


_REPORTED_LEVELS: dict[str, tuple[str, ...]] = {
    "cr": ("CR",), "crh": ("CRh",), "cri": ("CRi",), "crp": ("CRp",), "pr": ("PR",),
    "no_response": ("NO_RESPONSE", "REFRACTORY", "BM_BLAST_FREE_NO_RECOVERY"),
    "pd": ("PROGRESSIVE_DISEASE",),
    "relapse": ("HEMATOLOGICAL_RELAPSE", "EXTRAMEDULLARY_RELAPSE", "COMBINED_RELAPSE",
                "MOLECULAR_RELAPSE"),
    "not_evaluable": ("NOT_EVALUABLE",),
}


@derived_rule
def reported_labels(t: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """R-XF-041 (W): `reported_response` / `reported_best_response` differ from the labels
    derived for the index lines (§5.1 per-assessment response in date order, `BESTRESP`).
    Runs the derivation only when such a label is given; assessments outside the index lines'
    follow-up and non-index lines are not compared (no derived label, §5). INDETERMINATE is not
    compared."""
    from rrball.cohort import endpoints
    out: list[Finding] = []
    if "treatment_lines" not in t or "follow_up" not in t or "patients" not in t:
        return out
    tl = t["treatment_lines"]
    a = t.get("assessments")
    if a is not None and _has(a, "reported_response").any():
        rt = endpoints.response_table(t, meta)
        if len(rt):
            lv = pd.Series(rt["LEVEL"].to_numpy(), index=rt["ASSESSID"].to_numpy())
            lv = lv[~lv.index.duplicated(keep="first")]
            der = _lookup(a["assessment_id"], lv).to_numpy(dtype=object)
            rep = a["reported_response"].to_numpy(dtype=object)
            bad = np.array([isinstance(r, str) and isinstance(d, str) and d != "INDETERMINATE"
                            and d not in _REPORTED_LEVELS.get(r, ()) for r, d in zip(
                                rep, der, strict=True)], dtype=bool)
            out += _f("assessments", a, bad, "reported_response", "R-XF-041",
                      [f"differs from the derived response {d}" for d in der], "W")
    if _has(tl, "reported_best_response").any():
        ad = endpoints.adsl(t, meta)
        if len(ad):
            best = pd.Series(ad["BESTRESP"].to_numpy(), index=ad["LINEID"].to_numpy())
            der = _lookup(tl["line_id"], best[~best.index.duplicated()]).to_numpy(dtype=object)
            rep = tl["reported_best_response"].to_numpy(dtype=object)
            bad = np.array([isinstance(r, str) and isinstance(d, str) and d != "INDETERMINATE"
                            and d not in _REPORTED_LEVELS.get(r, ()) for r, d in zip(
                                rep, der, strict=True)], dtype=bool)
            out += _f("treatment_lines", tl, bad, "reported_best_response", "R-XF-041",
                      [f"differs from the derived best response {d}" for d in der], "W")
    return out


def run_derived(tables: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """Rules comparing data with derived labels (R-XF-007, R-XF-034, R-XF-041, R-XF-042); call
    only on tables without errors."""
    out: list[Finding] = []
    try:
        for r in DERIVED_RULES:
            out += r(tables, meta)
    finally:
        _PCODES.clear()
    return out


def run_all(tables: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """Run every rule of §3 on typed tables; returns all findings (errors and warnings)."""
    out: list[Finding] = []
    try:
        for r in RULES:
            out += r(tables, meta)
    finally:
        _PCODES.clear()
    return out


# Rules the second process runs (with the derived rules) when ``run_checked`` splits the work;
# about half of the cost of all rules on a large cohort.
_CHILD_RULES = frozenset({"unique_ids", "dated_rows_vs_lines", "references"})
_PARALLEL_MIN_ROWS = 300_000
_MIN_PATIENCE = 60.0  # seconds the parent waits at least for the forked process


def _two_cores() -> bool:
    """Fork a helper process? Only on Linux with two usable cores, when the calling process
    runs no other thread (forking a threaded process can deadlock the child) and the user did
    not ask for one process (``RRBALL_WORKERS=1``)."""
    if sys.platform != "linux" or not hasattr(os, "sched_getaffinity"):
        return False
    if os.environ.get("RRBALL_WORKERS", "").strip() == "1":
        return False
    import multiprocessing as mp
    import threading

    if threading.active_count() > 1 or mp.current_process().daemon:
        return False  # a daemonic worker (multiprocessing.Pool) may not have children
    return len(os.sched_getaffinity(0)) >= 2


# Rules that mostly need no assessments: while the assessments are parsed, a forked process
# runs them on the other tables (``run_early``); those that do look at them run later.
_EARLY_RULES = frozenset({"patient_structure", "patient_fields", "line_fields",
                          "follow_up_fields", "adverse_event_fields", "patient_more", "line_more",
                          "transplant_more", "adverse_event_more", "administration_more"})


class _AbsentTableError(Exception):
    """A rule looked at the table ``_Without`` leaves out."""


class _Without(Mapping[str, pd.DataFrame]):
    """The tables; looking at ``absent`` (or at the set of names) raises
    ``_AbsentTableError``."""

    def __init__(self, tables: Tables, absent: str) -> None:
        self._t, self._absent = tables, absent

    def __getitem__(self, key: str) -> pd.DataFrame:
        if key == self._absent:
            raise _AbsentTableError(key)
        return self._t[key]

    def __contains__(self, key: object) -> bool:
        if key == self._absent:
            raise _AbsentTableError(key)
        return key in self._t

    def __iter__(self) -> Any:
        raise _AbsentTableError(self._absent)

    def __len__(self) -> int:
        raise _AbsentTableError(self._absent)


def run_early(tables: Tables, meta: Mapping[str, Any], absent: str) -> dict[str, list[Finding]]:
    """The findings of each of the ``_EARLY_RULES`` that runs to the end on ``tables`` without
    looking at table ``absent`` (nor at the set of table names): a rule's findings depend only
    on what it reads, so they are its findings on the full tables (``run_checked``'s
    ``early``). A rule that looks at ``absent`` or fails is left out (it runs later)."""
    view = _Without(tables, absent)
    out: dict[str, list[Finding]] = {}
    for r in RULES:
        if r.__name__ in _EARLY_RULES:
            try:
                out[r.__name__] = r(view, meta)
            except Exception:  # ``_AbsentTableError`` or a failure: the rule runs with all tables
                pass
            finally:
                _PCODES.clear()
    return out


def _run_all_with(tables: Tables, meta: Mapping[str, Any],
                  early: Mapping[str, list[Finding]]) -> list[Finding]:
    """``run_all``, taking the findings of the rules in ``early`` from there."""
    out: list[Finding] = []
    try:
        for r in RULES:
            out += early[r.__name__] if r.__name__ in early else r(tables, meta)
    finally:
        _PCODES.clear()
    return out


def _stop(conn: Any, proc: Any) -> None:
    """End a forked helper now (the parent is being interrupted)."""
    try:
        conn.close()
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def _call_child(conn: Any, fn: Callable[[], Any]) -> None:
    try:
        conn.send(("ok", fn()))
    except BaseException:  # the parent calls ``fn`` itself (and raises there)
        conn.send(("failed", None))
    finally:
        conn.close()


def fork_call(there: Callable[[], Any], here: Callable[[], Any]) -> tuple[bool, Any, Any]:
    """Call ``there`` in a forked process while this process calls ``here`` (the same guards
    as the rules process: ``_two_cores``): ``(True, there(), here())``. ``(False, None,
    None)`` when there is no second process, either call fails (no exception is raised) or the
    other process does not answer within ``_MIN_PATIENCE`` seconds or ten times the time of
    ``here``; the caller then does both here, in order. ``there``'s result is pickled."""
    if not _two_cores():
        return False, None, None
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_call_child, args=(send, there), daemon=True)
    try:
        proc.start()
    except Exception:
        return False, None, None
    send.close()
    started = time.monotonic()
    ok = True
    mine: Any = None
    interrupted = True  # KeyboardInterrupt or SystemExit: end the child at once, no waiting
    try:
        mine = here()
        interrupted = False
    except Exception:
        ok, interrupted = False, False
    finally:
        if interrupted:
            _stop(recv, proc)
        patience = 0.0 if interrupted else max(_MIN_PATIENCE,
                                               10 * (time.monotonic() - started))
        msg: Any = ("failed", None)
        if not interrupted:
            try:
                if recv.poll(patience):
                    msg = recv.recv()
            except Exception:  # EOF, a broken pipe, an unreadable answer
                pass
            recv.close()
            if msg[0] != "ok" and proc.is_alive():
                proc.kill()
            proc.join()
    if not ok or msg[0] != "ok":
        return False, None, None
    return True, msg[1], mine


# With ``analysis`` (no error so far), the forked process also derives the toxicity table and
# ADSL once its rules are sent; it then runs fewer rules and the parent the derived rules.
_CHILD_RULES_ANALYSIS = frozenset({"unique_ids"})

Analysis = tuple[pd.DataFrame, pd.DataFrame]  # (toxicity table, full ADSL) of ``endpoints``


def _child_run(conn: Any, tables: Tables, meta: Mapping[str, Any], derived: bool,
               analysis: bool = False) -> None:
    """Forked child: the ``_CHILD_RULES`` (and the derived rules, speculatively) -> pipe; with
    ``analysis``, fewer rules, then ``endpoints.toxicity`` and ``endpoints.adsl`` -> pipe."""
    names = _CHILD_RULES_ANALYSIS if analysis else _CHILD_RULES
    try:
        try:
            found = [r(tables, meta) for r in RULES if r.__name__ in names]
            der = run_derived(tables, meta) if derived and not analysis else None
            conn.send(("ok", found, der))
        except BaseException:  # the parent runs the same rules again and raises there
            conn.send(("failed", None, None))
            return
        if analysis:
            try:
                from rrball.cohort import endpoints

                tox = endpoints.toxicity(tables, meta)
                conn.send(("ok", tox, endpoints.adsl(tables, meta, tox=tox)))
            except BaseException:  # the parent derives them when asked, and raises there
                conn.send(("failed", None, None))
    finally:
        conn.close()


class PendingAnalysis:
    """The toxicity table and ADSL the forked process derives (``run_checked(analysis=True)``):
    ``get`` waits for them (None if there are none: no process, a failure, no answer in time);
    ``close`` drops them and ends the process. Either ends it; call one of them."""

    __slots__ = ("_conn", "_patience", "_proc")

    def __init__(self, conn: Any = None, proc: Any = None, patience: float = 0.0) -> None:
        self._conn, self._proc, self._patience = conn, proc, patience

    def get(self) -> Analysis | None:
        if self._conn is None:
            return None
        msg: Any = None
        try:
            if self._conn.poll(self._patience):
                msg = self._conn.recv()
        except Exception:  # EOF, a broken pipe, an unreadable answer: derived here later
            msg = None
        self.close()
        if msg is None or msg[0] != "ok":
            return None
        return msg[1], msg[2]

    def close(self) -> None:
        if self._conn is None:
            return
        self._conn.close()
        self._conn = None
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()


def run_checked(tables: Tables, meta: Mapping[str, Any], derived: bool,
                ) -> tuple[list[Finding], list[Finding] | None]:
    """``run_all`` and, when ``derived``, ``run_derived`` (the caller uses the latter only if
    no error was found): the same findings in the same order as calling them one after the
    other. On Linux with two cores and a large cohort, a forked process runs a part of the
    rules at the same time (the tables are shared copy-on-write, only findings are pickled);
    any failure there falls back to running everything here."""
    found, der, _ = run_checked_analysis(tables, meta, derived, analysis=False)
    return found, der


def run_checked_analysis(tables: Tables, meta: Mapping[str, Any], derived: bool,
                         analysis: bool = True,
                         early: Mapping[str, list[Finding]] | None = None,
                         ) -> tuple[list[Finding], list[Finding] | None, PendingAnalysis]:
    """``run_checked``; with ``analysis`` and ``derived``, the forked process (if any) then
    derives the toxicity table and ADSL of the tables (``endpoints.toxicity``,
    ``endpoints.adsl``), in case they are valid: the caller calls ``get`` (valid tables) or
    ``close`` (errors) on the returned ``PendingAnalysis``. ``early``: findings of rules
    already run (``run_early``), not run again."""
    early = early or {}
    n = sum(len(df) for df in tables.values())
    if n < _PARALLEL_MIN_ROWS or not _two_cores():
        return _run_all_with(tables, meta, early), \
            (run_derived(tables, meta) if derived else None), PendingAnalysis()
    analysis = analysis and derived
    names = _CHILD_RULES_ANALYSIS if analysis else _CHILD_RULES
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_run, args=(send, tables, meta, derived, analysis),
                       daemon=True)
    try:
        proc.start()
    except Exception:  # no process (resources, a daemonic caller): everything runs here
        return run_all(tables, meta), (run_derived(tables, meta) if derived else None), \
            PendingAnalysis()
    send.close()
    mine: dict[str, list[Finding]] = {}
    mine_der: list[Finding] | None = None
    ok = True
    started = time.monotonic()
    interrupted = True  # KeyboardInterrupt or SystemExit: end the child at once, no waiting
    try:
        for r in RULES:
            if r.__name__ in early:
                mine[r.__name__] = early[r.__name__]
            elif r.__name__ not in names:
                mine[r.__name__] = r(tables, meta)
        if analysis:
            mine_der = run_derived(tables, meta)
        interrupted = False
    except Exception:
        ok, interrupted = False, False  # run again in order below: the failing rule raises
    finally:
        _PCODES.clear()
        if interrupted:
            _stop(recv, proc)
        # the child's share takes about as long as ours: a child that has not answered after
        # ten times that (at least a minute) is stuck (e.g. a lock inherited at fork time)
        patience = max(_MIN_PATIENCE, 10 * (time.monotonic() - started))
        msg: Any = ("failed", None, None)
        try:
            if not interrupted and recv.poll(patience):
                msg = recv.recv()
        except (EOFError, OSError):
            pass
        if interrupted:
            pass
        elif not ok or msg[0] != "ok" or not analysis:  # else the analysis follows
            recv.close()
            if msg[0] != "ok" and proc.is_alive():
                proc.kill()
            proc.join()
    if not ok or msg[0] != "ok":
        return run_all(tables, meta), (run_derived(tables, meta) if derived else None), \
            PendingAnalysis()
    theirs: list[list[Finding]] = msg[1]
    out: list[Finding] = []
    for r in RULES:  # findings in rule order, as ``run_all`` gives them
        out += theirs.pop(0) if r.__name__ in names else mine[r.__name__]
    if analysis:
        return out, mine_der, PendingAnalysis(recv, proc, patience)
    return out, msg[2], PendingAnalysis()


def check_rows(tables: Tables, meta: Mapping[str, Any] | None = None) -> list[Finding]:
    """Run the rules on (possibly one-row) typed tables, e.g. from a registry form."""
    fixed = {k: (v if "_pos" in v else v.assign(_pos=np.arange(len(v)),
                                                _row=np.arange(2, len(v) + 2)))
             for k, v in tables.items()}
    out = run_all(fixed, meta or {})
    if not any(f.severity == "E" for f in out):
        out += run_derived(fixed, meta or {})
    return out
