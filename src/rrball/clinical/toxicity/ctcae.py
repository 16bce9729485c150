"""CTCAE v5.0 laboratory grades and febrile neutropenia (clinical-reference.md §4.4) [S:CTCAE].

Cut-offs cross-checked against the machine-readable transcription [S:ADMIRAL-CTCAE5].
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from rrball.clinical._inputs import check_number
from rrball.clinical.toxicity._common import ToxicityGrade
from rrball.errors import ClinicalInputError

__all__ = ["CTCAE_TERMS", "ctcae_grade", "grade_febrile_neutropenia"]

# increased terms: (grade-2, grade-3, grade-4 lower limits as multiples; all "> x")
_INCREASED = {
    "alt_increased": (3.0, 5.0, 20.0),
    "ast_increased": (3.0, 5.0, 20.0),
    "bilirubin_increased": (1.5, 3.0, 10.0),
}
# decreased terms: grade 4 / 3 / 2 upper limits ("< x"), ×10^9/L; grade 1 = < LLN
_DECREASED = {
    "neutrophil_count_decreased": (0.5, 1.0, 1.5),
    "platelet_count_decreased": (25.0, 50.0, 75.0),
}
_ALIASES = {
    "alt": "alt_increased",
    "ast": "ast_increased",
    "bili": "bilirubin_increased",
    "bilirubin": "bilirubin_increased",
    "anc": "neutrophil_count_decreased",
    "neutrophils": "neutrophil_count_decreased",
    "plt": "platelet_count_decreased",
    "platelets": "platelet_count_decreased",
}
CTCAE_TERMS = tuple(_INCREASED) + tuple(_DECREASED)
_SOURCE = "[S:CTCAE] v5.0, cross-checked with [S:ADMIRAL-CTCAE5]; clinical-reference.md §4.4"


def ctcae_grade(
    term: str,
    value: float,
    uln: float | None = None,
    baseline: float | None = None,
    *,
    lln: float | None = None,
) -> ToxicityGrade:
    """CTCAE v5.0 grade of a laboratory value.

    Parameters
    ----------
    term
        ``alt_increased``, ``ast_increased``, ``bilirubin_increased``,
        ``neutrophil_count_decreased``, ``platelet_count_decreased`` (aliases ``ALT``, ``AST``,
        ``BILI``, ``ANC``, ``PLT``).
    value
        The value (enzymes and bilirubin in the laboratory's unit, consistent with ``uln``;
        counts ×10^9/L).
    uln
        Upper limit of normal (required for increased terms).
    baseline
        Pre-treatment value (increased terms). Baseline > ULN = "baseline abnormal": grades use
        multiples of baseline (ALT/AST grade 1 from 1.5 × baseline; bilirubin > 1.0 × baseline);
        otherwise multiples of ULN (PROPOSED as [S:ADMIRAL-CTCAE5]). Unknown baseline → graded
        against ULN with ``baseline_assumed_normal`` in ``method``.
    lln
        Lower limit of normal (decreased terms; without it grade 1 cannot be assigned).

    Notes
    -----
    ALT/AST: > ULN–3, > 3–5, > 5–20, > 20 × ULN; bilirubin: > ULN–1.5, > 1.5–3, > 3–10, > 10 × ULN.
    Neutrophils: < LLN–1.5, < 1.5–1.0, < 1.0–0.5, < 0.5; platelets: < LLN–75, < 75–50, < 50–25,
    < 25 (×10^9/L) [S:CTCAE].
    """
    key = _ALIASES.get(term.lower(), term.lower()) if isinstance(term, str) else term
    if key not in CTCAE_TERMS:
        raise ClinicalInputError("term", term, f"one of {CTCAE_TERMS}")
    v = check_number("value", value, "a laboratory value >= 0")
    if v < 0:
        raise ClinicalInputError("value", value, "a laboratory value >= 0")
    warnings: list[str] = []
    if key in _INCREASED:
        if uln is None:
            raise ClinicalInputError("uln", uln, f"the laboratory's upper limit of normal ({key})")
        u = check_number("uln", uln, "a positive upper limit of normal")
        if u <= 0:
            raise ClinicalInputError("uln", uln, "a positive upper limit of normal")
        g2, g3, g4 = _INCREASED[key]
        b = None if baseline is None else check_number("baseline", baseline, "a value >= 0")
        abnormal = b is not None and b > u
        if abnormal and b is not None:
            ratio, ref = v / b, "baseline"
            g1 = ratio >= 1.5 if key != "bilirubin_increased" else ratio > 1.0
        else:
            ratio, ref = v / u, "ULN"
            g1 = ratio > 1.0
        grade = 4 if ratio > g4 else 3 if ratio > g3 else 2 if ratio > g2 else 1 if g1 else 0
        rule = f"ctcae.{key}.baseline_{'abnormal' if abnormal else 'normal'}.grade{grade}"
        inputs = {"value": v, "uln": u, "baseline": b, "ratio": ratio, "reference": ref}
        method = {"baseline_abnormal": abnormal, "baseline_assumed_normal": b is None}
        if b is None:
            warnings.append("baseline unknown: graded against ULN (baseline assumed normal)")
        domain = f"{ratio:.3g} x {ref}"
    else:
        g4l, g3l, g2l = _DECREASED[key]
        low = None if lln is None else check_number("lln", lln, "a positive lower limit of normal")
        missing_lln = False
        if v < g4l:
            grade = 4
        elif v < g3l:
            grade = 3
        elif v < g2l:
            grade = 2
        elif low is None:
            grade, missing_lln = 0, True
        else:
            grade = 1 if v < low else 0
        rule = f"ctcae.{key}.grade{grade}"
        inputs = {"value": v, "lln": low}
        method = {}
        domain = f"{v:g} x10^9/L"
        if missing_lln:
            return _result(key, 0, None, rule, inputs, method, ["lln"], warnings)
    return _result(key, grade, domain if grade else None, rule, inputs, method, [], warnings)


def _result(
    term: str,
    grade: int,
    domain: str | None,
    rule: str,
    inputs: Mapping[str, object],
    method: Mapping[str, object],
    missing: list[str],
    warnings: list[str],
) -> ToxicityGrade:
    return ToxicityGrade(
        term=term,
        grade=grade,
        domain=domain,
        domains=MappingProxyType({term: grade}),
        criteria="CTCAE v5.0",
        rule_id=rule,
        inputs=MappingProxyType(inputs),
        incomplete=bool(missing),
        missing=tuple(missing),
        source=_SOURCE,
        warnings=tuple(warnings),
        method=MappingProxyType(method),
    )


def grade_febrile_neutropenia(
    *,
    anc: float | None,
    temp_max_c: float | None,
    fever_sustained_1h: bool | None = None,
    life_threatening: bool | None = None,
    death: bool = False,
) -> ToxicityGrade:
    """CTCAE v5.0 febrile neutropenia [S:CTCAE] (wording [S:CTCAE-FN-COPY]).

    Grade 3: ANC < 1.0 ×10^9/L with a single temperature > 38.3 °C or a sustained temperature
    ≥ 38 °C for more than one hour (``fever_sustained_1h``). Grade 4: life-threatening
    consequences, urgent intervention indicated. Grade 5: death. Grades 1–2 are not defined.
    """
    missing: list[str] = []
    a = None if anc is None else check_number("anc", anc, "ANC x10^9/L")
    t = None if temp_max_c is None else check_number("temp_max_c", temp_max_c, "°C")
    if t is not None and not 30.0 <= t <= 45.0:
        raise ClinicalInputError("temp_max_c", temp_max_c, "30 to 45 °C (Fahrenheit? convert)")
    neutropenic = None if a is None else a < 1.0
    single = None if t is None else t > 38.3
    fever: bool | None
    if single or fever_sustained_1h:
        fever = True
    elif single is None or fever_sustained_1h is None:
        fever = None
    else:
        fever = False
    if neutropenic is None:
        missing.append("anc")
    if fever is None:
        missing += [
            n
            for n, x in (("temp_max_c", t), ("fever_sustained_1h", fever_sustained_1h))
            if x is None
        ]
    met = bool(neutropenic and fever)
    grade = 0
    if met:
        grade = 5 if death else 4 if life_threatening else 3
        if life_threatening is None and not death:
            missing.append("life_threatening")
    rule = f"ctcae.febrile_neutropenia.grade{grade}"
    return ToxicityGrade(
        term="febrile_neutropenia",
        grade=grade,
        domain=("ANC < 1.0 and " + ("T > 38.3 °C" if single else ">= 38 °C for > 1 h"))
        if met
        else None,
        domains=MappingProxyType({"febrile_neutropenia": grade}),
        criteria="CTCAE v5.0",
        rule_id=rule,
        inputs=MappingProxyType(
            {
                "anc": a,
                "temp_max_c": t,
                "fever_sustained_1h": fever_sustained_1h,
                "life_threatening": life_threatening,
                "death": death,
            }
        ),
        incomplete=bool(missing),
        missing=tuple(missing),
        source="[S:CTCAE] v5.0 febrile neutropenia ([S:CTCAE-FN-COPY]); clinical-reference.md §4.4",
    )
