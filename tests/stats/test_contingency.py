"""chi_square_test and fisher_exact_test against R chisq.test / fisher.test on tables from
Bioconductor ALL and KMsurv bmt; hand-computed cases, brute-force enumeration, invariants, bad
input."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from rrball.errors import InputError
from rrball.stats import chi_square_test, fisher_exact_test
from rrball.stats._exact_rxc import exact_rxc_p_value, log_table_probability
from tests._rfixture import assert_matches_r, fixture_names, load_data, load_fixture

TABLES = fixture_names("contingency__")
ODDS = fixture_names("fisher_or__")


def _table(fx: dict[str, object]) -> np.ndarray:
    return np.asarray(fx["values"]["table"], dtype=np.int64)  # type: ignore[index]


def test_tables_are_built_from_the_shared_data() -> None:
    """The fixture tables are the cross-tabulations of the CSVs the tests read."""
    d = load_data("all_pheno.csv")
    b = load_data("bmt.csv")
    built = {
        "contingency__all__lineage_cr_2x2": pd.crosstab(d["lineage"], d["cr"]),
        "contingency__all__af4_cr_2x2_zero": pd.crosstab(d["all1_af4"], d["cr"]),
        "contingency__bmt__group_d3_3x2": pd.crosstab(b["group"], b["d3"]),
        "contingency__bmt__group_hospital_3x4_zero": pd.crosstab(b["group"], b["z9"]),
        "contingency__bmt__group_fab_3x2_zero": pd.crosstab(b["group"], b["z8"]),
    }
    mol = d[d["mol_biol"].isin(["ALL1/AF4", "BCR/ABL", "E2A/PBX1", "NEG"])]
    built["contingency__all__mol4_cr_4x2_sparse"] = pd.crosstab(mol["mol_biol"], mol["cr"])
    assert set(built) == set(TABLES)
    for name, tab in built.items():
        assert np.array_equal(tab.to_numpy(), _table(load_fixture(name))), name


@pytest.mark.parametrize("name", TABLES)
def test_chi_square_matches_r(name: str) -> None:
    fx = load_fixture(name)
    v = fx["values"]["chisq"]
    res = chi_square_test(_table(fx))
    assert_matches_r([res.statistic, res.p_value], fx, [v["statistic"], v["p_value"]], "chisq")
    assert res.df == int(v["df"])
    assert_matches_r(res.expected, fx, v["expected"], "expected")
    assert_matches_r(res.residuals, fx, v["residuals"], "residuals")
    assert_matches_r(res.std_residuals, fx, v["stdres"], "stdres")
    assert res.small_expected == bool(v["small_expected_warning"])
    if res.small_expected:
        assert any("fisher_exact_test" in w for w in res.warnings)
    corrected = chi_square_test(_table(fx), correction=True)
    vc = fx["values"]["chisq_corrected"]
    assert_matches_r([corrected.statistic, corrected.p_value], fx,
                     [vc["statistic"], vc["p_value"]], "chisq corrected")


@pytest.mark.parametrize("name", TABLES)
def test_fisher_p_matches_r(name: str) -> None:
    fx = load_fixture(name)
    res = fisher_exact_test(_table(fx))
    assert_matches_r(res.p_value, fx, fx["values"]["fisher"]["p_value"], "fisher p")


@pytest.mark.parametrize("name", ODDS)
def test_fisher_odds_ratio_matches_r(name: str) -> None:
    """fisher.test's printed estimate/CI (uniroot default tol, the fixture's rtol) and the same
    equations solved tightly in R (1e-9)."""
    fx = load_fixture(name)
    v = fx["values"]
    res = fisher_exact_test(_table(fx))
    got = [res.conditional_odds_ratio, res.or_lower, res.or_upper]
    assert_matches_r(got, fx, [v["estimate"], v["lower"], v["upper"]], "fisher.test OR")
    tight = {**fx, "tolerance": {"rtol": 1e-9, "atol": 0.0}}
    assert_matches_r(got, tight, [v["refined_estimate"], v["refined_lower"], v["refined_upper"]],
                     "refined OR")
    less = fisher_exact_test(_table(fx), alternative="less")
    greater = fisher_exact_test(_table(fx), alternative="greater")
    assert_matches_r([less.p_value, greater.p_value], tight, [v["p_less"], v["p_greater"]],
                     "one-sided p")


def test_yates_hand_computed() -> None:
    """2x2 [[10, 20], [30, 40]]: E = [[12, 18], [28, 42]], |O - E| = 2, Yates 0.5:
    X2 = 1.5^2 (1/12 + 1/18 + 1/28 + 1/42)."""
    tab = [[10, 20], [30, 40]]
    expected = 1.5**2 * (1 / 12 + 1 / 18 + 1 / 28 + 1 / 42)
    assert math.isclose(chi_square_test(tab, correction=True).statistic, expected, rel_tol=1e-14)
    plain = 2.0**2 * (1 / 12 + 1 / 18 + 1 / 28 + 1 / 42)
    assert math.isclose(chi_square_test(tab).statistic, plain, rel_tol=1e-14)


def test_yates_is_capped_like_r() -> None:
    """When |O - E| < 0.5 the correction is |O - E|, so the corrected statistic is 0."""
    res = chi_square_test([[5, 5], [5, 6]], correction=True)
    assert res.statistic == pytest.approx(0.0, abs=1e-15)
    assert res.p_value == pytest.approx(1.0)


def test_yates_not_applied_beyond_2x2() -> None:
    tab = [[5, 7, 9], [8, 2, 10]]
    assert chi_square_test(tab, correction=True).statistic == chi_square_test(tab).statistic
    assert not chi_square_test(tab, correction=True).correction


def test_fisher_2x2_hand_computed() -> None:
    """[[3, 1], [1, 3]]: hypergeometric P(X = k) = C(4,k) C(4,4-k) / C(8,4) = [1,16,36,16,1]/70;
    two-sided p = (1 + 16 + 16 + 1)/70 (tables no more likely than the observed 16/70)."""
    res = fisher_exact_test([[3, 1], [1, 3]])
    assert math.isclose(res.p_value, 34 / 70, rel_tol=1e-14)
    assert res.conditional_odds_ratio > 1


def _brute_force(table: np.ndarray) -> float:
    """Enumerate every table with the same margins (small tables only)."""
    r, c = table.sum(axis=1), table.sum(axis=0)
    obs = log_table_probability(table)
    total = 0.0
    free = [range(min(int(r[i]), int(c[j])) + 1)
            for i in range(table.shape[0] - 1) for j in range(table.shape[1] - 1)]
    for cells in itertools.product(*free):
        t = np.zeros_like(table)
        t[:-1, :-1] = np.reshape(cells, (table.shape[0] - 1, table.shape[1] - 1))
        t[:-1, -1] = r[:-1] - t[:-1, :-1].sum(axis=1)
        t[-1, :] = c - t[:-1, :].sum(axis=0)
        if (t < 0).any():
            continue
        lp = log_table_probability(t)
        if lp <= obs + math.log1p(1e-7):
            total += math.exp(lp)
    return total


@given(st.integers(2, 3), st.integers(2, 3), st.data())
def test_rxc_equals_brute_force(n_rows: int, n_cols: int, data: st.DataObject) -> None:
    cells = data.draw(st.lists(st.integers(0, 5), min_size=n_rows * n_cols,
                               max_size=n_rows * n_cols))
    tab = np.array(cells, dtype=np.int64).reshape(n_rows, n_cols)
    if (tab.sum(axis=0) == 0).any() or (tab.sum(axis=1) == 0).any():
        return
    assert math.isclose(exact_rxc_p_value(tab), _brute_force(tab), rel_tol=1e-11, abs_tol=1e-15)


@given(st.lists(st.integers(0, 12), min_size=8, max_size=8), st.permutations(range(4)),
       st.permutations(range(2)))
def test_fisher_invariant_to_permutation_and_transpose(
    cells: list[int], rows: list[int], cols: list[int]
) -> None:
    tab = np.array(cells, dtype=np.int64).reshape(4, 2)
    if tab.sum() == 0:
        return
    p = fisher_exact_test(tab).p_value
    assert 0.0 <= p <= 1.0
    assert math.isclose(fisher_exact_test(tab[rows][:, cols]).p_value, p, rel_tol=1e-10)
    assert math.isclose(fisher_exact_test(tab.T).p_value, p, rel_tol=1e-10)


@given(st.lists(st.integers(0, 40), min_size=4, max_size=4))
def test_2x2_agrees_with_scipy_and_ci_contains_estimate(cells: list[int]) -> None:
    tab = np.array(cells, dtype=np.int64).reshape(2, 2)
    if (tab.sum(axis=0) == 0).any() or (tab.sum(axis=1) == 0).any():
        return
    res = fisher_exact_test(tab)
    assert math.isclose(res.p_value, sps.fisher_exact(tab).pvalue, rel_tol=1e-9)
    if not math.isnan(res.conditional_odds_ratio):
        assert res.or_lower <= res.conditional_odds_ratio <= res.or_upper


@given(st.lists(st.integers(0, 30), min_size=6, max_size=6))
def test_chi_square_p_in_unit_interval(cells: list[int]) -> None:
    tab = np.array(cells, dtype=np.int64).reshape(3, 2)
    if (tab.sum(axis=0) == 0).any() or (tab.sum(axis=1) == 0).any():
        return
    res = chi_square_test(tab)
    assert 0.0 <= res.p_value <= 1.0
    assert res.statistic >= 0.0
    assert np.allclose(res.expected.sum(axis=1), tab.sum(axis=1))


def test_seed_sized_tables_are_fast() -> None:
    """A 4x2 table of 182 patients and a 3x4 table of 137 run well under a second (exact)."""
    for tab in (np.array([[30, 15], [40, 12], [50, 10], [20, 5]]),
                np.array([[21, 8, 9, 0], [27, 5, 7, 15], [28, 4, 7, 6]])):
        start = time.perf_counter()
        fisher_exact_test(tab)
        assert time.perf_counter() - start < 1.0


def test_result_objects() -> None:
    tab = pd.DataFrame([[75, 9], [24, 6]], index=["B", "T"], columns=["CR", "REF"])
    chi = chi_square_test(tab)
    frame = chi.to_frame()
    assert list(frame["row"]) == ["B", "B", "T", "T"]
    assert frame["expected"].dtype.kind == "f"
    assert "Pearson's Chi-squared test" in chi.summary()
    assert chi.to_dict()["df"] == 1
    fis = fisher_exact_test(tab)
    assert "conditional MLE" in fis.summary()
    assert fis.to_frame().loc[0, "p_value"] == fis.p_value
    assert fis.to_dict()["method"]["monte_carlo"] is False
    big = fisher_exact_test([[10, 0], [22, 8], [4, 0], [61, 7]])
    assert math.isnan(big.conditional_odds_ratio)
    assert "4x2" in big.summary()
    assert "FisherExactResult(" in repr(big)
    assert "ChiSquareResult(" in repr(chi)


def test_zero_rows_do_not_change_fisher() -> None:
    tab = np.array([[3, 4], [0, 0], [5, 1]])
    assert math.isclose(fisher_exact_test(tab).p_value, fisher_exact_test(tab[[0, 2]]).p_value,
                        rel_tol=1e-12)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ([[1, -2], [3, 4]], "negative"),
        ([[1, 2.5], [3, 4]], "non-integer"),
        ([[1, float("nan")], [3, 4]], "missing"),
        ([], "empty"),
        ([1, 2, 3], "2-dimensional"),
        ([["a", 2], [3, 4]], "not counts"),
    ],
)
def test_bad_tables(table: object, problem: str) -> None:
    for fn in (chi_square_test, fisher_exact_test):
        with pytest.raises(InputError) as err:
            fn(table)
        assert err.value.argument == "table"
        assert problem in str(err.value)


def test_bad_table_positions() -> None:
    with pytest.raises(InputError) as err:
        chi_square_test([[1, 2], [-3, 4]])
    assert err.value.positions == (2,)
    assert "(1, 0)" in str(err.value)


def test_other_bad_input() -> None:
    with pytest.raises(InputError, match="empty rows"):
        chi_square_test([[0, 0], [3, 4]])
    with pytest.raises(InputError, match="2 rows and 2 columns"):
        fisher_exact_test([[1, 2, 3]])
    with pytest.raises(InputError) as err:
        fisher_exact_test([[1, 2], [3, 4], [5, 6]], alternative="less")
    assert err.value.argument == "alternative"
    with pytest.raises(InputError):
        fisher_exact_test([[0, 0], [0, 0]])
    with pytest.raises(InputError) as err:
        chi_square_test([[1, 2], [3, 4]], correction="yes")  # type: ignore[arg-type]
    assert err.value.argument == "correction"
