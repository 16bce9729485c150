"""``synthetic_cohort(..., inject_errors=True)`` (data-dictionary.md §8 rule 5): one violation
of each covered E rule, each on its own patient, and the validator reports exactly them (plus
the consequences each injection declares), through the tables and through written CSV files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rrball.cohort import CohortValidationError, load_cohort, synthetic_cohort
from rrball.cohort.inject import COVERED_RULES, InjectedCohort
from rrball.errors import CohortIssue


def _key(e: CohortIssue) -> tuple[object, ...]:
    return (e.table, e.row, e.column, e.rule_id)


def _check(inj: InjectedCohort, errors: list[CohortIssue]) -> None:
    got = {_key(e) for e in errors}
    for x in inj.expected:
        assert (x.table, x.row, x.column, x.rule_id) in got, x
    allowed = {x.rule_id for x in inj.expected} | {a for x in inj.expected for a in x.also}
    unexplained = [_key(e) for e in errors if e.rule_id not in allowed]
    assert unexplained == []
    assert all(e.severity == "E" for e in errors)


@pytest.mark.parametrize("profile, seed", [("seed003", 1), ("seed003", 2), ("seed000", 1),
                                           ("seed001", 3)])
def test_every_injected_rule_is_reported_and_nothing_else(profile: str, seed: int) -> None:
    inj = synthetic_cohort(profile, seed=seed, inject_errors=True)
    assert isinstance(inj, InjectedCohort)
    errors = inj.validate()
    _check(inj, errors)
    injected = {x.rule_id for x in inj.expected}
    assert injected | set(inj.skipped) == set(COVERED_RULES)
    # one patient per violation
    assert len({x.patient_id for x in inj.expected}) == len(inj.expected)


def test_seed003_covers_every_rule_and_files_give_the_same_errors(tmp_path: Path) -> None:
    inj = synthetic_cohort("seed003", seed=1, inject_errors=True)
    assert inj.skipped == ()
    assert len(inj.expected) == len(COVERED_RULES) >= 45
    folder = inj.write(tmp_path / "bad")
    with pytest.raises(CohortValidationError) as exc:
        load_cohort(folder)
    _check(inj, list(exc.value.errors))
    assert {_key(e) for e in exc.value.errors} == {_key(e) for e in inj.validate()}


def test_small_profile_skips_rules_it_has_no_patient_for() -> None:
    """Seed 004 has 27 patients: the rules without a free patient are listed, not faked."""
    inj = synthetic_cohort("seed004", seed=1, inject_errors=True)
    assert inj.skipped and len(inj.expected) + len(inj.skipped) == len(COVERED_RULES)
    _check(inj, inj.validate())


def test_without_injection_the_same_cohort_is_valid() -> None:
    assert synthetic_cohort("seed003", seed=1).table("patients").shape[0] == 108
