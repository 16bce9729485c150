"""Synthetic seed-shaped cohorts (data-dictionary.md §8): ``synthetic_cohort(profile, seed=)``.

Published counts are allocated exactly (fixed k of n per arm, shuffled with
``numpy.random.Generator(PCG64(seed))``, §8 rule 1); raw assessments are generated so that the
derived response equals the allocated one (rule 4). Survival follows exponential hazards with
PROPOSED medians (rule 3 calibration is not done: see ``metadata["synthetic_assumptions"]``).
The result goes through the real validator; ``Cohort.export`` writes it in any import format.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rrball.cohort.validation import RawTable

__all__ = ["PROFILES", "Arm", "Profile", "synthetic_cohort", "synthetic_tables"]


@dataclass(frozen=True, slots=True)
class Arm:
    """One arm: size, regimen code, status at start counts, responders, MRD-negative responders,
    children, males (exact counts, §8 table)."""

    n: int
    regimen: str
    statuses: tuple[tuple[str, int, int], ...]  # (status, n, responders)
    mrd_negative: int
    children: int
    males: int


@dataclass(frozen=True, slots=True)
class Profile:
    """A §8 profile. Dates are t0 window bounds; ``fu_cap_days`` cuts follow-up at t0 + cap."""

    key: str
    criteria_set: str
    arms: tuple[Arm, ...]
    t0_from: dt.date
    t0_to: dt.date
    age_child: tuple[int, int]
    age_adult: tuple[int, int]
    age_cut_rule: str
    cutoff: dt.date
    fu_cap_days: int | None
    hsct_share: float
    median_os_months: float
    median_rel_months: float
    partial_counts: bool  # responders include CRp/CRi-like count recovery (seed 003)
    response_window_days: int | None
    assumptions: str


PROFILES: dict[str, Profile] = {
    "seed000": Profile(
        "seed000", "seed000",
        (Arm(128, "blinatumomab_seed000", (("mrd_positive", 69, 62),
                                          ("haematological_relapse", 54, 31),
                                          ("primary_refractory", 5, 3)), 85, 52, 74),
         Arm(54, "inotuzumab_seed000", (("haematological_relapse", 50, 41),
                                        ("primary_refractory", 4, 3)), 28, 26, 30)),
        dt.date(2015, 4, 1), dt.date(2019, 10, 31), (1, 18), (19, 72), "le",
        dt.date(2021, 12, 31), 730, 0.4, 18.0, 12.0, False, None,
        "HSCT 40% of responders; NRM via exponential death hazard; follow-up cut at t0+730; "
        "HR primary refractory split 5 of 59 with 3 responders (PROPOSED)"),
    "seed001": Profile(
        "seed001", "blincyto_trials",
        (Arm(23, "blinatumomab_mrd_us", (("mrd_positive", 23, 23),), 16, 0, 12),
         Arm(43, "blinatumomab_rr_us", (("haematological_relapse", 43, 29),), 24, 0, 21)),
        dt.date(2015, 1, 1), dt.date(2018, 4, 30), (18, 18), (18, 72), "le",
        dt.date(2018, 6, 30), None, 0.5, 20.0, 14.0, False, None,
        "criteria_set blincyto_trials; t0 2015-01..2018-04 (>= 60 days before cut-off); "
        "male 50%; MRD conversion 70%; "
        "HSCT 50% of responders; data cut-off 2018-06-30 (PROPOSED)"),
    "seed003": Profile(
        "seed003", "mdacc_seed003",
        (Arm(67, "mini_hcvd_ino", (("primary_refractory", 5, 5),
                                   ("haematological_relapse", 62, 51)), 44, 0, 34),
         Arm(41, "mini_hcvd_ino_blina", (("primary_refractory", 3, 3),
                                         ("haematological_relapse", 38, 30)), 27, 0, 20)),
        dt.date(2013, 2, 1), dt.date(2021, 4, 30), (17, 17), (17, 87), "le",
        dt.date(2021, 12, 31), None, 0.53, 14.0, 20.0, True, 112,
        "response_window_days 112; male 50%; ORR 89/108 with CR 67 and CRp/CRi 22; "
        "HSCT 47 of 89 responders (PROPOSED split)"),
    "seed004": Profile(
        "seed004", "besponsa_label",
        (Arm(27, "inotuzumab_seed004_peds", (("cr_mrd_negative", 1, 1),
                                             ("primary_refractory", 2, 1),
                                             ("haematological_relapse", 24, 19)), 13, 27, 14),),
        dt.date(2019, 1, 1), dt.date(2024, 8, 30), (1, 17), (1, 17), "lt",
        dt.date(2025, 1, 31), None, 0.67, 20.0, 12.0, False, None,
        "age 1-17; male 50%; no Ph+; HSCT 18; data cut-off 2025-01-31 (PROPOSED)"),
}


def _alloc(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    flags = np.zeros(n, dtype=bool)
    flags[:k] = True
    return rng.permutation(flags)


def _d(x: dt.date) -> str:
    return x.isoformat()


def synthetic_tables(profile: str, *, seed: int, n_scale: int = 1,
                     ) -> tuple[dict[str, pd.DataFrame], list[tuple[str, str]]]:
    """The profile's long tables as text (and metadata pairs), before validation.

    ``n_scale`` repeats every arm that many times (benchmarks); counts scale exactly.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, not {profile!r}")
    pr = PROFILES[profile]
    rng = np.random.Generator(np.random.PCG64(seed))
    P: list[dict[str, Any]] = []
    L: list[dict[str, Any]] = []
    A: list[dict[str, Any]] = []
    H: list[dict[str, Any]] = []
    F: list[dict[str, Any]] = []
    span = (pr.t0_to - pr.t0_from).days
    pid_n = 0
    for arm in pr.arms * n_scale:
        status = np.concatenate([[s] * n for s, n, _ in arm.statuses])
        resp = np.concatenate([_alloc(rng, n, r) for _, n, r in arm.statuses])
        order = rng.permutation(arm.n)
        status, resp = status[order], resp[order]
        n_resp = int(resp.sum())
        mrdneg = np.zeros(arm.n, dtype=bool)
        mrdneg[np.flatnonzero(resp)] = _alloc(rng, n_resp, min(arm.mrd_negative, n_resp))
        partial = np.zeros(arm.n, dtype=bool)
        if pr.partial_counts:
            partial[np.flatnonzero(resp)] = _alloc(rng, n_resp, round(n_resp * 22 / 89))
        child = _alloc(rng, arm.n, arm.children)
        male = _alloc(rng, arm.n, arm.males)
        t0s = pr.t0_from.toordinal() + np.sort(rng.integers(0, span + 1, arm.n))
        os_rate = np.log(2) / (pr.median_os_months * 30.4375)
        rel_rate = np.log(2) / (pr.median_rel_months * 30.4375)
        for i in range(arm.n):
            pid_n += 1
            pid = f"{pr.key[-3:]}-{pid_n:06d}"
            t0 = dt.date.fromordinal(int(t0s[i]))
            lo, hi = pr.age_child if child[i] else pr.age_adult
            age = int(rng.integers(lo, hi + 1))
            birth = dt.date(t0.year - age - 1, int(rng.integers(1, 13)), 1)
            if (t0.year - birth.year - ((t0.month, t0.day) < (birth.month, 15))) != age:
                birth = dt.date(t0.year - age, 1, 1) if t0.month > 1 else birth
            st = str(status[i])
            in_rem = st in ("mrd_positive", "cr_mrd_negative")
            prim = st == "primary_refractory"
            dx = t0 - dt.timedelta(days=int(rng.integers(60, 120)) if prim or in_rem
                                   else int(rng.integers(300, 1500)))
            dx = max(dx, birth + dt.timedelta(days=200))
            cr1 = None if prim else dx + dt.timedelta(days=35)
            rel1 = t0 - dt.timedelta(days=15) if st == "haematological_relapse" else None
            if rel1 is not None and cr1 is not None and rel1 <= cr1:
                rel1 = cr1 + dt.timedelta(days=1)
            P.append({"patient_id": pid, "centre_id": "C01", "sex": "1" if male[i] else "2",
                      "birth_date": f"{birth.year:04d}-{birth.month:02d}",
                      "diagnosis_date": _d(dx), "ph_status": "0", "kmt2a_status": "0",
                      "primary_refractory": "1" if prim else "0",
                      "first_cr_date": _d(cr1) if cr1 else "",
                      "first_relapse_date": _d(rel1) if rel1 else ""})
            line = f"{pid}-L1"
            relnum = 1 if st == "haematological_relapse" else 0
            L.append({"line_id": line, "patient_id": pid, "line_start_date": _d(t0),
                      "index_line": "1", "regimen": arm.regimen,
                      "salvage_number": "0" if in_rem else "1", "relapse_number": str(relnum),
                      "disease_status_at_start": st,
                      "remission_number_at_start": "cr1" if in_rem else "",
                      "prior_allo_hsct": "0", "prior_blinatumomab": "0", "n_cycles": "2"})
            # survival and events (days from t0)
            cap = pr.fu_cap_days
            end = (pr.cutoff - t0).days if cap is None else min(cap, (pr.cutoff - t0).days)
            t_death = max(rng.exponential(1 / os_rate), 30.0)  # responses are dated day 28
            t_rel = rng.exponential(1 / rel_rate) if resp[i] or in_rem else np.inf
            t_rel = max(t_rel, 45.0)
            dead = t_death <= end
            lc = int(t_death) if dead else end
            bl = {"assessment_id": f"{line}-BL", "patient_id": pid, "line_id": line,
                  "assessment_date": _d(t0 - dt.timedelta(days=3)), "assessment_reason": "1"}
            if in_rem:
                detected = st == "mrd_positive"
                bl.update(bm_blast_pct="1", pb_blasts="0", emd="0", anc="2.1", plt="160",
                          mrd_detected="1" if detected else "0",
                          mrd_value="0.001" if detected else "0", mrd_lod="1e-05",
                          mrd_unit="1", mrd_method="1", mrd_sample="1")
            else:
                bl.update(bm_blast_pct="45", pb_blasts="1", emd="0", anc="0.4", plt="25",
                          wbc="12")
            A.append(bl)
            r1 = {"assessment_id": f"{line}-A1", "patient_id": pid, "line_id": line,
                  "assessment_date": _d(t0 + dt.timedelta(days=28)), "assessment_reason": "2"}
            if resp[i] or in_rem:
                anc, plt = ("1.5", "60") if partial[i] else ("2.5", "150")
                neg = bool(mrdneg[i])
                r1.update(bm_blast_pct="1.5", pb_blasts="0", emd="0", anc=anc, plt=plt,
                          mrd_detected="0" if neg else "1", mrd_value="0" if neg else "0.002",
                          mrd_lod="1e-05", mrd_unit="1", mrd_method="1", mrd_sample="1")
            else:
                r1.update(bm_blast_pct="35", pb_blasts="1", emd="0", anc="0.3", plt="20")
            if lc >= 28:
                A.append(r1)
            relapsed = (resp[i] or in_rem) and t_rel < lc
            k = 2
            day = 88
            while day < min(lc, t_rel):
                A.append({"assessment_id": f"{line}-A{k}", "patient_id": pid, "line_id": line,
                          "assessment_date": _d(t0 + dt.timedelta(days=day)),
                          "assessment_reason": "3", "bm_blast_pct": "1", "pb_blasts": "0",
                          "emd": "0", "anc": "1.5" if partial[i] else "2.2",
                          "plt": "60" if partial[i] else "180"} if resp[i] or in_rem else
                         {"assessment_id": f"{line}-A{k}", "patient_id": pid, "line_id": line,
                          "assessment_date": _d(t0 + dt.timedelta(days=day)),
                          "assessment_reason": "3", "bm_blast_pct": "60", "pb_blasts": "1",
                          "emd": "0"})
                k += 1
                day += 60
            hs_day = int(rng.integers(70, 130))
            if (resp[i] or in_rem) and rng.random() < pr.hsct_share and hs_day < min(lc, t_rel):
                H.append({"hsct_id": f"{pid}-H1", "patient_id": pid,
                          "hsct_date": _d(t0 + dt.timedelta(days=hs_day)), "hsct_type": "1",
                          "donor_type": "2", "hsct_number": "1"})
            if relapsed:
                F.append({"event_id": f"{pid}-R1", "patient_id": pid, "event_type": "1",
                          "event_date": _d(t0 + dt.timedelta(days=int(t_rel))),
                          "relapse_sites": "1", "relapse_confirmation": "1"})
            if dead:
                F.append({"event_id": f"{pid}-D", "patient_id": pid, "event_type": "2",
                          "event_date": _d(t0 + dt.timedelta(days=lc)),
                          "death_cause": "1" if relapsed or not resp[i] else "2"})
            F.append({"event_id": f"{pid}-LC", "patient_id": pid, "event_type": "3",
                      "event_date": _d(t0 + dt.timedelta(days=lc)),
                      "vital_status": "2" if dead else "1"})
    tables = {"patients": pd.DataFrame(P), "treatment_lines": pd.DataFrame(L),
              "assessments": pd.DataFrame(A), "transplants": pd.DataFrame(H),
              "follow_up": pd.DataFrame(F)}
    tables = {k: v.fillna("") for k, v in tables.items()}
    meta = [("schema_version", "1.0"), ("study_code", f"SYN{pr.key[-3:]}"),
            ("export_date", _d(pr.cutoff)), ("criteria_set", pr.criteria_set),
            ("unit_anc", "10^9/L"), ("unit_plt", "10^9/L"), ("unit_wbc", "10^9/L"),
            ("mrd_scale", "fraction"), ("age_cut_rule", pr.age_cut_rule),
            ("synthetic_assumptions", pr.assumptions)]
    if pr.fu_cap_days is None:
        meta.append(("data_cutoff_date", _d(pr.cutoff)))
    if pr.response_window_days:
        meta.append(("response_window_days", str(pr.response_window_days)))
    return tables, meta


def raw_from_frames(tables: dict[str, pd.DataFrame], source: str) -> dict[str, RawTable]:
    """Text frames -> ``RawTable``s (as a CSV reader would produce them)."""
    out = {}
    for name, df in tables.items():
        cells = [df[c].to_numpy(dtype=object) for c in df.columns]
        out[name] = RawTable(name, name, source, list(df.columns), cells,
                             np.arange(2, len(df) + 2, dtype=np.int64))
    return out


def synthetic_cohort(profile: str, *, seed: int, n_scale: int = 1) -> Any:
    """A validated ``Cohort`` shaped like a seed (§8): ``seed000``, ``seed001``, ``seed003``,
    ``seed004``. Deterministic for a given ``seed``."""
    from rrball.cohort.cohort import validate_raw

    tables, meta = synthetic_tables(profile, seed=seed, n_scale=n_scale)
    pairs = [(k, v, i + 2) for i, (k, v) in enumerate(meta)]
    return validate_raw(raw_from_frames(tables, f"synthetic:{profile}"), pairs,
                        source=f"synthetic:{profile}")
