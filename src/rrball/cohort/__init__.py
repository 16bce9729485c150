"""Cohort data: the model of data-dictionary.md, import with validation, derived endpoints.

Public names (api.md ``rrball.cohort``): ``load_cohort``, ``Cohort``, ``synthetic_cohort``,
``CohortValidationError`` (from ``rrball.errors``). Research tool, not for clinical decisions.
"""

from rrball.cohort.cohort import Cohort, load_cohort
from rrball.cohort.synthetic import PROFILES, synthetic_cohort, synthetic_tables
from rrball.errors import CohortIssue, CohortValidationError

__all__ = [
    "PROFILES",
    "Cohort",
    "CohortIssue",
    "CohortValidationError",
    "load_cohort",
    "synthetic_cohort",
    "synthetic_tables",
]
