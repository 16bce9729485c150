"""Renderers: Report / TableSpec / Figure → files. The only part of report/ that does I/O."""

from rrball.report.render.docx import render_docx
from rrball.report.render.figures import figure_bytes, save_figure
from rrball.report.render.html import render_html
from rrball.report.render.pdf import render_pdf
from rrball.report.render.report import render_report
from rrball.report.render.xlsx import render_xlsx

__all__ = ["figure_bytes", "render_docx", "render_html", "render_pdf", "render_report",
           "render_xlsx", "save_figure"]
