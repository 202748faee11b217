"""The evaluation report's charts (static SVG, drawn here from the report's own figures) and its PDF.

The same SVG is inlined in the page and in the PDF (WeasyPrint draws SVG), each with its table beside it; no
script, so the printed report is what the page shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from fuwu.guide.pdf import render_pdf

WIDTH = 640
ROW = 26
LABEL = 220


def _number(text: str | None) -> Decimal | None:
    return None if text in (None, "") else Decimal(str(text))


def bars_svg(rows: Sequence[tuple[str, Decimal | None, Decimal | None]], *, title: str, scale: Decimal) -> SafeString:
    """Horizontal bars: one per (label, value, target), a tick at the target; ``scale`` is the axis' end."""
    height = ROW * len(rows) + 10
    span = WIDTH - LABEL - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}" class="report-chart">'
    ]
    scale = scale if scale > 0 else Decimal(1)
    for i, (label, value, target) in enumerate(rows):
        y = 5 + i * ROW
        parts.append(
            f'<text x="{LABEL - 6}" y="{y + 16}" text-anchor="end" font-size="12" fill="#1a1a1a">'
            f"{escape(label[:18])}</text>"
        )
        parts.append(f'<rect x="{LABEL}" y="{y + 4}" width="{span}" height="16" fill="#eef1f4"/>')
        if value is not None:
            width = int(span * min(value, scale) / scale)
            parts.append(f'<rect x="{LABEL}" y="{y + 4}" width="{width}" height="16" fill="#1f5f8b"/>')
            parts.append(
                f'<text x="{LABEL + span + 4}" y="{y + 16}" font-size="12" fill="#1a1a1a">{escape(str(value))}</text>'
            )
        if target is not None:
            x = LABEL + int(span * min(target, scale) / scale)
            parts.append(f'<line x1="{x}" y1="{y + 1}" x2="{x}" y2="{y + 23}" stroke="#b3261e" stroke-width="2"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text in it is escaped above


def charts(report: dict[str, Any]) -> dict[str, SafeString]:
    """The report's two charts: indicators against their targets, and the clauses most pointed at."""
    out: dict[str, SafeString] = {}
    percent = [i for i in report["effect"]["indicators"] if i["unit"] == "percent"]
    if percent:
        out["indicators"] = bars_svg(
            [(i["name"], _number(i["value"]), _number(i["target"])) for i in percent],
            title=_("指标数值与目标（%）"),
            scale=Decimal(100),
        )
    clauses = report["clauses"]
    if clauses:
        totals = [(f"{c['number']} {c['title']}", Decimal(_signals(c)), None) for c in clauses]
        top = sorted(totals, key=lambda r: -(r[1] or 0))[:12]
        out["clauses"] = bars_svg(top, title=_("各条款的问题信号"), scale=max((r[1] or Decimal(0)) for r in top))
    return out


def _signals(row: dict[str, Any]) -> int:
    return int(row["failed"] + row["complaints"] + row["poor_ratings"] + row["feedback"])


def report_pdf(report: dict[str, Any], *, decision: dict[str, Any] | None = None) -> bytes:
    """The evaluation report as PDF (CJK fonts embedded), with the decision when one is taken."""
    context = {"report": report, "charts": charts(report), "decision": decision, "printed_at": timezone.localtime()}
    return render_pdf("evaluation/review/report_print.html", context, base_url=None)
