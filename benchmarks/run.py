"""Side-by-side benchmark: rrball vs R survival, lifelines, statsmodels, scikit-survival.

Each (tool, task, n) runs in its own process on the same synthetic file; the table reports the
median wall time and rrball's ratio to the fastest peer (target <= 1.0 at n = 1e5 and 1e6).
Run with ``make bench``; writes ``benchmarks/out/results.md`` and prints it.
Timings are not tests: nothing here asserts a speed.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from _data import OUT, make_data

HERE = Path(__file__).resolve().parent
SIZES = [1_000, 10_000, 100_000, 1_000_000]
TASKS = {
    "km": "Kaplan-Meier by group (3 groups, 95% CI)",
    "logrank": "log-rank test, 3 groups",
    "cox": "Cox, Efron ties, 5 covariates",
    "cif": "cumulative incidence by group, 2 causes (+ Gray test where offered)",
}
PY_TOOLS = ["rrball", "lifelines", "statsmodels", "scikit-survival"]
PEERS = ["R survival", "lifelines", "statsmodels", "scikit-survival"]


def repeats_for(n: int) -> int:
    return 15 if n <= 10_000 else (7 if n <= 100_000 else 3)


SLOW = 60.0  # seconds: a tool this slow at one size is not run at the next (10x) size
TIMEOUT = 300.0  # seconds for one (tool, task, n) process; recorded as "> 300 s"
TIMED_OUT = float("inf")


def _run(cmd: list[str]) -> float | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=True,
                             cwd=HERE)
    except subprocess.TimeoutExpired:
        print(f"  ! {' '.join(cmd[:4])}: over {TIMEOUT:.0f} s", file=sys.stderr)
        return TIMED_OUT
    except (subprocess.SubprocessError, OSError) as exc:
        err = getattr(exc, "stderr", "") or str(exc)
        print(f"  ! {' '.join(cmd[:4])}: {err.strip().splitlines()[-1] if err else exc}",
              file=sys.stderr)
        return None
    return statistics.median(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    only = set(sys.argv[1:])  # optional task names, e.g. `run.py cox cif`
    make_data()
    results: dict[tuple[str, int, str], float | None] = {}
    for task in [t for t in TASKS if not only or t in only]:
        for n in SIZES:
            reps = str(repeats_for(n))
            prev = SIZES[SIZES.index(n) - 1] if n != SIZES[0] else None

            def too_slow(tool: str, prev: int | None = prev, task: str = task) -> bool:
                last = results.get((task, prev, tool)) if prev else 0.0
                return last is None or last > SLOW

            for tool in PY_TOOLS:
                results[(task, n, tool)] = None if too_slow(tool) else _run(
                    [sys.executable, "_worker.py", tool, task, str(n), reps]
                )
            results[(task, n, "R survival")] = None if too_slow("R survival") else _run(
                ["Rscript", "bench.R", task, str(n), reps])
            print(f"done {task} n={n}", file=sys.stderr)
    lines = [
        "# rrball benchmark: survival estimation",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; median wall time in seconds, each tool in its own "
        "process, data loading not timed. n/a: the tool has no such method, failed, or took "
        f"over {SLOW:.0f} s at the previous size (not run again 10x larger). R column: survival "
        "(KM, log-rank, Cox) and cmprsk::cuminc (CIF, which also computes Gray's test).",
        "",
    ]
    header = "| task | n | rrball | " + " | ".join(PEERS) + " | rrball / fastest peer |"
    lines += [header, "|" + "---|" * (len(PEERS) + 4)]
    for task, label in TASKS.items():
        if only and task not in only:
            continue
        for n in SIZES:
            mine = results[(task, n, "rrball")]
            peers = [results[(task, n, p)] for p in PEERS]
            known = [p for p in peers if p is not None]
            ratio = f"{mine / min(known):.2f}" if mine and known else "n/a"
            cells = " | ".join(
                "n/a" if v is None else (f"> {TIMEOUT:.0f}" if v == TIMED_OUT else f"{v:.4f}")
                for v in [mine, *peers]
            )
            lines.append(f"| {label} | {n:.0e} | {cells} | {ratio} |")
    text = "\n".join(lines) + "\n"
    OUT.mkdir(exist_ok=True)
    (OUT / "results.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
