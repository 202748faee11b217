"""The resident self-check (no login): answer plain questions, see what one may be entitled to and why.

Nothing is stored and nothing about the answers is logged: they live only in the
request, are kept out of error reports, and the response is not cached.
"""

from __future__ import annotations

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

from fuwu.eligibility.explain import ELIGIBLE, UNKNOWN, CriterionResult, ItemResult, explain
from fuwu.eligibility.facts import FACTS
from fuwu.eligibility.forms import SelfCheckForm
from fuwu.eligibility.selectors import rules_in_force
from fuwu.standards import selectors as standard_selectors
from fuwu.standards.models import ServiceItem
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
    missing: list[str]


def _number(value: Decimal) -> str:
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value.normalize())


def _text(value: Text | None, fallback: str) -> str:
    if value is None:
        return fallback
    if (get_language() or "").startswith("en") and value.en:
        return value.en
    return value.zh


def fact_name(name: str) -> str:
    fact = FACTS.get(name)
    if fact is None:
        return name
    return fact.en if (get_language() or "").startswith("en") else fact.zh


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
        anchor = f"#clause-{c.clause}"
        if result.version is not None:
            href = reverse("guide:standard_version", args=[result.standard, result.version]) + anchor
        else:
            href = reverse("guide:standard_detail", args=[result.standard]) + anchor
    return CriterionRow(c.passed, _text(c.text, c.expr), c.clause, href)


def _rows(results: list[ItemResult]) -> list[ResultRow]:
    """Results joined to their items in force, in the menu's order (life area, national first)."""
    items: dict[tuple[str, str], ServiceItem] = {
        (i.version.standard.key, i.key): i for i in standard_selectors.items_in_force()
    }
    order = {k: n for n, k in enumerate(items)}
    rows = []
    for r in sorted(results, key=lambda r: order.get((r.standard, r.item), len(order))):
        item = items.get((r.standard, r.item))
        if item is None:  # a rule without its item in force: nothing to link to
            continue
        rows.append(
            ResultRow(
                key=item.key,
                name=item.name,
                area=item.get_life_area_display(),
                level=_level(r),
                criteria=[_criterion(r, c) for c in r.criteria],
                missing=[fact_name(m) for m in r.missing],
            )
        )
    return rows


def _context(results: list[ItemResult]) -> dict[str, object]:
    by_status: dict[str, list[ItemResult]] = {}
    for r in results:
        by_status.setdefault(r.status, []).append(r)
    unknown = by_status.get(UNKNOWN, [])
    missing: dict[str, None] = {}
    for r in unknown:
        missing.update(dict.fromkeys(r.missing))
    not_matching = [r for r in results if r.status not in (ELIGIBLE, UNKNOWN)]
    return {
        "eligible": _rows(by_status.get(ELIGIBLE, [])),
        "unknown": _rows(unknown),
        "not_matching": _rows(not_matching),
        "missing": [fact_name(m) for m in missing],
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
    results = explain(form.facts(), rules=rules_in_force(), as_of=today)
    return render(request, "eligibility/results.html", {"form": form, "as_of": today, **_context(results)})


@require_GET
def townships(request: HttpRequest) -> HttpResponse:
    """The township question for one county (htmx narrows the list when the county changes)."""
    form = SelfCheckForm(initial={"hukou_county": request.GET.get("hukou_county", "")}, today=timezone.localdate())
    return render(request, "eligibility/_township.html", {"field": form["hukou_township"]})
