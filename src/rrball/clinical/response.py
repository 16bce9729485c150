"""Disease status and response from one dated disease assessment (clinical-reference.md §3).

Deterministic precedence (§3.4): not-evaluable checks → relapse (only from a remission state) →
progressive disease → CR family (CR > CRh > CRp > CRi) → PR → no response (refractory at the
response landmark). MRD status is a suffix on CR-family results (``CR_MRDNEG``), never its own
level.
Every result names the rule that fired (stable dotted rule ids), the criteria set, the inputs
used and, when not evaluable, the missing fields. Missing inputs are never defaulted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from rrball._result import ResultMixin, json_safe
from rrball.clinical._text import trail_lines
from rrball.errors import ClinicalInputError

__all__ = [
    "CRITERIA_SETS",
    "CR_FAMILY",
    "EMD_VALUES",
    "LEVELS",
    "MRD_SCALES",
    "MRD_THRESHOLD",
    "Assessment",
    "CriteriaSet",
    "ResponseResult",
    "derive_response",
    "derive_response_series",
    "mrd_to_fraction",
]

MRD_THRESHOLD = 1e-4  # negativity < 1e-4 [S:L-BESP], [S:BLIN-EFF], [S:FDA-INO-PED]
MRD_SCALES = ("fraction", "percent", "log10")
MRD_UNITS = ("fraction_of_nucleated_cells", "transcript_ratio_pct", "copies")
EMD_VALUES = ("none", "present", "new", "resolved", "unknown")
CR_FAMILY = ("CR", "CRh", "CRp", "CRi")
RELAPSES = (
    "HEMATOLOGICAL_RELAPSE",
    "EXTRAMEDULLARY_RELAPSE",
    "COMBINED_RELAPSE",
    "MOLECULAR_RELAPSE",
)
LEVELS = (
    "NOT_EVALUABLE",
    *RELAPSES,
    "PROGRESSIVE_DISEASE",
    *CR_FAMILY,
    "BM_BLAST_FREE_NO_RECOVERY",
    "PR",
    "NO_RESPONSE",
    "REFRACTORY",
    "INDETERMINATE",
)

Tri = bool | None


# ---- criteria sets (§3.2, §3.4) ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Cond:
    field: Literal["anc", "plt"]
    op: Literal[">", ">=", "<"]
    threshold: float

    def test(self, anc: float | None, plt: float | None) -> Tri:
        v = anc if self.field == "anc" else plt
        if v is None:
            return None
        if self.op == ">":
            return v > self.threshold
        if self.op == ">=":
            return v >= self.threshold
        return v < self.threshold

    def text(self) -> str:
        unit = "x10^9/L"
        return f"{self.field.upper()} {self.op} {self.threshold:g} {unit}"


@dataclass(frozen=True, slots=True)
class _Level:
    name: str
    conds: tuple[_Cond, ...]
    combine: Literal["and", "or"] = "and"

    def test(self, anc: float | None, plt: float | None) -> Tri:
        results = [c.test(anc, plt) for c in self.conds]
        if self.combine == "and":
            if any(r is False for r in results):
                return False
            return None if any(r is None for r in results) else True
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False


@dataclass(frozen=True, slots=True)
class CriteriaSet:
    """One response criteria set: thresholds with their inequalities and sources (§3.2)."""

    key: str
    source: str
    unverified: tuple[str, ...]
    bm_cr_inclusive: bool  # True: BM blasts <= 5 %; False: < 5 %
    levels: tuple[_Level, ...]
    fallback: str  # level when blasts qualify but no count rule is met
    relapse_bm: float
    relapse_bm_inclusive: bool  # True: >= relapse_bm; False: > relapse_bm
    emd_blocks_cr: bool = True
    emd_relapse: tuple[str, ...] = ("present", "new")
    mrd_negative_inclusive: bool = False  # seed000: MRD "not > 1e-4" is negative
    detectable_is_positive: bool = False
    has_pd: bool = False
    has_pr: bool = False
    needs_transfusion_independence: bool = False
    durability_weeks: int | None = None
    bm_cr_max: float = 5.0

    def bm_ok(self, pct: float) -> bool:
        return pct <= self.bm_cr_max if self.bm_cr_inclusive else pct < self.bm_cr_max

    def bm_relapse(self, pct: float) -> bool:
        return pct >= self.relapse_bm if self.relapse_bm_inclusive else pct > self.relapse_bm

    def describe_bm(self) -> str:
        return f"BM blasts {'<=' if self.bm_cr_inclusive else '<'} {self.bm_cr_max:g} %"

    def describe_relapse(self) -> str:
        return f"BM blasts {'>=' if self.relapse_bm_inclusive else '>'} {self.relapse_bm:g} %"


def _lv(name: str, *conds: tuple[str, str, float], combine: Literal["and", "or"] = "and") -> _Level:
    return _Level(name, tuple(_Cond(f, o, t) for f, o, t in conds), combine)  # type: ignore[arg-type]


_CR_GE = _lv("CR", ("anc", ">=", 1.0), ("plt", ">=", 100.0))
CRITERIA_SETS: Mapping[str, CriteriaSet] = MappingProxyType(
    {
        "blincyto_trials": CriteriaSet(
            key="blincyto_trials",
            source="[S:BLIN-EFF] (PMC6475509 Table 3); relapse > 5 % [S:PROPOSED]",
            unverified=("U16",),
            bm_cr_inclusive=True,
            levels=(
                _lv("CR", ("anc", ">", 1.0), ("plt", ">", 100.0)),
                _lv("CRh", ("anc", ">", 0.5), ("plt", ">", 50.0)),
                _lv("CRi", ("plt", ">", 100.0), ("anc", ">", 1.0), combine="or"),
            ),
            fallback="BM_BLAST_FREE_NO_RECOVERY",
            relapse_bm=5.0,
            relapse_bm_inclusive=False,
        ),
        "besponsa_label": CriteriaSet(
            key="besponsa_label",
            source="[S:L-BESP-EFF], [S:L-BESP-HK]; MRD-negative < 1e-4 [S:FDA-INO-PED]; "
            "relapse > 5 % (NCCN-style, U17) [S:PROPOSED]",
            unverified=("U17",),
            bm_cr_inclusive=False,
            levels=(_CR_GE,),
            fallback="CRi",
            relapse_bm=5.0,
            relapse_bm_inclusive=False,
        ),
        "consensus_2010": CriteriaSet(
            key="consensus_2010",
            source="[S:BBMT10] Table 4a",
            unverified=(),
            bm_cr_inclusive=False,
            levels=(_CR_GE,),
            fallback="CRi",
            relapse_bm=25.0,
            relapse_bm_inclusive=True,
            detectable_is_positive=True,
            has_pd=True,
            has_pr=True,
            durability_weeks=4,
        ),
        "cibmtr": CriteriaSet(
            key="cibmtr",
            source="[S:CIBMTR] ALL response criteria; relapse > 5 % [S:PROPOSED]",
            unverified=(),
            bm_cr_inclusive=False,
            levels=(_CR_GE,),
            fallback="BM_BLAST_FREE_NO_RECOVERY",
            relapse_bm=5.0,
            relapse_bm_inclusive=False,
            needs_transfusion_independence=True,
            durability_weeks=4,
        ),
        "seed000": CriteriaSet(
            key="seed000",
            source="[S:SEED000] (HR > 5 % blasts; MR: MRD > 1e-4; CR includes partial recovery; "
            "BM-based)",
            unverified=(),
            bm_cr_inclusive=True,
            levels=(),
            fallback="CR",
            relapse_bm=5.0,
            relapse_bm_inclusive=False,
            emd_blocks_cr=False,
            emd_relapse=("new",),
            mrd_negative_inclusive=True,
        ),
        "mdacc_seed003": CriteriaSet(
            key="mdacc_seed003",
            source="[S:MDACC13], [S:SEED003-ASH]; cut-offs UNVERIFIED U15",
            unverified=("U12", "U15"),
            bm_cr_inclusive=True,
            levels=(_CR_GE, _lv("CRp", ("anc", ">=", 1.0), ("plt", "<", 100.0))),
            fallback="CRi",
            relapse_bm=5.0,
            relapse_bm_inclusive=False,
        ),
        "nccn": CriteriaSet(
            key="nccn",
            source="NCCN-style (text not read, UNVERIFIED U17); structure as [S:BBMT10]",
            unverified=("U17",),
            bm_cr_inclusive=False,
            levels=(_lv("CR", ("anc", ">", 1.0), ("plt", ">", 100.0)),),
            fallback="CRi",
            relapse_bm=5.0,
            relapse_bm_inclusive=False,
            has_pd=True,
            durability_weeks=4,
        ),
        "eln2022_aml_crh": CriteriaSet(
            key="eln2022_aml_crh",
            source="[S:ELN-AML22-TAB] (comparison only; attribution UNVERIFIED U34)",
            unverified=("U34",),
            bm_cr_inclusive=False,
            levels=(_CR_GE, _lv("CRh", ("anc", ">=", 0.5), ("plt", ">=", 50.0))),
            fallback="CRi",
            relapse_bm=5.0,
            relapse_bm_inclusive=True,
        ),
    }
)


# ---- the assessment ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """One dated disease assessment (§3.1). ``None`` = not done / not known (never a default).

    MRD: ``mrd_value`` and ``mrd_lod`` are read on ``mrd_scale`` (``"fraction"``, ``"percent"``
    or ``"log10"``; required whenever a value is given). ``mrd_unit`` says what was measured
    (only ``"fraction_of_nucleated_cells"`` is a cell fraction); ``mrd_sample`` is ``"BM"`` or
    ``"PB"``.
    Counts are ×10^9/L.
    """

    date: dt.date | None = None
    bm_blast_pct: float | None = None
    bm_sample_adequate: bool | None = None
    pb_blasts: bool | None = None
    pb_blast_abs: float | None = None
    anc: float | None = None
    plt: float | None = None
    plt_transfusion_independent: bool | None = None
    emd: str | None = None
    mrd_detected: bool | None = None
    mrd_value: float | None = None
    mrd_lod: float | None = None
    mrd_scale: str | None = None
    mrd_unit: str | None = None
    mrd_method: str | None = None
    mrd_sample: str | None = None
    criteria_set: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Assessment:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ClinicalInputError("assessment", unknown, f"fields among {sorted(names)}")
        return cls(**dict(data))


def mrd_to_fraction(value: float, scale: str | None, field_name: str = "mrd_value") -> float:
    """An MRD value as a fraction; ``scale`` is required: ``fraction``, ``percent``, ``log10``."""
    if scale not in MRD_SCALES:
        raise ClinicalInputError(
            "mrd_scale", scale, f"one of {MRD_SCALES} (required with {field_name}; never guessed)"
        )
    x = _num(field_name, value, "a number")
    if scale == "fraction":
        if not 0.0 <= x <= 1.0:
            raise ClinicalInputError(field_name, value, "0 to 1 as a fraction (1e-4 = 0.01 %)")
        return x
    if scale == "percent":
        if not 0.0 <= x <= 100.0:
            raise ClinicalInputError(field_name, value, "0 to 100 as a percent (0.01 % = 1e-4)")
        return x / 100.0
    if x > 0.0:
        raise ClinicalInputError(field_name, value, "<= 0 as log10 of a fraction (-4 = 1e-4)")
    return float(10.0**x)


def _num(name: str, value: object, accepted: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ClinicalInputError(name, value, accepted)
    return float(value)


def _range(name: str, value: float | None, lo: float, hi: float, unit: str) -> float | None:
    if value is None:
        return None
    x = _num(name, value, f"a number, {lo:g} to {hi:g} {unit}")
    if not lo <= x <= hi:
        raise ClinicalInputError(name, value, f"{lo:g} to {hi:g} {unit}")
    return x


@dataclass(frozen=True, slots=True)
class _Clean:
    a: Assessment
    bm: float | None
    pb_abs: float | None
    anc: float | None
    plt: float | None
    mrd: float | None  # fraction, None when not quantified
    lod: float | None


def _clean(a: Assessment) -> _Clean:
    bm = _range("bm_blast_pct", a.bm_blast_pct, 0.0, 100.0, "% (morphology)")
    pb_abs = _range("pb_blast_abs", a.pb_blast_abs, 0.0, 1000.0, "x10^9/L")
    anc = _range("anc", a.anc, 0.0, 100.0, "x10^9/L (500/uL = 0.5)")
    plt = _range("plt", a.plt, 0.0, 2000.0, "x10^9/L (100,000/uL = 100)")
    if a.emd is not None and a.emd not in EMD_VALUES:
        raise ClinicalInputError("emd", a.emd, f"one of {EMD_VALUES}")
    for name, val, allowed in (
        ("mrd_unit", a.mrd_unit, MRD_UNITS),
        ("mrd_sample", a.mrd_sample, ("BM", "PB")),
        ("mrd_method", a.mrd_method, ("flow", "ig_tr_pcr", "fusion_qpcr", "ngs")),
    ):
        if val is not None and val not in allowed:
            raise ClinicalInputError(name, val, f"one of {allowed}")
    if a.date is not None and not isinstance(a.date, dt.date):
        raise ClinicalInputError("date", a.date, "a datetime.date")
    mrd = lod = None
    if a.mrd_value is not None:
        if a.mrd_unit in ("transcript_ratio_pct", "copies"):
            mrd = _num(
                "mrd_value", a.mrd_value, "a number"
            )  # kept on its own scale, not a fraction
        else:
            mrd = mrd_to_fraction(a.mrd_value, a.mrd_scale)
        if a.mrd_detected is False and mrd > 0:
            raise ClinicalInputError(
                "mrd_detected",
                False,
                "True when mrd_value > 0 (0 with mrd_detected=False = not detected)",
            )
    if a.mrd_lod is not None:
        lod = mrd_to_fraction(a.mrd_lod, a.mrd_scale, "mrd_lod")
    if a.pb_blasts is False and pb_abs is not None and pb_abs > 0:
        raise ClinicalInputError("pb_blast_abs", a.pb_blast_abs, "0 or empty when pb_blasts=False")
    return _Clean(a, bm, pb_abs, anc, plt, mrd, lod)


# ---- the result --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseResult(ResultMixin):
    """A derived disease status. ``status`` = ``level`` + MRD suffix for the CR family."""

    status: str
    level: str
    mrd_suffix: str | None
    mrd_negative: bool | None
    rule_id: str
    mrd_rule_id: str | None
    criteria_set: str
    date: dt.date | None
    inputs: Mapping[str, Any]
    missing: tuple[str, ...]
    reason: str
    source: str
    unverified: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)

    @property
    def is_response(self) -> bool:
        """CR family (CR, CRh, CRp, CRi) — the remission states relapse rules start from."""
        return self.level in CR_FAMILY

    @property
    def is_relapse(self) -> bool:
        return self.level in RELAPSES

    def summary(self) -> str:
        lines = [
            f"Disease status {self.status} ({self.criteria_set})"
            + (f" on {self.date.isoformat()}" if self.date else ""),
            f"Rule: {self.rule_id} - {self.reason}",
        ]
        if self.mrd_rule_id:
            lines.append(f"MRD rule: {self.mrd_rule_id}")
        lines += trail_lines(self.inputs, self.source, self.unverified, self.warnings,
                             self.missing)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["inputs"] = dict(self.inputs)
        out["method"] = dict(self.method)
        out["date"] = self.date.isoformat() if self.date else None
        return dict(json_safe(out))


# ---- derivation --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Mrd:
    suffix: str
    negative: bool | None
    rule_id: str
    warning: str | None = None


def _mrd_status(c: _Clean, s: CriteriaSet, lowsens_negative: bool) -> _Mrd:
    a = c.a
    if a.mrd_detected is None and a.mrd_value is None:
        return _Mrd("_MRDUNK", None, "mrd.unknown.not_measured")
    if a.mrd_unit is None:
        return _Mrd("_MRDUNK", None, "mrd.unknown.unit_missing", "mrd_unit not given: MRD not used")
    if a.mrd_unit != "fraction_of_nucleated_cells":
        return _Mrd(
            "_MRDUNK",
            None,
            "mrd.unknown.not_cell_fraction",
            f"MRD unit {a.mrd_unit} is not a cell fraction; no rule of {s.key} converts it (§3.5)",
        )
    if a.mrd_sample is None:
        return _Mrd("_MRDUNK", None, "mrd.unknown.sample_missing", "mrd_sample not given")
    if a.mrd_sample != "BM":
        return _Mrd(
            "_MRDUNK", None, "mrd.unknown.pb_sample", "MRD thresholds are for bone marrow (§3.5)"
        )
    detected = a.mrd_detected if a.mrd_detected is not None else bool(c.mrd and c.mrd > 0)
    if not detected:
        if c.lod is not None and c.lod <= MRD_THRESHOLD:
            return _Mrd("_MRDNEG", True, "mrd.negative.not_detected")
        return _Mrd(
            "_MRDNEG_LOWSENS",
            lowsens_negative,
            "mrd.negative.low_sensitivity",
            "MRD not detected but assay LOD unknown or > 1e-4 (UNVERIFIED U18); counted as "
            + ("negative" if lowsens_negative else "not negative"),
        )
    if c.mrd is None:
        if s.detectable_is_positive:
            return _Mrd("_MRDPOS", False, "mrd.positive.detected")
        return _Mrd(
            "_MRDUNK", None, "mrd.unknown.not_quantified", "MRD detected but not quantified"
        )
    below = c.mrd <= MRD_THRESHOLD if s.mrd_negative_inclusive else c.mrd < MRD_THRESHOLD
    if below:
        if s.detectable_is_positive:
            return _Mrd("_MRDPOS_LOW", False, "mrd.positive.detectable_below_threshold")
        return _Mrd("_MRDNEG", True, "mrd.negative.below_threshold")
    return _Mrd("_MRDPOS", False, "mrd.positive.at_or_above_threshold")


def _level_of(prior: str | ResponseResult | None) -> str | None:
    if prior is None:
        return None
    if isinstance(prior, ResponseResult):
        return prior.level
    if not isinstance(prior, str):
        raise ClinicalInputError("prior_state", prior, f"a level among {LEVELS} or None")
    base = prior.split("_MRD")[0]
    if base not in LEVELS:
        raise ClinicalInputError("prior_state", prior, f"a level among {LEVELS} or None")
    return base


def derive_response(
    assessment: Assessment | Mapping[str, Any],
    *,
    criteria_set: str | None = None,
    prior_state: str | ResponseResult | None = None,
    prior_mrd_negative: bool | None = None,
    baseline: Assessment | Mapping[str, Any] | None = None,
    at_response_landmark: bool = False,
    mrd_lowsens_counts_negative: bool = False,
) -> ResponseResult:
    """Disease status / response of one dated assessment, by a named criteria set.

    Parameters
    ----------
    assessment
        An :class:`Assessment` or a mapping of its fields (unknown fields are refused).
    criteria_set
        One of ``CRITERIA_SETS`` (``blincyto_trials``, ``besponsa_label``, ``consensus_2010``,
        ``cibmtr``, ``seed000``, ``mdacc_seed003``, ``nccn``, ``eln2022_aml_crh``); or set on the
        assessment. Required: the set changes results at boundaries (§3.8), so it is never assumed.
    prior_state
        The previous derived state (a level, a status such as ``"CR_MRDNEG"`` or a result).
        Relapse rules apply only from a CR-family state.
    prior_mrd_negative
        Whether MRD negativity was reached in the current remission (molecular relapse needs it);
        defaults to the prior result's MRD status when ``prior_state`` is a result, else False.
    baseline
        Pre-treatment assessment for PD/PR rules (``consensus_2010``, ``nccn``).
    at_response_landmark
        Non-response at/after the study's response landmark is ``REFRACTORY``.
    mrd_lowsens_counts_negative
        Count "not detected with LOD > 1e-4 or unknown" as negative (UNVERIFIED U18).

    Notes
    -----
    Rules (first match wins) [S:BLIN-EFF], [S:L-BESP-EFF], [S:BBMT10], [S:CIBMTR], [S:SEED000]:

    - ``response.ne.sample_inadequate`` / ``response.ne.no_assessment``: nothing to judge.
    - from remission: ``response.relapse.extramedullary`` / ``.combined`` (EMD present/new;
      seed000 only new EMD), ``response.relapse.hematological.pb_blasts``,
      ``response.relapse.hematological.marrow_blasts`` (seed000 and most sets > 5 %;
      consensus_2010 ≥ 25 %), ``response.relapse.molecular`` (MRD-positive — ≥ 1e-4, seed000
      > 1e-4 — after MRD negativity).
    - ``response.pd.new_emd`` / ``response.pd.blast_increase`` (≥ 25 % rise; sets with PD).
    - CR family: blasts (≤ 5 % or < 5 % by set), no PB blasts, no EMD (seed000: BM-based), then
      counts: ``response.cr``, ``response.crh``, ``response.crp``, ``response.cri``,
      ``response.bm_blast_free_no_recovery``; MRD suffix (``_MRDNEG`` < 1e-4; seed000 ≤ 1e-4).
    - ``response.pr`` (consensus_2010), ``response.indeterminate.between_cr_and_relapse``
      (in remission, blasts between the CR and relapse limits), ``response.no_response`` /
      ``response.refractory``.

    A rule that needs a missing input gives ``NOT_EVALUABLE`` with rule id
    ``response.ne.missing_inputs`` and the missing fields named.
    """
    a = assessment if isinstance(assessment, Assessment) else Assessment.from_mapping(assessment)
    key = criteria_set if criteria_set is not None else a.criteria_set
    if key is None or key not in CRITERIA_SETS:
        raise ClinicalInputError("criteria_set", key, f"one of {sorted(CRITERIA_SETS)} (required)")
    s = CRITERIA_SETS[key]
    c = _clean(a)
    base: _Clean | None = None
    if baseline is not None:
        b = baseline if isinstance(baseline, Assessment) else Assessment.from_mapping(baseline)
        base = _clean(b)
    prior = _level_of(prior_state)
    if prior_mrd_negative is None:
        prior_mrd_negative = bool(
            isinstance(prior_state, ResponseResult) and prior_state.mrd_negative
        )
    mrd = _mrd_status(c, s, mrd_lowsens_counts_negative)
    warnings: list[str] = [mrd.warning] if mrd.warning else []
    used: dict[str, Any] = {}

    def result(
        level: str,
        rule_id: str,
        reason: str,
        *,
        missing: Iterable[str] = (),
        with_mrd: bool = False,
    ) -> ResponseResult:
        suffix = mrd.suffix if with_mrd else None
        if with_mrd:
            used.update(
                mrd_detected=a.mrd_detected,
                mrd_fraction=c.mrd,
                mrd_lod_fraction=c.lod,
                mrd_unit=a.mrd_unit,
                mrd_sample=a.mrd_sample,
                mrd_method=a.mrd_method,
            )
        if level in CR_FAMILY and s.durability_weeks:
            warnings.append(
                f"{s.key} requires the remission to last >= {s.durability_weeks} weeks: confirm "
                "with a later assessment"
            )
        return ResponseResult(
            status=level + (suffix or ""),
            level=level,
            mrd_suffix=suffix,
            mrd_negative=mrd.negative if with_mrd else None,
            rule_id=rule_id,
            mrd_rule_id=mrd.rule_id if with_mrd else None,
            criteria_set=s.key,
            date=a.date,
            inputs=MappingProxyType(dict(used)),
            missing=tuple(sorted(set(missing))),
            reason=reason,
            source=s.source,
            unverified=s.unverified,
            warnings=tuple(warnings),
            method=MappingProxyType(
                {
                    "criteria_set": s.key,
                    "prior_state": prior,
                    "prior_mrd_negative": prior_mrd_negative,
                    "mrd_threshold": MRD_THRESHOLD,
                    "at_response_landmark": at_response_landmark,
                    "mrd_lowsens_counts_negative": mrd_lowsens_counts_negative,
                }
            ),
        )

    def ne(missing: Iterable[str], reason: str) -> ResponseResult:
        return result("NOT_EVALUABLE", "response.ne.missing_inputs", reason, missing=missing)

    # R0: evaluability
    used["bm_sample_adequate"] = a.bm_sample_adequate
    if a.bm_sample_adequate is False:
        return result(
            "NOT_EVALUABLE",
            "response.ne.sample_inadequate",
            "marrow sample aplastic/hypocellular or inadequate (R-DER-001)",
        )
    used.update(bm_blast_pct=c.bm, pb_blasts=a.pb_blasts, emd=a.emd)
    emd_disease = a.emd in ("present", "new")
    if c.bm is None and not a.pb_blasts and not emd_disease:
        return result(
            "NOT_EVALUABLE",
            "response.ne.no_assessment",
            "no marrow assessment, no PB blasts, no extramedullary disease",
            missing=["bm_blast_pct"],
        )

    in_remission = prior in CR_FAMILY
    # R1: relapse, only from a remission state
    if in_remission:
        if a.emd in s.emd_relapse:
            bm_rel = c.bm is not None and s.bm_relapse(c.bm)
            if bm_rel or a.pb_blasts:
                return result(
                    "COMBINED_RELAPSE",
                    "response.relapse.combined",
                    f"EMD {a.emd} with marrow/blood relapse ({s.describe_relapse()})",
                )
            if c.bm is None:
                warnings.append("marrow not assessed: isolated vs combined relapse undetermined")
            return result(
                "EXTRAMEDULLARY_RELAPSE",
                "response.relapse.extramedullary",
                f"EMD {a.emd} after remission",
            )
        if a.pb_blasts:
            return result(
                "HEMATOLOGICAL_RELAPSE",
                "response.relapse.hematological.pb_blasts",
                "leukaemic blasts in peripheral blood after remission",
            )
        if c.bm is not None and s.bm_relapse(c.bm):
            return result(
                "HEMATOLOGICAL_RELAPSE",
                "response.relapse.hematological.marrow_blasts",
                f"{s.describe_relapse()} after remission",
            )
        if prior_mrd_negative and mrd.suffix == "_MRDPOS" and c.mrd is not None:
            used["mrd_fraction"] = c.mrd
            return result(
                "MOLECULAR_RELAPSE",
                "response.relapse.molecular",
                "MRD positive ("
                + ("> 1e-4" if s.mrd_negative_inclusive else ">= 1e-4")
                + ") after MRD negativity",
            )
    # R2: progression
    if s.has_pd and not in_remission:
        if a.emd == "new":
            return result(
                "PROGRESSIVE_DISEASE", "response.pd.new_emd", "new extramedullary disease"
            )
        if base is not None:
            rises = []
            if c.bm is not None and base.bm is not None and base.bm > 0 and c.bm >= 1.25 * base.bm:
                rises.append("bm_blast_pct")
            if (
                c.pb_abs is not None
                and base.pb_abs is not None
                and base.pb_abs > 0
                and (c.pb_abs >= 1.25 * base.pb_abs)
            ):
                rises.append("pb_blast_abs")
            if rises:
                used.update(baseline_bm_blast_pct=base.bm, baseline_pb_blast_abs=base.pb_abs)
                return result(
                    "PROGRESSIVE_DISEASE",
                    "response.pd.blast_increase",
                    ">= 25 % rise from baseline in " + ", ".join(rises),
                )
    # R3: CR family
    if c.bm is None:
        if a.pb_blasts or (emd_disease and s.emd_blocks_cr):
            return _not_responding(
                result,
                in_remission,
                at_response_landmark,
                "blood or extramedullary disease present",
            )
        return ne(["bm_blast_pct"], "marrow blasts needed to judge remission")
    if s.bm_ok(c.bm):
        missing = []
        if a.pb_blasts is None:
            missing.append("pb_blasts")
        if s.emd_blocks_cr and a.emd in (None, "unknown"):
            missing.append("emd")
        if not a.pb_blasts and not (s.emd_blocks_cr and emd_disease):
            if missing:
                return ne(missing, f"{s.describe_bm()} but blood/EMD status unknown")
            used.update(anc=c.anc, plt=c.plt)
            for lvl in s.levels:
                ok = lvl.test(c.anc, c.plt)
                if ok is None:
                    need = [cd.field for cd in lvl.conds if cd.test(c.anc, c.plt) is None]
                    return ne(need, f"counts needed to decide {lvl.name} vs lower levels")
                if ok:
                    if lvl.name == "CR" and s.needs_transfusion_independence:
                        used["plt_transfusion_independent"] = a.plt_transfusion_independent
                        if a.plt_transfusion_independent is None:
                            return ne(
                                ["plt_transfusion_independent"],
                                f"{s.key} CR requires transfusion independence",
                            )
                        if not a.plt_transfusion_independent:
                            continue
                    return result(
                        lvl.name,
                        f"response.{lvl.name.lower()}",
                        f"{s.describe_bm()}, no PB blasts"
                        + (", no EMD" if s.emd_blocks_cr else "")
                        + ", "
                        + f" {lvl.combine} ".join(cd.text() for cd in lvl.conds),
                        with_mrd=True,
                    )
            fb = s.fallback
            rule = f"response.{fb.lower()}"
            reason = f"{s.describe_bm()}; count criteria of higher levels not met"
            if fb == "CR":
                reason = f"{s.describe_bm()}; any blood-count recovery ({s.key})"
            return result(fb, rule, reason, with_mrd=fb in CR_FAMILY)
    # R4: partial response
    if s.has_pr and base is not None and base.bm is not None and base.bm > 0:
        used.update(baseline_bm_blast_pct=base.bm, anc=c.anc, plt=c.plt)
        if c.bm <= 25.0 and c.bm <= 0.5 * base.bm and a.emd != "new":
            counts = [
                _Cond("anc", ">=", 1.0).test(c.anc, c.plt),
                _Cond("plt", ">=", 100.0).test(c.anc, c.plt),
            ]
            if None in counts:
                return ne(
                    [f for f, r in zip(("anc", "plt"), counts, strict=True) if r is None],
                    "counts needed to decide PR",
                )
            if all(counts):
                return result(
                    "PR",
                    "response.pr",
                    ">= 50 % fall in BM blasts to <= 25 %, ANC >= 1.0, platelets >= 100",
                )
    if in_remission:
        return result(
            "INDETERMINATE",
            "response.indeterminate.between_cr_and_relapse",
            f"in remission before; now neither {s.describe_bm()} nor "
            f"{s.describe_relapse()}: confirm with a repeat assessment",
        )
    return _not_responding(result, in_remission, at_response_landmark, f"{s.describe_bm()} not met")


def _not_responding(result: Any, in_remission: bool, landmark: bool, why: str) -> ResponseResult:
    if landmark:
        out: ResponseResult = result(
            "REFRACTORY",
            "response.refractory",
            f"no CR-family response at the response landmark: {why}",
        )
        return out
    out = result("NO_RESPONSE", "response.no_response", why)
    return out


def derive_response_series(
    assessments: Iterable[Assessment | Mapping[str, Any]],
    *,
    criteria_set: str,
    initial_state: str | None = None,
    initial_mrd_negative: bool = False,
    baseline: Assessment | Mapping[str, Any] | None = None,
    mrd_lowsens_counts_negative: bool = False,
) -> tuple[ResponseResult, ...]:
    """Derive dated assessments in date order, carrying the state between them.

    The state after a not-evaluable or indeterminate result is the previous state; MRD negativity
    is remembered for the current remission (for molecular relapse) and forgotten at relapse.
    Assessments without a date keep their given order after the dated ones are sorted.
    """
    items = [a if isinstance(a, Assessment) else Assessment.from_mapping(a) for a in assessments]
    items.sort(key=lambda x: (x.date is None, x.date or dt.date.min))
    state = initial_state
    mrd_neg = initial_mrd_negative
    out: list[ResponseResult] = []
    for a in items:
        r = derive_response(
            a,
            criteria_set=criteria_set,
            prior_state=state,
            prior_mrd_negative=mrd_neg,
            baseline=baseline,
            mrd_lowsens_counts_negative=mrd_lowsens_counts_negative,
        )
        out.append(r)
        if r.level in ("NOT_EVALUABLE", "INDETERMINATE"):
            continue
        if r.is_response:
            was_remission = _level_of(state) in CR_FAMILY
            mrd_neg = (mrd_neg and was_remission) or bool(r.mrd_negative)
        else:
            mrd_neg = False
        state = r.level
    return tuple(out)
