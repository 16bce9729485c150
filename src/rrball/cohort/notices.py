"""Derivation notices R-DER-001…012 (data-dictionary.md §3.5): warnings about how the derived
datasets were obtained, as §3.6 records pointing at the source row.

They are not import errors: the cohort is valid, but a reader of the results should know that a
response was not evaluable, that an MRD value could not be used, that an endpoint rests on an
imputed date, and so on. ``Cohort.notices()`` computes them from the derived tables (ADSL,
ADTTE, the per-assessment responses and the toxicity table) and the long tables; pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from rrball.errors import CohortIssue

__all__ = ["DERIVATION_RULES", "NOTICE_FIXES", "count_by_rule", "derivation_notices"]

DERIVATION_RULES: tuple[str, ...] = tuple(f"R-DER-{k:03d}" for k in range(1, 13))
_RELAPSE_LEVELS = ("HEMATOLOGICAL_RELAPSE", "COMBINED_RELAPSE", "EXTRAMEDULLARY_RELAPSE",
                   "RELAPSE")


def _rows(df: pd.DataFrame, key: str) -> dict[str, int]:
    """Primary key -> source row (``_row``; position + 2 when the reader kept none)."""
    if df is None or df.empty:
        return {}
    rows = df["_row"] if "_row" in df else pd.Series(np.arange(len(df)) + 2, index=df.index)
    return dict(zip(df[key].astype(str), rows.astype(int), strict=True))


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or value is pd.NA or (
        isinstance(value, float) and math.isnan(value))


def _row(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def _num(value: Any) -> float:
    return float(value)


def _text(value: Any) -> str | None:
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


#: what a reader should do about each notice (the §3.6 ``fix`` field)
NOTICE_FIXES: Mapping[str, str] = {
    "R-DER-001": "Add the missing inputs (marrow blasts, counts, sample adequacy) if they "
                 "exist; otherwise the assessment stays not evaluable.",
    "R-DER-002": "Record MRD as a cell fraction of a marrow sample (flow, NGS or IG/TR PCR) to "
                 "use it; transcript ratios and copies are not thresholded (CR §3.5).",
    "R-DER-003": "Record the assay's LOD (<= the MRD threshold) or declare "
                 "mrd_lowsens_counts_negative = 1 if the study counts these as negative.",
    "R-DER-004": "Add the assessment before the line start (within baseline_window_days); "
                 "until then the reported status is used for subgroups.",
    "R-DER-005": "Enter the full date if known; the stratum follows the midpoint otherwise.",
    "R-DER-006": "No action: the boundary value is assigned by the declared metadata rule; "
                 "check that the rule matches the study's wording.",
    "R-DER-007": "Enter the full date if known; the endpoint uses the imputed midpoint.",
    "R-DER-008": "Add the missing grading inputs to confirm the grade.",
    "R-DER-009": "Check both relapse dates; the earlier one is used for the endpoints.",
    "R-DER-010": "No action: events after data_cutoff_date are not counted by design.",
    "R-DER-011": "No action if the dates are right: AVAL 0 rows are kept (§5.3 rule 4).",
    "R-DER-012": "Check the assays; the first method of mrd_method_priority is used.",
}


class _Out:
    def __init__(self, source: str) -> None:
        self.items: list[CohortIssue] = []
        self.source = source

    def add(self, rule: str, table: str, row: Any, column: str | None, value: Any,
            problem: str) -> None:
        """A §3.6 record: ``{table} row {row}, {column} = {value}: {problem} [{rule}]``."""
        r, v = _row(row), _text(value)
        where = table if r is None else f"{table} row {r}"
        if column is not None:
            where += f", {column}" + (f" = {v}" if v is not None else "")
        fix = NOTICE_FIXES[rule]
        self.items.append(CohortIssue(table, r, column, v, rule, "W",
                                      f"{where}: {problem} [{rule}]. Fix: {fix}", fix,
                                      self.source))


def _responses(out: _Out, resp: pd.DataFrame, asm: pd.DataFrame | None) -> None:
    """R-DER-001/002/003 on in-window assessments (the ones best response uses)."""
    if resp.empty:
        return
    win = resp[resp["INWINDOW"].astype(bool)]
    by_id = asm.drop_duplicates("assessment_id").set_index("assessment_id") \
        if asm is not None and not asm.empty else pd.DataFrame()

    def cell(aid: str, col: str) -> Any:
        if by_id.empty or col not in by_id or aid not in by_id.index:
            return None
        return by_id.at[aid, col]

    for r in win.itertuples(index=False):
        status, rule_id, aid = str(r.STATUS), str(r.RULEID), str(r.ASSESSID)
        if r.LEVEL == "NOT_EVALUABLE":
            out.add("R-DER-001", "assessments", r.SRCROW, "bm_blast_pct",
                    cell(aid, "bm_blast_pct"),
                    f"response of line {r.LINEID} not evaluable ({rule_id})")
        elif status.endswith("_MRDUNK") and cell(aid, "mrd_detected") is not None \
                and not pd.isna(cell(aid, "mrd_detected")):
            out.add("R-DER-002", "assessments", r.SRCROW, "mrd_unit", cell(aid, "mrd_unit"),
                    f"MRD not usable under the criteria set (unit not a cell fraction or "
                    f"sample not marrow): {status} for line {r.LINEID}")
        elif status.endswith("_MRDNEG_LOWSENS"):
            out.add("R-DER-003", "assessments", r.SRCROW, "mrd_lod", cell(aid, "mrd_lod"),
                    f"MRD not detected with LOD above the threshold or unknown: line "
                    f"{r.LINEID} is negative only if mrd_lowsens_counts_negative = 1")


def _completed_years(born: pd.Series, at: pd.Series) -> pd.Series:
    b, a = pd.to_datetime(born), pd.to_datetime(at)
    years = a.dt.year - b.dt.year
    before = (a.dt.month < b.dt.month) | ((a.dt.month == b.dt.month) & (a.dt.day < b.dt.day))
    return years - before.astype(int)


def _baseline_and_strata(out: _Out, adsl: pd.DataFrame, t: Mapping[str, pd.DataFrame],
                         meta: Mapping[str, Any]) -> None:
    """R-DER-004 (no evaluable baseline), R-DER-005 (partial date makes a stratum uncertain),
    R-DER-006 (value exactly on a category boundary, assigned by the metadata rule)."""
    lines = _rows(t["treatment_lines"], "line_id")
    pts = t["patients"].drop_duplicates("patient_id").set_index("patient_id")
    prow = pts["_row"] if "_row" in pts else pd.Series(dtype=int)
    for r in adsl.loc[adsl["BLSTATD"] == "NOT_EVALUABLE"].itertuples(index=False):
        out.add("R-DER-004", "treatment_lines", lines.get(str(r.LINEID)),
                "disease_status_at_start", r.BLSTATR,
                "no evaluable baseline assessment in the window: derived baseline "
                "NOT_EVALUABLE; subgroups use the reported status")
    cut = float(meta.get("age_cut_years", 18))
    sub = pts.reindex(adsl["SUBJID"].astype(str))
    if "birth_date__lo" in sub and "birth_date__hi" in sub:
        start = adsl["TRTSDT"].reset_index(drop=True)
        lo_age = _completed_years(sub["birth_date__hi"].reset_index(drop=True), start)
        hi_age = _completed_years(sub["birth_date__lo"].reset_index(drop=True), start)
        le = meta.get("age_cut_rule", "le") == "le"
        child_lo = lo_age <= cut if le else lo_age < cut
        child_hi = hi_age <= cut if le else hi_age < cut
        unsure = (child_lo != child_hi).to_numpy() & sub["birth_date__lo"].notna().to_numpy()
        for i in np.flatnonzero(unsure):
            pid = str(adsl["SUBJID"].iloc[i])
            out.add("R-DER-005", "patients", prow.get(pid), "birth_date",
                    sub["birth_date"].iloc[i],
                    f"partial birth date: age at line {adsl['LINEID'].iloc[i]} is "
                    f"{int(lo_age.iloc[i])}-{int(hi_age.iloc[i])} years, across the age cut "
                    f"{cut:g}; the midpoint decides the age group")
    cr1_cut = float(meta.get("cr1_cut_months", 12.0))
    if "CR1DUR" in adsl and "S1GRP" in adsl:
        s1 = adsl[adsl["S1GRP"].notna() & adsl["CR1DUR"].notna()]
        exact = np.isclose(s1["CR1DUR"].astype(float), cr1_cut, rtol=0, atol=1e-9)
        for r in s1[exact].itertuples(index=False):
            out.add("R-DER-006", "patients", prow.get(str(r.SUBJID)), "first_relapse_date",
                    f"{_num(r.CR1DUR):g} months",
                    f"CR1 duration exactly {cr1_cut:g} months: stratum {r.S1GRP} by "
                    f"cr1_cut_rule = {meta.get('cr1_cut_rule', 'gt')}")
        imp = s1[s1.get("CR1DURIMP", pd.Series(index=s1.index, dtype=object)).notna()]
        near = (imp["CR1DUR"].astype(float) - cr1_cut).abs() <= 1.0
        for r in imp[near.to_numpy()].itertuples(index=False):
            out.add("R-DER-005", "patients", prow.get(str(r.SUBJID)), "first_relapse_date",
                    f"{_num(r.CR1DUR):.2f} months",
                    f"CR1 duration from partial dates lies within a month of the "
                    f"{cr1_cut:g}-month cut: stratum {r.S1GRP} is uncertain")
    age_exact = adsl["AGE"].astype(float) == cut
    for r in adsl[age_exact.to_numpy()].itertuples(index=False):
        out.add("R-DER-006", "patients", prow.get(str(r.SUBJID)), "birth_date",
                f"{cut:g} years", f"age exactly {cut:g} at line {r.LINEID}: group "
                f"{r.AGEGR1} by age_cut_rule = {meta.get('age_cut_rule', 'le')}")


def _endpoints(out: _Out, adtte: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> None:
    """R-DER-007 (imputed date), R-DER-010 (data cut-off), R-DER-011 (AVAL = 0; not for EFS
    induction failures dated t0 by ``efs_failure_timing = t0``, the declared convention)."""
    for r in adtte[adtte["DTIMPFL"] == "Y"].itertuples(index=False):
        out.add("R-DER-007", str(r.SRCDOM), r.SRCROW, str(r.SRCVAR), r.ADT,
                f"{r.PARAMCD} of line {r.LINEID} uses an imputed (partial) date")
    cut = adtte[adtte["CNSR"] == 6]
    if len(cut):
        # one notice per line, at the patient's record dated after the cut-off: the last
        # contact (the endpoints' own source is the metadata cut-off date)
        fu = tables.get("follow_up")
        last: dict[str, tuple[Any, Any]] = {}
        if fu is not None and len(fu):
            lc = fu[fu["event_type"] == "last_contact"]
            rows = lc["_row"] if "_row" in lc else pd.Series([None] * len(lc), index=lc.index)
            last = {str(pid): (row, day) for pid, row, day in zip(
                lc["patient_id"], rows, lc["event_date"], strict=True)}
        study = str(adtte["STUDYID"].iloc[0]) if "STUDYID" in adtte and len(adtte) else ""
        for (usubjid, line), grp in cut.groupby(["USUBJID", "LINEID"], sort=True):
            pid = str(usubjid)[len(study) + 1:] if study else str(usubjid)
            row, day = last.get(pid, (None, None))
            params = ", ".join(dict.fromkeys(str(x) for x in grp["PARAMCD"]))
            out.add("R-DER-010", "follow_up", row, "event_date", day,
                    f"follow-up of line {line} beyond data_cutoff_date is not counted: "
                    f"{params} censored at the cut-off ({_text(grp['ADT'].iloc[0])})")
    # induction failures dated t0 (efs_failure_timing = t0) are the declared convention
    zero = (adtte["AVAL"] == 0) & (adtte["EVNTDESC"] != "INDUCTION FAILURE")
    for r in adtte[zero].itertuples(index=False):
        kind = "event" if r.CNSR == 0 else "censoring"
        out.add("R-DER-011", str(r.SRCDOM), r.SRCROW, str(r.SRCVAR), r.ADT,
                f"{r.PARAMCD} of line {r.LINEID}: {kind} on the day of origin (AVAL 0)")


def _toxicity(out: _Out, tox: pd.DataFrame) -> None:
    """R-DER-008: a grade supported by the inputs, inputs for a higher grade missing."""
    if tox.empty or "INCOMPFL" not in tox:
        return
    for r in tox[(tox["INCOMPFL"] == "Y") & (tox["PRIMFL"] == "Y")].itertuples(index=False):
        out.add("R-DER-008", str(r.SRCDOM), r.SRCROW, str(r.SRCVAR), r.MAXGRADE,
                f"{r.TERM} grade of line {r.LINEID} under {r.CRITSET} is incomplete: inputs "
                "for a higher grade are missing")


def _relapse_sources(out: _Out, adsl: pd.DataFrame, resp: pd.DataFrame,
                     t: Mapping[str, pd.DataFrame]) -> None:
    """R-DER-009: reported and assessment-derived relapse more than 14 days apart (the first
    of each after the line's response date; one pass per table, no per-line filtering)."""
    fu = t.get("follow_up")
    if fu is None or resp.empty:
        return
    lines = adsl.loc[adsl["RESPDT"].notna(), ["SUBJID", "LINEID", "RESPDT"]]
    rel = fu.loc[fu["event_type"] == "relapse", ["patient_id", "event_id", "event_date"]]
    rep = lines.merge(rel, left_on="SUBJID", right_on="patient_id")
    rep = rep[rep["event_date"] > rep["RESPDT"]].sort_values(["LINEID", "event_date"])
    rep = rep.drop_duplicates("LINEID")
    der = resp.loc[resp["LEVEL"].isin(_RELAPSE_LEVELS), ["LINEID", "ADT"]]
    der = der.merge(lines[["LINEID", "RESPDT"]], on="LINEID")
    der = der[der["ADT"] > der["RESPDT"]].sort_values(["LINEID", "ADT"])
    both = rep.merge(der.drop_duplicates("LINEID")[["LINEID", "ADT"]], on="LINEID")
    if both.empty:
        return
    gap = (pd.to_datetime(both["event_date"]) - pd.to_datetime(both["ADT"])).dt.days.abs()
    rows = _rows(fu, "event_id")
    for r, days in zip(both.itertuples(index=False), gap, strict=True):
        if days > 14:
            out.add("R-DER-009", "follow_up", rows.get(str(r.event_id)), "event_date",
                    r.event_date,
                    f"reported relapse and the relapse derived from assessments "
                    f"({_text(r.ADT)}) of line {r.LINEID} are {int(days)} days apart; the "
                    "earlier is used")


def _mrd_methods(out: _Out, asm: pd.DataFrame | None, meta: Mapping[str, Any]) -> None:
    """R-DER-012: two MRD methods on one date disagree; the priority method is used."""
    if asm is None or "mrd_method" not in asm:
        return
    m = asm[asm["mrd_method"].notna() & asm["mrd_detected"].notna()]
    if m.empty:
        return
    grp = m.groupby(["patient_id", "assessment_date"])["mrd_detected"].transform("nunique")
    order = meta.get("mrd_method_priority") or ["flow", "ngs", "ig_tr_pcr", "fusion_qpcr"]
    hit = m[(grp > 1).to_numpy()]
    rows = hit["_row"] if "_row" in hit else pd.Series([None] * len(hit), index=hit.index)
    for row, detected, day in zip(rows, hit["mrd_detected"], hit["assessment_date"],
                                  strict=True):
        out.add("R-DER-012", "assessments", row, "mrd_detected", detected,
                f"MRD methods disagree on {_text(day)}: the first of mrd_method_priority "
                f"({';'.join(map(str, order))}) is used")


def derivation_notices(tables: Mapping[str, pd.DataFrame], meta: Mapping[str, Any],
                       adsl: pd.DataFrame, adtte: pd.DataFrame, responses: pd.DataFrame,
                       toxicity: pd.DataFrame, *, source: str = "") -> list[CohortIssue]:
    """Every R-DER notice of the cohort, sorted like the import warnings (table, row)."""
    out = _Out(source)
    asm = tables.get("assessments")
    _responses(out, responses, asm)
    _baseline_and_strata(out, adsl, tables, meta)
    _endpoints(out, adtte, tables)
    _toxicity(out, toxicity)
    _relapse_sources(out, adsl, responses, tables)
    _mrd_methods(out, asm, meta)
    return sorted(out.items, key=_order)


def _order(i: CohortIssue) -> tuple[str, int, str, str]:
    return (i.table, i.row if i.row is not None else -1, i.column or "", i.rule_id)


def count_by_rule(items: Iterable[CohortIssue]) -> dict[str, int]:
    """Number of notices per rule id (for summaries)."""
    counts: dict[str, int] = {}
    for i in items:
        counts[i.rule_id] = counts.get(i.rule_id, 0) + 1
    return dict(sorted(counts.items()))
