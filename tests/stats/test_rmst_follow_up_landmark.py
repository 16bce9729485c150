"""RMST, reverse-KM follow-up and landmark data against R (fixtures from survival.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rrball.errors import InputError
from rrball.stats import (
    kaplan_meier,
    landmark,
    logrank_test,
    median_follow_up,
    restricted_mean_survival_time,
)
from tests._rfixture import (
    assert_counts_equal,
    assert_matches_r,
    fixture_names,
    load_data,
    load_fixture,
)

KM_WITH_RMEAN = [
    n for n in fixture_names("kaplan_meier__")
    if "rmean" in load_fixture(n)["values"]["print"]
]


def _levels(data: pd.DataFrame, column: str, r_labels: object) -> list[object]:
    labels = [r_labels] if isinstance(r_labels, str) else list(r_labels)  # type: ignore[call-overload]
    present = {str(x): x for x in pd.unique(data[column])}
    return [present[str(g)] for g in labels]


@pytest.mark.parametrize("name", KM_WITH_RMEAN)
def test_rmst_matches_print_rmean(name: str) -> None:
    """RMST and its SE equal R ``print(fit, rmean = tau)`` for every group."""
    fx = load_fixture(name)
    v = fx["values"]
    data = load_data(fx["data"]["file"])
    group = data[v["group"]] if v.get("group") else None
    levels = _levels(data, v["group"], v["print"]["groups"]) if v.get("group") else None
    res = restricted_mean_survival_time(
        data[v["time"]], data[v["event"]], tau=float(v["print"]["tau"]), group=group, levels=levels
    )
    assert_matches_r(res.table["estimate"], fx, v["print"]["rmean"], "rmean")
    assert_matches_r(res.table["std_err"], fx, v["print"]["se_rmean"], "se(rmean)")


@pytest.mark.parametrize("name", fixture_names("rmst__"))
def test_rmst_difference(name: str) -> None:
    """Two-group difference, SE, CI and p from R's rmean and se(rmean)."""
    fx = load_fixture(name)
    v = fx["values"]
    data = load_data(fx["data"]["file"])
    res = restricted_mean_survival_time(
        data[v["time"]], data[v["event"]], tau=float(v["tau"]), group=data[v["group"]],
        levels=_levels(data, v["group"], v["groups"]),
    )
    assert_matches_r(res.table["estimate"], fx, v["rmean"], "rmean")
    d = res.differences.iloc[0]
    for col, key in [("estimate", "difference"), ("std_err", "se_difference"),
                     ("lower", "lower"), ("upper", "upper"), ("p_value", "p_value")]:
        assert_matches_r(d[col], fx, v[key], col)


def test_rmst_warns_when_tau_beyond_follow_up() -> None:
    data = load_data("aml.csv")
    res = restricted_mean_survival_time(data["time"], data["status"], tau=100, group=data["x"])
    assert any("Nonmaintained" in w and "carried forward" in w for w in res.warnings)
    assert "Restricted mean survival time" in res.summary()


def test_rmst_hand_computed() -> None:
    """Times 1, 2, 3 (events) and 4 (censored), tau = 4: area = 1 + .75 + .5 + .25 = 2.5."""
    res = restricted_mean_survival_time([1, 2, 3, 4], [1, 1, 1, 0], tau=4)
    assert res.table["estimate"].iloc[0] == pytest.approx(2.5, rel=1e-15)
    # A_j: from 1: .75+.5+.25 = 1.5; from 2: .75; from 3: .25; h = 1/12, 1/6, 1/2
    expected_var = 1.5**2 / 12 + 0.75**2 / 6 + 0.25**2 / 2
    assert res.table["std_err"].iloc[0] == pytest.approx(np.sqrt(expected_var), rel=1e-15)


def test_rmst_rejects_bad_tau() -> None:
    with pytest.raises(InputError, match="tau"):
        restricted_mean_survival_time([1, 2], [1, 0], tau=0)


@pytest.mark.parametrize("name", fixture_names("median_follow_up__"))
def test_median_follow_up_matches_reverse_km(name: str) -> None:
    fx = load_fixture(name)
    v = fx["values"]
    data = load_data(fx["data"]["file"])
    res = median_follow_up(data[v["time"]], data[v["event"]])
    row = res.table.iloc[0]
    est = np.asarray(v["estimate"])
    assert_matches_r([row["q1"], row["estimate"], row["q3"]], fx, est, "quartiles")
    assert_matches_r(row["lower"], fx, np.asarray(v["lower"])[1], "median lower")
    assert_matches_r(row["upper"], fx, np.asarray(v["upper"])[1], "median upper")
    assert "reverse Kaplan-Meier" in res.summary()


def test_median_follow_up_all_events_is_an_input_error() -> None:
    with pytest.raises(InputError, match="none censored"):
        median_follow_up([1, 2, 3], [1, 1, 1])


LANDMARK_CASES = fixture_names("landmark__")
SPECS = {"platelets_by_L": ("tp", "dp"), "agvhd_by_L": ("ta", "da")}


@pytest.mark.parametrize("name", LANDMARK_CASES)
def test_landmark_day100_bmt(name: str) -> None:
    """bmt at day 100: counts excluded, frozen covariate, KM and log-rank on the landmark set."""
    fx = load_fixture(name)
    v = fx["values"]
    data = load_data("bmt.csv")
    cv = v["covariate"]
    lm = landmark(data, landmark=float(v["landmark"]), time="t1", event="d1",
                  covariates_at_landmark={cv: SPECS[cv]})
    assert lm.n_total == int(v["n_total"])
    assert lm.n_kept == int(v["n_kept"])
    assert lm.excluded["event at or before the landmark"] == int(v["n_excluded_event"])
    assert lm.excluded["censored at or before the landmark"] == int(v["n_excluded_censored"])
    assert lm.covariate_counts[cv] == int(v["n_covariate"])
    d = lm.data
    assert (d["t1"] == d["t1_from_origin"] - 100).all()
    km = kaplan_meier(d["t1"], d["d1"], group=d[cv])
    tab = km.table
    assert_matches_r(tab["surv"], fx, v["table"]["surv"], "surv")
    assert_matches_r(tab["lower"], fx, v["table"]["lower"], "lower")
    assert_counts_equal(tab["n_risk"], v["table"]["n_risk"], fx, "n_risk")
    at = km.at(v["at_times"])
    assert_matches_r(at["surv"], fx, v["at"]["surv"], "at.surv")
    lr = logrank_test(d["t1"], d["d1"], d[cv])
    assert_matches_r(lr.statistic, fx, v["logrank"]["statistic"], "logrank statistic")
    assert_matches_r(lr.p_value, fx, v["logrank"]["p_value"], "logrank p")
    assert_matches_r(lr.expected, fx, v["logrank"]["expected"], "logrank expected")
    assert "excluded" in lm.summary()


def test_landmark_switch_time_column_and_competing_status() -> None:
    """A single switch-time column (NaN = never) and a competing-risks status column."""
    data = pd.DataFrame({
        "os_days": [50, 120, 200, 300, 90, 400],
        "status": [2, 1, 0, 1, 0, 2],
        "days_to_hsct": [np.nan, 60, 150, 80, np.nan, 100],
    })
    lm = landmark(data, landmark=100, time="os_days", status="status",
                  covariates_at_landmark={"hsct_by_100": "days_to_hsct"})
    assert lm.n_kept == 4
    assert lm.excluded == {"event (any cause) at or before the landmark": 1,
                           "censored at or before the landmark": 1}
    assert lm.data["hsct_by_100"].tolist() == [1, 0, 1, 1]
    assert lm.data["os_days"].tolist() == [20, 100, 200, 300]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"landmark": -1, "time": "t1", "event": "d1"}, "landmark"),
        ({"landmark": 100, "time": "nope", "event": "d1"}, "not a column"),
        ({"landmark": 100, "time": "t1"}, "exactly one"),
        ({"landmark": 100, "time": "t1", "event": "d1", "status": "d1"}, "exactly one"),
        ({"landmark": 100, "time": "t1", "event": "d1",
          "covariates_at_landmark": {"x": ("tp", "nope")}}, "not a column"),
        ({"landmark": 100, "time": "t1", "event": "d1",
          "covariates_at_landmark": {"group": "tp"}}, "already"),
        ({"landmark": 100, "time": "t1", "event": "d1",
          "covariates_at_landmark": {"x": 5}}, "spec"),
    ],
)
def test_landmark_bad_input(kwargs: dict[str, object], match: str) -> None:
    data = load_data("bmt.csv")
    with pytest.raises(InputError, match=match):
        landmark(data, **kwargs)  # type: ignore[arg-type]


def test_landmark_indicator_without_time() -> None:
    data = pd.DataFrame({"t": [200.0, 300.0], "e": [1, 0], "tx": [np.nan, 50.0], "dx": [1, 1]})
    with pytest.raises(InputError, match=r"tx: is missing where dx = 1 \(at 0-based position 0\)"):
        landmark(
            data, landmark=100, time="t", event="e", covariates_at_landmark={"x": ("tx", "dx")}
        )
