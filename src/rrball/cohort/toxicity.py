"""Toxicity table: one row per patient-line × AE term × criteria set (data-dictionary.md §5.2,
§2.10; clinical-reference.md §4).

Grades are derived from the raw measurement columns of ``adverse_events`` (§2.10) by the
clinical graders, row by row: ``grade_crs`` and ``grade_icans`` (ASTCT 2019, CR §4.1–§4.2),
``diagnose_sos_vod`` (every SOS/VOD set side by side, CR §4.3) and ``ctcae_grade`` /
``grade_febrile_neutropenia`` (CTCAE v5.0, CR §4.4). The episode (``ae_id``) grade is the maximum
of its rows; the patient-line grade is the maximum over the line's episodes of that term.

Line attribution: an AE row belongs to the treatment line named in its ``line_id`` (required,
§1 "Adverse events ... always name their line"); rows are never re-attributed by date. Every
line that has an AE row gets rows (``INDEXFL`` tells index lines apart); a line without an
episode of a term has no row for it (no recorded episode = grade 0; denominators come from ADSL).

Reported grades (R-DER-008, §2.10): a typed ``reported_grade`` never overrides a derived one. It
is used (``GRADESRC = "reported"``) for terms without a raw rule (``infection``,
``infusion_reaction``, ``other``) and, as a flagged fallback (``RPTFBFL = "Y"``), for an
episode of a graded term none of whose rows has any raw input of that term; the row's
``CRITSET`` is then the ``reported_grade_scale``. Missing inputs give the grade supported by the
inputs with ``INCOMPFL = "Y"`` (CR §4 general rules).

Pure: typed tables in, DataFrame out.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rrball.clinical import (
    ctcae_grade,
    diagnose_sos_vod,
    grade_crs,
    grade_febrile_neutropenia,
    grade_icans,
)
from rrball.errors import ClinicalInputError

__all__ = [
    "CTCAE_TERMS",
    "PRIMARY_SET",
    "REPORTED_ONLY_TERMS",
    "TERM_SETS",
    "TOX_COLUMNS",
    "VOD_SETS",
    "default_vod_set",
    "patients_with_grade",
    "toxicity_table",
]

VOD_SETS = ("modified_seattle", "baltimore", "ebmt_adult_2016", "ebmt_ped_2018")
# criteria set names of this table (grade_scale codes, §2.2) -> keys of diagnose_sos_vod
_VOD_KEY = {"modified_seattle": "modified_seattle", "baltimore": "baltimore",
            "ebmt_adult_2016": "ebmt_adult_2016", "ebmt_ped_2018": "ebmt_paediatric_2018"}
_VOD_SEVERITY_SETS = ("ebmt_adult_2016", "ebmt_ped_2018")
CTCAE_TERMS = ("alt_increased", "ast_increased", "bilirubin_increased",
               "neutrophil_count_decreased", "platelet_count_decreased", "febrile_neutropenia")
REPORTED_ONLY_TERMS = ("infection", "infusion_reaction", "other")
TERM_SETS: Mapping[str, tuple[str, ...]] = {
    "crs": ("astct_2019",), "icans": ("astct_2019",), "sos_vod": VOD_SETS,
    **{t: ("ctcae_v5",) for t in CTCAE_TERMS},
}
# the one set per term used for cross-term summaries (PRIMFL); sos_vod: per line (vod_criteria)
PRIMARY_SET: Mapping[str, str] = {"crs": "astct_2019", "icans": "astct_2019",
                                  **{t: "ctcae_v5" for t in CTCAE_TERMS}}
# raw inputs of each graded term (§2.10 groups): none filled on any row of an episode -> the
# reported grade is used as a flagged fallback (R-DER-008)
RAW_INPUTS: Mapping[str, tuple[str, ...]] = {
    "crs": ("temp_max_c", "hypotension", "n_vasopressors_excl_vasopressin", "vasopressin",
            "oxygen_device", "o2_flow_l_min"),
    "icans": ("ice_score", "capd_score", "consciousness", "seizure",
              "deep_focal_motor_weakness", "raised_icp"),
    "sos_vod": ("bilirubin", "weight_kg", "hepatomegaly", "hepatomegaly_painful", "ruq_pain",
                "ascites", "weight_gain_3d_despite_diuretics", "plt_transfusion_refractory",
                "refractory_thrombocytopenia_days", "histology_proven", "doppler_sos_findings",
                "hvpg_mmhg"),
    "alt_increased": ("alt",), "ast_increased": ("ast",), "bilirubin_increased": ("bilirubin",),
    "neutrophil_count_decreased": ("anc",), "platelet_count_decreased": ("plt",),
    "febrile_neutropenia": ("anc", "temp_max_c", "fever_sustained_1h"),
}
TOX_COLUMNS = ["STUDYID", "USUBJID", "SUBJID", "LINEID", "INDEXFL", "REGIMEN", "TERM", "TERMOTH",
               "CRITSET", "PRIMFL", "MAXGRADE", "DIAGFL", "ONSETDT", "NEPIS", "INCOMPFL",
               "GRADESRC", "RPTFBFL", "AEID", "SRCDOM", "SRCVAR", "SRCID", "SRCROW"]

_OXY = {"none": "none", "low_flow_nc": "low_flow_nasal_cannula", "blow_by": "blow_by",
        "high_flow_nc": "high_flow_nasal_cannula", "facemask": "facemask",
        "non_rebreather": "non_rebreather", "venturi": "venturi", "cpap": "cpap",
        "bipap": "bipap", "mechanical_ventilation": "mechanical_ventilation"}
_ICP = {"none": "none", "focal_oedema": "focal_oedema",
        "diffuse_oedema_or_posturing_or_cn6_or_papilloedema_or_cushing": "diffuse_oedema_or_signs"}
_ASC = {"none": "none", "minimal": "minimal", "moderate": "moderate",
        "paracentesis_needed": "paracentesis"}
_COAG = {"normal": "normal", "impaired": "impaired",
         "impaired_needs_factor_replacement": "factor_replacement"}
_CRS_VAR = {"fever": "temp_max_c", "hypotension": "hypotension", "hypoxia": "oxygen_device"}
_ICANS_VAR = {"ice": "ice_score", "capd": "capd_score", "consciousness": "consciousness",
              "seizure": "seizure", "motor": "deep_focal_motor_weakness",
              "raised_icp": "raised_icp"}
_CTCAE_VAR = {"alt_increased": "alt", "ast_increased": "ast", "bilirubin_increased": "bilirubin",
              "neutrophil_count_decreased": "anc", "platelet_count_decreased": "plt"}
_UNIT_KEYS = {"uln_alt": "unit_enzymes", "uln_ast": "unit_enzymes",
              "uln_bilirubin": "unit_bilirubin", "lln_anc": "unit_anc", "lln_plt": "unit_plt"}
_TOP = 4  # highest grade of every derived scale here (grade 5 = death is not derived)

# one graded row: (grade or nan, diagnosed, incomplete, SRCVAR)
_Row = tuple[float, bool, bool, str]


def default_vod_set(age: float, meta: Mapping[str, Any]) -> str:
    """SOS/VOD criteria set of a line: metadata ``vod_criteria``, else ``ebmt_adult_2016`` if
    AGE ≥ 18 else ``ebmt_ped_2018`` (§2.3, §5.2 PROPOSED; unknown age -> adult)."""
    v = meta.get("vod_criteria")
    if v:
        return str(v)
    return "ebmt_ped_2018" if age == age and age < 18 else "ebmt_adult_2016"


def patients_with_grade(tox: pd.DataFrame, min_grade: int = 3, max_grade: int = 4,
                        terms: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Patient-lines with an AE of grade ``min_grade``–``max_grade`` of any term (or of
    ``terms``), counting each term once under its primary set (``PRIMFL = "Y"``): e.g. seed 001
    "patients with a grade 3–4 AE". Returns the distinct ``USUBJID``/``LINEID`` pairs."""
    g = tox["MAXGRADE"].astype("Float64")
    sel = (tox["PRIMFL"] == "Y") & (g >= min_grade).fillna(False) & \
        (g <= max_grade).fillna(False)
    if terms is not None:
        sel &= tox["TERM"].isin(terms)
    return tox.loc[sel, ["USUBJID", "LINEID"]].drop_duplicates().reset_index(drop=True)


# ---- column helpers ----------------------------------------------------------------------------
def _num(ae: pd.DataFrame, col: str) -> list[float | None]:
    if col not in ae:
        return [None] * len(ae)
    v = ae[col].to_numpy(dtype=np.float64, na_value=np.nan)
    o = v.astype(object)
    o[np.isnan(v)] = None
    return list(o)


def _int(ae: pd.DataFrame, col: str) -> list[int | None]:
    return [None if x is None else int(x) for x in _num(ae, col)]


def _tri(ae: pd.DataFrame, col: str) -> list[bool | None]:
    if col not in ae:
        return [None] * len(ae)
    a = ae[col].to_numpy(dtype=object)
    out = np.full(len(a), None, dtype=object)
    out[a == "yes"] = True
    out[a == "no"] = False
    return list(out)


def _code(ae: pd.DataFrame, col: str, mapping: Mapping[str, str] | None = None,
          ) -> list[str | None]:
    if col not in ae:
        return [None] * len(ae)
    s = ae[col]
    s = s.map(mapping) if mapping is not None else s.where(s.notna() & (s != "unknown"))
    o = s.to_numpy(dtype=object)
    return [x if isinstance(x, str) else None for x in o]


def _filled(ae: pd.DataFrame, cols: tuple[str, ...]) -> npt.NDArray[np.bool_]:
    out = np.zeros(len(ae), dtype=bool)
    for c in cols:
        if c in ae:
            s = ae[c]
            out |= (s.notna() & (s != "unknown")).to_numpy()
    return out


def _meta_limit(meta: Mapping[str, Any], key: str) -> float | None:
    """Metadata ULN/LLN in the canonical unit (§2.3: given in the declared unit)."""
    v = meta.get(key)
    if v is None:
        return None
    from rrball.cohort.validation import units_factor

    unit = meta.get(_UNIT_KEYS[key])
    return float(v) * (units_factor(_UNIT_KEYS[key], unit) if unit is not None else 1.0)


def _cached(keys: list[tuple[Hashable, ...]], fn: Callable[..., _Row | tuple[_Row, ...]],
            ) -> list[Any]:
    """Call ``fn`` once per distinct key (equal inputs share one derivation)."""
    memo: dict[tuple[Hashable, ...], Any] = {}
    out = []
    for k in keys:
        r = memo.get(k)
        if r is None:
            r = memo[k] = fn(*k)
        out.append(r)
    return out


# ---- graders (one AE row) ---------------------------------------------------------------------
def _crs(temp: float | None, hyp: bool | None, nvp: int | None, vaso: bool | None,
         dev: str | None, flow: float | None, masked: bool | None) -> _Row:
    try:
        g = grade_crs(temp_max_c=temp, hypotension=hyp, n_vasopressors_excl_vasopressin=nvp,
                      vasopressin=vaso, oxygen_device=dev, o2_flow_l_min=flow,
                      fever_masked=bool(masked))
    except ClinicalInputError:
        return (0.0, False, True, "temp_max_c")
    return (float(g.grade), g.grade > 0, g.incomplete and g.grade < _TOP,
            _CRS_VAR.get(g.domain or "", "temp_max_c"))


def _icans(age: float | None, ice: int | None, capd: int | None, consc: str | None,
           seiz: str | None, motor: bool | None, icp: str | None) -> _Row:
    if age is None:
        return (0.0, False, True, "ice_score")
    tool = None if age != 12 or (ice is None) != (capd is None) else "ice"
    try:
        g = grade_icans(age_years=age, ice_score=ice, capd_score=capd, consciousness=consc,
                        seizure=seiz, deep_focal_motor_weakness=motor, raised_icp=icp,
                        tool_at_age_12=tool)
    except ClinicalInputError:
        return (0.0, False, True, "ice_score")
    return (float(g.grade), g.grade > 0, g.incomplete and g.grade < _TOP,
            _ICANS_VAR.get(g.domain or "", "ice_score" if age > 12 else "capd_score"))


def _ctcae(term: str, value: float | None, uln: float | None, base: float | None,
           lln: float | None) -> _Row:
    var = _CTCAE_VAR[term]
    if value is None:
        return (0.0, False, True, var)
    try:
        g = ctcae_grade(term, value, uln, base, lln=lln)
    except ClinicalInputError:
        return (0.0, False, True, var)
    return (float(g.grade), g.grade > 0, g.incomplete and g.grade < _TOP, var)


def _fn(anc: float | None, temp: float | None, sus: bool | None, life: bool | None,
        death: bool) -> _Row:
    try:
        g = grade_febrile_neutropenia(anc=anc, temp_max_c=temp, fever_sustained_1h=sus,
                                      life_threatening=life, death=death)
    except ClinicalInputError:
        return (0.0, False, True, "anc")
    return (float(g.grade), g.grade > 0, g.incomplete and g.grade < _TOP, "anc")


def _sos(*args: Any) -> tuple[_Row, ...]:
    (day, ref, bili, hep, hep_p, ruq, asc, w, bw, w3d, trt, rtd, rise, hist, hemo, since,
     dbl, tx, cr, gfr, o2, vent, coag, cog) = args
    try:
        r = diagnose_sos_vod(
            day=day, reference=ref, bilirubin_mg_dl=bili, hepatomegaly=hep,
            hepatomegaly_painful=hep_p, ruq_pain=ruq, ascites=asc, weight_kg=w,
            baseline_weight_kg=bw, weight_gain_3_days_despite_diuretics=w3d,
            transfusion_refractory_thrombocytopenia=trt, refractory_thrombocytopenia_days=rtd,
            bilirubin_rising_3_days=rise, histology_proven=hist,
            hemodynamic_or_ultrasound_evidence=hemo, days_since_first_signs=since,
            bilirubin_doubling_48h=dbl, transaminases_x_uln=tx, creatinine_x_baseline=cr,
            gfr_ml_min=gfr, o2_l_min=o2, ventilator=vent, coagulation=coag,
            new_cognitive_impairment=cog)
    except ClinicalInputError:
        return tuple((np.nan, False, True, "bilirubin") for _ in VOD_SETS)
    out: list[_Row] = []
    for s in VOD_SETS:
        c = r.criteria[_VOD_KEY[s]]
        diag = c.diagnosed is True
        sev = s in _VOD_SEVERITY_SETS
        if diag:
            grade = float(c.severity_grade) if sev and c.severity_grade is not None else np.nan
            inc = sev and (c.severity_grade is None or c.severity_grade < _TOP)
            inc = inc and bool(c.missing)
        else:
            grade, inc = 0.0, c.diagnosed is None
        out.append((grade, diag, inc, "bilirubin"))
    return tuple(out)


# ---- the table ---------------------------------------------------------------------------------
def toxicity_table(ae: pd.DataFrame | None, lines: pd.DataFrame,
                   transplants: pd.DataFrame | None, meta: Mapping[str, Any]) -> pd.DataFrame:
    """The toxicity table (§5.2 ``Cohort.toxicity()``): one row per patient-line × term ×
    criteria set, columns ``TOX_COLUMNS``.

    ``ae``: typed ``adverse_events`` (§2.10, with ``_row``); ``lines``: one row per line with
    ``LINEID``, ``STUDYID``, ``USUBJID``, ``SUBJID``, ``REGIMEN``, ``T0`` (line start),
    ``AGE`` (completed years at the line start) and ``INDEXFL``; ``transplants``: typed
    ``transplants`` (SOS/VOD day 0 of an AE row naming ``hsct_id``, CR §4.3).
    """
    if ae is None or ae.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TOX_COLUMNS})
    ae = ae[ae["line_id"].isin(lines["LINEID"])]
    ae = ae.sort_values(["ae_id", "obs_date"], kind="stable").reset_index(drop=True)
    n = len(ae)
    li = lines.drop_duplicates("LINEID").set_index("LINEID")
    line_of = ae["line_id"].to_numpy(dtype=object)
    age = li["AGE"].reindex(line_of).to_numpy(dtype=np.float64, na_value=np.nan)
    t0 = pd.to_datetime(li["T0"]).reindex(line_of).to_numpy(dtype="datetime64[D]")
    term = ae["ae_term"].to_numpy(dtype=object)
    obs = ae["obs_date"].to_numpy(dtype="datetime64[D]")
    onset = ae["onset_date"].to_numpy(dtype="datetime64[D]")

    grades: list[tuple[int, str, _Row]] = []  # (AE row, CRITSET, graded row)

    def rows_of(t: str) -> npt.NDArray[np.intp]:
        return np.flatnonzero(term == t)

    # CRS (CR §4.1)
    k = rows_of("crs")
    if len(k):
        sub = ae.iloc[k]
        keys: list[tuple[Hashable, ...]] = list(zip(
            _num(sub, "temp_max_c"), _tri(sub, "hypotension"),
            _int(sub, "n_vasopressors_excl_vasopressin"), _tri(sub, "vasopressin"),
            _code(sub, "oxygen_device", _OXY), _num(sub, "o2_flow_l_min"),
            _tri(sub, "fever_masked"), strict=True))
        grades += [(int(i), "astct_2019", r) for i, r in zip(k, _cached(keys, _crs), strict=True)]
    # ICANS (CR §4.2): ICE or CAPD by the age at the line start
    k = rows_of("icans")
    if len(k):
        sub = ae.iloc[k]
        ages = [None if a != a else float(a) for a in age[k]]
        keys = list(zip(ages, _int(sub, "ice_score"), _int(sub, "capd_score"),
                        _code(sub, "consciousness"), _code(sub, "seizure"),
                        _tri(sub, "deep_focal_motor_weakness"), _code(sub, "raised_icp", _ICP),
                        strict=True))
        grades += [(int(i), "astct_2019", r)
                   for i, r in zip(k, _cached(keys, _icans), strict=True)]
    # CTCAE v5.0 laboratory terms (CR §4.4)
    for t, var in _CTCAE_VAR.items():
        k = rows_of(t)
        if not len(k):
            continue
        sub = ae.iloc[k]
        if t in ("neutrophil_count_decreased", "platelet_count_decreased"):
            meta_l = _meta_limit(meta, "lln_anc" if var == "anc" else "lln_plt")
            lim = [x if x is not None else meta_l for x in _num(sub, f"{var}_lln")]
            base: list[float | None] = [None] * len(k)
            keys = [(t, v, None, None, x) for v, x in zip(_num(sub, var), lim, strict=True)]
        else:
            meta_u = _meta_limit(meta, f"uln_{var}")
            lim = [x if x is not None else meta_u for x in _num(sub, f"{var}_uln")]
            base = _num(sub, f"{var}_baseline")
            keys = [(t, v, u, b, None)
                    for v, u, b in zip(_num(sub, var), lim, base, strict=True)]
        grades += [(int(i), "ctcae_v5", r) for i, r in zip(k, _cached(keys, _ctcae), strict=True)]
    # febrile neutropenia (CR §4.4); fatal outcome -> grade 5
    k = rows_of("febrile_neutropenia")
    if len(k):
        sub = ae.iloc[k]
        fatal = [o == "fatal" for o in _code(sub, "outcome")]
        keys = list(zip(_num(sub, "anc"), _num(sub, "temp_max_c"),
                        _tri(sub, "fever_sustained_1h"), _tri(sub, "life_threatening"), fatal,
                        strict=True))
        grades += [(int(i), "ctcae_v5", r) for i, r in zip(k, _cached(keys, _fn), strict=True)]
    # SOS/VOD (CR §4.3), every set side by side
    k = rows_of("sos_vod")
    if len(k):
        keys = _sos_keys(ae, k, t0, obs, onset, transplants)
        for i, rs in zip(k, _cached(keys, _sos), strict=True):
            grades += [(int(i), s, r) for s, r in zip(VOD_SETS, rs, strict=True)]

    g_pos = np.array([g[0] for g in grades], dtype=np.intp)
    long = pd.DataFrame({
        "_i": g_pos, "CRITSET": [g[1] for g in grades],
        "GRADE": np.array([g[2][0] for g in grades], dtype=np.float64),
        "DIAG": np.array([g[2][1] for g in grades], dtype=bool),
        "INCOMP": np.array([g[2][2] for g in grades], dtype=bool),
        "SRCVAR": [g[2][3] for g in grades], "GRADESRC": "derived", "RPTFBFL": "N"})
    # reported grades: terms without a raw rule, and the R-DER-008 fallback for an episode of a
    # graded term with no raw input on any of its rows
    graded_term = np.isin(term, list(TERM_SETS))
    raw_row = np.zeros(n, dtype=bool)
    for t, cols in RAW_INPUTS.items():
        m = term == t
        if m.any():
            raw_row[m] = _filled(ae.loc[m], cols)
    ep_raw = pd.Series(raw_row).groupby(ae["ae_id"].to_numpy()).transform("any").to_numpy()
    rep = ae["reported_grade"].to_numpy(dtype=np.float64, na_value=np.nan) \
        if "reported_grade" in ae else np.full(n, np.nan)
    scale = ae["reported_grade_scale"].to_numpy(dtype=object) if "reported_grade_scale" in ae \
        else np.full(n, None, dtype=object)
    fallback = graded_term & ~ep_raw & ~np.isnan(rep)
    ep_fb = pd.Series(fallback).groupby(ae["ae_id"].to_numpy()).transform("any").to_numpy()
    long = long[~ep_fb[long["_i"].to_numpy()]]
    use_rep = ~graded_term | fallback
    r_i = np.flatnonzero(use_rep)
    reported = pd.DataFrame({
        "_i": r_i,
        "CRITSET": [s if isinstance(s, str) else "unknown" for s in scale[r_i]],
        "GRADE": rep[r_i], "DIAG": np.nan_to_num(rep[r_i]) >= 1,
        "INCOMP": np.isnan(rep[r_i]), "SRCVAR": "reported_grade", "GRADESRC": "reported",
        "RPTFBFL": np.where(graded_term[r_i], "Y", "N")})
    long = pd.concat([long, reported], ignore_index=True)
    return _aggregate(long, ae, li, obs, onset, meta)


def _sos_keys(ae: pd.DataFrame, k: npt.NDArray[np.intp], t0: npt.NDArray[np.datetime64],
              obs: npt.NDArray[np.datetime64], onset: npt.NDArray[np.datetime64],
              transplants: pd.DataFrame | None) -> list[tuple[Hashable, ...]]:
    """Inputs of ``diagnose_sos_vod`` per AE row: day from HSCT day 0 (``hsct_id``) or else from
    the line start (InO first dose), series features within the episode (bilirubin rising on 3
    consecutive days; doubling within 48 h), ratios to ULN and baseline."""
    sub = ae.iloc[k]
    hid = sub["hsct_id"].to_numpy(dtype=object) if "hsct_id" in sub \
        else np.full(len(k), None, dtype=object)
    has_h = np.array([isinstance(x, str) for x in hid], dtype=bool)
    ref_day = t0[k].copy()
    if transplants is not None and len(transplants) and has_h.any():
        hd = transplants.drop_duplicates("hsct_id").set_index("hsct_id")["hsct_date__lo"]
        hdates = pd.to_datetime(hd.reindex(hid[has_h])).to_numpy(dtype="datetime64[D]")
        ok = ~np.isnat(hdates)
        idx = np.flatnonzero(has_h)
        ref_day[idx[ok]] = hdates[ok]
        has_h[idx[~ok]] = False
    day = (obs[k] - ref_day).astype("timedelta64[D]").astype(np.float64)
    day = np.where(np.isnan(day) | (day < 0), 0, day).astype(np.int64)
    ref = np.where(has_h, "hsct", "ino_first_dose")
    since = (obs[k] - onset[k]).astype("timedelta64[D]").astype(np.float64)
    # series within the episode (rows are sorted by ae_id, obs_date)
    ep = sub["ae_id"].to_numpy(dtype=object)
    b = sub["bilirubin"].to_numpy(dtype=np.float64, na_value=np.nan) if "bilirubin" in sub \
        else np.full(len(k), np.nan)
    d = obs[k].astype("datetime64[D]").astype(np.int64)

    def back(arr: npt.NDArray[Any], s: int, fill: Any) -> npt.NDArray[Any]:
        out = np.full(len(arr), fill, dtype=arr.dtype)
        if len(arr) > s:
            out[s:] = arr[:-s]
        same = np.zeros(len(arr), dtype=bool)
        if len(arr) > s:
            same[s:] = ep[s:] == ep[:-s]
        return np.where(same, out, fill)

    b1, b2 = back(b, 1, np.nan), back(b, 2, np.nan)
    d1, d2 = back(d, 1, -(10 ** 9)), back(d, 2, -(10 ** 9))
    c1, c2 = d1 == d - 1, d2 == d - 2
    rise_known = c1 & c2 & ~np.isnan(b) & ~np.isnan(b1) & ~np.isnan(b2)
    rising = [bool(x) if kn else None
              for x, kn in zip((b > b1) & (b1 > b2), rise_known, strict=True)]
    w1, w2 = (d - d1 <= 2) & ~np.isnan(b1), (d - d2 <= 2) & ~np.isnan(b2)
    with np.errstate(invalid="ignore"):
        dbl_hit = (w1 & (b >= 2 * b1)) | (w2 & (b >= 2 * b2))
    dbl = [True if h else (False if (x1 or x2) and bb == bb else None)
           for h, x1, x2, bb in zip(dbl_hit, w1, w2, b, strict=True)]
    alt, ast = _num(sub, "alt"), _num(sub, "ast")
    alt_u, ast_u = _num(sub, "alt_uln"), _num(sub, "ast_uln")
    tx: list[float | None] = []
    for a_, au, s_, su in zip(alt, alt_u, ast, ast_u, strict=True):
        r = [v / u for v, u in ((a_, au), (s_, su)) if v is not None and u]
        tx.append(max(r) if r else None)
    cr = [c / cb if c is not None and cb else None
          for c, cb in zip(_num(sub, "creatinine"), _num(sub, "creatinine_baseline"),
                           strict=True)]
    hvpg = _num(sub, "hvpg_mmhg")
    dop = _tri(sub, "doppler_sos_findings")
    hemo = [True if (x is True or (h is not None and h >= 10)) else
            (False if x is False else None) for x, h in zip(dop, hvpg, strict=True)]
    dev = _code(sub, "oxygen_device")
    vent = [None if v is None else v in ("cpap", "bipap", "mechanical_ventilation") for v in dev]
    return list(zip(
        day.tolist(), ref.tolist(), _num(sub, "bilirubin"), _tri(sub, "hepatomegaly"),
        _tri(sub, "hepatomegaly_painful"), _tri(sub, "ruq_pain"), _code(sub, "ascites", _ASC),
        _num(sub, "weight_kg"), _num(sub, "baseline_weight_kg"),
        _tri(sub, "weight_gain_3d_despite_diuretics"), _tri(sub, "plt_transfusion_refractory"),
        _num(sub, "refractory_thrombocytopenia_days"), rising, _tri(sub, "histology_proven"),
        hemo, [None if x != x else max(float(x), 0.0) for x in since], dbl, tx, cr,
        _num(sub, "egfr"), _num(sub, "o2_flow_l_min"), vent, _code(sub, "coagulation", _COAG),
        _tri(sub, "new_cognitive_impairment"), strict=True))


def _aggregate(long: pd.DataFrame, ae: pd.DataFrame, li: pd.DataFrame,
               obs: npt.NDArray[np.datetime64], onset: npt.NDArray[np.datetime64],
               meta: Mapping[str, Any]) -> pd.DataFrame:
    """Rows × sets -> patient-line × term × set: the worst row (diagnosed, then grade, then
    earliest observation) of the worst episode (then earliest onset) sets MAXGRADE, ONSETDT and
    the provenance; INCOMPFL if any row could be higher and MAXGRADE is below the top grade."""
    if long.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TOX_COLUMNS})
    i = long["_i"].to_numpy()
    term = ae["ae_term"].to_numpy(dtype=object)[i]
    oth = ae["ae_term_other"].to_numpy(dtype=object)[i] if "ae_term_other" in ae \
        else np.full(len(i), None, dtype=object)
    long = long.assign(
        LINEID=ae["line_id"].to_numpy(dtype=object)[i], TERM=term,
        TERMOTH=[o if t == "other" and isinstance(o, str) else "" for t, o in
                 zip(term, oth, strict=True)],
        AEID=ae["ae_id"].to_numpy(dtype=object)[i], _obs=obs[i], _onset=onset[i],
        _g=np.nan_to_num(long["GRADE"].to_numpy(dtype=np.float64), nan=0.5))
    keys = ["LINEID", "TERM", "TERMOTH", "CRITSET"]
    long = long.sort_values([*keys, "DIAG", "_g", "_onset", "AEID", "_obs"],
                            ascending=[True] * 4 + [False, False, True, True, True],
                            kind="stable")
    grp = long.groupby(keys, sort=False)
    nep = grp["AEID"].nunique().to_numpy()
    inc = grp["INCOMP"].any().to_numpy()
    top = long.drop_duplicates(keys).reset_index(drop=True)
    ae_ids = ae["ae_obs_id"].to_numpy(dtype=object)
    ae_rows = ae["_row"].to_numpy(dtype=np.int64) if "_row" in ae else np.zeros(len(ae), np.int64)
    ti = top["_i"].to_numpy()
    lrow = li.reindex(top["LINEID"].to_numpy(dtype=object))
    vod_primary = [default_vod_set(a, meta) for a in
                   lrow["AGE"].to_numpy(dtype=np.float64, na_value=np.nan)]
    tt = top["TERM"].to_numpy(dtype=object)
    cs = top["CRITSET"].to_numpy(dtype=object)
    derived_sets = [TERM_SETS.get(t, ()) for t in tt]
    prim = [c == (v if t == "sos_vod" else PRIMARY_SET.get(t)) or c not in ds
            for t, c, v, ds in zip(tt, cs, vod_primary, derived_sets, strict=True)]
    grade = top["GRADE"].to_numpy(dtype=np.float64)
    diag = top["DIAG"].to_numpy(dtype=bool)
    no_sev = np.isin(cs, ["modified_seattle", "baltimore"])
    incompl = inc & ~(np.nan_to_num(grade) >= _TOP) & ~(no_sev & diag)
    return pd.DataFrame({
        "STUDYID": lrow["STUDYID"].to_numpy(dtype=object),
        "USUBJID": lrow["USUBJID"].to_numpy(dtype=object),
        "SUBJID": lrow["SUBJID"].to_numpy(dtype=object), "LINEID": top["LINEID"].to_numpy(),
        "INDEXFL": lrow["INDEXFL"].to_numpy(dtype=np.int64),
        "REGIMEN": lrow["REGIMEN"].to_numpy(dtype=object), "TERM": tt,
        "TERMOTH": top["TERMOTH"].to_numpy(dtype=object), "CRITSET": cs,
        "PRIMFL": np.where(prim, "Y", "N"),
        "MAXGRADE": pd.array([None if g != g else int(g) for g in grade], dtype="Int64"),
        "DIAGFL": np.where(diag, "Y", "N"),
        "ONSETDT": top["_onset"].to_numpy().astype("datetime64[ns]"),
        "NEPIS": nep.astype(np.int64), "INCOMPFL": np.where(incompl, "Y", "N"),
        "GRADESRC": top["GRADESRC"].to_numpy(dtype=object),
        "RPTFBFL": top["RPTFBFL"].to_numpy(dtype=object), "AEID": top["AEID"].to_numpy(),
        "SRCDOM": "adverse_events", "SRCVAR": top["SRCVAR"].to_numpy(dtype=object),
        "SRCID": ae_ids[ti], "SRCROW": pd.array(ae_rows[ti], dtype="Int64"),
    })[TOX_COLUMNS]
