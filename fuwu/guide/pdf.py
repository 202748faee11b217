"""Printable documents: HTML templates rendered to PDF by WeasyPrint, CJK fonts embedded."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string


def render_pdf(template: str, context: dict[str, Any], *, base_url: str) -> bytes:
    # Imported here: WeasyPrint loads Pango at import, which the rest of the site doesn't need.
    from weasyprint import HTML

    html = render_to_string(template, context)
    pdf: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return pdf
