"""``rrball validate PATH``: import a cohort file and print its validation report.

data-dictionary.md §3.6 (error and warning records), api.md "Command line" (exit codes 0 ok,
1 invalid input). The report is a rich table, one line per record: table, row (as in the source
file), column, value, rule id, severity, message, fix; then a one-line summary. Values of
identifier columns are never printed: the validation engine already replaces them by
``<redacted>`` (R-PRIV-001…006) and this module prints nothing else from the file. A file that
cannot be read gives a one-line message and exit code 1, never a traceback.

The lead registers the command in ``rrball.cli.main`` (see ``validate_command``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rrball.errors import CohortIssue, CohortValidationError, RRBallError

__all__ = ["issue_table", "validate_command"]

REDACTED = "<redacted>"
MAX_ROWS = 200


def _problem(issue: CohortIssue) -> str:
    """The message without its location prefix and its ``Fix:`` part (shown in their own
    columns); conflict details are kept."""
    msg = issue.message
    where = issue.table if issue.row is None else f"{issue.table} row {issue.row}"
    if issue.column is not None:
        where += f", {issue.column}"
        if issue.value is not None:
            where += f" = {issue.value}"
    if msg.startswith(where + ": "):
        msg = msg[len(where) + 2:]
    tag = f" [{issue.rule_id}]"
    cut = msg.find(tag)
    if cut >= 0:
        rest = msg[cut + len(tag):]
        conflict = rest.find("(conflicts with ")
        msg = msg[:cut] + (" " + rest[conflict:].rstrip(".") if conflict >= 0 else "")
    return msg


def _value(issue: CohortIssue) -> str:
    if issue.value is None:
        return ""
    if issue.rule_id.startswith("R-PRIV-") and issue.rule_id != "R-PRIV-003":
        return REDACTED
    return issue.value


def issue_table(issues: Sequence[CohortIssue], title: str, *,
                max_rows: int | None = MAX_ROWS) -> Table:
    """A rich table of §3.6 records (at most ``max_rows`` lines; None = all)."""
    table = Table(title=title, show_lines=False, header_style="bold", expand=False)
    for name, style in (("table", None), ("row", None), ("column", None), ("value", None),
                        ("rule", "cyan"), ("sev", None), ("message", None), ("fix", "dim")):
        table.add_column(name, style=style, overflow="fold",
                         justify="right" if name == "row" else "left")
    shown = issues if max_rows is None else issues[:max_rows]
    for i in shown:
        sev = "[red]E[/red]" if i.severity == "E" else "[yellow]W[/yellow]"
        table.add_row(escape(i.table), "" if i.row is None else str(i.row),
                      escape(i.column or ""), escape(_value(i)), escape(i.rule_id), sev,
                      escape(_problem(i)), escape(i.fix))
    if max_rows is not None and len(issues) > max_rows:
        table.caption = f"… and {len(issues) - max_rows} more (first {max_rows} shown)"
    return table


def _rules(issues: Sequence[CohortIssue]) -> str:
    ids = sorted({i.rule_id for i in issues})
    head = ", ".join(ids[:8])
    return head + (f", … ({len(ids)} rules)" if len(ids) > 8 else "")


def validate_command(path: str, *, format: str | None = None, console: Console | None = None,
                     max_rows: int | None = MAX_ROWS, notices: bool = False,
                     meta: str | None = None) -> int:
    """Load ``path`` (CSV folder or XLSX workbook; ``format`` as ``load_cohort``), print the
    error table and a one-line summary; return 0 when valid (warnings printed), 1 otherwise.
    ``notices``: also derive ADSL/ADTTE and print the derivation notices (R-DER, §3.5)."""
    from rrball.cohort import load_cohort
    from rrball.cohort.notices import count_by_rule

    con = console or Console()
    p = Path(path)
    name = escape(p.name or str(p))
    if not p.exists():
        con.print(f"[red]error:[/red] {escape(str(p))} does not exist (a folder of CSV files "
                  "or an .xlsx workbook is expected)")
        return 1
    try:
        cohort = load_cohort(p, format=format, metadata=meta)
    except CohortValidationError as exc:
        con.print(issue_table(exc.errors, f"{name}: {len(exc.errors)} errors",
                              max_rows=max_rows))
        if exc.warnings:
            con.print(issue_table(exc.warnings, f"{name}: {len(exc.warnings)} warnings",
                                  max_rows=max_rows))
        ne, nw = len(exc.errors), len(exc.warnings)
        con.print(f"[red]INVALID[/red] {name}: {ne} error{'s' * (ne != 1)}, {nw} "
                  f"warning{'s' * (nw != 1)} ({escape(_rules(exc.errors))}); nothing imported.")
        return 1
    except (RRBallError, ValueError, OSError) as exc:
        # reader and format problems: the messages of rrball errors never hold cell values
        text = str(exc) if isinstance(exc, RRBallError) else type(exc).__name__
        con.print(f"[red]INVALID[/red] {name}: cannot read the cohort ({escape(text)}).")
        return 1
    except Exception as exc:
        con.print(f"[red]INVALID[/red] {name}: unexpected failure while reading "
                  f"({type(exc).__name__}); please report it with the file's structure.")
        return 1
    warns = cohort.warnings
    if warns:
        con.print(issue_table(warns, f"{name}: {len(warns)} warnings", max_rows=max_rows))
    n_pat = len(cohort.table("patients"))
    n_lin = len(cohort.table("treatment_lines"))
    nw = len(warns)
    con.print(f"[green]VALID[/green] {name}: {n_pat} patients, {n_lin} treatment lines, "
              f"{nw} warning{'s' * (nw != 1)}.")
    if notices:
        items = cohort.notices()
        if items:
            con.print(issue_table(items, f"{name}: {len(items)} derivation notices",
                                  max_rows=max_rows))
        counts = ", ".join(f"{k} {v}" for k, v in count_by_rule(items).items()) or "none"
        con.print(f"Derivation notices (R-DER, data-dictionary.md §3.5): {escape(counts)}.")
    return 0
