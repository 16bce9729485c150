"""``render_report``: one Report → HTML, PDF, Word and Excel files (plus the figure files)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rrball.report.document import Report, slug
from rrball.report.render.docx import render_docx
from rrball.report.render.figures import save_figure
from rrball.report.render.html import render_html
from rrball.report.render.pdf import render_pdf
from rrball.report.render.xlsx import render_xlsx
from rrball.report.styles import Style, get_style

__all__ = ["REPORT_FORMATS", "render_report"]

REPORT_FORMATS = ("html", "pdf", "docx", "xlsx")


def render_report(
    report: Report, out_dir: str | Path, formats: Sequence[str] = REPORT_FORMATS, *,
    style: Style | None = None, figure_formats: Sequence[str] = ("png", "pdf", "svg"),
    stem: str = "report",
) -> dict[str, Path]:
    """Write ``out_dir/<stem>.<fmt>`` for each format and every figure under ``figures/``.

    Returns a mapping format → path (figure files under ``"figure:<name>.<fmt>"`` keys).
    """
    bad = sorted(set(formats) - set(REPORT_FORMATS))
    if bad:
        raise ValueError(f"format(s) {bad} not among {', '.join(REPORT_FORMATS)}")
    st = style or get_style()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if "html" in formats:
        written["html"] = render_html(report, out / f"{stem}.html", st)
    if "pdf" in formats:
        written["pdf"] = render_pdf(report, out / f"{stem}.pdf", st)
    if "docx" in formats:
        written["docx"] = render_docx(report, out / f"{stem}.docx", st)
    if "xlsx" in formats:
        written["xlsx"] = render_xlsx(report, out / f"{stem}.xlsx")
    for item in report.figures():
        for path in save_figure(item.figure, out / "figures" / slug(item.name, 60),
                                figure_formats):
            written[f"figure:{path.name}"] = path
    return written
