"""Validation rules of data-dictionary.md §3 as pure functions over typed tables.

Each rule takes the typed tables (``{table: DataFrame}``, as built by the engine from the schema,
positions in column ``_pos``) and the metadata, and returns ``Finding``s with the dictionary's
rule ids (R-KEY, R-DATE, R-XF, R-ASM, R-LIN, R-AE, R-HCT, R-PRIV). No I/O; registry forms can call
them on a one-row frame (``check_rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rrball.cohort.validation import Finding

__all__ = ["RULES", "check_rows", "run_all"]

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
        # normalise each distinct id once (strip, lower case), then compare integer keys
        codes, uniq = pd.factorize(ids)
        ncodes = pd.factorize(pd.Series([str(x).strip().lower() for x in uniq],
                                        dtype=object))[0]
        key = np.append(ncodes, -1)[codes]  # missing ids (-1) -> -1
        norm = pd.Series(key, index=df.index)
        dup = norm.duplicated(keep="first").to_numpy() & (codes >= 0)
        out += _f(table, df, dup, col, rid, "identifier not unique (case and spaces ignored)",
                  conflict=_first_row_conflict(table, norm, df["_row"]))
    return out


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
            n = ae.groupby("ae_id")[col].transform(lambda s: s.nunique(dropna=False))
            out += _f("adverse_events", ae, (n > 1).to_numpy(), col, "R-KEY-006",
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


def run_all(tables: Tables, meta: Mapping[str, Any]) -> list[Finding]:
    """Run every rule of §3 on typed tables; returns all findings (errors and warnings)."""
    out: list[Finding] = []
    for r in RULES:
        out += r(tables, meta)
    return out


def check_rows(tables: Tables, meta: Mapping[str, Any] | None = None) -> list[Finding]:
    """Run the rules on (possibly one-row) typed tables, e.g. from a registry form."""
    fixed = {k: (v if "_pos" in v else v.assign(_pos=np.arange(len(v)),
                                                _row=np.arange(2, len(v) + 2)))
             for k, v in tables.items()}
    return run_all(fixed, meta or {})
