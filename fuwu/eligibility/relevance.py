"""Which unanswered questions can still change a person's answers, derived from the rules.

A fact matters for a person when some item is still open for them (no criterion is already false) and
giving the fact one value or another changes a criterion that is still undecided, or the amount. For an
82-year-old, every rule about school also asks for an age under 18 or 35, which is already false, so the
school questions do not matter; no list of questions per age is kept anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

from fuwu.eligibility.derived import person_facts
from fuwu.eligibility.explain import base_facts_of
from fuwu.eligibility.facts import FACTS, FactType
from fuwu.eligibility.rules import Fn, Value
from fuwu.eligibility.ruleset import ItemRule

# Ages that cross every threshold the rules use (3, 6, 16, 18, 22, 35, 40, 50, 55, 60, 65, 70, 80, 90, 100 …).
AGES = (0, 2, 4, 6, 10, 15, 17, 19, 23, 30, 36, 41, 46, 51, 55, 58, 61, 66, 71, 81, 91, 101)
TAIZHOU_VILLAGE = "331002001901"
ELSEWHERE = "000000000000"
INCOMES = (Decimal(0), Decimal(6000), Decimal(15000), Decimal(40000), Decimal(1000000))


def _trials(name: str, as_of: dt.date) -> Sequence[Value]:
    """Values of a fact that between them reach every answer a rule can give."""
    fact = FACTS[name]
    if fact.allowed:
        return fact.allowed
    if fact.type == FactType.BOOLEAN:
        return (True, False)
    if fact.type == FactType.DATE:
        return tuple(as_of.replace(year=as_of.year - age, day=min(as_of.day, 28)) for age in AGES)
    if fact.type == FactType.AREA:
        return (TAIZHOU_VILLAGE, ELSEWHERE)
    if fact.type == FactType.INTEGER:
        return (0, 1, 2, 3, 4, 6) if name == "disability_grade" else (1, 2, 3, 5, 8)
    return INCOMES


def facts_that_matter(
    answers: Mapping[str, Value], *, rules: Sequence[ItemRule], as_of: dt.date, candidates: Collection[str]
) -> set[str]:
    """The ``candidates`` not yet answered whose answer can change some item's status or level."""
    facts = person_facts(answers, as_of=as_of)
    open_facts = {c for c in candidates if answers.get(c) is None}
    cache: dict[tuple[str, Value], dict[str, Value]] = {}

    def trial(name: str, value: Value) -> dict[str, Value]:
        if (name, value) not in cache:
            cache[(name, value)] = person_facts({**answers, name: value}, as_of=as_of)
        return cache[(name, value)]

    out: set[str] = set()
    for rule in rules:
        bound = rule.bound(as_of)
        values = [fn(facts) for fn in bound.criteria_fns]
        if any(v is False for v in values):
            continue  # not eligible whatever else is answered
        parts: list[Fn] = []
        used: set[str] = set()
        for spec, fn, value in zip(rule.criteria, bound.criteria_fns, values, strict=True):
            if value is None:
                parts.append(fn)
                used |= {b for f in spec.expression.facts for b in base_facts_of(f)}
        for level, level_fn in ((rule.amount, bound.amount_fn), (rule.units, bound.units_fn)):
            if level is not None and level_fn is not None and level_fn(facts) is None:
                parts.append(level_fn)
                used |= {b for f in level.facts for b in base_facts_of(f)}
        for name in sorted((used & open_facts) - out):
            seen = {tuple(fn(trial(name, value)) for fn in parts) for value in _trials(name, as_of)}
            if len(seen) > 1:
                out.add(name)
    return out
