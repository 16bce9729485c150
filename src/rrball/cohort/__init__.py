"""Cohort data: the model of data-dictionary.md, import with validation, derived endpoints.

Public names (api.md ``rrball.cohort``): ``load_cohort``, ``Cohort``, ``synthetic_cohort``,
``CohortValidationError`` (from ``rrball.errors``). Research tool, not for clinical decisions.
"""

from rrball.cohort.cohort import Cohort, load_cohort
from rrball.cohort.readers.mapped import PUBLIC_COHORTS, load_mapped, public_cohort
from rrball.cohort.redcap import redcap_dictionary
from rrball.cohort.synthetic import PROFILES, synthetic_cohort, synthetic_tables
from rrball.cohort.toxicity import TOX_COLUMNS, patients_with_grade
from rrball.errors import CohortIssue, CohortValidationError

__all__ = [
    "PROFILES",
    "PUBLIC_COHORTS",
    "TOX_COLUMNS",
    "Cohort",
    "CohortIssue",
    "CohortValidationError",
    "load_cohort",
    "load_mapped",
    "patients_with_grade",
    "public_cohort",
    "redcap_dictionary",
    "synthetic_cohort",
    "synthetic_tables",
]
