"""Exceptions raised by rrball for user mistakes.

Every exception here is a *user* error: the message says what is wrong and how to fix it, so the
command line can print it without a traceback. Messages never quote patient identifiers; they name
arguments, positions or study IDs only.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ClinicalInputError", "InputError", "RRBallError"]

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
