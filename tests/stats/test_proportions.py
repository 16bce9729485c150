"""proportion_ci against R binom.test / prop.test, FDA's published Clopper-Pearson numbers, and
bad input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rrball.errors import InputError
from rrball.stats import proportion_ci
from tests._rfixture import assert_matches_r, fixture_names, load_data, load_fixture

CASES = fixture_names("proportion__")


def test_there_are_proportion_fixtures() -> None:
    assert len(CASES) == 2 * len(load_data("proportion_cases.csv"))


@pytest.mark.parametrize("name", CASES)
def test_matches_r(name: str) -> None:
    """Each method's interval, statistic and p-value equal R's at 1e-9."""
    fx = load_fixture(name)
    v = fx["values"]
    x, n, lev = int(v["x"]), int(v["n"]), float(v["conf_level"])
    ex = proportion_ci(x, n, method="exact", conf_level=lev)
    r = v["exact"]
    assert_matches_r([ex.estimate, ex.lower, ex.upper, ex.p_value], fx,
                     [r["estimate"], r["lower"], r["upper"], r["p_value"]], "exact")
    for key, method in (("wilson", "wilson"), ("wilson_cc", "wilson-cc")):
        res = proportion_ci(x, n, method=method, conf_level=lev)
        r = v[key]
        assert_matches_r([res.lower, res.upper, res.statistic, res.p_value], fx,
                         [r["lower"], r["upper"], r["statistic"], r["p_value"]], key)


@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [(22, 53, 28.1, 55.9), (21, 22, 77.2, 99.9), (19, 22, 65.1, 97.1)],
)
def test_fda_paediatric_inotuzumab_numbers(x: int, n: int, lower: float, upper: float) -> None:
    """clinical-reference §5.3: FDA's published CIs are Clopper-Pearson, to 1 decimal."""
    res = proportion_ci(x, n)
    assert round(100 * res.lower, 1) == lower
    assert round(100 * res.upper, 1) == upper


def test_hand_computed_edges() -> None:
    """x = 0: lower 0, upper 1 - (alpha/2)^(1/n); x = n: mirror image."""
    res = proportion_ci(0, 10)
    assert res.lower == 0.0
    assert math.isclose(res.upper, 1 - 0.025 ** (1 / 10), rel_tol=1e-13)
    res = proportion_ci(10, 10)
    assert res.upper == 1.0
    assert math.isclose(res.lower, 0.025 ** (1 / 10), rel_tol=1e-13)
    assert proportion_ci(5, 10).p_value == 1.0


def test_result_object() -> None:
    res = proportion_ci(22, 53, method="wilson")
    frame = res.to_frame()
    assert list(frame.columns)[:5] == ["x", "n", "estimate", "lower", "upper"]
    assert frame["lower"].dtype.kind == "f"
    assert "prop.test(22, 53" in res.summary()
    assert res.to_dict()["method"]["method"] == "wilson"
    assert "ProportionResult(" in repr(res)


@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.sampled_from(["exact", "wilson", "wilson-cc"]), st.floats(0.5, 0.999))
def test_interval_contains_estimate(xn: tuple[int, int], method: str, level: float) -> None:
    x, n = xn
    res = proportion_ci(x, n, method=method, conf_level=level)
    assert 0.0 <= res.lower <= res.estimate <= res.upper <= 1.0
    assert 0.0 <= res.p_value <= 1.0


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"x": -1, "n": 10}, "x"),
        ({"x": 2.5, "n": 10}, "x"),
        ({"x": 11, "n": 10}, "x"),
        ({"x": 1, "n": 0}, "n"),
        ({"x": True, "n": 3}, "x"),
        ({"x": 1, "n": 3, "method": "wald"}, "method"),
        ({"x": 1, "n": 3, "conf_level": 95}, "conf_level"),
    ],
)
def test_bad_input(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(InputError) as err:
        proportion_ci(**kwargs)  # type: ignore[arg-type]
    assert err.value.argument == argument
