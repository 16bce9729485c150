"""ICANS, ASTCT 2019 consensus grading with ICE (age > 12) or CAPD (children) (§4.2) [S:ASTCT]."""

from __future__ import annotations

from types import MappingProxyType

from rrball.clinical._inputs import check_age
from rrball.clinical.toxicity._common import ToxicityGrade, top_domain
from rrball.errors import ClinicalInputError

__all__ = ["CONSCIOUSNESS", "RAISED_ICP", "SEIZURE", "grade_icans"]

CONSCIOUSNESS = MappingProxyType(
    {
        "alert": 0,
        "awakens_spontaneously": 1,
        "awakens_to_voice": 2,
        "awakens_to_tactile": 3,
        "unarousable": 4,
    }
)
SEIZURE = MappingProxyType(
    {"none": 0, "rapidly_resolving_or_eeg_resolving": 3, "prolonged_gt5min_or_repetitive": 4}
)
RAISED_ICP = MappingProxyType({"none": 0, "focal_oedema": 3, "diffuse_oedema_or_signs": 4})
ICE_AGE_YEARS = 12.0


def _ice_grade(ice: int) -> int:
    # ICE 10 -> 0; 7-9 -> 1; 3-6 -> 2; 0-2 -> 3 (grade 4 needs unarousable: consciousness domain)
    return 0 if ice == 10 else 1 if ice >= 7 else 2 if ice >= 3 else 3


def _capd_grade(capd: int, zero_is_grade1: bool) -> int:
    # CAPD >= 9 -> 3; 1-8 -> 1 (grade 2 set by awakening to voice); 0 -> 0, or 1 under the "<9"
    # reading of the band (UNVERIFIED U20)
    if capd >= 9:
        return 3
    if capd >= 1:
        return 1
    return 1 if zero_is_grade1 else 0


def grade_icans(
    *,
    age_years: float,
    ice_score: int | None = None,
    capd_score: int | None = None,
    consciousness: str | None = None,
    seizure: str | None = "none",
    deep_focal_motor_weakness: bool | None = False,
    raised_icp: str | None = "none",
    tool_at_age_12: str | None = None,
    capd_zero_is_grade1: bool = False,
) -> ToxicityGrade:
    """ICANS grade by the ASTCT 2019 consensus [S:ASTCT] (via PMC8403007 Table 4, PMC7990806).

    Domains (grade = the most severe; findings attributable to other causes excluded by the
    caller): ICE 7–9 → 1, 3–6 → 2, 0–2 → 3 (ICE for age > 12); CAPD 1–8 → 1, ≥ 9 → 3 (children,
    [S:ASTCT-PED]); consciousness: awakens spontaneously 1, to voice 2, only to touch 3,
    unarousable 4; seizure: rapidly resolving / EEG-resolving 3, prolonged > 5 min or repetitive 4;
    deep focal motor weakness 4; raised ICP: focal oedema 3, diffuse oedema / posturing / CN VI
    palsy / papilloedema / Cushing's triad 4. Unable to perform ICE/CAPD because unarousable →
    grade 4 via consciousness.

    Age exactly 12: the sources disagree (UNVERIFIED U20): give ``tool_at_age_12`` (``"ice"`` or
    ``"capd"``) or exactly one score. ``capd_zero_is_grade1`` follows the "CAPD < 9" reading
    (U20; default: the "1–8" band). Tremor and myoclonus are graded by CTCAE, not here.
    """
    age = check_age(age_years)
    if age is None:
        raise ClinicalInputError("age_years", age_years, "age in years (selects ICE or CAPD)")
    for name, val, allowed in (
        ("consciousness", consciousness, CONSCIOUSNESS),
        ("seizure", seizure, SEIZURE),
        ("raised_icp", raised_icp, RAISED_ICP),
    ):
        if val is not None and val not in allowed:
            raise ClinicalInputError(name, val, f"one of {sorted(allowed)}")
    for name, score, hi in (("ice_score", ice_score, 10), ("capd_score", capd_score, 32)):
        if score is not None and (
            isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= hi
        ):
            raise ClinicalInputError(name, score, f"a whole number 0 to {hi}")
    warnings: list[str] = []
    unverified = ["U20"]
    if age > ICE_AGE_YEARS:
        tool = "ice"
    elif age < ICE_AGE_YEARS:
        tool = "capd"
    elif tool_at_age_12 in ("ice", "capd"):
        tool = tool_at_age_12
    elif (ice_score is None) != (capd_score is None):
        tool = "ice" if ice_score is not None else "capd"
        warnings.append(f"age exactly 12: {tool.upper()} used because only it was given (U20)")
    else:
        raise ClinicalInputError(
            "tool_at_age_12", tool_at_age_12, "'ice' or 'capd' at age exactly 12 (UNVERIFIED U20)"
        )
    missing: list[str] = []
    domains: dict[str, int] = {}
    if tool == "ice":
        if capd_score is not None:
            warnings.append("CAPD given for a patient graded with ICE: ignored (R-XF-027)")
        if ice_score is None:
            if consciousness != "unarousable":
                missing.append("ice_score")
            domains["ice"] = 0
        else:
            domains["ice"] = _ice_grade(ice_score)
    else:
        if ice_score is not None:
            warnings.append("ICE given for a patient graded with CAPD: ignored (R-XF-027)")
        if capd_score is None:
            if consciousness != "unarousable":
                missing.append("capd_score")
            domains["capd"] = 0
        else:
            domains["capd"] = _capd_grade(capd_score, capd_zero_is_grade1)
    for name, val, table in (
        ("consciousness", consciousness, CONSCIOUSNESS),
        ("seizure", seizure, SEIZURE),
        ("raised_icp", raised_icp, RAISED_ICP),
    ):
        if val is None:
            missing.append(name)
            domains[name] = 0
        else:
            domains[name] = table[val]
    if deep_focal_motor_weakness is None:
        missing.append("deep_focal_motor_weakness")
    domains["motor"] = 4 if deep_focal_motor_weakness else 0
    grade, domain = top_domain(domains)
    return ToxicityGrade(
        term="icans",
        grade=grade,
        domain=domain,
        domains=MappingProxyType(domains),
        criteria=f"ASTCT 2019 ({tool.upper()})",
        rule_id=f"icans.grade{grade}.{domain}" if domain else "icans.grade0",
        inputs=MappingProxyType(
            {
                "age_years": age,
                "ice_score": ice_score,
                "capd_score": capd_score,
                "consciousness": consciousness,
                "seizure": seizure,
                "deep_focal_motor_weakness": deep_focal_motor_weakness,
                "raised_icp": raised_icp,
            }
        ),
        incomplete=bool(missing),
        missing=tuple(missing),
        source="[S:ASTCT] (PMC8403007 Table 4, PMC7990806); children [S:ASTCT-PED], [S:NCIT-ICANS]",
        unverified=tuple(unverified),
        warnings=tuple(warnings),
        method=MappingProxyType({"tool": tool, "capd_zero_is_grade1": capd_zero_is_grade1}),
    )
