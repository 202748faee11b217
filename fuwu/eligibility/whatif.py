"""What-if: a draft revision of a standard, screened against the population before it is published.

Both the rules in force and the draft's rules for the same standard run over
the same population on the same date; the report compares, per county and
item, how many people are covered and what it costs per year.

Items whose levels name the same ``shared`` id pay one allowance between them
(the home-care standard's ten projects draw on one monthly allowance). They are
reported as one row, keyed by the shared id: the people entitled to any of the
items, and for each of them the largest of their amounts, once. Summing the
items instead would count the allowance once per item.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]

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
    # A readable name for a shared allowance's row (``item`` is then the shared id); None for one item.
    label: str | None = None
    # Of ``after_people``, those who already receive it (a current grant, else a receipt: ``served``).
    after_receiving: int = 0

    @property
    def after_new(self) -> int:
        """Entitled after the draft and not yet receiving: the outreach the draft asks for."""
        return self.after_people - self.after_receiving

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
            after_receiving=sum(r.after_receiving for r in self.rows),
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
    served: pa.Table | None = None,
) -> Report:
    """Coverage and yearly cost, by county and item (or shared allowance), before and after the draft.

    ``served`` (person_id, item: who already receives what, ``eligibility.services.served``) counts, of those
    entitled after the draft, who already receives the item (or any item of a shared allowance)."""
    standards = {r.standard for r in draft}
    if len(standards) != 1:
        raise ValueError("a draft is one standard's file")
    standard = standards.pop()
    before = [r for r in in_force if r.standard == standard]
    before_dir = _screen(before, population, work / "before", as_of, partitions) if before else None
    after_dir = _screen(draft, population, work / "after", as_of, partitions)
    con = duckdb.connect()

    def summary(rules: list[ItemRule], directory: Path | None, name: str) -> None:
        if directory is None:
            con.execute(f"CREATE TABLE {name}(county VARCHAR, item VARCHAR, people BIGINT, cost DECIMAL(38, 2))")
            return
        # Each side with its own rules: a draft may start or stop sharing an allowance.
        # A self-paid price costs the public nothing: its yearly multiplier is 0 (people are still counted).
        groups = ", ".join(
            f"('{r.item}', '{r.shared or r.item}', {0 if r.self_paid else PERIODS_PER_YEAR[r.period]})" for r in rules
        )
        con.execute("CREATE OR REPLACE TABLE groups(item VARCHAR, grp VARCHAR, per_year INTEGER)")
        con.execute(f"INSERT INTO groups VALUES {groups}")
        con.register("results", screening.read_results(directory))
        # One row per person and group first, so a shared allowance is paid once, at the largest amount.
        con.execute(
            f"CREATE TABLE {name} AS SELECT county, grp AS item, count(*) AS people, "
            "coalesce(sum(amount * per_year), 0) AS cost FROM ("
            "SELECT substr(coalesce(r.hukou_area, ''), 1, 6) AS county, r.person_id, g.grp, "
            "max(r.amount) AS amount, max(g.per_year) AS per_year "
            "FROM results r JOIN groups g USING (item) WHERE r.status = 'eligible' GROUP BY ALL"
            ") GROUP BY ALL"
        )

    summary(before, before_dir, "before")
    summary(draft, after_dir, "after")
    # "groups" and "results" are the draft's now.
    con.register(
        "served",
        served
        if served is not None
        else pa.table({"person_id": pa.array([], pa.int64()), "item": pa.array([], pa.string())}),
    )
    con.execute(
        "CREATE TABLE receiving AS SELECT county, grp AS item, count(*) AS people FROM ("
        "SELECT DISTINCT substr(coalesce(r.hukou_area, ''), 1, 6) AS county, r.person_id, g.grp "
        "FROM results r JOIN groups g USING (item) "
        "JOIN served s ON s.person_id = r.person_id AND s.item = r.item WHERE r.status = 'eligible'"
        ") GROUP BY ALL"
    )
    rows = con.execute(
        "SELECT coalesce(a.county, b.county), coalesce(a.item, b.item), coalesce(b.people, 0), coalesce(a.people, 0), "
        "coalesce(b.cost, 0), coalesce(a.cost, 0), coalesce(v.people, 0) "
        "FROM after a FULL JOIN before b USING (county, item) "
        "LEFT JOIN receiving v ON v.county = coalesce(a.county, b.county) AND v.item = coalesce(a.item, b.item) "
        "ORDER BY 1, 2"
    ).fetchall()
    labels = {**shared_labels(before), **shared_labels(draft)}
    return Report(
        standard=standard,
        as_of=as_of,
        rows=[
            Row(c, i, int(bp), int(ap), Decimal(bc), Decimal(ac), labels.get(i), int(rv))
            for c, i, bp, ap, bc, ac, rv in rows
        ],
    )


def shared_labels(rules: list[ItemRule]) -> dict[str, str]:
    """A name for each shared allowance of one standard: its first item's name and how many items share it."""
    groups: dict[str, list[ItemRule]] = {}
    for rule in rules:
        if rule.shared:
            groups.setdefault(rule.shared, []).append(rule)
    labels: dict[str, str] = {}
    for shared, members in groups.items():
        first = members[0].name.zh if members[0].name else members[0].item
        labels[shared] = f"{first}等{len(members)}项共用额度" if len(members) > 1 else f"{first}（共用额度）"
    return labels
