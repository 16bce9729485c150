"""TableSpec builders: numeric bodies, method footnotes, render-time formatting."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import rrball
from rrball.report.document import Report
from rrball.report.styles import get_style
from rrball.report.tables import ColumnSpec, TableSpec, method_line


def _table(report: Report, prefix: str) -> TableSpec:
    return next(t for t in report.tables() if t.title.startswith(prefix))


def test_bodies_stay_numeric_and_footnotes_carry_method(report: Report) -> None:
    """Every table: numeric estimate columns, a method line with the R call, n and version."""
    for spec in report.tables():
        for col in spec.columns:
            if col.kind in ("number", "percent", "p_value", "ci", "integer"):
                for key in col.source_keys():
                    assert pd.api.types.is_numeric_dtype(spec.body[key]), (spec.title, key)
        notes = spec.all_footnotes()
        assert any(n.startswith("Method:") for n in notes), spec.title
        assert notes[-1].endswith(f"rrball {rrball.__version__}")
        assert spec.n is not None and spec.n > 0


def test_km_at_matches_result(report: Report, bmt: pd.DataFrame) -> None:
    """S(t) rows equal result.at(times); text shows percent and CI."""
    from rrball.stats import kaplan_meier

    km = kaplan_meier(bmt["t2"], bmt["d3"], group=bmt["group"])
    spec = _table(report, "Kaplan-Meier")
    at = km.at([365, 730])
    np.testing.assert_array_equal(spec.body["surv"].to_numpy(), at["surv"].to_numpy())
    rows = spec.text_rows(get_style())
    assert rows[0][3] == f"{100 * at['surv'].iloc[0]:.1f}"
    assert "log transform" in " ".join(spec.footnotes)


def test_logistic_drops_intercept_and_names_references(report: Report) -> None:
    """OR table has no intercept row; the reference level is footnoted."""
    spec = _table(report, "Logistic")
    assert "(Intercept)" not in spec.body["term"].tolist()
    assert any("reference levels" in f for f in spec.footnotes)


def test_table_one_layout(report: Report) -> None:
    """Bold variable rows, indented levels, n (%) and median (Q1, Q3) cells, a spanner."""
    spec = _table(report, "Patient characteristics")
    rows = spec.text_rows(get_style())
    labels = [r[0] for r in rows]
    assert labels[0] == "age, median (Q1, Q3)"
    assert rows[0][1] == "28.0 (19.0, 41.0)"
    i = labels.index("mol_group, n (%)")
    assert spec.bold[i] and spec.indent[i + 1] == 1
    assert rows[i + 1][0] == "BCR/ABL" and rows[i + 1][1] == "30 (26.8)"
    assert spec.spanners[0].label == "sex"
    assert spec.columns[1].label == "Overall (N = 112)"


def test_p_value_rules_are_explicit_styles() -> None:
    """The same number renders by the style passed; nothing global."""
    spec = TableSpec(title="t", body=pd.DataFrame({"p": [0.0004, 0.0123, 0.049, 0.5]}),
                     columns=(ColumnSpec(key="p", label="p", kind="p_value"),))
    default = [r[0] for r in spec.text_rows(get_style("default"))]
    jama = [r[0] for r in spec.text_rows(get_style("jama"))]
    nejm = [r[0] for r in spec.text_rows(get_style("nejm"))]
    assert default == ["<0.001", "0.012", "0.049", "0.50"]
    assert jama == ["<.001", ".01", ".049", ".50"]
    assert nejm == ["<0.001", "0.012", "0.049", "0.500"]
    with pytest.raises(ValueError, match="not one of"):
        get_style("lancet")


def test_spec_validates_columns() -> None:
    """A column reading a missing body column, or with the wrong arity, is refused."""
    body = pd.DataFrame({"a": [1.0]})
    with pytest.raises(ValueError, match="missing body column"):
        TableSpec(title="t", body=body, columns=(ColumnSpec(key="b", label="b"),))
    with pytest.raises(ValueError, match="needs 2 source"):
        TableSpec(title="t", body=body, columns=(ColumnSpec(key="a", label="a", kind="ci"),))


def test_missing_values_render_empty_and_method_line_lists_options() -> None:
    """NaN cells render empty; method_line prints options and the R call."""
    spec = TableSpec(title="t", body=pd.DataFrame({"x": [math.nan], "lo": [1.0],
                                                   "hi": [math.nan]}),
                     columns=(ColumnSpec(key="x", label="x"),
                              ColumnSpec(key="ci", label="CI", kind="ci", sources=("lo", "hi"))))
    assert spec.text_rows(get_style()) == [["", "1.00–NA"]]
    line = method_line({"conf_type": "log", "r_call": "survfit(x)", "strata": None})
    assert line == "Method: conf type log. Equivalent R: survfit(x)"
