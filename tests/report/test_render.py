"""Renderers: self-contained HTML, non-blank PDF pages, editable DOCX tables, numeric XLSX."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from rrball.report.document import Report
from rrball.report.render import render_report
from rrball.report.styles import get_style


@pytest.fixture(scope="module")
def rendered(report: Report, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("report")
    return render_report(report, out, formats=("html", "pdf", "docx", "xlsx"),
                         style=get_style("default"))


def test_html_is_self_contained(rendered: dict[str, Path], report: Report) -> None:
    """No http(s) src/href and no external stylesheet; every figure is embedded as SVG."""
    text = rendered["html"].read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", text)
    assert "<link" not in text
    assert text.count("<svg") >= len(report.figures())
    assert report.data_hash in text
    assert "Analysis plan" in text
    assert "rrball 0." in text


def test_pdf_pages_are_not_blank(rendered: dict[str, Path], tmp_path: Path) -> None:
    """pdftoppm turns every page into a PNG with visible content."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(rendered["pdf"]),
                    str(tmp_path / "page")], check=True, capture_output=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 2
    for page in pages:
        px = np.asarray(mpimg.imread(page))[..., :3]
        assert (px.min(axis=2) < 0.8).mean() > 0.005, f"{page.name} looks blank"


def test_docx_has_editable_tables_with_the_numbers(rendered: dict[str, Path],
                                                   report: Report) -> None:
    """Each TableSpec is a real Word table; cells hold the formatted numbers."""
    import docx

    document = docx.Document(str(rendered["docx"]))
    assert len(document.tables) == len(report.tables())
    cox_spec = next(t for t in report.tables() if t.title.startswith("Cox"))
    style = get_style("default")
    cox_table = next(t for t in document.tables
                     if any(c.text == "HR" for c in t.rows[0].cells))
    cells = [c.text for row in cox_table.rows for c in row.cells]
    for r in range(cox_spec.n_rows):
        assert style.format_number(float(cox_spec.value(r, "estimate"))) in cells
    assert len(document.inline_shapes) == len(report.figures())
    body = "\n".join(p.text for p in document.paragraphs)
    assert report.data_hash in body
    assert "Equivalent R: coxph(" in body


def test_xlsx_cells_are_numbers(rendered: dict[str, Path], report: Report) -> None:
    """One sheet per table; estimates are numeric cells with a number format."""
    from openpyxl import load_workbook

    wb = load_workbook(rendered["xlsx"])
    assert wb.sheetnames[0] == "About"
    assert len(wb.sheetnames) == 1 + len(report.tables())
    cox_spec = next(t for t in report.tables() if t.title.startswith("Cox"))
    ws = next(wb[n] for n in wb.sheetnames if "Cox" in n)
    header = [c.value for c in ws[3]]
    assert header[:5] == ["Variable", "HR", "95% CI, lower", "95% CI, upper", "p"]
    for r in range(cox_spec.n_rows):
        cell = ws.cell(row=4 + r, column=2)
        assert isinstance(cell.value, float)
        assert cell.value == pytest.approx(float(cox_spec.value(r, "estimate")), rel=1e-12)
        assert cell.number_format == "0.00"
        assert isinstance(ws.cell(row=4 + r, column=5).value, float)
    notes = [ws.cell(row=r, column=1).value for r in range(4 + cox_spec.n_rows, ws.max_row + 1)]
    assert any(isinstance(v, str) and v.startswith("Method:") for v in notes)


def test_figure_files_are_written(rendered: dict[str, Path], report: Report) -> None:
    """Every figure is saved as PNG, PDF and SVG next to the report."""
    names = {k for k in rendered if k.startswith("figure:")}
    assert len(names) == 3 * len(report.figures())


def test_unknown_format_is_refused(report: Report, tmp_path: Path) -> None:
    """A misspelt format is an error, not silently skipped."""
    with pytest.raises(ValueError, match="odt"):
        render_report(report, tmp_path, formats=("html", "odt"))
