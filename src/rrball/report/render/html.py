"""Self-contained HTML: inline CSS, figures embedded as SVG, no external links."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from rrball.report.document import FigureItem, Report
from rrball.report.render.figures import figure_bytes
from rrball.report.styles import Style, get_style
from rrball.report.tables import TableSpec

#: tables with more columns than this get class "wide" (smaller print font in the PDF)
WIDE_COLUMNS = 9

__all__ = ["html_document", "render_html", "table_html"]

_CSS = """
body {{ font-family: "{font}", "DejaVu Sans", sans-serif; font-size: {size}pt; margin: 2em;
       color: #111; max-width: 60em; }}
h1 {{ font-size: 1.6em; }} h2 {{ font-size: 1.25em; margin-top: 1.6em; }}
table.rr {{ border-collapse: collapse; margin: 0.6em 0; }}
table.rr caption {{ text-align: left; font-weight: bold; padding-bottom: 0.3em; }}
table.rr th, table.rr td {{ padding: 0.15em 0.7em; }}
table.rr thead tr:first-child th {{ border-top: 1.5px solid #000; }}
table.rr thead tr:last-child th {{ border-bottom: 1px solid #000; }}
table.rr tbody tr:last-child td {{ border-bottom: 1.5px solid #000; }}
td.l, th.l {{ text-align: left; }} td.r, th.r {{ text-align: right; }}
td.c, th.c {{ text-align: center; }}
th.spanner {{ border-bottom: 1px solid #000; text-align: center; }}
tr.bold td {{ font-weight: bold; }}
p.foot, p.note {{ font-size: 0.85em; margin: 0.1em 0; color: #333; }}
pre.plan {{ background: #f4f4f4; padding: 0.8em; font-size: 0.8em; white-space: pre-wrap; }}
figure {{ margin: 1em 0; }} figure svg {{ max-width: 100%; height: auto; }}
figcaption {{ font-size: 0.9em; }}
"""


def table_html(spec: TableSpec, style: Style) -> str:
    """One ``<table>`` with caption, spanners, indented/bold rows and footnotes."""
    e = html.escape
    wide = " wide" if len(spec.columns) > WIDE_COLUMNS else ""
    out = [f'<table class="rr{wide}">', f"<caption>{e(spec.title)}</caption>", "<thead>"]
    if spec.spanners:
        covered = {k: sp for sp in spec.spanners for k in sp.keys}
        cells = []
        i = 0
        cols = spec.columns
        while i < len(cols):
            sp = covered.get(cols[i].key)
            if sp is None:
                cells.append("<th></th>")
                i += 1
                continue
            width = sum(1 for c in cols if c.key in sp.keys)
            cells.append(f'<th class="spanner" colspan="{width}">{e(sp.label)}</th>')
            i += width
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("<tr>" + "".join(f'<th class="{c.align[0]}">{e(c.label)}</th>'
                                for c in spec.columns) + "</tr>")
    out.append("</thead><tbody>")
    for r, row in enumerate(spec.text_rows(style)):
        cls = ' class="bold"' if spec.bold[r] else ""
        cells = []
        for j, (c, text) in enumerate(zip(spec.columns, row, strict=True)):
            pad = f' style="padding-left:{0.7 + 1.2 * spec.indent[r]}em"' if j == 0 else ""
            cells.append(f'<td class="{c.align[0]}"{pad}>{e(text)}</td>')
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    out.extend(f'<p class="foot">{e(f)}</p>' for f in spec.all_footnotes())
    out.extend(f'<p class="note">{e(n)}</p>' for n in spec.source_notes)
    return "\n".join(out)


def _figure_html(item: FigureItem, image: str = "svg") -> str:
    """A figure as inline SVG (vector, the HTML report) or as a PNG data URI (``image="png"``,
    used for the PDF: weasyprint paints inline SVG slowly; the vector files are written next
    to the report)."""
    if image == "png":
        data = base64.b64encode(figure_bytes(item.figure, "png")).decode("ascii")
        body = (f'<img src="data:image/png;base64,{data}" '
                f'alt="{html.escape(item.caption)}" style="width:100%">')
    else:
        svg = figure_bytes(item.figure, "svg").decode("utf-8")
        body = svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE (external DTD link)
    notes = "".join(f'<p class="foot">{html.escape(n)}</p>' for n in item.notes)
    return (f'<figure id="{html.escape(item.name)}">{body}<figcaption>'
            f"{html.escape(item.caption)}</figcaption>{notes}</figure>")


def html_document(report: Report, style: Style | None = None, *, image: str = "svg") -> str:
    """The whole report as one self-contained HTML string (figures inline SVG, or PNG data
    URIs with ``image="png"``)."""
    st = style or get_style()
    e = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(report.title)}</title>",
        "<style>" + _CSS.format(font=st.font_family, size=st.font_size + 1) + "</style>",
        "</head><body>",
        f"<h1>{e(report.title)}</h1>",
    ]
    if report.subtitle:
        parts.append(f"<p>{e(report.subtitle)}</p>")
    parts.append(f"<p><b>Data snapshot (SHA-256):</b> <code>{e(report.data_hash)}</code><br>"
                 f"<b>rrball</b> {e(report.version)}; style {e(st.name)}</p>")
    parts.append(f'<h2>Analysis plan</h2><pre class="plan">{e(report.plan_text)}</pre>')
    for section in report.sections:
        parts.append(f"<h2>{e(section.heading)}</h2>")
        if section.text:
            parts.append(f"<p>{e(section.text)}</p>")
        for item in section.items:
            parts.append(table_html(item, st) if isinstance(item, TableSpec)
                         else _figure_html(item, image))
    parts.append("</body></html>")
    return "\n".join(parts)


def render_html(report: Report, path: str | Path, style: Style | None = None) -> Path:
    """Write the self-contained HTML file."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html_document(report, style), encoding="utf-8")
    return out
