"""Published-table consistency checker: clinical-reference.md §6.0 rules on the five seeds.

The expected findings below are transcribed from §6.1–6.5 ("Inconsistencies in seed …"): each
listed numeric inconsistency maps to the quoted items and rules that expose it. The checker must
produce exactly these findings per seed — every listed one and nothing else.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from rrball.study.consistency import (
    PartSumItem,
    PercentItem,
    Publication,
    PublicationError,
    Quoted,
    RatioItem,
    SplitItem,
    SplitPart,
    SumPart,
    check_publication,
    feasible_splits,
    parse_publication,
    published_seed,
    round_half_up,
)

# inconsistency id (clinical-reference.md §6) -> {(item id, rule, severity)}
EXPECTED: dict[str, dict[str, set[tuple[str, str, str]]]] = {
    "000": {
        "I000-01": {("N000-04", "C4", "error"), ("N000-04", "C6", "error")},
        "I000-02": {("N000-06", "C4", "error"), ("N000-06", "C6", "error")},
        "I000-03": {("N000-03", "C5", "error")},
        "I000-04": {("N000-02", "C1", "error"), ("N000-02-vs-28", "C9", "error")},
        "I000-05": {("N000-14", "C1", "error")},
        "I000-06": {("N000-15", "C1", "error")},
        "I000-07": {("N000-18", "C1", "error")},
        "I000-08": {("N000-19a", "C1", "error")},
        "I000-09": {("N000-19-vs-26", "C9", "error")},
        "I000-10": {("N000-21-orr", "C2", "error"), ("N000-21-cr", "C2", "error")},
        "I000-11": {("N000-22a", "C1", "error"), ("N000-22b", "C1", "error"),
                    ("N000-22c", "C3", "error")},
        "I000-12": {("N000-25", "C2", "error"), ("T000-15", "C1", "error")},
        "I000-13": {("T000-04b", "C1", "error"), ("T000-05b", "C1", "error")},
        "I000-14": {("T000-02i", "C1", "error")},
        "I000-15": {("T000-07b", "C1", "error")},
        "I000-16": {("T000-10", "C1", "error")},
        "I000-20": {("M000-weight", "C11", "error")},
    },
    "001": {
        "I001-01": {("N001-08-cats", "C11", "error")},
        "I001-02": {("N001-08", "C2", "error")},
        "I001-03": {("N001-09", "C2", "error")},
        "I001-04": {("N001-14", "C1", "error"), ("N001-15", "C1", "error")},
    },
    "002": {
        "I002-01": {("C2-relapse-count", "C9", "error")},
    },
    "003": {
        "I003-01": {("N003-06", "C1", "error")},
        "I003-02": {("N003-07", "C2", "error")},
        "I003-03": {("N003-08", "C1", "error"), ("N003-10", "C2", "error")},
        "I003-08": {("N003-20", "C10", "review")},
        # §6.0 C11 names "<12"/">12 months" as a boundary gap; §6.4 does not number it.
        "C11-example": {("N003-09-cats", "C11", "error")},
    },
    "004": {
        "I004-01": {("N004-13", "C7", "error")},
        "I004-02": {("N004-12 + N004-15", "C8", "review")},
        "I004-03": {("N004-10", "C7", "review")},
    },
}


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_seed_findings_are_exactly_the_listed_inconsistencies(seed: str) -> None:
    """Every numeric inconsistency §6 lists is found, and nothing else is flagged."""
    report = check_publication(published_seed(seed))
    found = {(f.item_id, f.rule, f.severity) for f in report.findings}
    expected = set().union(*EXPECTED[seed].values())
    assert found - expected == set(), "flagged something §6 lists as right"
    assert expected - found == set(), "missed an inconsistency §6 lists"


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_every_item_is_checked_and_explained(seed: str) -> None:
    """Each declared item yields at least one check record; each finding says why."""
    pub = published_seed(seed)
    report = check_publication(pub)
    checked = {c.item_id for c in report.checks}
    pvalue_only = {it.id for it in pub.items if type(it).__name__ == "PValueItem"}
    assert {it.id for it in pub.items} - pvalue_only <= checked
    for f in report.findings:
        assert f.message and f.quoted
    frame = report.to_frame()
    assert list(frame.columns)[:3] == ["rule", "item_id", "label"]
    assert len(frame) == len(report.findings)
    assert f"{len(report.errors)} errors" in report.summary()


def _finding(seed: str, item_id: str, rule: str) -> str:
    report = check_publication(published_seed(seed))
    (f,) = [f for f in report.findings if f.item_id == item_id and f.rule == rule]
    return f.message


def test_table2_recomputations_match_the_reference() -> None:
    """I000-01/02: implied OR √(L·U) and Wald p; the printed OR equals the implied p."""
    report = check_publication(published_seed("000"))
    by_item = {(f.item_id, f.rule): f for f in report.findings}
    status = by_item[("N000-04", "C4")]
    assert status.recomputed["implied_estimate"] == "0.359"
    assert status.recomputed["implied_wald_p"] == "0.0184"
    assert "equals the p-value implied by the CI" in status.message
    prior = by_item[("N000-06", "C4")]
    assert prior.recomputed["implied_estimate"] == "1.823"
    assert prior.recomputed["implied_wald_p"] == "0.188"
    age = by_item[("N000-03", "C5")]
    assert age.recomputed["implied_estimate"] == "3.787"
    assert "0.784 below vs 0.767 above" in age.message
    assert float(str(age.recomputed["rounding_allows"])) <= 0.0004
    checks = {(c.item_id, c.rule): c.status for c in report.checks}
    assert checks[("N000-05", "C5")] == "pass"
    assert checks[("N000-05", "C6")] == "pass"
    assert checks[("N000-03", "C6")] == "pass"  # implied 0.0008 agrees with "0.001"


def test_percent_messages_carry_the_recomputation() -> None:
    """C1 reports the exact percentage, truncation and the denominator that would match."""
    assert "58 % with 14 would need n = 24" in _finding("000", "N000-18", "C1")
    assert "44 % with 22 would need n = 50" in _finding("000", "T000-15", "C1")
    assert "(truncated, not rounded)" in _finding("001", "N001-14", "C1")
    ph = _finding("000", "N000-19a", "C1")
    assert "15/18 = 83.3 %" in ph and "16/18 = 88.9 %" in ph
    s1 = _finding("003", "N003-08", "C1")
    assert "71/77 = 92.2 %" in s1 and "truncation of 72/77" in s1
    assert "27 would remain for primary refractory, which has only 9" in _finding(
        "000", "N000-22c", "C3")


def _split(seed: str, item_id: str) -> SplitItem:
    item = next(it for it in published_seed(seed).items if it.id == item_id)
    assert isinstance(item, SplitItem)
    return item


def test_feasible_split_counts_match_the_reference() -> None:
    """N001-07 has the unique split 19/26 vs 10/17; N003-09 has 31 splits over 71 or 72 responders;
    N003-10 with S1 = 71 has the unique S2/S3+ split 10/17, 8/14."""
    risk = _split("001", "N001-07")
    assert feasible_splits(risk.parts, n_total=43, k_total=29) == [((26, 19), (17, 10))]
    strata = _split("003", "N003-09")
    n71 = feasible_splits(strata.parts, n_total=77, k_total=71)
    n72 = feasible_splits(strata.parts, n_total=77, k_total=72)
    assert len(n71) + len(n72) == 31
    assert ((8, 8), (25, 21), (44, 42)) in n71
    s2 = _split("003", "N003-10b")
    assert feasible_splits(s2.parts, n_total=31, k_total=18) == [((17, 10), (14, 8))]


def test_two_by_two_identifies_pearson_without_correction() -> None:
    """N003-20: Pearson 0.0558, Yates 0.116, Fisher 0.086; only Pearson gives 0.056."""
    report = check_publication(published_seed("003"))
    (f,) = [f for f in report.findings if f.rule == "C10"]
    assert f.recomputed["pearson"] == "0.0558"
    assert f.recomputed["yates"] == "0.116"
    assert f.recomputed["fisher"] == "0.0856"
    assert f.recomputed["matches"] == "pearson"


# ---- the checker never flags correctly rounded numbers --------------------------------------


def _pub(*items: object) -> Publication:
    return Publication(id="t", title="t", source="", conf_level=Quoted.parse("95"),
                       items=tuple(items))  # type: ignore[arg-type]


@pytest.mark.parametrize("decimals", [0, 1])
def test_correctly_rounded_percentages_are_never_flagged(decimals: int) -> None:
    """Every k/n (n ≤ 120) printed with round half up passes C1, with k known or not."""
    items = []
    for n in range(1, 121):
        for k in range(n + 1):
            text = f"{float(round_half_up(Fraction(100 * k, n), decimals)):.{decimals}f}"
            items.append(PercentItem(id=f"{k}/{n}", label="", percent=Quoted.parse(text), n=n,
                                     k=k))
            items.append(PercentItem(id=f"?/{n}#{k}", label="", percent=Quoted.parse(text), n=n))
    report = check_publication(_pub(*items))
    assert report.findings == ()


def test_correct_wald_intervals_are_never_flagged(rng: np.random.Generator) -> None:
    """ORs with Wald CIs and p computed exactly, then printed to 3 decimals, pass C4–C6."""
    from scipy.stats import norm

    items = []
    for i in range(400):
        beta = rng.normal(0.0, 1.2)
        se = rng.uniform(0.1, 0.8)
        p = 2 * norm.sf(abs(beta) / se)
        p_text = "<0.001" if p < 0.001 else f"{p:.3f}"
        est, lo, up = (math.exp(v) for v in (beta, beta - 1.959964 * se, beta + 1.959964 * se))
        items.append(RatioItem(id=str(i), label="", measure="OR",
                               estimate=Quoted.parse(f"{est:.3f}"), lower=Quoted.parse(f"{lo:.3f}"),
                               upper=Quoted.parse(f"{up:.3f}"), p=Quoted.parse(p_text)))
    report = check_publication(_pub(*items))
    assert [f.message for f in report.findings if f.rule != "C8"] == []


def test_part_sum_percentages_allow_rounding() -> None:
    """55 + 44 = 99 is within two half-units; 55 + 43 = 98 is not."""
    ok = PartSumItem(id="ok", label="", total=54, parts=(
        SumPart(label="a", count=30, percent=Quoted.parse("55")),
        SumPart(label="b", count=24, percent=Quoted.parse("44"))))
    bad = PartSumItem(id="bad", label="", total=54, parts=(
        SumPart(label="a", count=30, percent=Quoted.parse("55")),
        SumPart(label="b", count=24, percent=Quoted.parse("43"))))
    miscount = PartSumItem(id="miscount", label="", total=55, parts=(
        SumPart(label="a", count=30), SumPart(label="b", count=24)))
    report = check_publication(_pub(ok, bad, miscount))
    assert {f.item_id for f in report.findings} == {"bad", "miscount"}


def test_split_needs_n_total_for_free_sizes() -> None:
    """A part without n and no n_total cannot be searched."""
    with pytest.raises(PublicationError, match="n_total"):
        feasible_splits([SplitPart(label="a", percent=Quoted.parse("50"))], n_total=None,
                        k_total=None)


# ---- parsing --------------------------------------------------------------------------------


def test_quoted_numbers_keep_decimals_and_comparators() -> None:
    """'0.10' has two decimals; '<0.0001' is an upper bound; YAML floats are refused."""
    q = Quoted.parse("0.10")
    assert (q.decimals, q.value, q.half_unit) == (2, Fraction(1, 10), Fraction(1, 200))
    assert Quoted.parse("<0.0001").comparator == "<"
    assert Quoted.parse("55.6%").decimals == 1
    with pytest.raises(PublicationError, match="quote numbers as text"):
        Quoted.parse(0.1)
    with pytest.raises(PublicationError, match="not a number"):
        Quoted.parse("n/a")


def test_round_half_up_is_exact() -> None:
    """0.5 and 2.5 round up (not to even); 81.5 → 82."""
    assert round_half_up(Fraction(5, 10), 0) == 1
    assert round_half_up(Fraction(25, 10), 0) == 3
    assert round_half_up(Fraction(44 * 100, 54), 0) == 81
    assert round_half_up(Fraction(163, 2), 0) == 82


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"id": "x", "title": "t", "items": [{"id": "a", "kind": "percnt", "label": "l"}]},
         r"items\[0\] \(a\)\.kind: 'percnt' is not one of"),
        ({"id": "x", "title": "t", "items": [{"id": "a", "kind": "percent", "label": "l",
                                              "n": 10, "percent": "5", "k": 1, "typo": 2}]},
         r"items\[0\] \(a\): unknown field\(s\) typo"),
        ({"id": "x", "title": "t", "items": [{"id": "a", "kind": "ratio", "label": "l",
                                              "estimate": 1.2, "lower": "1", "upper": "2"}]},
         r"items\[0\] \(a\)\.estimate: quote numbers as text"),
        ({"id": "x", "title": "t", "items": [{"id": "a", "kind": "percent", "label": "l",
                                              "percent": "5"}]},
         r"items\[0\] \(a\): missing field 'n'"),
        ({"id": "x", "title": "t", "items": [
            {"id": "a", "kind": "p_value", "label": "l", "p": "0.5"},
            {"id": "a", "kind": "p_value", "label": "l", "p": "0.4"}]},
         "duplicate id"),
    ],
)
def test_malformed_documents_give_located_errors(doc: dict[str, object], message: str) -> None:
    """Each error names the item index, id and field."""
    with pytest.raises(PublicationError, match=message):
        parse_publication(doc)


def test_unknown_seed_is_refused() -> None:
    """A seed without packaged numbers raises a PublicationError."""
    with pytest.raises(PublicationError, match="no published numbers"):
        published_seed("999")
