"""The provenance lines every clinical result prints under its verdict."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["trail_lines"]


def trail_lines(
    inputs: Mapping[str, Any],
    source: str,
    unverified: Iterable[str],
    warnings: Iterable[str],
    missing: Iterable[str] = (),
) -> list[str]:
    """Missing inputs, the inputs used, the source, UNVERIFIED register items and warnings."""
    lines: list[str] = []
    missing = list(missing)
    if missing:
        lines.append("Missing: " + ", ".join(missing))
    if inputs:
        lines.append("Inputs: " + ", ".join(f"{k}={v!r}" for k, v in inputs.items()))
    lines.append(f"Source: {source}")
    unverified = list(unverified)
    if unverified:
        lines.append("UNVERIFIED: " + ", ".join(unverified))
    lines += [f"Warning: {w}" for w in warnings]
    return lines
