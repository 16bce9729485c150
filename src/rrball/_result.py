"""Shared behaviour of result objects: ``str()`` is ``summary()``, arrays are read-only."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["ResultMixin", "frozen_array", "json_safe"]


def frozen_array(values: Any, dtype: Any = None) -> npt.NDArray[Any]:
    """A read-only copy, so a frozen result cannot be changed through its arrays."""
    arr = np.array(values, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


def json_safe(value: Any) -> Any:
    """Convert numpy/pandas values to JSON-ready Python (NaN → None)."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("Inf" if value > 0 else "-Inf")
    return value


class ResultMixin:
    """Mixin for frozen result dataclasses; subclasses implement ``summary()``."""

    __slots__ = ()

    def summary(self) -> str:  # pragma: no cover - every result overrides
        raise NotImplementedError

    def __str__(self) -> str:
        return self.summary()
