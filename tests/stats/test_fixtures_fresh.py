"""Stale-fixture alarm: every fixture was written by the current R scripts from the current data.

``make test`` runs without R, so this checks hashes; ``.ci/run`` additionally re-runs the R
scripts and fails when any regenerated file differs from the committed one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests._rfixture import DATA_DIR, FIXTURE_DIR

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted(FIXTURE_DIR.glob("*.json"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_there_are_fixtures() -> None:
    assert len(FIXTURES) >= 30


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_hashes_match_scripts_and_data(path: Path) -> None:
    fx = json.loads(path.read_text(encoding="utf-8"))
    assert fx["case"] == path.stem
    script = ROOT / fx["generated_by"]
    assert script.exists(), f"{fx['generated_by']} is gone"
    assert fx["script_sha256"] == _sha(script), f"{path.name}: R script changed; run make fixtures"
    writer = script.parent / "_write_fixture.R"
    assert fx["writer_sha256"] == _sha(writer), f"{path.name}: writer changed; run make fixtures"
    data = DATA_DIR / fx["data"]["file"]
    assert fx["data"]["sha256"] == _sha(data), f"{path.name}: data changed; run make fixtures"
    assert fx["tolerance"]["rtol"] <= 1e-9 or fx["tolerance"]["reason"], (
        "a looser tolerance needs a written reason"
    )


def test_demo_dataset_is_the_fixture_copy() -> None:
    embedded = ROOT / "src" / "rrball" / "data" / "bmt.csv"
    assert _sha(embedded) == _sha(DATA_DIR / "bmt.csv")
