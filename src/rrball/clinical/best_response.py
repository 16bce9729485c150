"""Pre-treatment disease state and best overall response per treatment line (clinical-reference §3).

:func:`baseline_disease_state` applies the baseline rules B1-B6 of §3.3 (first match wins) to the
assessment before a treatment line; :func:`best_overall_response` derives every dated assessment
of a line with :func:`rrball.clinical.derive_response_series` and picks the best one by the
deterministic ranking of §3.4 (PROPOSED). Both name the rule that fired; missing inputs give a
not-evaluable result naming the missing fields, never a default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rrball._result import ResultMixin, json_safe
from rrball.clinical._text import trail_lines
from rrball.clinical.response import (
    CR_FAMILY,
    CRITERIA_SETS,
    MRD_THRESHOLD,
    Assessment,
    ResponseResult,
    _clean,
    _mrd_status,
    derive_response_series,
)
from rrball.errors import ClinicalInputError

__all__ = [
    "BASELINE_STATES",
    "BEST_RESPONSE_RANK",
    "LABEL_MRD_POSITIVE_THRESHOLD",
    "REFRACTORY_FROM",
    "BaselineStateResult",
    "BestResponseResult",
    "baseline_disease_state",
    "best_overall_response",
]

#: MRD-positive indication of the blinatumomab label: MRD >= 1e-3 (>= 0.1 %) [S:L-BLIN] (B5')
LABEL_MRD_POSITIVE_THRESHOLD = 1e-3

BASELINE_STATES = (
    "NOT_EVALUABLE",
    "PRIMARY_REFRACTORY",
    "HEMATOLOGICAL_RELAPSE",
    "ISOLATED_EMD_RELAPSE",
    "MOLECULAR_RELAPSE",
    "MRD_POSITIVE_CR",
    "CR_MRD_NEGATIVE",
    "CR_MRD_UNKNOWN",
    "INDETERMINATE",
)

#: Response state that a baseline state hands to derive_response as ``prior_state``.
_PRIOR_OF_BASELINE: Mapping[str, str | None] = MappingProxyType(
    {
        "NOT_EVALUABLE": None,
        "PRIMARY_REFRACTORY": "REFRACTORY",
        "HEMATOLOGICAL_RELAPSE": "HEMATOLOGICAL_RELAPSE",
        "ISOLATED_EMD_RELAPSE": "EXTRAMEDULLARY_RELAPSE",
        "MOLECULAR_RELAPSE": "CR",
        "MRD_POSITIVE_CR": "CR",
        "CR_MRD_NEGATIVE": "CR",
        "CR_MRD_UNKNOWN": "CR",
        "INDETERMINATE": "INDETERMINATE",
    }
)

#: Best-response ranking, best first. §3.4 fixes CR > CRh > CRp > CRi > PR > NO_RESPONSE > PD;
#: the places of the other levels are PROPOSED (documented in docs/methods/clinical_response.md).
BEST_RESPONSE_RANK = (
    "CR",
    "CRh",
    "CRp",
    "CRi",
    "PR",
    "BM_BLAST_FREE_NO_RECOVERY",
    "NO_RESPONSE",
    "REFRACTORY",
    "INDETERMINATE",
    "PROGRESSIVE_DISEASE",
    "MOLECULAR_RELAPSE",
    "EXTRAMEDULLARY_RELAPSE",
    "HEMATOLOGICAL_RELAPSE",
    "COMBINED_RELAPSE",
)
#: Best levels that become REFRACTORY when the window is complete: "no CR-family by the response
#: landmark" (§3.6 [S:BLIN-EFF], [S:L-BESP]); relapses and INDETERMINATE start from a remission.
REFRACTORY_FROM = ("PR", "BM_BLAST_FREE_NO_RECOVERY", "NO_RESPONSE", "PROGRESSIVE_DISEASE")
_BEST_SOURCE = "clinical-reference.md §3.4 best overall response [S:PROPOSED]"


# ---- baseline (§3.3) ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineStateResult(ResultMixin):
    """The pre-treatment disease state of one assessment (§3.3), with the rule that fired.

    ``prior_state`` / ``prior_mrd_negative`` are what :func:`derive_response` and
    :func:`best_overall_response` need as the state before the line.
    ``label_mrd_positive_indication`` is rule B5' (CR1/CR2 and MRD >= 1e-3 [S:L-BLIN]); None when
    the remission number or a cell-fraction MRD is unknown.
    """

    state: str
    rule_id: str
    criteria_set: str
    date: dt.date | None
    mrd_suffix: str | None
    mrd_rule_id: str | None
    label_mrd_positive_indication: bool | None
    inputs: Mapping[str, Any]
    missing: tuple[str, ...]
    reason: str
    source: str
    unverified: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)

    @property
    def prior_state(self) -> str | None:
        return _PRIOR_OF_BASELINE[self.state]

    @property
    def prior_mrd_negative(self) -> bool:
        return self.state == "CR_MRD_NEGATIVE"

    def summary(self) -> str:
        lines = [
            f"Baseline disease state {self.state} ({self.criteria_set})"
            + (f" on {self.date.isoformat()}" if self.date else ""),
            f"Rule: {self.rule_id} - {self.reason}",
        ]
        if self.mrd_rule_id:
            lines.append(f"MRD rule: {self.mrd_rule_id}")
        if self.label_mrd_positive_indication is not None:
            lines.append(
                "Blinatumomab label MRD-positive indication (B5'): "
                + ("met" if self.label_mrd_positive_indication else "not met")
            )
        lines += trail_lines(self.inputs, self.source, self.unverified, self.warnings,
                             self.missing)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["inputs"] = dict(self.inputs)
        out["method"] = dict(self.method)
        out["date"] = self.date.isoformat() if self.date else None
        out["prior_state"] = self.prior_state
        return dict(json_safe(out))


def _as_assessment(a: Assessment | Mapping[str, Any]) -> Assessment:
    return a if isinstance(a, Assessment) else Assessment.from_mapping(a)


def _tri(name: str, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ClinicalInputError(name, value, "True, False or None (unknown)")


def baseline_disease_state(
    assessment: Assessment | Mapping[str, Any],
    *,
    criteria_set: str | None = None,
    ever_in_cr: bool | None = None,
    remission_number: int | None = None,
    mrd_lowsens_counts_negative: bool = False,
) -> BaselineStateResult:
    """Pre-treatment disease state (clinical-reference.md §3.3), first matching rule wins.

    Parameters
    ----------
    assessment
        The assessment before the treatment line (:class:`Assessment` or a mapping).
    criteria_set
        Response criteria set (see ``CRITERIA_SETS``); its CR and relapse marrow limits replace
        the seed 000 thresholds of §3.3 ("other sets substitute their own"). Required.
    ever_in_cr
        History: has the patient reached a CR-family remission since diagnosis? Decides
        primary refractory (B2) versus relapse (B3); None = unknown (then not evaluable when the
        decision depends on it).
    remission_number
        1 for CR1, 2 for CR2, ...; only used for B5' (label MRD-positive indication: CR1 or CR2).
    mrd_lowsens_counts_negative
        Count "not detected with LOD > 1e-4 or unknown" as negative (UNVERIFIED U18).

    Notes
    -----
    Rules (ids) [S:SEED000], [S:BBMT10], [S:L-BLIN]:

    - B1 ``baseline.ne.no_assessment``: no marrow blasts, no PB blasts, no EMD information.
    - B2 ``baseline.primary_refractory``: never in CR and marrow not CR-eligible (seed 000:
      blasts > 5 %); ``baseline.primary_refractory.pb_blasts`` / ``.emd``: never in CR, marrow
      CR-eligible but PB blasts / EMD present (PROPOSED extension).
    - B3 ``baseline.hematological_relapse.marrow_blasts`` (relapse limit of the set, seed 000
      > 5 %) / ``.pb_blasts`` (PB blasts after a CR).
    - B4 ``baseline.isolated_emd_relapse``: marrow CR-eligible and EMD present or new.
    - B5 ``baseline.molecular_relapse`` (seed000, MRD > 1e-4) / ``baseline.mrd_positive_cr``
      (other sets, MRD positive by the set's MRD rule).
    - B6 ``baseline.cr_mrd_negative``; ``baseline.cr_mrd_unknown`` when MRD cannot be judged
      (PROPOSED, mirrors the ``_MRDUNK`` suffix).
    - ``baseline.indeterminate.between_cr_and_relapse``: after a CR, blasts between the set's
      CR and relapse limits (consensus_2010: 5-25 %).
    - ``baseline.ne.missing_inputs``: a rule needs a missing input (named in ``missing``).
    """
    a = _as_assessment(assessment)
    key = criteria_set if criteria_set is not None else a.criteria_set
    if key is None or key not in CRITERIA_SETS:
        raise ClinicalInputError("criteria_set", key, f"one of {sorted(CRITERIA_SETS)} (required)")
    s = CRITERIA_SETS[key]
    ever = _tri("ever_in_cr", ever_in_cr)
    if remission_number is not None and (
        isinstance(remission_number, bool)
        or not isinstance(remission_number, int)
        or remission_number < 1
    ):
        raise ClinicalInputError("remission_number", remission_number, "a whole number >= 1")
    c = _clean(a)
    mrd = _mrd_status(c, s, mrd_lowsens_counts_negative)
    used: dict[str, Any] = {
        "bm_blast_pct": c.bm,
        "pb_blasts": a.pb_blasts,
        "emd": a.emd,
        "ever_in_cr": ever,
    }
    warnings: list[str] = []
    source = f"clinical-reference.md §3.3 [S:SEED000]; criteria set: {s.source}"

    label_ind: bool | None = None
    cell_fraction = a.mrd_unit == "fraction_of_nucleated_cells" and a.mrd_sample == "BM"
    if c.mrd is not None and cell_fraction and remission_number is not None:
        label_ind = remission_number in (1, 2) and c.mrd >= LABEL_MRD_POSITIVE_THRESHOLD
    elif c.mrd is not None and cell_fraction and remission_number is None:
        label_ind = False if c.mrd < LABEL_MRD_POSITIVE_THRESHOLD else None

    def result(
        state: str,
        rule_id: str,
        reason: str,
        *,
        missing: Iterable[str] = (),
        with_mrd: bool = False,
    ) -> BaselineStateResult:
        if with_mrd:
            used.update(
                mrd_detected=a.mrd_detected,
                mrd_fraction=c.mrd,
                mrd_lod_fraction=c.lod,
                mrd_unit=a.mrd_unit,
                mrd_sample=a.mrd_sample,
            )
            if mrd.warning:
                warnings.append(mrd.warning)
        return BaselineStateResult(
            state=state,
            rule_id=rule_id,
            criteria_set=s.key,
            date=a.date,
            mrd_suffix=mrd.suffix if with_mrd else None,
            mrd_rule_id=mrd.rule_id if with_mrd else None,
            label_mrd_positive_indication=label_ind if with_mrd else None,
            inputs=MappingProxyType(dict(used)),
            missing=tuple(sorted(set(missing))),
            reason=reason,
            source=source,
            unverified=s.unverified,
            warnings=tuple(warnings),
            method=MappingProxyType(
                {
                    "criteria_set": s.key,
                    "mrd_threshold": MRD_THRESHOLD,
                    "label_mrd_positive_threshold": LABEL_MRD_POSITIVE_THRESHOLD,
                    "mrd_lowsens_counts_negative": mrd_lowsens_counts_negative,
                }
            ),
        )

    def ne(missing: Iterable[str], reason: str) -> BaselineStateResult:
        return result("NOT_EVALUABLE", "baseline.ne.missing_inputs", reason, missing=missing)

    emd_disease = a.emd in ("present", "new")
    # B1
    if c.bm is None and not a.pb_blasts and a.emd in (None, "unknown"):
        return result(
            "NOT_EVALUABLE",
            "baseline.ne.no_assessment",
            "no marrow blasts, no PB blasts and no extramedullary information (B1)",
            missing=["bm_blast_pct"],
        )
    if c.bm is None:
        return ne(["bm_blast_pct"], "marrow blasts needed to classify the baseline state")
    cr_eligible = s.bm_ok(c.bm)
    # B2 / B3 on the marrow
    if not cr_eligible:
        if ever is None:
            return ne(["ever_in_cr"], "primary refractory or relapse: CR history needed (B2/B3)")
        if not ever:
            return result(
                "PRIMARY_REFRACTORY",
                "baseline.primary_refractory",
                f"never in CR and {s.describe_bm()} not met (B2)",
            )
        if s.bm_relapse(c.bm):
            return result(
                "HEMATOLOGICAL_RELAPSE",
                "baseline.hematological_relapse.marrow_blasts",
                f"{s.describe_relapse()} after a CR (B3)",
            )
        return result(
            "INDETERMINATE",
            "baseline.indeterminate.between_cr_and_relapse",
            f"after a CR, neither {s.describe_bm()} nor {s.describe_relapse()}",
        )
    # marrow CR-eligible: PB blasts, then EMD (B3, B4)
    if a.pb_blasts or emd_disease:
        if ever is None:
            return ne(["ever_in_cr"], "disease outside the marrow: CR history needed (B2-B4)")
        if not ever:
            where = "pb_blasts" if a.pb_blasts else "emd"
            return result(
                "PRIMARY_REFRACTORY",
                f"baseline.primary_refractory.{where}",
                f"never in CR; marrow {s.describe_bm()} but "
                + ("PB blasts present" if a.pb_blasts else f"EMD {a.emd}")
                + " (PROPOSED extension of B2)",
            )
        if a.pb_blasts:
            return result(
                "HEMATOLOGICAL_RELAPSE",
                "baseline.hematological_relapse.pb_blasts",
                "leukaemic blasts in peripheral blood after a CR (B3)",
            )
        return result(
            "ISOLATED_EMD_RELAPSE",
            "baseline.isolated_emd_relapse",
            f"{s.describe_bm()} and EMD {a.emd} (B4)",
        )
    if a.pb_blasts is None:
        warnings.append("pb_blasts not given: classified on marrow and MRD only (§3.3 B5/B6)")
    if a.emd in (None, "unknown"):
        warnings.append("EMD status unknown: isolated EMD relapse (B4) not excluded")
    # B5 / B6 on MRD
    if mrd.suffix in ("_MRDPOS", "_MRDPOS_LOW"):
        if s.key == "seed000":
            return result(
                "MOLECULAR_RELAPSE",
                "baseline.molecular_relapse",
                f"{s.describe_bm()} and MRD > {MRD_THRESHOLD:g} (seed 000 MR, B5)",
                with_mrd=True,
            )
        return result(
            "MRD_POSITIVE_CR",
            "baseline.mrd_positive_cr",
            f"{s.describe_bm()} and MRD positive ({mrd.rule_id}) (B5)",
            with_mrd=True,
        )
    if mrd.negative:
        limit = "<=" if s.mrd_negative_inclusive else "<"
        return result(
            "CR_MRD_NEGATIVE",
            "baseline.cr_mrd_negative",
            f"{s.describe_bm()} and MRD {limit} {MRD_THRESHOLD:g} or not detected (B6)",
            with_mrd=True,
        )
    return result(
        "CR_MRD_UNKNOWN",
        "baseline.cr_mrd_unknown",
        f"{s.describe_bm()}; MRD cannot be judged ({mrd.rule_id}): B5 vs B6 undecided",
        missing=["mrd_value"] if a.mrd_value is None and a.mrd_detected is None else [],
        with_mrd=True,
    )


# ---- best overall response (§3.4) --------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class BestResponseResult(ResultMixin):
    """Best overall response of one treatment line (§3.4), with the assessment that gave it.

    ``rule_id`` is the best-response rule that fired (``best_response.highest_level``,
    ``best_response.tie.mrd``, ``best_response.tie.earliest_date``, ``best_response.refractory``,
    ``best_response.ne.*``); ``response`` is the derived result of the deciding assessment (its
    own ``rule_id`` says which response rule fired); ``series`` holds every derived assessment in
    the window, ``excluded`` the dates left out and why.
    """

    status: str
    level: str
    mrd_suffix: str | None
    mrd_negative: bool | None
    date: dt.date | None
    rule_id: str
    response_rule_id: str | None
    response: ResponseResult | None
    series: tuple[ResponseResult, ...]
    excluded: tuple[tuple[dt.date, str], ...]
    criteria_set: str
    window: tuple[dt.date, dt.date | None]
    reason: str
    source: str
    unverified: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)

    @property
    def is_response(self) -> bool:
        return self.level in CR_FAMILY

    def summary(self) -> str:
        end = self.window[1].isoformat() if self.window[1] else "open"
        lines = [
            f"Best overall response {self.status} ({self.criteria_set}), window "
            f"{self.window[0].isoformat()} to {end}",
            f"Rule: {self.rule_id} - {self.reason}",
        ]
        if self.date is not None:
            lines.append(f"Assessment: {self.date.isoformat()} (rule {self.response_rule_id})")
        lines.append(f"Assessments in window: {len(self.series)}; excluded: {len(self.excluded)}")
        lines += [f"  excluded {d.isoformat()}: {why}" for d, why in self.excluded]
        lines += trail_lines({}, self.source, self.unverified, self.warnings)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "status": self.status,
                    "level": self.level,
                    "mrd_suffix": self.mrd_suffix,
                    "mrd_negative": self.mrd_negative,
                    "date": self.date.isoformat() if self.date else None,
                    "rule_id": self.rule_id,
                    "response_rule_id": self.response_rule_id,
                    "response": self.response.to_dict() if self.response else None,
                    "series": [r.to_dict() for r in self.series],
                    "excluded": [[d.isoformat(), why] for d, why in self.excluded],
                    "criteria_set": self.criteria_set,
                    "window": [
                        self.window[0].isoformat(),
                        self.window[1].isoformat() if self.window[1] else None,
                    ],
                    "reason": self.reason,
                    "source": self.source,
                    "unverified": list(self.unverified),
                    "warnings": list(self.warnings),
                    "method": dict(self.method),
                }
            )
        )


def _mrd_rank(r: ResponseResult) -> int:
    """0 = MRD-negative, 1 = unknown, 2 = positive (§3.4 tie rule)."""
    if r.mrd_suffix is None:
        return 1
    if r.mrd_suffix == "_MRDNEG" or (r.mrd_suffix == "_MRDNEG_LOWSENS" and r.mrd_negative):
        return 0
    if r.mrd_suffix in ("_MRDPOS", "_MRDPOS_LOW"):
        return 2
    return 1


def _date(name: str, value: object) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ClinicalInputError(name, value, "a datetime.date")
    return value


def _opt_date(name: str, value: object) -> dt.date | None:
    return None if value is None else _date(name, value)


def _canonical(a: Assessment) -> tuple[Any, ...]:
    # Same-date assessments are derived in a fixed order (by their field values) so that the
    # result never depends on the order the caller lists them in.
    return (a.date, tuple(repr(getattr(a, f.name)) for f in dataclasses.fields(a)))


def best_overall_response(
    assessments: Iterable[Assessment | Mapping[str, Any]],
    *,
    criteria_set: str,
    line_start: dt.date,
    window_end: dt.date | None = None,
    next_line_start: dt.date | None = None,
    hsct_date: dt.date | None = None,
    initial_state: str | BaselineStateResult | None = None,
    initial_mrd_negative: bool = False,
    baseline: Assessment | Mapping[str, Any] | None = None,
    window_complete: bool = False,
    mrd_lowsens_counts_negative: bool = False,
) -> BestResponseResult:
    """Best overall response of one treatment line from its dated assessments (§3.4).

    Parameters
    ----------
    assessments
        Dated assessments (any order; each needs a ``date``). Those before ``line_start``, after
        ``window_end``, on/after ``next_line_start`` or on/after ``hsct_date`` are excluded
        (listed in ``excluded`` with the reason) — responses after HSCT or a new line do not
        count (PROPOSED, §3.4).
    criteria_set
        Response criteria set (``CRITERIA_SETS``).
    line_start
        Start of the treatment line (day 1 of its first cycle); included.
    window_end
        Last day of the response window, included (e.g. 2 blinatumomab cycles / 12 weeks
        [S:BLIN-EFF], 3 inotuzumab cycles [S:L-BESP]); None = open.
    next_line_start, hsct_date
        Exclusive ends of the window (a new therapy line; stem-cell infusion, day 0).
    initial_state, initial_mrd_negative
        State before the line: a response level/status, or a :class:`BaselineStateResult` (its
        ``prior_state`` and ``prior_mrd_negative`` are used).
    baseline
        Pre-treatment assessment for PD/PR rules (``consensus_2010``, ``nccn``).
    window_complete
        The response landmark has been reached: a best response that is not CR-family or PR is
        ``REFRACTORY`` when it is PR, BM_BLAST_FREE_NO_RECOVERY, NO_RESPONSE or PD (§3.6
        "refractory to the index therapy": no CR-family by the response landmark).
    mrd_lowsens_counts_negative
        As :func:`derive_response` (UNVERIFIED U18).

    Notes
    -----
    Ranking (best first): CR > CRh > CRp > CRi > PR > NO_RESPONSE > PD (§3.4, PROPOSED), with
    BM_BLAST_FREE_NO_RECOVERY just above NO_RESPONSE, INDETERMINATE below it and relapses below
    PD (PROPOSED). Ties: MRD-negative > unknown > positive, then the earliest date. Rule ids:
    ``best_response.highest_level`` (one assessment has the best level),
    ``best_response.tie.mrd`` (several share the level; MRD decided), ``best_response.tie.
    earliest_date`` (level and MRD tie; the earliest date wins), ``best_response.refractory``,
    ``best_response.ne.no_assessment_in_window``, ``best_response.ne.none_evaluable``.
    Same-date assessments are derived in an order fixed by their values, so the result does not
    depend on the order the assessments are given in.
    """
    start = _date("line_start", line_start)
    end = _opt_date("window_end", window_end)
    nxt = _opt_date("next_line_start", next_line_start)
    hsct = _opt_date("hsct_date", hsct_date)
    if end is not None and end < start:
        raise ClinicalInputError("window_end", end, f"on or after line_start {start.isoformat()}")
    if criteria_set not in CRITERIA_SETS:
        raise ClinicalInputError(
            "criteria_set", criteria_set, f"one of {sorted(CRITERIA_SETS)} (required)"
        )
    s = CRITERIA_SETS[criteria_set]
    if isinstance(initial_state, BaselineStateResult):
        prior: str | None = initial_state.prior_state
        prior_neg = initial_state.prior_mrd_negative
    else:
        prior, prior_neg = initial_state, bool(initial_mrd_negative)

    items = [_as_assessment(x) for x in assessments]
    inside: list[Assessment] = []
    excluded: list[tuple[dt.date, str]] = []
    for i, a in enumerate(items):
        d = _date(f"assessments[{i}].date", a.date)
        if d < start:
            excluded.append((d, "before line_start"))
        elif end is not None and d > end:
            excluded.append((d, "after window_end"))
        elif nxt is not None and d >= nxt:
            excluded.append((d, "on/after the next treatment line"))
        elif hsct is not None and d >= hsct:
            excluded.append((d, "on/after HSCT (day 0)"))
        else:
            inside.append(a)
    inside.sort(key=_canonical)
    excluded.sort()
    series = derive_response_series(
        inside,
        criteria_set=criteria_set,
        initial_state=prior,
        initial_mrd_negative=prior_neg,
        baseline=baseline,
        mrd_lowsens_counts_negative=mrd_lowsens_counts_negative,
    )
    method = MappingProxyType(
        {
            "criteria_set": criteria_set,
            "ranking": BEST_RESPONSE_RANK,
            "tie_break": ("mrd: negative > unknown > positive", "earliest date"),
            "initial_state": prior,
            "initial_mrd_negative": prior_neg,
            "window_complete": window_complete,
            "mrd_lowsens_counts_negative": mrd_lowsens_counts_negative,
        }
    )
    source = f"{_BEST_SOURCE}; criteria set: {s.source}"
    common: dict[str, Any] = {
        "series": series,
        "excluded": tuple(excluded),
        "criteria_set": criteria_set,
        "window": (start, end),
        "source": source,
        "unverified": s.unverified,
        "method": method,
    }
    ranked = [r for r in series if r.level in BEST_RESPONSE_RANK]
    if not ranked:
        rule = (
            "best_response.ne.no_assessment_in_window"
            if not series
            else "best_response.ne.none_evaluable"
        )
        why = (
            "no assessment inside the response window"
            if not series
            else "no evaluable assessment inside the response window"
        )
        return BestResponseResult(
            status="NOT_EVALUABLE",
            level="NOT_EVALUABLE",
            mrd_suffix=None,
            mrd_negative=None,
            date=None,
            rule_id=rule,
            response_rule_id=None,
            response=None,
            reason=why,
            **common,
        )

    def key(r: ResponseResult) -> tuple[int, int, dt.date]:
        return (BEST_RESPONSE_RANK.index(r.level), _mrd_rank(r), r.date or dt.date.max)

    best = min(ranked, key=key)
    same_level = [r for r in ranked if r.level == best.level]
    same_mrd = [r for r in same_level if _mrd_rank(r) == _mrd_rank(best)]
    warnings: list[str] = []
    if len(same_level) == 1:
        rule, why = "best_response.highest_level", f"best level {best.level} reached once"
    elif len(same_mrd) == 1:
        rule = "best_response.tie.mrd"
        why = f"{len(same_level)} assessments at {best.level}; MRD status decided"
    else:
        rule = "best_response.tie.earliest_date"
        why = f"{len(same_mrd)} assessments at {best.status}; the earliest date counts"
    level, status = best.level, best.status
    suffix, neg = best.mrd_suffix, best.mrd_negative
    if window_complete and best.level in REFRACTORY_FROM:
        rule = "best_response.refractory"
        why = f"no CR-family response by the end of the window (best {best.level}, §3.6)"
        level = status = "REFRACTORY"
        suffix = neg = None
    if any(r.level == "NOT_EVALUABLE" for r in series):
        warnings.append(
            f"{sum(r.level == 'NOT_EVALUABLE' for r in series)} assessment(s) in the window "
            "not evaluable"
        )
    return BestResponseResult(
        status=status,
        level=level,
        mrd_suffix=suffix,
        mrd_negative=neg,
        date=best.date,
        rule_id=rule,
        response_rule_id=best.rule_id,
        response=best,
        reason=why,
        warnings=tuple(warnings),
        **common,
    )
