"""What-if: a draft revision of a standard, screened against the population before it is published.

Both the rules in force and the draft's rules for the same standard run over
the same population on the same date; the report compares, per county and
item, how many people are covered and what it costs per year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from fuwu.eligibility import screening
from fuwu.eligibility.ruleset import ItemRule

PERIODS_PER_YEAR = {"month": 12, "year": 1, "once": 1}


@dataclass(frozen=True)
class Row:
    county: str
    item: str
    before_people: int
    after_people: int
    before_cost: Decimal
    after_cost: Decimal

    @property
    def people_change(self) -> int:
        return self.after_people - self.before_people

    @property
    def cost_change(self) -> Decimal:
        return self.after_cost - self.before_cost


@dataclass(frozen=True)
class Report:
    standard: str
    as_of: dt.date
    rows: list[Row]

    def totals(self) -> Row:
        return Row(
            "all",
            "all",
            sum(r.before_people for r in self.rows),
            sum(r.after_people for r in self.rows),
            sum((r.before_cost for r in self.rows), Decimal(0)),
            sum((r.after_cost for r in self.rows), Decimal(0)),
        )


def _screen(rules: list[ItemRule], population: Path, out: Path, as_of: dt.date, partitions: int) -> Path:
    plan = screening.Plan(
        engine="duckdb", as_of=as_of, population=population, out=out, partitions=partitions, rules=rules
    )
    screening.run(plan, screening.DuckDBEngine(plan), fresh=True)
    return out


def what_if(
    *,
    in_force: list[ItemRule],
    draft: list[ItemRule],
    population: Path,
    as_of: dt.date,
    work: Path,
    partitions: int = 4,
) -> Report:
    """Coverage and yearly cost, by county and item, before and after the draft."""
    standards = {r.standard for r in draft}
    if len(standards) != 1:
        raise ValueError("a draft is one standard's file")
    standard = standards.pop()
    before = [r for r in in_force if r.standard == standard]
    periods = {r.item: PERIODS_PER_YEAR[r.period] for r in [*before, *draft]}
    before_dir = _screen(before, population, work / "before", as_of, partitions) if before else None
    after_dir = _screen(draft, population, work / "after", as_of, partitions)
    con = duckdb.connect()
    period_rows = ", ".join(f"('{item}', {n})" for item, n in periods.items())
    con.execute(f"CREATE TABLE periods(item VARCHAR, per_year INTEGER); INSERT INTO periods VALUES {period_rows}")

    def summary(directory: Path | None, name: str) -> None:
        if directory is not None:
            con.register("results", screening.read_results(directory))
        if directory is None:
            con.execute(f"CREATE TABLE {name}(county VARCHAR, item VARCHAR, people BIGINT, cost DECIMAL(38, 2))")
            return
        con.execute(
            f"CREATE TABLE {name} AS SELECT substr(coalesce(hukou_area, ''), 1, 6) AS county, r.item, "
            "count(*) AS people, coalesce(sum(amount * p.per_year), 0) AS cost "
            "FROM results r JOIN periods p USING (item) "
            "WHERE status = 'eligible' GROUP BY ALL"
        )

    summary(before_dir, "before")
    summary(after_dir, "after")
    rows = con.execute(
        "SELECT coalesce(a.county, b.county), coalesce(a.item, b.item), coalesce(b.people, 0), coalesce(a.people, 0), "
        "coalesce(b.cost, 0), coalesce(a.cost, 0) FROM after a FULL JOIN before b USING (county, item) "
        "ORDER BY 1, 2"
    ).fetchall()
    return Report(
        standard=standard,
        as_of=as_of,
        rows=[Row(c, i, int(bp), int(ap), Decimal(bc), Decimal(ac)) for c, i, bp, ap, bc, ac in rows],
    )
