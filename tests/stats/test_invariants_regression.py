"""Property tests for Cox, cumulative incidence and Gray's test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rrball.stats import cox_ph, cumulative_incidence, gray_test

survival_frames = st.integers(min_value=15, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 40).map(float), min_size=n, max_size=n),
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
        st.lists(st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 2)), min_size=n,
                 max_size=n),
        st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n),
        st.randoms(use_true_random=False),
    )
).filter(lambda t: sum(s == 1 for s in t[1]) >= 3 and len(set(t[3])) == 2 and len(set(t[2])) > 2)


@settings(max_examples=40)
@given(survival_frames, st.floats(0.1, 10.0))
def test_cox_invariances(data: tuple, scale: float) -> None:  # type: ignore[type-arg]
    """Row order does not matter; rescaling a covariate rescales its coefficient."""
    time, status, x, g, rnd = data
    frame = pd.DataFrame({"t": time, "e": [int(s == 1) for s in status], "x": x, "g": g})
    base = cox_ph(frame, time="t", event="e", covariates=["x", "g"], compute_concordance=False)
    if not base.converged or base.warnings:
        return
    idx = list(range(len(frame)))
    rnd.shuffle(idx)
    shuffled = cox_ph(frame.iloc[idx], time="t", event="e", covariates=["x", "g"],
                      compute_concordance=False)
    np.testing.assert_allclose(shuffled.coef, base.coef, rtol=1e-7, atol=1e-9)
    scaled = frame.assign(x=frame["x"] * scale)
    rescaled = cox_ph(scaled, time="t", event="e", covariates=["x", "g"],
                      compute_concordance=False)
    np.testing.assert_allclose(rescaled.coef[0] * scale, base.coef[0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(rescaled.tests["likelihood_ratio"].statistic,
                               base.tests["likelihood_ratio"].statistic, rtol=1e-7, atol=1e-9)


@settings(max_examples=60)
@given(survival_frames)
def test_cumulative_incidence_properties(data: tuple) -> None:  # type: ignore[type-arg]
    """CIFs are non-decreasing, in [0, 1], sum with all-cause survival to 1, CI brackets them."""
    time, status, _, g, _ = data
    res = cumulative_incidence(time, status, group=g)
    tab = res.table
    for (_, _), part in tab.groupby(["group", "cause"]):
        est = part["estimate"].to_numpy()
        assert np.all(np.diff(est) >= -1e-15) and np.all((est >= 0) & (est <= 1 + 1e-12))
        assert np.all(part["variance"].to_numpy() >= -1e-15)
    ok = tab["lower"].notna()
    assert (tab["lower"][ok] <= tab["estimate"][ok] + 1e-12).all()
    assert (tab["upper"][ok] >= tab["estimate"][ok] - 1e-12).all()


@settings(max_examples=40)
@given(survival_frames)
def test_gray_test_is_label_free(data: tuple) -> None:  # type: ignore[type-arg]
    time, status, _, g, rnd = data
    if not any(s > 0 for s in status):
        return
    a = gray_test(time, status, g)
    b = gray_test(time, status, ["z" if v == "a" else "y" for v in g])
    np.testing.assert_allclose(a.table["statistic"], b.table["statistic"], rtol=1e-9, atol=1e-12)
    idx = list(range(len(time)))
    rnd.shuffle(idx)
    c = gray_test([time[i] for i in idx], [status[i] for i in idx], [g[i] for i in idx])
    np.testing.assert_allclose(a.table["statistic"], c.table["statistic"], rtol=1e-9, atol=1e-12)
