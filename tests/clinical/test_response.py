"""Response derivation: §3.8 boundary cases, precedence, MRD rules, totality (property)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rrball.clinical import CRITERIA_SETS, derive_response, mrd_to_fraction
from rrball.clinical.response import LEVELS
from rrball.errors import ClinicalInputError

CLEAN = {"bm_blast_pct": 1.0, "pb_blasts": False, "emd": "none", "anc": 3.0, "plt": 200.0}
MRD = {
    "mrd_scale": "fraction",
    "mrd_unit": "fraction_of_nucleated_cells",
    "mrd_sample": "BM",
    "mrd_method": "flow",
    "mrd_lod": 1e-5,
}


def a(**kw: Any) -> dict[str, Any]:
    return {**CLEAN, **kw}


@pytest.mark.parametrize(
    ("cset", "blasts", "level"),
    [
        ("blincyto_trials", 4.9, "CR"),
        ("blincyto_trials", 5.0, "CR"),
        ("blincyto_trials", 5.1, "NO_RESPONSE"),
        ("besponsa_label", 4.9, "CR"),
        ("besponsa_label", 5.0, "NO_RESPONSE"),
        ("besponsa_label", 5.1, "NO_RESPONSE"),
        ("seed000", 5.0, "CR"),
        ("seed000", 5.1, "NO_RESPONSE"),
    ],
)
def test_marrow_blast_boundary(cset: str, blasts: float, level: str) -> None:
    """BM blasts 5.0 %: CR-eligible under blincyto_trials (<=5) and seed000, not besponsa (<5)."""
    r = derive_response(a(bm_blast_pct=blasts), criteria_set=cset)
    assert r.level == level
    assert r.rule_id == ("response.cr" if level == "CR" else "response.no_response")


@pytest.mark.parametrize(
    ("cset", "anc", "plt", "level"),
    [
        ("blincyto_trials", 1.01, 100.1, "CR"),
        ("blincyto_trials", 1.0, 200, "CRh"),
        ("blincyto_trials", 2.0, 100.0, "CRh"),
        ("blincyto_trials", 0.51, 50.1, "CRh"),
        ("blincyto_trials", 0.5, 50.0, "BM_BLAST_FREE_NO_RECOVERY"),
        ("blincyto_trials", 0.49, 101, "CRi"),
        ("besponsa_label", 1.0, 100.0, "CR"),
        ("besponsa_label", 0.99, 100.0, "CRi"),
        ("besponsa_label", 1.0, 99.9, "CRi"),
        ("eln2022_aml_crh", 0.5, 50.0, "CRh"),
        ("eln2022_aml_crh", 0.49, 50.0, "CRi"),
        ("mdacc_seed003", 1.0, 99.0, "CRp"),
        ("mdacc_seed003", 0.99, 150.0, "CRi"),
        ("nccn", 1.0, 150.0, "CRi"),
        ("seed000", 0.1, 5.0, "CR"),
    ],
)
def test_count_boundaries(cset: str, anc: float, plt: float, level: str) -> None:
    """ANC 1.0 / platelets 100 / ANC 0.5 & platelets 50 boundaries of §3.8 per set."""
    r = derive_response(a(anc=anc, plt=plt), criteria_set=cset)
    assert r.level == level
    assert r.rule_id == f"response.{level.lower()}"
    assert r.inputs["anc"] == anc


@pytest.mark.parametrize(
    ("cset", "value", "suffix"),
    [
        ("besponsa_label", 0.99e-4, "_MRDNEG"),
        ("besponsa_label", 1e-4, "_MRDPOS"),
        ("besponsa_label", 1.01e-4, "_MRDPOS"),
        ("seed000", 1e-4, "_MRDNEG"),
        ("seed000", 1.01e-4, "_MRDPOS"),
        ("consensus_2010", 0.5e-4, "_MRDPOS_LOW"),
    ],
)
def test_mrd_threshold_boundary(cset: str, value: float, suffix: str) -> None:
    """MRD = 1e-4 exactly is positive for besponsa (< 1e-4 needed), negative for seed000."""
    r = derive_response(a(mrd_detected=True, mrd_value=value, **MRD), criteria_set=cset)
    assert r.mrd_suffix == suffix
    assert r.status == r.level + suffix


@pytest.mark.parametrize(
    ("cset", "value", "level"),
    [
        ("seed000", 1e-4, "CR"),
        ("seed000", 1.01e-4, "MOLECULAR_RELAPSE"),
        ("seed000", 1e-3, "MOLECULAR_RELAPSE"),
        ("besponsa_label", 1e-4, "MOLECULAR_RELAPSE"),
        ("besponsa_label", 0.99e-4, "CR"),
    ],
)
def test_molecular_relapse_boundary(cset: str, value: float, level: str) -> None:
    """Molecular relapse after MRD negativity: seed000 needs > 1e-4; others >= 1e-4."""
    r = derive_response(
        a(mrd_detected=True, mrd_value=value, **MRD),
        criteria_set=cset,
        prior_state="CR_MRDNEG",
        prior_mrd_negative=True,
    )
    assert r.level == level
    if level == "MOLECULAR_RELAPSE":
        assert r.rule_id == "response.relapse.molecular"
    no_prior_neg = derive_response(
        a(mrd_detected=True, mrd_value=value, **MRD),
        criteria_set=cset,
        prior_state="CR",
        prior_mrd_negative=False,
    )
    assert no_prior_neg.level == "CR"


@pytest.mark.parametrize(
    ("cset", "blasts", "level"),
    [
        ("seed000", 5.0, "CR"),
        ("seed000", 5.01, "HEMATOLOGICAL_RELAPSE"),
        ("besponsa_label", 5.0, "INDETERMINATE"),
        ("besponsa_label", 5.1, "HEMATOLOGICAL_RELAPSE"),
        ("consensus_2010", 24.9, "INDETERMINATE"),
        ("consensus_2010", 25.0, "HEMATOLOGICAL_RELAPSE"),
    ],
)
def test_hematological_relapse_boundary(cset: str, blasts: float, level: str) -> None:
    """Relapse from remission: > 5 % (seed000, besponsa PROPOSED), >= 25 % (consensus_2010)."""
    r = derive_response(a(bm_blast_pct=blasts), criteria_set=cset, prior_state="CR")
    assert r.level == level


def test_relapse_only_from_remission_and_emd_kinds() -> None:
    """EMD after remission: isolated or combined; without prior remission: no relapse."""
    iso = derive_response(a(emd="new"), criteria_set="besponsa_label", prior_state="CR")
    assert (iso.level, iso.rule_id) == ("EXTRAMEDULLARY_RELAPSE", "response.relapse.extramedullary")
    comb = derive_response(
        a(emd="present", bm_blast_pct=30), criteria_set="besponsa_label", prior_state="CRi"
    )
    assert comb.level == "COMBINED_RELAPSE"
    pb = derive_response(a(pb_blasts=True), criteria_set="besponsa_label", prior_state="CR")
    assert pb.rule_id == "response.relapse.hematological.pb_blasts"
    s0 = derive_response(a(emd="present"), criteria_set="seed000", prior_state="CR")
    assert s0.level == "CR"  # seed000 is BM-based; only new EMD is a relapse
    nr = derive_response(a(bm_blast_pct=40), criteria_set="besponsa_label", prior_state=None)
    assert nr.level == "NO_RESPONSE"
    refr = derive_response(
        a(bm_blast_pct=40), criteria_set="besponsa_label", at_response_landmark=True
    )
    assert refr.level == "REFRACTORY"


def test_progression_and_partial_response_consensus_2010() -> None:
    """PD: new EMD or >= 25 % rise (24.9 % not); PR: >= 50 % fall to <= 25 % with counts."""
    base = {"bm_blast_pct": 40.0, "pb_blasts": False, "emd": "none"}
    assert (
        derive_response(a(bm_blast_pct=50.0), criteria_set="consensus_2010", baseline=base).level
        == "PROGRESSIVE_DISEASE"
    )
    assert (
        derive_response(a(bm_blast_pct=49.9), criteria_set="consensus_2010", baseline=base).level
        == "NO_RESPONSE"
    )
    assert (
        derive_response(a(bm_blast_pct=20.0), criteria_set="consensus_2010", baseline=base).level
        == "PR"
    )
    assert (
        derive_response(a(bm_blast_pct=20.1), criteria_set="consensus_2010", baseline=base).level
        == "NO_RESPONSE"
    )
    assert (
        derive_response(a(emd="new", bm_blast_pct=18), criteria_set="consensus_2010").rule_id
        == "response.pd.new_emd"
    )


@pytest.mark.parametrize(
    ("assessment", "missing"),
    [
        ({"pb_blasts": False, "emd": "none"}, ("bm_blast_pct",)),
        ({"bm_blast_pct": 2.0, "emd": "none", "anc": 2, "plt": 200}, ("pb_blasts",)),
        ({"bm_blast_pct": 2.0, "pb_blasts": False, "anc": 2, "plt": 200}, ("emd",)),
        ({"bm_blast_pct": 2.0, "pb_blasts": False, "emd": "none", "plt": 200}, ("anc",)),
    ],
)
def test_missing_inputs_give_not_evaluable_naming_the_field(
    assessment: dict[str, Any], missing: tuple[str, ...]
) -> None:
    r = derive_response(assessment, criteria_set="besponsa_label")
    assert r.level == "NOT_EVALUABLE"
    assert r.missing == missing


def test_cibmtr_needs_transfusion_independence_and_inadequate_sample() -> None:
    r = derive_response(a(), criteria_set="cibmtr")
    assert r.missing == ("plt_transfusion_independent",)
    assert derive_response(a(plt_transfusion_independent=True), criteria_set="cibmtr").level == "CR"
    bad = derive_response(a(bm_sample_adequate=False), criteria_set="besponsa_label")
    assert bad.rule_id == "response.ne.sample_inadequate"


def test_mrd_units_and_scales() -> None:
    """MRD needs an explicit scale; percent and log10 convert; other units give _MRDUNK."""
    assert mrd_to_fraction(0.01, "percent") == pytest.approx(1e-4)
    assert mrd_to_fraction(-4, "log10") == pytest.approx(1e-4)
    with pytest.raises(ClinicalInputError) as err:
        derive_response(a(mrd_detected=True, mrd_value=1e-4), criteria_set="besponsa_label")
    assert err.value.field == "mrd_scale"
    with pytest.raises(ClinicalInputError):
        mrd_to_fraction(2, "log10")
    pct = derive_response(
        a(mrd_detected=True, **{**MRD, "mrd_scale": "percent"}, mrd_value=0.005),
        criteria_set="besponsa_label",
    )
    assert pct.status == "CR_MRDNEG"
    ratio = derive_response(
        a(mrd_detected=True, mrd_value=0.0637, mrd_unit="transcript_ratio_pct", mrd_sample="BM"),
        criteria_set="besponsa_label",
    )
    assert ratio.mrd_suffix == "_MRDUNK" and ratio.warnings
    low = derive_response(
        a(mrd_detected=False, mrd_value=0.0, **{**MRD, "mrd_lod": 1e-3}),
        criteria_set="besponsa_label",
    )
    assert low.mrd_suffix == "_MRDNEG_LOWSENS" and low.mrd_negative is False
    with pytest.raises(ClinicalInputError):
        derive_response(a(), criteria_set=None)


OPT_BOOL = st.one_of(st.none(), st.booleans())
ASSESSMENTS = st.fixed_dictionaries(
    {},
    optional={
        "bm_blast_pct": st.one_of(st.none(), st.floats(0, 100)),
        "bm_sample_adequate": OPT_BOOL,
        "pb_blasts": OPT_BOOL,
        "anc": st.one_of(st.none(), st.floats(0, 100)),
        "plt": st.one_of(st.none(), st.floats(0, 2000)),
        "plt_transfusion_independent": OPT_BOOL,
        "emd": st.one_of(
            st.none(), st.sampled_from(["none", "present", "new", "resolved", "unknown"])
        ),
        "mrd_detected": OPT_BOOL,
        "mrd_value": st.one_of(st.none(), st.floats(0, 1)),
        "mrd_lod": st.one_of(st.none(), st.floats(1e-7, 0.1)),
        "mrd_scale": st.sampled_from(["fraction"]),
        "mrd_unit": st.one_of(
            st.none(),
            st.sampled_from(["fraction_of_nucleated_cells", "transcript_ratio_pct", "copies"]),
        ),
        "mrd_sample": st.one_of(st.none(), st.sampled_from(["BM", "PB"])),
    },
)


@given(
    assessment=ASSESSMENTS,
    cset=st.sampled_from(sorted(CRITERIA_SETS)),
    prior=st.one_of(st.none(), st.sampled_from(["CR", "CRi", "NO_RESPONSE", "CR_MRDNEG"])),
    prior_neg=st.booleans(),
    baseline=st.one_of(st.none(), ASSESSMENTS),
)
def test_derive_response_is_total(
    assessment: dict[str, Any],
    cset: str,
    prior: str | None,
    prior_neg: bool,
    baseline: dict[str, Any] | None,
) -> None:
    """Property: every input combination gives a named level and rule id, or a ClinicalInputError
    for inconsistent input (never another exception)."""
    try:
        r = derive_response(
            assessment,
            criteria_set=cset,
            prior_state=prior,
            prior_mrd_negative=prior_neg,
            baseline=baseline,
        )
    except ClinicalInputError as exc:
        assert exc.field in ("mrd_detected", "pb_blast_abs", "mrd_scale")
        return
    assert r.level in LEVELS
    assert r.rule_id.startswith("response.")
    assert r.status.startswith(r.level)
    assert r.summary()
    assert r.to_dict()["rule_id"] == r.rule_id
