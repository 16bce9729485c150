"""``rrball redcap-dictionary``: write the REDCap project dictionary of the cohort model.

data-dictionary.md §7 (units fixed when the dictionary is emitted: ``--unit-*``,
``--mrd-scale``), api.md "Command line" (exit codes 0 ok, 1 invalid input, 2 usage error). A bad
option value is a usage error (typer's message, exit 2); a file that cannot be written gives a
one-line message and exit 1, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["redcap_dictionary_command", "write_dictionary"]

_UNIT_OPTIONS: dict[str, tuple[str, ...]] = {
    "unit_anc": ("10^9/L", "/uL", "10^3/uL"), "unit_plt": ("10^9/L", "/uL", "10^3/uL"),
    "unit_wbc": ("10^9/L", "/uL", "10^3/uL"), "unit_pb_blast_abs": ("10^9/L", "/uL", "10^3/uL"),
    "unit_bilirubin": ("mg/dL", "umol/L"), "unit_creatinine": ("mg/dL", "umol/L"),
    "unit_enzymes": ("U/L", "ukat/L"), "unit_temperature": ("C", "F"),
}


def _check(key: str, value: str | None) -> str | None:
    allowed = _UNIT_OPTIONS[key]
    if value is not None and value not in allowed:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}",
                                 param_hint=f"--{key.replace('_', '-')}")
    return value


def write_dictionary(out: str, units: dict[str, str], mrd_scale: str,
                     console: Console | None = None) -> int:
    """Write the dictionary CSV to ``out`` (``-`` = standard output); return the exit code."""
    from rrball.cohort.redcap import redcap_dictionary
    from rrball.errors import RRBallError

    con = console or Console(stderr=True)
    try:
        d = redcap_dictionary(unit_overrides=units, mrd_scale=mrd_scale)
    except RRBallError as exc:
        con.print(f"[red]error:[/red] {escape(str(exc))}")
        return 1
    text = d.to_csv(index=False, lineterminator="\n")
    if out == "-":
        sys.stdout.write(text)
        return 0
    target = Path(out)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        con.print(f"[red]error:[/red] cannot write {escape(str(target))} "
                  f"({escape(exc.strerror or type(exc).__name__)})")
        return 1
    tagged = (d["Field Annotation"].str.contains("@RRBALL-UNIT", regex=False)).sum()
    con.print(f"wrote {escape(str(target))}: {len(d)} fields in "
              f"{d['Form Name'].nunique()} instruments, {tagged} with unit tags "
              f"(MRD as {mrd_scale}).")
    return 0


def redcap_dictionary_command(
    out: str = typer.Option(..., "--out", help="Dictionary CSV to write (- = stdout)."),
    unit_anc: str | None = typer.Option(None, "--unit-anc", help="10^9/L, /uL or 10^3/uL"),
    unit_plt: str | None = typer.Option(None, "--unit-plt", help="10^9/L, /uL or 10^3/uL"),
    unit_wbc: str | None = typer.Option(None, "--unit-wbc", help="10^9/L, /uL or 10^3/uL"),
    unit_pb_blast_abs: str | None = typer.Option(None, "--unit-pb-blast-abs",
                                                 help="10^9/L, /uL or 10^3/uL"),
    unit_bilirubin: str | None = typer.Option(None, "--unit-bilirubin", help="mg/dL or umol/L"),
    unit_creatinine: str | None = typer.Option(None, "--unit-creatinine",
                                               help="mg/dL or umol/L"),
    unit_enzymes: str | None = typer.Option(None, "--unit-enzymes", help="U/L or ukat/L"),
    unit_temperature: str | None = typer.Option(None, "--unit-temperature", help="C or F"),
    mrd_scale: str = typer.Option("percent", "--mrd-scale",
                                  help="percent (default), fraction or log10"),
) -> None:
    """Write the REDCap data dictionary of the cohort model (data-dictionary.md §7)."""
    given = {"unit_anc": unit_anc, "unit_plt": unit_plt, "unit_wbc": unit_wbc,
             "unit_pb_blast_abs": unit_pb_blast_abs, "unit_bilirubin": unit_bilirubin,
             "unit_creatinine": unit_creatinine, "unit_enzymes": unit_enzymes,
             "unit_temperature": unit_temperature}
    units = {k: v for k, v in given.items() if _check(k, v) is not None and v is not None}
    if mrd_scale not in ("percent", "fraction", "log10"):
        raise typer.BadParameter(f"{mrd_scale!r} is not one of percent, fraction, log10",
                                 param_hint="--mrd-scale")
    raise typer.Exit(code=write_dictionary(out, units, mrd_scale))
