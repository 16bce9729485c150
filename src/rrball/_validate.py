"""Argument checks shared by the statistics layer.

Each helper turns an array-like into a clean numpy array or raises :class:`InputError` naming the
argument and the bad positions — never a bare numpy or pandas error.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rrball.errors import InputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

__all__ = [
    "Groups",
    "as_count",
    "as_count_table",
    "as_event",
    "as_groups",
    "as_time",
    "check_choice",
    "check_conf_level",
    "check_same_length",
    "is_real",
    "r_sort_key",
]


def _to_numpy(values: Any, argument: str) -> npt.NDArray[Any]:
    if isinstance(values, (str, bytes)) or np.isscalar(values):
        raise InputError(argument, "expected one value per subject (an array, list or Series)")
    arr = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values)
    if arr.ndim != 1:
        raise InputError(argument, f"expected a 1-dimensional array, got shape {arr.shape}")
    return arr


def as_time(values: Any, argument: str = "time", *, allow_negative: bool = False) -> FloatArray:
    """Return finite, non-negative float times (``allow_negative`` for entry/landmark shifts)."""
    arr = _to_numpy(values, argument)
    if arr.size == 0:
        raise InputError(argument, "is empty: at least one subject is needed")
    if arr.dtype.kind in "mM" or isinstance(getattr(values, "dtype", None), pd.DatetimeTZDtype):
        raise InputError(
            argument,
            "holds dates or timedeltas; give durations from the origin as numbers (e.g. days) — "
            "rrball.cohort derives them from dates",
        )
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        try:
            arr = pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy(
                dtype=np.float64
            )
        except (TypeError, ValueError) as exc:  # pragma: no cover - to_numeric coerces
            raise InputError(argument, "must be numeric") from exc
        bad_type = np.flatnonzero(pd.isna(arr) & ~pd.isna(_to_numpy(values, argument)))
        if bad_type.size:
            raise InputError(argument, "has values that are not numbers", bad_type)
    out = np.asarray(arr, dtype=np.float64)
    missing = np.flatnonzero(np.isnan(out))
    if missing.size:
        raise InputError(argument, "has missing (NaN) values; drop or impute them first", missing)
    infinite = np.flatnonzero(np.isinf(out))
    if infinite.size:
        raise InputError(argument, "has infinite values", infinite)
    if not allow_negative:
        negative = np.flatnonzero(out < 0)
        if negative.size:
            raise InputError(argument, "has negative times; times are durations >= 0", negative)
    return out


def as_event(values: Any, n: int, argument: str = "event") -> BoolArray:
    """Return the event indicator as booleans: 1/True = event, 0/False = censored."""
    arr = _to_numpy(values, argument)
    check_same_length(n, arr.size, argument)
    if arr.dtype == np.bool_:
        return np.asarray(arr, dtype=np.bool_).copy()
    if arr.dtype.kind in "iuf":
        num = arr.astype(np.float64)
        bad = np.flatnonzero(~np.isin(num, (0.0, 1.0)))
        if bad.size:
            shown = _preview(arr[bad])
            raise InputError(
                argument,
                f"must be 0 (censored) or 1 (event); found {shown}. "
                "Recode first (e.g. R's lung uses 1/2: subtract 1)",
                bad,
            )
        return np.asarray(num == 1.0, dtype=np.bool_)
    # labels read as text ("0"/"1", "True"/"False") are accepted; anything else is named
    as_text = pd.Series(arr, dtype=object).map(
        lambda v: {"true": 1.0, "false": 0.0}.get(v.strip().lower(), v) if isinstance(v, str) else v
    )
    num = pd.to_numeric(as_text, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isin(num, (0.0, 1.0)))
    if bad.size:
        raise InputError(
            argument,
            f"must be 0 (censored) or 1 (event) or booleans; found {_preview(arr[bad])}",
            bad,
        )
    return np.asarray(num == 1.0, dtype=np.bool_)


def _preview(values: npt.NDArray[Any]) -> str:
    uniq = pd.unique(pd.Series(values, dtype=object))
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in uniq[:5])
    return shown + (", ..." if len(uniq) > 5 else "")


def check_same_length(n: int, m: int, argument: str) -> None:
    if m != n:
        raise InputError(argument, f"has length {m} but time has length {n}; lengths must match")


def check_choice(value: str, allowed: Sequence[str], argument: str) -> str:
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise InputError(argument, f"{value!r} is not one of {options}")
    return value


def is_real(value: object) -> bool:
    """A real number (Python or numpy), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_conf_level(conf_level: float) -> float:
    if not (is_real(conf_level) and 0.0 < float(conf_level) < 1.0):
        raise InputError(
            "conf_level", f"must be a number strictly between 0 and 1, got {conf_level!r}"
        )
    return float(conf_level)


@dataclass(frozen=True, slots=True)
class Groups:
    """Integer codes 0..K-1 per subject and the K labels in output order."""

    codes: IntArray
    labels: tuple[Hashable, ...]

    @property
    def k(self) -> int:
        return len(self.labels)


def as_groups(
    values: Any,
    n: int,
    argument: str = "group",
    *,
    levels: Sequence[Hashable] | None = None,
) -> Groups:
    """Encode group labels; sorted label order unless ``levels`` is given (then every level must
    occur and every value must be a level)."""
    if values is None:
        return Groups(np.zeros(n, dtype=np.intp), ("all",))
    arr = _to_numpy(values, argument)
    check_same_length(n, arr.size, argument)
    codes, uniques = pd.factorize(arr, sort=False, use_na_sentinel=True)
    _raise_missing(np.flatnonzero(codes < 0), argument)
    found = [_plain(u) for u in uniques]
    if levels is None:
        try:
            order = sorted(range(len(found)), key=lambda i: r_sort_key(found[i]))
        except TypeError as exc:
            raise InputError(
                argument, "labels of mixed types cannot be sorted; pass levels="
            ) from exc
        rank = np.empty(len(order), dtype=np.intp)
        rank[order] = np.arange(len(order))
        return Groups(rank[codes], tuple(found[i] for i in order))
    lv = list(levels)
    if len(set(lv)) != len(lv):
        raise InputError("levels", "contains duplicated labels")
    lookup = {label: i for i, label in enumerate(lv)}
    by_text = {str(label): i for i, label in enumerate(lv)}  # levels=["1", "2"] for 1/2 codes
    remap = np.array([lookup.get(u, by_text.get(str(u), -1)) for u in found], dtype=np.intp)
    codes_arr = remap[codes]
    unknown = np.flatnonzero(codes_arr < 0)
    if unknown.size:
        raise InputError(argument, f"has labels not listed in levels={lv!r}", unknown)
    counts = np.bincount(codes_arr, minlength=len(lv))
    empty = [lv[i] for i in np.flatnonzero(counts == 0)]
    if empty:
        raise InputError(argument, f"group(s) {empty!r} listed in levels have no subjects")
    return Groups(codes_arr, tuple(lv))


def r_sort_key(label: Any) -> Any:
    """Sort key giving R's order of factor levels: text compares case-insensitively first, then
    lower case before upper ("a" < "A" < "b"; "high" < "Low"), as R's default collation; other
    labels in their natural order."""
    if isinstance(label, str):
        return (label.casefold(), label.swapcase())
    return label


def _raise_missing(missing: IntArray, argument: str) -> None:
    if missing.size:
        raise InputError(
            argument, "has missing labels; drop those subjects or give them a label", missing
        )


def _plain(value: Any) -> Hashable:
    """numpy scalars → Python scalars so labels print and compare naturally."""
    item = getattr(value, "item", None)
    result: Hashable = item() if callable(item) else value
    return result


def as_count(value: Any, argument: str, *, minimum: int = 0) -> int:
    """Return a whole-number count >= ``minimum`` (booleans, fractions, NaN are refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise InputError(argument, f"must be a whole number, got {value!r}")
    x = float(value)
    if not np.isfinite(x) or not x.is_integer():
        raise InputError(argument, f"must be a whole number, got {value!r}")
    if x < minimum:
        raise InputError(argument, f"must be >= {minimum}, got {value!r}")
    return int(x)


def as_count_table(values: Any, argument: str = "table") -> npt.NDArray[np.int64]:
    """Return a 2-dimensional table of non-negative whole-number counts.

    Positions in errors are 0-based row-major (flattened) cell positions; the message also lists
    them as (row, column) pairs.
    """
    if isinstance(values, (str, bytes)) or np.isscalar(values):
        raise InputError(argument, "expected a 2-dimensional table of counts")
    if isinstance(values, pd.DataFrame):
        arr = values.to_numpy()
    else:
        try:
            arr = np.asarray(values)
        except ValueError as exc:  # ragged nested lists
            raise InputError(argument, "rows have different lengths") from exc
    if arr.size == 0:
        raise InputError(argument, f"is empty (shape {arr.shape})")
    if arr.ndim != 2:
        raise InputError(argument, f"expected a 2-dimensional table, got shape {arr.shape}")
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        num = pd.to_numeric(pd.Series(arr.ravel(), dtype=object), errors="coerce").to_numpy(
            dtype=np.float64
        )
        bad = np.flatnonzero(np.isnan(num))
        if bad.size or arr.dtype == np.bool_:
            bad = bad if bad.size else np.arange(arr.size)
            raise InputError(argument, "has cells that are not counts" + _cells(bad, arr.shape),
                             bad)
        flat = num
    else:
        flat = arr.astype(np.float64).ravel()
    missing = np.flatnonzero(~np.isfinite(flat))
    if missing.size:
        raise InputError(argument, "has missing or infinite cells" + _cells(missing, arr.shape),
                         missing)
    negative = np.flatnonzero(flat < 0)
    if negative.size:
        raise InputError(argument, "has negative counts" + _cells(negative, arr.shape), negative)
    fractional = np.flatnonzero(flat != np.floor(flat))
    if fractional.size:
        raise InputError(
            argument, "has non-integer counts" + _cells(fractional, arr.shape), fractional
        )
    return flat.astype(np.int64).reshape(arr.shape)


def _cells(flat_positions: npt.NDArray[Any], shape: tuple[int, ...]) -> str:
    rows, cols = np.unravel_index(flat_positions[:5], shape)
    pairs = ", ".join(f"({int(r)}, {int(c)})" for r, c in zip(rows, cols, strict=True))
    more = ", ..." if flat_positions.size > 5 else ""
    return f" at (row, column) {pairs}{more}"
