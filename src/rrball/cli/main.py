"""``rrball`` command line (typer). Exit codes: 0 ok, 1 invalid input, 2 usage error."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.panel import Panel

from rrball import __version__
from rrball.cli.redcap import redcap_dictionary_command
from rrball.errors import RRBallError

app = typer.Typer(
    name="rrball",
    help="rrball: real-world studies of immunotherapy in R/R B-ALL (research tool).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """rrball: real-world studies of immunotherapy in R/R B-ALL (research tool)."""


@app.command()
def demo() -> None:
    """Survival analysis of the embedded public transplant cohort (KMsurv bmt)."""
    from rrball.cli.demo import demo_sections

    console = Console(width=110)
    console.print(
        Panel.fit(
            f"rrball {__version__} demo: KMsurv bone-marrow-transplant cohort (137 patients)\n"
            "Every number below is checked against R's survival package in the test suite.",
            title="rrball",
        )
    )
    for title, text in demo_sections():
        console.rule(f"[bold]{title}")
        console.print(text, markup=False, highlight=False)


@app.command()
def run(
    plan: str = typer.Argument(..., help="PLAN.yaml, or the name of a bundled plan (seed_004)."),
    data: str | None = typer.Option(None, "--data", help="Cohort: CSV folder or .xlsx workbook "
                                    "(default: the plan's synthetic cohort)."),
    out: str = typer.Option("out", "--out", help="Output folder."),
    format: str = typer.Option("html,pdf,docx,xlsx", "--format",
                               help="Comma-separated report formats: html, pdf, docx, xlsx."),
) -> None:
    """Run a study plan on a cohort and write the report (published vs reproduced)."""
    from rrball.cli.run import run_command

    run_command(plan, data=data, out=out, formats=format)


@app.command()
def studies(
    out: str = typer.Option("out", "--out", help="Output folder (one sub-folder per plan)."),
    format: str = typer.Option("html,pdf,docx,xlsx", "--format",
                               help="Comma-separated report formats: html, pdf, docx, xlsx."),
    jobs: int = typer.Option(0, "--jobs", help="Worker processes (0 = one per CPU, max 4)."),
) -> None:
    """Run every bundled study plan (seeds 000-004, public ALL cohort) and summarise them."""
    from rrball.cli.run import studies_command

    studies_command(out=out, formats=format, jobs=jobs)


@app.command()
def validate(
    path: str = typer.Argument(
        ..., help="Cohort: CSV folder, .xlsx workbook (long or flat) or .sav"
    ),
    format: str | None = typer.Option(
        None, "--format", help="csv, xlsx, flat, sav or redcap (default: inferred)"
    ),
    notices: bool = typer.Option(
        False, "--notices", help="Also derive the analysis tables and list the derivation "
        "notices (R-DER: not evaluable responses, imputed dates, ...)."
    ),
    meta: str | None = typer.Option(
        None, "--meta", help="A metadata.csv (key,value) whose settings replace the file's "
        "(units, criteria set, date format...)."
    ),
) -> None:
    """Validate a cohort file and print every error (exit 1 on errors)."""
    from rrball.cli.validate import validate_command

    raise typer.Exit(code=validate_command(path, format=format, notices=notices, meta=meta))


app.command("redcap-dictionary")(redcap_dictionary_command)


def main() -> None:
    """Entry point: user mistakes print a message and exit 1, never a traceback.

    Usage errors (unknown command or option) are typer's: message and exit code 2.
    """
    try:
        app()
    except RRBallError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
