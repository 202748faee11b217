"""The public page of a standard's published indicators (no login), cached like the guide's pages (ADR 22)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from fuwu.areas.selectors import area_names
from fuwu.common.pagecache import Page, render_page
from fuwu.evaluation import public, selectors
from fuwu.standards import cache
from fuwu.standards.models import StandardVersion


@require_GET
def standard_public(request: HttpRequest, key: str) -> HttpResponse:
    versions = cache.snapshot().of_standard(key)
    if not versions:
        raise Http404("no such standard")
    try:
        version = selectors.version_for(key)
    except StandardVersion.DoesNotExist as exc:
        raise Http404("no standard in force") from exc
    page = cache.cached("evaluation-public", (versions, public.data_stamp(version)), lambda: _page(version))
    return render_page(request, page)


def _page(version: StandardVersion) -> Page:
    rows = public.public_indicators(version)
    codes = [v.area.code for r in rows for v in ([r.city] if r.city else []) + r.counties]
    context = {
        "version": version,
        "rows": rows,
        "names": area_names(codes),
        "min_denominator": public.min_denominator(),
    }
    title = gettext("%(title)s：实施情况") % {"title": version.title}
    return Page(title, render_to_string("evaluation/public.html", context))
