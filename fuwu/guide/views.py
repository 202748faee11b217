"""Public pages: the service menu, standards, service guides and search. Thin: parse, select, render."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from fuwu.common.middleware import LARGE
from fuwu.common.pagecache import Page, render_page
from fuwu.common.params import safe_next
from fuwu.eligibility.wording import target_words
from fuwu.evaluation import publicity
from fuwu.evaluation.models import PublicityKind
from fuwu.guide.guides import item_guide, item_guide_pdf, parameter_rows, source_note
from fuwu.standards import cache, selectors
from fuwu.standards.cache import VersionState
from fuwu.standards.diff import version_diff
from fuwu.standards.models import ServiceItem, StandardVersion


def home(request: HttpRequest) -> HttpResponse:
    # The menu shows the content of the versions in force, not their lifecycle (a review changes nothing).
    in_force = tuple(v.content for v in cache.snapshot().in_force())
    return render_page(request, cache.cached("menu", in_force, _menu_page))


def _menu_page() -> Page:
    return Page(gettext("台州基本公共服务"), render_to_string("guide/home.html", {"menu": selectors.service_menu()}))


def standard_list(request: HttpRequest) -> HttpResponse:
    # Every version's state: the list shows each standard's status and review date.
    return render_page(request, cache.cached("standards", cache.snapshot().versions, _standard_list_page))


def _standard_list_page() -> Page:
    return Page(gettext("标准"), render_to_string("guide/standard_list.html", {"versions": selectors.standards_list()}))


def standard_detail(request: HttpRequest, key: str, number: int | None = None) -> HttpResponse:
    versions = cache.snapshot().of_standard(key)
    if not versions or (number is not None and all(v.number != number for v in versions)):
        raise Http404("no such standard")
    # This standard's versions, whole: the page shows their statuses, dates and successors.
    page = cache.cached("standard", (versions, number), lambda: _standard_page(key, number))
    return render_page(request, page)


def _standard_page(key: str, number: int | None) -> Page:
    try:
        version = selectors.standard_version(key=key, number=number)
    except StandardVersion.DoesNotExist as exc:  # removed since the snapshot was read
        raise Http404("no such standard") from exc
    context = {
        "version": version,
        "source_note": source_note(version),
        "clauses": selectors.clause_tree(version),
        "items": version.items.all(),
        "indicators": [
            (i, target_words(i.comparison, i.unit, i.target) if i.target is not None else "")
            for i in version.indicators.all()
        ],
        "parameters": parameter_rows(version),
        "versions": version.standard.versions.order_by("-number"),
    }
    return Page(version.title, render_to_string("guide/standard_detail.html", context))


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


def _item_index(in_force: tuple[VersionState, ...]) -> dict[str, tuple[int, str, int, str]]:
    """Which version in force holds each item: {item key: the version's content key}."""
    content = {v.id: v.content for v in in_force}
    rows = selectors.items_in_force().values_list("key", "version_id")
    return {key: content[version_id] for key, version_id in rows if version_id in content}


def item_detail(request: HttpRequest, key: str) -> HttpResponse:
    in_force = cache.snapshot().in_force()
    index = cache.cached("item-index", tuple(v.content for v in in_force), lambda: _item_index(in_force))
    version = index.get(key)
    if version is None:
        raise Http404("no such service item")
    if request.method == "GET":
        publicity.count(request, PublicityKind.GUIDE_VIEW, (key,))
    # A guide shows its version's content, and today's values of dated parameters.
    page = cache.cached("guide", (version, key, timezone.localdate()), lambda: _guide_page(key))
    return render_page(request, page)


def _guide_page(key: str) -> Page:
    from fuwu.applications.figures import item_figures

    guide = item_guide(_guide_or_404(key))
    # Applied-for items show their public figures as of today (the page is kept per day: fresh daily).
    figures = item_figures(item_key=key, today=timezone.localdate()) if guide.steps else None
    return Page(guide.item.name, render_to_string("guide/item_detail.html", {"guide": guide, "figures": figures}))


def item_pdf(request: HttpRequest, key: str) -> HttpResponse:
    item = _guide_or_404(key)
    if request.method == "GET":
        publicity.count(request, PublicityKind.PDF_DOWNLOAD, (item.key,))
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
    body = render_to_string("guide/_search_page.html", {"query": query, "results_html": results_html})
    return render_page(request, Page(gettext("搜索"), body))


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
