"""Exceptions raised by rrball for user mistakes.

Every exception here is a *user* error: the message says what is wrong and how to fix it, so the
command line can print it without a traceback. Messages never quote patient identifiers; they name
arguments, positions or study IDs only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ClinicalInputError",
    "CohortIssue",
    "CohortValidationError",
    "InputError",
    "PlanError",
    "PlanIssue",
    "RRBallError",
]

_MAX_POSITIONS_SHOWN = 10


class RRBallError(Exception):
    """Base class of every error rrball raises on purpose (never for a bug)."""


class InputError(RRBallError, ValueError):
    """Invalid arguments to a statistics function.

    Attributes
    ----------
    argument:
        Name of the offending argument (``"time"``, ``"event"``, ...).
    positions:
        0-based positions of the offending values (empty when the problem is not positional).
    """

    def __init__(self, argument: str, problem: str, positions: Iterable[int] = ()) -> None:
        self.argument = argument
        self.positions: tuple[int, ...] = tuple(int(p) for p in positions)
        self.problem = problem
        super().__init__(self._message())

    def _message(self) -> str:
        text = f"{self.argument}: {self.problem}"
        if self.positions:
            shown = ", ".join(str(p) for p in self.positions[:_MAX_POSITIONS_SHOWN])
            more = len(self.positions) - _MAX_POSITIONS_SHOWN
            suffix = f" and {more} more" if more > 0 else ""
            count = len(self.positions)
            noun = "position" if count == 1 else "positions"
            text += f" (at 0-based {noun} {shown}{suffix})"
        return text


class ClinicalInputError(RRBallError, ValueError):
    """Implausible or ill-specified clinical input (weight, height, age, units)."""

    def __init__(self, field: str, value: object, accepted: str) -> None:
        self.field = field
        self.value = value
        self.accepted = accepted
        super().__init__(f"{field} = {value!r} is not accepted: {accepted}")


@dataclass(frozen=True, slots=True)
class CohortIssue:
    """One validation entry of data-dictionary.md §3.6 (an error ``E`` or a warning ``W``).

    ``row`` is 1-based as the user sees it (header = 1), ``None`` for file- or table-level rules;
    ``value`` is the raw text (<= 60 characters) or ``"<redacted>"`` for identifier columns.
    """

    table: str
    row: int | None
    column: str | None
    value: str | None
    rule_id: str
    severity: str
    message: str
    fix: str
    source: str


class CohortValidationError(RRBallError, ValueError):
    """A cohort import was refused: ``errors`` lists every violation (data-dictionary.md §3.6).

    Nothing is returned or written when this is raised. The message counts the errors and shows
    the first few; identifier values never appear (they are ``"<redacted>"`` in the entries).
    """

    def __init__(self, errors: Sequence[CohortIssue], warnings: Sequence[CohortIssue] = ()) -> None:
        self.errors: tuple[CohortIssue, ...] = tuple(errors)
        self.warnings: tuple[CohortIssue, ...] = tuple(warnings)
        n = len(self.errors)
        head = "; ".join(e.message for e in self.errors[:3])
        more = f" (and {n - 3} more)" if n > 3 else ""
        noun = "error" if n == 1 else "errors"
        super().__init__(f"cohort refused: {n} validation {noun}: {head}{more}")


@dataclass(frozen=True, slots=True)
class PlanIssue:
    """One problem of a study plan: where it is (1-based line, YAML path) and what is wrong."""

    line: int | None
    path: str
    message: str

    def text(self, source: str) -> str:
        where = f"{source}, line {self.line}" if self.line is not None else source
        at = f" ({self.path})" if self.path else ""
        return f"{where}{at}: {self.message}"


class PlanError(RRBallError, ValueError):
    """A study plan (PLAN.yaml) that cannot be used: every issue names its line and YAML path.

    Raised by plan loading (syntax, unknown keys, unknown endpoints, analyses or columns, bad
    time points) and by the runner when a plan asks for something the cohort does not have.
    """

    def __init__(self, issues: Sequence[PlanIssue], *, source: str = "plan") -> None:
        self.issues: tuple[PlanIssue, ...] = tuple(issues)
        self.source = source
        n = len(self.issues)
        noun = "problem" if n == 1 else "problems"
        lines = "\n".join(f"  {i.text(source)}" for i in self.issues)
        super().__init__(f"invalid study plan {source}: {n} {noun}\n{lines}")
