"""Toxicity graders: boundaries at every threshold of §4 (just below, at, just above)."""

from __future__ import annotations

import pytest

from rrball.clinical import (
    ctcae_grade,
    diagnose_sos_vod,
    grade_crs,
    grade_febrile_neutropenia,
    grade_icans,
)
from rrball.errors import ClinicalInputError


@pytest.mark.parametrize(("temp", "grade"), [(37.9, 0), (38.0, 1), (38.1, 1)])
def test_crs_fever_boundary(temp: float, grade: int) -> None:
    r = grade_crs(temp_max_c=temp, hypotension=False)
    assert r.grade == grade and r.criteria == "ASTCT 2019"


@pytest.mark.parametrize(
    ("kw", "grade", "domain"),
    [
        ({"hypotension": True, "n_vasopressors_excl_vasopressin": 0}, 2, "hypotension"),
        (
            {"hypotension": True, "n_vasopressors_excl_vasopressin": 0, "vasopressin": True},
            3,
            "hypotension",
        ),
        ({"hypotension": True, "n_vasopressors_excl_vasopressin": 1}, 3, "hypotension"),
        ({"hypotension": True, "n_vasopressors_excl_vasopressin": 2}, 4, "hypotension"),
        (
            {"hypotension": False, "oxygen_device": "nasal_cannula", "o2_flow_l_min": 6.0},
            2,
            "hypoxia",
        ),
        (
            {"hypotension": False, "oxygen_device": "nasal_cannula", "o2_flow_l_min": 6.1},
            3,
            "hypoxia",
        ),
        ({"hypotension": False, "oxygen_device": "bipap"}, 4, "hypoxia"),
    ],
)
def test_crs_domains(kw: dict[str, object], grade: int, domain: str) -> None:
    r = grade_crs(temp_max_c=38.5, **kw)  # type: ignore[arg-type]
    assert (r.grade, r.domain) == (grade, domain)
    assert r.rule_id == f"crs.grade{grade}.{domain}"


def test_crs_masked_fever_missing_and_units() -> None:
    """After tocilizumab fever is not required; missing hypotension → incomplete; °F refused."""
    assert (
        grade_crs(
            temp_max_c=37.0, fever_masked=True, hypotension=True, n_vasopressors_excl_vasopressin=1
        ).grade
        == 3
    )
    masked = grade_crs(temp_max_c=37.0, fever_masked=True, hypotension=False)
    assert masked.grade == 0 and masked.warnings
    inc = grade_crs(temp_max_c=39.0, hypotension=None)
    assert inc.incomplete and "hypotension" in inc.missing and inc.grade == 1
    with pytest.raises(ClinicalInputError):
        grade_crs(temp_max_c=101.0, hypotension=False)


@pytest.mark.parametrize(
    ("ice", "grade"), [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (0, 3)]
)
def test_icans_ice_bands(ice: int, grade: int) -> None:
    r = grade_icans(age_years=30, ice_score=ice, consciousness="alert")
    assert r.grade == grade
    assert r.domains["ice"] == grade


@pytest.mark.parametrize(("capd", "grade"), [(0, 0), (1, 1), (8, 1), (9, 3)])
def test_icans_capd_bands(capd: int, grade: int) -> None:
    assert grade_icans(age_years=6, capd_score=capd, consciousness="alert").grade == grade


def test_icans_other_domains_and_age_12() -> None:
    assert grade_icans(age_years=30, ice_score=0, consciousness="unarousable").grade == 4
    assert grade_icans(age_years=30, ice_score=10, consciousness="awakens_to_voice").grade == 2
    assert (
        grade_icans(
            age_years=30,
            ice_score=10,
            consciousness="alert",
            seizure="prolonged_gt5min_or_repetitive",
        ).grade
        == 4
    )
    assert (
        grade_icans(
            age_years=30, ice_score=10, consciousness="alert", raised_icp="focal_oedema"
        ).grade
        == 3
    )
    assert (
        grade_icans(
            age_years=6, capd_score=0, consciousness="alert", capd_zero_is_grade1=True
        ).grade
        == 1
    )
    with pytest.raises(ClinicalInputError) as err:
        grade_icans(age_years=12, ice_score=9, capd_score=3, consciousness="alert")
    assert err.value.field == "tool_at_age_12"
    r12 = grade_icans(age_years=12, ice_score=9, consciousness="alert")
    assert r12.method["tool"] == "ice" and r12.warnings
    assert grade_icans(age_years=12.01, ice_score=9, consciousness="alert").method["tool"] == "ice"
    assert grade_icans(age_years=11.99, capd_score=9, consciousness="alert").grade == 3


@pytest.mark.parametrize(
    ("value", "grade"),
    [(40, 0), (40.1, 1), (120, 1), (120.1, 2), (200, 2), (200.1, 3), (800, 3), (800.1, 4)],
)
def test_ctcae_alt_baseline_normal(value: float, grade: int) -> None:
    """ALT, ULN 40: > ULN, > 3, > 5, > 20 × ULN."""
    assert ctcae_grade("ALT", value, 40).grade == grade


@pytest.mark.parametrize(
    ("value", "grade"), [(89.9, 0), (90, 1), (180, 1), (180.1, 2), (1200.1, 4)]
)
def test_ctcae_alt_baseline_abnormal(value: float, grade: int) -> None:
    """Baseline 60 > ULN 40: multiples of baseline, grade 1 from 1.5 × baseline."""
    r = ctcae_grade("ALT", value, 40, baseline=60)
    assert r.grade == grade and r.method["baseline_abnormal"]


@pytest.mark.parametrize(
    ("value", "grade"), [(1.0, 0), (1.01, 1), (1.5, 1), (1.51, 2), (3.01, 3), (10.01, 4)]
)
def test_ctcae_bilirubin(value: float, grade: int) -> None:
    assert ctcae_grade("bilirubin_increased", value, 1.0).grade == grade


@pytest.mark.parametrize(
    ("term", "value", "grade"),
    [
        ("ANC", 0.49, 4),
        ("ANC", 0.5, 3),
        ("ANC", 0.99, 3),
        ("ANC", 1.0, 2),
        ("ANC", 1.49, 2),
        ("ANC", 1.5, 1),
        ("ANC", 2.0, 0),
        ("PLT", 24.9, 4),
        ("PLT", 25, 3),
        ("PLT", 50, 2),
        ("PLT", 75, 1),
        ("PLT", 150, 0),
    ],
)
def test_ctcae_decreased_counts(term: str, value: float, grade: int) -> None:
    lln = 2.0 if term == "ANC" else 150.0
    assert ctcae_grade(term, value, lln=lln).grade == grade


def test_ctcae_grade1_needs_lln() -> None:
    r = ctcae_grade("ANC", 1.6)
    assert r.grade == 0 and r.incomplete and r.missing == ("lln",)


@pytest.mark.parametrize(
    ("anc", "temp", "sustained", "grade"),
    [
        (0.99, 38.4, None, 3),
        (1.0, 38.4, False, 0),
        (0.5, 38.3, False, 0),
        (0.5, 38.3, True, 3),
        (0.5, 38.31, False, 3),
    ],
)
def test_febrile_neutropenia(anc: float, temp: float, sustained: bool | None, grade: int) -> None:
    r = grade_febrile_neutropenia(
        anc=anc, temp_max_c=temp, fever_sustained_1h=sustained, life_threatening=False
    )
    assert r.grade == grade


@pytest.mark.parametrize(("bili", "met"), [(1.99, False), (2.0, True), (2.01, True)])
def test_sos_bilirubin_boundary(bili: float, met: bool) -> None:
    """Bilirubin 2 mg/dL with hepatomegaly: Seattle (>= 2, U21 default) needs 2 criteria."""
    r = diagnose_sos_vod(
        day=10,
        bilirubin_mg_dl=bili,
        hepatomegaly=True,
        hepatomegaly_painful=True,
        ruq_pain=True,
        ascites="none",
        weight_kg=70,
        baseline_weight_kg=70,
    )
    assert r.criteria["modified_seattle"].diagnosed is met


@pytest.mark.parametrize(
    ("weight", "seattle", "baltimore"),
    [(71.4, False, False), (71.401, True, False), (73.5, True, False), (73.501, True, True)],
)
def test_sos_weight_gain_boundaries(weight: float, seattle: bool, baltimore: bool) -> None:
    """Weight gain > 2 % (Seattle) and > 5 % (Baltimore) from 70 kg."""
    r = diagnose_sos_vod(
        day=10,
        bilirubin_mg_dl=2.5,
        hepatomegaly=False,
        ruq_pain=False,
        ascites=True,
        weight_kg=weight,
        baseline_weight_kg=70,
    )
    assert r.criteria["modified_seattle"].diagnosed is seattle
    assert r.criteria["baltimore"].diagnosed is baltimore


@pytest.mark.parametrize(
    ("day", "seattle", "ebmt_type"),
    [(20, True, "classical"), (21, False, "classical"), (22, False, "late_onset")],
)
def test_sos_time_windows(day: int, seattle: bool, ebmt_type: str) -> None:
    r = diagnose_sos_vod(
        day=day,
        bilirubin_mg_dl=3.0,
        hepatomegaly=True,
        hepatomegaly_painful=True,
        ruq_pain=True,
        ascites="moderate",
        weight_kg=75,
        baseline_weight_kg=70,
    )
    assert r.criteria["modified_seattle"].diagnosed is seattle
    assert r.criteria["ebmt_adult_2016"].onset_type == ebmt_type
    assert r.criteria["ebmt_paediatric_2018"].diagnosed is True


def test_sos_severity_and_undecidable() -> None:
    """EBMT adult: MOD/MOF → very severe; paediatric: 2 starred severe → very severe."""
    r = diagnose_sos_vod(
        day=5,
        bilirubin_mg_dl=2.5,
        hepatomegaly=True,
        hepatomegaly_painful=True,
        ascites="paracentesis",
        weight_kg=72,
        baseline_weight_kg=70,
        mod_mof=True,
        transaminases_x_uln=6,
    )
    assert r.criteria["ebmt_adult_2016"].severity == "very_severe"
    assert r.criteria["ebmt_paediatric_2018"].severity == "very_severe"
    und = diagnose_sos_vod(day=5, bilirubin_mg_dl=2.5)
    assert und.criteria["baltimore"].diagnosed is None
    assert "hepatomegaly" in und.criteria["baltimore"].missing
    no = diagnose_sos_vod(
        day=5, bilirubin_mg_dl=2.5, hepatomegaly=True, ascites=True, other_causes_excluded=False
    )
    assert not no.diagnosed_by
