"""Word documents (python-docx): real, editable tables; figures as pictures."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rrball.report.document import FigureItem, Report
from rrball.report.render.figures import figure_bytes
from rrball.report.styles import Style, get_style
from rrball.report.tables import TableSpec

__all__ = ["add_table", "render_docx"]


def add_table(document: Any, spec: TableSpec, style: Style) -> None:
    """Append ``spec`` as a Word table (caption, spanners, header, rows, footnotes)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    align = {"left": WD_ALIGN_PARAGRAPH.LEFT, "right": WD_ALIGN_PARAGRAPH.RIGHT,
             "center": WD_ALIGN_PARAGRAPH.CENTER}
    caption = document.add_paragraph()
    caption.add_run(spec.title).bold = True
    header_rows = 2 if spec.spanners else 1
    table = document.add_table(rows=header_rows + spec.n_rows, cols=len(spec.columns))
    table.style = "Table Grid"
    if spec.spanners:
        for sp in spec.spanners:
            idx = [j for j, c in enumerate(spec.columns) if c.key in sp.keys]
            if not idx:
                continue
            cell = table.cell(0, idx[0]).merge(table.cell(0, idx[-1])) if len(idx) > 1 \
                else table.cell(0, idx[0])
            cell.text = sp.label
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for j, c in enumerate(spec.columns):
        cell = table.cell(header_rows - 1, j)
        cell.text = c.label
        cell.paragraphs[0].runs[0].bold = True
    for r, row in enumerate(spec.text_rows(style)):
        for j, (c, text) in enumerate(zip(spec.columns, row, strict=True)):
            cell = table.cell(header_rows + r, j)
            cell.text = text
            para = cell.paragraphs[0]
            para.alignment = align[c.align]
            if j == 0 and spec.indent[r]:
                para.paragraph_format.left_indent = Pt(10 * spec.indent[r])
            if spec.bold[r] and para.runs:
                para.runs[0].bold = True
    for note in (*spec.all_footnotes(), *spec.source_notes):
        p = document.add_paragraph()
        run = p.add_run(note)
        run.font.size = Pt(max(style.font_size - 1, 6))


def _add_figure(document: Any, item: FigureItem, style: Style) -> None:
    from docx.shared import Inches, Pt

    document.add_picture(io.BytesIO(figure_bytes(item.figure, "png")),
                         width=Inches(min(style.figure_width_in, 6.3)))
    cap = document.add_paragraph()
    cap.add_run(item.caption).italic = True
    for note in item.notes:
        document.add_paragraph().add_run(note).font.size = Pt(max(style.font_size - 1, 6))


def render_docx(report: Report, path: str | Path, style: Style | None = None) -> Path:
    """Write the report as .docx."""
    import docx
    from docx.shared import Pt

    st = style or get_style()
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = st.font_family
    normal.font.size = Pt(st.font_size + 1)
    document.core_properties.author = "rrball"
    document.add_heading(report.title, level=0)
    if report.subtitle:
        document.add_paragraph(report.subtitle)
    document.add_paragraph(f"Data snapshot (SHA-256): {report.data_hash}")
    document.add_paragraph(f"rrball {report.version}; style {st.name}")
    document.add_heading("Analysis plan", level=1)
    plan = document.add_paragraph()
    run = plan.add_run(report.plan_text)
    run.font.name = "DejaVu Sans Mono"
    run.font.size = Pt(8)
    for section in report.sections:
        document.add_heading(section.heading, level=1)
        if section.text:
            document.add_paragraph(section.text)
        for item in section.items:
            if isinstance(item, TableSpec):
                add_table(document, item, st)
            else:
                _add_figure(document, item, st)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(out))
    return out
