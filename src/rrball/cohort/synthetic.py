"""Synthetic seed-shaped cohorts (data-dictionary.md §8): ``synthetic_cohort(profile, seed=)``.

Rule 1: every published count is allocated exactly (fixed k of n per subgroup, shuffled with
``numpy.random.Generator(PCG64(seed))``); joint cells the seed does not give come from
iterative proportional fitting + margin-preserving largest remainder (``_synthetic_alloc``).
Rule 3: event times follow piecewise-exponential hazards whose parameters (``THETA``) were
calibrated so that the expected Kaplan–Meier estimate at each published time, under the
profile's own allocation and follow-up design, equals the target (``_synthetic_survival``;
re-run with ``calibrate_profile``; checked by ``benchmarks/synthetic_calibration.py``).
Rule 4: raw assessments, dated events and adverse-event rows with raw inputs (graded by
``rrball.clinical``). Rule 5: every PROPOSED value is in ``metadata["synthetic_assumptions"]``.
The result goes through the real validator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rrball.cohort._synthetic_alloc import (
    controlled_round,
    flags,
    ipf,
    largest_remainder,
    pick,
    split,
)
from rrball.cohort._synthetic_survival import (
    DPM,
    Hazards,
    Target,
    Times,
    calibrate,
    draw_uniforms,
    evaluate,
    simulate_times,
)
from rrball.cohort.validation import RawTable

__all__ = ["PROFILES", "THETA", "Profile", "calibrate_profile", "expected_estimates",
           "synthetic_attributes", "synthetic_cohort", "synthetic_tables"]

Attrs = dict[str, npt.NDArray[Any]]
FArr = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Profile:
    """A §8 profile: design dates, criteria set, PROPOSED assumptions and survival targets."""

    key: str
    criteria_set: str
    t0_from: dt.date
    t0_to: dt.date
    cutoff: dt.date
    fu_cap_days: int | None
    age_cut_rule: str
    response_window_days: int | None
    assumptions: tuple[str, ...]
    targets: tuple[Target, ...]
    theta0: tuple[float, ...]


def _g(key: str, val: Any = True) -> Callable[[Mapping[str, npt.NDArray[Any]]], Any]:
    return lambda a: np.asarray(a[key] == val, dtype=bool)


def _all(a: Mapping[str, npt.NDArray[Any]]) -> Any:
    return np.ones(len(a["resp"]), dtype=bool)


def _resp(a: Mapping[str, npt.NDArray[Any]]) -> Any:
    return np.asarray(a["resp"], dtype=bool)


def _and(*fs: Callable[[Mapping[str, npt.NDArray[Any]]], Any],
         ) -> Callable[[Mapping[str, npt.NDArray[Any]]], Any]:
    def f(a: Mapping[str, npt.NDArray[Any]]) -> Any:
        out = np.ones(len(a["resp"]), dtype=bool)
        for g in fs:
            out &= g(a)
        return out
    return f


PROFILES: dict[str, Profile] = {
    "seed000": Profile(
        "seed000", "seed000", dt.date(2015, 4, 1), dt.date(2019, 10, 31), dt.date(2021, 12, 31),
        730, "le", None,
        ("prior allo-HSCT 46 split by arm in proportion to non-refractory patients",
         "HR responders split relapse/refractory in proportion",
         "MR response = MRD conversion at day 28 and MR non-responders stay MRD-positive",
         "CR (seed) = MRD-negative CR (Decision 2)",
         "KMT2A and Ph+ disjoint and KMT2A non-responders have active disease",
         "Ph+ InO 3/3 are MRD-negative CR",
         "HSCT in 40% of responders on day 70-130", "NRM 20% of post-response events",
         "survival hazards: median OS of non-responders 5 months",
         "loss to follow-up hazard calibrated to median crude observation 244 days",
         "no AE rows"),
        (Target("N000-OBS", "FUMED", _all, 0.0, 244.0),), (-6.5,)),
    "seed001": Profile(
        "seed001", "blincyto_trials", dt.date(2015, 1, 1), dt.date(2018, 4, 30),
        dt.date(2018, 6, 30), None, "le", None,
        ("criteria_set blincyto_trials", "t0 2015-01..2018-04 and data cut-off 2018-06-30",
         "male 50%", "MRD+ group CR1/CR2 50/50", "MRD conversion 70% in the MRD+ group",
         "R/R BM blasts >= 50% in 50%", "prior allo-HSCT 18 split by arm size",
         "HSCT in 50% of responders on day 70-130",
         "relapse share of first events and HSCT effect calibrated to CIR 21% vs 55%",
         "grade 3-4 AE 25/66 as CRS grade 3 / neutropenia grade 4 / ALT grade 3 rows",
         "11 of the AE patients discontinued blinatumomab (action_taken, line_end_reason "
         "toxicity); 5 others stopped early (line_end_reason other)",
         "median OS of non-responders 5 months"),
        (Target("N001-04a", "OS", _all, 24, 53), Target("N001-04b", "DFS", _all, 24, 38),
         Target("N001-10a", "OS", _g("arm", 1), 24, 40),
         Target("N001-10b", "DFS", _g("arm", 1), 24, 26),
         Target("N001-11a", "OS", _g("arm", 0), 24, 66),
         Target("N001-11b", "DFS", _g("arm", 0), 24, 51),
         Target("N001-12a", "CIR", _g("hsct"), 24, 21, weight=0.5),
         Target("N001-12b", "CIR", _g("hsct", False), 24, 55, weight=0.5)),
        (-7.0, -6.3, -5.5, -5.0, -0.8, 1.5, -1.0)),
    "seed003": Profile(
        "seed003", "mdacc_seed003", dt.date(2013, 2, 1), dt.date(2021, 4, 30),
        dt.date(2021, 6, 30), None, "le", 112,
        ("response_window_days 112", "male 50%", "original t0 2013-02..2017-06, amended "
         "2017-07..2021-04, data cut-off 2021-06-30",
         "salvage strata, responders, CR/CRp-CRi and MRD split by schedule in proportion",
         "CR1 < 12 months 90-350 days and > 12 months 380-1800 days",
         "prior HCT 21 among relapsed patients", "HCT day 60-180 (median 4 months)",
         "relapse share of post-response events calibrated (CRDUR 48%)", "landmark 120 days",
         "VOD 9/67 original among HCT patients and 1/41 amended (an HCT patient), day +14",
         "median survival at least 1 month without response and 2 months after relapse"),
        (Target("N003-14b", "OS", _all, 36, 37), Target("N003-17", "OS", _all, 14, 50),
         Target("N003-15a", "OS", _g("s2plus", False), 36, 46),
         Target("N003-15b", "OS", _g("s2plus"), 36, 16),
         Target("N003-16a", "OS", _and(_resp, _g("mrdneg")), 36, 58),
         Target("N003-16b", "OS", _and(_resp, _g("mrdneg", False)), 36, 8),
         Target("N003-18a", "LM", _all, 36 - 120 / DPM, 51, 120, True),
         Target("N003-18b", "LM", _all, 36 - 120 / DPM, 47, 120, False),
         Target("N003-14a", "CRDUR", _all, 36, 48)),
        (-3.5, 2.5, -7.0, 0.8, 1.6, -3.2, -0.3, -1.2, 1.4)),
    "seed004": Profile(
        "seed004", "besponsa_label", dt.date(2019, 1, 1), dt.date(2024, 8, 30),
        dt.date(2025, 1, 31), None, "lt", None,
        ("age 1-17", "male 50%", "no Ph+", "data cut-off 2025-01-31",
         "21 responders (CR/CRi) incl. the CR1 patient", "HSCT 18 all among responders",
         "further therapy (19: blinatumomab 10, chemotherapy 7, CAR-T 2) 7 days after a "
         "relapse, day 45 without response, else post-HSCT maintenance; after any HSCT",
         "5 detectable patients with BM blasts <= 5% have blood blasts",
         "NRM 25% after HSCT", "SOS day +14 after HSCT meets every criteria set",
         "single-dose patient: ALT grade 3 with InO discontinued",
         "further therapy lines (blinatumomab 10, chemotherapy 7, CAR-T 2) not generated"),
        (Target("N004-09", "OS", _all, 24, 39.4),
         Target("N004-10", "OS", _g("mrdneg_emd", False), 24, 28.6),
         Target("N004-11", "OS", _g("mrdneg_emd"), 24, 50.1),
         Target("N004-13", "OS", _g("prior_blin"), 24, 30.8),
         Target("N004-14", "OS", _g("prior_blin", False), 24, 48.7)),
        (-5.0, -7.0, 0.5, 0.5, -4.5)),
}

# Calibrated θ (calibrate_profile(profile, n_rep=200, seed=12345)); see the hazard functions.
THETA: dict[str, tuple[float, ...]] = {
    "seed000": (-6.1123,),
    "seed001": (-6.5647, -5.8649, -6.3407, -7.176, -0.6294, 0.9469, -1.3404),
    "seed003": (-3.5, 2.9941, -6.6031, 0.6805, 1.5591, -3.899, -0.3296, -1.9139, 2.1557),
    "seed004": (-5.3999, -7.0452, 0.0078, 0.5835, -3.678),
}


# ---- hazards per profile (θ = log daily hazards / log hazard ratios) ----------------------------
def _hz(a: Mapping[str, npt.NDArray[Any]], nr: FArr | float, e: FArr | float,
        post: FArr | float, p_rel: FArr | float, shape: float = 0.0,
        ltfu: float = 0.0) -> Hazards:
    n = len(a["resp"])

    def full(x: FArr | float) -> FArr:
        return np.broadcast_to(np.asarray(x, float), (n,)).copy()

    return Hazards(full(nr), full(e), full(post), full(p_rel), shape, ltfu)


_NR5 = np.log(2) / (5 * DPM)  # non-responders: median 5 months (PROPOSED)
_POST_RELAPSE_CAP = float(np.log(2) / (2 * DPM))  # seed 003: survival after relapse >= 2 months
_NR_CAP = float(np.log(2) / (1 * DPM))  # seed 003: non-responders survive >= 1 month


def _hz000(th: FArr, a: Mapping[str, npt.NDArray[Any]]) -> Hazards:
    return _hz(a, _NR5, np.log(2) / (14 * DPM), np.log(2) / (4 * DPM), 0.8,
               ltfu=float(np.exp(th[0])))


def _hz001(th: FArr, a: Mapping[str, npt.NDArray[Any]]) -> Hazards:
    rr = np.asarray(a["arm"] == 1)
    hs = np.asarray(a["hsct"], bool)
    e = np.exp(np.where(rr, th[1], th[0]) + np.where(hs, th[4], 0.0))
    post = np.exp(np.where(rr, th[3], th[2]))
    p_rel = 1 / (1 + np.exp(-(th[5] + th[6] * hs)))
    return _hz(a, _NR5, e, post, p_rel)


def _hz003(th: FArr, a: Mapping[str, npt.NDArray[Any]]) -> Hazards:
    s2 = np.asarray(a["s2plus"], bool)
    pos = ~np.asarray(a["mrdneg"], bool)
    hs = np.asarray(a["hsct"], bool)
    # realism floors (PROPOSED): non-responders survive a median of at least 1 month and
    # relapsed patients at least 2 months; an unbounded fit put both at hours
    nr = np.minimum(np.exp(th[0] + th[1] * s2), _NR_CAP)
    e = np.exp(th[2] + th[3] * s2 + th[4] * pos + th[6] * hs)
    post = min(float(np.exp(th[5])), _POST_RELAPSE_CAP)
    return _hz(a, nr, e, post, 1 / (1 + np.exp(-th[8])), shape=float(th[7]))


def _hz004(th: FArr, a: Mapping[str, npt.NDArray[Any]]) -> Hazards:
    notneg = ~np.asarray(a["mrdneg_emd"], bool)
    blin = np.asarray(a["prior_blin"], bool)
    hs = np.asarray(a["hsct"], bool)
    nr = np.exp(th[0] + th[3] * blin)
    e = np.exp(th[1] + th[2] * notneg + th[3] * blin)
    return _hz(a, nr, e, np.exp(th[4]), np.where(hs, 0.75, 0.8))


_HAZARDS: dict[str, Callable[[FArr, Mapping[str, npt.NDArray[Any]]], Hazards]] = {
    "seed000": _hz000, "seed001": _hz001, "seed003": _hz003, "seed004": _hz004}


# ---- allocation helpers -------------------------------------------------------------------------
def _expand(rng: np.random.Generator, cells: list[tuple[dict[str, Any], int]]) -> Attrs:
    """Cells (attribute dict, count) -> shuffled per-patient arrays."""
    keys = list(cells[0][0])
    rows = [c for c, k in cells for _ in range(k)]
    perm = rng.permutation(len(rows))
    return {k: np.array([rows[i][k] for i in perm]) for k in keys}


def _cells2(rows: list[tuple[dict[str, Any], int]], var: str, levels: list[Any],
            margin: list[int], weights: FArr | None = None,
            ) -> list[tuple[dict[str, Any], int]]:
    """Split each cell over ``levels`` of ``var`` with totals ``margin`` (IPF + rounding)."""
    tab = split([k for _, k in rows], margin, weights)
    out = []
    for (c, _), r in zip(rows, tab, strict=True):
        for lv, k in zip(levels, r, strict=True):
            if k:
                out.append(({**c, var: lv}, int(k)))
    return out


def _assign(rng: np.random.Generator, a: Attrs, var: str, value: Any, default: Any,
            eligible: npt.NDArray[np.bool_], k: int) -> None:
    if var not in a:
        a[var] = np.full(len(a["resp"]), default, dtype=object)
    a[var][pick(rng, eligible & (a[var] == default), k)] = value


# ---- profiles: allocation -----------------------------------------------------------------------
def _alloc000(rng: np.random.Generator) -> Attrs:
    parts = []
    # arm, status, responders (HR responders split in proportion: 31/3 blina, 41/3 InO)
    for arm, st, resp_by_age, cr_by_age in (
            (0, [("mrd_positive", 69, 62), ("haematological_relapse", 54, 31),
                 ("primary_refractory", 5, 3)], ((33, 52), (63, 76)), (28, 57)),
            (1, [("haematological_relapse", 50, 41), ("primary_refractory", 4, 3)],
             ((21, 26), (23, 28)), (14, 14))):
        rows: list[tuple[dict[str, Any], int]] = []
        for s, n, r in st:
            rows += [({"arm": arm, "status": s, "resp": True}, r),
                     ({"arm": arm, "status": s, "resp": False}, n - r)]
        rows = [x for x in rows if x[1]]
        resp_rows = [x for x in rows if x[0]["resp"]]
        non_rows = [x for x in rows if not x[0]["resp"]]
        (rc, nc), (ra, na) = resp_by_age
        resp_rows = _cells2(resp_rows, "child", [True, False], [rc, ra])
        non_rows = _cells2(non_rows, "child", [True, False], [nc - rc, na - ra])
        # MRD-negative CR among responders by age; MR responders are all MRD-negative
        out = [({**c, "mrdneg": True}, k) for c, k in resp_rows if c["status"] == "mrd_positive"]
        rest = [x for x in resp_rows if x[0]["status"] != "mrd_positive"]
        for child, crk in ((True, cr_by_age[0]), (False, cr_by_age[1])):
            sub = [x for x in rest if x[0]["child"] == child]
            done = sum(k for c, k in out if c["child"] == child)
            tot = sum(k for _, k in sub)
            out += _cells2(sub, "mrdneg", [True, False], [crk - done, tot - (crk - done)])
        out += [({**c, "mrdneg": False}, k) for c, k in non_rows]
        parts.append(_expand(rng, out))
    a = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = len(a["arm"])
    blina = a["arm"] == 0
    a["ph"] = np.zeros(n, bool)
    # Ph+: blina 18 with CR 12 (MRD-negative), InO 3 all MRD-negative CR
    a["ph"] |= pick(rng, blina & a["mrdneg"], 12) | pick(rng, blina & ~a["mrdneg"], 6)
    a["ph"] |= pick(rng, ~blina & a["mrdneg"], 3)
    # KMT2A 17: arm 14/3, age 11 children (9 infants) / 6 adults, ORR 7/17 (IPF over arm x age)
    kt = np.zeros(n, bool)
    elig = ~a["ph"]
    seed_tab = np.array([[np.sum(elig & blina & a["child"]), np.sum(elig & blina & ~a["child"])],
                         [np.sum(elig & ~blina & a["child"]), np.sum(elig & ~blina & ~a["child"])]],
                        float)
    arm_age = controlled_round(ipf(seed_tab, [14, 3], [11, 6]), [14, 3], [11, 6])
    cells = [(b, c, int(arm_age[i, j])) for i, b in enumerate((True, False))
             for j, c in enumerate((True, False))]
    rr = [float(np.mean(a["resp"][(blina == b) & (a["child"] == c) & elig])) for b, c, _ in cells]
    resp_k = split([k for *_, k in cells], [7, 10],
                   np.array([[r, 1 - r] for r in rr]))
    active = a["status"] != "mrd_positive"
    for (b, c, _), (kr, kn) in zip(cells, resp_k, strict=True):
        base = elig & (blina == b) & (a["child"] == c)
        kt |= pick(rng, base & a["resp"], int(kr)) | pick(rng, base & ~a["resp"] & active, int(kn))
    a["kmt2a"] = kt
    inf_pool = kt & a["child"]
    a["infant"] = pick(rng, inf_pool, 9)
    # TKI among Ph+: dasatinib 13, imatinib 6, nilotinib 2
    a["tki"] = np.full(n, "", dtype=object)
    ph_idx = rng.permutation(np.flatnonzero(a["ph"]))
    a["tki"][ph_idx] = np.array(["dasatinib"] * 13 + ["imatinib"] * 6 + ["nilotinib"] * 2)
    # prior allo-HSCT 46 among non-refractory, split by arm in proportion
    nonref = a["status"] != "primary_refractory"
    k_arm = largest_remainder([np.sum(nonref & blina), np.sum(nonref & ~blina)], 46)
    a["prior_hsct"] = pick(rng, nonref & blina, int(k_arm[0])) | \
        pick(rng, nonref & ~blina, int(k_arm[1]))
    a["prior_blin"] = pick(rng, ~blina, 22)
    a["male"] = pick(rng, blina, 74) | pick(rng, ~blina, 30)
    a["remnum"] = np.full(n, "", dtype=object)
    mr_idx = rng.permutation(np.flatnonzero(a["status"] == "mrd_positive"))
    a["remnum"][mr_idx] = np.array(["cr1"] * 28 + ["cr2"] * 33 + ["cr3plus"] * 8)
    a["regimen"] = np.where(blina, "blinatumomab_seed000", "inotuzumab_seed000").astype(object)
    a["level"] = np.where(a["resp"], "CR", "NR").astype(object)
    a["resp_sched"] = a["resp"].copy()  # allocated (seed) response
    a["resp"] = a["resp"] | (a["status"] == "mrd_positive")  # derived RESPFL (§5.1)
    a["mrd_ne"] = np.zeros(n, bool)
    a["hsct"] = pick(rng, blina & a["resp_sched"], 38) | pick(rng, ~blina & a["resp_sched"], 18)
    a["hsct_day"] = rng.integers(70, 131, n).astype(float)
    a["age_range"] = np.array([(1, 18) if c else (19, 72) for c in a["child"]], dtype=object)
    a["ext_age"] = np.zeros(n, dtype=np.int64)
    a["ext_age"][pick(rng, a["child"] & ~kt, 1)] = 1
    a["ext_age"][pick(rng, ~a["child"], 1)] = 72
    return a


def _alloc001(rng: np.random.Generator) -> Attrs:
    rows: list[tuple[dict[str, Any], int]] = [
        ({"arm": 0, "status": "mrd_positive", "resp": True, "cyto": "unknown"}, 23),
        ({"arm": 1, "status": "haematological_relapse", "resp": True, "cyto": "standard"}, 19),
        ({"arm": 1, "status": "haematological_relapse", "resp": False, "cyto": "standard"}, 7),
        ({"arm": 1, "status": "haematological_relapse", "resp": True, "cyto": "high"}, 10),
        ({"arm": 1, "status": "haematological_relapse", "resp": False, "cyto": "high"}, 7)]
    # MRD-negative: 16 of 23 (70% PROPOSED), 24 of 29 CR in R/R (split by risk in proportion)
    mrd = [r for r in rows if r[0]["resp"]]
    out = _cells2(mrd[:1], "mrdneg", [True, False], [16, 7])
    out += _cells2(mrd[1:], "mrdneg", [True, False], [24, 5])
    out += [({**c, "mrdneg": False}, k) for c, k in rows if not c["resp"]]
    a = _expand(rng, out)
    n = len(a["arm"])
    rr = a["arm"] == 1
    a["male"] = pick(rng, ~rr, 12) | pick(rng, rr, 22)
    k = largest_remainder([23, 43], 18)
    a["prior_hsct"] = pick(rng, ~rr, int(k[0])) | pick(rng, rr, int(k[1]))
    a["blasts_hi"] = pick(rng, rr, 22)
    a["remnum"] = np.where(~rr, "", "").astype(object)
    a["remnum"][pick(rng, ~rr, 12)] = "cr1"
    a["remnum"][(~rr) & (a["remnum"] == "")] = "cr2"
    a["regimen"] = np.where(rr, "blinatumomab_rr_us", "blinatumomab_mrd_us").astype(object)
    a["level"] = np.where(a["resp"], "CR", "NR").astype(object)
    a["mrd_ne"] = np.zeros(n, bool)
    k = largest_remainder([23, 29], 26)
    a["hsct"] = pick(rng, ~rr, int(k[0])) | pick(rng, rr & a["resp"], int(k[1]))
    a["hsct_day"] = rng.integers(70, 131, n).astype(float)
    a["age_range"] = np.array([(18, 72)] * n, dtype=object)
    a["ext_age"] = np.zeros(n, dtype=np.int64)
    a["ext_age"][pick(rng, np.ones(n, bool), 1)] = 18
    a["ext_age"][pick(rng, a["ext_age"] == 0, 1)] = 72
    a["ae"] = pick(rng, np.ones(n, bool), 25)
    a["ae_disc"] = pick(rng, a["ae"], 11)
    # N001-15: 5 more stopped before the scheduled end (reason not stated: "other", PROPOSED);
    # drawn from a generator seeded by the current state, so the draws above stay as they were
    state = int(rng.bit_generator.state["state"]["state"])
    side = np.random.Generator(np.random.PCG64([state & 0xFFFFFFFF, 15]))
    a["early_stop"] = pick(side, ~a["ae_disc"], 5)
    return a


def _alloc003(rng: np.random.Generator) -> Attrs:
    strata = [("pr", 1, 8, 8), ("lt12", 1, 25, 21), ("gt12", 1, 44, 42), ("s2", 2, 17, 10),
              ("s3", 3, 14, 8)]
    rows: list[tuple[dict[str, Any], int]] = []
    for s, sal, n, r in strata:
        rows += [({"s1grp": s, "salv": sal, "resp": True}, r),
                 ({"s1grp": s, "salv": sal, "resp": False}, n - r)]
    rows = [x for x in rows if x[1]]
    rows = _cells2(rows, "arm", [0, 1], [67, 41])
    resp = [x for x in rows if x[0]["resp"]]
    out = _cells2(resp, "level", ["CR", "CRi"], [67, 22])
    out = _cells2(out, "mrd", ["neg", "pos", "ne"], [71, 16, 2])
    out += [({**c, "level": "NR", "mrd": "none"}, k) for c, k in rows if not c["resp"]]
    a = _expand(rng, out)
    n = len(a["arm"])
    a["mrdneg"] = a["mrd"] == "neg"
    a["mrd_ne"] = a["mrd"] == "ne"
    a["s2plus"] = a["salv"] >= 2
    a["status"] = np.where(a["s1grp"] == "pr", "primary_refractory",
                           "haematological_relapse").astype(object)
    orig = a["arm"] == 0
    a["regimen"] = np.where(orig, "mini_hcvd_ino", "mini_hcvd_ino_blina").astype(object)
    a["male"] = pick(rng, orig, 34) | pick(rng, ~orig, 20)
    a["prior_hsct"] = pick(rng, a["status"] != "primary_refractory", 21)
    a["hsct"] = pick(rng, orig & a["resp"], 29) | pick(rng, ~orig & a["resp"], 18)
    a["hsct_day"] = rng.integers(60, 181, n).astype(float)
    a["vod"] = pick(rng, orig & a["hsct"], 9) | pick(rng, ~orig & a["hsct"], 1)
    # ages: median 37, range 17-87 (exact order statistics)
    lo = rng.integers(17, 38, 53)
    hi = rng.integers(37, 88, 53)
    lo[0], hi[0] = 17, 87
    ages = rng.permutation(np.concatenate([lo, hi, [37, 37]]))
    a["age_fixed"] = ages.astype(np.int64)
    a["age_range"] = np.array([(17, 87)] * n, dtype=object)
    a["ext_age"] = np.zeros(n, dtype=np.int64)
    return a


def _alloc004(rng: np.random.Generator) -> Attrs:
    rows: list[tuple[dict[str, Any], int]] = [
        ({"status": "cr_mrd_negative", "relnum": 0, "resp": True, "level": "CR"}, 1),
        ({"status": "primary_refractory", "relnum": 0, "resp": True, "level": "CR"}, 1),
        ({"status": "primary_refractory", "relnum": 0, "resp": False, "level": "NR"}, 1)]
    for rn, n, r in ((1, 15, 12), (2, 7, 6), (3, 2, 1)):
        rows += [({"status": "haematological_relapse", "relnum": rn, "resp": True,
                   "level": "CR"}, r),
                 ({"status": "haematological_relapse", "relnum": rn, "resp": False,
                   "level": "NR"}, n - r)]
    rows = [x for x in rows if x[1]]
    act = [x for x in rows if x[0]["resp"] and x[0]["status"] != "cr_mrd_negative"]
    out = _cells2(act, "mrdneg_emd", [True, False], [13, 7])
    out += [({**c, "mrdneg_emd": c["status"] == "cr_mrd_negative"}, k) for c, k in rows
            if not (c["resp"] and c["status"] != "cr_mrd_negative")]
    a = _expand(rng, out)
    n = len(a["resp"])
    a["arm"] = np.zeros(n, dtype=np.int64)
    a["mrdneg"] = a["mrdneg_emd"].copy()
    a["mrd_ne"] = np.zeros(n, bool)
    a["regimen"] = np.full(n, "inotuzumab_seed004_peds", dtype=object)
    active = a["status"] != "cr_mrd_negative"
    a["blasts_hi"] = pick(rng, active, 21)
    a["prior_blin"] = pick(rng, np.ones(n, bool), 13)
    a["prior_cart"] = pick(rng, np.ones(n, bool), 8)
    a["prior_hsct"] = pick(rng, a["relnum"] >= 1, 3)
    a["male"] = flags(rng, n, 14)
    a["hsct"] = pick(rng, a["resp"], 18)
    a["hsct_day"] = rng.integers(70, 131, n).astype(float)
    a["sos"] = pick(rng, a["hsct"], 5)
    a["single_dose"] = pick(rng, ~a["hsct"], 1)
    a["age_range"] = np.array([(1, 17)] * n, dtype=object)
    a["ext_age"] = np.zeros(n, dtype=np.int64)
    return a


_ALLOC: dict[str, Callable[[np.random.Generator], Attrs]] = {
    "seed000": _alloc000, "seed001": _alloc001, "seed003": _alloc003, "seed004": _alloc004}


def _t0_days(rng: np.random.Generator, pr: Profile, a: Attrs) -> npt.NDArray[np.int64]:
    n = len(a["resp"])
    lo = np.full(n, pr.t0_from.toordinal(), dtype=np.int64)
    hi = np.full(n, pr.t0_to.toordinal(), dtype=np.int64)
    if pr.key == "seed003":  # original cohort before the amended one (§8)
        split_day = dt.date(2017, 7, 1).toordinal()
        orig = a["arm"] == 0
        hi[orig] = split_day - 1
        lo[~orig] = split_day
    # an HSCT (day hsct_day + 30 survived) happens before the data cut-off
    last = pr.cutoff.toordinal() - a["hsct_day"].astype(np.int64) - 31
    hi = np.where(a["hsct"], np.minimum(hi, last), hi)
    return (lo + np.floor(rng.random(n) * (hi - lo + 1))).astype(np.int64)


def synthetic_attributes(profile: str, seed: int) -> tuple[Attrs, FArr]:
    """Allocated patient attributes (exact counts), t0 and potential follow-up, and the
    uniforms of the event-time model — the random state of one cohort."""
    pr = _profile(profile)
    rng = np.random.Generator(np.random.PCG64(seed))
    a = _ALLOC[profile](rng)
    n = len(a["resp"])
    a["resp"] = np.asarray(a["resp"], bool)
    in_rem = np.isin(a["status"], ["mrd_positive", "cr_mrd_negative"])
    a["in_rem"] = in_rem
    a["resp_day"] = np.where(in_rem, 0.0, 28.0)
    a["hsct"] = np.asarray(a["hsct"], bool)
    a["t0"] = _t0_days(rng, pr, a)
    fol = pr.cutoff.toordinal() - a["t0"]
    if pr.fu_cap_days is not None:
        fol = np.minimum(fol, pr.fu_cap_days)
    a["follow"] = fol.astype(float)
    for k in ("prior_blin", "prior_cart", "prior_hsct", "mrdneg", "mrdneg_emd", "s2plus", "ph",
              "kmt2a", "infant", "blasts_hi", "ae", "ae_disc", "vod", "sos", "single_dose"):
        if k not in a:
            a[k] = np.zeros(n, bool)
    u = draw_uniforms(rng, n)
    return a, u


def _profile(profile: str) -> Profile:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, not {profile!r}")
    return PROFILES[profile]


def _times(profile: str, a: Attrs, u: FArr, theta: FArr | tuple[float, ...]) -> Times:
    hz = _HAZARDS[profile](np.asarray(theta, float), a)
    return simulate_times(hz, u, a["resp"], a["resp_day"], a["hsct"], a["hsct_day"],
                          a["follow"])


def _stack(profile: str, seeds: range) -> tuple[Attrs, FArr, npt.NDArray[np.int64]]:
    at, us, reps = [], [], []
    for i, s in enumerate(seeds):
        a, u = synthetic_attributes(profile, s)
        at.append(a)
        us.append(u)
        reps.append(np.full(len(a["resp"]), i, dtype=np.int64))
    keys = at[0].keys()
    return ({k: np.concatenate([x[k] for x in at]) for k in keys}, np.concatenate(us, axis=1),
            np.concatenate(reps))


def calibrate_profile(profile: str, n_rep: int = 300, seed: int = 12345,
                      ) -> tuple[FArr, FArr]:
    """Re-fit θ of a profile over ``n_rep`` cohorts (seeds ``seed`` …): (θ, mean estimates)."""
    pr = _profile(profile)
    a, u, rep = _stack(profile, range(seed, seed + n_rep))
    return calibrate(pr.theta0, _HAZARDS[profile], pr.targets, a, u, rep, n_rep)


def expected_estimates(profile: str, seeds: range,
                       theta: tuple[float, ...] | None = None) -> FArr:
    """Mean over ``seeds`` of each target's estimate under the model (no table building)."""
    pr = _profile(profile)
    a, u, rep = _stack(profile, seeds)
    tm = _times(profile, a, u, THETA[profile] if theta is None else theta)
    return evaluate(pr.targets, a, tm, rep, len(seeds))


# ---- tables -------------------------------------------------------------------------------------
def _d(x: int | float) -> str:
    return dt.date.fromordinal(int(x)).isoformat()


def _birth(rng: np.random.Generator, t0: int, age: int) -> int:
    d = dt.date.fromordinal(t0)
    try:
        anniv = d.replace(year=d.year - age)
    except ValueError:
        anniv = d.replace(year=d.year - age, day=28)
    return anniv.toordinal() - int(rng.integers(1, 360))


def synthetic_tables(profile: str, *, seed: int, n_scale: int = 1,
                     ) -> tuple[dict[str, pd.DataFrame], list[tuple[str, str]]]:
    """The profile's long tables as text (and metadata pairs), before validation.

    ``n_scale`` > 1 concatenates that many cohorts (seeds ``seed`` …, benchmarks); counts
    scale exactly.
    """
    pr = _profile(profile)
    frames: list[dict[str, list[dict[str, Any]]]] = []
    for k in range(n_scale):
        frames.append(_one_cohort(pr, seed + k, k))
    names = ("patients", "treatment_lines", "assessments", "transplants", "follow_up",
             "adverse_events")
    tables = {}
    for nm in names:
        rows = [r for f in frames for r in f[nm]]
        if rows or nm != "adverse_events":
            tables[nm] = pd.DataFrame(rows).fillna("")
    meta = [("schema_version", "1.0"), ("study_code", f"SYN{pr.key[-3:]}"),
            ("export_date", pr.cutoff.isoformat()), ("criteria_set", pr.criteria_set),
            ("unit_anc", "10^9/L"), ("unit_plt", "10^9/L"), ("unit_wbc", "10^9/L"),
            ("mrd_scale", "fraction"), ("age_cut_rule", pr.age_cut_rule),
            ("synthetic_assumptions", "; ".join(pr.assumptions))]
    if "adverse_events" in tables:
        meta += [("unit_enzymes", "U/L"), ("unit_bilirubin", "mg/dL"),
                 ("unit_creatinine", "mg/dL")]
    if pr.fu_cap_days is None:
        meta.append(("data_cutoff_date", pr.cutoff.isoformat()))
    if pr.response_window_days:
        meta.append(("response_window_days", str(pr.response_window_days)))
    return tables, meta


_MRD = {"mrd_lod": "1e-05", "mrd_unit": "1", "mrd_method": "1", "mrd_sample": "1"}


def _one_cohort(pr: Profile, seed: int, block: int) -> dict[str, list[dict[str, Any]]]:
    a, u = synthetic_attributes(pr.key, seed)
    tm = _times(pr.key, a, u, THETA[pr.key])
    rng = np.random.Generator(np.random.PCG64([seed, 1]))
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "patients", "treatment_lines", "assessments", "transplants", "follow_up",
        "adverse_events")}
    P, L, A, H, F, E = (out[k] for k in ("patients", "treatment_lines", "assessments",
                                           "transplants", "follow_up", "adverse_events"))
    n = len(a["resp"])
    course: list[dict[str, Any]] = []  # per patient, for the further-therapy pass (seed 004)
    for i in range(n):
        pid = f"{pr.key[-3:]}-{block * 100000 + i + 1:06d}"
        t0 = int(a["t0"][i])
        st = str(a["status"][i])
        in_rem = bool(a["in_rem"][i])
        prim = st == "primary_refractory"
        # age
        if "age_fixed" in a:
            age = int(a["age_fixed"][i])
        elif a["ext_age"][i]:
            age = int(a["ext_age"][i])
        elif a["infant"][i]:
            age = int(rng.integers(1, 4))
        else:
            lo, hi = a["age_range"][i]
            if a["kmt2a"][i]:  # KMT2A children > 1 year at diagnosis
                lo = max(lo, 5)
            age = int(rng.integers(lo, hi + 1))
        birth = _birth(rng, t0, age)
        # history: relapse number, CR1 duration, diagnosis
        if pr.key == "seed003":
            relnum = 0 if prim else int(a["salv"][i])
            salv = int(a["salv"][i])
        elif pr.key == "seed004":
            relnum = int(a["relnum"][i])
            salv = 0 if in_rem else max(relnum, 1)
        elif st == "mrd_positive":
            relnum = {"cr1": 0, "cr2": 1, "cr3plus": 2}[str(a["remnum"][i])]
            salv = 0 if relnum == 0 else relnum
        else:
            relnum = 0 if prim else 1
            salv = 1
        s1 = str(a["s1grp"][i]) if "s1grp" in a else ""
        cr1_days = (int(rng.integers(90, 351)) if s1 == "lt12" else
                    int(rng.integers(380, 1801)) if s1 == "gt12" else int(rng.integers(150, 700)))
        gaps = 35 + (cr1_days if relnum >= 1 else 0) + 200 * max(relnum - 1, 0)
        lead = 15 if not in_rem else int(rng.integers(30, 90))
        dx = t0 - int(rng.integers(60, 121)) if prim else t0 - lead - gaps
        if a["infant"][i]:
            dx = birth + int(rng.integers(30, 300))
            if dx + gaps + lead > t0:
                dx = t0 - gaps - lead
        if dx < birth + 30:  # young children: compress the history
            avail = t0 - birth - 30 - lead - 35 - 200 * max(relnum - 1, 0)
            cr1_days = max(30, min(cr1_days, avail))
            dx = birth + 30
        first_cr = None if prim else dx + 35
        first_rel = first_cr + cr1_days if (first_cr is not None and relnum >= 1) else None
        ph = bool(a["ph"][i])
        P.append({"patient_id": pid, "centre_id": "C01", "sex": "1" if a["male"][i] else "2",
                  "birth_date": _d(birth), "diagnosis_date": _d(dx),
                  "ph_status": "1" if ph else "0",
                  "kmt2a_status": "1" if a["kmt2a"][i] else "0",
                  "kmt2a_partner": "AFF1" if a["kmt2a"][i] else "",
                  "cytogenetic_risk": str(a["cyto"][i]) if "cyto" in a else "",
                  "primary_refractory": "1" if prim else "0",
                  "first_cr_date": _d(first_cr) if first_cr else "",
                  "first_relapse_date": _d(first_rel) if first_rel else ""})
        line = f"{pid}-L1"
        single = bool(a["single_dose"][i])
        L.append({"line_id": line, "patient_id": pid, "line_start_date": _d(t0),
                  "index_line": "1", "regimen": str(a["regimen"][i]),
                  "salvage_number": str(salv), "relapse_number": str(relnum),
                  "disease_status_at_start": st,
                  "remission_number_at_start": (str(a["remnum"][i]) if st == "mrd_positive"
                                                else "cr1" if in_rem else ""),
                  "prior_allo_hsct": "1" if a["prior_hsct"][i] else "0",
                  "n_prior_allo_hsct": "1" if a["prior_hsct"][i] else "0",
                  "prior_blinatumomab": "1" if a["prior_blin"][i] else "0",
                  "prior_car_t": "1" if a["prior_cart"][i] else "0",
                  "tki": str(a["tki"][i]) if "tki" in a and ph else "",
                  "n_cycles": "1" if single else "2",
                  "line_end_reason": "toxicity" if single or _flag(a, "ae_disc", i)
                  else "other" if _flag(a, "early_stop", i) else ""})
        if a["prior_hsct"][i]:
            ref = first_rel if first_rel is not None else t0
            hd = (first_cr or dx) + max(1, (ref - (first_cr or dx)) // 2)
            H.append({"hsct_id": f"{pid}-H0", "patient_id": pid, "hsct_date": _d(hd),
                      "hsct_type": "1", "donor_type": "2", "hsct_number": "1"})
        # event times
        death = tm.death[i]
        lc = int(tm.last_contact[i])
        dead = bool(tm.dead[i])
        rel = tm.relapse[i] if np.isfinite(tm.relapse[i]) and tm.relapse[i] <= lc else np.inf
        # baseline assessment
        bl: dict[str, Any] = {"assessment_id": f"{line}-BL", "patient_id": pid,
                              "line_id": line, "assessment_date": _d(t0 - 3),
                              "assessment_reason": "1"}
        if in_rem:
            det = st == "mrd_positive"
            bl.update(bm_blast_pct="1" if det else "0", pb_blasts="0", emd="0", anc="2.1",
                      plt="160", mrd_detected="1" if det else "0",
                      mrd_value="0.001" if det else "0", **_MRD)
        elif pr.key in ("seed001", "seed004") and not a["blasts_hi"][i]:
            bl.update(bm_blast_pct="3" if pr.key == "seed004" else "30", pb_blasts="1",
                      emd="0", anc="0.8", plt="60", wbc="5",
                      mrd_detected="1", mrd_value="0.02", **_MRD)
        else:
            bl.update(bm_blast_pct="65" if pr.key == "seed001" else "45", pb_blasts="1",
                      emd="0", anc="0.4", plt="25", wbc="12")
        A.append(bl)
        resp = bool(a["resp"][i])
        lvl = str(a["level"][i])
        r1: dict[str, Any] = {"assessment_id": f"{line}-A1", "patient_id": pid,
                              "line_id": line, "assessment_date": _d(t0 + 28),
                              "assessment_reason": "2"}
        partial = lvl == "CRi"
        if resp or in_rem:
            if st == "mrd_positive" and not a.get("resp_sched", a["resp"])[i]:
                neg = False
            else:
                neg = bool(a["mrdneg"][i])
            r1.update(bm_blast_pct="1.5", pb_blasts="0", emd="0",
                      anc="0.8" if partial else "2.5", plt="60" if partial else "150")
            if not a["mrd_ne"][i]:
                r1.update(mrd_detected="0" if neg else "1", mrd_value="0" if neg else "0.002",
                          **_MRD)
        else:
            r1.update(bm_blast_pct="35", pb_blasts="1", emd="0", anc="0.3", plt="20")
        A.append(r1)
        k, day = 2, 88
        stop = min(lc, rel - 1) if resp else lc
        while day <= stop:
            row: dict[str, Any] = {"assessment_id": f"{line}-A{k}", "patient_id": pid,
                                   "line_id": line, "assessment_date": _d(t0 + day),
                                   "assessment_reason": "3"}
            if resp:
                row.update(bm_blast_pct="1", pb_blasts="0", emd="0",
                           anc="0.8" if partial else "2.2", plt="60" if partial else "180")
            else:
                row.update(bm_blast_pct="60", pb_blasts="1", emd="0")
            A.append(row)
            k += 1
            day += 90
        hsct = bool(a["hsct"][i])
        hday = int(a["hsct_day"][i])
        if hsct:
            H.append({"hsct_id": f"{pid}-H1", "patient_id": pid, "line_id": line,
                      "hsct_date": _d(t0 + hday), "hsct_type": "1", "donor_type": "2",
                      "hsct_number": "2" if a["prior_hsct"][i] else "1"})
        if np.isfinite(rel):
            F.append({"event_id": f"{pid}-R1", "patient_id": pid, "event_type": "1",
                      "event_date": _d(t0 + rel), "relapse_sites": "1",
                      "relapse_confirmation": "1"})
        if dead:
            cause = "1" if (np.isfinite(rel) or not resp) else "2"
            F.append({"event_id": f"{pid}-D", "patient_id": pid, "event_type": "2",
                      "event_date": _d(t0 + death), "death_cause": cause})
        F.append({"event_id": f"{pid}-LC", "patient_id": pid, "event_type": "3",
                  "event_date": _d(t0 + lc), "vital_status": "2" if dead else "1"})
        E.extend(_ae_rows(pr.key, a, i, pid, line, t0, hday, rng))
        course.append({"pid": pid, "t0": t0, "resp": resp, "rel": rel, "lc": lc,
                       "death": death if dead else np.inf, "hsct": hday if hsct else None,
                       "relnum": relnum, "salv": salv, "prim": prim, "in_rem": in_rem,
                       "mrdneg": bool(a["mrdneg"][i]), "prior_hsct": bool(a["prior_hsct"][i])})
    if pr.key == "seed004":
        _further_therapy(out, course, np.random.Generator(np.random.PCG64([seed, 4])))
    return out


#: seed 004 N004-07: further therapy after InO in 19 of 27 (blinatumomab 10, chemotherapy 7,
#: CAR-T 2); the order relative to HSCT is not stated (PROPOSED: after any HSCT)
_FURTHER = (("blinatumomab_other", 10, "blinatumomab after inotuzumab"),
            ("chemotherapy_other", 7, "salvage chemotherapy after inotuzumab"),
            ("car_t", 2, ""))


def _further_start(c: Mapping[str, Any]) -> tuple[int, str] | None:
    """Start day (from t0) and kind of a later line, or None when there is no room for one:
    after a relapse (7 days), after no response (day 45), else as post-HSCT maintenance
    (day 0 + 60); always after any HSCT, before death and last contact."""
    if c["in_rem"]:
        return None  # the CR1 patient has no relapse history to continue from
    if np.isfinite(c["rel"]):
        if c["prim"]:
            return None  # no CR1 history for a relapse status (R-XF-004)
        day, kind = int(c["rel"]) + 7, "relapse"
    elif not c["resp"]:
        day, kind = 45, "refractory"
    elif c["hsct"] is not None:
        day, kind = int(c["hsct"]) + 60, "maintenance"
    else:
        return None
    if c["hsct"] is not None:
        day = max(day, int(c["hsct"]) + 30)
    if day >= c["death"] or day > c["lc"]:
        return None
    return day, kind


def _further_therapy(out: dict[str, list[dict[str, Any]]], course: list[dict[str, Any]],
                     rng: np.random.Generator) -> None:
    """Seed 004's later lines (N004-07), allocated to patients with room for one: relapsed and
    refractory patients first, then post-HSCT maintenance; regimens shuffled over them."""
    starts = [_further_start(c) for c in course]
    order = sorted((k for k, st in enumerate(starts) if st is not None),
                   key=lambda k: (starts[k][1] == "maintenance", rng.random()))  # type: ignore[index]
    total = sum(n for _, n, _ in _FURTHER)
    chosen = order[:total]
    regimens = [r for r, n, _ in _FURTHER for _ in range(n)][:len(chosen)]
    rng.shuffle(regimens)
    detail = {r: d for r, _, d in _FURTHER}
    for k, reg in zip(chosen, regimens, strict=True):
        c = course[k]
        day, kind = starts[k]  # type: ignore[misc]
        start = int(c["t0"]) + day
        line = f"{c['pid']}-L2"
        if kind == "maintenance":
            status = "cr_mrd_negative" if c["mrdneg"] else "mrd_positive"
            relnum, remission = c["relnum"], ("cr1", "cr2", "cr3plus")[min(c["relnum"], 2)]
        elif kind == "relapse":
            status, relnum, remission = "haematological_relapse", c["relnum"] + 1, ""
        else:
            status = "primary_refractory" if c["prim"] else "refractory_relapse"
            relnum, remission = c["relnum"], ""
        out["treatment_lines"].append({
            "line_id": line, "patient_id": c["pid"], "line_start_date": _d(start),
            "index_line": "0", "regimen": reg, "regimen_detail": detail[reg],
            "salvage_number": str(c["salv"] + (0 if kind == "maintenance" else 1)),
            "relapse_number": str(relnum), "disease_status_at_start": status,
            "remission_number_at_start": remission,
            "prior_allo_hsct": "1" if (c["prior_hsct"] or c["hsct"] is not None) else "0",
            "n_prior_allo_hsct": str(int(c["prior_hsct"]) + int(c["hsct"] is not None)),
            "prior_blinatumomab": "0", "prior_car_t": "0", "tki": "", "n_cycles": "1",
            "line_end_reason": ""})
        for row in out["assessments"]:  # dated rows belong to the line of their window (§1)
            if row["patient_id"] == c["pid"] and row["assessment_date"] >= _d(start):
                row["line_id"] = line
        # the pre-line assessment that shows the status at start (CR §3.3), one or two days
        # before (not on the date of another assessment of the patient, R-KEY-003)
        taken = {r["assessment_date"] for r in out["assessments"] if r["patient_id"] == c["pid"]}
        free = [d for d in (_d(start - 2), _d(start - 1)) if d not in taken]
        if not free:
            continue
        pre = {"assessment_id": f"{line}-BL", "patient_id": c["pid"],
               "assessment_date": free[0], "assessment_reason": "1"}
        if kind == "maintenance":
            pre.update(bm_blast_pct="1", pb_blasts="0", emd="0", anc="2.0", plt="150",
                       mrd_detected="0" if c["mrdneg"] else "1",
                       mrd_value="0" if c["mrdneg"] else "0.001", **_MRD)
        else:
            pre.update(bm_blast_pct="40", pb_blasts="1", emd="0", anc="0.5", plt="30",
                       wbc="8")
        out["assessments"].append(pre)
    # rows of a patient together, in date order (as every reader and exporter keeps them)
    out["treatment_lines"].sort(key=lambda r: (r["patient_id"], r["line_start_date"]))
    out["assessments"].sort(key=lambda r: (r["patient_id"], r["assessment_date"]))


def _flag(a: Attrs, key: str, i: int) -> bool:
    """Patient ``i``'s allocation flag ``key`` (False for profiles without it)."""
    return bool(a[key][i]) if key in a else False


def _ae(pid: str, line: str, n: int, term: str, onset: int, **kw: Any) -> dict[str, Any]:
    return {"ae_obs_id": f"{pid}-AE{n}-1", "ae_id": f"{pid}-AE{n}", "patient_id": pid,
            "line_id": line, "ae_term": term, "onset_date": _d(onset), "obs_date": _d(onset),
            **kw}


def _ae_rows(key: str, a: Attrs, i: int, pid: str, line: str, t0: int, hday: int,
             rng: np.random.Generator) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if key == "seed001" and a["ae"][i]:
        kind = int(rng.integers(0, 3))
        act = "3" if a["ae_disc"][i] else "1"
        if kind == 0:  # CRS grade 3: fever, hypotension on one vasopressor
            rows.append(_ae(pid, line, 1, "crs", t0 + 2, temp_max_c="39.2", hypotension="1",
                            n_vasopressors_excl_vasopressin="1", vasopressin="0",
                            oxygen_device="0", action_taken=act, tocilizumab="1"))
        elif kind == 1:  # neutrophil count decreased grade 4
            rows.append(_ae(pid, line, 1, "neutrophil_count_decreased", t0 + 10, anc="0.3",
                            anc_lln="1.8", action_taken=act))
        else:  # ALT increased grade 3 (> 5 x ULN)
            rows.append(_ae(pid, line, 1, "alt_increased", t0 + 8, alt="280", alt_uln="40",
                            alt_baseline="30", action_taken=act))
    if (key == "seed003" and a["vod"][i]) or (key == "seed004" and a["sos"][i]):
        on = t0 + hday + 14  # classical SOS/VOD, day +14 after HSCT
        rows.append(_ae(pid, line, 1, "sos_vod", on, hsct_id=f"{pid}-H1",
                        bilirubin="3.4", bilirubin_uln="1.2", weight_kg="63.0",
                        baseline_weight_kg="58.0", hepatomegaly="1", hepatomegaly_painful="1",
                        ruq_pain="1", ascites="2", plt_transfusion_refractory="1",
                        refractory_thrombocytopenia_days="5", defibrotide="1"))
    if key == "seed004" and a["single_dose"][i]:
        rows.append(_ae(pid, line, 2, "alt_increased", t0 + 6, alt="320", alt_uln="40",
                        alt_baseline="35", action_taken="3", related_to_line="1"))
    return rows


def raw_from_frames(tables: dict[str, pd.DataFrame], source: str) -> dict[str, RawTable]:
    """Text frames -> ``RawTable``s (as a CSV reader would produce them)."""
    out = {}
    for name, df in tables.items():
        cells = [df[c].to_numpy(dtype=object) for c in df.columns]
        out[name] = RawTable(name, name, source, list(df.columns), cells,
                             np.arange(2, len(df) + 2, dtype=np.int64))
    return out


def synthetic_cohort(profile: str, *, seed: int, n_scale: int = 1,
                     inject_errors: bool = False) -> Any:
    """A validated ``Cohort`` shaped like a seed (§8): ``seed000``, ``seed001``, ``seed003``,
    ``seed004``. Deterministic for a given ``seed``.

    ``inject_errors=True`` (§8 rule 5) returns instead an
    :class:`rrball.cohort.inject.InjectedCohort`: the tables with one violation of each E rule
    of ``rrball.cohort.inject.COVERED_RULES`` and the expected error list alongside (its
    ``validate()`` runs the real validator, ``write(folder)`` writes the CSV files)."""
    from rrball.cohort.cohort import validate_raw

    tables, meta = synthetic_tables(profile, seed=seed, n_scale=n_scale)
    if inject_errors:
        from rrball.cohort.inject import inject_errors as _inject

        return _inject(tables, meta, profile=profile, seed=seed)
    pairs = [(k, v, i + 2) for i, (k, v) in enumerate(meta)]
    return validate_raw(raw_from_frames(tables, f"synthetic:{profile}"), pairs,
                        source=f"synthetic:{profile}")
