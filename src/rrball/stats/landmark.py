"""Landmark analysis: compare groups defined by something that happens *during* follow-up.

Comparing transplanted with non-transplanted patients from diagnosis favours the transplanted, who
had to survive long enough to be transplanted (guarantee-time / immortal-time bias; Anderson,
Cain & Gelber, J Clin Oncol 1983;1:710-9). The landmark method fixes a time ``L``, keeps the
patients still alive and event-free *beyond* ``L``, freezes each time-varying covariate at its
value at ``L`` ("transplanted by day L", "responded by day L"), and restarts the clock at ``L``.

Equivalent R: ``d <- subset(data, time > L); d$time <- d$time - L; d$x <- (x_time <= L) * x_event``
then ``survfit``/``survdiff``/``coxph`` on ``d`` (survival's ``landmark`` vignette approach).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from rrball._format import format_number
from rrball._result import ResultMixin, json_safe
from rrball._validate import as_event, as_time, is_real
from rrball.errors import InputError


def _refuse_dates(series: pd.Series, name: str) -> None:
    if series.dtype.kind in "mM" or isinstance(series.dtype, pd.DatetimeTZDtype):
        raise InputError(name, "holds dates; give switch times as numbers from the origin "
                         "(e.g. days from diagnosis)")


__all__ = ["LandmarkData", "landmark"]

CovariateSpec = str | tuple[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class LandmarkData(ResultMixin):
    """The landmark data set and the bookkeeping of who was left out and why.

    ``data``: the patients at risk beyond the landmark, with the time column re-originated at
    the landmark (the original kept as ``<time>_from_origin``) and one 0/1 column per frozen
    covariate. ``excluded``: counts by reason. ``covariate_counts``: how many kept patients have
    each frozen covariate = 1.
    """

    landmark: float
    time: str
    event: str | None
    status: str | None
    covariates: tuple[str, ...]
    n_total: int
    n_kept: int
    excluded: Mapping[str, int]
    covariate_counts: Mapping[str, int]
    method: Mapping[str, object]
    _data: pd.DataFrame

    @property
    def data(self) -> pd.DataFrame:
        return self._data.copy()

    @property
    def n_excluded(self) -> int:
        return self.n_total - self.n_kept

    def to_frame(self) -> pd.DataFrame:
        return self.data

    def to_dict(self) -> dict[str, Any]:
        return dict(json_safe({
            "landmark": self.landmark, "time": self.time, "event": self.event,
            "status": self.status, "covariates": list(self.covariates),
            "n_total": self.n_total, "n_kept": self.n_kept, "excluded": dict(self.excluded),
            "covariate_counts": dict(self.covariate_counts), "method": dict(self.method),
        }))

    def summary(self) -> str:
        lines = [
            f"Landmark at {format_number(self.landmark)} (time re-originated at the landmark)",
            f"  patients: {self.n_total}; at risk beyond the landmark: {self.n_kept}; "
            f"excluded: {self.n_excluded}",
        ]
        for reason, count in self.excluded.items():
            lines.append(f"    - {reason}: {count}")
        for name, count in self.covariate_counts.items():
            spec = self.method["covariates"]
            assert isinstance(spec, Mapping)
            lines.append(
                f"  {name} (from {spec[name]}, frozen at the landmark): {count} of {self.n_kept}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"LandmarkData(landmark={self.landmark:g}, n_kept={self.n_kept}, "
                f"n_excluded={self.n_excluded})")


def _column(data: pd.DataFrame, name: Any, argument: str) -> pd.Series:
    if not isinstance(name, str) or name not in data.columns:
        raise InputError(argument, f"{name!r} is not a column of data")
    return data[name]


def landmark(
    data: pd.DataFrame,
    *,
    landmark: float,
    time: str,
    event: str | None = None,
    status: str | None = None,
    covariates_at_landmark: Mapping[str, CovariateSpec] | None = None,
) -> LandmarkData:
    """Build the landmark data set at time ``landmark``.

    Parameters
    ----------
    data:
        One row per patient.
    landmark:
        The landmark time L (same unit as ``time``). Patients with ``time <= L`` (event, death
        or censoring at or before L) are excluded and counted by reason.
    time, event, status:
        Column names: the follow-up time and either a 0/1 ``event`` or a competing-risks
        ``status`` (0 = censored, 1, 2, ... = cause). Exactly one of ``event``/``status``.
    covariates_at_landmark:
        ``{new_column: spec}``. ``spec`` is either the name of a column holding the time at
        which the covariate switched on (NaN = never; e.g. days to HSCT), or a pair
        ``(time_column, indicator_column)`` as in KMsurv ``bmt`` (``("tp", "dp")``: platelet
        recovery time and whether it happened). The new column is 1 when the switch happened
        at or before L, else 0 — later switches do not count (frozen at the landmark).
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError("data", "must be a pandas DataFrame with one row per patient")
    if not is_real(landmark) or not np.isfinite(landmark) or landmark < 0:
        raise InputError("landmark", f"must be a finite time >= 0, got {landmark!r}")
    if (event is None) == (status is None):
        raise InputError("event", "give exactly one of event= (0/1) or status= (competing risks)")
    t = as_time(_column(data, time, "time"), time)
    if event is not None:
        ind = as_event(_column(data, event, "event"), t.size, event)
    else:
        st = as_time(_column(data, status, "status"), str(status))
        bad = np.flatnonzero(st != np.round(st))
        if bad.size:
            raise InputError(str(status), "must hold integer codes 0 = censored, 1, 2, ...", bad)
        ind = st > 0
    specs = dict(covariates_at_landmark or {})
    new_cols: dict[str, np.ndarray] = {}
    for name, spec in specs.items():
        if name in data.columns:
            raise InputError("covariates_at_landmark", f"{name!r} already is a column of data")
        if isinstance(spec, str):
            _refuse_dates(_column(data, spec, "covariates_at_landmark"), spec)
            switch = pd.to_numeric(_column(data, spec, "covariates_at_landmark"), errors="coerce")
            raw = data[spec]
            not_numeric = np.flatnonzero(switch.isna().to_numpy() & raw.notna().to_numpy())
            if not_numeric.size:
                raise InputError(
                    spec, "switch times must be numbers (or empty = never)", not_numeric
                )
            s_time = switch.to_numpy(dtype=np.float64)
            happened = ~np.isnan(s_time)
        elif isinstance(spec, tuple) and len(spec) == 2:
            _refuse_dates(_column(data, spec[0], "covariates_at_landmark"), spec[0])
            s_time = pd.to_numeric(
                _column(data, spec[0], "covariates_at_landmark"), errors="coerce"
            ).to_numpy(dtype=np.float64)
            happened = as_event(_column(data, spec[1], "covariates_at_landmark"), t.size, spec[1])
            missing = np.flatnonzero(happened & np.isnan(s_time))
            if missing.size:
                raise InputError(spec[0], f"is missing where {spec[1]} = 1", missing)
        else:
            raise InputError(
                "covariates_at_landmark",
                f"{name!r}: spec must be a column name or a (time_column, indicator_column) pair",
            )
        negative = np.flatnonzero(happened & (s_time < 0))
        if negative.size:
            raise InputError(str(spec), "switch times must be >= 0", negative)
        new_cols[name] = (happened & (s_time <= landmark)).astype(np.int64)
    keep = t > landmark
    out = data.loc[keep].copy()
    out[f"{time}_from_origin"] = t[keep]
    out[time] = t[keep] - landmark
    for name, values in new_cols.items():
        out[name] = values[keep]
    out = out.reset_index(drop=True)
    what = "event (any cause)" if status is not None else "event"
    excluded = MappingProxyType({
        f"{what} at or before the landmark": int(np.count_nonzero(~keep & ind)),
        "censored at or before the landmark": int(np.count_nonzero(~keep & ~ind)),
    })
    method = MappingProxyType({
        "landmark": float(landmark),
        "rule": "kept if time > landmark; time re-originated; covariates = 1 if switched on at "
        "or before the landmark",
        "covariates": MappingProxyType({k: str(v) for k, v in specs.items()}),
    })
    return LandmarkData(
        landmark=float(landmark),
        time=time,
        event=event,
        status=status,
        covariates=tuple(new_cols),
        n_total=int(t.size),
        n_kept=int(np.count_nonzero(keep)),
        excluded=excluded,
        covariate_counts=MappingProxyType({k: int(out[k].sum()) for k in new_cols}),
        method=method,
        _data=out,
    )
