"""Toxicity grading: CRS and ICANS (ASTCT 2019), SOS/VOD (all sets), CTCAE v5.0 (§4)."""

from rrball.clinical.toxicity._common import ToxicityGrade
from rrball.clinical.toxicity.crs import grade_crs
from rrball.clinical.toxicity.ctcae import ctcae_grade, grade_febrile_neutropenia
from rrball.clinical.toxicity.icans import grade_icans
from rrball.clinical.toxicity.sos_vod import SOSVODCriterion, SOSVODResult, diagnose_sos_vod

__all__ = [
    "SOSVODCriterion",
    "SOSVODResult",
    "ToxicityGrade",
    "ctcae_grade",
    "diagnose_sos_vod",
    "grade_crs",
    "grade_febrile_neutropenia",
    "grade_icans",
]
