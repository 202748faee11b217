"""Printable documents: HTML templates rendered to PDF by WeasyPrint, CJK fonts embedded."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

# Body font sizes (points) tried in turn until the document fits its page budget;
# below the last one an elder could no longer read the print.
FIT_FONT_SIZES = (9.0, 8.5, 8.0, 7.5, 7.0)


def render_pdf(template: str, context: dict[str, Any], *, base_url: str | None, max_pages: int | None = None) -> bytes:
    """Render ``template`` to PDF. With ``max_pages``, shrink the text (within limits) to fit.

    The template reads ``font_size`` (points) from its context.
    """
    # Imported here: WeasyPrint loads Pango at import, which the rest of the site doesn't need.
    from weasyprint import HTML

    sizes = FIT_FONT_SIZES if max_pages else FIT_FONT_SIZES[:1]
    for size in sizes:
        html = render_to_string(template, {**context, "font_size": size})
        document = HTML(string=html, base_url=base_url).render()
        if max_pages is None or len(document.pages) <= max_pages:
            break
    pdf: bytes = document.write_pdf()
    return pdf
