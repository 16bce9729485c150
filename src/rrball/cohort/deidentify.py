"""De-identified export (data-dictionary.md §6): re-keyed IDs, per-patient date shift.

Pure: canonical text tables (``Cohort.text_tables()``) and metadata pairs in, de-identified text
tables and pairs out; the writers do the I/O.

1. Per-patient date shift: ``d = -(1 + (HMAC-SHA256(secret, study_code + ":" + patient_id)
   mod 365))`` days, the same for every date of the patient (every ``date`` and ``pdate`` column
   of every table). Intervals, and so AVAL and every endpoint of §5.3, are unchanged. Partial dates
   are shifted by their midpoint (day 15 / 1 July, §2.1) and written at month precision.
2. ``birth_date`` is written as ``YYYY-MM`` after shifting; a patient aged >= 90 at any index line
   has the birth date dropped and ``age_at_diagnosis_years`` top-coded to 90.
3. IDs re-keyed: ``patient_id`` -> ``P`` + the first 10 hex characters of
   HMAC-SHA256(secret, patient_id); every other key (line, assessment, HSCT, event, AE, AE
   episode, administration) -> a letter + 12 hex characters of HMAC-SHA256(secret,
   ``column:value``), so foreign keys stay consistent and no original ID (which often embeds the
   patient's) survives. If two IDs would collide, all IDs of that column get 2 more characters.
4. Free-text columns (§6 table: ``regimen_detail``, ``frontline_protocol``, …) are dropped unless
   named in ``keep_free_text``; the two a rule requires (``regimen_detail`` for regimens 10, 11,
   20, 25 and ``ae_term_other``) keep their column with ``REMOVED_TEXT`` in every filled cell.
5. Metadata gets ``deidentified = 1`` and ``date_shifted = 1``; the secret is never written.

The secret is a centre-held setting: the ``secret`` argument or the environment variable
``RRBALL_DEID_SECRET``; without one the export is refused with R-PRIV-005 (E) and nothing is
written.

``data_cutoff_date`` is one study-level date, but the shifts are per patient, so no single shifted
cut-off exists. Decision (rrball): with a cut-off the export is **frozen at the cut-off first**
(:func:`freeze_at_cutoff`): what happened after it is removed or clamped, exactly as §5.3 rule 2
ignores it, then the dates are shifted. The endpoints keep every AVAL and event; a row censored
by the cut-off (CNSR 6) becomes censored at last contact (CNSR 1), because the last contact now is
the cut-off. Patients whose first index line starts after the cut-off (no endpoint rows, §5.3
rule 2) are left out. ``data_cutoff_date`` and ``export_date`` are kept unshifted: every shift is
backwards, so nothing lies after them. Calendar-time analyses need a non-date variable.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from rrball.cohort.schema import FREE_TEXT_COLUMNS, TABLES
from rrball.cohort.validation import make_issue
from rrball.errors import CohortValidationError

__all__ = ["SECRET_ENV", "deidentify_tables", "freeze_at_cutoff", "patient_shift_days"]

SECRET_ENV = "RRBALL_DEID_SECRET"
#: replaces the text of free-text columns that a rule requires (R-LIN-001 regimen_detail for
#: regimens 10, 11, 20, 25; R-AE-001 ae_term_other), so the export stays a valid cohort
REMOVED_TEXT = "removed on de-identification"
_REQUIRED_TEXT = frozenset({"regimen_detail", "ae_term_other"})
_ID_PREFIX = {"line_id": "L", "assessment_id": "A", "hsct_id": "H", "event_id": "E",
              "ae_obs_id": "O", "ae_id": "V", "adm_id": "X"}


def _key(secret: str | bytes | None) -> bytes:
    value = secret if secret is not None else os.environ.get(SECRET_ENV)
    if value is None or value == "" or value == b"":
        raise CohortValidationError([make_issue(
            table="metadata", row=None, column=None, value=None, rule_id="R-PRIV-005",
            severity="E", problem="de-identified export requested without a shift secret "
            f"(pass secret= or set {SECRET_ENV})", source="export")])
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _hmac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def patient_shift_days(secret: str | bytes, study_code: str, patient_id: str) -> int:
    """The §6 shift of one patient: -(1 + HMAC-SHA256(secret, study:patient) mod 365) days."""
    digest = _hmac(_key(secret), f"{study_code}:{patient_id}")
    return -(1 + int(digest, 16) % 365)


def _rekey(key: bytes, column: str, values: Collection[str]) -> dict[str, str]:
    """Map each distinct ID to its pseudonym (longer if the short form would collide)."""
    distinct = sorted({v for v in values if v})
    prefix = "P" if column == "patient_id" else _ID_PREFIX.get(column, "K")
    width = 10 if column == "patient_id" else 12
    digests = {v: _hmac(key, v if column == "patient_id" else f"{column}:{v}")
               for v in distinct}
    while True:
        out = {v: prefix + d[:width] for v, d in digests.items()}
        if len(set(out.values())) == len(out) or width >= 64:
            return out
        width += 2


def _shift_full(text: pd.Series, shift: pd.Series) -> pd.Series:
    d = pd.to_datetime(text.where(text != ""), format="%Y-%m-%d", errors="coerce")
    moved = d + pd.to_timedelta(shift, unit="D")
    return moved.dt.strftime("%Y-%m-%d").where(moved.notna(), "")


def _shift_partial(text: pd.Series, shift: pd.Series, *, month_only: bool) -> pd.Series:
    """pdate (YYYY / YYYY-MM / YYYY-MM-DD): full dates shifted (kept at day precision unless
    ``month_only``); partial ones shifted by their midpoint and written as YYYY-MM."""
    t = text.fillna("").astype(str)
    full = t.str.len() == 10
    month = t.str.len() == 7
    year = t.str.len() == 4
    mid = pd.Series("", index=t.index, dtype=object)
    mid[full] = t[full]
    mid[month] = t[month] + "-15"
    mid[year] = t[year] + "-07-01"
    moved = _shift_full(mid, shift)
    out = moved.where(full & ~month_only, moved.str[:7])
    return out.where(t != "", "")


def _day(text: pd.Series) -> pd.Series:
    """Text dates (full or partial: midpoint, §2.1) as Timestamps; NaT when empty."""
    t = text.fillna("").astype(str)
    mid = t.where(t.str.len() != 7, t + "-15").where(t.str.len() != 4, t + "-07-01")
    return pd.to_datetime(mid.where(mid != ""), format="%Y-%m-%d", errors="coerce")


_ROW_DATE = {"treatment_lines": "line_start_date", "assessments": "assessment_date",
             "transplants": "hsct_date", "adverse_events": "onset_date",
             "administrations": "start_date"}
_BLANK_AFTER = {"treatment_lines": ("line_end_date", "reported_best_response_date"),
                "transplants": ("engraftment_date",),
                "adverse_events": ("resolution_date",),
                "administrations": ("end_date",)}


def freeze_at_cutoff(tables: Mapping[str, pd.DataFrame], cutoff: str,
                     ) -> dict[str, pd.DataFrame]:
    """The data as known at ``cutoff`` (ISO date; canonical text tables in and out).

    Rows dated after the cut-off are removed (lines, assessments, transplants, AE episodes and
    observations, administrations, relapse and death events); end dates after it are cleared
    (a line then counts as ongoing, an AE as ongoing); a last contact after it moves to the
    cut-off with vital status alive. Patients whose first index line starts after the cut-off
    are removed with all their rows (§5.3 rule 2: such lines have no endpoint rows)."""
    cut = pd.Timestamp(cutoff)
    out = {k: v.copy() for k, v in tables.items()}
    lines = out["treatment_lines"]
    idx = lines[lines["index_line"].astype(str).isin(["1", "yes"])]
    first = _day(idx["line_start_date"]).groupby(idx["patient_id"].astype(str)).min()
    late = set(first.index[first > cut])
    for name, df in out.items():
        if "patient_id" in df:
            out[name] = df[~df["patient_id"].astype(str).isin(late)]
    for name, col in _ROW_DATE.items():
        if name in out and col in out[name]:
            df = out[name]
            out[name] = df[~(_day(df[col]) > cut).to_numpy()]
    if "adverse_events" in out and "obs_date" in out["adverse_events"]:
        ae = out["adverse_events"]
        out["adverse_events"] = ae[~(_day(ae["obs_date"]) > cut).to_numpy()]
    for name, cols in _BLANK_AFTER.items():
        if name not in out:
            continue
        df = out[name].copy()
        for col in cols:
            if col in df:
                after = (_day(df[col]) > cut).to_numpy()
                df.loc[after, col] = ""
                if name == "treatment_lines" and col == "line_end_date" \
                        and "line_end_reason" in df:
                    df.loc[after, "line_end_reason"] = "ongoing"
                if name == "adverse_events" and "outcome" in df:
                    df.loc[after, "outcome"] = "ongoing"
        out[name] = df
    fu = out["follow_up"].copy()
    when = _day(fu["event_date"])
    kind = fu["event_type"].astype(str)
    last = kind.isin(["3", "last_contact"])
    fu = fu[~((when > cut) & ~last).to_numpy()]
    when, last = _day(fu["event_date"]), fu["event_type"].astype(str).isin(["3", "last_contact"])
    clamp = ((when > cut) & last).to_numpy()
    fu.loc[clamp, "event_date"] = cut.strftime("%Y-%m-%d")
    if "vital_status" in fu:
        fu.loc[clamp, "vital_status"] = "alive"
    if "status_at_last_contact" in fu:
        fu.loc[clamp, "status_at_last_contact"] = ""
    out["follow_up"] = fu
    if "adverse_events" in out and "outcome" in out["adverse_events"]:
        ae = out["adverse_events"].copy()
        dead = set(fu.loc[fu["event_type"].astype(str).isin(["2", "death"]), "patient_id"]
                   .astype(str))
        fatal = ae["outcome"].astype(str).isin(["4", "fatal"]).to_numpy() & \
            ~ae["patient_id"].astype(str).isin(dead).to_numpy()
        ae.loc[fatal, "outcome"] = "ongoing"  # the death is after the cut-off
        out["adverse_events"] = ae
    return {k: v.reset_index(drop=True) for k, v in out.items()}


def deidentify_tables(tables: Mapping[str, pd.DataFrame], pairs: Sequence[tuple[str, str]],
                      *, secret: str | bytes | None, ages: Mapping[str, float] | None = None,
                      keep_free_text: Collection[str] = (),
                      ) -> tuple[dict[str, pd.DataFrame], list[tuple[str, str]]]:
    """§6 de-identification of canonical text tables (see the module docstring).

    ``ages``: the highest ADSL ``AGE`` per patient (for the >= 90 top-coding). Raises
    ``CohortValidationError`` (R-PRIV-005) without a secret.
    """
    key = _key(secret)
    meta = dict(pairs)
    study = meta.get("study_code", "")
    if meta.get("data_cutoff_date"):
        tables = freeze_at_cutoff(tables, str(meta["data_cutoff_date"]))
    pids = tables["patients"]["patient_id"].astype(str)
    shift_of = {p: -(1 + int(_hmac(key, f"{study}:{p}"), 16) % 365) for p in pids}
    id_maps: dict[str, dict[str, str]] = {}
    for df in tables.values():
        for col in df.columns:
            if col == "patient_id" or col in _ID_PREFIX:
                id_maps.setdefault(col, {}).update({v: "" for v in df[col].astype(str)})
    maps = {col: _rekey(key, col, vals) for col, vals in id_maps.items()}
    old90 = {p for p, a in (ages or {}).items() if a == a and a >= 90}
    out: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        spec = TABLES[name]
        frame = df.copy()
        shift = frame["patient_id"].astype(str).map(shift_of).fillna(0).astype(np.int64)
        for col in list(frame.columns):
            kind = spec.columns[col].kind if col in spec.columns else "str"
            if col in FREE_TEXT_COLUMNS and col not in keep_free_text:
                if col in _REQUIRED_TEXT:  # conditionally required: blanked, not dropped
                    text = frame[col].fillna("").astype(str)
                    frame[col] = text.where(text.str.strip() == "", REMOVED_TEXT)
                else:
                    frame = frame.drop(columns=col)
            elif kind == "date":
                frame[col] = _shift_full(frame[col].astype(str), shift)
            elif kind == "pdate":
                frame[col] = _shift_partial(frame[col], shift, month_only=col == "birth_date")
        if name == "patients" and old90 and "birth_date" in frame:
            top = frame["patient_id"].astype(str).isin(old90).to_numpy()
            if top.any():
                frame = _top_code(frame, df, top)
        for col, mapping in maps.items():
            if col in frame:
                frame[col] = frame[col].astype(str).map(lambda v, m=mapping: m.get(v, v))
        out[name] = frame
    new_pairs = [(k, v) for k, v in pairs if k not in ("deidentified", "date_shifted")]
    new_pairs += [("deidentified", "1"), ("date_shifted", "1")]
    return out, new_pairs


def _top_code(frame: pd.DataFrame, original: pd.DataFrame, top: np.ndarray) -> pd.DataFrame:
    """Age >= 90 (§6 rule 2): birth date dropped, age at diagnosis top-coded to 90."""
    frame = frame.copy()
    birth = pd.to_datetime(_shift_partial(original["birth_date"], pd.Series(
        0, index=original.index), month_only=False), errors="coerce")
    dx = pd.to_datetime(_shift_partial(original["diagnosis_date"], pd.Series(
        0, index=original.index), month_only=False), errors="coerce")
    age_dx = np.minimum(np.floor((dx - birth).dt.days.to_numpy(dtype=float) / 365.25), 90.0)
    if "age_at_diagnosis_years" not in frame:
        frame["age_at_diagnosis_years"] = ""
    frame.loc[top, "age_at_diagnosis_years"] = [
        "" if a != a else str(int(a)) for a in age_dx[top]]
    frame.loc[top, "birth_date"] = ""
    return frame
