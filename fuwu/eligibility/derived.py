"""Derived facts: computed from base facts by the one definition in ``facts.py``.

The definitions are SQL expressions using three internal functions. Here they
are parsed once, evaluated in Python for one person (``person_facts``), and
expanded into each engine's SQL (``derived_sql``) for the whole population.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, cast

import sqlglot
from sqlglot import exp

from fuwu.eligibility.facts import BASE, DERIVED_FACTS, Fact
from fuwu.eligibility.rules import Value, compile_tree

INTERNAL_FUNCTIONS = ("full_years", "area_prefix", "per_capita")


def full_years(birth: dt.date, as_of: dt.date) -> int:
    """Age in 周岁: one more on each birthday; a 29 February birthday counts from 1 March."""
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


def per_capita(total: Decimal, members: int) -> Decimal:
    """``total / members`` rounded half-up to the fen, exactly as the SQL engines compute it."""
    fen = int(Decimal(total) * 100)
    return Decimal((2 * fen + members) // (2 * members)) / 100


@cache
def _definition(name: str) -> exp.Expression:
    fact = next(f for f in DERIVED_FACTS if f.name == name)
    assert fact.derived is not None  # noqa: S101 - DERIVED_FACTS all have a definition
    return cast(exp.Expression, sqlglot.parse_one(fact.derived))


def _call(node: exp.Anonymous, values: list[Any]) -> Value:
    name = str(node.this).lower()
    if any(v is None for v in values):
        return None
    if name == "full_years":
        return full_years(values[0], values[1])
    if name == "area_prefix":
        return str(values[0])[: int(values[1])]
    if name == "per_capita":
        return per_capita(values[0], values[1]) if values[1] else None
    raise ValueError(f"unknown internal function {name}")


@dataclass(frozen=True)
class _Context:
    row: Mapping[str, Value]
    as_of: dt.date
    members: Sequence[Mapping[str, Value]]


Compiled = Callable[[_Context], Value]
SPECIAL = (exp.Anonymous, exp.Placeholder, exp.AggFunc)


def _compile(tree: exp.Expression) -> Compiled:
    """A definition as a function: internal functions, :as_of and aggregates over the household.

    The parts only this module understands are compiled here; the rest of the
    expression is handed to the rule compiler with those parts as stand-in facts.
    """
    if isinstance(tree, exp.Placeholder):
        return lambda c: c.as_of
    if isinstance(tree, exp.Anonymous):
        args = [_compile(a) for a in tree.expressions]
        return lambda c: _call(tree, [a(c) for a in args])
    if isinstance(tree, exp.Count):
        return lambda c: len(c.members)
    if isinstance(tree, (exp.Sum, exp.Max)):
        inner = compile_tree(tree.this)
        is_sum = isinstance(tree, exp.Sum)

        def aggregate(c: _Context) -> Value:
            values = [v for v in (inner(m) for m in c.members) if v is not None]
            if not values:
                return None
            return sum(values, Decimal(0)) if is_sum else max(values)

        return aggregate
    if not isinstance(tree, SPECIAL) and not any(isinstance(n, SPECIAL) for n in tree.walk()):
        plain = compile_tree(tree)
        return lambda c: plain(c.row)
    specials: list[Compiled] = []

    def stand_in(node: exp.Expression) -> exp.Expression:
        if isinstance(node, SPECIAL):
            specials.append(_compile(node))
            return exp.column(f"__derived_{len(specials) - 1}")
        return node

    rest = compile_tree(tree.transform(stand_in, copy=True))
    return lambda c: rest({**c.row, **{f"__derived_{i}": s(c) for i, s in enumerate(specials)}})


@cache
def _compiled(name: str) -> Compiled:
    return _compile(_definition(name))


def person_facts(
    base: Mapping[str, Value], *, as_of: dt.date, household: Sequence[Mapping[str, Value]] | None = None
) -> dict[str, Value]:
    """Base facts plus every derived fact, for one person.

    ``household`` is every member's base facts (the person included). Without
    it, household facts are taken as given in ``base`` (a resident answering
    the self-check says how many live in the household), else unknown.
    """
    facts: dict[str, Value] = {name: base.get(name) for name in BASE}
    person = _Context(facts, as_of, ())
    members = _Context(facts, as_of, household or ())
    for fact in DERIVED_FACTS:
        if fact.household:
            facts[fact.name] = _compiled(fact.name)(members) if household else base.get(fact.name)
        else:
            facts[fact.name] = _compiled(fact.name)(person)
    return facts


# --- SQL -------------------------------------------------------------------------


def _sql_function(node: exp.Anonymous, as_of: dt.date) -> exp.Expression:
    name = str(node.this).lower()
    args = node.expressions
    if name == "full_years":
        birth, day = args[0], args[1]

        def part(unit: str, of: exp.Expression) -> exp.Expression:
            return exp.Extract(this=exp.var(unit), expression=of.copy())

        def month_day(d: exp.Expression) -> exp.Expression:
            return exp.Add(
                this=exp.Mul(this=part("MONTH", d), expression=exp.Literal.number(100)), expression=part("DAY", d)
            )

        before_birthday = exp.If(
            this=exp.LT(this=month_day(day), expression=month_day(birth)),
            true=exp.Literal.number(1),
            false=exp.Literal.number(0),
        )
        years = exp.Sub(this=part("YEAR", day), expression=part("YEAR", birth))
        return exp.cast(exp.Paren(this=exp.Sub(this=years, expression=before_birthday)), "INT")
    if name == "area_prefix":
        return exp.Substring(this=args[0], start=exp.Literal.number(1), length=args[1])
    if name == "per_capita":
        total, members = args
        fen = exp.cast(exp.Mul(this=total, expression=exp.Literal.number(100)), "BIGINT")
        numerator = exp.Add(this=exp.Mul(this=exp.Literal.number(2), expression=fen), expression=members.copy())
        denominator = exp.Mul(this=exp.Literal.number(2), expression=members.copy())
        quotient = exp.cast(
            exp.IntDiv(this=exp.Paren(this=numerator), expression=exp.Paren(this=denominator)), "DECIMAL(18, 0)"
        )
        return exp.Mul(this=quotient, expression=exp.Literal.number("0.01"))
    raise ValueError(f"unknown internal function {name}")


def derived_sql(fact: Fact, *, as_of: dt.date, dialect: str) -> str:
    """A derived fact's definition in an engine's SQL, with :as_of bound."""
    as_of_literal = exp.cast(exp.Literal.string(as_of.isoformat()), "DATE")

    def bind(node: exp.Expression) -> exp.Expression:
        return as_of_literal.copy() if isinstance(node, exp.Placeholder) else node

    def expand(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in INTERNAL_FUNCTIONS:
            return _sql_function(node, as_of)
        return node

    tree = _definition(fact.name).transform(bind, copy=True)
    return tree.transform(expand).sql(dialect=dialect)
