"""The vectorised ADSL derivation (§5.1, §5.2) equals the original per-line reference.

``_adsl_reference`` is the first, per-patient-line implementation kept verbatim as a slow oracle;
both run on synthetic cohorts of every profile and on the hand-built endpoint fixture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rrball.cohort import endpoints, load_cohort, synthetic_cohort
from rrball.cohort.cohort import Cohort
from tests.cohort import _adsl_reference as ref
from tests.cohort._data import META, base_tables, write_csv


def _norm(df: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = s.astype("datetime64[ns]").astype(object).where(s.notna(), None)
        else:
            vals: list[Any] = []
            for v in s.astype(object):
                if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
                    vals.append(None)
                elif isinstance(v, (np.integer, np.floating)):
                    vals.append(v.item())
                else:
                    vals.append(v)
            out[c] = pd.Series(vals, dtype=object)
    return pd.DataFrame(out)


def _compare(c: Cohort) -> None:
    tables, meta = c._tables, c._metadata
    new, new_r = endpoints._derive_all(tables, meta)
    old, old_r = ref._derive_all(tables, meta)
    assert list(new.columns) == list(old.columns)
    pd.testing.assert_frame_equal(_norm(new), _norm(old), check_dtype=False)
    pd.testing.assert_frame_equal(_norm(new_r), _norm(old_r), check_dtype=False)
    # ADTTE from both ADSLs is the same too
    pd.testing.assert_frame_equal(_norm(endpoints.adtte(new, meta)),
                                  _norm(endpoints.adtte(old, meta)), check_dtype=False)


@pytest.mark.parametrize("profile", ["seed000", "seed001", "seed003", "seed004"])
def test_vectorised_adsl_matches_reference(profile: str) -> None:
    _compare(synthetic_cohort(profile, seed=7))


@pytest.mark.parametrize("extra", [
    [], [("relapse_source", "derived")], [("relapse_source", "reported")],
    [("molecular_relapse_is_relapse", "1")], [("response_window_days", "20")],
    [("age_cut_rule", "lt"), ("baseline_window_days", "1")],
])
def test_vectorised_adsl_matches_reference_on_fixture(
        tmp_path: Path, extra: list[tuple[str, str]]) -> None:
    _compare(load_cohort(write_csv(tmp_path / "c", base_tables(), [*META, *extra])))


def _fixture_tables() -> list[tuple[Any, list[tuple[str, str]]]]:
    from tests.cohort import test_adsl_more, test_endpoints_hsct, test_toxicity

    return [(test_adsl_more._more(), META), (test_toxicity._tables(), test_toxicity.AE_META),
            (test_endpoints_hsct._tables(), META),
            (test_endpoints_hsct._tables(), [*META, ("censor_at_new_therapy", "1"),
                                             ("dfs_censor_at", "last_assessment")]),
            (test_toxicity._tables(), [*test_toxicity.AE_META,
                                       ("vod_criteria", "ebmt_ped_2018")])]


@pytest.mark.parametrize("k", range(5))
def test_vectorised_adsl_matches_reference_on_new_column_fixtures(tmp_path: Path,
                                                                  k: int) -> None:
    """New §5.2 columns (toxicity maxima, baseline disease, strata, post-HSCT relapse) and the
    imputation flags of the provenance tuples agree with the per-line reference."""
    tables, meta = _fixture_tables()[k]
    _compare(load_cohort(write_csv(tmp_path / "c", tables, meta)))


def test_vectorised_adsl_matches_reference_with_imputed_dates(tmp_path: Path) -> None:
    t = base_tables()
    for r in t["follow_up"]:
        if r["patient_id"] == "P1" and r["event_type"] in ("2", "3"):
            r["event_date"] = "2020-01"
    t["treatment_lines"][1]["line_start_date"] = "2019-02"
    t["assessments"][3]["assessment_date"] = "2019-03"
    _compare(load_cohort(write_csv(tmp_path / "c", t, [*META, ("partial_event_dates",
                                                                "impute")])))
