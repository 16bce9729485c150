"""Counting-process (start, stop] data for time-dependent covariates — the job of R's ``tmerge``.

A covariate that switches on at a date during follow-up (allogeneic HSCT, platelet recovery,
acute GVHD, response) must not be treated as known from time 0 (that is the immortal-time bias).
Each patient's follow-up is split at every switch time strictly inside it; the covariate is 0
before its switch and 1 from it on, and the event sits on the last interval only.

Equivalent R::

    td <- tmerge(data, data, id = id, event = event(time, status))
    td <- tmerge(td, data, id = id, hsct = tdc(hsct_time))   # NA = never
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from rrball._validate import as_event, as_time
from rrball.errors import InputError


def _refuse_dates(series: pd.Series, name: str) -> None:
    if series.dtype.kind in "mM" or isinstance(series.dtype, pd.DatetimeTZDtype):
        raise InputError(name, "holds dates; give switch times as numbers from the origin "
                         "(e.g. days from diagnosis)")


__all__ = ["counting_process"]

SwitchSpec = str | tuple[str, str]


def _switch_times(data: pd.DataFrame, name: str, spec: SwitchSpec, n: int) -> np.ndarray:
    def column(col: str) -> pd.Series:
        if col not in data.columns:
            raise InputError("time_varying", f"{name!r}: {col!r} is not a column of data")
        return data[col]

    if isinstance(spec, str):
        raw = column(spec)
        _refuse_dates(raw, spec)
        values = pd.to_numeric(raw, errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy() & raw.notna().to_numpy())
        if bad.size:
            raise InputError(spec, "switch times must be numbers (empty = never)", bad)
        out = values.to_numpy(dtype=np.float64)
    elif isinstance(spec, tuple) and len(spec) == 2:
        _refuse_dates(column(spec[0]), spec[0])
        out = pd.to_numeric(column(spec[0]), errors="coerce").to_numpy(dtype=np.float64)
        happened = as_event(column(spec[1]), n, spec[1])
        missing = np.flatnonzero(happened & np.isnan(out))
        if missing.size:
            raise InputError(spec[0], f"is missing where {spec[1]} = 1", missing)
        out = np.where(happened, out, np.nan)
    else:
        raise InputError("time_varying", f"{name!r}: give a column or a (time, indicator) pair")
    negative = np.flatnonzero(out < 0)
    if negative.size:
        raise InputError(str(spec), "switch times must be >= 0", negative)
    return out


def counting_process(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    time_varying: Mapping[str, SwitchSpec],
    id: str | None = None,
    start: str = "tstart",
    stop: str = "tstop",
) -> pd.DataFrame:
    """Split each patient's follow-up at the switch times of ``time_varying`` covariates.

    Parameters
    ----------
    data:
        One row per patient; follow-up runs from 0 to ``time``.
    time, event:
        Follow-up time and 0/1 event indicator columns.
    time_varying:
        ``{new_column: spec}``; ``spec`` is a column of switch times (NaN = never) or a
        ``(time_column, indicator_column)`` pair (KMsurv ``bmt``'s ``("tp", "dp")``). A switch at
        or after the end of follow-up changes nothing; a switch at time 0 holds from the start.
    id:
        Patient identifier column kept in the output (row number if None).
    start, stop:
        Names of the interval columns in the output.

    Returns
    -------
    DataFrame with ``id``, ``start``, ``stop``, ``event`` (1 only on a patient's last interval
    when the event happened), the new 0/1 covariates, and every other column of ``data``.
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError("data", "must be a pandas DataFrame with one row per patient")
    for col, arg in ((time, "time"), (event, "event")):
        if col not in data.columns:
            raise InputError(arg, f"{col!r} is not a column of data")
    if id is not None:
        if id not in data.columns:
            raise InputError("id", f"{id!r} is not a column of data")
        dup = np.flatnonzero(data[id].duplicated().to_numpy())
        if dup.size:
            raise InputError(id, "must identify one row per patient; duplicated", dup)
    if id is None and "id" in data.columns:
        raise InputError("id", "data has an 'id' column: pass id='id' (or rename the column)")
    if not time_varying:
        raise InputError("time_varying", "name at least one time-dependent covariate")
    n = len(data)
    t = as_time(data[time], time)
    ev = as_event(data[event], n, event)
    zero = np.flatnonzero(t <= 0)
    if zero.size:
        raise InputError(time, "follow-up must be > 0 to form (0, time] intervals", zero)
    switches = {name: _switch_times(data, name, spec, n) for name, spec in time_varying.items()}
    clash = [c for c in (*switches, start, stop) if c in data.columns and c not in (time, event)]
    if clash:
        raise InputError("time_varying", f"output columns already exist in data: {clash!r}")
    # cut points strictly inside (0, time) per patient
    cuts = np.column_stack(list(switches.values()))
    inside = (cuts > 0) & (cuts < t[:, None])
    cut_owner, cut_col = np.nonzero(inside)
    patients = np.arange(n)
    value = np.concatenate([np.zeros(n), t, cuts[cut_owner, cut_col]])
    owner = np.concatenate([patients, patients, cut_owner])
    order = np.lexsort((value, owner))
    value, owner = value[order], owner[order]
    distinct = np.r_[True, (owner[1:] != owner[:-1]) | (value[1:] != value[:-1])]
    value, owner = value[distinct], owner[distinct]
    same = owner[1:] == owner[:-1]  # consecutive edges of one patient form an interval
    rows = owner[:-1][same]
    s0 = value[:-1][same]
    s1 = value[1:][same]
    out: pd.DataFrame = data.iloc[rows].reset_index(drop=True).drop(columns=[time, event])
    if id is None:
        out.insert(0, "id", rows + 1)
    out[start] = s0
    out[stop] = s1
    last = np.r_[rows[1:] != rows[:-1], True]
    out[event] = (ev[rows] & last).astype(np.int64)
    for name, sw in switches.items():
        out[name] = (~np.isnan(sw[rows]) & (sw[rows] <= s0)).astype(np.int64)
    return out
