"""REFERENCE ONLY (test oracle): the first, per-patient-line ADSL derivation, kept verbatim so
``test_adsl_reference.py`` can check the vectorised ``rrball.cohort.endpoints`` against it.

ADSL-like table of data-dictionary.md §5.2 (ADTTE is derived from either ADSL by
``rrball.cohort.endpoints.adtte``; the test compares both results).

Response per assessment comes from ``rrball.clinical.derive_response`` (CR §3.4) with the metadata
``criteria_set``; best response, response date, relapse, censoring and CNSR codes follow §5.1 and
§5.3 (rules 1–4 and the ties table). Every date carries provenance (SRCDOM, SRCVAR, SRCID, SRCROW).
Pure: typed tables in, DataFrames out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import lru_cache, partial
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rrball.clinical import Assessment, ResponseResult, derive_response
from rrball.cohort import endpoints as _ep
from rrball.cohort import toxicity as _tx

__all__ = ["DAYS_PER_MONTH", "RESPONDERS"]

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
_GROUPS = {"blinatumomab_rr_us": "blinatumomab", "blinatumomab_mrd_us": "blinatumomab",
           "blinatumomab_seed000": "blinatumomab", "blinatumomab_other": "blinatumomab",
           "inotuzumab_us": "inotuzumab", "inotuzumab_seed000": "inotuzumab",
           "inotuzumab_seed004_peds": "inotuzumab", "inotuzumab_other": "inotuzumab",
           "mini_hcvd_ino": "mini_hcvd_ino", "mini_hcvd_ino_blina": "mini_hcvd_ino_blina"}


def _asrc(r: Any) -> tuple[str, str, str, int, bool]:
    return ("assessments", "assessment_date", r["assessment_id"], int(r["_row"]),
            _imp(r, "assessment_date"))


def _first_rel(after: Any, der_row: Any, *, pf: pd.DataFrame, rsrc: str,
               mol: bool) -> tuple[Any, Any, Any]:
    """First relapse > ``after``: reported (follow_up) or derived (``der_row``); reported first
    on ties. Returns (date, provenance, source row)."""
    cands: list[tuple[pd.Timestamp, int, Any, Any]] = []
    if after is None:
        return None, None, None
    if rsrc in ("reported", "both") and len(pf):
        rel = pf[(pf["event_type"] == "relapse") & (pf["event_date"] > after)]
        if not mol:
            rel = rel[rel["relapse_sites"] != "molecular"]
        if len(rel):
            rr = rel.sort_values("event_date", kind="stable").iloc[0]
            cands.append((rr["event_date"], 0, ("follow_up", "event_date", rr["event_id"],
                                                int(rr["_row"]), _imp(rr, "event_date")), rr))
    if rsrc in ("derived", "both") and der_row is not None:
        cands.append((der_row["assessment_date"], 1, _asrc(der_row), der_row))
    if not cands:
        return None, None, None
    cands.sort(key=lambda c_: (c_[0], c_[1]))
    return cands[0][0], cands[0][2], cands[0][3]


def _imp(rec: Any, col: str) -> bool:
    v = rec.get(f"{col}__imp") if hasattr(rec, "get") else getattr(rec, f"{col}__imp", None)
    return bool(v) if v is not None and v == v else False


def _mid(pt: Any, name: str) -> tuple[pd.Timestamp | None, str | None]:
    if not isinstance(pt[name], str):
        return None, None
    lo, prec = pt[f"{name}__lo"], pt[f"{name}__prec"]
    if prec == "M":
        return lo + pd.Timedelta(days=14), prec
    if prec == "Y":
        return pd.Timestamp(lo.year, 7, 1), prec
    return lo, prec


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
    p = t["patients"].set_index("patient_id")
    tl = t["treatment_lines"]
    asm = t.get("assessments", pd.DataFrame(columns=["patient_id", "assessment_date"]))
    fu = t["follow_up"]
    hx = t.get("transplants")
    asm_by = {k: g.sort_values("assessment_date") for k, g in asm.groupby("patient_id")} \
        if len(asm) else {}
    lines_by = {k: g for k, g in tl.groupby("patient_id")}
    fu_by = {k: g for k, g in fu.groupby("patient_id")}
    hx_by = {k: g for k, g in hx.groupby("patient_id")} if hx is not None and len(hx) else {}
    rows: list[dict[str, Any]] = []
    resp_rows: list[dict[str, Any]] = []
    empty_df = pd.DataFrame()
    idx = tl[tl["index_line"] == "yes"]
    tox = _ep.toxicity(t, meta)
    tox_rows = tox.to_dict("records")
    has_ae = t.get("adverse_events") is not None
    for rec in idx.to_dict("records"):
        line = SimpleNamespace(**{str(k): v for k, v in rec.items()})
        pid = line.patient_id
        pt = p.loc[pid]
        t0 = line.line_start_date
        pf = fu_by.get(pid, empty_df)
        death = pf[pf["event_type"] == "death"]
        lc = pf[pf["event_type"] == "last_contact"]
        dth = death.iloc[0] if len(death) else None
        lcr = lc.iloc[0]
        lstcn = lcr["event_date"]
        other = lines_by[pid]
        later = other[other["line_start_date"] > t0].sort_values("line_start_date")
        nxt = later.iloc[0] if len(later) else None
        ph = hx_by.get(pid)
        hs = None
        if ph is not None:
            allo = ph[(ph["hsct_type"] == "allogeneic") & (ph["hsct_date__lo"] > t0)]
            if len(allo):
                hs = allo.sort_values("hsct_date__lo").iloc[0]
        rwd = rwd_meta
        if rwd is None:
            rwd = 84 if line.regimen in _BLINA else (77 if line.regimen in _INO else None)
        ends = [lstcn]
        if rwd is not None:
            ends.append(t0 + pd.Timedelta(days=int(rwd)))
        if nxt is not None:
            ends.append(nxt["line_start_date"] - pd.Timedelta(days=1))
        if hs is not None:
            ends.append(hs["hsct_date__lo"] - pd.Timedelta(days=1))
        if dth is not None:
            ends.append(dth["event_date"])
        wend = min(ends)
        pa = asm_by.get(pid, empty_df)
        base = post = pa
        if len(pa):
            dates = pa["assessment_date"]
            base = pa[(dates <= t0) & (dates >= t0 - pd.Timedelta(days=bwd))]
            post = pa[(dates > t0) & (dates <= lstcn)]
        bl = base.iloc[-1] if len(base) else None
        blres = _derive(_assessment(bl), cs, None, False, lowsens) if bl is not None else None
        status = line.disease_status_at_start
        in_rem = status in ("mrd_positive", "cr_mrd_negative")
        state: str | None = "CR" if in_rem else None
        neg = status == "cr_mrd_negative"
        best: tuple[int, int, float] | None = None
        best_r: ResponseResult | None = None
        best_row: Any = None
        respdt = t0 if in_rem else None
        resp_src = ("treatment_lines", "line_start_date", line.line_id) if in_rem else None
        resp_row: Any = None
        reldt_d = None
        rel_d_row: Any = None
        mrd_eval = mrd_neg = mrd_neg_emd = False
        any_eval = False
        hs_d = hs["hsct_date__lo"] if hs is not None else None
        pre_hs = blres if blres is not None and blres.level not in (
            "NOT_EVALUABLE", "INDETERMINATE") else None
        rel_level: str | None = None
        relh_row: Any = None
        for r in post.to_dict("records"):
            res = _derive(_assessment(r), cs, state, neg, lowsens)
            d = r["assessment_date"]
            in_win = d <= wend
            resp_rows.append({"LINEID": line.line_id, "ASSESSID": r["assessment_id"],
                              "ADT": d, "STATUS": res.status, "LEVEL": res.level,
                              "RULEID": res.rule_id, "INWINDOW": in_win, "SRCROW": r["_row"]})
            if res.level not in ("NOT_EVALUABLE", "INDETERMINATE"):
                if in_win:
                    any_eval = True
                    rank = (_RANK.get(res.level, 0), _MRD_RANK.get(res.mrd_suffix, 2), -d.value)
                    if res.level in _RANK and (best is None or rank > best):
                        best, best_r, best_row = rank, res, r
                    if res.is_response and respdt is None:
                        respdt, resp_src, resp_row = d, ("assessments", "assessment_date",
                                                         r["assessment_id"]), r
                if hs_d is not None and d < hs_d:
                    pre_hs = res
                if res.is_response:
                    neg = (neg and state in _CRF) or bool(res.mrd_negative)
                elif res.is_relapse:
                    neg = False
                    if (respdt is not None and d > respdt and reldt_d is None
                            and (mol or res.level != "MOLECULAR_RELAPSE")):
                        reldt_d, rel_d_row, rel_level = d, r, res.level
                    if (hs_d is not None and d > hs_d and relh_row is None
                            and (mol or res.level != "MOLECULAR_RELAPSE")):
                        relh_row = r
                state = res.level
            if in_win and res.is_response and res.mrd_suffix not in (None, "_MRDUNK"):
                mrd_eval = True
                if res.mrd_negative:
                    mrd_neg = True
                    mrd_neg_emd = mrd_neg_emd or r["emd"] == "none"
        if in_rem:
            bestresp = "CR"
        elif best_r is not None:
            bestresp = best_r.level
        else:
            bestresp = "NOT_EVALUABLE"
        respfl = in_rem or (bestresp in responders and respdt is not None)
        if not respfl:
            respdt = None
        # relapse (§5.1): reported and/or derived, first date > RESPDT
        asrc = _asrc
        first_rel = partial(_first_rel, pf=pf, rsrc=rsrc, mol=mol)
        reldt, relsrc, relrow = first_rel(respdt, rel_d_row)
        relh, relh_src, _ = first_rel(hs_d, relh_row)
        relsite = None
        if relsrc is not None and relsrc[0] == "follow_up":
            relsite = relrow["relapse_sites"] if isinstance(relrow["relapse_sites"], str) \
                else None
        elif relsrc is not None:
            sites = set()
            if rel_level in ("HEMATOLOGICAL_RELAPSE", "COMBINED_RELAPSE"):
                sites.add("bone_marrow")
            if rel_level == "MOLECULAR_RELAPSE":
                sites.add("molecular")
            if rel_level in ("EXTRAMEDULLARY_RELAPSE", "COMBINED_RELAPSE") and \
                    isinstance(relrow.get("emd_sites"), str):
                for x in relrow["emd_sites"].split(";"):
                    sites.add(x if x in ("cns", "testis") else "other_emd")
            relsite = ";".join(x for x in ("bone_marrow", "cns", "testis", "other_emd",
                                            "molecular") if x in sites) or None
        lstas = post[post["assessment_date"] <= lstcn].iloc[-1] if len(post) else None
        if lstas is None and len(pa):
            prior_as = pa[pa["assessment_date"] <= lstcn]
            lstas = prior_as.iloc[-1] if len(prior_as) else None
        age, ageimp = _age(pt, t0)
        cut = int(meta.get("age_cut_years", 18))
        child = (age <= cut) if meta.get("age_cut_rule", "le") == "le" else (age < cut)
        cr1 = cr1imp = None
        f_cr, p_cr = _mid(pt, "first_cr_date")
        f_rl, p_rl = _mid(pt, "first_relapse_date")
        if f_cr is not None and f_rl is not None:
            cr1 = (f_rl - f_cr).days / DAYS_PER_MONTH
            cr1imp = "M" if "Y" in (p_cr, p_rl) else ("D" if "M" in (p_cr, p_rl) else None)
        ccut = float(meta.get("cr1_cut_months", 12.0))
        s1grp = None
        if line.salvage_number == 1:
            if pt["primary_refractory"] == "yes" or status == "primary_refractory":
                s1grp = "primary_refractory"
            elif cr1 is not None:
                up = cr1 >= ccut if meta.get("cr1_cut_rule", "gt") == "ge" else cr1 > ccut
                s1grp = "cr1_ge_cut" if up else "cr1_lt_cut"
        relctx = None
        if status == "primary_refractory":
            relctx = "primary_refractory"
        elif status in ("haematological_relapse", "mrd_positive", "isolated_emd_relapse",
                        "refractory_relapse"):
            relctx = "after_allo_hsct" if line.prior_allo_hsct == "yes" else "after_chemotherapy"
        blmrd, blemd = np.nan, None
        if bl is not None:
            unit = bl.get("mrd_unit")
            if bl.get("mrd_value") == bl.get("mrd_value") and bl.get("mrd_value") is not None:
                if not isinstance(unit, str) or unit == "fraction_of_nucleated_cells":
                    blmrd = bl["mrd_value"]
            elif bl.get("mrd_detected") == "no":
                blmrd = 0.0
            blemd = bl.get("emd") if isinstance(bl.get("emd"), str) else None
        if blemd is None:
            es = getattr(line, "emd_at_start", None)
            blemd = "present" if es == "yes" else ("none" if es == "no" else None)
        bldet = bool(bl is not None and bl.get("bm_blast_pct") == bl.get("bm_blast_pct")
                     and bl.get("bm_blast_pct") is not None and bl["bm_blast_pct"] > 0) or \
            bool(bl is not None and bl.get("mrd_detected") == "yes") or \
            blemd in ("present", "new")
        hsctstat = None
        if hs is not None:
            hsctstat = pre_hs.status if pre_hs is not None and pre_hs.level in _CRF \
                else "active_disease"
        crsm = icm = 0.0 if has_ae else np.nan
        vset = _tx.default_vod_set(age, meta)
        vod: float = 0.0 if has_ae and vset in _tx.VOD_SETS else np.nan
        for tr in tox_rows:
            if tr["LINEID"] != line.line_id:
                continue
            g = tr["MAXGRADE"]
            if tr["CRITSET"] == "astct_2019" and g is not pd.NA and g == g:
                if tr["TERM"] == "crs":
                    crsm = max(crsm, float(g)) if crsm == crsm else float(g)
                if tr["TERM"] == "icans":
                    icm = max(icm, float(g)) if icm == icm else float(g)
            if tr["TERM"] == "sos_vod" and tr["CRITSET"] == vset and tr["DIAGFL"] == "Y":
                vod = 1.0
        later_h = other[other["line_start_date"] > hs_d].sort_values(
            "line_start_date", kind="stable") if hs_d is not None else other.iloc[:0]
        nlh = later_h.iloc[0] if len(later_h) else None
        ncyc = line.n_cycles
        saffl = not (isinstance(ncyc, float) and ncyc == 0)
        rows.append({
            "STUDYID": study, "USUBJID": f"{study}-{pid}", "SUBJID": pid,
            "SITEID": pt["centre_id"] if isinstance(pt["centre_id"], str)
            else meta.get("centre_id"),
            "LINEID": line.line_id, "REGIMEN": line.regimen,
            "DRUGGRP": _GROUPS.get(line.regimen), "TRTSDT": t0,
            "TRTEDT": line.line_end_date, "NCYCLES": ncyc,
            "AGE": age, "AGEIMP": ageimp, "AGEGR1": "child" if child else "adult",
            "SEX": pt["sex"], "PHSTAT": pt["ph_status"], "KMT2A": pt["kmt2a_status"],
            "CYTORISK": pt["cytogenetic_risk"], "IKZF1": pt["ikzf1_status"],
            "SALVNUM": line.salvage_number,
            "SALVGR": {0: "none", 1: "S1", 2: "S2"}.get(int(line.salvage_number), "S3+"),
            "RELNUM": line.relapse_number, "REMNUM": line.remission_number_at_start,
            "DCTREAS": getattr(line, "line_end_reason", None),
            "CR1DUR": cr1, "CR1DURIMP": cr1imp, "S1GRP": s1grp, "RELCTX": relctx,
            "BLSTATR": status,
            "BLSTATD": _baseline_state(bl, cs, pt["primary_refractory"], line, lowsens),
            "BLBMBL": bl["bm_blast_pct"] if bl is not None else np.nan,
            "BLMRD": blmrd, "BLEMD": blemd, "BLDETFL": int(bldet),
            "PRIORHSCT": line.prior_allo_hsct, "PRIORBLIN": line.prior_blinatumomab,
            "PRIORINO": getattr(line, "prior_inotuzumab", None),
            "PRIORCART": getattr(line, "prior_car_t", None),
            "TKI": line.tki, "CRITSET": cs, "BESTRESP": bestresp,
            "BESTMRD": best_r.mrd_suffix if best_r is not None else None,
            "BESTRDT": best_row["assessment_date"] if best_row is not None else None,
            "RESPDT": respdt, "RESPFL": int(respfl), "CRFL": int(bestresp == "CR"),
            "REFRFL": int(not respfl), "EVALFL": int(any_eval or in_rem),
            "MRDEVLFL": int(respfl and mrd_eval), "MRDNEGFL": int(mrd_neg or (neg and in_rem)),
            "MRDNEGEMDFL": int(mrd_neg_emd),
            "HSCTFL": int(hs is not None),
            "HSCTDT": hs["hsct_date__lo"] if hs is not None else None, "HSCTSTAT": hsctstat,
            "RELFL": int(reldt is not None), "RELDT": reldt, "RELSITE": relsite,
            "DTHFL": int(dth is not None), "DTHDT": dth["event_date"] if dth is not None else None,
            "DTHCAUS": dth["death_cause"] if dth is not None else None,
            "LSTCNDT": lstcn, "LSTASDT": lstas["assessment_date"] if lstas is not None else None,
            "NEXTLNDT": nxt["line_start_date"] if nxt is not None else None,
            "WINDEND": wend, "CRSMAXG": crsm, "ICANSMXG": icm, "VODFL": vod,
            "SAFFL": int(saffl),
            "RESPEVFL": int(saffl and (bldet or status != "cr_mrd_negative")),
            # provenance of each date: (table, column, id, row, imputed)
            "_t0_src": ("treatment_lines", "line_start_date", line.line_id, int(line._row),
                        _imp(rec, "line_start_date")),
            "_resp_src": (("treatment_lines", "line_start_date", line.line_id, int(line._row),
                           _imp(rec, "line_start_date")) if resp_row is None
                          else asrc(resp_row)) if resp_src and respfl else None,
            "_rel_src": relsrc,
            "_dth_src": ("follow_up", "event_date", dth["event_id"], int(dth["_row"]),
                         _imp(dth, "event_date")) if dth is not None else None,
            "_lc_src": ("follow_up", "event_date", lcr["event_id"], int(lcr["_row"]),
                        _imp(lcr, "event_date")),
            "_las_src": asrc(lstas) if lstas is not None else None,
            "_hs_src": ("transplants", "hsct_date", hs["hsct_id"], int(hs["_row"]),
                        hs["hsct_date__prec"] != "D") if hs is not None else None,
            "_nl_src": ("treatment_lines", "line_start_date", nxt["line_id"], int(nxt["_row"]),
                        _imp(nxt, "line_start_date")) if nxt is not None else None,
            "_refr_src": asrc(best_row) if best_row is not None else None,
            "_RELHDT": relh, "_relh_src": relh_src,
            "_NLHDT": nlh["line_start_date"] if nlh is not None else None,
            "_nlh_src": ("treatment_lines", "line_start_date", nlh["line_id"],
                         int(nlh["_row"]), _imp(nlh, "line_start_date"))
            if nlh is not None else None,
        })
    out = pd.DataFrame(rows)
    for c in ("TRTSDT", "TRTEDT", "RESPDT", "BESTRDT", "HSCTDT", "RELDT", "DTHDT", "LSTCNDT",
              "LSTASDT", "NEXTLNDT", "WINDEND", "_RELHDT", "_NLHDT"):
        if c in out:
            out[c] = pd.to_datetime(out[c])
    return out, pd.DataFrame(resp_rows)


def _age(pt: pd.Series, t0: pd.Timestamp) -> tuple[float, str | None]:
    if isinstance(pt["birth_date"], str):
        b = pt["birth_date__lo"]
        imp = None
        if pt["birth_date__prec"] == "M":
            b, imp = b + pd.Timedelta(days=14), "D"
        elif pt["birth_date__prec"] == "Y":
            b, imp = pd.Timestamp(b.year, 7, 1), "M"
        years = t0.year - b.year - ((t0.month, t0.day) < (b.month, b.day))
        return float(years), imp
    dx = pt["diagnosis_date__lo"]
    extra = (t0 - dx).days / 365.25
    return float(np.floor(pt["age_at_diagnosis_years"] + extra)), "D"


del dataclasses


def _baseline_state(bl: Any, cs: str, primary_refractory: Any, line: Any, lowsens: bool) -> str:
    """CR §3.3 state of the baseline assessment; history: in CR before the line?"""
    if bl is None:
        return "NOT_EVALUABLE"
    from rrball.clinical import baseline_disease_state

    status = line.disease_status_at_start
    rel = line.relapse_number
    if primary_refractory == "no" or status in ("mrd_positive", "cr_mrd_negative") or (
            rel == rel and rel is not None and float(rel) >= 1):
        ever: bool | None = True
    elif primary_refractory == "yes":
        ever = False
    else:
        ever = None
    remn = {"cr1": 1, "cr2": 2, "cr3plus": 3}.get(str(line.remission_number_at_start))
    return baseline_disease_state(_assessment(bl), criteria_set=cs, ever_in_cr=ever,
                                  remission_number=remn,
                                  mrd_lowsens_counts_negative=lowsens).state
