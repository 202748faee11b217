"""The JSON API, v1. OpenAPI 3 at /api/v1/openapi.json, browsable docs at /api/v1/docs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import NinjaAPI, Query, Schema, Status, Swagger
from ninja.errors import HttpError

from fuwu.api import refusals
from fuwu.api import schemas as s
from fuwu.api.guards import StrictParser, request_guard
from fuwu.api.homecare import router as homecare_router
from fuwu.areas import selectors as area_selectors
from fuwu.areas.models import Area
from fuwu.common.params import Id
from fuwu.eligibility.explain import explain
from fuwu.eligibility.facts import BASE_FACTS, DERIVED_FACTS
from fuwu.eligibility.inputs import FactError, coerce_all
from fuwu.eligibility.people import CheckRefused, person_eligibility_check
from fuwu.eligibility.selectors import rules_in_force
from fuwu.eligibility.vocabulary import fact_as_dict
from fuwu.eligibility.wording import result_words
from fuwu.residents.models import Person
from fuwu.standards import selectors
from fuwu.standards.models import LifeArea, ServiceItem, StandardVersion


class FuwuAPI(NinjaAPI):
    """ninja's API with the refusals every operation can give in its document (``fuwu.api.refusals``)."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return refusals.declare(super().get_openapi_schema(**kwargs))


api = FuwuAPI(
    title="fuwu API",
    version="1.0.0",
    description=(
        "Taizhou's basic public service standards, service items and administrative areas (read-only), "
        "eligibility answers, and home-care booking (``/homecare``: session login, CSRF token on POST)."
    ),
    urls_namespace="api-1.0.0",
    # Served from our own static files (ninja is an installed app); no validator badge from swagger.io either,
    # so the page works on a network without the internet.
    docs=Swagger(settings={"validatorUrl": None}),
    parser=StrictParser(),
)
# Before any parsing: the body's size, strict JSON, and CSRF for a caller with a session (fuwu.api.guards).
api.add_decorator(request_guard, mode="view")
refusals.install(api)
api.add_router("/homecare", homecare_router)
api.add_router("/applications", "fuwu.api.applications.router")


def _t(obj: Any, field: str) -> dict[str, str]:
    return {"zh": getattr(obj, f"{field}_zh"), "en": getattr(obj, f"{field}_en")}


def _standard(v: StandardVersion) -> dict[str, Any]:
    return {
        "key": v.standard.key,
        "version": v.number,
        "code": v.code,
        "title": _t(v, "title"),
        "scope": v.scope,
        "status": v.status,
        "issued_on": v.issued_on,
        "effective_on": v.effective_on,
        "review_due_on": v.review_due_on,
        "modeled": v.modeled,
    }


def _item_summary(i: ServiceItem) -> dict[str, Any]:
    return {
        "key": i.key,
        "name": _t(i, "name"),
        "life_area": i.life_area,
        "category": _t(i, "category"),
        "standard": i.version.standard.key,
        "standard_code": i.version.code,
    }


def _area(a: Area) -> dict[str, Any]:
    return {
        "code": a.code,
        "name": _t(a, "name"),
        "level": a.level,
        "kind": a.kind_zh,
        "parent": a.parent.code if a.parent else None,
        "generated": a.generated,
        "modeled": a.modeled,
    }


@api.get("/standards", response=list[s.StandardOut], tags=["standards"])
def list_standards(request: HttpRequest) -> list[dict[str, Any]]:
    """Every standard, at its version in force (or its newest version)."""
    return [_standard(v) for v in selectors.standards_list()]


@api.get("/standards/{key}", response={200: s.StandardDetailOut, 404: s.ErrorOut}, tags=["standards"])
def get_standard(request: HttpRequest, key: str, version: Id | None = None) -> Any:
    """One standard with its clause tree (flattened, in document order), items, indicators and parameters."""
    try:
        v = selectors.standard_version(key=key, number=version)
    except StandardVersion.DoesNotExist:
        return Status(404, {"detail": f"no standard {key!r}" + (f" version {version}" if version else "")})
    clauses = list(v.clauses.select_related("parent"))
    return {
        **_standard(v),
        "issuing_body": _t(v, "issuing_body"),
        "versions": sorted(v.standard.versions.values_list("number", flat=True)),
        "superseded_by": v.superseded_by.number if v.superseded_by else None,
        "source": v.document.get("source", {}),
        "clauses": [
            {
                "number": c.number,
                "parent": c.parent.number if c.parent else None,
                "kind": c.kind,
                "subject": c.subject or None,
                "title": _t(c, "title"),
                "text": _t(c, "text"),
                "modeled": c.modeled,
            }
            for c in clauses
        ],
        "items": [_item_summary(i) for i in v.items.select_related("version__standard")],
        "indicators": [
            {
                "key": i.key,
                "name": _t(i, "name"),
                "formula": _t(i, "formula"),
                "target": str(i.target) if i.target is not None else None,
                "comparison": i.comparison,
                "unit": i.unit,
                "clause": i.clause,
            }
            for i in v.indicators.all()
        ],
        "parameters": [
            {
                "key": p.key,
                "name": _t(p, "name"),
                "unit": p.unit,
                "clause": p.clause,
                "values": [{"effective_from": x.effective_from, "value": x.value} for x in p.values.all()],
            }
            for p in v.parameters.prefetch_related("values")
        ],
    }


@api.get("/items", response=list[s.ItemSummaryOut], tags=["items"])
def list_items(request: HttpRequest, life_area: LifeArea | None = None) -> list[dict[str, Any]]:
    """Service items in force, optionally for one of the nine life areas."""
    items = selectors.items_in_force()
    if life_area:
        items = items.filter(life_area=life_area)
    return [_item_summary(i) for i in items]


@api.get("/items/{key}", response={200: s.ItemOut, 404: s.ErrorOut}, tags=["items"])
def get_item(request: HttpRequest, key: str) -> Any:
    """One item in force, with the item exactly as its standard states it (``document``)."""
    try:
        i = selectors.item_in_force(key=key)
    except ServiceItem.DoesNotExist:
        return Status(404, {"detail": f"no service item {key!r} in force"})
    return {
        **_item_summary(i),
        "target_group": _t(i, "target_group"),
        "content": _t(i, "content"),
        "lead_department": _t(i, "lead_department"),
        "document": i.data,
    }


@api.get("/areas", response=list[s.AreaOut], tags=["areas"])
def list_areas(request: HttpRequest, parent: str | None = None, level: str | None = None) -> list[dict[str, Any]]:
    """Administrative areas; filter by parent code or level (city, county, township, village)."""
    return [_area(a) for a in area_selectors.areas(parent_code=parent, level=level)]


@api.get("/areas/{code}", response={200: s.AreaOut, 404: s.ErrorOut}, tags=["areas"])
def get_area(request: HttpRequest, code: str) -> Any:
    try:
        return _area(area_selectors.area_by_code(code))
    except Area.DoesNotExist:
        return Status(404, {"detail": f"no area with code {code!r}"})


class SearchParams(Schema):
    q: str


@api.get("/search", response=s.SearchOut, tags=["search"])
def search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    """Search standards, items and clauses in force, in residents' words.

    The query is cut into words (jieba) and each word is also searched as the standards' own terms from the
    synonym list (洗澡 → 助浴; docs/search.md); an age such as ``80岁`` finds the items whose target group
    admits it. Every word must be found. Items come best first (an exact name, then a name containing the
    word, then category, target group, content). When nothing is found, ``suggestions`` lists close terms.
    """
    if len(params.q) > 100:
        raise HttpError(422, "q is at most 100 characters")
    r = selectors.search(query=params.q)
    return {
        "query": r.query,
        "standards": [_standard(v) for v in r.standards],
        "items": [_item_summary(i) for i in r.items],
        "clauses": [
            {"standard": c.version.standard.key, "number": c.number, "title": c.title_zh, "text": c.text_zh}
            for c in r.clauses
        ],
        "suggestions": r.suggestions,
    }


@api.get("/facts", response=list[s.FactOut], tags=["eligibility"])
def list_facts(request: HttpRequest) -> list[dict[str, Any]]:
    """The facts vocabulary: what rules may ask about a person, with types and allowed values."""
    return [fact_as_dict(f) for f in (*BASE_FACTS, *DERIVED_FACTS)]


@api.post(
    "/eligibility",
    response={
        200: s.EligibilityOut,
        400: s.ErrorOut,  # a body that is not strict JSON (fuwu.api.guards)
        403: s.ErrorOut,  # logged in without the CSRF token
        404: s.ErrorOut,
        413: s.ErrorOut,  # a body over the API's size cap
        422: s.ErrorOut,
        429: s.ErrorOut,
    },
    tags=["eligibility"],
)
def eligibility(request: HttpRequest, body: s.EligibilityIn) -> Any:
    """Every item's answer for one person: eligible, not eligible or unknown, with the level and the reasons.

    Give the person's ``facts`` (any omitted fact is unknown; household facts such as
    ``household_size`` may be given directly), or — logged in as staff — a registered
    ``person_id``, whose facts and household come from the registry (the look-up is audited, and limited:
    429 past a few checks of one person an hour). ``as_of`` defaults to today in Asia/Shanghai; for a
    registered person, only a user who may see their birth date (an officer of their area) may ask about
    another day, and for anyone else the answers use the birth year alone (a criterion that turns on the
    month and day is unknown, ``birth_date`` missing). Logged in, a POST needs the CSRF token.
    """
    if body.person_id is not None and body.facts:
        return Status(422, {"detail": "give either facts or person_id, not both"})
    rules = rules_in_force()
    if body.items:
        unknown = sorted(set(body.items) - {r.item for r in rules})
        if unknown:
            return Status(422, {"detail": f"items: no rule in force for {', '.join(unknown)}"})
        rules = [r for r in rules if r.item in set(body.items)]
    if body.person_id is not None:
        try:
            answer = person_eligibility_check(
                user=request.user, person_id=body.person_id, rules=rules, as_of=body.as_of
            )
        except Person.DoesNotExist:
            # The same answer whether the person does not exist or is outside the caller's area.
            return Status(404, {"detail": f"person_id: no resident {body.person_id} within your access"})
        except CheckRefused as exc:
            return Status(exc.status, {"detail": str(exc)})
        as_of, explained = answer.as_of, answer.results
    else:
        try:
            facts = coerce_all(body.facts or {})
        except FactError as exc:
            return Status(422, {"detail": str(exc)})
        as_of = body.as_of or timezone.localdate()
        explained = explain(facts, rules=rules, as_of=as_of)
    by_item = {r.item: r for r in rules}
    names = selectors.item_names(keys=[*by_item, *(r.national_item for r in rules if r.national_item)])
    titles = {v.standard.key: _t(v, "title") for v in selectors.versions_in_force()}
    results = []
    for r in explained:
        rule = by_item[r.item]
        national = rule.national_item
        words = result_words(
            r,
            self_paid=rule.self_paid,
            standard_title=titles.get(r.standard, {"zh": r.standard, "en": r.standard}),
            national_name=names.get(national, {"zh": national, "en": national}) if national else None,
        )
        results.append(
            {
                "item": r.item,
                "name": names.get(r.item, {"zh": r.item, "en": r.item}),
                "standard": r.standard,
                "version": r.version,
                "status": r.status,
                "amount": str(r.amount) if r.amount is not None else None,
                "units": str(r.units) if r.units is not None else None,
                "unit": r.unit,
                "period": r.period,
                "missing": list(r.missing),
                "criteria": [
                    {
                        "name": c.name,
                        "passed": c.passed,
                        "text": {"zh": c.text.zh, "en": c.text.en or ""} if c.text else None,
                        "clause": c.clause,
                        "source": source,
                        "expr": c.expr,
                        "missing": list(c.missing),
                    }
                    for c, source in zip(r.criteria, words["sources"], strict=True)
                ],
                "level_text": words["level_text"],
                "missing_text": words["missing_text"],
                "self_paid": rule.self_paid,
                "shared": rule.shared,
                "national_item": national,
                "implements_text": words["implements_text"],
            }
        )
    return {"as_of": as_of, "results": results}
