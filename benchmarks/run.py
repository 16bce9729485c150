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
TASKS = {"km": "Kaplan-Meier by group (3 groups, 95% CI)", "logrank": "log-rank test, 3 groups"}
PY_TOOLS = ["rrball", "lifelines", "statsmodels", "scikit-survival"]
PEERS = ["R survival", "lifelines", "statsmodels", "scikit-survival"]


def repeats_for(n: int) -> int:
    return 15 if n <= 10_000 else (7 if n <= 100_000 else 5)


def _run(cmd: list[str]) -> float | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=True,
                             cwd=HERE)
    except (subprocess.SubprocessError, OSError) as exc:
        err = getattr(exc, "stderr", "") or str(exc)
        print(f"  ! {' '.join(cmd[:4])}: {err.strip().splitlines()[-1] if err else exc}",
              file=sys.stderr)
        return None
    return statistics.median(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    make_data()
    results: dict[tuple[str, int, str], float | None] = {}
    for task in TASKS:
        for n in SIZES:
            reps = str(repeats_for(n))
            for tool in PY_TOOLS:
                results[(task, n, tool)] = _run(
                    [sys.executable, "_worker.py", tool, task, str(n), reps]
                )
            results[(task, n, "R survival")] = _run(["Rscript", "bench.R", task, str(n), reps])
            print(f"done {task} n={n}", file=sys.stderr)
    lines = [
        "# rrball benchmark: survival estimation",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; median wall time in seconds, each tool in its own "
        "process, data loading not timed.",
        "",
    ]
    header = "| task | n | rrball | " + " | ".join(PEERS) + " | rrball / fastest peer |"
    lines += [header, "|" + "---|" * (len(PEERS) + 4)]
    for task, label in TASKS.items():
        for n in SIZES:
            mine = results[(task, n, "rrball")]
            peers = [results[(task, n, p)] for p in PEERS]
            known = [p for p in peers if p is not None]
            ratio = f"{mine / min(known):.2f}" if mine and known else "n/a"
            cells = " | ".join(f"{v:.4f}" if v is not None else "n/a" for v in [mine, *peers])
            lines.append(f"| {label} | {n:.0e} | {cells} | {ratio} |")
    text = "\n".join(lines) + "\n"
    OUT.mkdir(exist_ok=True)
    (OUT / "results.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
