"""Benchmark: validation + derivation of a 100 000-patient synthetic cohort (issue 7).

Generates the seed-003-shaped profile scaled to about 100 000 patients, writes it as a CSV folder
with the real writer, then in a fresh child process reads it (``load_cohort``), validates it
(every rule of data-dictionary.md §3) and derives ADSL and ADTTE (§5). Reports seconds per stage
and the child's peak resident memory. Targets: < 10 s, < 2 GiB (2-core machine).

Usage: ``.venv/bin/python benchmarks/run_cohort.py [--patients 100000]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

from rrball.cohort.readers.csv import write_csv_folder
from rrball.cohort.synthetic import synthetic_tables


def _child(folder: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    from rrball.cohort import load_cohort

    t0 = time.perf_counter()
    c = load_cohort(Path(folder))
    t1 = time.perf_counter()
    adsl = c.analysis_table()
    t2 = time.perf_counter()
    adtte = c.endpoints()
    t3 = time.perf_counter()
    tox = c.toxicity()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # KiB -> GiB
    out.put({"read_validate_s": t1 - t0, "adsl_s": t2 - t1, "adtte_s": t3 - t2,
             "total_s": t3 - t0, "peak_gib": peak, "patients": len(c.table("patients")),
             "assessments": len(c.table("assessments")), "adsl_rows": len(adsl),
             "adtte_rows": len(adtte), "adverse_event_rows": len(c.table("adverse_events"))
             if "adverse_events" in c.table_names else 0, "toxicity_rows": len(tox)})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--profile", default="seed003")
    args = ap.parse_args()
    per = len(synthetic_tables(args.profile, seed=1)[0]["patients"])
    scale = max(1, round(args.patients / per))
    g0 = time.perf_counter()
    tables, meta = synthetic_tables(args.profile, seed=1, n_scale=scale)
    with tempfile.TemporaryDirectory() as tmp:
        write_csv_folder(Path(tmp), tables, meta)
        gen = time.perf_counter() - g0
        q: mp.Queue = mp.get_context("spawn").Queue()  # type: ignore[type-arg]
        p = mp.get_context("spawn").Process(target=_child, args=(tmp, q))
        p.start()
        res = q.get()
        p.join()
    print(f"generation + CSV write (not timed against the target): {gen:.1f} s")
    for k, v in res.items():
        print(f"{k}: {v:.2f}" if isinstance(v, float) else f"{k}: {v}")
    ok = res["total_s"] < 10 and res["peak_gib"] < 2
    print("targets (< 10 s, < 2 GiB):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
