"""Clinical rules: regimens, doses, calendars, response and toxicity (pure functions).

Research tool, not for clinical dosing decisions.
"""

from rrball.clinical.anthropometry import BSA_FORMULAS, BodySurfaceAreaResult, body_surface_area
from rrball.clinical.calendar import (
    CalendarBreak,
    CalendarCycle,
    CalendarRow,
    TreatmentCalendar,
    treatment_calendar,
)
from rrball.clinical.dosing import (
    BLINATUMOMAB_INDICATIONS,
    DoseResult,
    RegimenDosesResult,
    blinatumomab_dose,
    inotuzumab_dose,
    regimen_doses,
    response_category,
)
from rrball.clinical.regimens.regimen import Regimen, list_regimens, load_regimen_yaml, regimen
from rrball.clinical.response import (
    CRITERIA_SETS,
    Assessment,
    ResponseResult,
    derive_response,
    derive_response_series,
    mrd_to_fraction,
)
from rrball.clinical.sources import DISCLAIMER, SOURCES, UNVERIFIED
from rrball.clinical.toxicity import (
    SOSVODCriterion,
    SOSVODResult,
    ToxicityGrade,
    ctcae_grade,
    diagnose_sos_vod,
    grade_crs,
    grade_febrile_neutropenia,
    grade_icans,
)

__all__ = [
    "BLINATUMOMAB_INDICATIONS",
    "BSA_FORMULAS",
    "CRITERIA_SETS",
    "DISCLAIMER",
    "SOURCES",
    "UNVERIFIED",
    "Assessment",
    "BodySurfaceAreaResult",
    "CalendarBreak",
    "CalendarCycle",
    "CalendarRow",
    "DoseResult",
    "Regimen",
    "RegimenDosesResult",
    "ResponseResult",
    "SOSVODCriterion",
    "SOSVODResult",
    "ToxicityGrade",
    "TreatmentCalendar",
    "blinatumomab_dose",
    "body_surface_area",
    "ctcae_grade",
    "derive_response",
    "derive_response_series",
    "diagnose_sos_vod",
    "grade_crs",
    "grade_febrile_neutropenia",
    "grade_icans",
    "inotuzumab_dose",
    "list_regimens",
    "load_regimen_yaml",
    "mrd_to_fraction",
    "regimen",
    "regimen_doses",
    "response_category",
    "treatment_calendar",
]
