"""Public pages: the service menu, standards, service guides and search. Thin: parse, select, render."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.views.decorators.http import require_POST

from fuwu.common.middleware import LARGE
from fuwu.common.params import safe_next
from fuwu.guide.guides import item_guide, item_guide_pdf
from fuwu.standards import selectors
from fuwu.standards.diff import version_diff
from fuwu.standards.models import ServiceItem, StandardVersion


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "guide/home.html", {"menu": selectors.service_menu()})


def standard_list(request: HttpRequest) -> HttpResponse:
    return render(request, "guide/standard_list.html", {"versions": selectors.standards_list()})


def standard_detail(request: HttpRequest, key: str, number: int | None = None) -> HttpResponse:
    try:
        version = selectors.standard_version(key=key, number=number)
    except StandardVersion.DoesNotExist as exc:
        raise Http404("no such standard") from exc
    context = {
        "version": version,
        "clauses": selectors.clause_tree(version),
        "items": version.items.all(),
        "indicators": version.indicators.all(),
        "parameters": version.parameters.prefetch_related("values"),
        "versions": version.standard.versions.order_by("-number"),
    }
    return render(request, "guide/standard_detail.html", context)


def standard_diff(request: HttpRequest, key: str, old: int, new: int) -> HttpResponse:
    try:
        a = selectors.standard_version(key=key, number=old)
        b = selectors.standard_version(key=key, number=new)
    except StandardVersion.DoesNotExist as exc:
        raise Http404("no such version") from exc
    return render(request, "guide/standard_diff.html", {"diff": version_diff(a, b)})


def _guide_or_404(key: str) -> ServiceItem:
    try:
        return selectors.item_in_force(key=key)
    except ServiceItem.DoesNotExist as exc:
        raise Http404("no such service item") from exc


def item_detail(request: HttpRequest, key: str) -> HttpResponse:
    return render(request, "guide/item_detail.html", {"guide": item_guide(_guide_or_404(key))})


def item_pdf(request: HttpRequest, key: str) -> HttpResponse:
    item = _guide_or_404(key)
    response = HttpResponse(item_guide_pdf(item), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{item.key}.pdf"'
    return response


def _search_results_html(query: str) -> str:
    """The results fragment: the same for everyone, so rendered once per query, language and standards in force."""
    return selectors.search_memo(
        ("guide.search", translation.get_language(), query),
        lambda: render_to_string(
            "guide/_search_results.html", {"query": query, "results": selectors.search(query=query)}
        ),
    )


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    results_html = _search_results_html(query) if query else ""
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse(results_html)
    return render(request, "guide/search.html", {"query": query, "results_html": results_html})


@require_POST
def display_mode(request: HttpRequest) -> HttpResponse:
    """Switch large-text, high-contrast mode on or off; remembered for a year."""
    target = safe_next(request, "/")
    response = redirect(target)
    if request.POST.get("mode") == LARGE:
        response.set_cookie(
            settings.DISPLAY_COOKIE_NAME, LARGE, max_age=365 * 24 * 3600, samesite="Lax", secure=request.is_secure()
        )
    else:
        response.delete_cookie(settings.DISPLAY_COOKIE_NAME)
    return response
