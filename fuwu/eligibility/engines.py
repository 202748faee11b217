"""The whole population in one pass: the rules as one SQL query, for DuckDB, PostgreSQL or Spark.

The query reads a relation with ``person_id``, ``household_id`` and every base
fact (``facts.BASE_FACTS``), adds the derived facts from their one definition,
and returns one row per person with every item's status and level (see
``screening_sql``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlglot import exp

from fuwu.eligibility.derived import derived_sql
from fuwu.eligibility.facts import BASE_FACTS, DERIVED_FACTS
from fuwu.eligibility.ruleset import ItemRule

DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark"}


def rule_version(rule: ItemRule) -> str:
    """Which text of the rule answered: the standard, its version and a short content hash."""
    version = f"v{rule.version}" if rule.version is not None else "file"
    return f"{rule.standard}@{version}:{rule.content_hash[:12]}"


def _conjunction(parts: Sequence[exp.Expression]) -> exp.Expression:
    tree: exp.Expression = exp.Paren(this=parts[0].copy())
    for part in parts[1:]:
        tree = exp.And(this=tree, expression=exp.Paren(this=part.copy()))
    return tree


def _level(tree: exp.Expression | None, dialect: str) -> str:
    if tree is None:
        return "CAST(NULL AS DECIMAL(18, 2))"
    # Round in the engine, half away from zero, exactly like rules.money().
    return f"CAST(ROUND(CAST({tree.sql(dialect=dialect)} AS DECIMAL(18, 4)), 2) AS DECIMAL(18, 2))"


def households_sql(source: str, *, as_of: dt.date, dialect: str) -> str:
    """The household facts, one row per household (an engine may compute it once and reuse it)."""
    household = ", ".join(
        f"{derived_sql(f, as_of=as_of, dialect=dialect)} AS {f.name}" for f in DERIVED_FACTS if f.household
    )
    return f"SELECT household_id, {household} FROM {source} GROUP BY household_id"


def facts_sql(
    source: str, *, as_of: dt.date, dialect: str, where: str | None = None, households: str | None = None
) -> str:
    """Base facts plus derived facts, one row per person, from ``source`` (a table or table function)."""
    columns = ["b.person_id", "b.household_id", *(f"b.{f.name}" for f in BASE_FACTS if f.name != "household_id")]
    # Person-level definitions name base facts only, which no other relation here has.
    columns += [f"{derived_sql(f, as_of=as_of, dialect=dialect)} AS {f.name}" for f in DERIVED_FACTS if not f.household]
    columns += [f"h.{f.name}" for f in DERIVED_FACTS if f.household]
    persons = f"(SELECT * FROM {source} WHERE {where})" if where else source
    # Household facts need every member, so they come from the whole source even
    # when only some persons (a partition) are screened.
    households = households or f"({households_sql(source, as_of=as_of, dialect=dialect)})"
    return f"SELECT {', '.join(columns)} FROM {persons} AS b JOIN {households} AS h ON h.household_id = b.household_id"


def column(name: str, dialect: str) -> str:
    """A quoted column name (item ids contain hyphens)."""
    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)


def status_column(rule: ItemRule) -> str:
    return rule.item


def level_column(rule: ItemRule, level: str) -> str:
    return f"{rule.item}__{level}"


def result_columns(rules: Sequence[ItemRule], as_of: dt.date) -> list[tuple[str, str]]:
    """The wide result's columns after person_id and hukou_area: (name, kind) with kind status/amount/units."""
    out: list[tuple[str, str]] = []
    for rule in rules:
        bound = rule.bound(as_of)
        out.append((status_column(rule), "status"))
        for level, tree in (("amount", bound.amount), ("units", bound.units)):
            if tree is not None:
                out.append((level_column(rule, level), level))
    return out


def screening_sql(
    rules: Sequence[ItemRule],
    *,
    source: str,
    as_of: dt.date,
    dialect: str,
    where: str | None = None,
    households: str | None = None,
) -> str:
    """One query screening every person in ``source`` (optionally filtered) against every rule.

    The result is *wide*: one row per person, sorted by person_id, with for each
    item a status column (TRUE eligible, FALSE not, NULL unknown) and, where the
    rule has a level, its amount and units (NULL unless eligible). Writing one
    row per person and item would multiply the output by the number of items
    each person is entitled to (about 28 here); the long form is a view over
    this one (``screening.read_results``).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown engine dialect {dialect!r}; one of {', '.join(DIALECTS)}")
    columns = ["person_id", "hukou_area"]
    for rule in rules:
        bound = rule.bound(as_of)
        ok = _conjunction(bound.criteria).sql(dialect=dialect)
        columns.append(f"{ok} AS {column(status_column(rule), dialect)}")
        for level, tree in (("amount", bound.amount), ("units", bound.units)):
            if tree is not None:
                # NULL unless eligible, so a level is never read for someone not entitled.
                columns.append(
                    f"CASE WHEN {ok} THEN {_level(tree, dialect)} END AS {column(level_column(rule, level), dialect)}"
                )
    facts = facts_sql(source, as_of=as_of, dialect=dialect, where=where, households=households)
    # PostgreSQL would pull the facts subquery up and compute each derived fact (age…) at every use in every
    # rule; OFFSET 0 keeps it a subquery, computed once per person (5× faster over the registry, ADR 18).
    fence = " OFFSET 0" if dialect == "postgres" else ""
    return f"SELECT {', '.join(columns)} FROM ({facts}{fence}) AS facts ORDER BY person_id"
