"""``rrball run PLAN [--data PATH] [--out DIR] [--format ...]``: plan → analyses → report files.

File access of the study layer lives here (plan file, cohort folder, output folder). User
mistakes (invalid plan or data) raise :class:`rrball.errors.RRBallError`, which ``main`` prints
without a traceback (exit 1); an unknown format is a usage error (exit 2).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from rrball.errors import InputError, RRBallError
from rrball.study.plan import Plan, bundled_plans, load_plan
from rrball.study.runner import StudyResults, run_plan

__all__ = ["REPORT_FORMATS", "StudyOutcome", "comparison_rich", "load_plan_arg", "run_all_bundled",
           "run_bundled", "run_command", "studies_command", "summary_table"]

REPORT_FORMATS = ("html", "pdf", "docx", "xlsx")


def load_plan_arg(plan: str) -> Plan:
    """A plan file path, or the name of a bundled plan (``seed_004``)."""
    path = Path(plan)
    if not path.exists() and plan in bundled_plans():
        path = bundled_plans()[plan]
    return load_plan(path)


def _plan_relative(plan: Plan, path: str) -> Path:
    """``data.path`` of a plan: absolute, relative to the working directory, or else relative
    to the plan file's folder (so bundled plans can name bundled data)."""
    p = Path(path)
    if p.is_absolute() or p.exists() or not plan.folder:
        return p
    return (Path(plan.folder) / p).resolve()


def _cohort(plan: Plan, data: str | None) -> tuple[object, str]:
    from rrball.cohort import load_cohort, synthetic_cohort

    if data is not None:
        return load_cohort(data), Path(data).name
    if plan.data.path is not None:
        where = _plan_relative(plan, plan.data.path)
        return load_cohort(where), where.name
    if plan.data.public is not None:
        from rrball.cohort import public_cohort

        pub = plan.data.public
        return (public_cohort(pub.name, subset=pub.subset),
                f"public {pub.name}" + (f" ({pub.subset})" if pub.subset else ""))
    if plan.data.synthetic is not None:
        syn = plan.data.synthetic
        return (synthetic_cohort(syn.profile, seed=syn.seed),
                f"synthetic {syn.profile} (seed {syn.seed})")
    raise typer.BadParameter("the plan names no data: give --data PATH", param_hint="--data")


def _num(x: object, digits: int = 3) -> str:
    if isinstance(x, float) and math.isnan(x):
        return ""
    return f"{x:.{digits}g}" if isinstance(x, float) else str(x)


def summary_table(res: StudyResults) -> Table:
    """Published vs reproduced as a rich table."""
    return comparison_rich(res.plan.study.id, res.comparison)


def comparison_rich(study_id: str, comparison: pd.DataFrame) -> Table:
    """A study's published-vs-reproduced rows (``StudyResults.comparison``) as a rich table."""
    t = Table(title=f"{study_id}: published vs reproduced", show_lines=False)
    for col in ("ID", "Quantity", "Published", "Reproduced", "Reproduced CI", "Within"):
        t.add_column(col)
    for _, r in comparison.iterrows():
        ci = "" if math.isnan(float(r["lower"])) else \
            f"{float(r['lower']):.3g}-{float(r['upper']):.3g}"
        colour = {"yes": "green", "no": "red"}.get(str(r["within"]), "yellow")
        t.add_row(str(r["id"]), str(r["label"]), _num(float(r["published"])),
                  _num(float(r["reproduced"])), ci, f"[{colour}]{r['within']}[/{colour}]")
    return t


def _formats(formats: str) -> list[str]:
    fmts = [f.strip().lower() for f in formats.split(",") if f.strip()]
    bad = [f for f in fmts if f not in REPORT_FORMATS]
    if bad or not fmts:
        raise typer.BadParameter(f"{', '.join(bad) or 'none'}: choose from "
                                 f"{', '.join(REPORT_FORMATS)}", param_hint="--format")
    return fmts


def run_command(plan_arg: str, *, data: str | None, out: str, formats: str) -> None:
    fmts = _formats(formats)
    console = Console(width=120)
    plan = load_plan_arg(plan_arg)
    _run_one(plan, data, Path(out), fmts, console)


def _run_one(plan: Plan, data: str | None, out: Path, fmts: list[str],
             console: Console) -> tuple[StudyResults, dict[str, Path]]:
    """Run one plan and write its reports; prints its summary and comparison table."""
    cohort, label = _cohort(plan, data)
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), console=console,
                  transient=True) as progress:
        task = progress.add_task("analyses", total=len(plan.analyses))

        def hook(step: str, i: int, total: int) -> None:
            progress.update(task, completed=i, description=f"analysis {step}")

        res = run_plan(plan, cohort, data_label=label, on_step=hook)

    with console.status("rendering " + ", ".join(fmts)):
        written = _render(res, out, fmts)
    console.print(res.summary(), markup=False, highlight=False)
    if len(res.comparison):
        console.print(summary_table(res))
    for fmt in fmts:
        console.print(f"{fmt}: {written[fmt]}", markup=False, highlight=False)
    return res, written


def _render(res: StudyResults, out: Path, fmts: list[str]) -> dict[str, Path]:
    """Write the report files; an output folder that cannot be written is a user mistake."""
    from rrball.report.render import render_report
    from rrball.study.reporting import build_report

    try:
        return render_report(build_report(res), out, fmts, stem=res.plan.study.id)
    except OSError as exc:
        raise InputError("out", f"cannot write the reports to {out}: "
                         f"{exc.strerror or type(exc).__name__}") from None


@dataclass(frozen=True)
class StudyOutcome:
    """What ``rrball studies`` prints of one plan (picklable: runs in worker processes)."""

    name: str
    summary: str
    data_label: str
    n_cohort: int
    comparison: pd.DataFrame
    not_estimable: int
    written: dict[str, str]
    error: str = ""


def run_bundled(name: str, path: str, out: str, fmts: list[str]) -> StudyOutcome:
    """Run one plan file into ``out/<name>/`` (all formats); no console output. A user
    mistake (invalid plan or data, an output folder that cannot be written) is returned as
    ``error`` so that the other plans still run."""
    try:
        plan = load_plan(path)
        cohort, label = _cohort(plan, None)
        res = run_plan(plan, cohort, data_label=label)
        written = _render(res, Path(out) / name, fmts)
    except RRBallError as exc:
        return StudyOutcome(name=name, summary="", data_label="", n_cohort=0,
                            comparison=pd.DataFrame(), not_estimable=0, written={},
                            error=str(exc))
    return StudyOutcome(name=name, summary=res.summary(), data_label=res.data_label,
                        n_cohort=res.n_cohort, comparison=res.comparison,
                        not_estimable=sum(s.status != "ok" for s in res.steps),
                        written={k: str(v) for k, v in written.items()
                                 if not k.startswith("figure:")})


def run_all_bundled(out: str, fmts: list[str], jobs: int = 1,
                    names: Sequence[str] | None = None) -> list[StudyOutcome]:
    """Every bundled plan (or those in ``names``); with ``jobs`` > 1 in that many worker
    processes (one plan each)."""
    plans = [(name, str(path)) for name, path in bundled_plans().items()
             if names is None or name in names]
    if jobs <= 1:
        return [run_bundled(name, path, out, fmts) for name, path in plans]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # fork: workers inherit the imported modules (no second start-up); the caller starts no
    # thread before (no progress spinner while the workers are forked)
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = [pool.submit(run_bundled, name, path, out, fmts) for name, path in plans]
        return [f.result() for f in futures]


def studies_command(*, out: str, formats: str, jobs: int = 0) -> None:
    """Every bundled plan (the seed studies and the public ALL cohort), each into
    ``out/<plan>/``, then one overview table of published vs reproduced. ``jobs``: worker
    processes (0 = one per CPU, at most 4)."""
    fmts = _formats(formats)
    if jobs < 0:
        raise typer.BadParameter("jobs must be 0 (automatic) or a positive number",
                                 param_hint="--jobs")
    n_jobs = jobs or min(4, os.cpu_count() or 1)
    console = Console(width=120)
    if n_jobs > 1:  # no spinner thread while the worker processes are forked
        console.print(f"running {len(bundled_plans())} study plans in {n_jobs} processes",
                      highlight=False)
        outcomes = run_all_bundled(out, fmts, n_jobs)
    else:
        with console.status(f"running {len(bundled_plans())} study plans"):
            outcomes = run_all_bundled(out, fmts, n_jobs)
    overview = Table(title="Bundled studies: published vs reproduced")
    for col in ("Plan", "Data", "N", "Published", "Within", "Outside", "n/a",
                "Not estimable", "Reports in"):
        overview.add_column(col, overflow="fold")
    failed = [o for o in outcomes if o.error]
    for o in outcomes:
        console.rule(f"[bold]{o.name}")
        if o.error:
            console.print(f"[red]error:[/red] {escape(o.error)}", highlight=False)
            overview.add_row(o.name, "", "", "", "", "", "", "", "[red]failed[/red]")
            continue
        console.print(o.summary, markup=False, highlight=False)
        if len(o.comparison):
            console.print(comparison_rich(o.name, o.comparison))
        for fmt in fmts:
            console.print(f"{fmt}: {o.written[fmt]}", markup=False, highlight=False)
        within = [str(v) for v in o.comparison["within"]] if len(o.comparison) else []
        yes, no = within.count("yes"), within.count("no")
        overview.add_row(o.name, o.data_label, str(o.n_cohort), str(len(within)), str(yes),
                         str(no), str(len(within) - yes - no), str(o.not_estimable),
                         str(Path(o.written[fmts[0]]).parent))
    console.rule("[bold]Summary")
    console.print(overview)
    console.print("Published: numbers compared; Within: the published estimate lies inside the "
                  "reproduced confidence interval (p-values: same side of 0.05); n/a: no interval "
                  "or not estimable. Synthetic cohorts are seed-shaped, not the patients of the "
                  "papers.", highlight=False)
    if failed:
        raise typer.Exit(code=1)
