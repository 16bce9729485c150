"""A small valid cohort as text tables (data-dictionary.md §2), and helpers to write it."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd

Tables = dict[str, list[dict[str, str]]]

META: list[tuple[str, str]] = [
    ("schema_version", "1.0"), ("study_code", "T1"), ("export_date", "2022-12-31"),
    ("criteria_set", "blincyto_trials"), ("unit_anc", "10^9/L"), ("unit_plt", "10^9/L"),
    ("unit_wbc", "10^9/L"), ("unit_pb_blast_abs", "10^9/L"), ("mrd_scale", "fraction"),
    ("unit_bilirubin", "mg/dL"),
    ("data_cutoff_date", "2022-06-30"),
]


def _asm(aid: str, pid: str, date: str, **kw: str) -> dict[str, str]:
    row = {"assessment_id": aid, "patient_id": pid, "assessment_date": date}
    row.update(kw)
    return row


CR = {"bm_blast_pct": "1", "pb_blasts": "0", "emd": "0", "anc": "2.0", "plt": "150",
      "mrd_detected": "0", "mrd_lod": "1e-05", "mrd_unit": "1", "mrd_method": "1",
      "mrd_sample": "1"}
ACTIVE = {"bm_blast_pct": "40", "pb_blasts": "1", "emd": "0", "anc": "0.4", "plt": "20",
          "wbc": "10"}
RELAPSE = {"bm_blast_pct": "30", "pb_blasts": "1", "emd": "0"}


def base_tables() -> Tables:
    """Five patients: P1 responder relapses then dies; P2 non-responder alive; P3 responder,
    HSCT, alive past the cut-off; P4 responder dies in CR (NRM); P5 relapse and death same day."""
    pats, lines, asms, hx, fu = [], [], [], [], []
    for k in range(1, 6):
        pid = f"P{k}"
        pats.append({"patient_id": pid, "centre_id": "C1", "sex": "1" if k % 2 else "2",
                     "birth_date": "1980-05", "diagnosis_date": "2018-01-10",
                     "ph_status": "0", "kmt2a_status": "0", "primary_refractory": "0",
                     "first_cr_date": "2018-03-01", "first_relapse_date": "2019-01-15"})
        lines.append({"line_id": f"{pid}-L1", "patient_id": pid, "line_start_date": "2019-02-01",
                      "index_line": "1", "regimen": "1", "salvage_number": "1",
                      "relapse_number": "1", "disease_status_at_start": "2",
                      "prior_allo_hsct": "0", "prior_blinatumomab": "0", "n_cycles": "2"})
        asms.append(_asm(f"{pid}-BL", pid, "2019-01-29", **ACTIVE))
        if k == 2:
            asms.append(_asm(f"{pid}-A1", pid, "2019-03-01", **ACTIVE))
        else:
            asms.append(_asm(f"{pid}-A1", pid, "2019-03-01", **CR))
    # P1: relapse 2019-09-01, death 2020-01-01
    fu += [{"event_id": "P1-R", "patient_id": "P1", "event_type": "1",
            "event_date": "2019-09-01", "relapse_sites": "1"},
           {"event_id": "P1-D", "patient_id": "P1", "event_type": "2",
            "event_date": "2020-01-01", "death_cause": "1"},
           {"event_id": "P1-LC", "patient_id": "P1", "event_type": "3",
            "event_date": "2020-01-01", "vital_status": "2"}]
    fu += [{"event_id": "P2-LC", "patient_id": "P2", "event_type": "3",
            "event_date": "2020-06-01", "vital_status": "1"}]
    hx.append({"hsct_id": "P3-H", "patient_id": "P3", "hsct_date": "2019-05-01",
               "hsct_type": "1", "donor_type": "2", "line_id": "P3-L1"})
    fu += [{"event_id": "P3-LC", "patient_id": "P3", "event_type": "3",
            "event_date": "2022-10-01", "vital_status": "1"}]
    fu += [{"event_id": "P4-D", "patient_id": "P4", "event_type": "2",
            "event_date": "2019-07-01", "death_cause": "2"},
           {"event_id": "P4-LC", "patient_id": "P4", "event_type": "3",
            "event_date": "2019-07-01", "vital_status": "2"}]
    fu += [{"event_id": "P5-R", "patient_id": "P5", "event_type": "1",
            "event_date": "2019-08-01", "relapse_sites": "1"},
           {"event_id": "P5-D", "patient_id": "P5", "event_type": "2",
            "event_date": "2019-08-01", "death_cause": "1"},
           {"event_id": "P5-LC", "patient_id": "P5", "event_type": "3",
            "event_date": "2019-08-01", "vital_status": "2"}]
    return {"patients": pats, "treatment_lines": lines, "assessments": asms,
            "transplants": hx, "follow_up": fu}


def frames(tables: Tables) -> dict[str, pd.DataFrame]:
    return {k: pd.DataFrame(v).fillna("") for k, v in tables.items()}


def write_csv(folder: Path, tables: Tables, meta: list[tuple[str, str]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames(tables).items():
        df.to_csv(folder / f"{name}.csv", index=False)
    pd.DataFrame(META if meta is None else meta, columns=["key", "value"]).to_csv(
        folder / "metadata.csv", index=False)
    return folder


def mutated(tables: Tables) -> Tables:
    return copy.deepcopy(tables)
