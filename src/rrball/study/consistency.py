"""Published-table consistency checker (clinical-reference.md §6.0, rules C1–C11).

A publication's quoted numbers are declared as data (:class:`Publication`, usually read from
``rrball/study/published/seed_NNN.yaml``); :func:`check_publication` recomputes what can be
recomputed from the numbers themselves and flags what cannot be right.

Every quoted number is kept as the text the paper printed, because the number of printed decimals
sets the rounding tolerance: ``"0.01"`` stands for any value in [0.005, 0.015) (round half up), a
percentage ``"58"`` for [57.5, 58.5). A finding is raised only when *no* set of unrounded values
compatible with the quoted text satisfies the rule (interval arithmetic on the rounding box), so a
correctly rounded table is never flagged.

Rules (ids as in the reference):

- C1 percentage vs count: ``round_half_up(100 k / n, d) == p``; with ``k`` unknown, whether any
  integer ``k`` gives ``p`` (a percentage impossible for its denominator). Whether truncation
  would match is recorded.
- C2 feasibility: integer solutions (n_i, k_i) for subgroup percentages with known totals.
- C3 part sums: counts of a partition sum to the total (or a bounded remainder fits its capacity);
  percentages of a partition sum to 100 within the summed rounding half-units.
- C4 estimate inside its CI (ratio measures and survival).
- C5 Wald CI log-symmetric: ``ln OR`` equals ``(ln L + ln U) / 2`` within rounding.
- C6 p vs CI: the Wald p implied by the CI agrees with the quoted p within rounding; a CI that
  excludes 1 ⇔ p < 1 − level.
- C7 survival CI shape and label: symmetric ⇒ plain transform; a CI level other than the stated
  one; bounds printed with fewer decimals than the estimate (review).
- C8 identical p-values for different comparisons (review, not an error).
- C9 the same quantity quoted in different places must agree.
- C10 2×2 test identification: Pearson χ², Yates, Fisher; which one reproduces the quoted p.
- C11 category definitions that leave a boundary value unassigned (or assign it twice).

Equivalent R: none (hand checks as in the GRIM test, Brown & Heathers 2017).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from scipy import special as _special

from rrball.errors import RRBallError
from rrball.stats import chi_square_test, fisher_exact_test

__all__ = [
    "AgreementItem",
    "CategoriesItem",
    "CheckRecord",
    "ConsistencyReport",
    "Finding",
    "PValueItem",
    "PartSumItem",
    "PercentItem",
    "Publication",
    "PublicationError",
    "Quoted",
    "RatioItem",
    "SplitItem",
    "SurvivalItem",
    "TwoByTwoItem",
    "check_publication",
    "feasible_splits",
    "load_publication",
    "parse_publication",
    "published_seed",
    "round_half_up",
]

Severity = Literal["error", "review"]
Status = Literal["pass", "flag", "review"]

_MAX_LISTED = 8
_QUOTE_RE = re.compile(r"^\s*(<=|>=|≤|≥|<|>|=)?\s*([+-]?\d+(?:\.(\d+))?)\s*%?\s*$")


class PublicationError(RRBallError, ValueError):
    """A published-numbers file that cannot be read; the message names the item and field."""


# ---- quoted numbers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quoted:
    """A number as printed: its exact decimal value, printed decimals and comparator."""

    text: str
    value: Fraction
    decimals: int
    comparator: Literal["=", "<", ">", "<=", ">="] = "="

    @classmethod
    def parse(cls, text: object, *, where: str = "value") -> Quoted:
        """Parse ``"0.018"``, ``"<0.0001"``, ``"82"`` or ``"55.6%"``; ints are accepted as is."""
        if isinstance(text, bool) or not isinstance(text, (str, int)):
            raise PublicationError(
                f"{where}: quote numbers as text (e.g. '0.10'), got {text!r}; a YAML float would "
                "lose the printed decimals"
            )
        raw = str(text)
        m = _QUOTE_RE.match(raw)
        if m is None:
            raise PublicationError(f"{where}: {raw!r} is not a number")
        comp = {"≤": "<=", "≥": ">=", None: "="}.get(m.group(1), m.group(1))
        decimals = len(m.group(3)) if m.group(3) else 0
        return cls(text=raw.strip(), value=Fraction(m.group(2)), decimals=decimals,
                   comparator=comp)  # type: ignore[arg-type]

    @property
    def half_unit(self) -> Fraction:
        """Half of the last printed digit: the round-half-up tolerance."""
        return Fraction(1, 2 * 10**self.decimals)

    def interval(self) -> tuple[Fraction, Fraction]:
        """Unrounded values compatible with the quote (closed interval, conservative)."""
        if self.comparator in ("<", "<="):
            return (Fraction(-10**12), self.value)
        if self.comparator in (">", ">="):
            return (self.value, Fraction(10**12))
        return (self.value - self.half_unit, self.value + self.half_unit)

    def __float__(self) -> float:
        return float(self.value)


def round_half_up(x: Fraction, decimals: int) -> Fraction:
    """Round half up at ``decimals`` (exact, no binary floating point)."""
    scale = 10**decimals
    return Fraction(math.floor(x * scale + Fraction(1, 2)), scale)


def _truncate(x: Fraction, decimals: int) -> Fraction:
    scale = 10**decimals
    return Fraction(math.floor(x * scale), scale)


def _pct(k: int, n: int) -> Fraction:
    return Fraction(100 * k, n)


def _fmt(x: float | Fraction, digits: int = 3) -> str:
    """Significant digits, as p-values are usually compared."""
    return f"{float(x):.{digits}g}"


def _pct_text(k: int, n: int) -> str:
    return f"{k}/{n} = {float(_pct(k, n)):.1f} %"


def _percent_matches(k: int, n: int, p: Quoted, *, mode: str = "round") -> bool:
    x = _pct(k, n)
    if p.comparator != "=":
        lo, hi = p.interval()
        return lo <= x <= hi
    r = round_half_up(x, p.decimals) if mode == "round" else _truncate(x, p.decimals)
    return r == p.value


def _counts_for(p: Quoted, n: int, *, mode: str = "round") -> list[int]:
    """All k in 0..n whose percentage of n is printed as ``p`` (searched near p·n/100 only)."""
    lo, hi = p.interval()
    if mode == "truncate":
        lo, hi = p.value, p.value + 2 * p.half_unit
    k_lo = max(0, math.floor(lo * n / 100) - 1)
    k_hi = min(n, math.ceil(hi * n / 100) + 1)
    return [k for k in range(k_lo, k_hi + 1) if _percent_matches(k, n, p, mode=mode)]


# ---- declared items -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _ItemBase:
    id: str
    label: str
    where: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PercentItem(_ItemBase):
    """``k (p %)`` of ``n`` (C1). ``k`` may be unknown: then only feasibility is checked."""

    percent: Quoted
    n: int
    k: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RatioItem(_ItemBase):
    """An odds or hazard ratio with its CI and p (C4, C5, C6)."""

    measure: str
    estimate: Quoted
    lower: Quoted
    upper: Quoted
    p: Quoted | None = None
    conf_level: float = 0.95
    ci_method: str = "wald"


@dataclass(frozen=True, slots=True, kw_only=True)
class SumPart:
    """One part of a partition: a count, an optional capacity (its denominator) and a percent."""

    label: str
    count: int | None = None
    capacity: int | None = None
    percent: Quoted | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartSumItem(_ItemBase):
    """Parts of a partition and their total (C3); at most one part may have an unknown count."""

    total: int
    parts: tuple[SumPart, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitPart:
    """A subgroup percentage, with its denominator if the paper gives it."""

    label: str
    percent: Quoted
    n: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitItem(_ItemBase):
    """Subgroup percentages with known totals (C2): does an integer split exist?"""

    parts: tuple[SplitPart, ...]
    n_total: int | None = None
    k_total: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementQuote:
    """One place a quantity is quoted."""

    where: str
    value: Quoted


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementItem(_ItemBase):
    """The same quantity quoted in several places (C9)."""

    quotes: tuple[AgreementQuote, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SurvivalItem(_ItemBase):
    """A survival (or incidence) estimate in percent with its CI (C4, C7)."""

    estimate: Quoted
    lower: Quoted
    upper: Quoted
    conf_level: Quoted | None = None
    ci_transform: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TwoByTwoItem(_ItemBase):
    """A 2×2 comparison with its quoted p (C10); rows are groups, columns event / no event."""

    table: tuple[tuple[int, int], tuple[int, int]]
    p: Quoted
    test: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PValueItem(_ItemBase):
    """A p-value quoted for a comparison that cannot be recomputed here (enters C8 only)."""

    p: Quoted


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoriesItem(_ItemBase):
    """Category definitions such as ``">45"`` and ``"<45"`` (C11)."""

    categories: tuple[str, ...]
    integer: bool = False


Item = (PercentItem | RatioItem | PartSumItem | SplitItem | AgreementItem | SurvivalItem
        | TwoByTwoItem | PValueItem | CategoriesItem)


@dataclass(frozen=True, slots=True, kw_only=True)
class Publication:
    """The numbers one publication quotes, in declaration order."""

    id: str
    title: str
    source: str
    conf_level: Quoted
    items: tuple[Item, ...]


# ---- findings -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """Something that cannot be right (``error``) or deserves a look (``review``)."""

    rule: str
    item_id: str
    label: str
    where: str
    severity: Severity
    quoted: Mapping[str, str]
    recomputed: Mapping[str, object]
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRecord:
    """One rule applied to one item, passed or not, with the recomputation."""

    rule: str
    item_id: str
    status: Status
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsistencyReport:
    """Findings and the full check log of one publication."""

    publication: Publication
    findings: tuple[Finding, ...]
    checks: tuple[CheckRecord, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def reviews(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "review")

    def to_frame(self) -> pd.DataFrame:
        """One row per finding: rule, item_id, label, where, severity, quoted, recomputed, why."""
        rows = [
            {"rule": f.rule, "item_id": f.item_id, "label": f.label, "where": f.where,
             "severity": f.severity,
             "quoted": "; ".join(f"{k} {v}" for k, v in f.quoted.items()),
             "recomputed": "; ".join(f"{k} {v}" for k, v in f.recomputed.items()),
             "message": f.message}
            for f in self.findings
        ]
        cols = ["rule", "item_id", "label", "where", "severity", "quoted", "recomputed", "message"]
        return pd.DataFrame(rows, columns=cols)

    def summary(self) -> str:
        pub = self.publication
        n_pass = sum(c.status == "pass" for c in self.checks)
        lines = [
            f"Consistency check: {pub.title} ({pub.id})",
            f"{len(pub.items)} quoted items, {len(self.checks)} checks: {n_pass} pass, "
            f"{len(self.errors)} errors, {len(self.reviews)} to review",
        ]
        for f in self.findings:
            lines.append(f"[{f.severity}] {f.rule} {f.item_id} {f.label}: {f.message}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


class _Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.checks: list[CheckRecord] = []

    def ok(self, rule: str, item: _ItemBase, detail: str) -> None:
        self.checks.append(CheckRecord(rule=rule, item_id=item.id, status="pass", detail=detail))

    def flag(self, rule: str, item: _ItemBase, *, quoted: Mapping[str, str],
             recomputed: Mapping[str, object], message: str,
             severity: Severity = "error") -> None:
        status: Status = "flag" if severity == "error" else "review"
        self.checks.append(CheckRecord(rule=rule, item_id=item.id, status=status, detail=message))
        self.findings.append(Finding(rule=rule, item_id=item.id, label=item.label,
                                     where=item.where, severity=severity, quoted=dict(quoted),
                                     recomputed=dict(recomputed), message=message))


# ---- C1 -----------------------------------------------------------------------------------------


def _check_percent(item: PercentItem, out: _Collector) -> None:
    p, n = item.percent, item.n
    quoted = {"percent": p.text, "n": str(n)} | ({"k": str(item.k)} if item.k is not None else {})
    feasible = _counts_for(p, n)
    if item.k is None:
        if feasible:
            ks = ", ".join(_pct_text(k, n) for k in feasible[:_MAX_LISTED])
            out.ok("C1", item, f"{p.text} % is possible with n = {n}: {ks}")
            return
        below = max((k for k in range(n + 1) if _pct(k, n) < p.value), default=None)
        above = min((k for k in range(n + 1) if _pct(k, n) > p.value), default=None)
        near = [_pct_text(k, n) for k in (below, above) if k is not None]
        trunc = _counts_for(p, n, mode="truncate")
        msg = (f"{p.text} % is impossible with denominator {n}: the nearest counts give "
               f"{' and '.join(near)}")
        if trunc:
            msg += f"; only truncation of {_pct_text(trunc[0], n)} gives {p.text} %"
        out.flag("C1", item, quoted=quoted,
                 recomputed={"nearest": ", ".join(near),
                             "truncation_matches": ", ".join(str(k) for k in trunc) or "none"},
                 message=msg)
        return
    k = item.k
    if k < 0 or k > n:
        out.flag("C1", item, quoted=quoted, recomputed={},
                 message=f"count {k} is outside 0..{n}")
        return
    exact = _pct(k, n)
    if _percent_matches(k, n, p):
        out.ok("C1", item, f"{_pct_text(k, n)} rounds to {p.text} %")
        return
    rounded = round_half_up(exact, p.decimals)
    trunc_ok = _percent_matches(k, n, p, mode="truncate")
    other_n = [m for m in range(max(k, 1), 2 * n + 1) if _percent_matches(k, m, p)]
    recomputed: dict[str, object] = {
        "exact": f"{float(exact):.{p.decimals + 2}f} %",
        "round_half_up": f"{float(rounded):.{p.decimals}f} %",
        "truncation_matches": trunc_ok,
    }
    msg = f"{_pct_text(k, n)}, which rounds to {float(rounded):.{p.decimals}f} %, not {p.text} %"
    if trunc_ok:
        msg += " (truncated, not rounded)"
    if feasible:
        recomputed["counts_giving_quote"] = ", ".join(str(x) for x in feasible[:_MAX_LISTED])
    if other_n:
        recomputed["denominators_giving_quote"] = ", ".join(str(m) for m in other_n[:_MAX_LISTED])
        msg += f"; {p.text} % with {k} would need n = {' or '.join(map(str, other_n[:3]))}"
    out.flag("C1", item, quoted=quoted, recomputed=recomputed, message=msg)


# ---- C2 -----------------------------------------------------------------------------------------


def feasible_splits(
    parts: Sequence[SplitPart], *, n_total: int | None, k_total: int | None,
    mode: str = "round", limit: int = 10_000,
) -> list[tuple[tuple[int, int], ...]]:
    """All integer ``((n_1, k_1), ...)`` that reproduce every quoted percentage.

    Parts without ``n`` take any size from 1 to ``n_total``; ``n_total`` (sum of sizes) and
    ``k_total`` (sum of counts) constrain the solution when given. ``mode`` is ``"round"``
    (round half up) or ``"truncate"``.
    """
    if n_total is None and any(pt.n is None for pt in parts):
        raise PublicationError("C2: a part without n needs n_total")
    bound = n_total if n_total is not None else max(pt.n or 0 for pt in parts)

    def candidates(pt: SplitPart) -> list[tuple[int, int]]:
        sizes = [pt.n] if pt.n is not None else range(1, bound + 1)
        return [(n, k) for n in sizes for k in _counts_for(pt.percent, n, mode=mode)]

    cands = [candidates(pt) for pt in parts]
    solutions: list[tuple[tuple[int, int], ...]] = []

    def walk(i: int, chosen: list[tuple[int, int]], n_sum: int, k_sum: int) -> None:
        if len(solutions) >= limit:
            return
        if i == len(parts):
            if (n_total is None or n_sum == n_total) and (k_total is None or k_sum == k_total):
                solutions.append(tuple(chosen))
            return
        for n, k in cands[i]:
            if n_total is not None and n_sum + n > n_total:
                continue
            if k_total is not None and k_sum + k > k_total:
                continue
            chosen.append((n, k))
            walk(i + 1, chosen, n_sum + n, k_sum + k)
            chosen.pop()

    walk(0, [], 0, 0)
    return solutions


def _split_text(sol: Sequence[tuple[int, int]], parts: Sequence[SplitPart]) -> str:
    return ", ".join(f"{pt.label} {k}/{n}" for pt, (n, k) in zip(parts, sol, strict=True))


def _check_split(item: SplitItem, out: _Collector) -> None:
    sols = feasible_splits(item.parts, n_total=item.n_total, k_total=item.k_total)
    totals = (f"n_total {item.n_total}" if item.n_total is not None else "") + (
        f", k_total {item.k_total}" if item.k_total is not None else "")
    if sols:
        shown = "; ".join(_split_text(s, item.parts) for s in sols[:3])
        out.ok("C2", item, f"{len(sols)} feasible split(s) ({totals}): {shown}")
        return
    trunc = feasible_splits(item.parts, n_total=item.n_total, k_total=item.k_total,
                            mode="truncate")
    quoted = {pt.label: f"{pt.percent.text} %" + (f" of {pt.n}" if pt.n else "")
              for pt in item.parts}
    if item.n_total is not None:
        quoted["n_total"] = str(item.n_total)
    if item.k_total is not None:
        quoted["k_total"] = str(item.k_total)
    msg = (f"no integer split reproduces {' and '.join(q for q in quoted.values() if '%' in q)} "
           f"with {totals.lstrip(', ')}")
    if trunc:
        msg += (f"; under truncation {len(trunc)} split(s) would, e.g. "
                f"{_split_text(trunc[0], item.parts)}")
    out.flag("C2", item, quoted=quoted,
             recomputed={"round_half_up_solutions": 0, "truncation_solutions": len(trunc)},
             message=msg)


# ---- C3 -----------------------------------------------------------------------------------------


def _check_part_sum(item: PartSumItem, out: _Collector) -> None:
    known = [pt for pt in item.parts if pt.count is not None]
    unknown = [pt for pt in item.parts if pt.count is None]
    quoted = {pt.label: (str(pt.count) if pt.count is not None else "?")
              + (f"/{pt.capacity}" if pt.capacity is not None else "")
              + (f" ({pt.percent.text} %)" if pt.percent is not None else "")
              for pt in item.parts} | {"total": str(item.total)}
    s = sum(pt.count for pt in known if pt.count is not None)
    problems: list[str] = []
    recomputed: dict[str, object] = {"sum_of_counts": s}
    for pt in known:
        if pt.capacity is not None and pt.count is not None and pt.count > pt.capacity:
            problems.append(f"{pt.label} {pt.count} exceeds its denominator {pt.capacity}")
    if not unknown:
        if s != item.total:
            problems.append(f"the parts sum to {s}, not {item.total}")
    else:
        remainder = item.total - s
        recomputed["remainder"] = remainder
        cap = sum(pt.capacity for pt in unknown if pt.capacity is not None)
        has_cap = all(pt.capacity is not None for pt in unknown)
        if remainder < 0:
            problems.append(f"the known parts already sum to {s} > total {item.total}")
        elif has_cap and remainder > cap:
            names = ", ".join(pt.label for pt in unknown)
            problems.append(f"{remainder} would remain for {names}, which has only {cap}")
    pcts = [pt.percent for pt in item.parts if pt.percent is not None]
    if pcts and len(pcts) == len(item.parts):
        total_pct = sum((q.value for q in pcts), Fraction(0))
        tol = sum((q.half_unit for q in pcts), Fraction(0))
        recomputed["sum_of_percents"] = f"{float(total_pct):g}"
        if abs(total_pct - 100) > tol:
            problems.append(f"the percentages sum to {float(total_pct):g}, not 100 ± "
                            f"{float(tol):g} (rounding)")
    if problems:
        out.flag("C3", item, quoted=quoted, recomputed=recomputed, message="; ".join(problems))
    else:
        out.ok("C3", item, f"parts sum to {s} of {item.total}")


# ---- C4–C6 --------------------------------------------------------------------------------------


def _z_crit(conf_level: float) -> float:
    return float(_special.ndtri(1.0 - (1.0 - conf_level) / 2.0))


def _wald_p(lower: float, upper: float, conf_level: float) -> float:
    a, b = math.log(lower), math.log(upper)
    se = (b - a) / (2.0 * _z_crit(conf_level))
    return float(2.0 * _special.ndtr(-abs((a + b) / 2.0) / se))


def _positive(x: Fraction) -> float:
    return max(float(x), 1e-12)


def _check_ratio(item: RatioItem, out: _Collector) -> None:
    e, lo, up = item.estimate, item.lower, item.upper
    quoted = {item.measure: e.text, "CI": f"{lo.text}–{up.text}"} | (
        {"p": item.p.text} if item.p is not None else {})
    e_lo, e_hi = e.interval()
    l_lo, l_hi = lo.interval()
    u_lo, u_hi = up.interval()
    centre = math.sqrt(float(lo) * float(up))
    implied_p = _wald_p(float(lo), float(up), item.conf_level)
    corners = [_wald_p(_positive(a), _positive(b), item.conf_level)
               for a in (l_lo, l_hi) for b in (u_lo, u_hi) if a < b]
    if l_lo * u_lo <= 1 <= l_hi * u_hi:  # the box reaches L·U = 1, where z = 0
        corners.append(1.0)
    p_range = (min(corners), max(corners)) if corners else (implied_p, implied_p)
    rec_base: dict[str, object] = {"implied_estimate": f"{centre:.3f}",
                                   "implied_wald_p": _fmt(implied_p, 3)}
    # C4
    c4_failed = e_hi < l_lo or e_lo > u_hi or l_lo > u_hi
    if c4_failed:
        msg = (f"{item.measure} {e.text} lies outside its own CI {lo.text}–{up.text}; the CI "
               f"implies {item.measure} √(L·U) = {centre:.3f} and Wald p = {_fmt(implied_p, 3)}")
        pe_lo, pe_hi = e.interval()
        if pe_lo <= p_range[1] and p_range[0] <= pe_hi:
            msg += (f"; the printed {item.measure} equals the p-value implied by the CI "
                    "(a shifted column?)")
        out.flag("C4", item, quoted=quoted, recomputed=rec_base, message=msg)
    else:
        out.ok("C4", item, f"{e.text} within {lo.text}–{up.text}")
    wald = item.ci_method.lower() == "wald"
    # C5
    if wald and not c4_failed:
        dev = math.log(float(e)) - (math.log(float(lo)) + math.log(float(up))) / 2
        dev_min = math.log(_positive(e_lo)) - (math.log(_positive(l_hi))
                                               + math.log(_positive(u_hi))) / 2
        dev_max = math.log(_positive(e_hi)) - (math.log(_positive(l_lo))
                                               + math.log(_positive(u_lo))) / 2
        allowed = max(dev - dev_min, dev_max - dev)
        below = math.log(float(e)) - math.log(float(lo))
        above = math.log(float(up)) - math.log(float(e))
        detail = (f"log distances {below:.3f} below vs {above:.3f} above; |ln {item.measure} − "
                  f"ln √(L·U)| = {abs(dev):.4f}, rounding of the printed decimals allows "
                  f"{allowed:.4f}")
        if dev_min <= 0.0 <= dev_max:
            out.ok("C5", item, detail)
        else:
            out.flag("C5", item, quoted=quoted,
                     recomputed=rec_base | {"log_deviation": f"{abs(dev):.4f}",
                                            "rounding_allows": f"{allowed:.4f}"},
                     message=f"{item.measure} {e.text} is not the log-centre of its Wald CI "
                             f"(centre {centre:.3f}): {detail}")
    # C6
    if item.p is None:
        return
    pq_lo, pq_hi = item.p.interval()
    problems: list[str] = []
    if wald and not (p_range[0] <= float(pq_hi) and float(pq_lo) <= p_range[1]):
        problems.append(f"the CI implies Wald p = {_fmt(implied_p, 3)} "
                        f"(range over rounding {_fmt(p_range[0], 3)}–{_fmt(p_range[1], 3)}), "
                        f"not p = {item.p.text}")
    alpha = 1.0 - item.conf_level
    excludes = l_lo > 1 or u_hi < 1
    includes = l_hi <= 1 <= u_lo
    if excludes and float(pq_lo) >= alpha:
        problems.append(f"the CI excludes 1 but p = {item.p.text} ≥ {alpha:g}")
    if includes and float(pq_hi) < alpha:
        problems.append(f"the CI includes 1 but p = {item.p.text} < {alpha:g}")
    if problems:
        out.flag("C6", item, quoted=quoted, recomputed=rec_base, message="; ".join(problems))
    else:
        out.ok("C6", item, f"implied Wald p {_fmt(implied_p, 3)} agrees with p = {item.p.text}")


# ---- C7 -----------------------------------------------------------------------------------------


def _check_survival(item: SurvivalItem, stated_level: Quoted, out: _Collector) -> None:
    e, lo, up = item.estimate, item.lower, item.upper
    quoted = {"estimate": e.text, "CI": f"{lo.text}–{up.text}"} | (
        {"CI level": item.conf_level.text} if item.conf_level is not None else {})
    e_lo, e_hi = e.interval()
    l_lo, l_hi = lo.interval()
    u_lo, u_hi = up.interval()
    if e_hi < l_lo or e_lo > u_hi:
        out.flag("C4", item, quoted=quoted, recomputed={},
                 message=f"estimate {e.text} lies outside its CI {lo.text}–{up.text}")
    else:
        out.ok("C4", item, f"{e.text} within {lo.text}–{up.text}")
    below, above = float(e.value - lo.value), float(up.value - e.value)
    d_min, d_max = u_lo + l_lo - 2 * e_hi, u_hi + l_hi - 2 * e_lo
    symmetric = d_min <= 0 <= d_max
    inferred = "plain" if symmetric else "log or log-log"
    shape = f"half-widths {below:.1f} / {above:.1f}: {'symmetric' if symmetric else 'asymmetric'}"
    if item.ci_transform is not None and (
            (item.ci_transform == "plain") != symmetric):
        out.flag("C7", item, quoted=quoted | {"transform": item.ci_transform},
                 recomputed={"inferred_transform": inferred},
                 message=f"{shape}, which contradicts the stated {item.ci_transform} transform")
    else:
        out.ok("C7", item, f"{shape} → {inferred} transform")
    if item.conf_level is not None and item.conf_level.value != stated_level.value:
        out.flag("C7", item, quoted=quoted, recomputed={"stated_level": stated_level.text},
                 message=f"CI level printed as {item.conf_level.text} % where the paper's level "
                         f"is {stated_level.text} %")
    coarse = [(name, q) for name, q in (("lower", lo), ("upper", up)) if q.decimals < e.decimals]
    for name, q in coarse:
        if symmetric:
            other = up if name == "lower" else lo
            mirrored = 2 * e.value - other.value
            expect = f"the plain-symmetric {name} bound is {float(mirrored):.{e.decimals}f}"
        else:
            expect = "the bound cannot be recomputed without the data"
        out.flag("C7", item, quoted=quoted, recomputed={f"{name}_decimals": q.decimals},
                 severity="review",
                 message=f"{name} bound {q.text} printed with {q.decimals} decimal(s) while the "
                         f"estimate has {e.decimals}; {expect}")


# ---- C8, C9, C10, C11 ---------------------------------------------------------------------------


def _check_repeated_p(items: Iterable[Item], out: _Collector) -> None:
    by_value: dict[Fraction, list[tuple[Item, Quoted]]] = defaultdict(list)
    for it in items:
        p = getattr(it, "p", None)
        if isinstance(p, Quoted) and p.comparator == "=":
            by_value[p.value].append((it, p))
    for value, group in by_value.items():
        if len(group) < 2:
            continue
        ids = " + ".join(it.id for it, _ in group)
        pseudo = PValueItem(id=ids, label="repeated p-value", where="", p=group[0][1])
        out.flag("C8", pseudo,
                 quoted={it.id: f"p = {p.text} ({it.label})" for it, p in group},
                 recomputed={"comparisons": len(group)}, severity="review",
                 message=f"p = {float(value):g} is reported for {len(group)} different "
                         "comparisons (may be coincidence; check the source)")


def _check_agreement(item: AgreementItem, out: _Collector) -> None:
    lo = max(q.value.interval()[0] for q in item.quotes)
    hi = min(q.value.interval()[1] for q in item.quotes)
    quoted = {q.where: q.value.text for q in item.quotes}
    # round half up: "81" stands for [80.5, 81.5) and "82" for [81.5, 82.5): no common value
    if lo < hi:
        out.ok("C9", item, "all quotes agree within rounding")
        return
    out.flag("C9", item, quoted=quoted, recomputed={},
             message="the same quantity is quoted differently: "
                     + ", ".join(f"{q.value.text} ({q.where})" for q in item.quotes))


def _check_two_by_two(item: TwoByTwoItem, out: _Collector) -> None:
    table = [list(item.table[0]), list(item.table[1])]
    pearson = chi_square_test(table, correction=False)
    yates = chi_square_test(table, correction=True)
    fisher = fisher_exact_test(table)
    ps = {"pearson": pearson.p_value, "yates": yates.p_value, "fisher": fisher.p_value}
    p_lo, p_hi = item.p.interval()
    matches = [name for name, v in ps.items() if float(p_lo) <= v <= float(p_hi)]
    rec: dict[str, object] = {name: _fmt(v, 3) for name, v in ps.items()}
    rec["matches"] = ", ".join(matches) or "none"
    quoted = {"table": f"{item.table[0]} vs {item.table[1]}", "p": item.p.text}
    if not matches:
        out.flag("C10", item, quoted=quoted, recomputed=rec,
                 message=f"no standard 2×2 test reproduces p = {item.p.text} (Pearson "
                         f"{_fmt(ps['pearson'], 3)}, Yates {_fmt(ps['yates'], 3)}, Fisher "
                         f"{_fmt(ps['fisher'], 3)})")
        return
    if item.test is not None and item.test not in matches:
        out.flag("C10", item, quoted=quoted | {"test": item.test}, recomputed=rec,
                 message=f"the named test ({item.test}) does not reproduce p = {item.p.text}; "
                         f"{', '.join(matches)} does")
        return
    min_expected = float(pearson.expected.min())
    if "fisher" not in matches and min_expected < 5:
        out.flag("C10", item, quoted=quoted,
                 recomputed=rec | {"min_expected": f"{min_expected:.1f}"},
                 severity="review",
                 message=f"p = {item.p.text} is reproduced only by {', '.join(matches)}, but an "
                         f"expected count is {min_expected:.1f} < 5 (Fisher p = "
                         f"{_fmt(ps['fisher'], 3)})")
        return
    out.ok("C10", item, f"reproduced by {', '.join(matches)}")


_CAT_RE = re.compile(
    r"^\s*(?:(<=|>=|≤|≥|<|>)\s*(-?\d+(?:\.\d+)?)|(-?\d+(?:\.\d+)?)\s*[-–]\s*(-?\d+(?:\.\d+)?))\s*$"
)


def _category_contains(cat: str, x: Fraction) -> bool:
    m = _CAT_RE.match(cat)
    if m is None:
        raise PublicationError(f"C11: cannot read category {cat!r}")
    if m.group(1):
        b = Fraction(m.group(2))
        op = {"≤": "<=", "≥": ">="}.get(m.group(1), m.group(1))
        return {"<": x < b, "<=": x <= b, ">": x > b, ">=": x >= b}[op]
    return Fraction(m.group(3)) <= x <= Fraction(m.group(4))


def _category_bounds(cat: str) -> list[Fraction]:
    m = _CAT_RE.match(cat)
    if m is None:
        raise PublicationError(f"C11: cannot read category {cat!r}")
    return [Fraction(m.group(2))] if m.group(1) else [Fraction(m.group(3)), Fraction(m.group(4))]


def _check_categories(item: CategoriesItem, out: _Collector) -> None:
    bounds = sorted({b for c in item.categories for b in _category_bounds(c)})
    probes = set(bounds)
    if item.integer:
        probes |= {Fraction(v) for v in range(math.floor(bounds[0]), math.ceil(bounds[-1]) + 1)}
    else:
        probes |= {(a + b) / 2 for a, b in itertools.pairwise(bounds)}
    gaps = [x for x in sorted(probes) if not any(_category_contains(c, x) for c in item.categories)]
    overlaps = [x for x in sorted(probes)
                if sum(_category_contains(c, x) for c in item.categories) > 1]
    quoted = {"categories": " / ".join(item.categories)}
    if not gaps and not overlaps:
        out.ok("C11", item, "every value is assigned exactly once")
        return
    parts = []
    if gaps:
        parts.append("unassigned: " + ", ".join(f"{float(x):g}" for x in gaps))
    if overlaps:
        parts.append("assigned twice: " + ", ".join(f"{float(x):g}" for x in overlaps))
    out.flag("C11", item, quoted=quoted, recomputed={"gaps": len(gaps), "overlaps": len(overlaps)},
             message="category definitions leave values " + "; ".join(parts))


# ---- driver -------------------------------------------------------------------------------------


def check_publication(publication: Publication) -> ConsistencyReport:
    """Apply every applicable rule to every quoted item; see the module docstring."""
    out = _Collector()
    for item in publication.items:
        if isinstance(item, PercentItem):
            _check_percent(item, out)
        elif isinstance(item, RatioItem):
            _check_ratio(item, out)
        elif isinstance(item, PartSumItem):
            _check_part_sum(item, out)
        elif isinstance(item, SplitItem):
            _check_split(item, out)
        elif isinstance(item, AgreementItem):
            _check_agreement(item, out)
        elif isinstance(item, SurvivalItem):
            _check_survival(item, publication.conf_level, out)
        elif isinstance(item, TwoByTwoItem):
            _check_two_by_two(item, out)
        elif isinstance(item, CategoriesItem):
            _check_categories(item, out)
    _check_repeated_p(publication.items, out)
    return ConsistencyReport(publication=publication, findings=tuple(out.findings),
                             checks=tuple(out.checks))


# ---- parsing ------------------------------------------------------------------------------------

_KINDS = ("percent", "ratio", "part_sum", "split", "agreement", "survival", "two_by_two",
          "p_value", "categories")


@dataclass(slots=True)
class _Fields:
    raw: Mapping[str, Any]
    where: str
    used: set[str] = field(default_factory=set)

    def get(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return self.raw.get(key, default)

    def need(self, key: str) -> Any:
        self.used.add(key)
        if key not in self.raw:
            raise PublicationError(f"{self.where}: missing field {key!r}")
        return self.raw[key]

    def quoted(self, key: str) -> Quoted:
        return Quoted.parse(self.need(key), where=f"{self.where}.{key}")

    def opt_quoted(self, key: str) -> Quoted | None:
        value = self.get(key)
        return None if value is None else Quoted.parse(value, where=f"{self.where}.{key}")

    def integer(self, key: str, *, required: bool = True) -> int | None:
        value = self.need(key) if required else self.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise PublicationError(f"{self.where}.{key}: expected a whole number, got {value!r}")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.raw) - self.used)
        if unknown:
            raise PublicationError(f"{self.where}: unknown field(s) {', '.join(unknown)}")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PublicationError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _parse_item(raw: Any, index: int) -> Item:
    data = _mapping(raw, f"items[{index}]")
    f = _Fields(data, f"items[{index}]")
    item_id = str(f.need("id"))
    f.where = f"items[{index}] ({item_id})"
    kind = f.need("kind")
    if kind not in _KINDS:
        raise PublicationError(f"{f.where}.kind: {kind!r} is not one of {', '.join(_KINDS)}")
    base = {"id": item_id, "label": str(f.need("label")), "where": str(f.get("where", ""))}
    item: Item
    if kind == "percent":
        item = PercentItem(**base, percent=f.quoted("percent"), n=f.integer("n") or 0,
                           k=f.integer("k", required=False))
        if item.n <= 0:
            raise PublicationError(f"{f.where}.n: must be positive")
    elif kind == "ratio":
        item = RatioItem(**base, measure=str(f.get("measure", "OR")),
                         estimate=f.quoted("estimate"), lower=f.quoted("lower"),
                         upper=f.quoted("upper"), p=f.opt_quoted("p"),
                         conf_level=float(f.get("conf_level", 0.95)),
                         ci_method=str(f.get("ci_method", "wald")))
    elif kind == "part_sum":
        parts = []
        for j, praw in enumerate(f.need("parts")):
            pf = _Fields(_mapping(praw, f"{f.where}.parts[{j}]"), f"{f.where}.parts[{j}]")
            parts.append(SumPart(label=str(pf.need("label")),
                                 count=pf.integer("count", required=False),
                                 capacity=pf.integer("capacity", required=False),
                                 percent=pf.opt_quoted("percent")))
            pf.finish()
        item = PartSumItem(**base, total=f.integer("total") or 0, parts=tuple(parts))
    elif kind == "split":
        sparts = []
        for j, praw in enumerate(f.need("parts")):
            pf = _Fields(_mapping(praw, f"{f.where}.parts[{j}]"), f"{f.where}.parts[{j}]")
            sparts.append(SplitPart(label=str(pf.need("label")), percent=pf.quoted("percent"),
                                    n=pf.integer("n", required=False)))
            pf.finish()
        item = SplitItem(**base, parts=tuple(sparts),
                         n_total=f.integer("n_total", required=False),
                         k_total=f.integer("k_total", required=False))
        if item.n_total is None and any(pt.n is None for pt in item.parts):
            raise PublicationError(f"{f.where}: parts without n need n_total")
    elif kind == "agreement":
        quotes = []
        for j, qraw in enumerate(f.need("quotes")):
            qf = _Fields(_mapping(qraw, f"{f.where}.quotes[{j}]"), f"{f.where}.quotes[{j}]")
            quotes.append(AgreementQuote(where=str(qf.need("where")), value=qf.quoted("value")))
            qf.finish()
        item = AgreementItem(**base, quotes=tuple(quotes))
    elif kind == "survival":
        item = SurvivalItem(**base, estimate=f.quoted("estimate"), lower=f.quoted("lower"),
                            upper=f.quoted("upper"), conf_level=f.opt_quoted("conf_level"),
                            ci_transform=f.get("ci_transform"))
    elif kind == "two_by_two":
        rows = f.need("table")
        if (not isinstance(rows, list) or len(rows) != 2
                or any(not isinstance(r, list) or len(r) != 2 for r in rows)):
            raise PublicationError(f"{f.where}.table: expected [[a, b], [c, d]]")
        tbl = ((int(rows[0][0]), int(rows[0][1])), (int(rows[1][0]), int(rows[1][1])))
        item = TwoByTwoItem(**base, table=tbl, p=f.quoted("p"), test=f.get("test"))
    elif kind == "p_value":
        item = PValueItem(**base, p=f.quoted("p"))
    else:
        cats = f.need("categories")
        if not isinstance(cats, list) or len(cats) < 2:
            raise PublicationError(f"{f.where}.categories: expected a list of two or more")
        for c in cats:
            _category_bounds(str(c))
        item = CategoriesItem(**base, categories=tuple(str(c) for c in cats),
                              integer=bool(f.get("integer", False)))
    f.get("source_ids")  # traceability to clinical-reference.md rows; not used in checks
    f.finish()
    return item


def parse_publication(data: Mapping[str, Any]) -> Publication:
    """Build a :class:`Publication` from a mapping (the YAML document)."""
    f = _Fields(_mapping(data, "document"), "document")
    raw_items = f.need("items")
    if not isinstance(raw_items, list):
        raise PublicationError("document.items: expected a list")
    items = tuple(_parse_item(raw, i) for i, raw in enumerate(raw_items))
    ids = [it.id for it in items]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise PublicationError(f"document.items: duplicate id(s) {', '.join(dupes)}")
    pub = Publication(id=str(f.need("id")), title=str(f.need("title")),
                      source=str(f.get("source", "")),
                      conf_level=Quoted.parse(f.get("conf_level", "95"), where="conf_level"),
                      items=items)
    f.finish()
    return pub


def load_publication(path: str | Path) -> Publication:
    """Read a published-numbers YAML file."""
    text = Path(path).read_text(encoding="utf-8")
    return parse_publication(_mapping(yaml.safe_load(text), str(path)))


def published_seed(seed: str) -> Publication:
    """The packaged numbers of one seed publication (``"000"`` … ``"004"``)."""
    ref = resources.files("rrball.study").joinpath("published", f"seed_{seed}.yaml")
    if not ref.is_file():
        raise PublicationError(f"no published numbers for seed {seed!r}")
    return parse_publication(_mapping(yaml.safe_load(ref.read_text(encoding="utf-8")),
                                      f"seed_{seed}.yaml"))
