"""One resident: every item's answer, with the reason for it, criterion by criterion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import sqlglot
from sqlglot import exp

from fuwu.eligibility.derived import person_facts
from fuwu.eligibility.facts import BASE, DERIVED_FACTS
from fuwu.eligibility.rules import Value, money
from fuwu.eligibility.ruleset import ItemRule
from fuwu.standards.schema import Text

ELIGIBLE, NOT_ELIGIBLE, UNKNOWN = "eligible", "not_eligible", "unknown"


# Plain slotted dataclasses: a frozen one costs an object.__setattr__ per field, and
# screening checks build hundreds of these per person.
@dataclass(slots=True)
class CriterionResult:
    name: str
    passed: bool | None
    text: Text | None
    clause: str | None
    expr: str
    missing: tuple[str, ...]


@dataclass(slots=True)
class ItemResult:
    item: str
    standard: str
    version: int | None
    status: str
    amount: Decimal | None
    units: Decimal | None
    unit: str | None
    period: str
    criteria: tuple[CriterionResult, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """The base facts whose absence makes the answer unknown."""
        seen: dict[str, None] = {}
        for c in self.criteria:
            if c.passed is None:
                seen.update(dict.fromkeys(c.missing))
        return tuple(seen)


@cache
def base_facts_of(name: str) -> frozenset[str]:
    """The base facts a fact depends on (itself, for a base fact)."""
    if name in BASE:
        return frozenset({name})
    fact = next(f for f in DERIVED_FACTS if f.name == name)
    assert fact.derived is not None  # noqa: S101 - every derived fact has a definition
    columns = {c.name for c in sqlglot.parse_one(fact.derived).find_all(exp.Column)}
    out: set[str] = set()
    for column in columns:
        out |= base_facts_of(column)
    # A household fact given directly (self-check) stands for itself too.
    return frozenset(out | ({name} if fact.household else set()))


def _missing(facts_used: frozenset[str], facts: Mapping[str, Value]) -> tuple[str, ...]:
    out: set[str] = set()
    for name in facts_used:
        if facts.get(name) is None:
            out |= {b for b in base_facts_of(name) if facts.get(b) is None}
    return tuple(sorted(out))


def explain(
    base: Mapping[str, Value],
    *,
    rules: Sequence[ItemRule],
    as_of: dt.date,
    household: Sequence[Mapping[str, Value]] | None = None,
) -> list[ItemResult]:
    """Every rule's answer for one person on ``as_of``."""
    facts = person_facts(base, as_of=as_of, household=household)
    results = []
    for rule in rules:
        bound = rule.bound(as_of)
        criteria = []
        for spec, criterion in zip(rule.criteria, bound.criteria_fns, strict=True):
            value = criterion(facts)
            passed = None if value is None else bool(value)
            criteria.append(
                CriterionResult(
                    name=spec.name,
                    passed=passed,
                    text=spec.text,
                    clause=spec.clause,
                    expr=spec.expression.source,
                    missing=_missing(spec.expression.facts, facts) if passed is None else (),
                )
            )
        if any(c.passed is False for c in criteria):
            status = NOT_ELIGIBLE
        elif all(c.passed is True for c in criteria):
            status = ELIGIBLE
        else:
            status = UNKNOWN
        eligible = status == ELIGIBLE
        results.append(
            ItemResult(
                item=rule.item,
                standard=rule.standard,
                version=rule.version,
                status=status,
                amount=money(bound.amount_fn(facts)) if eligible and bound.amount_fn is not None else None,
                units=money(bound.units_fn(facts)) if eligible and bound.units_fn is not None else None,
                unit=rule.unit,
                period=rule.period,
                criteria=tuple(criteria),
            )
        )
    return results
