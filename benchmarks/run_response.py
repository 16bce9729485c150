"""Side-by-side benchmark of response statistics: rrball vs R, statsmodels, scikit-learn.

Logistic regression with 5 covariates at n = 1e3 ... 1e6 (R glm + summary, statsmodels GLM,
scikit-learn LogisticRegression(penalty=None)); Fisher's exact test on the seed-sized 4x2 and 3x4
tables (R fisher.test; statsmodels/scikit-learn have no exact R×C test, scipy's R×C is Monte
Carlo). Each (tool, task, n) runs in its own process; median wall time; ratio of rrball to the
fastest peer. Writes ``benchmarks/out/response_results.md``. Timings are not tests.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from _data import OUT
from _response_data import make_data

HERE = Path(__file__).resolve().parent
SIZES = [1_000, 10_000, 100_000, 1_000_000]
PEERS = ["R", "statsmodels", "scikit-learn"]


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


def _fmt(v: float | None) -> str:
    return f"{v:.4f}" if v is not None else "n/a"


def main() -> None:
    make_data()
    py = sys.executable
    lines = [
        "# rrball benchmark: response statistics",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; median wall time in seconds, each tool in its own "
        "process, data loading not timed. rrball logistic = estimates, SEs, Wald CIs and the "
        "separation screen (profile=False, as no peer computes profile CIs); "
        "'rrball+profile' adds the profile-likelihood CIs.",
        "",
        "| task | n | rrball | rrball+profile | " + " | ".join(PEERS)
        + " | rrball / fastest peer |",
        "|" + "---|" * (len(PEERS) + 5),
    ]
    for n in SIZES:
        reps = str(repeats_for(n))
        mine = _run([py, "_response_worker.py", "rrball", "logistic", str(n), reps])
        prof = (_run([py, "_response_worker.py", "rrball+profile", "logistic", str(n), "3"])
                if n <= 100_000 else None)
        peers = [
            _run(["Rscript", "bench_response.R", "logistic", str(n), reps]),
            _run([py, "_response_worker.py", "statsmodels", "logistic", str(n), reps]),
            _run([py, "_response_worker.py", "scikit-learn", "logistic", str(n), reps]),
        ]
        known = [p for p in peers if p is not None]
        ratio = f"{mine / min(known):.2f}" if mine and known else "n/a"
        lines.append(f"| logistic regression, 5 covariates | {n:.0e} | {_fmt(mine)} | "
                     f"{_fmt(prof)} | " + " | ".join(_fmt(p) for p in peers) + f" | {ratio} |")
        print(f"done logistic n={n}", file=sys.stderr)
    for task, label in (("fisher4x2", "Fisher exact, 4x2, 182 patients"),
                        ("fisher3x4", "Fisher exact, 3x4, 137 patients")):
        mine = _run([py, "_response_worker.py", "rrball", task, "0", "15"])
        r = _run(["Rscript", "bench_response.R", task, "0", "15"])
        ratio = f"{mine / r:.2f}" if mine and r else "n/a"
        lines.append(f"| {label} | - | {_fmt(mine)} | - | {_fmt(r)} | n/a | n/a | {ratio} |")
    text = "\n".join(lines) + "\n"
    OUT.mkdir(exist_ok=True)
    (OUT / "response_results.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
