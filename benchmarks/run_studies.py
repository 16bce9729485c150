"""Benchmark: the bundled study plans end to end (issue 8 target: five seed studies < 15 s).

For each bundled plan, in one process (imports warm after the first): cohort import (synthetic
generation through the real validator, or the bundled files through the importer), derivation
(ADSL + ADTTE), statistics (``run_plan``), report build with figures (``build_report``), and
rendering of each format (HTML, PDF, Word, Excel, plus the figure files). Prints one row per
plan and the totals; timings are wall-clock seconds on this machine.

Usage: ``.venv/bin/python benchmarks/run_studies.py [--jobs N] [plan ...]`` (``--jobs 2``: the
wall clock of ``rrball studies`` with two worker processes instead of the per-stage table).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from rrball.cli.run import _cohort
from rrball.report.document import slug
from rrball.report.render import render_docx, render_html, render_pdf, render_xlsx
from rrball.report.render.figures import save_figure
from rrball.study.plan import bundled_plan, bundled_plans
from rrball.study.reporting import build_report
from rrball.study.runner import run_plan

STAGES = ("import", "derive", "statistics", "figures", "html", "pdf", "docx", "xlsx",
          "figure_files")
SEED_PLANS = ("seed_000", "seed_001", "seed_002", "seed_003", "seed_004")


def _one(name: str, out: Path) -> dict[str, float]:
    t: dict[str, float] = {}
    plan = bundled_plan(name)
    s = time.perf_counter()
    cohort, label = _cohort(plan, None)
    t["import"] = time.perf_counter() - s
    s = time.perf_counter()
    cohort.analysis_table()  # type: ignore[attr-defined]
    cohort.endpoints()  # type: ignore[attr-defined]
    t["derive"] = time.perf_counter() - s
    s = time.perf_counter()
    res = run_plan(plan, cohort, data_label=label)
    t["statistics"] = time.perf_counter() - s
    s = time.perf_counter()
    report = build_report(res)
    t["figures"] = time.perf_counter() - s
    for fmt, fn in (("html", render_html), ("pdf", render_pdf), ("docx", render_docx)):
        s = time.perf_counter()
        fn(report, out / f"{name}.{fmt}")
        t[fmt] = time.perf_counter() - s
    s = time.perf_counter()
    render_xlsx(report, out / f"{name}.xlsx")
    t["xlsx"] = time.perf_counter() - s
    s = time.perf_counter()
    for item in report.figures():
        save_figure(item.figure, out / "figures" / slug(item.name, 60))
    t["figure_files"] = time.perf_counter() - s
    return t


def _parallel(names: list[str], jobs: int) -> None:
    """Wall clock of ``rrball studies``' engine: the plans in ``jobs`` processes."""
    from rrball.cli.run import run_all_bundled

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        run_all_bundled(tmp, ["html", "pdf", "docx", "xlsx"], jobs, names)
        wall = time.perf_counter() - t
    print(f"{len(names)} plans end to end in {jobs} processes (all four formats and the "
          f"figure files): {wall:.1f} s wall clock; target < 15 s for the five seed studies")


def main() -> None:
    args = sys.argv[1:]
    jobs = 1
    if "--jobs" in args:
        k = args.index("--jobs")
        jobs = int(args[k + 1])
        args = args[:k] + args[k + 2:]
    names = args or [p for p in SEED_PLANS if p in bundled_plans()]
    if jobs > 1:
        _parallel(names, jobs)
        return
    total: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    print(f"{'plan':<10}" + "".join(f"{s:>13}" for s in STAGES) + f"{'total':>9}")
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            t = _one(name, Path(tmp))
            for k, v in t.items():
                total[k] += v
            print(f"{name:<10}" + "".join(f"{t[s]:>13.2f}" for s in STAGES)
                  + f"{sum(t.values()):>9.2f}")
    print(f"{'all':<10}" + "".join(f"{total[s]:>13.2f}" for s in STAGES)
          + f"{sum(total.values()):>9.2f}")
    print(f"wall clock for {len(names)} plans (imports included): "
          f"{time.perf_counter() - wall:.1f} s; target < 15 s for the five seed studies")


if __name__ == "__main__":
    main()
