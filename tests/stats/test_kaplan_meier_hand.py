"""Hand-computed Kaplan-Meier cases (Therneau's "book" habit): exact fractions on tiny data."""

from __future__ import annotations

from fractions import Fraction as F  # noqa: N817 - exact fractions read best short

import numpy as np
import pytest

from rrball.stats import kaplan_meier, logrank_test


def test_textbook_curve_with_ties_and_censoring() -> None:
    """Times 1, 2, 2+, 3, 3, 4+, 5: S = 6/7, then 6/7*4/5... with Greenwood by hand."""
    time = [3, 1, 2, 5, 3, 2, 4]
    event = [1, 1, 0, 1, 1, 1, 0]
    res = kaplan_meier(time, event)
    tab = res.table
    assert tab["time"].tolist() == [1, 2, 3, 4, 5]
    assert tab["n_risk"].tolist() == [7, 6, 4, 2, 1]
    assert tab["n_event"].tolist() == [1, 1, 2, 0, 1]
    assert tab["n_censor"].tolist() == [0, 1, 0, 1, 0]
    s = [F(6, 7)]
    s.append(s[-1] * F(5, 6))
    s.append(s[-1] * F(2, 4))
    s.append(s[-1])
    s.append(F(0))
    np.testing.assert_allclose(tab["surv"], [float(x) for x in s], rtol=1e-15)
    gw = [F(1, 7 * 6), F(1, 7 * 6) + F(1, 6 * 5), F(1, 42) + F(1, 30) + F(2, 4 * 2)]
    np.testing.assert_allclose(
        tab["std_err_cumhaz"][:3], [float(np.sqrt(float(g))) for g in gw], rtol=1e-14
    )
    assert np.isinf(tab["std_err_cumhaz"].iloc[4])
    assert np.isnan(tab["lower"].iloc[4])  # S = 0: no log-scale CI, as R


def test_unsorted_input_same_as_sorted() -> None:
    a = kaplan_meier([3, 1, 2, 5], [1, 1, 0, 1])
    b = kaplan_meier([1, 2, 3, 5], [1, 0, 1, 1])
    assert a.table.equals(b.table)


def test_median_is_midpoint_for_even_uncensored_sample() -> None:
    """Uncensored 1..4: S = .5 on [2, 3), median 2.5 like the sample median."""
    res = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    assert res.median()["estimate"].iloc[0] == 2.5


def test_median_undefined_when_curve_stays_above_half() -> None:
    res = kaplan_meier([1, 2, 3, 4], [1, 0, 0, 0])
    assert np.isnan(res.median()["estimate"].iloc[0])


def test_left_truncation_risk_set() -> None:
    """Entry 0, 0, 2, 3, 1 and exit 5, 4, 6, 7, 3: at t = 3 four are at risk (as R computes)."""
    res = kaplan_meier([5, 4, 6, 7, 3], [1, 0, 1, 1, 1], entry=[0, 0, 2, 3, 1])
    tab = res.table
    assert tab["n_risk"].tolist() == [4, 4, 3, 2, 1]
    np.testing.assert_allclose(tab["surv"], [0.75, 0.75, 0.5, 0.25, 0.0], rtol=1e-15)
    assert res.median()["estimate"].iloc[0] == 5.5


def test_two_group_logrank_by_hand() -> None:
    """Group a: 1, 3; group b: 2, 4 (all events). O_a = 2, E_a = 1/2 + 2/3 + ... by hand."""
    res = logrank_test([1, 3, 2, 4], [1, 1, 1, 1], ["a", "a", "b", "b"])
    # event times 1 (n=4, na=2), 2 (n=3, na=1), 3 (n=2, na=1), 4 (n=1, na=0)
    e_a = F(2, 4) + F(1, 3) + F(1, 2) + 0
    v = F(2, 4) * F(2, 4) + F(1, 3) * F(2, 3) + F(1, 2) * F(1, 2)
    assert res.expected[0] == pytest.approx(float(e_a), rel=1e-15)
    assert res.variance[0, 0] == pytest.approx(float(v), rel=1e-15)
    assert res.statistic == pytest.approx(float((2 - e_a) ** 2 / v), rel=1e-14)
