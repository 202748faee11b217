"""The resident self-check (no login): answer plain questions, see what one may be entitled to and why.

Nothing is stored and nothing about the answers is logged: they live only in the
request, are kept out of error reports, and the response is not cached.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from fuwu.eligibility.explain import ELIGIBLE, NOT_ELIGIBLE, UNKNOWN, CriterionResult, ItemResult, explain
from fuwu.eligibility.facts import FACTS
from fuwu.eligibility.forms import ASKED_FACTS, SelfCheckForm
from fuwu.eligibility.rules import Value
from fuwu.eligibility.selectors import rules_in_force
from fuwu.standards import selectors as standard_selectors
from fuwu.standards.models import LifeArea, ServiceItem
from fuwu.standards.schema import Text

# A service unit in words (``%(n)s`` is the number); units not listed show as written in the standard.
UNIT_WORDS = {
    "follow_up": gettext_noop("%(n)s 次随访"),
    "check": gettext_noop("%(n)s 次健康体检"),
    "visit": gettext_noop("%(n)s 次上门服务"),
    "contact": gettext_noop("%(n)s 次服务"),
    "contract": gettext_noop("%(n)s 份签约服务"),
    "session": gettext_noop("%(n)s 次活动"),
    "inspection": gettext_noop("%(n)s 次检查"),
    "test": gettext_noop("%(n)s 次测试"),
    "referral": gettext_noop("%(n)s 次推荐"),
    "job_referral": gettext_noop("%(n)s 次岗位推介"),
    "plaque": gettext_noop("%(n)s 块光荣牌"),
    "film_screening": gettext_noop("%(n)s 场电影"),
    "free_radio_channel": gettext_noop("%(n)s 套免费广播节目"),
    "free_satellite_tv_channel": gettext_noop("%(n)s 套免费电视节目"),
    "percent_of_personal_premium": gettext_noop("个人缴费的 %(n)s%%"),
    "percent_of_eligible_out_of_pocket_costs": gettext_noop("合规自付费用的 %(n)s%%"),
}
MONEY = gettext_noop("%(n)s 元")
PERIOD_WORDS = {
    "once": gettext_noop("一次性：%(what)s"),
    "month": gettext_noop("每月 %(what)s"),
    "year": gettext_noop("每年 %(what)s"),
}


@dataclass(frozen=True)
class CriterionRow:
    passed: bool | None
    text: str
    clause: str | None
    href: str | None


@dataclass(frozen=True)
class ResultRow:
    key: str
    name: str
    area: str
    level: list[str]
    criteria: list[CriterionRow]
    missing: tuple[str, ...]  # fact names, in the order the questions are asked


@dataclass(frozen=True)
class MissingGroup:
    """Unknown items that the same missing answers would settle."""

    facts: list[str]  # in words
    rows: list[ResultRow]


def _number(value: Decimal) -> str:
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value.normalize())


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _text(value: Text | None, fallback: str) -> str:
    if value is None:
        return fallback
    return value.en if _english() and value.en else value.zh


def fact_name(name: str) -> str:
    fact = FACTS.get(name)
    if fact is None:
        return name
    return fact.en if _english() else fact.zh


def _missing(result: ItemResult) -> tuple[str, ...]:
    """The missing facts the questions can supply, in question order (``income`` stands behind the household total)."""
    asked = [f for f in ASKED_FACTS if f in result.missing]
    return tuple(asked) if asked else result.missing


def _level(result: ItemResult) -> list[str]:
    period = gettext(PERIOD_WORDS.get(result.period, "%(what)s"))
    out = []
    if result.amount is not None:
        out.append(period % {"what": gettext(MONEY) % {"n": _number(result.amount)}})
    if result.units is not None:
        n = _number(result.units)
        template = UNIT_WORDS.get(result.unit or "")
        what = gettext(template) % {"n": n} if template else f"{n} {result.unit or ''}".strip()
        out.append(period % {"what": what})
    return out


def _criterion(result: ItemResult, c: CriterionResult) -> CriterionRow:
    href = None
    if c.clause:
        if result.version is not None:
            href = reverse("guide:standard_version", args=[result.standard, result.version])
        else:
            href = reverse("guide:standard_detail", args=[result.standard])
        href += f"#clause-{c.clause}"
    return CriterionRow(c.passed, _text(c.text, c.expr), c.clause, href)


def _rows(results: list[ItemResult], items: dict[tuple[str, str], ServiceItem]) -> list[ResultRow]:
    """Results joined to their items in force, in the national order of life areas."""
    areas = {value: n for n, value in enumerate(LifeArea.values)}
    position = {k: n for n, k in enumerate(items)}

    def order(r: ItemResult) -> tuple[int, int]:
        item = items[(r.standard, r.item)]
        return areas.get(item.life_area, len(areas)), position[(r.standard, r.item)]

    rows = []
    for r in sorted((r for r in results if (r.standard, r.item) in items), key=order):
        item = items[(r.standard, r.item)]
        rows.append(
            ResultRow(
                key=item.key,
                name=item.name,
                area=item.get_life_area_display(),
                level=_level(r),
                criteria=[_criterion(r, c) for c in r.criteria],
                missing=_missing(r),
            )
        )
    return rows


def _results_context(facts: dict[str, Value], *, as_of: dt.date) -> dict[str, object]:
    rules = rules_in_force()
    results = explain(facts, rules=rules, as_of=as_of)
    items = {(i.version.standard.key, i.key): i for i in standard_selectors.items_in_force()}
    # Items for every registered resident (the rule asks only for a birth date) would bury the ones
    # meant for this person; they are listed apart.
    everyone = {(r.standard, r.item) for r in rules if r.facts <= {"birth_date"}}
    eligible = [r for r in results if r.status == ELIGIBLE]
    unknown = _rows([r for r in results if r.status == UNKNOWN], items)
    groups: dict[tuple[str, ...], list[ResultRow]] = {}
    for row in unknown:
        groups.setdefault(row.missing, []).append(row)
    asked = {f: n for n, f in enumerate(ASKED_FACTS)}
    all_missing = sorted({m for row in unknown for m in row.missing}, key=lambda m: asked.get(m, len(asked)))
    return {
        "as_of": as_of,
        "eligible_count": len([r for r in eligible if (r.standard, r.item) in items]),
        "eligible": _rows([r for r in eligible if (r.standard, r.item) not in everyone], items),
        "for_everyone": _rows([r for r in eligible if (r.standard, r.item) in everyone], items),
        "unknown_count": len(unknown),
        "unknown_groups": [
            MissingGroup([fact_name(m) for m in key], rows)
            for key, rows in sorted(groups.items(), key=lambda g: (len(g[0]), [asked.get(m, 0) for m in g[0]]))
        ],
        "missing": [fact_name(m) for m in all_missing],
        "not_matching": _rows([r for r in results if r.status == NOT_ELIGIBLE], items),
    }


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    """GET: the questions. POST: the results, or (with ``edit``) the questions again, as answered."""
    today = timezone.localdate()
    if request.method != "POST":
        return render(request, "eligibility/check.html", {"form": SelfCheckForm(today=today)})
    form = SelfCheckForm(request.POST, today=today)
    if "edit" in request.POST or not form.is_valid():
        return render(request, "eligibility/check.html", {"form": form})
    # The answers ride along in hidden fields so "修改回答" can bring them back without storing them.
    answers = [(name, request.POST.getlist(name)) for name in form.fields]
    context = _results_context(form.facts(), as_of=today)
    return render(request, "eligibility/results.html", {"answers": answers, **context})


@require_GET
def townships(request: HttpRequest) -> HttpResponse:
    """The township question for one county (htmx narrows the list when the county changes)."""
    form = SelfCheckForm(initial={"hukou_county": request.GET.get("hukou_county", "")}, today=timezone.localdate())
    return render(request, "eligibility/_township.html", {"field": form["hukou_township"]})
