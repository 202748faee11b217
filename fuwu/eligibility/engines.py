"""The whole population in one pass: the rules as one SQL query, for DuckDB, PostgreSQL or Spark.

The query reads a relation with ``person_id``, ``household_id`` and every base
fact (``facts.BASE_FACTS``), adds the derived facts from their one definition,
and returns a row for each (person, item) that is eligible or unknown:

    person_id, hukou_area, item, rule_version, status, amount, units

Rows where the person is not eligible are left out: they are the great
majority, and "not on the list" already says it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlglot import exp

from fuwu.eligibility.derived import derived_sql
from fuwu.eligibility.facts import BASE_FACTS, DERIVED_FACTS
from fuwu.eligibility.ruleset import ItemRule

DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark"}
RESULT_COLUMNS = ("person_id", "hukou_area", "item", "rule_version", "status", "amount", "units")


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


def screening_sql(
    rules: Sequence[ItemRule],
    *,
    source: str,
    as_of: dt.date,
    dialect: str,
    where: str | None = None,
    households: str | None = None,
) -> str:
    """One query screening every person in ``source`` (optionally filtered by ``where``) against every rule."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown engine dialect {dialect!r}; one of {', '.join(DIALECTS)}")
    branches = []
    for rule in rules:
        bound = rule.bound(as_of)
        ok = _conjunction(bound.criteria).sql(dialect=dialect)
        branches.append(
            f"SELECT person_id, hukou_area, '{rule.item}' AS item, '{rule_version(rule)}' AS rule_version, {ok} AS ok, "
            f"{_level(bound.amount, dialect)} AS amount, {_level(bound.units, dialect)} AS units FROM facts"
        )
    union = "\nUNION ALL\n".join(branches)
    return (
        f"WITH facts AS ({facts_sql(source, as_of=as_of, dialect=dialect, where=where, households=households)})\n"
        f"SELECT person_id, hukou_area, item, rule_version, CASE WHEN ok THEN 'eligible' ELSE 'unknown' END AS status,\n"
        f"  CASE WHEN ok THEN amount END AS amount, CASE WHEN ok THEN units END AS units\n"
        f"FROM (\n{union}\n) AS screened\n"
        # NOT FALSE in every dialect: eligible (TRUE) or unknown (NULL).
        f"WHERE ok OR ok IS NULL"
    )
