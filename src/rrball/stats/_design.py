"""Model matrices from a DataFrame: numeric columns as they are, categorical columns as treatment
contrasts (R's default), rows with missing values dropped and reported.

``covariates`` is a list of column names or an R-style right-hand side
(``"age + sex + factor(x)"``); ``factor(x)`` / ``C(x)`` force a numeric column to be
categorical. The reference level is the first level of a pandas Categorical, else of the sorted
labels; dummy columns are named ``<column><level>`` as R names them (``celltypesmallcell``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rrball._validate import FloatArray, IntArray, r_sort_key
from rrball.errors import InputError

__all__ = ["Design", "model_matrix", "parse_terms", "positions_in"]


@contextmanager
def positions_in(kept: IntArray) -> Iterator[None]:
    """Report InputError positions of the complete-case subset as positions in the user's data."""
    try:
        yield
    except InputError as err:
        raise InputError(err.argument, err.problem, kept[list(err.positions)]) from None

_FACTOR = re.compile(r"^(?:factor|C)\((?P<name>[^()]+)\)$")


@dataclass(frozen=True, slots=True)
class Design:
    """The numeric matrix, its column names, which covariate each column came from, and the rows
    (0-based positions in the input) that were kept."""

    matrix: FloatArray
    columns: tuple[str, ...]
    assign: tuple[str, ...]
    kept: IntArray
    dropped: IntArray
    references: dict[str, object]



def parse_terms(covariates: str | Sequence[str]) -> list[tuple[str, bool]]:
    """(column, force_categorical) per term of a name list or an additive formula."""
    if isinstance(covariates, str):
        rhs = covariates.split("~", 1)[-1]
        if any(op in rhs for op in ("*", ":", "^", "|")):
            raise InputError(
                "covariates", "only additive formulas (a + b + factor(c)) are supported"
            )
        items = [t.strip() for t in rhs.split("+") if t.strip()]
    else:
        items = [str(c).strip() for c in covariates]
    if not items:
        raise InputError("covariates", "name at least one covariate")
    terms = []
    for item in items:
        m = _FACTOR.match(item)
        terms.append((m.group("name").strip(), True) if m else (item, False))
    names = [t[0] for t in terms]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError("covariates", f"repeated: {dup!r}")
    return terms


def model_matrix(
    data: pd.DataFrame, covariates: str | Sequence[str], *, required: Sequence[str] = ()
) -> Design:
    """Build the design matrix; ``required`` columns (time, event, ...) must be complete too."""
    if not isinstance(data, pd.DataFrame):
        raise InputError("data", "must be a pandas DataFrame")
    terms = parse_terms(covariates)
    missing_cols = [c for c, _ in terms if c not in data.columns]
    missing_cols += [c for c in required if c not in data.columns]
    if missing_cols:
        raise InputError("covariates", f"not columns of data: {missing_cols!r}")
    used = [c for c, _ in terms] + [c for c in required if c not in {t for t, _ in terms}]
    incomplete = data[used].isna().any(axis=1).to_numpy()
    kept = np.flatnonzero(~incomplete)
    if kept.size == 0:
        raise InputError("data", "no row is complete in the columns used")
    blocks: list[FloatArray] = []
    names: list[str] = []
    assign: list[str] = []
    references: dict[str, object] = {}
    for col, force in terms:
        series = data[col].iloc[kept]
        categorical = force or not (
            pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
        )
        if pd.api.types.is_bool_dtype(series) and not force:
            blocks.append(series.to_numpy(dtype=np.float64)[:, None])
            names.append(f"{col}TRUE")
            assign.append(col)
            continue
        if not categorical:
            blocks.append(series.to_numpy(dtype=np.float64)[:, None])
            names.append(col)
            assign.append(col)
            continue
        if isinstance(series.dtype, pd.CategoricalDtype):
            levels = [lv for lv in series.cat.categories if (series == lv).any()]
        else:
            try:
                levels = sorted(pd.unique(series), key=r_sort_key)
            except TypeError as exc:
                raise InputError(col, "labels of mixed types cannot be ordered") from exc
        levels = [lv.item() if isinstance(lv, np.generic) else lv for lv in levels]
        if len(levels) < 2:
            raise InputError(col, f"has a single level ({levels[0]!r}): it cannot be estimated")
        references[col] = levels[0]
        values = series.to_numpy()
        for level in levels[1:]:
            blocks.append((values == level).astype(np.float64)[:, None])
            names.append(f"{col}{level}")
            assign.append(col)
    matrix = np.hstack(blocks)
    return Design(
        matrix=matrix,
        columns=tuple(names),
        assign=tuple(assign),
        kept=kept.astype(np.intp),
        dropped=np.flatnonzero(incomplete).astype(np.intp),
        references=references,
    )
