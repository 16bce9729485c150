"""Import a wide source table through a mapping file (:mod:`rrball.cohort.mapping`).

``load_mapped(path, mapping)`` reads a CSV source table and a mapping YAML, maps the rows into the
model tables and validates them like any other import (data-dictionary.md §3); the mapping's
declared exclusions, replaced cells and unrepresentable facts are warnings of the cohort (R-MAP-*).
``public_cohort("all")`` does the same for the public cohorts bundled with rrball. This module is
the file-access edge of the mapping; the engine itself is pure.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from rrball.cohort.mapping import MappingError, MappingIssue, MappingSpec, map_frame, parse_mapping
from rrball.errors import InputError

if TYPE_CHECKING:
    from rrball.cohort.cohort import Cohort

__all__ = ["PUBLIC_COHORTS", "load_mapped", "public_cohort", "public_source"]

_PKG = Path(__file__).resolve().parents[2]

#: Bundled public cohorts: name -> (source CSV in rrball/data, mapping in rrball/cohort/mappings).
PUBLIC_COHORTS: dict[str, tuple[str, str]] = {
    # Bioconductor ALL (Chiaretti et al., Blood 2004;103:2771-8), exported by
    # tests/cohort/r/export_all_pdata.R
    "all": ("data/all_pdata.csv", "cohort/mappings/all_bioc.yaml"),
}


def read_source_csv(path: str | Path) -> pd.DataFrame:
    """A source CSV as text cells (nothing converted; empty cells stay ``""``)."""
    p = Path(path)
    try:
        return pd.read_csv(p, dtype=str, keep_default_na=False, na_filter=False,
                           encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError("path", f"cannot read the source table {p.name}: {exc}") from None


def read_mapping(mapping: str | Path | MappingSpec) -> MappingSpec:
    """A mapping file (or an already parsed spec), validated."""
    if isinstance(mapping, MappingSpec):
        return mapping
    p = Path(mapping)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError([MappingIssue(None, "", f"cannot read the mapping: {exc}")],
                           source=p.name) from None
    return parse_mapping(text, source=p.name)


def load_mapped(path: str | Path, mapping: str | Path | MappingSpec, *,
                subset: str | None = None, today: dt.date | None = None) -> Cohort:
    """Map the wide table at ``path`` with ``mapping`` and validate it into a ``Cohort``.

    Raises :class:`rrball.errors.CohortValidationError` listing every source cell that does not
    fit the model (rows are source-file rows; columns read ``<source column> -> <model column>``),
    and :class:`rrball.cohort.mapping.MappingError` for a bad mapping file.
    """
    from rrball.cohort.cohort import validate_raw

    spec = read_mapping(mapping)
    frame = read_source_csv(path)
    mapped = map_frame(frame, spec, subset=subset)
    return validate_raw(mapped.tables, mapped.metadata, source=Path(path).name,
                        issues=mapped.notes, today=today)


def public_source(name: str) -> tuple[Path, Path]:
    """Paths of a bundled public cohort's source CSV and mapping file."""
    if name not in PUBLIC_COHORTS:
        raise InputError("name", f"{name!r} is not a bundled public cohort; one of "
                         f"{', '.join(PUBLIC_COHORTS)}")
    data, mapping = PUBLIC_COHORTS[name]
    return _PKG / data, _PKG / mapping


def public_cohort(name: str = "all", *, subset: str | None = None) -> Cohort:
    """A bundled public cohort, mapped and validated.

    ``"all"``: the Bioconductor ``ALL`` phenotype table (128 adults with B- or T-lineage ALL,
    frontline induction; Chiaretti et al., Blood 2004;103:2771-8) through
    ``rrball/cohort/mappings/all_bioc.yaml``; ``subset="b_lineage"`` keeps the B-lineage rows.
    The mapping's exclusions and unrepresentable facts are listed in ``Cohort.warnings``
    (R-MAP-001 … R-MAP-004).
    """
    data, mapping = public_source(name)
    return load_mapped(data, mapping, subset=subset)
