"""The result shared by the toxicity graders (clinical-reference.md §4, general rules)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rrball._result import ResultMixin, json_safe

__all__ = ["ToxicityGrade"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ToxicityGrade(ResultMixin):
    """A derived grade: ``grade`` (0 = criteria not met), the ``domain`` that set it, the
    criteria set, the inputs, and ``incomplete`` when an input needed for a higher grade is
    missing (``missing`` names it). ``domains`` gives the grade of each domain."""

    term: str
    grade: int
    domain: str | None
    domains: Mapping[str, int]
    criteria: str
    rule_id: str
    inputs: Mapping[str, Any]
    incomplete: bool
    missing: tuple[str, ...]
    source: str
    unverified: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [
            f"{self.term}: grade {self.grade} ({self.criteria})"
            + (f", set by {self.domain}" if self.domain else ""),
            "Domains: " + ", ".join(f"{k} {v}" for k, v in self.domains.items()),
            f"Rule: {self.rule_id}",
            "Inputs: " + ", ".join(f"{k}={v!r}" for k, v in self.inputs.items()),
            f"Source: {self.source}",
        ]
        if self.incomplete:
            lines.append("Incomplete: missing " + ", ".join(self.missing))
        if self.unverified:
            lines.append("UNVERIFIED: " + ", ".join(self.unverified))
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for k in ("inputs", "domains", "method"):
            out[k] = dict(out[k])
        return dict(json_safe(out))


def top_domain(domains: Mapping[str, int]) -> tuple[int, str | None]:
    """The maximum grade and the first domain reaching it (None when all are 0)."""
    grade = max(domains.values(), default=0)
    if grade == 0:
        return 0, None
    return grade, next(k for k, v in domains.items() if v == grade)
