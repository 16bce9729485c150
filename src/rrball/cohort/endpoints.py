"""Derived analysis datasets: ADSL-like (§5.2) and ADTTE-like (§5.3) of data-dictionary.md.

Response per assessment comes from ``rrball.clinical.derive_response`` (CR §3.4) with the metadata
``criteria_set``; best response, response date, relapse, censoring and CNSR codes follow §5.1 and
§5.3 (rules 1–4 and the ties table). Every date carries provenance (SRCDOM, SRCVAR, SRCID, SRCROW).
Pure: typed tables in, DataFrames out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rrball.clinical import (
    Assessment,
    BaselineStateResult,
    ResponseResult,
    baseline_disease_state,
    derive_response,
)
from rrball.cohort import toxicity as _tx

__all__ = ["DAYS_PER_MONTH", "DRUG_GROUPS", "RESPONDERS", "adsl", "adtte", "derive",
           "response_table", "toxicity"]

DAYS_PER_MONTH = 30.4375
_CRF = ("CR", "CRh", "CRp", "CRi")
# CR §5.2 responder lists; sets without a stated list use the CR family (PROPOSED).
RESPONDERS: Mapping[str, tuple[str, ...]] = {
    "mdacc_seed003": ("CR", "CRp", "CRi"),
    "blincyto_trials": ("CR", "CRh"),
    "besponsa_label": ("CR", "CRi"),
    "seed000": ("CR",),
}
_RANK = {"CR": 8, "CRh": 7, "CRp": 6, "CRi": 5, "PR": 4, "BM_BLAST_FREE_NO_RECOVERY": 3,
         "NO_RESPONSE": 2, "REFRACTORY": 2, "PROGRESSIVE_DISEASE": 1}
_MRD_RANK = {"_MRDNEG": 3, "_MRDNEG_LOWSENS": 2, "_MRDUNK": 2, None: 2, "_MRDPOS_LOW": 1,
             "_MRDPOS": 1}
_BLINA = {"blinatumomab_rr_us", "blinatumomab_mrd_us", "blinatumomab_seed000",
          "blinatumomab_other"}
_INO = {"inotuzumab_us", "inotuzumab_seed000", "inotuzumab_seed004_peds", "inotuzumab_other"}
_MRD_SAMPLE = {"bm": "BM", "pb": "PB"}
# §5.2 DRUGGRP: regimen code -> group (other regimens: empty)
DRUG_GROUPS: Mapping[str, str] = {
    **{r: "blinatumomab" for r in sorted(_BLINA)}, **{r: "inotuzumab" for r in sorted(_INO)},
    "mini_hcvd_ino": "mini_hcvd_ino", "mini_hcvd_ino_blina": "mini_hcvd_ino_blina"}
_REL_STATUS = ("haematological_relapse", "mrd_positive", "isolated_emd_relapse",
               "refractory_relapse")
_SITE = {"cns": "cns", "testis": "testis"}


@lru_cache(maxsize=200_000)
def _derive(a: Assessment, criteria_set: str, prior: str | None, prior_neg: bool,
            lowsens: bool) -> ResponseResult:
    # Assessment is frozen and hashable; the date is stripped by the caller so equal
    # measurements share one derivation (derive_response is pure).
    return derive_response(a, criteria_set=criteria_set, prior_state=prior,
                           prior_mrd_negative=prior_neg, mrd_lowsens_counts_negative=lowsens)


def _baseline(a: Assessment, criteria_set: str, ever_in_cr: bool | None,
              remission_number: int | None, lowsens: bool) -> BaselineStateResult:
    """CR §3.3 pre-treatment state (B1-B6) of the baseline assessment (``BLSTATD``)."""
    return baseline_disease_state(a, criteria_set=criteria_set, ever_in_cr=ever_in_cr,
                                  remission_number=remission_number,
                                  mrd_lowsens_counts_negative=lowsens)


_REMISSION_NUMBER = {"cr1": 1, "cr2": 2, "cr3plus": 3}


def _ever_in_cr(primary_refractory: object, relapse_number: object, status: object) -> bool | None:
    """History for rule B2 vs B3 (CR §3.3): in CR-family at least once before the line? Yes
    after any relapse or for a line started in remission; no for a primary-refractory patient
    without relapse; unknown otherwise."""
    if primary_refractory == "no" or status in ("mrd_positive", "cr_mrd_negative"):
        return True
    rel = _f(relapse_number)
    if rel is not None and rel >= 1:
        return True
    if primary_refractory == "yes":
        return False
    return None


def _f(x: Any) -> float | None:
    return None if x is None or x != x else float(x)


def _b(x: Any) -> bool | None:
    return None if x is None or x != x or x == "unknown" else x == "yes"


def _assessment(r: Any) -> Assessment:
    unit = r["mrd_unit"] if isinstance(r["mrd_unit"], str) else None
    has_mrd = r["mrd_value"] == r["mrd_value"] or r["mrd_lod"] == r["mrd_lod"]
    return Assessment(
        bm_blast_pct=_f(r["bm_blast_pct"]), bm_sample_adequate=_b(r["bm_sample_adequate"]),
        pb_blasts=_b(r["pb_blasts"]), pb_blast_abs=_f(r["pb_blast_abs"]), anc=_f(r["anc"]),
        plt=_f(r["plt"]), plt_transfusion_independent=_b(r["plt_transfusion_independent"]),
        emd=r["emd"] if isinstance(r["emd"], str) else None,
        mrd_detected=_b(r["mrd_detected"]),
        mrd_value=_f(r["mrd_value"]), mrd_lod=_f(r["mrd_lod"]),
        mrd_scale="fraction" if has_mrd and unit in (None, "fraction_of_nucleated_cells")
        else None,
        mrd_unit=unit,
        mrd_method=r["mrd_method"] if isinstance(r["mrd_method"], str) else None,
        mrd_sample=_MRD_SAMPLE.get(r["mrd_sample"]) if isinstance(r["mrd_sample"], str)
        else None,
    )


def _days(s: pd.Series) -> npt.NDArray[np.float64]:
    v = s.to_numpy(dtype="datetime64[D]").astype("int64").astype(np.float64)
    v[pd.isna(s).to_numpy()] = np.inf
    return v


def response_table(t: Mapping[str, pd.DataFrame], meta: Mapping[str, Any]) -> pd.DataFrame:
    """One row per index line × assessment after t0: derived status in date order (CR §3.4)."""
    return _derive_all(t, meta)[1]


def derive(t: Mapping[str, pd.DataFrame], meta: Mapping[str, Any],
           tox: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ADSL, response table) of one derivation (``adsl`` and ``response_table`` together)."""
    return _derive_all(t, meta, tox)


def adsl(t: Mapping[str, pd.DataFrame], meta: Mapping[str, Any],
         tox: pd.DataFrame | None = None) -> pd.DataFrame:
    """ADSL-like table, one row per patient × index line (§5.2), with date provenance.
    ``tox``: the ``toxicity`` table when already computed (CRSMAXG, ICANSMXG, VODFL)."""
    return _derive_all(t, meta, tox)[0]


def _imp(df: pd.DataFrame | None, col: str) -> npt.NDArray[np.bool_]:
    """R-DER-007: the date in ``col`` was imputed from a partial date (``{col}__imp``, §2.1)."""
    if df is None:
        return np.zeros(0, dtype=bool)
    if f"{col}__imp" in df:
        return np.asarray(df[f"{col}__imp"].fillna(False).to_numpy(dtype=bool), dtype=bool)
    if f"{col}__prec" in df:  # pdate: anything but day precision is imputed
        prec = df[f"{col}__prec"].to_numpy(dtype=object)
        return np.asarray((prec != "D") & df[col].notna().to_numpy(), dtype=bool)
    return np.zeros(len(df), dtype=bool)


def toxicity(t: Mapping[str, pd.DataFrame], meta: Mapping[str, Any]) -> pd.DataFrame:
    """``Cohort.toxicity()`` (§5.2, CR §4.3): one row per patient-line × AE term × criteria set,
    graded from the raw AE columns (``rrball.cohort.toxicity``). Lines are those named by the
    AE rows' ``line_id``; AGE is the completed age at that line's start (§0)."""
    ae = t.get("adverse_events")
    if ae is None or ae.empty:
        return _tx.toxicity_table(None, pd.DataFrame(), None, meta)
    study = str(meta.get("study_code", ""))
    tl = t["treatment_lines"]
    tl = tl[tl["line_id"].isin(ae["line_id"])].reset_index(drop=True)
    p = t["patients"].drop_duplicates("patient_id").set_index("patient_id")
    pid = tl["patient_id"].to_numpy(dtype=object)
    age, _ = _ages(p.reindex(pid), tl["line_start_date"])
    lines = pd.DataFrame({
        "LINEID": tl["line_id"].to_numpy(dtype=object), "STUDYID": study,
        "USUBJID": [f"{study}-{x}" for x in pid], "SUBJID": pid,
        "REGIMEN": tl["regimen"].to_numpy(dtype=object), "T0": tl["line_start_date"].to_numpy(),
        "AGE": age, "INDEXFL": (tl["index_line"] == "yes").to_numpy(dtype=np.int64)})
    return _tx.toxicity_table(ae, lines, t.get("transplants"), meta)


def _day_array(s: pd.Series) -> npt.NDArray[np.float64]:
    """Dates as float days since 1970-01-01 (NaT -> +inf)."""
    return _days(s)


def _to_dates(days: npt.NDArray[np.float64]) -> npt.NDArray[np.datetime64]:
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = np.isfinite(days)
    out[ok] = days[ok].astype(np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    return out


def _first_per_line(lines: pd.DataFrame, rows: pd.DataFrame, date_col: str,
                    after: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """Position in ``rows`` of the earliest row of each line's patient dated strictly after
    ``after`` (ties: file order), or -1. ``lines`` has ``patient_id`` and a ``_k`` position."""
    out = np.full(len(lines), -1, dtype=np.intp)
    if rows.empty or lines.empty:
        return out
    left = pd.DataFrame({"patient_id": lines["patient_id"].to_numpy(dtype=object),
                         "_k": np.arange(len(lines)), "_after": after})
    right = pd.DataFrame({"patient_id": rows["patient_id"].to_numpy(dtype=object),
                          "_j": np.arange(len(rows)), "_d": _days(rows[date_col])})
    m = left.merge(right, on="patient_id", how="inner", sort=False)
    m = m[m["_d"] > m["_after"]]
    if m.empty:
        return out
    m = m.sort_values(["_k", "_d", "_j"], kind="stable").drop_duplicates("_k")
    out[m["_k"].to_numpy()] = m["_j"].to_numpy()
    return out


_A_FIELDS = ("bm_blast_pct", "bm_sample_adequate", "pb_blasts", "pb_blast_abs", "anc", "plt",
             "plt_transfusion_independent", "emd", "mrd_detected", "mrd_value", "mrd_lod",
             "mrd_scale", "mrd_unit", "mrd_method", "mrd_sample")
_FLOATS = {"bm_blast_pct", "pb_blast_abs", "anc", "plt", "mrd_value", "mrd_lod"}
_BOOLS = {"bm_sample_adequate", "pb_blasts", "plt_transfusion_independent", "mrd_detected"}


def _assessment_keys(asm: pd.DataFrame) -> tuple[list[int], list[Assessment]]:
    """Each assessment's clinical inputs (``_assessment``) as an id into a list of distinct
    ``Assessment`` objects (equal measurements share one derivation).

    Ids are numbered in order of first appearance and each object is built from the first row
    with its inputs, as a dict keyed by the tuple of inputs would give; rows are grouped by
    combining per-column integer codes (equal floats, including 0.0 and -0.0, share a code; a
    missing value has its own code) instead of hashing a tuple per row."""
    n = len(asm)
    cols: dict[str, npt.NDArray[np.object_]] = {}
    key = np.zeros(n, dtype=np.int64)

    def combine(codes: npt.NDArray[np.int64], m: int) -> None:
        # codes in -1..m-1 (-1: missing); keep the combined key dense so it cannot overflow
        nonlocal key
        key = np.asarray(pd.factorize(key * (m + 1) + codes + 1)[0], dtype=np.int64)

    for name in _A_FIELDS:
        if name == "mrd_scale":  # a function of mrd_value, mrd_lod and mrd_unit (below)
            continue
        if name not in asm:
            cols[name] = np.full(n, None, dtype=object)
            continue
        s = asm[name]
        if name in _FLOATS:
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            obj = v.astype(object)
            obj[np.isnan(v)] = None
            codes, uniq = pd.factorize(v)  # NaN -> -1
            combine(np.asarray(codes, dtype=np.int64), len(uniq))
        elif name in _BOOLS:
            a = s.to_numpy(dtype=object)
            obj = np.full(n, None, dtype=object)
            yes, no = a == "yes", a == "no"
            obj[yes] = True
            obj[no] = False
            combine(np.where(yes, 0, np.where(no, 1, -1)).astype(np.int64), 2)
        else:
            # validated code columns hold a code string or a missing value
            if name == "mrd_sample":
                s = s.map(_MRD_SAMPLE)
            obj = s.to_numpy(dtype=object).copy()
            obj[~s.notna().to_numpy()] = None
            codes, uniq = pd.factorize(obj)  # None -> -1
            combine(np.asarray(codes, dtype=np.int64), len(uniq))
        cols[name] = obj
    mv = ~pd.isna(cols["mrd_value"])  # the float columns hold floats or None
    ml = ~pd.isna(cols["mrd_lod"])
    unit = cols["mrd_unit"]  # code strings or None
    frac = pd.isna(unit) | (unit == "fraction_of_nucleated_cells")
    scale = np.full(n, None, dtype=object)
    scale[(mv | ml) & frac] = "fraction"
    cols["mrd_scale"] = scale
    ids = key if n else np.zeros(0, dtype=np.int64)
    _, first = np.unique(ids, return_index=True)  # ids are 0..k-1 in order of appearance
    objs = [Assessment(**{f: cols[f][j] for f in _A_FIELDS}) for j in first]
    return ids.tolist(), objs


def _derive_all(t: Mapping[str, pd.DataFrame], meta: Mapping[str, Any],
                tox: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    cs = str(meta["criteria_set"])
    responders = RESPONDERS.get(cs, _CRF)
    lowsens = bool(meta.get("mrd_lowsens_counts_negative", False))
    mol = bool(meta.get("molecular_relapse_is_relapse", False))
    rsrc = meta.get("relapse_source", "both")
    bwd = int(meta.get("baseline_window_days", 30))
    rwd_meta = meta.get("response_window_days")
    study = str(meta.get("study_code", ""))
    p = t["patients"].drop_duplicates("patient_id").set_index("patient_id")
    tl = t["treatment_lines"]
    asm = t.get("assessments")
    if asm is None:
        asm = pd.DataFrame({"patient_id": pd.Series(dtype=object),
                            "assessment_date": pd.Series(dtype="datetime64[ns]")})
    fu = t["follow_up"]
    hx = t.get("transplants")
    idx = tl[tl["index_line"] == "yes"].reset_index(drop=True)
    n = len(idx)
    pid = idx["patient_id"].to_numpy(dtype=object)
    pt = p.reindex(pid)
    t0 = _days(idx["line_start_date"])
    line_id = idx["line_id"].to_numpy(dtype=object)
    line_row = idx["_row"].to_numpy(dtype=np.int64)

    # patient-level events (§5.1): first death and first last-contact row per patient
    def first_event(kind: str) -> pd.DataFrame:
        ev = fu[fu["event_type"] == kind].drop_duplicates("patient_id")
        return ev.set_index("patient_id").reindex(pid)

    dth_ev = first_event("death")
    lc_ev = first_event("last_contact")
    dth = _days(dth_ev["event_date"])
    has_dth = np.isfinite(dth)
    lc = _days(lc_ev["event_date"])
    # next line and first allogeneic HSCT after t0 (earliest; ties in file order)
    nxt_j = _first_per_line(idx, tl, "line_start_date", t0)
    nxt = np.where(nxt_j >= 0, _days(tl["line_start_date"])[nxt_j], np.inf)
    if hx is not None and len(hx):
        allo = hx[hx["hsct_type"] == "allogeneic"]
        hs_j = _first_per_line(idx, allo, "hsct_date__lo", t0)
        hs = np.where(hs_j >= 0, _days(allo["hsct_date__lo"])[hs_j], np.inf)
    else:
        allo = pd.DataFrame()
        hs_j = np.full(n, -1, dtype=np.intp)
        hs = np.full(n, np.inf)
    regimen = idx["regimen"].to_numpy(dtype=object)
    if rwd_meta is not None:
        rwd = np.full(n, float(int(rwd_meta)))
    else:
        rwd = np.array([84.0 if r in _BLINA else (77.0 if r in _INO else np.inf)
                        for r in regimen])
    wend = np.minimum.reduce([lc, t0 + rwd, nxt - 1, hs - 1, dth])

    # assessments sorted by patient then date (ties in file order)
    # patient code = position in ``p`` (unique ids), -1 for an id not in patients
    p_index = pd.Index(p.index, dtype=object)
    a_p = np.asarray(p_index.get_indexer(asm["patient_id"].to_numpy(dtype=object)),
                     dtype=np.int64)
    a_d = _days(asm["assessment_date"])
    order = np.lexsort((np.arange(len(asm)), a_d, a_p))
    asm = asm.iloc[order].reset_index(drop=True)
    a_p, a_d = a_p[order], a_d[order]
    base_off = 1 << 22  # day offset so that keys stay positive and ordered
    a_key = a_p * (1 << 24) + (a_d.astype(np.int64) + base_off)
    l_code = np.asarray(p_index.get_indexer(pid), dtype=np.int64)
    if (l_code < 0).any():  # every index line's patient is in patients (KeyError as before)
        raise KeyError(pid[np.flatnonzero(l_code < 0)[0]])
    l_p = l_code * (1 << 24)

    def key(days: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        return np.asarray(l_p + (days.astype(np.int64) + base_off), dtype=np.int64)

    lc_fin = np.where(np.isfinite(lc), lc, 1 << 21)
    lo_base = np.searchsorted(a_key, key(t0 - bwd), "left")
    hi_base = np.searchsorted(a_key, key(t0), "right")
    hi_post = np.maximum(np.searchsorted(a_key, key(lc_fin), "right"), hi_base)
    first_pt = np.searchsorted(a_key, l_p, "left")
    bl_j = np.where(hi_base > lo_base, hi_base - 1, -1)
    last_le_lc = np.searchsorted(a_key, key(lc_fin), "right") - 1
    las_j = np.where(last_le_lc >= first_pt, last_le_lc, -1)

    a_ids, a_objs = _assessment_keys(asm)
    emd_none = (asm["emd"].to_numpy(dtype=object) == "none").tolist() if "emd" in asm \
        else [False] * len(asm)
    day_l = a_d.tolist()
    cache: dict[tuple[int, str | None, bool], ResponseResult] = {}

    def derive(aid: int, state: str | None, neg: bool) -> ResponseResult:
        k = (aid, state, neg)
        r = cache.get(k)
        if r is None:
            r = cache[k] = _derive(a_objs[aid], cs, state, neg, lowsens)
        return r

    status_l = idx["disease_status_at_start"].to_numpy(dtype=object).tolist()
    blstatd: list[str] = []
    best_j = np.full(n, -1, dtype=np.intp)
    best_lv: list[str | None] = [None] * n
    best_mrd: list[str | None] = [None] * n
    respdt = np.full(n, np.inf)
    resp_j = np.full(n, -1, dtype=np.intp)
    reldt_d = np.full(n, np.inf)
    reld_j = np.full(n, -1, dtype=np.intp)
    flags = np.zeros((n, 5), dtype=bool)  # in_rem, any_eval, mrd_eval, mrd_neg, mrd_neg_emd
    neg_end = np.zeros(n, dtype=bool)
    r_res: list[ResponseResult] = []  # one per (line, assessment j in its follow-up range)
    t0_l, wend_l, hs_l = t0.tolist(), wend.tolist(), hs.tolist()
    rel_lv: list[str | None] = [None] * n  # level of the derived relapse (RELSITE)
    relh_j = np.full(n, -1, dtype=np.intp)  # first derived relapse after HSCT day 0
    hsctstat: list[str | None] = [None] * n
    prim_l = pt["primary_refractory"].to_numpy(dtype=object).tolist()
    reln_l = idx["relapse_number"].to_numpy(dtype=object).tolist()
    remn_l = idx["remission_number_at_start"].to_numpy(dtype=object).tolist()
    bl_cache: dict[tuple[int, bool | None, int | None], str] = {}
    for i in range(n):
        b = int(bl_j[i])
        bl_res = derive(a_ids[b], None, False) if b >= 0 else None
        if b >= 0:
            bkey = (a_ids[b], _ever_in_cr(prim_l[i], reln_l[i], status_l[i]),
                    _REMISSION_NUMBER.get(str(remn_l[i])))
            if bkey not in bl_cache:
                bl_cache[bkey] = _baseline(a_objs[bkey[0]], cs, bkey[1], bkey[2],
                                           lowsens).state
            blstatd.append(bl_cache[bkey])
        else:
            blstatd.append("NOT_EVALUABLE")
        pre_hs = bl_res if bl_res is not None and bl_res.level not in (
            "NOT_EVALUABLE", "INDETERMINATE") else None
        h_i = hs_l[i]
        status = status_l[i]
        in_rem = status in ("mrd_positive", "cr_mrd_negative")
        state: str | None = "CR" if in_rem else None
        neg = status == "cr_mrd_negative"
        best: tuple[int, int, float] | None = None
        rdt = t0_l[i] if in_rem else np.inf
        we = wend_l[i]
        any_eval = mrd_eval = mrd_neg = mrd_neg_emd = False
        for j in range(int(hi_base[i]), int(hi_post[i])):
            res = cache.get((a_ids[j], state, neg))  # derive() without the call
            if res is None:
                res = derive(a_ids[j], state, neg)
            d = day_l[j]
            in_win = d <= we
            r_res.append(res)
            level = res.level
            is_resp = res.is_response  # a property of the level: read once
            if level not in ("NOT_EVALUABLE", "INDETERMINATE"):
                if in_win:
                    any_eval = True
                    if level in _RANK:
                        rank = (_RANK[level], _MRD_RANK.get(res.mrd_suffix, 2), -d)
                        if best is None or rank > best:
                            best = rank
                            best_j[i], best_lv[i], best_mrd[i] = j, level, res.mrd_suffix
                    if is_resp and rdt == np.inf:
                        rdt, resp_j[i] = d, j
                if d < h_i:
                    pre_hs = res
                if is_resp:
                    neg = (neg and state in _CRF) or bool(res.mrd_negative)
                elif res.is_relapse:
                    neg = False
                    if mol or level != "MOLECULAR_RELAPSE":
                        if rdt != np.inf and d > rdt and reld_j[i] < 0:
                            reldt_d[i], reld_j[i], rel_lv[i] = d, j, level
                        if d > h_i and relh_j[i] < 0:
                            relh_j[i] = j
                state = level
            if in_win and is_resp and res.mrd_suffix not in (None, "_MRDUNK"):
                mrd_eval = True
                if res.mrd_negative:
                    mrd_neg = True
                    mrd_neg_emd = mrd_neg_emd or emd_none[j]
        respdt[i] = rdt
        if h_i != np.inf:
            hsctstat[i] = pre_hs.status if pre_hs is not None and pre_hs.level in _CRF \
                else "active_disease"
        flags[i] = (in_rem, any_eval, mrd_eval, mrd_neg, mrd_neg_emd)
        neg_end[i] = neg
    in_rem_a, any_eval_a, mrd_eval_a, mrd_neg_a, mrd_neg_emd_a = flags.T
    bestresp = np.array(["CR" if in_rem_a[i] else (best_lv[i] or "NOT_EVALUABLE")
                         for i in range(n)], dtype=object)
    respfl = in_rem_a | (np.isin(bestresp, list(responders)) & np.isfinite(respdt))
    respdt = np.where(respfl, respdt, np.inf)

    # relapse (§5.1): reported and/or derived, first date > RESPDT; reported first on ties
    rel_fu = fu[fu["event_type"] == "relapse"]
    if not mol:
        rel_fu = rel_fu[rel_fu["relapse_sites"] != "molecular"]
    use_rep = rsrc in ("reported", "both")
    use_der = rsrc in ("derived", "both")

    def first_relapse(after: npt.NDArray[np.float64], der_j: npt.NDArray[np.intp],
                      ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp],
                                 npt.NDArray[np.bool_]]:
        """Earliest of the first reported relapse > ``after`` and the derived one (``der_j``):
        (date, follow_up position, reported-first flag)."""
        fj = _first_per_line(idx, rel_fu, "event_date", after) if use_rep \
            else np.full(n, -1, dtype=np.intp)
        rep = np.where(fj >= 0, _days(rel_fu["event_date"])[fj], np.inf)
        der = np.where(np.isfinite(after) & (der_j >= 0) & use_der,
                       a_d[np.maximum(der_j, 0)] if len(asm) else np.inf, np.inf)
        return np.minimum(rep, der), fj, rep <= der

    reldt, rel_fu_j, rep_first = first_relapse(respdt, reld_j)
    # post-HSCT relapse (§5.3 OSHCT/DFSHCT/CIRHCT/NRMHCT): first relapse > day 0, whether or
    # not the index line responded
    relh, relh_fu_j, relh_rep = first_relapse(hs, relh_j)
    nlh_j = _first_per_line(idx, tl, "line_start_date", hs)
    nlh = np.where(nlh_j >= 0, _days(tl["line_start_date"])[nlh_j], np.inf)

    # ages (completed years at t0; midpoint imputation of partial birth dates, §2.1)
    age, ageimp = _ages(pt, idx["line_start_date"])
    cut = int(meta.get("age_cut_years", 18))
    child = (age <= cut) if meta.get("age_cut_rule", "le") == "le" else (age < cut)
    # CR1 duration (§2.5, §2.1 midpoint imputation of partial dates; flag D or M)
    fcr_d, fcr_p = _midpoint(pt, "first_cr_date")
    frl_d, frl_p = _midpoint(pt, "first_relapse_date")
    has_cr1 = np.isfinite(fcr_d) & np.isfinite(frl_d)
    with np.errstate(invalid="ignore"):
        cr1_m = (frl_d - fcr_d) / DAYS_PER_MONTH
    cr1 = [float(x) if h else None for x, h in zip(cr1_m, has_cr1, strict=True)]
    cr1imp = [("M" if "Y" in (p1, p2) else "D" if "M" in (p1, p2) else None) if h else None
              for p1, p2, h in zip(fcr_p, frl_p, has_cr1, strict=True)]
    ncyc = idx["n_cycles"].to_numpy(dtype=np.float64, na_value=np.nan)
    salv = idx["salvage_number"].to_numpy(dtype=np.float64, na_value=np.nan)
    status_a = np.asarray(status_l, dtype=object)
    # S1 sub-stratum (seed 003; cr1_cut_months / cr1_cut_rule, CR §3.3)
    c_cut = float(meta.get("cr1_cut_months", 12.0))
    with np.errstate(invalid="ignore"):
        upper = (cr1_m >= c_cut) if meta.get("cr1_cut_rule", "gt") == "ge" else (cr1_m > c_cut)
    prim_ref = (pt["primary_refractory"].to_numpy(dtype=object) == "yes") | \
        (status_a == "primary_refractory")
    s1grp = np.full(n, None, dtype=object)
    s1 = salv == 1
    s1grp[s1 & has_cr1] = np.where(upper, "cr1_ge_cut", "cr1_lt_cut")[s1 & has_cr1]
    s1grp[s1 & prim_ref] = "primary_refractory"
    # seed 000 relapse context
    rel_st = np.isin(status_a, _REL_STATUS)
    prior_allo = idx["prior_allo_hsct"].to_numpy(dtype=object) == "yes"
    relctx = np.full(n, None, dtype=object)
    relctx[rel_st] = "after_chemotherapy"
    relctx[rel_st & prior_allo] = "after_allo_hsct"
    relctx[status_a == "primary_refractory"] = "primary_refractory"
    # baseline MRD, EMD and detectable disease (§5.2; seed 004's 26/27)
    blmrd, blemd, bldet = _baseline_disease(asm, bl_j, idx)
    regimen_grp = [DRUG_GROUPS.get(r) for r in regimen]
    saffl = ~(ncyc == 0)
    respev = saffl & (bldet | (status_a != "cr_mrd_negative"))
    # toxicity maxima (§5.2): CRS/ICANS ASTCT 2019, SOS/VOD under vod_criteria
    if tox is None:
        tox = toxicity(t, meta)
    has_ae = t.get("adverse_events") is not None
    crsmax, icansmax, vodfl = _tox_summary(tox, line_id, age, meta, has_ae)

    def col(df: pd.DataFrame, name: str, j: npt.NDArray[np.intp]) -> list[Any]:
        vals = df[name].to_numpy(dtype=object) if len(df) else np.array([], dtype=object)
        return [vals[x] if x >= 0 else None for x in j]

    def src(table: str, column: str, ids: list[Any], rows: list[Any],
            mask: npt.NDArray[np.bool_], imp: npt.NDArray[np.bool_]) -> list[Any]:
        # provenance (table, column, id, row, imputed R-DER-007)
        return [(table, column, a, int(r), bool(m_)) if m else None
                for a, r, m, m_ in zip(ids, rows, mask, imp, strict=True)]

    a_id = asm["assessment_id"].to_numpy(dtype=object) if len(asm) else np.array([], object)
    a_row = asm["_row"].to_numpy(dtype=np.int64) if len(asm) else np.array([], np.int64)
    a_imp = _imp(asm, "assessment_date") if len(asm) else np.zeros(0, dtype=bool)

    def asrc(j: npt.NDArray[np.intp]) -> list[Any]:
        return [("assessments", "assessment_date", a_id[x], int(a_row[x]), bool(a_imp[x]))
                if x >= 0 else None for x in j]

    def jimp(df: pd.DataFrame, c: str, j: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
        v = _imp(df, c) if len(df) else np.zeros(0, dtype=bool)
        return np.where(j >= 0, v[np.maximum(j, 0)] if len(v) else False, False)

    t0_imp = _imp(idx, "line_start_date")
    t0_src = [("treatment_lines", "line_start_date", a, int(r), bool(m))
              for a, r, m in zip(line_id, line_row, t0_imp, strict=True)]
    resp_a = asrc(resp_j)
    resp_src = [None if not respfl[i] else t0_src[i] if in_rem_a[i] else resp_a[i]
                for i in range(n)]

    def rel_sources(d: npt.NDArray[np.float64], fj: npt.NDArray[np.intp],
                    dj: npt.NDArray[np.intp], rep1: npt.NDArray[np.bool_]) -> list[Any]:
        fsrc = src("follow_up", "event_date", col(rel_fu, "event_id", fj),
                   [0 if x is None else x for x in col(rel_fu, "_row", fj)], fj >= 0,
                   jimp(rel_fu, "event_date", fj))
        dsrc = asrc(dj)
        return [None if not np.isfinite(d[i]) else fsrc[i] if rep1[i] else dsrc[i]
                for i in range(n)]

    rel_src = rel_sources(reldt, rel_fu_j, reld_j, rep_first)
    relh_src = rel_sources(relh, relh_fu_j, relh_j, relh_rep)
    relsite = _relapse_sites(reldt, rep_first, rel_fu, rel_fu_j, rel_lv, asm, reld_j)
    centre = pt["centre_id"].to_numpy(dtype=object)

    def copied(frame: pd.DataFrame, name: str) -> list[Any]:
        return list(frame[name].to_numpy(dtype=object)) if name in frame else [None] * n

    cols: dict[str, Any] = {
        "STUDYID": [study] * n, "USUBJID": [f"{study}-{x}" for x in pid], "SUBJID": list(pid),
        "SITEID": [c if isinstance(c, str) else meta.get("centre_id") for c in centre],
        "LINEID": list(line_id), "REGIMEN": list(regimen), "DRUGGRP": regimen_grp,
        "TRTSDT": _to_dates(t0),
        "TRTEDT": idx["line_end_date"].to_numpy(), "NCYCLES": ncyc,
        "AGE": age, "AGEIMP": ageimp, "AGEGR1": ["child" if c else "adult" for c in child],
        "SEX": list(pt["sex"].to_numpy(dtype=object)),
        "PHSTAT": list(pt["ph_status"].to_numpy(dtype=object)),
        "KMT2A": list(pt["kmt2a_status"].to_numpy(dtype=object)),
        "CYTORISK": list(pt["cytogenetic_risk"].to_numpy(dtype=object)),
        "IKZF1": list(pt["ikzf1_status"].to_numpy(dtype=object)),
        "SALVNUM": salv,
        "SALVGR": [{0: "none", 1: "S1", 2: "S2"}.get(int(s), "S3+") for s in salv],
        "RELNUM": idx["relapse_number"].to_numpy(dtype=np.float64, na_value=np.nan),
        "REMNUM": list(idx["remission_number_at_start"].to_numpy(dtype=object)),
        # reason the index line ended (CDISC DCTREAS; line_end_reason, §2.6)
        "DCTREAS": list(idx["line_end_reason"].to_numpy(dtype=object))
        if "line_end_reason" in idx else [None] * len(idx),
        "CR1DUR": cr1, "CR1DURIMP": cr1imp, "S1GRP": list(s1grp), "RELCTX": list(relctx),
        "BLSTATR": status_l, "BLSTATD": blstatd,
        "BLBMBL": np.where(bl_j >= 0, asm["bm_blast_pct"].to_numpy(
            dtype=np.float64, na_value=np.nan)[bl_j] if len(asm) else np.nan, np.nan),
        "BLMRD": blmrd, "BLEMD": blemd, "BLDETFL": bldet.astype(np.int64),
        "PRIORHSCT": list(idx["prior_allo_hsct"].to_numpy(dtype=object)),
        "PRIORBLIN": list(idx["prior_blinatumomab"].to_numpy(dtype=object)),
        "PRIORINO": copied(idx, "prior_inotuzumab"), "PRIORCART": copied(idx, "prior_car_t"),
        "TKI": list(idx["tki"].to_numpy(dtype=object)), "CRITSET": [cs] * n,
        "BESTRESP": list(bestresp), "BESTMRD": best_mrd,
        "BESTRDT": _to_dates(np.where(best_j >= 0, a_d[best_j] if len(asm) else np.inf,
                                      np.inf)),
        "RESPDT": _to_dates(respdt), "RESPFL": respfl.astype(np.int64),
        "CRFL": (bestresp == "CR").astype(np.int64), "REFRFL": (~respfl).astype(np.int64),
        "EVALFL": (any_eval_a | in_rem_a).astype(np.int64),
        "MRDEVLFL": (respfl & mrd_eval_a).astype(np.int64),
        "MRDNEGFL": (mrd_neg_a | (neg_end & in_rem_a)).astype(np.int64),
        "MRDNEGEMDFL": mrd_neg_emd_a.astype(np.int64),
        "HSCTFL": (hs_j >= 0).astype(np.int64), "HSCTDT": _to_dates(hs), "HSCTSTAT": hsctstat,
        "RELFL": np.isfinite(reldt).astype(np.int64), "RELDT": _to_dates(reldt),
        "RELSITE": relsite,
        "DTHFL": has_dth.astype(np.int64), "DTHDT": _to_dates(dth),
        "DTHCAUS": [c if h else None for c, h in zip(
            dth_ev["death_cause"].to_numpy(dtype=object), has_dth, strict=True)],
        "LSTCNDT": _to_dates(lc),
        "LSTASDT": _to_dates(np.where(las_j >= 0, a_d[las_j] if len(asm) else np.inf, np.inf)),
        "NEXTLNDT": _to_dates(nxt), "WINDEND": _to_dates(wend),
        "CRSMAXG": crsmax, "ICANSMXG": icansmax, "VODFL": vodfl,
        "SAFFL": saffl.astype(np.int64), "RESPEVFL": respev.astype(np.int64),
        # provenance of each date: (table, column, id, row, imputed)
        "_t0_src": t0_src, "_resp_src": resp_src, "_rel_src": rel_src,
        "_dth_src": src("follow_up", "event_date", list(dth_ev["event_id"].to_numpy(
            dtype=object)), list(dth_ev["_row"].fillna(0).to_numpy()), has_dth,
            _imp(dth_ev, "event_date")),
        "_lc_src": src("follow_up", "event_date", list(lc_ev["event_id"].to_numpy(
            dtype=object)), list(lc_ev["_row"].fillna(0).to_numpy()), np.ones(n, bool),
            _imp(lc_ev, "event_date")),
        "_las_src": asrc(las_j),
        "_hs_src": src("transplants", "hsct_date", col(allo, "hsct_id", hs_j),
                       col(allo, "_row", hs_j), hs_j >= 0, jimp(allo, "hsct_date", hs_j)),
        "_nl_src": src("treatment_lines", "line_start_date", col(tl, "line_id", nxt_j),
                       col(tl, "_row", nxt_j), nxt_j >= 0, jimp(tl, "line_start_date", nxt_j)),
        "_refr_src": asrc(best_j),
        # post-HSCT relapse and next line after day 0 (§5.3 post-HSCT parameters)
        "_RELHDT": _to_dates(relh), "_relh_src": relh_src, "_NLHDT": _to_dates(nlh),
        "_nlh_src": src("treatment_lines", "line_start_date", col(tl, "line_id", nlh_j),
                        col(tl, "_row", nlh_j), nlh_j >= 0, jimp(tl, "line_start_date", nlh_j)),
    }
    out = pd.DataFrame(cols) if n else pd.DataFrame()
    # the (line, assessment) pairs of the loop above, in its order: line i, then
    # j = hi_base[i] … hi_post[i] - 1; INWINDOW is its ``day <= WINDEND`` test
    cnt = (hi_post - hi_base).astype(np.intp)
    r_i = np.repeat(np.arange(n, dtype=np.intp), cnt)
    r_j = (np.arange(int(cnt.sum()), dtype=np.intp)
           - np.repeat(np.cumsum(cnt) - cnt - hi_base.astype(np.intp), cnt))
    r_win = a_d[r_j] <= wend[r_i] if len(r_j) else np.zeros(0, dtype=bool)
    resp = pd.DataFrame({
        "LINEID": line_id[r_i], "ASSESSID": a_id[r_j] if len(r_j) else [],
        "ADT": _to_dates(a_d[r_j]) if len(r_j) else [],
        "STATUS": [r.status for r in r_res], "LEVEL": [r.level for r in r_res],
        "RULEID": [r.rule_id for r in r_res], "INWINDOW": r_win,
        "SRCROW": a_row[r_j] if len(r_j) else []}) if len(r_res) else pd.DataFrame()
    return out, resp


def _midpoint(pt: pd.DataFrame, name: str) -> tuple[npt.NDArray[np.float64],
                                                   npt.NDArray[np.object_]]:
    """A pdate as days (§2.1 midpoint: missing day -> 15th, missing month and day -> 1 July;
    missing -> nan) and its precision (``D``, ``M``, ``Y``)."""
    lo = pd.DatetimeIndex(pt[f"{name}__lo"])
    prec = pt[f"{name}__prec"].to_numpy(dtype=object)
    days = np.asarray(_days(pd.Series(lo)), dtype=np.float64)
    july = pd.to_datetime(pd.DataFrame({"year": lo.year.fillna(1970).astype(int), "month": 7,
                                        "day": 1}))
    days = np.where(prec == "M", days + 14, np.where(prec == "Y", _days(july), days))
    days[~np.isfinite(days) | pd.isna(lo)] = np.nan
    return days, prec


def _baseline_disease(asm: pd.DataFrame, bl_j: npt.NDArray[np.intp], idx: pd.DataFrame,
                      ) -> tuple[npt.NDArray[np.float64], list[str | None],
                                 npt.NDArray[np.bool_]]:
    """BLMRD, BLEMD, BLDETFL (§5.2) from the baseline assessment (the one of BLBMBL): MRD as a
    cell fraction (0 when not detected without a value; empty for transcript ratios or
    copies); EMD code, else ``emd_at_start`` (1 -> present, 0 -> none); detectable disease =
    BM blasts > 0, MRD detected or EMD present/new (or ``emd_at_start = 1``)."""
    n = len(bl_j)
    ok = bl_j >= 0
    j = np.maximum(bl_j, 0)

    def pick(name: str) -> npt.NDArray[np.object_]:
        if name not in asm or not len(asm):
            return np.full(n, None, dtype=object)
        out = np.full(n, None, dtype=object)
        out[ok] = asm[name].to_numpy(dtype=object)[j][ok]
        return out

    def pickf(name: str) -> npt.NDArray[np.float64]:
        if name not in asm or not len(asm):
            return np.full(n, np.nan)
        v = asm[name].to_numpy(dtype=np.float64, na_value=np.nan)[j]
        return np.where(ok, v, np.nan)

    unit = pick("mrd_unit")
    frac = np.array([u is None or u != u or u == "fraction_of_nucleated_cells" for u in unit])
    det = pick("mrd_detected")
    val = pickf("mrd_value")
    mrd = np.where(frac & ~np.isnan(val), val, np.where(np.isnan(val) & (det == "no"), 0.0,
                                                          np.nan))
    emd = pick("emd")
    at_start = idx["emd_at_start"].to_numpy(dtype=object) if "emd_at_start" in idx \
        else np.full(n, None, dtype=object)
    emd_out = [e if isinstance(e, str) else ("present" if s == "yes" else
                                              "none" if s == "no" else None)
               for e, s in zip(emd, at_start, strict=True)]
    with np.errstate(invalid="ignore"):
        blasts = pickf("bm_blast_pct") > 0
    detect = blasts | (det == "yes") | np.isin(np.asarray(emd_out, dtype=object),
                                               ["present", "new"])
    return mrd.astype(np.float64), emd_out, np.asarray(detect, dtype=bool)


_SITE_ORDER = ("bone_marrow", "cns", "testis", "other_emd", "molecular")


def _relapse_sites(reldt: npt.NDArray[np.float64], rep_first: npt.NDArray[np.bool_],
                   rel_fu: pd.DataFrame, fj: npt.NDArray[np.intp], lv: list[str | None],
                   asm: pd.DataFrame, dj: npt.NDArray[np.intp]) -> list[str | None]:
    """RELSITE (§5.2): ``relapse_sites`` of the reported relapse, or for an assessment-derived
    one the site of its level (haematological -> bone_marrow, molecular, extramedullary /
    combined -> the assessment's ``emd_sites``: cns, testis, other sites -> other_emd)."""
    fs = rel_fu["relapse_sites"].to_numpy(dtype=object) if len(rel_fu) else np.array([], object)
    es = asm["emd_sites"].to_numpy(dtype=object) if "emd_sites" in asm and len(asm) \
        else np.full(len(asm), None, dtype=object)
    out: list[str | None] = []
    for i in range(len(reldt)):
        if not np.isfinite(reldt[i]):
            out.append(None)
        elif rep_first[i]:
            v = fs[fj[i]]
            out.append(v if isinstance(v, str) else None)
        else:
            level = lv[i]
            sites: set[str] = set()
            if level in ("HEMATOLOGICAL_RELAPSE", "COMBINED_RELAPSE"):
                sites.add("bone_marrow")
            if level == "MOLECULAR_RELAPSE":
                sites.add("molecular")
            if level in ("EXTRAMEDULLARY_RELAPSE", "COMBINED_RELAPSE"):
                e = es[dj[i]]
                if isinstance(e, str):
                    sites |= {_SITE.get(x, "other_emd") for x in e.split(";") if x}
            out.append(";".join(x for x in _SITE_ORDER if x in sites) or None)
    return out


def _tox_summary(tox: pd.DataFrame, line_id: npt.NDArray[np.object_],
                 age: npt.NDArray[np.float64], meta: Mapping[str, Any], has_ae: bool,
                 ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                            npt.NDArray[np.float64]]:
    """CRSMAXG, ICANSMXG (maximum ASTCT 2019 grade over the line's episodes) and VODFL (SOS/VOD
    diagnosed under the line's ``vod_criteria`` set) (§5.2). 0 when the line has no episode;
    empty without an ``adverse_events`` table, and VODFL empty under a set the derivation does
    not compute (``ebmt_adult_2023``) unless a reported grade diagnosed it."""
    n = len(line_id)
    fill = 0.0 if has_ae else np.nan

    def maxg(term: str) -> npt.NDArray[np.float64]:
        sel = tox[(tox["TERM"] == term) & (tox["CRITSET"] == "astct_2019")]
        g = sel.groupby("LINEID")["MAXGRADE"].max().astype("float64")
        out: npt.NDArray[np.float64] = np.asarray(g.reindex(line_id).fillna(fill),
                                                  dtype=np.float64)
        return out

    if tox.empty:
        empty: npt.NDArray[np.float64] = np.full(n, fill, dtype=np.float64)
        return empty, empty.copy(), empty.copy()
    vset = np.array([_tx.default_vod_set(a, meta) for a in age], dtype=object)
    v = tox[(tox["TERM"] == "sos_vod") & (tox["DIAGFL"] == "Y")]
    diag = set(zip(v["LINEID"], v["CRITSET"], strict=True))
    vod = np.array([1.0 if (lid, s) in diag else (fill if s in _tx.VOD_SETS else np.nan)
                    for lid, s in zip(line_id, vset, strict=True)], dtype=np.float64)
    return maxg("crs"), maxg("icans"), vod


def _ages(pt: pd.DataFrame, t0s: pd.Series) -> tuple[npt.NDArray[np.float64], list[str | None]]:
    """Completed years at t0 (§0); partial birth dates by midpoint (§2.1), else from the age at
    diagnosis plus elapsed years (imputed, "D")."""
    n = len(pt)
    bd = pt["birth_date"].to_numpy(dtype=object)
    has_b = np.array([isinstance(x, str) for x in bd], dtype=bool)
    prec = pt["birth_date__prec"].to_numpy(dtype=object)
    lo = pd.DatetimeIndex(pt["birth_date__lo"])
    t0 = pd.DatetimeIndex(t0s)
    by, bm, bdd = lo.year.to_numpy(), lo.month.to_numpy(), lo.day.to_numpy()
    ty, tm, td = t0.year.to_numpy(), t0.month.to_numpy(), t0.day.to_numpy()
    is_m = has_b & (prec == "M")
    is_y = has_b & (prec == "Y")
    mid = pd.DatetimeIndex(lo + pd.Timedelta(days=14))
    by = np.where(is_m, mid.year.to_numpy(), by)
    bm = np.where(is_m, mid.month.to_numpy(), np.where(is_y, 7, bm))
    bdd = np.where(is_m, mid.day.to_numpy(), np.where(is_y, 1, bdd))
    before = (tm < bm) | ((tm == bm) & (td < bdd))
    years = (ty - by - before).astype(np.float64)
    dx = _days(pt["diagnosis_date__lo"])
    adx = pt["age_at_diagnosis_years"].to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        from_dx = np.floor(adx + (_days(t0s) - dx) / 365.25)
    age = np.where(has_b, years, from_dx)
    imp: list[str | None] = ["D" if m else ("M" if y else (None if h else "D"))
                             for m, y, h in zip(is_m, is_y, has_b, strict=True)]
    del n
    return age, imp


# ---- ADTTE (§5.3) ------------------------------------------------------------------------------
_PARAMS = {
    "OS": "Overall survival", "EFS": "Event-free survival", "DFS": "Disease-free survival",
    "CRDUR": "Duration of complete remission", "CIR": "Cumulative incidence of relapse",
    "NRM": "Non-relapse mortality", "TTHSCT": "Time to allogeneic HSCT",
    "FU": "Follow-up (reverse Kaplan-Meier)",
    "OSHCT": "Overall survival after allogeneic HSCT",
    "DFSHCT": "Disease-free survival after allogeneic HSCT",
    "CIRHCT": "Cumulative incidence of relapse after allogeneic HSCT",
    "NRMHCT": "Non-relapse mortality after allogeneic HSCT",
}
_ORIGIN = {"_t0_src": "t0", "_resp_src": "response", "_hs_src": "hsct"}


def adtte(a: pd.DataFrame, meta: Mapping[str, Any]) -> pd.DataFrame:
    """ADTTE-like table from ADSL, one row per patient-line × parameter (§5.3), vectorised."""
    if a.empty:
        return pd.DataFrame(columns=_COLS)
    n = len(a)
    t0 = _days(a["TRTSDT"])
    resp = _days(a["RESPDT"])
    rel = _days(a["RELDT"])
    dth = _days(a["DTHDT"])
    lc = _days(a["LSTCNDT"])
    las = _days(a["LSTASDT"])
    hs = _days(a["HSCTDT"])
    nl = _days(a["NEXTLNDT"])
    cut = np.inf
    if meta.get("data_cutoff_date") is not None:
        cut = float((pd.Timestamp(meta["data_cutoff_date"]) - pd.Timestamp("1970-01-01")).days)
    saf = a["SAFFL"].to_numpy() == 1
    rfl = a["RESPFL"].to_numpy() == 1
    use_las = meta.get("dfs_censor_at", "last_contact") == "last_assessment"
    cens = las if use_las else lc
    cens_code = 2 if use_las else 1
    cens_src = "_las_src" if use_las else "_lc_src"
    cens_desc = "LAST DISEASE ASSESSMENT" if use_las else "LAST CONTACT"
    c_hsct = bool(meta.get("censor_at_hsct", False))
    c_new = bool(meta.get("censor_at_new_therapy", False))
    np.full(n, np.inf)
    refr = a["REFRFL"].to_numpy() == 1
    if meta.get("efs_failure_timing", "t0") == "t0":
        fail = np.where(refr, t0, np.inf)
        fail_src = "_t0_src"
    else:
        lastwin = _days(a["BESTRDT"])
        wend = _days(a["WINDEND"])
        fail = np.where(refr, np.where(np.isfinite(lastwin), lastwin, wend), np.inf)
        fail_src = "_refr_src"
    dth_norel = np.where(dth < rel, dth, np.inf)  # relapse on the death day is first (ties)
    hs_before_death = np.where(hs <= dth, hs, np.inf)  # HSCT and death same day: HSCT happened
    dth_nohs = np.where(np.isfinite(hs_before_death), np.inf, dth)
    # each candidate: (days, CNSR, CMPEVT, EVNTDESC or CNSDTDSC, provenance column); list order
    # breaks ties (events first, so an event wins over a same-day censoring, §5.3 rule 3).
    specs: dict[str, tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], str, list[Any],
                           tuple[npt.NDArray[np.float64], int, str, str], bool]] = {}
    extra_c: list[Any] = []
    if c_hsct:
        extra_c.append((hs, 3, None, "HSCT", "_hs_src"))
    if c_new:
        extra_c.append((nl, 4, None, "NEW THERAPY", "_nl_src"))
    lc_c = (lc, 1, "LAST CONTACT", "_lc_src")
    dfs_c = (cens, cens_code, cens_desc, cens_src)
    specs["OS"] = (saf, t0, "_t0_src", [(dth, 0, None, "DEATH", "_dth_src")], lc_c, False)
    specs["EFS"] = (saf, t0, "_t0_src", [(fail, 0, None, "INDUCTION FAILURE", fail_src),
                                         (rel, 0, None, "RELAPSE", "_rel_src"),
                                         (dth, 0, None, "DEATH", "_dth_src")], dfs_c, False)
    specs["DFS"] = (rfl, resp, "_resp_src", [(rel, 0, None, "RELAPSE", "_rel_src"),
                                             (dth, 0, None, "DEATH", "_dth_src"), *extra_c],
                    dfs_c, False)
    crdur_d = bool(meta.get("crdur_death_is_event", False))
    specs["CRDUR"] = (rfl, resp, "_resp_src", [
        (rel, 0, None, "RELAPSE", "_rel_src"),
        (dth_norel, 0 if crdur_d else 5, None, "DEATH" if crdur_d else "COMPETING EVENT",
         "_dth_src"), *extra_c], dfs_c, False)
    specs["CIR"] = (rfl, resp, "_resp_src", [(rel, 0, 1, "RELAPSE", "_rel_src"),
                                             (dth_norel, 5, 2, "COMPETING EVENT", "_dth_src")],
                    lc_c, True)
    specs["NRM"] = (rfl, resp, "_resp_src", [(dth_norel, 0, 2, "DEATH", "_dth_src"),
                                             (np.where(rel <= dth, rel, np.inf), 5, 1,
                                              "COMPETING EVENT", "_rel_src")], lc_c, True)
    specs["TTHSCT"] = (saf, t0, "_t0_src", [(hs, 0, 1, "HSCT", "_hs_src"),
                                            (dth_nohs, 5, 2, "COMPETING EVENT", "_dth_src")],
                       lc_c, True)
    # post-HSCT parameters (§5.3, optional): population HSCTFL, origin HSCT day 0; relapse =
    # first relapse > day 0 whether or not the line responded; censoring as the parents (a
    # new line after day 0 censors DFSHCT with CNSR 4 if censor_at_new_therapy)
    hfl = a["HSCTFL"].to_numpy() == 1
    relh = _days(a["_RELHDT"]) if "_RELHDT" in a else np.full(n, np.inf)
    nlh = _days(a["_NLHDT"]) if "_NLHDT" in a else np.full(n, np.inf)
    dth_norel_h = np.where(dth < relh, dth, np.inf)
    new_h = [(nlh, 4, None, "NEW THERAPY", "_nlh_src")] if c_new else []
    hspecs: dict[str, Any] = {
        "OSHCT": (hfl, hs, "_hs_src", [(dth, 0, None, "DEATH", "_dth_src")], lc_c, False),
        "DFSHCT": (hfl, hs, "_hs_src", [(relh, 0, None, "RELAPSE", "_relh_src"),
                                        (dth, 0, None, "DEATH", "_dth_src"), *new_h],
                   dfs_c, False),
        "CIRHCT": (hfl, hs, "_hs_src", [(relh, 0, 1, "RELAPSE", "_relh_src"),
                                        (dth_norel_h, 5, 2, "COMPETING EVENT", "_dth_src")],
                   lc_c, True),
        "NRMHCT": (hfl, hs, "_hs_src", [(dth_norel_h, 0, 2, "DEATH", "_dth_src"),
                                        (np.where(relh <= dth, relh, np.inf), 5, 1,
                                         "COMPETING EVENT", "_relh_src")], lc_c, True),
    }
    frames = [_param(a, code, *spec, cut=cut) for code, spec in specs.items()]
    frames.append(_fu(a, saf, t0, lc, dth, cut))
    frames += [_param(a, code, *spec, cut=cut) for code, spec in hspecs.items()]
    out = pd.concat(frames, ignore_index=True)
    return out[_COLS]


_COLS = ["STUDYID", "USUBJID", "LINEID", "PARAMCD", "PARAM", "ORIGIN", "STARTDT", "STSRCID",
         "ADT", "AVAL", "AVALU", "AVALM", "CNSR", "CMPEVT", "EVNTDESC", "CNSDTDSC", "DTIMPFL",
         "SRCDOM", "SRCVAR", "SRCID", "SRCROW"]


def _param(a: pd.DataFrame, code: str, pop: npt.NDArray[np.bool_], origin: npt.NDArray[np.float64],
           origin_src: str, cands: list[Any], censor: tuple[Any, ...], competing: bool,
           *, cut: float) -> pd.DataFrame:
    n = len(a)
    keep = pop & np.isfinite(origin) & (origin <= cut)
    origin = np.where(np.isfinite(origin), origin, 0.0)  # rows outside the population drop
    adt = np.full(n, np.inf)
    cnsr = np.full(n, -1)
    cmp = np.full(n, -1)
    desc = np.full(n, None, dtype=object)
    src = np.full(n, None, dtype=object)
    isevent = np.zeros(n, dtype=bool)
    for days, c, ce, d, s in cands:
        dd = np.where((days >= origin) & (days <= cut), days, np.inf)
        better = dd < adt
        adt = np.where(better, dd, adt)
        cnsr = np.where(better, c, cnsr)
        cmp = np.where(better, -1 if ce is None else ce, cmp)
        desc[better] = d
        src[better] = a[s].to_numpy()[better] if s in a else None
        isevent = np.where(better, c == 0, isevent)
    none = ~np.isfinite(adt)
    cd, cc, cdesc, csrc = censor
    cdays = np.where(np.isfinite(cd), cd, origin)
    after_cut = cdays > cut
    adt = np.where(none, np.where(after_cut, cut, cdays), adt)
    cnsr = np.where(none, np.where(after_cut, 6, cc), cnsr)
    cmp = np.where(none, 0, cmp)
    desc[none] = np.where(after_cut[none], "DATA CUT-OFF", cdesc)
    csrc_vals = a[csrc].to_numpy()
    src[none] = np.where(after_cut[none], None, csrc_vals[none])
    before = adt < origin
    adt = np.where(before, origin, adt)
    zero = (adt == origin) & ~np.isin(cnsr, [0, 5, 8])
    cnsr = np.where(zero | before, 7, cnsr)
    desc[zero | before] = "ORIGIN"
    src[before] = a[origin_src].to_numpy()[before]
    evd = _pick(cnsr == 0, desc)
    cnd = _pick(cnsr != 0, desc)
    aval = adt - origin
    sel = np.flatnonzero(keep)
    srcs = [s if isinstance(s, tuple) else (None, None, None, None) for s in src[sel]]
    osrc = a[origin_src].to_numpy()[sel]
    return pd.DataFrame({
        "STUDYID": a["STUDYID"].to_numpy()[sel], "USUBJID": a["USUBJID"].to_numpy()[sel],
        "LINEID": a["LINEID"].to_numpy()[sel], "PARAMCD": code, "PARAM": _PARAMS[code],
        "ORIGIN": _ORIGIN[origin_src],
        "STARTDT": _to_dates(origin[sel]),
        "STSRCID": [s[2] if isinstance(s, tuple) else None for s in osrc],
        "ADT": _to_dates(adt[sel]), "AVAL": aval[sel].astype(np.int64),
        "AVALU": "DAYS", "AVALM": aval[sel] / DAYS_PER_MONTH, "CNSR": cnsr[sel],
        "CMPEVT": pd.array(np.where(cmp[sel] >= 0, cmp[sel], 0), dtype="Int64")
        if competing else pd.array([pd.NA] * len(sel), dtype="Int64"),
        "EVNTDESC": evd[sel], "CNSDTDSC": cnd[sel], "DTIMPFL": _dtimp(src[sel], osrc),
        "SRCDOM": [s[0] for s in srcs], "SRCVAR": [s[1] for s in srcs],
        "SRCID": [s[2] for s in srcs], "SRCROW": pd.array([s[3] for s in srcs], dtype="Int64"),
    })


def _dtimp(adt_src: npt.NDArray[Any], start_src: npt.NDArray[Any]) -> list[str | None]:
    """DTIMPFL (§5.3, R-DER-007): ``Y`` when the source date of ADT or of STARTDT was imputed
    from a partial date (the fifth element of the provenance tuple), else empty."""
    # inlined ``isinstance(s, tuple) and len(s) > 4 and bool(s[4])`` for both sources
    return ["Y" if (isinstance(x, tuple) and len(x) > 4 and x[4])
            or (isinstance(y, tuple) and len(y) > 4 and y[4]) else None
            for x, y in zip(adt_src, start_src, strict=True)]


def _pick(mask: npt.NDArray[np.bool_], values: npt.NDArray[Any]) -> npt.NDArray[np.object_]:
    out = np.full(len(values), None, dtype=object)
    out[mask] = values[mask]
    return out


def _fu(a: pd.DataFrame, saf: npt.NDArray[np.bool_], t0: npt.NDArray[np.float64],
        lc: npt.NDArray[np.float64], dth: npt.NDArray[np.float64], cut: float) -> pd.DataFrame:
    """FU (reverse KM): alive at last contact is the event (CNSR 0); death censors (CNSR 8)."""
    n = len(a)
    dead = np.isfinite(dth)
    alive_at_cut = np.where(dead, dth > cut, lc > cut)
    adt = np.where(alive_at_cut, cut, np.where(dead, dth, lc))
    cnsr = np.where(alive_at_cut | ~dead, 0, 8)
    src = np.where(dead & ~alive_at_cut, a["_dth_src"].to_numpy(), a["_lc_src"].to_numpy())
    src[alive_at_cut] = None
    keep = saf & (t0 <= cut)
    sel = np.flatnonzero(keep)
    srcs = [s if isinstance(s, tuple) else (None, None, None, None) for s in src[sel]]
    desc_e = _pick(cnsr == 0, np.full(n, "ALIVE AT LAST CONTACT", dtype=object))
    desc_c = _pick(cnsr == 8, np.full(n, "DEATH", dtype=object))
    del n
    return pd.DataFrame({
        "STUDYID": a["STUDYID"].to_numpy()[sel], "USUBJID": a["USUBJID"].to_numpy()[sel],
        "LINEID": a["LINEID"].to_numpy()[sel], "PARAMCD": "FU", "PARAM": _PARAMS["FU"],
        "ORIGIN": "t0", "STARTDT": _to_dates(t0[sel]),
        "STSRCID": [s[2] for s in a["_t0_src"].to_numpy()[sel]],
        "ADT": _to_dates(adt[sel]), "AVAL": (adt - t0)[sel].astype(np.int64),
        "AVALU": "DAYS", "AVALM": (adt - t0)[sel] / DAYS_PER_MONTH, "CNSR": cnsr[sel],
        "CMPEVT": pd.array([pd.NA] * len(sel), dtype="Int64"), "EVNTDESC": desc_e[sel],
        "CNSDTDSC": desc_c[sel], "DTIMPFL": _dtimp(src[sel], a["_t0_src"].to_numpy()[sel]),
        "SRCDOM": [s[0] for s in srcs], "SRCVAR": [s[1] for s in srcs],
        "SRCID": [s[2] for s in srcs], "SRCROW": pd.array([s[3] for s in srcs], dtype="Int64"),
    })


del dataclasses
