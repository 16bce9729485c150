"""Synthetic profiles meet data-dictionary.md §8: exact counts (rule 1), calibrated survival
(rule 3, fast version of ``benchmarks/synthetic_calibration.py``), toxicity rows that grade to
the allocated grade (rule 4) and the PROPOSED list (rule 5)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from rrball.clinical import ctcae_grade, diagnose_sos_vod, grade_crs
from rrball.cohort import synthetic_cohort
from rrball.cohort._synthetic_survival import batch_curve
from rrball.cohort.synthetic import PROFILES, THETA, expected_estimates

SEEDS = (0, 5)


def _n(mask: Any) -> int:
    return int(np.asarray(mask).sum())


@pytest.fixture(scope="module", params=[(p, s) for p in PROFILES for s in SEEDS],
                ids=lambda x: f"{x[0]}-{x[1]}")
def cohort(request: pytest.FixtureRequest) -> tuple[str, Any, pd.DataFrame]:
    p, s = request.param
    c = synthetic_cohort(p, seed=s)
    return p, c, c.analysis_table()


def test_counts(cohort: tuple[str, Any, pd.DataFrame]) -> None:
    p, c, a = cohort
    resp, crf, neg = a["RESPFL"] == 1, a["CRFL"] == 1, a["MRDNEGFL"] == 1
    adult = a["AGEGR1"] == "adult"
    if p == "seed000":
        bl = a["DRUGGRP"] == "blinatumomab"
        ino = ~bl
        ph, kt = a["PHSTAT"] == "positive", a["KMT2A"] == "rearranged"
        mr = a["BLSTATR"] == "mrd_positive"
        hr = ~mr
        assert (_n(bl), _n(ino), _n(bl & adult), _n(ino & adult)) == (128, 54, 76, 28)
        assert (_n(bl & (a["SEX"] == "male")), _n(ino & (a["SEX"] == "male"))) == (74, 30)
        assert (_n(bl & ph), _n(ino & ph), _n(bl & kt), _n(ino & kt)) == (18, 3, 14, 3)
        assert a.loc[ph, "TKI"].value_counts().to_dict() == {"dasatinib": 13, "imatinib": 6,
                                                              "nilotinib": 2}
        assert (_n(a["PRIORHSCT"] == "yes"), _n(ino & (a["PRIORBLIN"] == "yes"))) == (46, 22)
        assert a["RELCTX"].value_counts().to_dict() == {"after_chemotherapy": 127,
                                                        "after_allo_hsct": 46,
                                                        "primary_refractory": 9}
        assert a.loc[mr, "REMNUM"].value_counts().to_dict() == {"cr2": 33, "cr1": 28,
                                                                "cr3plus": 8}
        # response as the seed counts it: HR responders (RESPFL), MR = MRD conversion
        assert (_n(mr & neg), _n(bl & hr & resp), _n(ino & resp)) == (62, 34, 44)
        seed_resp = (resp & hr) | (mr & neg)
        assert (_n(bl & adult & seed_resp), _n(bl & ~adult & seed_resp)) == (63, 33)
        assert (_n(ino & adult & seed_resp), _n(ino & ~adult & seed_resp)) == (23, 21)
        # "CR" of the seed = MRD-negative CR (Decision 2)
        assert (_n(bl & adult & neg), _n(bl & ~adult & neg)) == (57, 28)
        assert (_n(ino & adult & neg), _n(ino & ~adult & neg)) == (14, 14)
        assert (_n(bl & ph & neg), _n(ino & ph & neg), _n(kt & seed_resp)) == (12, 3, 7)
        pt = c.table("patients").set_index("patient_id").loc[a["SUBJID"]]
        dx_age = (pd.to_datetime(pt["diagnosis_date"]) -
                  pd.to_datetime(pt["birth_date"])).dt.days.to_numpy() / 365.25
        assert (_n(kt.to_numpy() & (dx_age < 1)), _n(kt & ~adult), a["AGE"].min(),
                a["AGE"].max()) == (9, 11, 1, 72)
    elif p == "seed001":
        rr = a["REGIMEN"] == "blinatumomab_rr_us"
        assert (_n(~rr), _n(rr), _n(a["PRIORHSCT"] == "yes")) == (23, 43, 18)
        assert (_n(rr & crf), _n(rr & crf & neg), _n(~rr & neg)) == (29, 24, 16)
        std, high = a["CYTORISK"] == "standard", a["CYTORISK"] == "high"
        assert (_n(rr & std), _n(rr & std & crf), _n(rr & high), _n(rr & high & crf)) == \
            (26, 19, 17, 10)
        assert (a["AGE"].min(), a["AGE"].max()) == (18, 72)
        ae = c.table("adverse_events")
        g = [_grade(r) for r in ae.to_dict("records")]
        assert ae.loc[np.array(g) >= 3, "patient_id"].nunique() == 25
        assert _n(ae["action_taken"] == "discontinued") == 11
    elif p == "seed003":
        orig = a["REGIMEN"] == "mini_hcvd_ino"
        assert (_n(orig), _n(~orig), _n(resp), _n(crf)) == (67, 41, 89, 67)
        for grp, n, k in (("primary_refractory", 8, 8), ("cr1_lt_cut", 25, 21),
                          ("cr1_ge_cut", 44, 42)):
            m = a["S1GRP"] == grp
            assert (_n(m), _n(m & resp)) == (n, k)
        for grp, n, k in (("S2", 17, 10), ("S3+", 14, 8)):
            m = a["SALVGR"] == grp
            assert (_n(m), _n(m & resp)) == (n, k)
        assert (_n(resp & (a["MRDEVLFL"] == 1)), _n(resp & neg)) == (87, 71)
        assert (_n(a["PRIORHSCT"] == "yes"), _n(orig & (a["HSCTFL"] == 1)),
                _n(~orig & (a["HSCTFL"] == 1))) == (21, 29, 18)
        assert (a["AGE"].min(), a["AGE"].median(), a["AGE"].max()) == (17, 37, 87)
        vod = a["VODFL"] == 1
        assert (_n(orig & vod), _n(~orig & vod), _n(~orig & vod & (a["HSCTFL"] == 1))) == \
            (9, 1, 1)
        _check_sos(c, 10)
    else:
        st = a["BLSTATR"].value_counts().to_dict()
        assert st == {"haematological_relapse": 24, "primary_refractory": 2,
                      "cr_mrd_negative": 1}
        assert a.loc[a["BLSTATR"] == "haematological_relapse", "RELNUM"].value_counts() \
            .to_dict() == {1: 15, 2: 7, 3: 2}
        assert (_n(a["PRIORBLIN"] == "yes"), _n(a["PRIORCART"] == "yes"),
                _n(a["PRIORHSCT"] == "yes")) == (13, 8, 3)
        assert (_n(a["BLBMBL"] > 5), _n(a["BLDETFL"] == 1)) == (21, 26)
        det = a["BLSTATR"] != "cr_mrd_negative"
        assert _n(det & (a["MRDNEGEMDFL"] == 1)) == 13
        assert (_n(a["HSCTFL"] == 1), _n((a["HSCTFL"] == 1) & (a["VODFL"] == 1))) == (18, 5)
        assert a["AGE"].max() < 18
        _check_sos(c, 5)
        ae = c.table("adverse_events")
        liver = ae[ae["ae_term"] == "alt_increased"]
        assert len(liver) == 1 and _grade(liver.iloc[0].to_dict()) == 3
        one = a.loc[a["SUBJID"] == liver.iloc[0]["patient_id"], "NCYCLES"]
        assert float(one.iloc[0]) == 1.0
    assert "synthetic_assumptions" in c.metadata


def _t(x: Any) -> bool | None:
    return None if x is None or x != x else x == "yes"


def _grade(r: dict[str, Any]) -> int:
    term = r["ae_term"]
    if term == "crs":
        return grade_crs(temp_max_c=r["temp_max_c"], hypotension=_t(r["hypotension"]),
                         n_vasopressors_excl_vasopressin=int(r["n_vasopressors_excl_vasopressin"]),
                         vasopressin=_t(r["vasopressin"]),
                         oxygen_device=r["oxygen_device"]).grade
    if term == "neutrophil_count_decreased":
        return ctcae_grade(term, r["anc"], lln=r["anc_lln"]).grade
    return ctcae_grade(term, r["alt"], r["alt_uln"], r["alt_baseline"]).grade


def _check_sos(c: Any, k: int) -> None:
    ae = c.table("adverse_events")
    sos = ae[ae["ae_term"] == "sos_vod"]
    hx = c.table("transplants").set_index("hsct_id")
    assert len(sos) == k and sos["hsct_id"].notna().all()
    for r in sos.to_dict("records"):
        day = (pd.Timestamp(r["onset_date"]) - pd.Timestamp(hx.loc[r["hsct_id"],
                                                                   "hsct_date"])).days
        res = diagnose_sos_vod(day=day, bilirubin_mg_dl=r["bilirubin"],
                               hepatomegaly=True, hepatomegaly_painful=True, ruq_pain=True,
                               ascites=r["ascites"], weight_kg=r["weight_kg"],
                               baseline_weight_kg=r["baseline_weight_kg"],
                               transfusion_refractory_thrombocytopenia=True)
        assert all(cr.diagnosed for cr in res.criteria.values()), res.criteria


def test_no_ae_rows_seed000() -> None:
    assert "adverse_events" not in synthetic_cohort("seed000", seed=2).table_names


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_calibration_fast(profile: str) -> None:
    """Mean model estimate over 60 fresh seeds is near every target (4 points; the
    least-squares compromises of infeasible seeds are listed in the benchmark)."""
    est = expected_estimates(profile, range(1000, 1060))
    for tg, e in zip(PROFILES[profile].targets, est, strict=True):
        tol = 25.0 if tg.kind == "FUMED" else 4.0
        if tg.id == "N001-04a":  # mixture of 66%/40% cannot give 53% (report)
            tol = 4.5
        assert abs(e - tg.value) < tol, (tg.id, tg.value, e)


def test_fast_path_equals_derived_endpoints() -> None:
    """The calibration's event-time mimic gives the same KM as the real ADTTE derivation."""
    c = synthetic_cohort("seed004", seed=9)
    e = c.endpoints()
    os_ = e[e["PARAMCD"] == "OS"]
    est, _ = batch_curve(np.zeros(len(os_), dtype=np.int64), os_["AVAL"].to_numpy(float),
                         os_["CNSR"].to_numpy() == 0, 24 * 30.4375)
    fast = expected_estimates("seed004", range(9, 10), THETA["seed004"])
    assert abs(100 * est[0] - fast[0]) < 1e-9


@pytest.mark.parametrize("seed", [0, 8, 14, 31])
def test_seed004_further_therapy_lines(seed: int) -> None:
    """N004-07: 19 of 27 with a later line (blinatumomab 10, chemotherapy 7, CAR-T 2), each
    after the index line (and after any HSCT), before death and last contact."""
    c = synthetic_cohort("seed004", seed=seed)
    tl = c.table("treatment_lines")
    later = tl[tl["index_line"] == "no"]
    assert later["regimen"].value_counts().to_dict() == {
        "blinatumomab_other": 10, "chemotherapy_other": 7, "car_t": 2}
    assert later["patient_id"].is_unique
    a = c.analysis_table().set_index("SUBJID")
    starts = later.set_index("patient_id")["line_start_date"]
    assert (a.loc[starts.index, "NEXTLNDT"] == starts).all()
    assert (starts > a.loc[starts.index, "TRTSDT"]).all()
    hs = a.loc[starts.index, "HSCTDT"]
    assert ((starts > hs) | hs.isna()).all()
    assert (starts <= a.loc[starts.index, "LSTCNDT"]).all()


@pytest.mark.parametrize("seed", [1, 9])
def test_seed001_discontinuations(seed: int) -> None:
    """N001-14/15: 11 discontinued blinatumomab for adverse events (their AE rows carry
    action_taken = discontinued), 5 more stopped early; ADSL DCTREAS carries the reason."""
    c = synthetic_cohort("seed001", seed=seed)
    a = c.analysis_table()
    assert a["DCTREAS"].value_counts().to_dict() == {"toxicity": 11, "other": 5}
    ae = c.table("adverse_events")
    disc = set(ae.loc[ae["action_taken"] == "discontinued", "patient_id"])
    assert disc == set(a.loc[a["DCTREAS"] == "toxicity", "SUBJID"])
