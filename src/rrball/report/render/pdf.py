"""PDF through weasyprint from the same self-contained HTML."""

from __future__ import annotations

import warnings
from pathlib import Path

from rrball.report.document import Report
from rrball.report.render.html import html_document
from rrball.report.styles import Style

__all__ = ["render_pdf"]

# Print layout: the page margins replace the screen margins, tables use the full text width and
# wrap long cells, so a wide comparison table never runs off the page.
_PAGE_CSS = (
    "@page { size: A4; margin: 15mm 10mm; } "
    "body { margin: 0; max-width: none; } "
    "table.rr { width: 100%; font-size: 0.85em; } "
    "table.rr.wide { font-size: 0.66em; } "
    "table.rr th, table.rr td { padding: 0.1em 0.3em; overflow-wrap: break-word; "
    "hyphens: auto; } "
    "figure svg { max-width: 100%; }"
)


def render_pdf(report: Report, path: str | Path, style: Style | None = None) -> Path:
    """Write an A4 PDF of the report (weasyprint; no network access: nothing external)."""
    with warnings.catch_warnings():
        # weasyprint warns at import when the system lacks libharfbuzz-subset (a packaging
        # notice about future versions, not about this document)
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        import weasyprint

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = html_document(report, style, image="png")
    doc = doc.replace("</style>", _PAGE_CSS + "</style>", 1)
    # only the figures' own data: URIs are read; any other URL is refused, never fetched
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))
    weasyprint.HTML(string=doc, url_fetcher=fetcher).write_pdf(str(out))
    return out
