"""``rrball run PLAN [--data PATH] [--out DIR] [--format ...]``: plan → analyses → report files.

File access of the study layer lives here (plan file, cohort folder, output folder). User
mistakes (invalid plan or data) raise :class:`rrball.errors.RRBallError`, which ``main`` prints
without a traceback (exit 1); an unknown format is a usage error (exit 2).
"""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from rrball.study.plan import Plan, bundled_plans, load_plan
from rrball.study.runner import StudyResults, run_plan

__all__ = ["REPORT_FORMATS", "load_plan_arg", "run_command", "summary_table"]

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
    t = Table(title=f"{res.plan.study.id}: published vs reproduced", show_lines=False)
    for col in ("ID", "Quantity", "Published", "Reproduced", "Reproduced CI", "Within"):
        t.add_column(col)
    for _, r in res.comparison.iterrows():
        ci = "" if math.isnan(float(r["lower"])) else \
            f"{float(r['lower']):.3g}-{float(r['upper']):.3g}"
        colour = {"yes": "green", "no": "red"}.get(str(r["within"]), "yellow")
        t.add_row(str(r["id"]), str(r["label"]), _num(float(r["published"])),
                  _num(float(r["reproduced"])), ci, f"[{colour}]{r['within']}[/{colour}]")
    return t


def run_command(plan_arg: str, *, data: str | None, out: str, formats: str) -> None:
    fmts = [f.strip().lower() for f in formats.split(",") if f.strip()]
    bad = [f for f in fmts if f not in REPORT_FORMATS]
    if bad or not fmts:
        raise typer.BadParameter(f"{', '.join(bad) or 'none'}: choose from "
                                 f"{', '.join(REPORT_FORMATS)}", param_hint="--format")
    console = Console(width=120)
    plan = load_plan_arg(plan_arg)
    cohort, label = _cohort(plan, data)
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), console=console,
                  transient=True) as progress:
        task = progress.add_task("analyses", total=len(plan.analyses))

        def hook(step: str, i: int, total: int) -> None:
            progress.update(task, completed=i, description=f"analysis {step}")

        res = run_plan(plan, cohort, data_label=label, on_step=hook)
    from rrball.report.render import render_report
    from rrball.study.reporting import build_report

    with console.status("rendering " + ", ".join(fmts)):
        written = render_report(build_report(res), Path(out), fmts, stem=plan.study.id)
    console.print(res.summary(), markup=False, highlight=False)
    if len(res.comparison):
        console.print(summary_table(res))
    for fmt in fmts:
        console.print(f"{fmt}: {written[fmt]}", markup=False, highlight=False)
