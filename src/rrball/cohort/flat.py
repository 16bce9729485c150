"""The flat single-sheet layout (data-dictionary.md §4): one row per patient × treatment line.

Pure: ``split_flat`` turns the flat sheet (a ``RawTable``) plus optional long sheets into the long
raw tables of §1, with errors pointing back to the flat sheet's row and column (R-FLAT-001…007);
``flat_tables`` is the reverse mapping used by ``Cohort.to_flat()``. Groups implemented: patient,
line, baseline (``bl_``), response assessments (``a1_`` … ``a9_``), HSCT after the line, prior
HSCT, relapse after the line, death and last contact. The toxicity prefixes (``crs_``, ``icans_``,
``vod_``, …) are not mapped yet: adverse events travel in a long ``adverse_events`` sheet (and a
flat column with such a prefix is reported as R-GEN-001, ignored).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rrball.cohort.schema import DIRECT_IDENTIFIERS, TABLE_ORDER, TABLES, normalise_name
from rrball.cohort.validation import REDACTED, RawTable, make_issue
from rrball.errors import CohortIssue

__all__ = ["FLAT_SHEET", "flat_tables", "is_flat_header", "split_flat"]

FLAT_SHEET = "flat"
_BL = ("bm_blast_pct", "pb_blasts", "pb_blast_abs", "wbc", "anc", "plt", "emd", "emd_sites",
       "cns_status", "mrd_detected", "mrd_value", "mrd_unit", "mrd_method", "mrd_lod",
       "mrd_sample")
_AK = (*_BL, "plt_transfusion_independent", "bm_sample_adequate", "reported_response")
_HSCT = ("hsct_date", "hsct_type", "donor_type", "stem_cell_source", "conditioning_intensity",
         "conditioning_regimen", "tbi", "ptcy", "engraftment_date", "agvhd_max_grade", "cgvhd",
         "reported_status_at_hsct")
_REL = {"relapse_date": "event_date", "relapse_sites": "relapse_sites",
        "relapse_confirmation": "relapse_confirmation"}
_DTH = {"death_date": "event_date", "death_cause": "death_cause"}
_LC = {"last_contact_date": "event_date", "vital_status": "vital_status",
       "status_at_last_contact": "status_at_last_contact"}
_GROUP = re.compile(r"^a(\d+)_(.+)$")
_PAT = tuple(TABLES["patients"].columns)
_LINE = tuple(TABLES["treatment_lines"].columns)


def is_flat_header(header: list[str]) -> bool:
    """A sheet holding both ``patient_id`` and ``line_start_date`` is a flat sheet (§4)."""
    names = {normalise_name(h) for h in header}
    return "patient_id" in names and "line_start_date" in names


@dataclass
class _Out:
    """Rows of one long table built from the flat sheet: records, source rows, source names."""

    records: list[dict[str, str]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    names: list[dict[str, str]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, rec: dict[str, str], row: int, names: dict[str, str], label: str) -> None:
        self.records.append(rec)
        self.rows.append(row)
        self.names.append(names)
        self.labels.append(label)


def split_flat(rt: RawTable, long: Mapping[str, RawTable],
               ) -> tuple[dict[str, RawTable], list[CohortIssue]]:
    """Split the flat sheet into long raw tables and merge the long sheets (§4)."""
    issues: list[CohortIssue] = []
    label, source = rt.label, rt.source

    def issue(row: int | None, column: str | None, value: str | None, rule: str, problem: str,
              sev: str = "E") -> None:
        issues.append(make_issue(table=label, row=row, column=column, value=value, rule_id=rule,
                                 severity=sev, problem=problem, source=source))

    col_of: dict[str, int] = {}
    shown: dict[str, str] = {}
    for j, h in enumerate(rt.header):
        norm = normalise_name(h)
        if norm and norm not in col_of:
            col_of[norm] = j
            shown[norm] = str(h)
    groups: set[int] = set()
    known = set(_PAT) | set(_LINE) | set(_HSCT) | set(_REL) | set(_DTH) | set(_LC) | {
        "bl_date", "prior_hsct_date"} | {f"bl_{c}" for c in _BL}
    for norm in list(col_of):
        if norm in DIRECT_IDENTIFIERS:  # §6: refused, never parsed, value never shown
            issue(None, shown[norm], REDACTED, "R-PRIV-001", "direct identifiers are not accepted")
            del col_of[norm]
            continue
        m = _GROUP.match(norm)
        if m and (m.group(2) == "date" or m.group(2) in _AK):
            k = int(m.group(1))
            if 1 <= k <= 9:
                groups.add(k)
            else:
                issue(None, shown[norm], None, "R-FLAT-006",
                      "numbered group beyond a9_ (use a long assessments sheet)")
        elif norm not in known:
            issue(None, shown[norm], None, "R-GEN-001", "column not in the flat layout (ignored)",
                  "W")

    def cell(i: int, name: str) -> str:
        j = col_of.get(name)
        if j is None:
            return ""
        v = rt.cells[j][i]
        return "" if v is None else str(v).strip()

    out = {t: _Out() for t in TABLE_ORDER}
    n = rt.n
    pids = [cell(i, "patient_id") for i in range(n)]
    starts = [cell(i, "line_start_date") for i in range(n)]
    # line ids: given, or {patient_id}-L{k} by rank of line_start_date within the patient
    by_pat: dict[str, list[int]] = {}
    for i, p in enumerate(pids):
        by_pat.setdefault(p, []).append(i)
    line_ids = [cell(i, "line_id") for i in range(n)]
    for p, idx in by_pat.items():
        ranked = sorted(idx, key=lambda i: (starts[i], i))
        seen: dict[str, int] = {}
        for k, i in enumerate(ranked, start=1):
            if starts[i] and starts[i] in seen and p:
                issue(int(rt.rows[i]), shown.get("line_start_date"), starts[i], "R-FLAT-005",
                      f"same line_start_date as row {int(rt.rows[seen[starts[i]]])} "
                      "(duplicate line)")
            seen.setdefault(starts[i], i)
            if not line_ids[i]:
                line_ids[i] = f"{p}-L{k}"
    # patients (R-FLAT-001) and patient-level events (R-FLAT-002)
    for p, idx in by_pat.items():
        rec: dict[str, str] = {}
        where: dict[str, int] = {}
        for c in _PAT:
            if c not in col_of:
                continue
            for i in idx:
                v = cell(i, c)
                if not v:
                    continue
                if c in rec and rec[c] != v:
                    issue(int(rt.rows[i]), shown[c], v, "R-FLAT-001",
                          f"differs from row {int(rt.rows[where[c]])} of the same patient")
                elif c not in rec:
                    rec[c], where[c] = v, i
        rec["patient_id"] = p
        out["patients"].add(rec, int(rt.rows[idx[0]]), {c: shown.get(c, c) for c in rec}, label)
        for mapping, etype, suffix in ((_DTH, "death", "DTH"), (_LC, "last_contact", "LC")):
            ev: dict[str, str] = {}
            ev_where: dict[str, int] = {}
            for fc, lc in mapping.items():
                for i in idx:
                    v = cell(i, fc)
                    if not v:
                        continue
                    if lc in ev and ev[lc] != v:
                        issue(int(rt.rows[i]), shown[fc], v, "R-FLAT-002",
                              f"differs from row {int(rt.rows[ev_where[lc]])} of the same "
                              "patient")
                    elif lc not in ev:
                        ev[lc], ev_where[lc] = v, i
            if etype == "death" and "event_date" not in ev:
                if ev:
                    first = min(ev_where.values())
                    issue(int(rt.rows[first]), shown.get("death_date", "death_date"), None,
                          "R-FLAT-003", "death group has values but no death_date")
                continue
            ev.update({"event_id": f"{p}-{suffix}", "patient_id": p, "event_type": etype})
            names = {lc: shown.get(fc, fc) for fc, lc in mapping.items()}
            first = min(ev_where.values()) if ev_where else idx[0]
            out["follow_up"].add(ev, int(rt.rows[first]), names, label)
    prior_seen: dict[tuple[str, str], str] = {}
    for i in range(n):
        row = int(rt.rows[i])
        p, lid = pids[i], line_ids[i]
        rec = {c: cell(i, c) for c in _LINE if c in col_of}
        rec.update({"line_id": lid, "patient_id": p})
        out["treatment_lines"].add(rec, row, {c: shown.get(c, c) for c in rec}, label)
        # baseline assessment (R-FLAT-004)
        vals = {c: cell(i, f"bl_{c}") for c in _BL if f"bl_{c}" in col_of}
        vals = {c: v for c, v in vals.items() if v}
        bl_date = cell(i, "bl_date")
        if vals or bl_date:
            if not bl_date:
                issue(row, shown.get("bl_date", "bl_date"), None, "R-FLAT-004",
                      "bl_date empty: baseline assessment dated line_start_date", "W")
            a = {"assessment_id": f"{lid}-BL", "patient_id": p, "line_id": lid,
                 "assessment_date": bl_date or starts[i], "assessment_reason": "baseline", **vals}
            names = {c: shown.get(f"bl_{c}", f"bl_{c}") for c in vals}
            names["assessment_date"] = shown.get("bl_date", shown.get("line_start_date", ""))
            out["assessments"].add(a, row, names, label)
        for k in sorted(groups):
            vals = {c: cell(i, f"a{k}_{c}") for c in _AK}
            vals = {c: v for c, v in vals.items() if v}
            d = cell(i, f"a{k}_date")
            if vals and not d:
                issue(row, shown.get(f"a{k}_date", f"a{k}_date"), None, "R-FLAT-003",
                      f"group a{k}_ has values but no a{k}_date")
                continue
            if not d:
                continue
            a = {"assessment_id": f"{lid}-A{k}", "patient_id": p, "line_id": lid,
                 "assessment_date": d, "assessment_reason": "response", **vals}
            names = {c: shown.get(f"a{k}_{c}", f"a{k}_{c}") for c in vals}
            names["assessment_date"] = shown.get(f"a{k}_date", f"a{k}_date")
            out["assessments"].add(a, row, names, label)
        vals = {c: cell(i, c) for c in _HSCT}
        vals = {c: v for c, v in vals.items() if v}
        if vals:
            if "hsct_date" not in vals:
                issue(row, shown.get("hsct_date", "hsct_date"), None, "R-FLAT-003",
                      "HSCT group has values but no hsct_date")
            else:
                hs = {"hsct_id": f"{lid}-H", "patient_id": p, "line_id": lid, **vals}
                out["transplants"].add(hs, row, {c: shown.get(c, c) for c in vals}, label)
        ph = cell(i, "prior_hsct_date")
        if ph and (p, ph) not in prior_seen:
            prior_seen[(p, ph)] = lid
            out["transplants"].add({"hsct_id": f"{lid}-PH", "patient_id": p, "hsct_date": ph,
                                    "hsct_type": "allogeneic"}, row,
                                   {"hsct_date": shown.get("prior_hsct_date", "")}, label)
        vals = {lc: cell(i, fc) for fc, lc in _REL.items()}
        vals = {c: v for c, v in vals.items() if v}
        if vals:
            if "event_date" not in vals:
                issue(row, shown.get("relapse_date", "relapse_date"), None, "R-FLAT-003",
                      "relapse group has values but no relapse_date")
            else:
                ev = {"event_id": f"{lid}-REL", "patient_id": p, "line_id": lid,
                      "event_type": "relapse", **vals}
                out["follow_up"].add(ev, row, {lc: shown.get(fc, fc) for fc, lc in _REL.items()},
                                     label)
    # long sheets: appended; a generated key given again must agree (R-FLAT-007)
    for name, lt in long.items():
        if name not in out:
            continue
        key = TABLES[name].key
        have = {r.get(key, ""): k for k, r in enumerate(out[name].records)}
        heads = [normalise_name(h) for h in lt.header]
        for i in range(lt.n):
            rec = {h: ("" if lt.cells[j][i] is None else str(lt.cells[j][i]).strip())
                   for j, h in enumerate(heads) if h}
            rec = {c: v for c, v in rec.items() if v}
            k0 = rec.get(key, "")
            if k0 and k0 in have:
                old = {c: v for c, v in out[name].records[have[k0]].items() if v}
                if old != rec:
                    issues.append(make_issue(
                        table=lt.label, row=int(lt.rows[i]), column=key, value=k0,
                        rule_id="R-FLAT-007", severity="E", source=lt.source,
                        problem=f"{label} row {out[name].rows[have[k0]]} gives this key with "
                        "other values"))
                continue
            out[name].add(rec, int(lt.rows[i]), {c: f"{lt.label}!{c}" for c in rec}, lt.label)
    tables: dict[str, RawTable] = {}
    for name, o in out.items():
        if not o.records:
            continue
        header = list(dict.fromkeys(c for r in o.records for c in r))
        cells = []
        for c in header:
            arr = np.empty(len(o.records), dtype=object)
            arr[:] = [r.get(c) or None for r in o.records]
            cells.append(arr)
        tables[name] = RawTable(name, label, source, header, cells,
                                np.asarray(o.rows, dtype=np.int64),
                                source_column=_namer(o.names, o.labels, label))
    return tables, issues


def _namer(names: list[dict[str, str]], labels: list[str], label: str,
           ) -> Callable[[int, str], str]:
    def name(i: int, col: str) -> str:
        text = names[i].get(col, col)
        return text if labels[i] == label else f"{labels[i]}!{col}"
    return name


# ---- reverse mapping: Cohort.to_flat() ---------------------------------------------------------
def _only(rec: pd.Series, allowed: set[str]) -> bool:
    return all(v == "" for c, v in rec.items() if c not in allowed)


def flat_tables(tables: Mapping[str, pd.DataFrame],
                ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Canonical text tables -> (flat sheet, long sheets for what does not fit) (§4 reverse).

    A row goes into a flat group only when its key is the one the reader generates
    (``{line_id}-BL``, ``-A{k}``, ``-H``, ``-PH``, ``-REL``, ``{patient_id}-DTH``, ``-LC``) and all
    its values fit the group's columns, so flat -> long -> flat and long -> flat -> long are
    lossless.
    """
    pats = tables["patients"].set_index("patient_id", drop=False)
    lines = tables["treatment_lines"]
    asm = tables.get("assessments", pd.DataFrame(columns=["assessment_id"]))
    hx = tables.get("transplants", pd.DataFrame(columns=["hsct_id"]))
    fu = tables["follow_up"]
    used: dict[str, set[str]] = {"assessments": set(), "transplants": set(), "follow_up": set()}
    asm_by = {r["assessment_id"]: r for _, r in asm.iterrows()}
    hx_by = {r["hsct_id"]: r for _, r in hx.iterrows()}
    fu_by = {r["event_id"]: r for _, r in fu.iterrows()}
    order = {p: k for k, p in enumerate(pats.index)}
    lines = lines.assign(_o=lines["patient_id"].map(order)).sort_values(
        ["_o", "line_start_date"], kind="stable").drop(columns="_o")
    rows: list[dict[str, str]] = []
    for _, ln in lines.iterrows():
        lid, pid = ln["line_id"], ln["patient_id"]
        row: dict[str, str] = {str(c): v for c, v in pats.loc[pid].items() if v != ""}
        row.update({str(c): v for c, v in ln.items() if v != ""})
        base = {"assessment_id", "patient_id", "line_id", "assessment_date",
                "assessment_reason"}
        bl = asm_by.get(f"{lid}-BL")
        if bl is not None and bl.get("line_id") == lid and bl["patient_id"] == pid and \
                bl["assessment_reason"] == "baseline" and _only(bl, base | set(_BL)):
            row["bl_date"] = bl["assessment_date"]
            row.update({f"bl_{c}": bl[c] for c in _BL if c in bl and bl[c] != ""})
            used["assessments"].add(bl["assessment_id"])
        for k in range(1, 10):
            a = asm_by.get(f"{lid}-A{k}")
            if a is not None and a.get("line_id") == lid and a["patient_id"] == pid and \
                    a["assessment_reason"] == "response" and _only(a, base | set(_AK)):
                row[f"a{k}_date"] = a["assessment_date"]
                row.update({f"a{k}_{c}": a[c] for c in _AK if c in a and a[c] != ""})
                used["assessments"].add(a["assessment_id"])
        h = hx_by.get(f"{lid}-H")
        if h is not None and h.get("line_id") == lid and h["patient_id"] == pid and \
                _only(h, {"hsct_id", "patient_id", "line_id", *_HSCT}):
            row.update({c: h[c] for c in _HSCT if c in h and h[c] != ""})
            used["transplants"].add(h["hsct_id"])
        ph = hx_by.get(f"{lid}-PH")
        if ph is not None and ph["patient_id"] == pid and ph.get("line_id", "") == "" and \
                ph["hsct_type"] == "allogeneic" and \
                _only(ph, {"hsct_id", "patient_id", "line_id", "hsct_date", "hsct_type"}):
            row["prior_hsct_date"] = ph["hsct_date"]
            used["transplants"].add(ph["hsct_id"])
        rel = fu_by.get(f"{lid}-REL")
        if rel is not None and rel.get("line_id") == lid and rel["patient_id"] == pid and \
                rel["event_type"] == "relapse" and _only(rel, {
                    "event_id", "patient_id", "line_id", "event_type", *_REL.values()}):
            row.update({fc: rel[lc] for fc, lc in _REL.items() if rel.get(lc, "") != ""})
            used["follow_up"].add(rel["event_id"])
        for mapping, etype, suffix in ((_DTH, "death", "DTH"), (_LC, "last_contact", "LC")):
            ev = fu_by.get(f"{pid}-{suffix}")
            if ev is not None and ev["event_type"] == etype and ev.get("line_id", "") == "" \
                    and _only(ev, {"event_id", "patient_id", "event_type", *mapping.values()}):
                row.update({fc: ev[lc] for fc, lc in mapping.items() if ev.get(lc, "") != ""})
                used["follow_up"].add(ev["event_id"])
        rows.append(row)
    flat = pd.DataFrame(rows).fillna("")
    leftovers: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        if name in ("patients", "treatment_lines"):
            continue
        key = TABLES[name].key
        rest = df[~df[key].isin(used.get(name, set()))]
        if len(rest):
            leftovers[name] = rest
    return flat, leftovers
