"""The self-check's answers, arranged for a resident: what matters most first, each thing said once.

From every rule's answer for the person (``explain``) this builds what the results page shows:

- **One card per thing received.** Items that pay one shared allowance (home care's ten projects) are one card
  with the allowance and the projects it covers, not ten cards each naming the whole amount.
- **A local item and the national item it implements are one card** — the local one, saying which national item
  it carries out — unless the national answer is better for this person (someone registered elsewhere).
- **Self-paid items are marked** and shown as a price, apart from benefits.
- **Grouped by what matters most**: money and assistance first, then services, then what one may buy; within each,
  the life areas with most for this person first; items for every resident last and folded away.
- **Only questions that can still change an answer** are named as missing (``relevance``); answers the facts
  cannot reach are said to be for the office to check.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from fuwu.eligibility.explain import ELIGIBLE, NOT_ELIGIBLE, UNKNOWN, CriterionResult, ItemResult, explain
from fuwu.eligibility.forms import ASKED_FACTS
from fuwu.eligibility.relevance import facts_that_matter
from fuwu.eligibility.rules import Value
from fuwu.eligibility.ruleset import ItemRule, open_to_everyone
from fuwu.eligibility.wording import MONEY_UNITS, SHARED, english, fact_words, level_words, source_words
from fuwu.standards.models import LifeArea, Parameter, ServiceItem
from fuwu.standards.schema import Text

RANK = {NOT_ELIGIBLE: 0, UNKNOWN: 1, ELIGIBLE: 2}
PLACE_FACTS = frozenset(
    {"hukou_area", "hukou_city", "hukou_county", "residence_area", "residence_city", "residence_county"}
)
MONEY, SERVICES, SELF_PAID = "money", "services", "self_paid"
GROUP_TITLES = {
    MONEY: gettext_lazy("补贴和救助"),
    SERVICES: gettext_lazy("免费服务"),
    SELF_PAID: gettext_lazy("可以自费购买的服务"),
}


@dataclass(frozen=True)
class Reason:
    passed: bool | None
    text: str
    source: str | None  # 依据《标准》第 x 条
    href: str | None


@dataclass(frozen=True)
class Link:
    key: str
    name: str


@dataclass
class Card:
    """One thing the person may receive (or buy): an item, or a shared allowance with the items it covers."""

    key: str  # the item's key (for an allowance, its first item's), for the guide link
    name: str
    area: str
    area_code: str
    level: list[str]
    reasons: list[Reason]
    missing: list[str] = field(default_factory=list)  # questions that would settle it, in words
    self_paid: bool = False
    implements: Link | None = None
    covers: list[Link] = field(default_factory=list)
    shared_note: str = ""


@dataclass(frozen=True)
class CardGroup:
    code: str
    title: str
    cards: list[Card]


@dataclass(frozen=True)
class MissingGroup:
    """Unknown items that the same answers would settle (``facts`` empty: the office decides)."""

    facts: list[str]
    cards: list[Card]


@dataclass(frozen=True)
class SelfCheckResults:
    as_of: dt.date
    eligible: list[CardGroup]
    eligible_count: int
    for_everyone: list[Card]
    unknown: list[MissingGroup]
    unknown_count: int
    missing: list[str]  # every question that would help, in words
    not_matching: list[Card]


def _text(value: Text | None, fallback: str) -> str:
    if value is None:
        return fallback
    return value.en if english() and value.en else value.zh


def _reason(result: ItemResult, item: ServiceItem, c: CriterionResult) -> Reason:
    source = href = None
    if c.clause:
        source = source_words(item.version.title, c.clause)
        if result.version is not None:
            href = reverse("guide:standard_version", args=[result.standard, result.version])
        else:
            href = reverse("guide:standard_detail", args=[result.standard])
        href += f"#clause-{c.clause}"
    return Reason(c.passed, _text(c.text, c.expr), source, href)


def _out_of_area(result: ItemResult, rule: ItemRule) -> bool:
    """Not eligible only because the person is registered or lives outside the standard's area."""
    failed = [spec for spec, c in zip(rule.criteria, result.criteria, strict=True) if c.passed is False]
    return bool(failed) and all(spec.expression.facts <= PLACE_FACTS for spec in failed)


def _merged_national(
    results: Mapping[str, ItemResult], rules: Mapping[str, ItemRule], shown: Iterable[str]
) -> set[str]:
    """The national items whose local items speak for them on this page (their answer is at least as good)."""
    local: dict[str, list[str]] = {}
    for item in shown:
        national = rules[item].national_item
        if national and national in results:
            local.setdefault(national, []).append(item)
    merged = set()
    for national, items in local.items():
        n = results[national]
        in_area = [i for i in items if not _out_of_area(results[i], rules[i])]
        if not in_area:
            continue
        best = max(RANK[results[i].status] for i in in_area)
        left_to_local = n.status == UNKNOWN and not n.missing
        if best >= RANK[n.status] or left_to_local:
            merged.add(national)
    return merged


def _shared_name(rule: ItemRule, item: ServiceItem) -> str:
    """An allowance is named by the parameter its amount reads (e.g. the monthly home-care allowance)."""
    if rule.amount is not None:
        for node in rule.amount.tree.walk():
            if type(node).__name__ == "Anonymous" and str(node.this).lower() == "param":
                key = node.expressions[0].this
                parameter = Parameter.objects.filter(version=item.version, key=key).first()
                if parameter is not None:
                    return parameter.name
    return item.category or item.name


def self_check_results(
    answers: Mapping[str, Value],
    *,
    rules: Sequence[ItemRule],
    items: Mapping[tuple[str, str], ServiceItem],
    as_of: dt.date,
) -> SelfCheckResults:
    """Every item in force, answered for the person and arranged for the page."""
    by_item = {r.item: r for r in rules if (r.standard, r.item) in items}
    rules = list(by_item.values())
    results = {r.item: r for r in explain(answers, rules=rules, as_of=as_of)}
    matter = facts_that_matter(answers, rules=rules, as_of=as_of, candidates=ASKED_FACTS)
    areas = {value: n for n, value in enumerate(LifeArea.values)}
    position = {key[1]: n for n, key in enumerate(items)}

    def item_of(key: str) -> ServiceItem:
        rule = by_item[key]
        return items[(rule.standard, key)]

    merged = _merged_national(results, by_item, [k for k in by_item if by_item[k].national_item])
    implements = {
        key: Link(rule.national_item, item_of(rule.national_item).name)
        for key, rule in by_item.items()
        if rule.national_item in merged
    }

    def missing(result: ItemResult) -> list[str]:
        asked = [f for f in ASKED_FACTS if f in result.missing or f in _household(result.missing)]
        return [fact_words(f) for f in asked if f in matter]

    def card(key: str) -> Card:
        result, rule, item = results[key], by_item[key], item_of(key)
        return Card(
            key=key,
            name=item.name,
            area=item.get_life_area_display(),
            area_code=item.life_area,
            level=level_words(
                amount=result.amount,
                units=result.units,
                unit=result.unit,
                period=result.period,
                self_paid=rule.self_paid,
            ),
            reasons=[_reason(result, item, c) for c in result.criteria],
            missing=missing(result) if result.status == UNKNOWN else [],
            self_paid=rule.self_paid,
            implements=implements.get(key),
        )

    shown = [k for k in by_item if k not in merged]
    order = {k: (areas.get(item_of(k).life_area, len(areas)), position.get(k, 0)) for k in shown}
    everyone = {k for k in shown if open_to_everyone(by_item[k])}

    # --- eligible: one card per allowance, grouped by what matters most -------------------------------
    eligible = sorted((k for k in shown if results[k].status == ELIGIBLE and k not in everyone), key=order.__getitem__)
    cards: list[Card] = []
    allowances: dict[str, Card] = {}
    for key in eligible:
        shared = by_item[key].shared
        if shared is None:
            cards.append(card(key))
            continue
        if shared not in allowances:
            first = card(key)
            first.name = _shared_name(by_item[key], item_of(key))
            allowances[shared] = first
            cards.append(first)
        allowance = allowances[shared]
        allowance.covers.append(Link(key, item_of(key).name))
        # The allowance is one amount: the largest of the covered items' (they are one and the same when equal).
        if (results[key].amount or 0) > (results[allowance.key].amount or 0):
            allowance.level = card(key).level
        common = {r.text for r in card(key).reasons}
        allowance.reasons = [r for r in allowance.reasons if r.text in common]
    for allowance in allowances.values():
        allowance.shared_note = gettext(SHARED) % {"n": len(allowance.covers)}
    weight = Counter(c.area_code for c in cards)
    area_rank = {a: (-weight[a], areas.get(a, len(areas))) for a in weight}

    def group_of(c: Card) -> str:
        if c.self_paid:
            return SELF_PAID
        result = results[c.key]
        return MONEY if result.amount is not None or result.unit in MONEY_UNITS else SERVICES

    groups = []
    for code in (MONEY, SERVICES, SELF_PAID):
        members = [c for c in cards if group_of(c) == code]
        members.sort(key=lambda c: area_rank[c.area_code])
        if members:
            groups.append(CardGroup(code, str(GROUP_TITLES[code]), members))

    # --- unknown, by the answers that would settle them ---------------------------------------------
    unknown = [card(k) for k in sorted((k for k in shown if results[k].status == UNKNOWN), key=order.__getitem__)]
    by_missing: dict[tuple[str, ...], list[Card]] = {}
    for c in unknown:
        by_missing.setdefault(tuple(c.missing), []).append(c)
    rank = {fact_words(f): n for n, f in enumerate(ASKED_FACTS)}
    unknown_groups = [
        MissingGroup(list(facts), members)
        for facts, members in sorted(
            by_missing.items(), key=lambda g: (not g[0], len(g[0]), [rank.get(f, 0) for f in g[0]])
        )
    ]
    all_missing = sorted({m for c in unknown for m in c.missing}, key=lambda m: rank.get(m, len(rank)))
    return SelfCheckResults(
        as_of=as_of,
        eligible=groups,
        eligible_count=len(cards) + len([k for k in shown if k in everyone and results[k].status == ELIGIBLE]),
        for_everyone=[card(k) for k in sorted(everyone, key=order.__getitem__) if results[k].status == ELIGIBLE],
        unknown=unknown_groups,
        unknown_count=len(unknown),
        missing=all_missing,
        not_matching=[
            card(k) for k in sorted((k for k in shown if results[k].status == NOT_ELIGIBLE), key=order.__getitem__)
        ],
    )


def found_items(results: SelfCheckResults) -> set[str]:
    """The items the results found open to the person (an allowance's covered items each), for the counts."""
    cards = [c for group in results.eligible for c in group.cards] + list(results.for_everyone)
    return {c.key for c in cards} | {link.key for c in cards for link in c.covers}


def _household(missing: Iterable[str]) -> set[str]:
    # A missing personal income stands behind the household income the self-check asks for.
    return {"household_income_per_capita"} if "income" in missing else set()


def questions_that_matter(
    answers: Mapping[str, Value], *, rules: Sequence[ItemRule], as_of: dt.date, fields: Mapping[str, Sequence[str]]
) -> set[str]:
    """The form's questions (``fields``: question → facts it gives) that can still change some answer."""
    matter = facts_that_matter(answers, rules=rules, as_of=as_of, candidates=ASKED_FACTS)
    return {name for name, facts in fields.items() if matter & set(facts)}
