"""Vectorised cell parsing: one column of raw text -> typed values + bad-cell masks.

data-dictionary.md §0 (types, missing tokens), §2.1 (dates), §2.2 (codes), §2.4 (generic rules
R-GEN-003…012, R-UNIT-001…005). Pure: arrays in, arrays out, no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from rrball.cohort.schema import CODE_LISTS, Column

__all__ = ["Bad", "ParseSettings", "parse_column", "parse_column_by_value", "parse_date_text",
           "pdate_interval"]

ObjArr = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True)
class ParseSettings:
    """Settings from metadata that change how cells read (§2.3)."""

    date_format: str = "iso"
    decimal_comma: bool = False
    na_tokens: frozenset[str] = frozenset({"NA", "N/A", "."})
    partial_event_dates: str = "refuse"
    export_date: dt.date = field(default_factory=dt.date.today)


@dataclass(slots=True)
class Bad:
    """Positions of bad cells for one rule, with the problem text (one per position or shared)."""

    rule_id: str
    positions: npt.NDArray[np.intp]
    problem: str | list[str]
    severity: str = "E"


_COMPARATOR = re.compile(
    r"^\s*[<>≤≥~]=?\s*[-+]?\d|\d\s*%|\d\s*[x*×]\s*10|^\s*[-+]?[\d.,]*\d\s*[a-zA-Zµ/]+[\w/^]*\s*$"
)
_BOOL = {"1": 1, "0": 0, "yes": 1, "no": 0, "true": 1, "false": 0, "y": 1, "n": 0,
         "1.0": 1, "0.0": 0}
_ISO_FULL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_ISO_PART = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_MY = re.compile(r"^(\d{1,2})[./](\d{4})$")
_TIME = re.compile(r"^(\S+?)(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$")


def _all_str(raw: ObjArr) -> bool:
    """Every cell is a ``str`` (CSV cells; no None/NaN, numbers or dates)."""
    return len(raw) > 0 and pd.api.types.infer_dtype(raw, skipna=False) == "string"


# an identifier (``schema.ID_PATTERN``) and identifiers joined by NUL characters
_ID_TEXT = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"
_IDS_JOINED = re.compile(rf"{_ID_TEXT}(?:\x00{_ID_TEXT})*")


def _all_ids(cells: ObjArr) -> bool:
    """Every cell is a ``str`` matching ``ID_PATTERN`` in full (so it is not empty and has no
    whitespace): one regular-expression pass over the NUL-joined cells. False when unsure."""
    if not len(cells) or not _all_str(cells):
        return False
    joined = "\x00".join(cells)
    # a NUL inside a cell would look like a separator
    return joined.count("\x00") == len(cells) - 1 and _IDS_JOINED.fullmatch(joined) is not None


def missing_mask(raw: ObjArr, na_tokens: frozenset[str]) -> npt.NDArray[np.bool_]:
    """Empty cells and ``na_tokens`` are missing (§0); sentinels such as 99 are not."""
    if len(raw) > 4096 and _all_ids(raw):
        # identifier-like cells (ids, numbers, ISO dates): ``v.strip()`` is ``v`` and not "",
        # so a cell is missing exactly when it is an na token
        return np.asarray(pd.Series(raw, dtype=object).isin(sorted(na_tokens)).to_numpy(),
                          dtype=bool)
    if len(raw) > 4096 and _all_str(raw):
        # same rule on str cells (none is NA): ``v.strip()`` is "" or an na token; one pass
        # over the cells is cheaper than finding the distinct values of an id-like column
        missing = {"", *na_tokens}
        return np.fromiter((v.strip() in missing for v in raw), dtype=bool, count=len(raw))
    s = pd.Series(raw, dtype=object)
    isna = np.asarray(s.isna().to_numpy(), dtype=bool)
    if isna.all():
        return isna
    # test each distinct value once (columns hold few distinct values), then map back
    missing_values = [v for v in pd.unique(s[~isna])
                      if (t := str(v).strip()) == "" or t in na_tokens]
    if not missing_values:
        return isna
    return np.asarray(isna | s.isin(missing_values).to_numpy(), dtype=bool)


def _numeric(raw: ObjArr, decimal_comma: bool) -> npt.NDArray[np.float64]:
    s = pd.Series(raw, dtype=object)
    if decimal_comma:
        s = s.astype(str).str.replace(",", ".", regex=False)
    return np.array(pd.to_numeric(s, errors="coerce"), dtype=np.float64, copy=True)


def _num_problem(text: str) -> tuple[str, str]:
    if _COMPARATOR.search(text):
        return "R-GEN-012", "a number with a comparator, unit or percent sign"
    return "R-GEN-004", "not a number"


def parse_date_text(text: str, date_format: str) -> tuple[dt.date | None, str]:
    """One date cell -> (date, status); status is ``ok``, ``partial`` or ``bad`` (§2.1)."""
    t = text.strip()
    m = _TIME.match(t)
    if m and (":" in t):
        t = m.group(1)
    if date_format == "iso" or _ISO_FULL.match(t):
        m = _ISO_FULL.match(t)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3])), "ok"
            except ValueError:
                return None, "bad"
        if _ISO_PART.match(t):
            return None, "partial"
        if date_format == "iso":
            return None, "bad"
    m = _DMY.match(t)
    if m:
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        d, mo = (a, b) if date_format == "dmy" else (b, a)
        try:
            return dt.date(y, mo, d), "ok"
        except ValueError:
            return None, "bad"
    if _MY.match(t) or _ISO_PART.match(t):
        return None, "partial"
    return None, "bad"


def pdate_interval(text: str, date_format: str) -> tuple[dt.date, dt.date, str] | None:
    """A partial date -> (first day, last day, precision ``Y``/``M``/``D``) or None (§2.1)."""
    full, _status = parse_date_text(text, date_format)
    if full is not None:
        return full, full, "D"
    t = text.strip()
    m = _ISO_PART.match(t)
    year = month = None
    if m:
        year, month = int(m[1]), (int(m[2]) if m[2] else None)
    elif date_format == "dmy" and (m2 := _MY.match(t)):
        year, month = int(m2[2]), int(m2[1])
    if year is None or year < 1000:
        return None
    if month is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31), "Y"
    if not 1 <= month <= 12:
        return None
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
    return dt.date(year, month, 1), last, "M"


def _dates(raw: ObjArr, miss: npt.NDArray[np.bool_], st: ParseSettings,
           ) -> tuple[npt.NDArray[np.datetime64], list[int], list[int]]:
    s = pd.Series(raw, dtype=object)
    if st.date_format == "iso":
        out = pd.to_datetime(s.where(~miss, None), format="%Y-%m-%d", errors="coerce")
        values = out.to_numpy(dtype="datetime64[ns]")
        todo = np.flatnonzero(~miss & np.isnat(values))
    else:
        values = np.full(len(raw), np.datetime64("NaT"), dtype="datetime64[ns]")
        todo = np.flatnonzero(~miss)
    bad: list[int] = []
    partial: list[int] = []
    for i in todo:
        d, status = parse_date_text(str(raw[i]), st.date_format)
        if d is not None:
            values[i] = np.datetime64(d, "ns")
        elif status == "partial":
            partial.append(int(i))
        else:
            bad.append(int(i))
    return values, bad, partial


def parse_column(col: Column, raw: ObjArr, st: ParseSettings,
                 miss: npt.NDArray[np.bool_] | None = None,
                 ) -> tuple[pd.Series, npt.NDArray[np.bool_], list[Bad], dict[str, pd.Series]]:
    """Parse one column: (typed values, missing mask, bad cells by rule, extra columns).

    Extra columns are ``{name}__lo`` / ``{name}__hi`` / ``{name}__prec`` for partial dates and
    ``{name}__imp`` for imputed event dates. Bad cells are set to missing in the values.
    ``miss`` is the cells' ``missing_mask`` when the caller already has it.
    """
    n = len(raw)
    if miss is None:
        miss = missing_mask(raw, st.na_tokens)
    bads: list[Bad] = []
    extra: dict[str, pd.Series] = {}
    kind = col.kind

    def bad(rule: str, pos: list[int] | npt.NDArray[np.intp], problem: str | list[str],
            sev: str = "E") -> None:
        if len(pos):
            bads.append(Bad(rule, np.asarray(pos, dtype=np.intp), problem, sev))

    if kind in ("int", "float"):
        num = _numeric(raw, st.decimal_comma)
        nan = np.isnan(num) & ~miss
        if kind == "int":
            frac = ~np.isnan(num) & (np.mod(num, 1.0) != 0)
            nan |= frac
        idx = np.flatnonzero(nan)
        by_rule: dict[str, list[int]] = {}
        for i in idx:
            rule, _ = _num_problem(str(raw[i]))
            by_rule.setdefault(rule, []).append(int(i))
        for rule, pos in by_rule.items():
            bad(rule, pos, _num_problem(str(raw[pos[0]]))[1]
                if rule == "R-GEN-012" else
                ("not a whole number" if kind == "int" else "not a number"))
        num[nan] = np.nan
        num[miss] = np.nan
        values = pd.Series(num, dtype="float64")
        return values, miss | nan, bads, extra
    if kind in ("bool", "tri", "enum"):
        lst = "yn" if kind == "bool" else (col.codes or "tri")
        codes = CODE_LISTS[lst]
        mapping: dict[str, object] = {}
        for rawv, code in codes.items():
            mapping[rawv] = code
            mapping[code] = code
            mapping[f"{rawv}.0"] = code
        if kind == "bool":
            mapping = {k: codes[str(v)] for k, v in _BOOL.items()}
        if kind == "tri":
            mapping.update({"y": "yes", "n": "no", "true": "yes", "false": "no"})
        s = pd.Series(raw, dtype=object).where(~miss, None)
        out = _map_distinct(s, mapping)
        left = out.isna().to_numpy() & ~miss
        if left.any():
            low = s[left].astype(str).str.strip().str.lower().map(mapping)
            out[left] = low
            left = out.isna().to_numpy() & ~miss
        rule = "R-GEN-004" if kind == "bool" else "R-GEN-005"
        bad(rule, np.flatnonzero(left),
            "not 1/0 (yes/no)" if kind == "bool" else f"not a code of list {lst}")
        return out.astype(object), miss | left, bads, extra
    if kind == "set":
        codes = CODE_LISTS[col.codes or col.name]
        vals: list[object] = [None] * n
        bad_pos: list[int] = []
        for i in np.flatnonzero(~miss):
            parts = [p.strip() for p in str(raw[i]).split(";") if p.strip()]
            got = [c for p in parts if (c := _code(codes, p)) is not None]
            if len(got) != len(parts) or len(set(got)) != len(got) or not got:
                bad_pos.append(int(i))
            else:
                vals[i] = ";".join(got)
        bad("R-GEN-011", bad_pos, f"unknown or repeated code of list {col.codes}")
        badm = np.zeros(n, dtype=bool)
        badm[bad_pos] = True
        return pd.Series(vals, dtype=object), miss | badm, bads, extra
    if kind == "date":
        dvalues, badp, partial = _dates(raw, miss, st)
        bad("R-GEN-006", badp, f"not a date under date_format = {st.date_format}")
        imputed = np.zeros(n, dtype=bool)
        if st.partial_event_dates == "impute":
            for pi in partial:
                iv = pdate_interval(str(raw[pi]), st.date_format)
                if iv is None:
                    badp.append(pi)
                    continue
                dvalues[pi] = np.datetime64(_midpoint(iv), "ns")
                imputed[pi] = True
            bad("R-DATE-015", np.flatnonzero(imputed), "partial date imputed (midpoint)", "W")
        else:
            bad("R-GEN-007", partial, "partial date in a full-date column")
        badm = np.zeros(n, dtype=bool)
        badm[badp] = True
        badm[partial] = ~imputed[partial] if partial else False
        future = ~np.isnat(dvalues) & (dvalues > np.datetime64(st.export_date, "ns"))
        bad("R-GEN-008", np.flatnonzero(future), f"after the export date {st.export_date}")
        dvalues[badm | future] = np.datetime64("NaT")
        extra[f"{col.name}__imp"] = pd.Series(imputed)
        return pd.Series(dvalues), miss | badm | future, bads, extra
    if kind == "pdate":
        # parse each distinct text once, then index the results by the cells' codes
        pcodes, uniq = pd.factorize(pd.Series(raw, dtype=object).where(~miss, None))
        m = len(uniq)
        u_lo = np.full(m + 1, np.datetime64("NaT"), dtype="datetime64[ns]")
        u_hi = u_lo.copy()
        u_prec = np.full(m + 1, None, dtype=object)
        u_text = np.full(m + 1, None, dtype=object)
        u_bad = np.zeros(m + 1, dtype=bool)
        u_future = np.zeros(m + 1, dtype=bool)
        for k, v in enumerate(uniq):
            iv = pdate_interval(str(v), st.date_format)
            if iv is None:
                u_bad[k] = True
            elif iv[0] > st.export_date:
                u_future[k] = True
            else:
                u_lo[k], u_hi[k] = np.datetime64(iv[0], "ns"), np.datetime64(iv[1], "ns")
                u_prec[k], u_text[k] = iv[2], _pdate_text(iv)
        bad("R-GEN-006", np.flatnonzero(u_bad[pcodes]),
            "not a date or partial date (YYYY, YYYY-MM, YYYY-MM-DD)")
        bad("R-GEN-008", np.flatnonzero(u_future[pcodes]),
            f"after the export date {st.export_date}")
        badm = u_bad[pcodes] | u_future[pcodes]
        extra[f"{col.name}__lo"] = pd.Series(u_lo[pcodes])
        extra[f"{col.name}__hi"] = pd.Series(u_hi[pcodes])
        extra[f"{col.name}__prec"] = pd.Series(u_prec[pcodes], dtype=object)
        return pd.Series(u_text[pcodes], dtype=object), miss | badm, bads, extra
    # str
    ids_ok = bool(col.pattern) and col.name != "kmt2a_partner" and n > 4096 \
        and _all_ids(raw[~miss])
    if ids_ok:
        # every present cell already matches ID_PATTERN (R-KEY pattern rule: no bad cell) and
        # has no whitespace to strip
        kept = np.full(n, None, dtype=object)
        kept[~miss] = raw[~miss]
        s = pd.Series(kept, dtype=object)
    else:
        s = _stripped(raw, miss)
    badm = np.zeros(n, dtype=bool)
    if col.pattern and not ids_ok:
        from rrball.cohort.schema import ID_PATTERN

        if col.name == "kmt2a_partner":
            ok = s.str.fullmatch(r"[A-Z0-9]{2,10}")
        else:
            ok = s.str.match(ID_PATTERN)
        pbad = (~ok.fillna(True).astype(bool)).to_numpy() & ~miss
        bad(col.pattern, np.flatnonzero(pbad),
            "not a valid code (letters, digits, _ . -; at most 32 characters)"
            if col.name != "kmt2a_partner" else "not a gene symbol (A-Z, 0-9, 2-10 characters)")
        badm |= pbad
    if col.max_len:
        long = (s.str.len().fillna(0).to_numpy() > col.max_len) & ~miss
        bad("R-GEN-004", np.flatnonzero(long), f"text longer than {col.max_len} characters")
        badm |= long
    return s, miss, bads, extra


def parse_column_by_value(col: Column, raw: ObjArr, st: ParseSettings,
                          ) -> tuple[npt.NDArray[np.bool_], pd.Series, npt.NDArray[np.bool_],
                                     list[Bad], dict[str, pd.Series]]:
    """``missing_mask`` then ``parse_column`` of one column: (raw missing mask, values, missing
    mask, bad cells by rule, extra columns), the same results as calling the two directly.

    Fast path: every result of ``missing_mask`` and ``parse_column`` for a cell depends on that
    cell's text only, so a column of text cells (all ``str``, as a CSV gives) with few distinct
    values is parsed once per distinct text and the results are indexed back by the cells'
    codes; bad-cell positions stay ascending. Other columns (mixed Python objects from
    workbooks, where ``1 == 1.0 == True`` would merge distinct texts; ids) take the direct path.
    """
    n = len(raw)
    codes: npt.NDArray[np.intp] | None = None
    sample = raw[::max(1, n // 2048)]  # skip the factorisation for id-like columns
    if n >= 64 and len(pd.unique(sample)) * 2 <= len(sample) \
            and pd.api.types.infer_dtype(raw, skipna=False) == "string":
        codes_, uniq = pd.factorize(raw)
        if len(uniq) * 2 <= n:
            codes = np.asarray(codes_, dtype=np.intp)
    if codes is None:
        raw_missing = missing_mask(raw, st.na_tokens)
        values, miss, bads, extra = parse_column(col, raw, st, raw_missing)
        return raw_missing, values, miss, bads, extra
    u = np.asarray(uniq, dtype=object)
    u_raw_missing = missing_mask(u, st.na_tokens)
    u_values, u_miss, u_bads, u_extra = parse_column(col, u, st, u_raw_missing)

    def expand(s: pd.Series) -> pd.Series:
        return s.take(codes).reset_index(drop=True)

    bads = []
    for b in u_bads:
        hit = np.zeros(len(u), dtype=bool)
        hit[b.positions] = True
        bads.append(Bad(b.rule_id, np.flatnonzero(hit[codes]).astype(np.intp), b.problem,
                        b.severity))
    return (u_raw_missing[codes], expand(u_values), u_miss[codes], bads,
            {k: expand(v) for k, v in u_extra.items()})


def _map_distinct(s: pd.Series, mapping: Mapping[str, object]) -> pd.Series:
    """``s.map(mapping)`` computed once per distinct value (missing -> NaN as ``map``)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = np.array([mapping.get(u, np.nan) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(mapped[codes], index=s.index, dtype=object)


def _stripped(raw: ObjArr, miss: npt.NDArray[np.bool_]) -> pd.Series:
    """Text cells trimmed (``str(v).strip()``), missing cells None; vectorised."""
    n = len(raw)
    if n == 0 or miss.all():
        return pd.Series(np.full(n, None, dtype=object), dtype=object)
    cells = np.where(miss, "", raw)
    if n > 4096 and _all_str(cells) and "\x00" not in "".join(cells):
        # str cells without NUL characters: ``str.strip()`` gives what ``np.char.strip`` below
        # gives (the same Unicode whitespace; numpy only also drops trailing NULs)
        out = np.empty(n, dtype=object)
        out[:] = [v.strip() for v in cells]
        out[miss] = None
        return pd.Series(out, dtype=object)
    if max(map(len, map(str, cells))) > 256:  # long free text: avoid a wide fixed-width array
        return pd.Series([None if m else str(v).strip() for v, m in zip(raw, miss, strict=True)],
                         dtype=object)
    text = cells.astype(str)
    out = np.char.strip(text).astype(object)
    out[miss] = None
    return pd.Series(out, dtype=object)


def _code(codes: Mapping[str, str], value: str) -> str | None:
    v = value.strip().lower()
    if v in codes:
        return codes[v]
    if v.endswith(".0") and v[:-2] in codes:
        return codes[v[:-2]]
    return v if v in codes.values() else None


def _midpoint(iv: tuple[dt.date, dt.date, str]) -> dt.date:
    lo, _, prec = iv
    if prec == "Y":
        return dt.date(lo.year, 7, 1)
    if prec == "M":
        return dt.date(lo.year, lo.month, 15)
    return lo


def _pdate_text(iv: tuple[dt.date, dt.date, str]) -> str:
    lo, _, prec = iv
    if prec == "Y":
        return f"{lo.year:04d}"
    if prec == "M":
        return f"{lo.year:04d}-{lo.month:02d}"
    return lo.isoformat()


def midpoint_days(lo: pd.Series, prec: pd.Series) -> pd.Series:
    """Midpoint imputation of §2.1 (missing day -> 15th; missing month and day -> 1 July)."""
    out = lo.copy()
    m = (prec == "M").to_numpy()
    y = (prec == "Y").to_numpy()
    out[m] = lo[m] + pd.Timedelta(days=14)
    out[y] = pd.to_datetime(lo[y].dt.year.astype("Int64").astype(str) + "-07-01")
    return out
