"""Rule sets: every item's rule from a standard document, checked and ready to bind to a date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from sqlglot import exp

from fuwu.eligibility.rules import Expression, Fn, ParameterTable, RuleError, bind, compile_tree, parse
from fuwu.standards.schema import StandardDocument, Text


@dataclass(frozen=True)
class CriterionRule:
    name: str
    expression: Expression
    text: Text | None
    clause: str | None


# Identity, not value, equality: a rule object is hashed to cache its bound forms.
@dataclass(frozen=True, eq=False)
class ItemRule:
    item: str
    standard: str
    version: int | None
    content_hash: str
    criteria: tuple[CriterionRule, ...]
    amount: Expression | None
    units: Expression | None
    unit: str | None
    period: str
    level_clause: str | None
    parameters: ParameterTable
    # Items naming the same ``shared`` id pay one allowance: the largest of their amounts, once (see whatif).
    shared: str | None = None
    name: Text | None = None
    # The amount is a price the person pays (a self-paid package), not a benefit.
    self_paid: bool = False
    # The national item this local item implements, and how their groups compare (schema.ServiceItem).
    national_item: str | None = None
    national_group: str | None = None

    @property
    def facts(self) -> frozenset[str]:
        out: set[str] = set()
        for part in [*(c.expression for c in self.criteria), self.amount, self.units]:
            if part is not None:
                out |= part.facts
        return frozenset(out)

    def bound(self, as_of: dt.date) -> BoundRule:
        return _bound(self, as_of)


@dataclass(frozen=True)
class BoundRule:
    """A rule with its parameters replaced by their values on one date, compiled for Python too."""

    rule: ItemRule
    criteria: tuple[exp.Expression, ...]
    amount: exp.Expression | None
    units: exp.Expression | None
    criteria_fns: tuple[Fn, ...]
    amount_fn: Fn | None
    units_fn: Fn | None


@lru_cache(maxsize=16_384)
def _bound(rule: ItemRule, as_of: dt.date) -> BoundRule:
    criteria = tuple(bind(c.expression, parameters=rule.parameters, as_of=as_of) for c in rule.criteria)
    amount = bind(rule.amount, parameters=rule.parameters, as_of=as_of) if rule.amount else None
    units = bind(rule.units, parameters=rule.parameters, as_of=as_of) if rule.units else None
    return BoundRule(
        rule=rule,
        criteria=criteria,
        amount=amount,
        units=units,
        criteria_fns=tuple(compile_tree(c) for c in criteria),
        amount_fn=compile_tree(amount) if amount is not None else None,
        units_fn=compile_tree(units) if units is not None else None,
    )


@dataclass(frozen=True)
class RuleProblem:
    """A rule that failed its checks; ``path`` locates it in the document."""

    path: tuple[str | int, ...]
    item: str
    part: str
    error: RuleError


AGES = (0, 1, 17, 18, 59, 60, 80, 120)


def open_to_everyone(rule: ItemRule) -> bool:
    """True when the rule asks only that the person has an age: every criterion holds at any age.

    Such an item (a library, health records) is for every resident; without a birth date its answer is
    unknown, never "not eligible" (docs/facts.md).
    """
    if not rule.criteria or rule.facts - {"age"}:
        return False
    if any(c.expression.tree.find(exp.Anonymous) for c in rule.criteria):  # a param() needs a date to bind
        return False
    return all(compile_tree(c.expression.tree)({"age": age}) is True for c in rule.criteria for age in AGES)


def parameter_table(document: StandardDocument) -> ParameterTable:
    table: dict[str, list[tuple[dt.date, Decimal | dict[str, Decimal]]]] = {}
    for p in document.parameters:
        table[p.id] = [(v.effective_from, v.value) for v in p.values]
    return table


def check_rules(document: StandardDocument) -> list[RuleProblem]:
    """Every rule expression in the document, parsed and checked; the problems found."""
    problems: list[RuleProblem] = []
    parameters = parameter_table(document)
    problems += _check_shared(document)
    for i, item in enumerate(document.items):
        rule = item.target_group.rule
        if rule is None:
            continue
        base: tuple[str | int, ...] = ("items", i, "target_group", "rule")
        parts = [((*base, "criteria", name, "expr"), f"criterion {name}", c.expr) for name, c in rule.criteria.items()]
        if rule.level:
            parts += [
                ((*base, "level", key), f"level {key}", text)
                for key, text in (("amount", rule.level.amount), ("units", rule.level.units))
                if text
            ]
        for path, part, text in parts:
            try:
                parse(text, parameters=parameters)
            except RuleError as error:
                problems.append(RuleProblem(path, item.id, part, error))
    return problems


def _check_shared(document: StandardDocument) -> list[RuleProblem]:
    """Items sharing one allowance must pay it per the same period, and the shared id must not be an item's."""
    problems: list[RuleProblem] = []
    item_ids = {item.id for item in document.items}
    first: dict[str, tuple[str, str]] = {}  # shared id -> (item, period) of the first item naming it
    for i, item in enumerate(document.items):
        rule = item.target_group.rule
        level = rule.level if rule else None
        if level is None or level.shared is None:
            continue
        path: tuple[str | int, ...] = ("items", i, "target_group", "rule", "level")
        if level.shared in item_ids:
            message = f"shared id {level.shared!r} is also an item id; name the allowance, not an item"
            problems.append(RuleProblem((*path, "shared"), item.id, "level shared", RuleError(message, level.shared)))
        if level.amount is None:
            message = f"shares allowance {level.shared!r} but has no amount"
            problems.append(RuleProblem((*path, "shared"), item.id, "level shared", RuleError(message, level.shared)))
        other = first.setdefault(level.shared, (item.id, level.period))
        if other[1] != level.period:
            message = (
                f"shares allowance {level.shared!r} with {other[0]}, which is paid per {other[1]}, "
                f"but is paid per {level.period}; items sharing an allowance must have the same period"
            )
            problems.append(RuleProblem((*path, "period"), item.id, "level period", RuleError(message, level.period)))
    return problems


def rules_from_document(
    document: StandardDocument, *, version: int | None = None, content_hash: str = ""
) -> list[ItemRule]:
    """The items of a (valid) document that have a rule, as ItemRules."""
    parameters = parameter_table(document)
    out: list[ItemRule] = []
    for item in document.items:
        rule = item.target_group.rule
        if rule is None:
            continue
        level = rule.level
        out.append(
            ItemRule(
                item=item.id,
                standard=document.id,
                version=version,
                content_hash=content_hash,
                criteria=tuple(
                    CriterionRule(name, parse(c.expr, parameters=parameters), c.text, c.clause)
                    for name, c in rule.criteria.items()
                ),
                amount=parse(level.amount, parameters=parameters) if level and level.amount else None,
                units=parse(level.units, parameters=parameters) if level and level.units else None,
                unit=level.unit if level else None,
                period=level.period if level else "month",
                level_clause=level.clause if level else None,
                parameters=parameters,
                shared=level.shared if level else None,
                name=item.name,
                self_paid=bool(level and level.self_paid),
                national_item=item.national_item,
                national_group=(item.national_group or "same") if item.national_item else None,
            )
        )
    return out
