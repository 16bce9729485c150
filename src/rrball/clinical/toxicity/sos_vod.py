"""SOS/VOD diagnosis and severity, every criteria set side by side (clinical-reference.md §4.3).

Modified Seattle [S:SEA], Baltimore [S:BAL] (both via [S:VOD-REPRO]), EBMT adult 2016 diagnosis
and severity [S:EBMT-A16] ([S:EBMT-A16-TAB]), EBMT paediatric 2018 diagnosis and severity
[S:EBMT-P18] ([S:VOD-PED-REPRO]). Inputs describe one observation ``day`` days after the
reference (HSCT day 0, or the first inotuzumab dose when there is no HSCT). Signs must not be
attributable to other causes: the caller states that with ``other_causes_excluded``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rrball._result import ResultMixin, json_safe
from rrball.clinical._inputs import check_number
from rrball.errors import ClinicalInputError

__all__ = ["ASCITES", "SOSVODCriterion", "SOSVODResult", "diagnose_sos_vod"]

Tri = bool | None
ASCITES = ("none", "minimal", "moderate", "paracentesis")
SEVERITY = {1: "mild", 2: "moderate", 3: "severe", 4: "very_severe"}
BILI_MG_DL = 2.0  # 2 mg/dL = 34.2 umol/L


@dataclass(frozen=True, slots=True, kw_only=True)
class SOSVODCriterion:
    """The verdict of one criteria set: ``diagnosed`` (None = undecidable with the inputs),
    the criteria met and missing, severity where the set grades it, rule id and source."""

    criteria_set: str
    diagnosed: bool | None
    onset_type: str | None
    met: tuple[str, ...]
    missing: tuple[str, ...]
    severity: str | None
    severity_grade: int | None
    severity_deciding: tuple[str, ...]
    rule_id: str
    source: str
    unverified: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True, slots=True, kw_only=True)
class SOSVODResult(ResultMixin):
    """All criteria sets evaluated on one observation; ``criteria[name]`` per set."""

    day: int
    reference: str
    criteria: Mapping[str, SOSVODCriterion]
    inputs: Mapping[str, Any]
    warnings: tuple[str, ...] = ()
    method: Mapping[str, object] = field(default_factory=dict)

    @property
    def diagnosed_by(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.criteria.items() if v.diagnosed)

    def summary(self) -> str:
        lines = [f"SOS/VOD, day {self.day} after {self.reference}"]
        for k, v in self.criteria.items():
            verdict = {True: "diagnosed", False: "not met", None: "undecidable"}[v.diagnosed]
            sev = f", severity {v.severity}" if v.severity else ""
            lines.append(
                f"  {k}: {verdict}{sev} [{v.rule_id}]; met: {', '.join(v.met) or 'none'}"
                + (f"; missing: {', '.join(v.missing)}" if v.missing else "")
                + f"; {v.source}"
            )
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "day": self.day,
                    "reference": self.reference,
                    "criteria": {k: v.to_dict() for k, v in self.criteria.items()},
                    "inputs": dict(self.inputs),
                    "warnings": list(self.warnings),
                    "method": dict(self.method),
                }
            )
        )


def _count(items: Mapping[str, Tri], need: int) -> tuple[Tri, list[str], list[str]]:
    met = [k for k, v in items.items() if v is True]
    unknown = [k for k, v in items.items() if v is None]
    if len(met) >= need:
        return True, met, []
    if len(met) + len(unknown) < need:
        return False, met, []
    return None, met, unknown


def _and(*xs: Tri) -> Tri:
    if any(x is False for x in xs):
        return False
    return None if any(x is None for x in xs) else True


def _or(*xs: Tri) -> Tri:
    if any(x is True for x in xs):
        return True
    return None if any(x is None for x in xs) else False


def _ge(x: float | None, t: float, inclusive: bool = True) -> Tri:
    if x is None:
        return None
    return x >= t if inclusive else x > t


def _opt(name: str, v: float | None, lo: float = 0.0, hi: float = 1e6) -> float | None:
    if v is None:
        return None
    x = check_number(name, v, f"{lo:g} to {hi:g}")
    if not lo <= x <= hi:
        raise ClinicalInputError(name, v, f"{lo:g} to {hi:g}")
    return x


def diagnose_sos_vod(
    *,
    day: int,
    reference: str = "hsct",
    bilirubin_mg_dl: float | None = None,
    hepatomegaly: bool | None = None,
    hepatomegaly_painful: bool | None = None,
    ruq_pain: bool | None = None,
    ascites: str | bool | None = None,
    weight_kg: float | None = None,
    baseline_weight_kg: float | None = None,
    weight_gain_3_days_despite_diuretics: bool | None = None,
    transfusion_refractory_thrombocytopenia: bool | None = None,
    refractory_thrombocytopenia_days: float | None = None,
    bilirubin_rising_3_days: bool | None = None,
    histology_proven: bool | None = None,
    hemodynamic_or_ultrasound_evidence: bool | None = None,
    days_since_first_signs: float | None = None,
    bilirubin_doubling_48h: bool | None = None,
    transaminases_x_uln: float | None = None,
    creatinine_x_baseline: float | None = None,
    mod_mof: bool | None = None,
    n_risk_factors: int | None = None,
    gfr_ml_min: float | None = None,
    o2_l_min: float | None = None,
    ventilator: bool | None = None,
    coagulation: str | None = None,
    new_cognitive_impairment: bool | None = None,
    other_causes_excluded: bool = True,
    seattle_bilirubin_inclusive: bool = True,
    baltimore_weight_inclusive: bool = False,
    ped_thrombocytopenia_7_days_severe: bool = False,
) -> SOSVODResult:
    """Evaluate SOS/VOD by every criteria set, side by side (§4.3).

    - ``modified_seattle``: ≥ 2 of bilirubin ≥ 2 mg/dL, hepatomegaly or RUQ pain, weight gain
      > 2 %, within 20 days [S:SEA]. ``seattle_bilirubin_inclusive=False`` reads "> 2" (U21).
    - ``baltimore``: bilirubin ≥ 2 mg/dL within 21 days and ≥ 2 of hepatomegaly, ascites, weight
      gain > 5 % [S:BAL] (``baltimore_weight_inclusive`` reads "≥ 5 %", U21).
    - ``ebmt_adult_2016``: classical (≤ 21 days): bilirubin ≥ 2 and ≥ 2 of painful hepatomegaly,
      weight gain > 5 %, ascites; late onset (> 21 days): classical criteria, or histology, or ≥ 2
      of the four with haemodynamic/ultrasound evidence [S:EBMT-A16]. Severity: the most severe
      grade in which ≥ 2 criteria are met, counting a criterion at a higher grade for lower grades
      too (PROPOSED reading); MOD/MOF → very severe; ≥ 2 risk factors → one grade up; weight
      5–10 % counts as severe (U22 footnote).
    - ``ebmt_paediatric_2018``: no time limit; ≥ 2 of transfusion-refractory thrombocytopenia,
      weight gain (3 days despite diuretics or > 5 %), hepatomegaly, ascites, bilirubin rising 3
      days or ≥ 2 mg/dL [S:EBMT-P18]. Severity: the most severe category of any criterion; ≥ 2
      starred criteria (transaminases, refractory thrombocytopenia, bilirubin, ascites) at
      severe → very severe ([S:VOD-PED-REPRO]; placements U23;
      ``ped_thrombocytopenia_7_days_severe`` reads "≥ 7 days").

    ``ascites``: ``"none"``, ``"minimal"``, ``"moderate"``, ``"paracentesis"`` or a bool.
    """
    if isinstance(day, bool) or not isinstance(day, int) or day < 0:
        raise ClinicalInputError("day", day, "whole days >= 0 after the reference")
    if reference not in ("hsct", "ino_first_dose"):
        raise ClinicalInputError("reference", reference, "'hsct' or 'ino_first_dose'")
    if isinstance(ascites, str) and ascites not in ASCITES:
        raise ClinicalInputError("ascites", ascites, f"one of {ASCITES} or a bool")
    if coagulation is not None and coagulation not in ("normal", "impaired", "factor_replacement"):
        raise ClinicalInputError("coagulation", coagulation, "normal, impaired, factor_replacement")
    bili = _opt("bilirubin_mg_dl", bilirubin_mg_dl, 0.0, 60.0)
    w = _opt("weight_kg", weight_kg, 1.0, 300.0)
    bw = _opt("baseline_weight_kg", baseline_weight_kg, 1.0, 300.0)
    # rounded to 1e-9 % so that e.g. 71.4 kg from 70 kg is exactly 2 % (binary floating point
    # would give 2.0000000000000018 and flip a "> 2 %" boundary)
    gain = None if w is None or bw is None else round((w - bw) / bw * 100.0, 9)
    tx = _opt("transaminases_x_uln", transaminases_x_uln, 0.0, 1000.0)
    cr = _opt("creatinine_x_baseline", creatinine_x_baseline, 0.0, 50.0)
    since = _opt("days_since_first_signs", days_since_first_signs, 0.0, 1000.0)
    rt_days = _opt(
        "refractory_thrombocytopenia_days", refractory_thrombocytopenia_days, 0.0, 1000.0
    )
    gfr = _opt("gfr_ml_min", gfr_ml_min, 0.0, 300.0)
    o2 = _opt("o2_l_min", o2_l_min, 0.0, 80.0)
    asc: Tri = (
        None if ascites is None else (ascites if isinstance(ascites, bool) else ascites != "none")
    )
    painful = _and(hepatomegaly, hepatomegaly_painful) if hepatomegaly is not False else False
    warnings: list[str] = []
    if reference != "hsct":
        warnings.append("time windows of Seattle/Baltimore/EBMT are defined from HSCT day 0")
    if not other_causes_excluded:
        warnings.append("signs attributable to other causes: no criteria set is met")
    if gain is not None and gain > 50:
        warnings.append(f"weight gain {gain:.1f} % > 50 %: check weights")

    out: dict[str, SOSVODCriterion] = {}

    def crit(
        name: str,
        diag: Tri,
        met: list[str],
        missing: list[str],
        rule: str,
        source: str,
        unverified: tuple[str, ...] = (),
        onset: str | None = None,
        sev: tuple[int, list[str]] | None = None,
    ) -> None:
        if not other_causes_excluded:
            diag, rule = False, f"sos.{name}.other_causes"
        grade = sev[0] if (sev and diag) else None
        out[name] = SOSVODCriterion(
            criteria_set=name,
            diagnosed=diag,
            onset_type=onset if diag else None,
            met=tuple(met),
            missing=tuple(sorted(set(missing))),
            severity=SEVERITY.get(grade) if grade else None,
            severity_grade=grade,
            severity_deciding=tuple(sev[1]) if (sev and diag) else (),
            rule_id=rule,
            source=source,
            unverified=unverified,
        )

    # (a) modified Seattle
    items = {
        "bilirubin>=2" if seattle_bilirubin_inclusive else "bilirubin>2": _ge(
            bili, BILI_MG_DL, seattle_bilirubin_inclusive
        ),
        "hepatomegaly_or_ruq_pain": _or(hepatomegaly, ruq_pain),
        "weight_gain>2%": _ge(gain, 2.0, False),
    }
    d, met, unk = _count(items, 2)
    if day > 20:
        crit(
            "modified_seattle",
            False,
            met,
            [],
            "sos.modified_seattle.outside_20_days",
            "[S:SEA]",
            ("U21",),
        )
    else:
        crit(
            "modified_seattle",
            d,
            met,
            unk,
            f"sos.modified_seattle.{_verdict(d)}",
            "[S:SEA] via [S:VOD-REPRO]",
            ("U21",),
        )

    # (b) Baltimore
    wkey = "weight_gain>=5%" if baltimore_weight_inclusive else "weight_gain>5%"
    b_items = {
        "hepatomegaly": hepatomegaly,
        "ascites": asc,
        wkey: _ge(gain, 5.0, baltimore_weight_inclusive),
    }
    d2, met2, unk2 = _count(b_items, 2)
    b_bili = _ge(bili, BILI_MG_DL)
    d_bal = _and(b_bili, d2)
    miss = unk2 + (["bilirubin_mg_dl"] if b_bili is None else [])
    met_b = (["bilirubin>=2"] if b_bili else []) + met2
    if day > 21:
        crit("baltimore", False, met_b, [], "sos.baltimore.outside_21_days", "[S:BAL]", ("U21",))
    else:
        crit(
            "baltimore",
            d_bal,
            met_b,
            miss if d_bal is None else [],
            f"sos.baltimore.{_verdict(d_bal)}",
            "[S:BAL] via [S:VOD-REPRO]",
            ("U21",),
        )

    # (c, d) EBMT adult 2016
    four = {
        "hepatomegaly_painful": painful,
        "weight_gain>5%": _ge(gain, 5.0, False),
        "ascites": asc,
    }
    dc, metc, unkc = _count(four, 2)
    classical = _and(b_bili, dc)
    met_c = (["bilirubin>=2"] if b_bili else []) + metc
    miss_c = unkc + (["bilirubin_mg_dl"] if b_bili is None else [])
    sev = _adult_severity(
        bili, bilirubin_doubling_48h, tx, gain, cr, since, mod_mof, n_risk_factors
    )
    if day <= 21:
        crit(
            "ebmt_adult_2016",
            classical,
            met_c,
            miss_c if classical is None else [],
            f"sos.ebmt_adult_2016.classical.{_verdict(classical)}",
            "[S:EBMT-A16] via [S:VOD-REPRO]; severity [S:EBMT-A16-TAB]",
            ("U22",),
            "classical",
            sev,
        )
    else:
        any2, met4, unk4 = _count({"bilirubin>=2": b_bili, **four}, 2)
        late = _or(classical, histology_proven, _and(any2, hemodynamic_or_ultrasound_evidence))
        miss_l = (
            miss_c
            + unk4
            + [
                n
                for n, x in (
                    ("histology_proven", histology_proven),
                    ("hemodynamic_or_ultrasound_evidence", hemodynamic_or_ultrasound_evidence),
                )
                if x is None
            ]
        )
        met_l = sorted(
            set(
                met_c
                + met4
                + (["histology_proven"] if histology_proven else [])
                + (
                    ["hemodynamic_or_ultrasound_evidence"]
                    if hemodynamic_or_ultrasound_evidence
                    else []
                )
            )
        )
        crit(
            "ebmt_adult_2016",
            late,
            met_l,
            miss_l if late is None else [],
            f"sos.ebmt_adult_2016.late_onset.{_verdict(late)}",
            "[S:EBMT-A16] via [S:VOD-REPRO]; severity [S:EBMT-A16-TAB]",
            ("U22",),
            "late_onset",
            sev,
        )

    # (f, g) EBMT paediatric 2018
    p_items = {
        "transfusion_refractory_thrombocytopenia": transfusion_refractory_thrombocytopenia,
        "weight_gain": _or(weight_gain_3_days_despite_diuretics, _ge(gain, 5.0, False)),
        "hepatomegaly": hepatomegaly,
        "ascites": asc,
        "bilirubin": _or(bilirubin_rising_3_days, _ge(bili, BILI_MG_DL)),
    }
    dp, metp, unkp = _count(p_items, 2)
    psev = _ped_severity(
        tx,
        rt_days,
        bili,
        ascites,
        coagulation,
        gfr,
        o2,
        ventilator,
        new_cognitive_impairment,
        ped_thrombocytopenia_7_days_severe,
    )
    if bilirubin_doubling_48h is not None:
        warnings.append(
            "paediatric severity: bilirubin doubling within 48 h not graded (column "
            "placement UNVERIFIED U23)"
        )
    crit(
        "ebmt_paediatric_2018",
        dp,
        metp,
        unkp,
        f"sos.ebmt_paediatric_2018.{_verdict(dp)}",
        "[S:EBMT-P18] via [S:VOD-PED-REPRO]",
        ("U23",),
        None,
        psev,
    )

    inputs = {
        "day": day,
        "reference": reference,
        "bilirubin_mg_dl": bili,
        "hepatomegaly": hepatomegaly,
        "hepatomegaly_painful": hepatomegaly_painful,
        "ruq_pain": ruq_pain,
        "ascites": ascites,
        "weight_kg": w,
        "baseline_weight_kg": bw,
        "weight_gain_pct": gain,
        "transfusion_refractory_thrombocytopenia": transfusion_refractory_thrombocytopenia,
        "transaminases_x_uln": tx,
        "creatinine_x_baseline": cr,
        "mod_mof": mod_mof,
        "n_risk_factors": n_risk_factors,
        "other_causes_excluded": other_causes_excluded,
    }
    return SOSVODResult(
        day=day,
        reference=reference,
        criteria=MappingProxyType(out),
        inputs=MappingProxyType(inputs),
        warnings=tuple(warnings),
        method=MappingProxyType(
            {
                "seattle_bilirubin_inclusive": seattle_bilirubin_inclusive,
                "baltimore_weight_inclusive": baltimore_weight_inclusive,
                "ped_thrombocytopenia_7_days_severe": ped_thrombocytopenia_7_days_severe,
            }
        ),
    )


def _verdict(d: Tri) -> str:
    return {True: "met", False: "not_met", None: "undecidable"}[d]


def _band(x: float | None, cuts: list[tuple[float, int]]) -> int | None:
    """Grade of x: the grade of the last cut-off that x reaches (cuts ascending, >=)."""
    if x is None:
        return None
    g = 0
    for t, grade in cuts:
        if x >= t:
            g = grade
    return g


def _adult_severity(
    bili: float | None,
    doubling: bool | None,
    tx: float | None,
    gain: float | None,
    cr: float | None,
    since: float | None,
    mod_mof: bool | None,
    n_rf: int | None,
) -> tuple[int, list[str]]:
    grades: dict[str, int] = {}
    if since is not None:
        grades["time_since_first_signs"] = 1 if since > 7 else 2 if since >= 5 else 3
    b = _band(bili, [(2.0, 1), (3.0, 2), (5.0, 3), (8.0, 4)])
    if b:
        grades["bilirubin"] = b
    if doubling:
        grades["bilirubin_doubling_48h"] = 3
    if tx is not None:
        grades["transaminases"] = 1 if tx <= 2 else 2 if tx <= 5 else 3 if tx <= 8 else 4
    if gain is not None:
        grades["weight_gain"] = 1 if gain < 5 else 3 if gain < 10 else 4
    if cr is not None:
        grades["renal"] = 1 if cr < 1.2 else 2 if cr < 1.5 else 3 if cr < 2 else 4
    if mod_mof:
        return 4, ["mod_mof"]
    grade = max((g for g in (4, 3, 2, 1) if sum(v >= g for v in grades.values()) >= 2), default=1)
    deciding = [k for k, v in grades.items() if v >= grade]
    if n_rf is not None and n_rf >= 2 and grade in (1, 2):
        grade += 1
        deciding.append("risk_factors>=2")
    return grade, deciding


def _ped_severity(
    tx: float | None,
    rt_days: float | None,
    bili: float | None,
    ascites: str | bool | None,
    coag: str | None,
    gfr: float | None,
    o2: float | None,
    vent: bool | None,
    cns: bool | None,
    rt7: bool,
) -> tuple[int, list[str]]:
    starred: dict[str, int] = {}
    other: dict[str, int] = {}
    if tx is not None:
        starred["transaminases"] = 1 if tx <= 2 else 2 if tx <= 5 else 3
    if rt_days is not None:
        severe = rt_days >= 7 if rt7 else rt_days > 7
        starred["refractory_thrombocytopenia"] = 3 if severe else 2 if rt_days >= 3 else 1
    if bili is not None:
        starred["bilirubin"] = 3 if bili >= BILI_MG_DL else 1
    if isinstance(ascites, str) and ascites != "none":
        starred["ascites"] = {"minimal": 1, "moderate": 2, "paracentesis": 3}[ascites]
    if coag is not None:
        other["coagulation"] = {"normal": 1, "impaired": 3, "factor_replacement": 4}[coag]
    if gfr is not None:
        other["gfr"] = 1 if gfr >= 60 else 2 if gfr >= 30 else 3 if gfr >= 15 else 4
    if vent:
        other["pulmonary"] = 3
    elif o2 is not None:
        other["pulmonary"] = 1 if o2 < 2 else 2  # exactly 2 L/min -> moderate (PROPOSED)
    if cns:
        other["cns"] = 4
    allg = {**starred, **other}
    severe_starred = [k for k, v in starred.items() if v >= 3]
    if len(severe_starred) >= 2:
        return 4, severe_starred
    grade = max(allg.values(), default=1)
    return grade, [k for k, v in allg.items() if v == grade]
