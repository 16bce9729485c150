"""Clinical rules: regimens, doses, calendars, response and toxicity (pure functions).

Research tool, not for clinical dosing decisions.
"""

from rrball.clinical.anthropometry import BSA_FORMULAS, BodySurfaceAreaResult, body_surface_area
from rrball.clinical.best_response import (
    BASELINE_STATES,
    BEST_RESPONSE_RANK,
    BaselineStateResult,
    BestResponseResult,
    baseline_disease_state,
    best_overall_response,
)
from rrball.clinical.calendar import (
    INTERRUPTION_CONTINUE_MAX_DAYS,
    CalendarBreak,
    CalendarCycle,
    CalendarRow,
    Interruption,
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
from rrball.clinical.modifications import (
    CycleDelayResult,
    DoseModificationResult,
    blinatumomab_restart_rule,
    blinatumomab_toxicity_action,
    inotuzumab_cycle_delay,
    inotuzumab_toxicity_action,
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
    "BASELINE_STATES",
    "BEST_RESPONSE_RANK",
    "BLINATUMOMAB_INDICATIONS",
    "BSA_FORMULAS",
    "CRITERIA_SETS",
    "DISCLAIMER",
    "INTERRUPTION_CONTINUE_MAX_DAYS",
    "SOURCES",
    "UNVERIFIED",
    "Assessment",
    "BaselineStateResult",
    "BestResponseResult",
    "BodySurfaceAreaResult",
    "CalendarBreak",
    "CalendarCycle",
    "CalendarRow",
    "CycleDelayResult",
    "DoseModificationResult",
    "DoseResult",
    "Interruption",
    "Regimen",
    "RegimenDosesResult",
    "ResponseResult",
    "SOSVODCriterion",
    "SOSVODResult",
    "ToxicityGrade",
    "TreatmentCalendar",
    "baseline_disease_state",
    "best_overall_response",
    "blinatumomab_dose",
    "blinatumomab_restart_rule",
    "blinatumomab_toxicity_action",
    "body_surface_area",
    "ctcae_grade",
    "derive_response",
    "derive_response_series",
    "diagnose_sos_vod",
    "grade_crs",
    "grade_febrile_neutropenia",
    "grade_icans",
    "inotuzumab_cycle_delay",
    "inotuzumab_dose",
    "inotuzumab_toxicity_action",
    "list_regimens",
    "load_regimen_yaml",
    "mrd_to_fraction",
    "regimen",
    "regimen_doses",
    "response_category",
    "treatment_calendar",
]
