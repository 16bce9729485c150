"""Property tests: invariants every Kaplan-Meier / log-rank result must satisfy."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from rrball.stats import kaplan_meier, logrank_test

times_events = st.integers(min_value=2, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 30).map(float), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n).filter(any),
        st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n),
        st.randoms(use_true_random=False),
    )
)


@given(times_events, st.sampled_from(["log", "log-log", "plain", "logit", "arcsin"]))
def test_survival_is_monotone_in_unit_interval(data: tuple, conf_type: str) -> None:  # type: ignore[type-arg]
    time, event, group, _ = data
    res = kaplan_meier(time, event, group=group, conf_type=conf_type)
    for label in res.groups:
        curve = res.curve(label)
        s = curve["surv"].to_numpy()
        assert np.all((s >= 0) & (s <= 1))
        assert np.all(np.diff(s) <= 0)
        lo, hi = curve["lower"].to_numpy(), curve["upper"].to_numpy()
        ok = ~np.isnan(lo)
        assert np.all(lo[ok] <= s[ok] + 1e-12) and np.all(hi[ok] >= s[ok] - 1e-12)
        assert np.all((lo[ok] >= 0) & (hi[ok] <= 1))


@given(times_events)
def test_risk_set_bookkeeping(data: tuple) -> None:  # type: ignore[type-arg]
    """n_risk(next) = n_risk - n_event - n_censor; first n_risk = group size; totals add up."""
    time, event, group, _ = data
    res = kaplan_meier(time, event, group=group)
    for label in res.groups:
        c = res.curve(label)
        nr, ne, nc = (c[x].to_numpy() for x in ("n_risk", "n_event", "n_censor"))
        assert nr[0] == res.n[label]
        np.testing.assert_array_equal(nr[1:], (nr - ne - nc)[:-1])
        assert ne.sum() == res.events[label]
        assert ne.sum() + nc.sum() == res.n[label]


@given(times_events)
def test_permutation_invariance(data: tuple) -> None:  # type: ignore[type-arg]
    time, event, group, rnd = data
    idx = list(range(len(time)))
    rnd.shuffle(idx)
    a = kaplan_meier(time, event, group=group)
    b = kaplan_meier([time[i] for i in idx], [event[i] for i in idx], group=[group[i] for i in idx])
    assert a.table.equals(b.table)
    if len(set(group)) > 1 and any(event):
        la = logrank_test(time, event, group)
        lb = logrank_test([time[i] for i in idx], [event[i] for i in idx], [group[i] for i in idx])
        assert np.isclose(la.statistic, lb.statistic, rtol=1e-10, atol=1e-12, equal_nan=True)


@given(times_events)
def test_group_relabelling(data: tuple) -> None:  # type: ignore[type-arg]
    """Renaming groups changes labels only; the log-rank statistic is label-free."""
    time, event, group, _ = data
    rename = {"a": "z", "b": "y", "c": "x"}
    a = kaplan_meier(time, event, group=group)
    b = kaplan_meier(time, event, group=[rename[g] for g in group])
    for label in a.groups:
        ca = a.curve(label).drop(columns="group")
        cb = b.curve(rename[str(label)]).drop(columns="group")
        assert ca.equals(cb)
    if len(set(group)) > 1:
        la = logrank_test(time, event, group)
        lb = logrank_test(time, event, [rename[g] for g in group])
        assert np.isclose(la.statistic, lb.statistic, rtol=1e-10, atol=1e-12, equal_nan=True)
        assert la.df == lb.df


@given(times_events, st.floats(min_value=0.5, max_value=10.0))
def test_time_scale_invariance(data: tuple, scale: float) -> None:  # type: ignore[type-arg]
    """Changing the time unit (days → weeks) changes times only, thanks to near-tie merging."""
    time, event, group, _ = data
    a = kaplan_meier(time, event, group=group)
    b = kaplan_meier([t / scale for t in time], event, group=group)
    np.testing.assert_array_equal(a.table["n_event"], b.table["n_event"])
    np.testing.assert_allclose(a.table["surv"], b.table["surv"], rtol=1e-13)
