"""Snapshot tests of rendered tables (design.md §5: report tests are snapshots, statistics tests
are numeric). Each table of the shared report (public bmt / ALL data) is rendered as text and as
HTML and compared with ``__snapshots__/<slug>.{txt,html}``.

A changed rendering fails with a diff. Regenerate after an intended change with
``RRBALL_UPDATE_SNAPSHOTS=1 pytest tests/report/test_snapshots.py`` and review the diff in git.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from rrball.report.document import Report, slug
from rrball.report.render.html import table_html
from rrball.report.styles import get_style

SNAPSHOTS = Path(__file__).with_name("__snapshots__")
UPDATE = os.environ.get("RRBALL_UPDATE_SNAPSHOTS") == "1"


def _check(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {name}: run with RRBALL_UPDATE_SNAPSHOTS=1 and commit it"
    want = path.read_text(encoding="utf-8")
    if text != want:
        diff = "\n".join(difflib.unified_diff(want.splitlines(), text.splitlines(),
                                              "snapshot", "now", lineterm="", n=1))
        pytest.fail(f"{name} changed:\n{diff[:4000]}")


def test_every_table_renders_as_its_snapshot(report: Report) -> None:
    style = get_style()
    names = []
    for spec in report.tables():
        stem = slug(spec.title, 50)
        names.append(stem)
        _check(f"{stem}.txt", spec.to_text(style) + "\n")
        _check(f"{stem}.html", table_html(spec, style) + "\n")
    assert len(names) == len(set(names)) >= 5
    if not UPDATE:
        stale = {p.stem for p in SNAPSHOTS.glob("*.txt")} - set(names)
        assert not stale, f"snapshots without a table: {sorted(stale)}"
