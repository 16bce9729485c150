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

from rrball.clinical import Assessment, ResponseResult, derive_response

__all__ = ["DAYS_PER_MONTH", "RESPONDERS", "adsl", "adtte", "response_table"]

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


@lru_cache(maxsize=200_000)
def _derive(a: Assessment, criteria_set: str, prior: str | None, prior_neg: bool,
            lowsens: bool) -> ResponseResult:
    # Assessment is frozen and hashable; the date is stripped by the caller so equal
    # measurements share one derivation (derive_response is pure).
    return derive_response(a, criteria_set=criteria_set, prior_state=prior,
                           prior_mrd_negative=prior_neg, mrd_lowsens_counts_negative=lowsens)


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


def adsl(t: Mapping[str, pd.DataFrame], meta: Mapping[str, Any]) -> pd.DataFrame:
    """ADSL-like table, one row per patient × index line (§5.2), with date provenance."""
    return _derive_all(t, meta)[0]


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
    ``Assessment`` objects (equal measurements share one derivation)."""
    n = len(asm)
    cols: dict[str, list[Any]] = {}
    for name in _A_FIELDS:
        if name == "mrd_scale":
            continue
        if name not in asm:
            cols[name] = [None] * n
            continue
        s = asm[name]
        if name in _FLOATS:
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            obj = v.astype(object)
            obj[np.isnan(v)] = None
            cols[name] = obj.tolist()
        elif name in _BOOLS:
            a = s.to_numpy(dtype=object)
            obj = np.full(n, None, dtype=object)
            obj[a == "yes"] = True
            obj[a == "no"] = False
            cols[name] = obj.tolist()
        else:
            # validated code columns hold a code string or a missing value
            if name == "mrd_sample":
                s = s.map(_MRD_SAMPLE)
            obj = s.to_numpy(dtype=object).copy()
            obj[~s.notna().to_numpy()] = None
            cols[name] = obj.tolist()
    mv = np.array([x is not None for x in cols["mrd_value"]], dtype=bool)
    ml = np.array([x is not None for x in cols["mrd_lod"]], dtype=bool)
    unit = np.array(cols["mrd_unit"], dtype=object)
    frac = np.array([u is None or u == "fraction_of_nucleated_cells" for u in unit], dtype=bool)
    cols["mrd_scale"] = ["fraction" if k else None for k in (mv | ml) & frac]
    ids: dict[tuple[Any, ...], int] = {}
    out = [ids.setdefault(k, len(ids))
           for k in zip(*(cols[f] for f in _A_FIELDS), strict=True)]
    objs = [Assessment(**dict(zip(_A_FIELDS, k, strict=True))) for k in ids]
    return out, objs


def _derive_all(t: Mapping[str, pd.DataFrame], meta: Mapping[str, Any],
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
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
    pcode_of = {k: i for i, k in enumerate(p.index)}
    a_p = np.array([pcode_of.get(x, -1) for x in asm["patient_id"].to_numpy(dtype=object)],
                   dtype=np.int64)
    a_d = _days(asm["assessment_date"])
    order = np.lexsort((np.arange(len(asm)), a_d, a_p))
    asm = asm.iloc[order].reset_index(drop=True)
    a_p, a_d = a_p[order], a_d[order]
    base_off = 1 << 22  # day offset so that keys stay positive and ordered
    a_key = a_p * (1 << 24) + (a_d.astype(np.int64) + base_off)
    l_p = np.array([pcode_of[x] for x in pid], dtype=np.int64) * (1 << 24)

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
    r_line: list[int] = []
    r_asm: list[int] = []
    r_res: list[ResponseResult] = []
    r_win: list[bool] = []
    t0_l, wend_l = t0.tolist(), wend.tolist()
    for i in range(n):
        b = int(bl_j[i])
        blstatd.append(derive(a_ids[b], None, False).status if b >= 0 else "NOT_EVALUABLE")
        status = status_l[i]
        in_rem = status in ("mrd_positive", "cr_mrd_negative")
        state: str | None = "CR" if in_rem else None
        neg = status == "cr_mrd_negative"
        best: tuple[int, int, float] | None = None
        rdt = t0_l[i] if in_rem else np.inf
        we = wend_l[i]
        any_eval = mrd_eval = mrd_neg = mrd_neg_emd = False
        for j in range(int(hi_base[i]), int(hi_post[i])):
            res = derive(a_ids[j], state, neg)
            d = day_l[j]
            in_win = d <= we
            r_line.append(i)
            r_asm.append(j)
            r_res.append(res)
            r_win.append(in_win)
            level = res.level
            if level not in ("NOT_EVALUABLE", "INDETERMINATE"):
                if in_win:
                    any_eval = True
                    if level in _RANK:
                        rank = (_RANK[level], _MRD_RANK.get(res.mrd_suffix, 2), -d)
                        if best is None or rank > best:
                            best = rank
                            best_j[i], best_lv[i], best_mrd[i] = j, level, res.mrd_suffix
                    if res.is_response and rdt == np.inf:
                        rdt, resp_j[i] = d, j
                if res.is_response:
                    neg = (neg and state in _CRF) or bool(res.mrd_negative)
                elif res.is_relapse:
                    neg = False
                    if (rdt != np.inf and d > rdt and reld_j[i] < 0
                            and (mol or level != "MOLECULAR_RELAPSE")):
                        reldt_d[i], reld_j[i] = d, j
                state = level
            if in_win and res.is_response and res.mrd_suffix not in (None, "_MRDUNK"):
                mrd_eval = True
                if res.mrd_negative:
                    mrd_neg = True
                    mrd_neg_emd = mrd_neg_emd or emd_none[j]
        respdt[i] = rdt
        flags[i] = (in_rem, any_eval, mrd_eval, mrd_neg, mrd_neg_emd)
        neg_end[i] = neg
    in_rem_a, any_eval_a, mrd_eval_a, mrd_neg_a, mrd_neg_emd_a = flags.T
    bestresp = np.array(["CR" if in_rem_a[i] else (best_lv[i] or "NOT_EVALUABLE")
                         for i in range(n)], dtype=object)
    respfl = in_rem_a | (np.isin(bestresp, list(responders)) & np.isfinite(respdt))
    respdt = np.where(respfl, respdt, np.inf)

    # relapse (§5.1): reported and/or derived, first date > RESPDT; reported first on ties
    rel_fu_j = np.full(n, -1, dtype=np.intp)
    rel_fu = fu[fu["event_type"] == "relapse"]
    if not mol:
        rel_fu = rel_fu[rel_fu["relapse_sites"] != "molecular"]
    if rsrc in ("reported", "both"):
        rel_fu_j = _first_per_line(idx, rel_fu, "event_date", respdt)
    rel_rep = np.where(rel_fu_j >= 0, _days(rel_fu["event_date"])[rel_fu_j], np.inf)
    use_d = np.isfinite(respdt) & (reld_j >= 0) if rsrc in ("derived", "both") \
        else np.zeros(n, dtype=bool)
    rel_der = np.where(use_d, reldt_d, np.inf)
    rep_first = rel_rep <= rel_der
    reldt = np.minimum(rel_rep, rel_der)

    # ages (completed years at t0; midpoint imputation of partial birth dates, §2.1)
    age, ageimp = _ages(pt, idx["line_start_date"])
    cut = int(meta.get("age_cut_years", 18))
    child = (age <= cut) if meta.get("age_cut_rule", "le") == "le" else (age < cut)
    fcr = pt["first_cr_date"].to_numpy(dtype=object)
    frl = pt["first_relapse_date"].to_numpy(dtype=object)
    has_cr1 = np.array([isinstance(x, str) for x in fcr]) & \
        np.array([isinstance(x, str) for x in frl])
    with np.errstate(invalid="ignore"):
        cr1_days = _days(pt["first_relapse_date__lo"]) - _days(pt["first_cr_date__lo"])
    cr1 = [float(x) / DAYS_PER_MONTH if h else None for x, h in zip(cr1_days, has_cr1, strict=True)]
    ncyc = idx["n_cycles"].to_numpy(dtype=np.float64, na_value=np.nan)
    salv = idx["salvage_number"].to_numpy(dtype=np.float64, na_value=np.nan)

    def col(df: pd.DataFrame, name: str, j: npt.NDArray[np.intp]) -> list[Any]:
        vals = df[name].to_numpy(dtype=object) if len(df) else np.array([], dtype=object)
        return [vals[x] if x >= 0 else None for x in j]

    def src(table: str, column: str, ids: list[Any], rows: list[Any],
            mask: npt.NDArray[np.bool_]) -> list[Any]:
        return [(table, column, a, int(r)) if m else None
                for a, r, m in zip(ids, rows, mask, strict=True)]

    a_id = asm["assessment_id"].to_numpy(dtype=object) if len(asm) else np.array([], object)
    a_row = asm["_row"].to_numpy(dtype=np.int64) if len(asm) else np.array([], np.int64)

    def asrc(j: npt.NDArray[np.intp]) -> list[Any]:
        return [("assessments", "assessment_date", a_id[x], int(a_row[x])) if x >= 0 else None
                for x in j]

    t0_src = [("treatment_lines", "line_start_date", a, int(r))
              for a, r in zip(line_id, line_row, strict=True)]
    resp_src: list[Any] = []
    for i in range(n):
        if not respfl[i]:
            resp_src.append(None)
        elif in_rem_a[i]:
            resp_src.append(t0_src[i])
        else:
            j = int(resp_j[i])
            resp_src.append(("assessments", "assessment_date", a_id[j], int(a_row[j])))
    rel_src: list[Any] = []
    fu_id, fu_row = col(rel_fu, "event_id", rel_fu_j), col(rel_fu, "_row", rel_fu_j)
    der_src = asrc(reld_j)
    for i in range(n):
        if not np.isfinite(reldt[i]):
            rel_src.append(None)
        elif rep_first[i]:
            rel_src.append(("follow_up", "event_date", fu_id[i], int(fu_row[i])))
        else:
            rel_src.append(der_src[i])
    centre = pt["centre_id"].to_numpy(dtype=object)
    cols: dict[str, Any] = {
        "STUDYID": [study] * n, "USUBJID": [f"{study}-{x}" for x in pid], "SUBJID": list(pid),
        "SITEID": [c if isinstance(c, str) else meta.get("centre_id") for c in centre],
        "LINEID": list(line_id), "REGIMEN": list(regimen), "TRTSDT": _to_dates(t0),
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
        "CR1DUR": cr1, "BLSTATR": status_l, "BLSTATD": blstatd,
        "BLBMBL": np.where(bl_j >= 0, asm["bm_blast_pct"].to_numpy(
            dtype=np.float64, na_value=np.nan)[bl_j] if len(asm) else np.nan, np.nan),
        "PRIORHSCT": list(idx["prior_allo_hsct"].to_numpy(dtype=object)),
        "PRIORBLIN": list(idx["prior_blinatumomab"].to_numpy(dtype=object)),
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
        "HSCTFL": (hs_j >= 0).astype(np.int64), "HSCTDT": _to_dates(hs),
        "RELFL": np.isfinite(reldt).astype(np.int64), "RELDT": _to_dates(reldt),
        "DTHFL": has_dth.astype(np.int64), "DTHDT": _to_dates(dth),
        "DTHCAUS": [c if h else None for c, h in zip(
            dth_ev["death_cause"].to_numpy(dtype=object), has_dth, strict=True)],
        "LSTCNDT": _to_dates(lc),
        "LSTASDT": _to_dates(np.where(las_j >= 0, a_d[las_j] if len(asm) else np.inf, np.inf)),
        "NEXTLNDT": _to_dates(nxt), "WINDEND": _to_dates(wend),
        "SAFFL": (~(ncyc == 0)).astype(np.int64),
        # provenance of each date: (table, column, id, row)
        "_t0_src": t0_src, "_resp_src": resp_src, "_rel_src": rel_src,
        "_dth_src": src("follow_up", "event_date", list(dth_ev["event_id"].to_numpy(
            dtype=object)), list(dth_ev["_row"].fillna(0).to_numpy()), has_dth),
        "_lc_src": src("follow_up", "event_date", list(lc_ev["event_id"].to_numpy(
            dtype=object)), list(lc_ev["_row"].fillna(0).to_numpy()), np.ones(n, bool)),
        "_las_src": asrc(las_j),
        "_hs_src": src("transplants", "hsct_date", col(allo, "hsct_id", hs_j),
                       col(allo, "_row", hs_j), hs_j >= 0),
        "_nl_src": src("treatment_lines", "line_start_date", col(tl, "line_id", nxt_j),
                       col(tl, "_row", nxt_j), nxt_j >= 0),
        "_refr_src": asrc(best_j),
    }
    out = pd.DataFrame(cols) if n else pd.DataFrame()
    r_i = np.asarray(r_line, dtype=np.intp)
    r_j = np.asarray(r_asm, dtype=np.intp)
    resp = pd.DataFrame({
        "LINEID": line_id[r_i], "ASSESSID": a_id[r_j] if len(r_j) else [],
        "ADT": _to_dates(a_d[r_j]) if len(r_j) else [],
        "STATUS": [r.status for r in r_res], "LEVEL": [r.level for r in r_res],
        "RULEID": [r.rule_id for r in r_res], "INWINDOW": r_win,
        "SRCROW": a_row[r_j] if len(r_j) else []}) if len(r_res) else pd.DataFrame()
    return out, resp


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
}


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
    frames = [_param(a, code, *spec, cut=cut) for code, spec in specs.items()]
    frames.append(_fu(a, saf, t0, lc, dth, cut))
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
        "ORIGIN": {"_t0_src": "t0", "_resp_src": "response"}[origin_src],
        "STARTDT": _to_dates(origin[sel]),
        "STSRCID": [s[2] if isinstance(s, tuple) else None for s in osrc],
        "ADT": _to_dates(adt[sel]), "AVAL": aval[sel].astype(np.int64),
        "AVALU": "DAYS", "AVALM": aval[sel] / DAYS_PER_MONTH, "CNSR": cnsr[sel],
        "CMPEVT": pd.array(np.where(cmp[sel] >= 0, cmp[sel], 0), dtype="Int64")
        if competing else pd.array([pd.NA] * len(sel), dtype="Int64"),
        "EVNTDESC": evd[sel], "CNSDTDSC": cnd[sel], "DTIMPFL": None,
        "SRCDOM": [s[0] for s in srcs], "SRCVAR": [s[1] for s in srcs],
        "SRCID": [s[2] for s in srcs], "SRCROW": pd.array([s[3] for s in srcs], dtype="Int64"),
    })


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
        "CNSDTDSC": desc_c[sel], "DTIMPFL": None,
        "SRCDOM": [s[0] for s in srcs], "SRCVAR": [s[1] for s in srcs],
        "SRCID": [s[2] for s in srcs], "SRCROW": pd.array([s[3] for s in srcs], dtype="Int64"),
    })


del dataclasses
