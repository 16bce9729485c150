"""Bad input raises InputError naming the argument and the positions, never a numpy error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rrball.errors import InputError
from rrball.stats import (
    kaplan_meier,
    logrank_test,
    median_follow_up,
    restricted_mean_survival_time,
)

T = [5.0, 8.0, 3.0, 12.0]
E = [1, 0, 1, 1]


@pytest.mark.parametrize(
    ("time", "event", "argument", "positions"),
    [
        ([5.0, -1.0, 3.0, -2.0], E, "time", (1, 3)),
        ([5.0, np.nan, 3.0, 12.0], E, "time", (1,)),
        ([5.0, np.inf, 3.0, 12.0], E, "time", (1,)),
        (["5", "x", "3", "12"], E, "time", (1,)),
        (T, [1, 2, 0, 1], "event", (1,)),
        (T, [1, 0, np.nan, 1], "event", (2,)),
        (T, [1.0, 0.5, 0.0, 1.0], "event", (1,)),
        (T, ["dead", 0, 1, 1], "event", (0,)),
    ],
)
def test_bad_values_name_argument_and_positions(
    time: list[object], event: list[object], argument: str, positions: tuple[int, ...]
) -> None:
    for fn in (kaplan_meier, lambda t, e: logrank_test(t, e, ["a", "a", "b", "b"])):
        with pytest.raises(InputError) as err:
            fn(time, event)
        assert err.value.argument == argument
        assert err.value.positions == positions
        assert argument in str(err.value) and "position" in str(err.value)


def test_length_mismatch() -> None:
    with pytest.raises(InputError, match="event: has length 3 but time has length 4"):
        kaplan_meier(T, [1, 0, 1])
    with pytest.raises(InputError, match="group: has length 2"):
        kaplan_meier(T, E, group=["a", "b"])
    with pytest.raises(InputError, match="entry: has length 2"):
        kaplan_meier(T, E, entry=[0, 1])


def test_empty_input() -> None:
    with pytest.raises(InputError, match="time: is empty"):
        kaplan_meier([], [])


def test_empty_group_in_levels() -> None:
    with pytest.raises(InputError, match=r"group.*'c'.*no subjects"):
        kaplan_meier(T, E, group=["a", "a", "b", "b"], levels=["a", "b", "c"])


def test_label_outside_levels() -> None:
    with pytest.raises(InputError, match="not listed in levels") as err:
        kaplan_meier(T, E, group=["a", "a", "b", "z"], levels=["a", "b"])
    assert err.value.positions == (3,)


def test_missing_group_label() -> None:
    with pytest.raises(InputError, match="missing labels") as err:
        logrank_test(T, E, ["a", None, "b", "b"])
    assert err.value.positions == (1,)


def test_all_censored() -> None:
    with pytest.raises(InputError, match="no events"):
        kaplan_meier(T, [0, 0, 0, 0])
    with pytest.raises(InputError, match="no events"):
        logrank_test(T, [0, 0, 0, 0], ["a", "a", "b", "b"])
    with pytest.raises(InputError, match="no events"):
        restricted_mean_survival_time(T, [0, 0, 0, 0], tau=5)


def test_one_group_logrank() -> None:
    with pytest.raises(InputError, match="at least two groups"):
        logrank_test(T, E, ["a"] * 4)


def test_logrank_without_comparable_groups_says_so() -> None:
    """Group b leaves follow-up before the first event: no test, NaN and a warning (not 0)."""
    res = logrank_test([5, 8, 1, 2], [1, 1, 0, 0], ["a", "a", "b", "b"])
    assert res.df == 0 and np.isnan(res.statistic) and np.isnan(res.p_value)
    assert any("no comparison possible" in w for w in res.warnings)


def test_event_as_text_labels() -> None:
    res = kaplan_meier(T, ["1", "0", "True", "false"])
    assert res.events == {"all": 2}


def test_bad_options() -> None:
    with pytest.raises(InputError, match="conf_type: 'loglog' is not one of"):
        kaplan_meier(T, E, conf_type="loglog")
    with pytest.raises(InputError, match="conf_level"):
        kaplan_meier(T, E, conf_level=95)
    with pytest.raises(InputError, match="rho"):
        logrank_test(T, E, ["a", "a", "b", "b"], rho=-1)
    with pytest.raises(InputError, match="probs"):
        kaplan_meier(T, E).quantile([0.5, 1.0])
    with pytest.raises(InputError, match="times"):
        kaplan_meier(T, E).at([-1.0])


def test_entry_not_before_exit() -> None:
    with pytest.raises(InputError, match="entry: must be strictly before") as err:
        kaplan_meier(T, E, entry=[0, 8, 1, 0])
    assert err.value.positions == (1,)


def test_scalar_and_2d_input() -> None:
    with pytest.raises(InputError, match="one value per subject"):
        kaplan_meier(5.0, 1)
    with pytest.raises(InputError, match="1-dimensional"):
        kaplan_meier(np.ones((2, 2)), np.ones((2, 2)))


def test_booleans_and_series_accepted() -> None:
    res = kaplan_meier(pd.Series(T), pd.Series([True, False, True, True]))
    assert res.events == {"all": 3}


def test_many_bad_positions_are_truncated_in_message() -> None:
    with pytest.raises(InputError) as err:
        kaplan_meier(-np.arange(1, 30, dtype=float), np.ones(29))
    assert len(err.value.positions) == 29
    assert "and 19 more" in str(err.value)


def test_follow_up_rejects_bad_event() -> None:
    with pytest.raises(InputError, match="event"):
        median_follow_up(T, [1, 3, 0, 0])
