"""The officials' dashboard: per standard, indicator cards, a monthly trend and the areas below compared.

Views only parse the request and read through selectors (scoped to the reader's area); every chart is drawn
by static/evaluation/charts.js from the same numbers the page prints as a table beside it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fuwu.areas.models import Area
from fuwu.areas.selectors import area_names
from fuwu.common.params import ParamError, parse_month
from fuwu.evaluation import manual, permissions, public, selectors
from fuwu.standards.models import StandardVersion


def _month(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return parse_month(text)
    except ParamError:
        return None


def _number(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _guard(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not permissions.can_view_dashboard(request.user):
        raise PermissionDenied
    return None


@never_cache
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    root = selectors.root_area(request.user)
    versions = selectors.versions_with_computed_indicators()
    rows = [{"version": v, "latest": selectors.latest_month(v, root)} for v in versions]
    root_name = area_names([root.code]).get(root.code, root.name_zh)
    # Standards whose indicators are all entered by hand (none computed): listed apart, for their entries.
    shown = {v.pk for v in versions}
    by_hand = [v for v in manual_versions() if v.pk not in shown]
    return render(
        request, "evaluation/dashboard.html", {"root": root, "root_name": root_name, "rows": rows, "by_hand": by_hand}
    )


def manual_versions() -> list[StandardVersion]:
    from fuwu.standards.models import IN_FORCE

    versions = StandardVersion.objects.filter(status__in=IN_FORCE).select_related("standard").order_by("code")
    return [v for v in versions if any(not i.get("computation") for i in v.document.get("indicators", []))]


@never_cache
@require_GET
def standard(request: HttpRequest, key: str, area_code: str | None = None) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    try:
        version = selectors.version_for(key)
        area = selectors.area_for_user(request.user, area_code)
    except (StandardVersion.DoesNotExist, Area.DoesNotExist, PermissionDenied) as exc:
        # Another area's page is as absent as one that does not exist.
        raise Http404("no such standard or area") from exc
    root = selectors.root_area(request.user)
    asked = _month(request.GET.get("month"))
    month = asked or selectors.latest_month(version, area)
    crumbs = selectors.breadcrumbs(area, root)
    context: dict[str, Any] = {
        "version": version,
        "area": area,
        "crumbs": crumbs,
        "month": month,
        "bad_month": bool(request.GET.get("month")) and asked is None,
    }
    if month is not None:
        cards, uncomputed = selectors.cards(version, area, month)
        chosen = next(
            (c for c in cards if c.indicator.key == request.GET.get("indicator")), cards[0] if cards else None
        )
        children = selectors.children_values(chosen.indicator, area, month) if chosen else []
        names = area_names([a.code for a in crumbs] + [c.area.code for c in children])
        context.update(
            cards=cards,
            uncomputed=uncomputed,
            chosen=chosen,
            children=children,
            names=names,
            trend_data=[
                {"label": f"{p.month:%Y-%m}", "value": _number(p.value if p.denominator else None)}
                for p in (chosen.trend if chosen else [])
            ],
            children_data=[
                {
                    "label": names.get(c.area.code, c.area.name_zh),
                    "value": _number(c.point.value if c.point and c.point.denominator else None),
                    "url": (
                        reverse("evaluation:area", args=[key, c.area.code])
                        + f"?month={month:%Y-%m}&indicator={chosen.indicator.key}"
                        if c.has_children and chosen
                        else ""
                    ),
                }
                for c in children
            ],
        )
    context.setdefault("names", area_names([a.code for a in crumbs]))
    # Indicators entered by hand: the latest value for this area, and who may enter or publish (views_data).
    if "uncomputed" not in context:  # no computed values yet: the indicators entered by hand still show
        context["uncomputed"] = selectors.cards(version, area, timezone.localdate().replace(day=1))[1]
    context.update(
        manual_values=manual.latest_values(version, area, upto=month),
        can_enter=manual.can_enter(request.user, version, area),
        can_publish=public.can_publish(request.user),
    )
    return render(request, "evaluation/standard.html", context)
