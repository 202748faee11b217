"""Public pages: find institutions near you, each one's latest grade, the draws and results (一公开), coverage.

No login. Only published results appear; an unpublished inspection is a 404 here whatever its state.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from fuwu.areas import outlines
from fuwu.areas.models import Area, AreaLevel
from fuwu.compliance import coverage, exports, selectors
from fuwu.compliance.checklists import kind_name, kinds_in_force
from fuwu.compliance.draw import METHOD
from fuwu.compliance.forms import FindForm
from fuwu.compliance.models import Draw, DrawStatus, Inspection, Institution, OrderStatus
from fuwu.compliance.scoring import grade_label
from fuwu.standards.models import StandardVersion
from fuwu.standards.models import localized as localized_field

SHOWN = 100
PAGE = 50


def area_name(area: Area) -> str:
    return localized_field(area, "name")


def counties() -> list[tuple[str, str]]:
    return [(a.code, area_name(a)) for a in Area.objects.filter(level=AreaLevel.COUNTY).order_by("code")]


@dataclass(frozen=True)
class Listed:
    institution: Institution
    kind: str
    place: str
    metres: int | None
    grade: str
    inspected_on: Any


def _place(area: Area) -> str:
    names = []
    node: Area | None = area
    while node is not None and node.level != AreaLevel.CITY:
        names.append(area_name(node))
        node = node.parent
    return " ".join(reversed(names))


def _latest(institution: Institution) -> tuple[str, Any]:
    standings = sorted(institution.standings.all(), key=lambda s: s.inspected_on, reverse=True)
    if not standings:
        return "", None
    s = standings[0]
    return grade_label(passed=s.passed, grade_zh=s.grade_zh, grade_en=s.grade_en), s.inspected_on


@require_GET
def find(request: HttpRequest) -> HttpResponse:
    kinds = kinds_in_force()
    form = FindForm(request.GET or None, kinds=kinds, counties=counties())
    data = form.cleaned_data if form.is_valid() else {}
    found = selectors.institutions_public(
        kind=data.get("kind", ""), county=data.get("county", ""), query=data.get("q", "")
    ).select_related("area__parent__parent")
    total = found.count()
    near = selectors.nearest(list(found[:2000]), latitude=data.get("lat"), longitude=data.get("lon"))[:SHOWN]
    rows = []
    points = []
    for n in near:
        grade, on = _latest(n.institution)
        rows.append(
            Listed(n.institution, kind_name(n.institution.kind, kinds), _place(n.institution.area), n.metres, grade, on)
        )
        i = n.institution
        if i.latitude is not None and i.longitude is not None:
            points.append(
                {
                    "name": i.name,
                    "value": [float(i.longitude), float(i.latitude)],
                    "url": reverse("compliance:institution", args=[i.pk]),
                    "grade": grade,
                }
            )
    context = {
        "form": form,
        "rows": rows,
        "total": total,
        "shown": len(rows),
        "near": data.get("lat") is not None,
        "map_points": points,
        "outlines": outlines.source(),
    }
    return render(request, "compliance/public/find.html", context)


@require_GET
def institution(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        found = selectors.institution_public(pk)
    except Institution.DoesNotExist as exc:
        raise Http404("no such institution") from exc
    kinds = kinds_in_force()
    kind = kinds.get(found.kind)
    governing = list(
        StandardVersion.objects.filter(
            standard__key__in=kind.standards if kind else [], status__in=["published", "under_review"]
        )
        .select_related("standard")
        .defer("document")
    )
    standings = [
        {
            "standing": s,
            "grade": grade_label(passed=s.passed, grade_zh=s.grade_zh, grade_en=s.grade_en),
            "title": next((v.title for v in governing if v.standard_id == s.standard_id), s.standard.key),
        }
        for s in found.standings.all()
    ]
    results = selectors.results_public().filter(institution=found)[:20]
    context = {
        "institution": found,
        "kind": kind,
        "kind_name": kind_name(found.kind, kinds),
        "place": _place(found.area),
        "governing": governing,
        "standings": standings,
        "results": [(r, grade_label(passed=r.passed, grade_zh=r.grade_zh, grade_en=r.grade_en)) for r in results],
        "open_orders": found.orders.filter(
            status__in=[OrderStatus.OPEN, OrderStatus.ANSWERED, OrderStatus.TO_REINSPECT],
            inspection__status="published",
        ).count(),
    }
    return render(request, "compliance/public/institution.html", context)


@require_GET
def results(request: HttpRequest) -> HttpResponse:
    draws = selectors.draws_public()[:30]
    page = Paginator(selectors.results_public(), PAGE).get_page(request.GET.get("page"))
    kinds = kinds_in_force()
    context = {
        "draws": draws,
        "page": page,
        "rows": [
            (
                r,
                kind_name(r.institution.kind, kinds),
                grade_label(passed=r.passed, grade_zh=r.grade_zh, grade_en=r.grade_en),
            )
            for r in page.object_list
        ],
    }
    return render(request, "compliance/public/results.html", context)


def draw_rows(draw: Draw, *, public: bool) -> list[dict[str, Any]]:
    """Each pick with its kind, county and inspectors, and the result when it is published (or, for staff, any)."""
    kinds = kinds_in_force()
    county_names = {a.code: area_name(a) for a in Area.objects.filter(level=AreaLevel.COUNTY)}
    inspections: dict[int, list[Inspection]] = {}
    for inspection in Inspection.objects.filter(pick__draw=draw).select_related("standard", "version"):
        inspections.setdefault(inspection.pick_id or 0, []).append(inspection)
    rows = []
    for pick in draw.picks.select_related(
        "institution", "institution__area", "first_inspector__user", "second_inspector__user"
    ):
        kind, county = pick.stratum.rsplit("|", 1)
        found = inspections.get(pick.pk, [])
        rows.append(
            {
                "pick": pick,
                "kind": kind_name(kind, kinds),
                "county": county_names.get(county, county),
                "inspectors": [pick.first_inspector.name, pick.second_inspector.name],
                "inspections": [
                    (i, grade_label(passed=i.passed, grade_zh=i.grade_zh, grade_en=i.grade_en))
                    for i in found
                    if not public or i.status == "published"
                ],
            }
        )
    return rows


def strata(draw: Draw) -> list[dict[str, Any]]:
    kinds = kinds_in_force()
    county_names = {a.code: area_name(a) for a in Area.objects.filter(level=AreaLevel.COUNTY)}
    drawn: dict[str, int] = {}
    for stratum in draw.picks.values_list("stratum", flat=True):
        drawn[stratum] = drawn.get(stratum, 0) + 1
    out = []
    for stratum, members in sorted(draw.frame.get("strata", {}).items()):
        kind, county = stratum.rsplit("|", 1)
        out.append(
            {
                "kind": kind_name(kind, kinds),
                "county": county_names.get(county, county),
                "size": len(members),
                "ratio": draw.ratios.get(kind, ""),
                "drawn": drawn.get(stratum, 0),
            }
        )
    return out


@require_GET
def draw(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        found = selectors.draws_public().get(pk=pk)
    except Draw.DoesNotExist as exc:
        raise Http404("no such published draw") from exc
    successor = Draw.objects.filter(supersedes=found).first()
    context = {
        "draw": found,
        "successor": successor,
        "strata": strata(found),
        "rows": draw_rows(found, public=True),
        "method": METHOD,
        "superseded": found.status == DrawStatus.SUPERSEDED,
    }
    return render(request, "compliance/public/draw.html", context)


def result_context(inspection: Inspection) -> dict[str, Any]:
    items = list(inspection.items.select_related("answer").order_by("position"))
    orders = {o.item_id: o for o in inspection.orders.all()}
    return {
        "inspection": inspection,
        "grade": grade_label(passed=inspection.passed, grade_zh=inspection.grade_zh, grade_en=inspection.grade_en),
        "kind_name": kind_name(inspection.institution.kind),
        "failed": [
            (i, orders.get(i.pk)) for i in items if getattr(i, "answer", None) and i.answer.result in ("not", "partly")
        ],
        "counts": _counts(items),
        "inspectors": [u.get_full_name() or u.get_username() for u in inspection.inspectors.all()],
    }


def _counts(items: list[Any]) -> dict[str, int]:
    out = {"compliant": 0, "partly": 0, "not": 0, "na": 0}
    for i in items:
        answer = getattr(i, "answer", None)
        if answer is not None:
            out[answer.result] += 1
    return out


@require_GET
def result(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        found = selectors.result_public(pk)
    except Inspection.DoesNotExist as exc:
        raise Http404("no such published result") from exc
    return render(request, "compliance/public/result.html", result_context(found))


@require_GET
def coverage_page(request: HttpRequest) -> HttpResponse:
    versions = coverage.standards_with_kinds()
    chosen_key = request.GET.get("standard") or (versions[0].standard.key if versions else "")
    chosen = next((v for v in versions if v.standard.key == chosen_key), None)
    if versions and chosen is None:
        raise Http404("no such standard")
    result_ = coverage.rollup([chosen])[0] if chosen else None
    county_code = request.GET.get("county", "")
    counties_rows = result_.by_level(AreaLevel.COUNTY) if result_ else []
    county = next((r for r in counties_rows if r.code == county_code), None)
    below = (
        [r for r in result_.rows if county and r.code.startswith(county.code) and r.level == AreaLevel.TOWNSHIP]
        if result_
        else []
    )
    map_data = [
        {"name": r.name_zh, "label": r.name, "value": float(v) if (v := coverage.map_value(r)) is not None else None}
        for r in counties_rows
    ]
    context = {
        "versions": versions,
        "chosen": chosen,
        "coverage": result_,
        "counties": counties_rows,
        "county": county,
        "townships": below,
        "map_data": map_data,
        "outlines": outlines.source(),
    }
    return render(request, "compliance/public/coverage.html", context)


@require_GET
def coverage_xlsx(request: HttpRequest) -> HttpResponseBase:
    data = exports.coverage_workbook(coverage.rollup(coverage.standards_with_kinds()))
    return FileResponse(
        io.BytesIO(data),
        as_attachment=True,
        filename="coverage.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@require_GET
@cache_control(max_age=86400, public=True)
def counties_geojson(request: HttpRequest) -> HttpResponseBase:
    """The county outlines from the repository's own file, for the maps (no tiles, nothing from the internet)."""
    return FileResponse(outlines.path().open("rb"), content_type="application/geo+json")
