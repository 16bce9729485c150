"""Pointwise confidence intervals for a survival probability S with SE of −log S.

One table of transforms, as survival's ``survfit`` documents them (Therneau & Grambsch 2000, §2.1;
Borgan & Liestøl 1990 for log-log; arcsine-square-root from Nair 1984). ``se`` is the standard error
of the cumulative hazard −log S (Greenwood). Limits are NaN where the transform is undefined,
exactly where R reports NA/NaN: S = 0 for every transform except ``plain``; S = 1 for
``log-log``, ``logit`` and ``arcsin``.
"""

from __future__ import annotations

import numpy as np
from scipy import special as _special

from rrball._validate import FloatArray

__all__ = ["CONF_TYPES", "survival_ci", "z_value"]

CONF_TYPES = ("log", "log-log", "plain", "logit", "arcsin")


def z_value(conf_level: float) -> float:
    return float(_special.ndtri(1.0 - (1.0 - conf_level) / 2.0))


def survival_ci(
    surv: FloatArray, se: FloatArray, conf_type: str, conf_level: float
) -> tuple[FloatArray, FloatArray]:
    """Lower and upper pointwise limits for S (upper capped at 1 where R caps it)."""
    z = z_value(conf_level)
    s = np.asarray(surv, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "log":
            xx = np.where(s == 0, np.nan, s)
            lower = np.exp(np.log(xx) - z * se)
            upper = np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        elif conf_type == "log-log":
            xx = np.where((s == 0) | (s == 1), np.nan, s)
            w = z * se / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - w))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + w))
        elif conf_type == "plain":
            half = z * se * s
            lower = np.maximum(s - half, 0.0)
            upper = np.minimum(s + half, 1.0)
        elif conf_type == "logit":
            xx = np.where(s == 0, np.nan, s)
            w = z * se * (1.0 + xx / (1.0 - xx))
            logit = np.log(xx / (1.0 - xx))
            lower = 1.0 - 1.0 / (1.0 + np.exp(logit - w))
            upper = 1.0 - 1.0 / (1.0 + np.exp(logit + w))
        elif conf_type == "arcsin":
            xx = np.where(s == 0, np.nan, s)
            w = 0.5 * z * se * np.sqrt(xx / (1.0 - xx))
            angle = np.arcsin(np.sqrt(xx))
            lower = np.sin(np.maximum(0.0, angle - w)) ** 2
            upper = np.sin(np.minimum(np.pi / 2.0, angle + w)) ** 2
        else:  # pragma: no cover - validated by callers
            raise ValueError(conf_type)
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
