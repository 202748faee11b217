"""The materialisation engine: every computed indicator × area × period into ``IndicatorValue``.

For each standard version in force and each of its indicators with a ``computation``, and for each period
of the indicator's kind and every longer kind in the range asked for:

1. read the view's rows for the period (``datasets.PRODUCERS``; once per view and period in a run);
2. digest them with the definition and the parameter values it binds; if the digest is the one stored
   for that indicator and period (``IndicatorPeriod``), stop here — nothing it depends on has changed;
3. evaluate the denominator and numerator on each row with the rule language's own evaluator (SQL's
   three-valued logic: a row counts only where the expression is true), and add the row to its village
   and every area above it, down to the indicator's finest meaningful level;
4. write the values that changed, delete those for areas that no longer have any row, store the digest.

So a re-run changes nothing (same digest, or the same numbers written over themselves), new data
recomputes only the periods it falls in, and every area's numerator and denominator are the sums of its
children's (its value is the weighted ratio, never an average of children's ratios).

That is the reference path (``path="python"``). The default, set-based path does steps 1–3 in the database for
the views with a query (``datasets.QUERIES``, ``count_by_sql``): the same expressions compiled to SQL by the
rule language, summed per village and period, digested as counts; the roll-up and the writing are shared.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from fuwu.areas.models import Area, AreaLevel
from fuwu.eligibility.rules import ParameterTable, bind, compile_tree, parameter_value, to_sql
from fuwu.evaluation.catalog import VIEWS
from fuwu.evaluation.datasets import PRODUCERS, QUERIES, UNDATED, Row
from fuwu.evaluation.definitions import Definition, definition_of
from fuwu.evaluation.models import IndicatorPeriod, IndicatorValue
from fuwu.standards.models import IN_FORCE, Indicator, StandardVersion
from fuwu.standards.schema import IndicatorComputation

logger = logging.getLogger(__name__)

PERCENT = Decimal(100)
VALUE_PLACES = Decimal("0.0001")


# --- periods --------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date  # exclusive

    @staticmethod
    def containing(kind: str, day: dt.date) -> Period:
        if kind == "month":
            start = day.replace(day=1)
            months = 1
        elif kind == "quarter":
            start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
            months = 3
        elif kind == "year":
            start = day.replace(month=1, day=1)
            months = 12
        else:
            raise ValueError(f"unknown period kind {kind!r}; month, quarter or year")
        index = start.year * 12 + start.month - 1 + months
        return Period(kind, start, dt.date(index // 12, index % 12 + 1, 1))


def periods_between(kind: str, first: dt.date, last: dt.date) -> list[Period]:
    """The periods of ``kind`` that overlap ``[first, last]``, in order."""
    out = [Period.containing(kind, first)]
    while out[-1].end <= last:
        out.append(Period.containing(kind, out[-1].end))
    return out


# --- areas ----------------------------------------------------------------------------------------


class AreaTree:
    """Every area's chain up to its city, read once per run."""

    def __init__(self) -> None:
        rows = list(Area.objects.values_list("pk", "code", "level", "parent_id"))
        self.by_pk = {pk: (code, level, parent) for pk, code, level, parent in rows}
        self.pk_by_code = {code: pk for pk, code, _, _ in rows}
        cities = [pk for pk, _, level, _ in rows if level == AreaLevel.CITY]
        # A row with no area (staff, who belong to no hukou area) counts at the city, when there is one.
        self.root = cities[0] if len(cities) == 1 else None
        self._chains: dict[str | None, list[tuple[int, str]]] = {}

    def chain(self, code: str | None) -> list[tuple[int, str]]:
        """(pk, level) of the area with ``code`` and of each area above it; empty for an unknown code."""
        if code in self._chains:
            return self._chains[code]
        pk = self.root if code is None else self.pk_by_code.get(code)
        out: list[tuple[int, str]] = []
        while pk is not None:
            _, level, parent = self.by_pk[pk]
            out.append((pk, level))
            pk = parent
        self._chains[code] = out
        return out


# --- definitions of the indicators in force ----------------------------------------------------------


@dataclass(frozen=True)
class Computed:
    indicator: Indicator
    definition: Definition
    parameters: ParameterTable


def _parameters(document: dict[str, Any]) -> ParameterTable:
    table: dict[str, list[tuple[dt.date, Any]]] = {}
    for p in document.get("parameters", []):
        values = []
        for v in p["values"]:
            value = v["value"]
            value = {k: Decimal(str(x)) for k, x in value.items()} if isinstance(value, dict) else Decimal(str(value))
            values.append((dt.date.fromisoformat(v["effective_from"]), value))
        table[p["id"]] = values
    return table


def computed_indicators(*, standards: Iterable[str] | None = None, skipped: list[str] | None = None) -> list[Computed]:
    """The indicators with a computation, of every standard version in force (or of ``standards``' keys).

    A stored definition this code can no longer read (a view since withdrawn, a column renamed) is left out
    and named in ``skipped``, so one stale standard does not stop the others being computed.
    """
    versions = StandardVersion.objects.filter(status__in=IN_FORCE).select_related("standard").order_by("pk")
    if standards is not None:
        versions = versions.filter(standard__key__in=list(standards))
    out = []
    for version in versions:
        documented = {i["id"]: i for i in version.document.get("indicators", []) if i.get("computation")}
        if not documented:
            continue
        parameters = _parameters(version.document)
        for indicator in version.indicators.filter(key__in=list(documented)).order_by("key"):
            data = documented[indicator.key]
            try:
                computation = IndicatorComputation.model_validate(data["computation"])
                definition = definition_of(indicator.key, computation, parameters=parameters, unit=data.get("unit"))
            except (KeyError, ValueError) as error:  # RuleError and pydantic's errors are ValueErrors
                logger.warning("indicator %s of %s not computed: %s", indicator.key, version, error)
                if skipped is not None:
                    skipped.append(f"{version.standard.key}/{indicator.key}")
                continue
            out.append(Computed(indicator, definition, parameters))
    return out


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Summary:
    periods_computed: int = 0
    periods_unchanged: int = 0
    values_written: int = 0
    values_deleted: int = 0
    rows_without_area: int = 0
    indicators: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "periods_computed": self.periods_computed,
            "periods_unchanged": self.periods_unchanged,
            "values_written": self.values_written,
            "values_deleted": self.values_deleted,
            "rows_without_area": self.rows_without_area,
            "indicators": len(self.indicators),
            "skipped": self.skipped,
        }


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def value_of(numerator: int, denominator: int, *, percent: bool) -> Decimal | None:
    if not denominator:
        return None
    ratio = Decimal(numerator) / Decimal(denominator) * (PERCENT if percent else 1)
    return ratio.quantize(VALUE_PLACES)


Counts = dict[str | None, list[int]]  # [numerator, denominator] by the area code rows carry


def tally(rows: list[Row], computed: Computed, period: Period) -> Counts:
    """Numerator and denominator per area code, row by row with the rule language's Python evaluator."""
    definition = computed.definition
    numerator = compile_tree(bind(definition.numerator, parameters=computed.parameters, as_of=period.start))
    denominator: Callable[[Row], Any] | None = (
        compile_tree(bind(definition.denominator, parameters=computed.parameters, as_of=period.start))
        if definition.denominator is not None
        else None
    )
    weight = definition.view.weight  # a row of counts stands for that many cases
    counts: Counts = defaultdict(lambda: [0, 0])
    for row in rows:
        if denominator is not None and denominator(row) is not True:
            continue
        n = int(row[weight] or 0) if weight else 1
        if not n:
            continue
        counts[row["area"]][0] += n if numerator(row) is True else 0
        counts[row["area"]][1] += n
    return counts


def roll_up(by_code: Counts, levels: Iterable[str], areas: AreaTree) -> tuple[dict[int, list[int]], int]:
    """Each area code's counts added to its area and every area above it (at ``levels``); and how many
    counted cases had no known area."""
    wanted = set(levels)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    lost = 0
    for code, (hit, n) in by_code.items():
        if not n:
            continue
        chain = areas.chain(code)
        if not chain:
            lost += n
            continue
        for pk, level in chain:
            if level in wanted:
                counts[pk][0] += hit
                counts[pk][1] += n
    return counts, lost


def _sorted_counts(by_code: Counts) -> list[tuple[str, int, int]]:
    return sorted((code or "", n, d) for code, (n, d) in by_code.items() if d)


# --- the set-based path: one GROUP BY per view (by month) or per snapshot period, in the database ----------

DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite"}


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def count_by_sql(
    view: str, todo: list[tuple[Computed, list[Period]]], today: dt.date
) -> dict[tuple[int, Period], Counts]:
    """Every (indicator, period)'s numerator and denominator by area code, counted in the database.

    The indicators' expressions are compiled by the rule language's own compiler (``rules.to_sql``: SQL's
    three-valued logic, as the Python evaluator's) into two sums per indicator, ``SUM(CASE WHEN denominator
    THEN 1 END)`` and ``SUM(CASE WHEN denominator AND numerator THEN 1 END)``, over the view's query
    (``datasets.QUERIES``) grouped by period and area: one query by month for an event view (a quarter's or a
    year's counts are its months' sums), one per period for a snapshot view. A parameter that changes value
    within the range gives its indicator one pair of sums per value, each read for the periods it is bound for.
    """
    dialect = DIALECTS[connection.vendor]
    quote = connection.ops.quote_name
    columns: list[str] = []  # the sums, two per (indicator, binding)
    pair: dict[tuple[int, Period], int] = {}  # (indicator, period) -> index of its denominator sum
    bindings: dict[tuple[int, str | None, str], int] = {}
    periods: set[Period] = set()
    for computed, wanted in todo:
        definition = computed.definition
        weight = definition.view.weight
        case = f"COALESCE({quote(weight)}, 0)" if weight else "1"
        for period in wanted:
            periods.add(period)
            num = to_sql(bind(definition.numerator, parameters=computed.parameters, as_of=period.start), dialect)
            den = (
                to_sql(bind(definition.denominator, parameters=computed.parameters, as_of=period.start), dialect)
                if definition.denominator is not None
                else None
            )
            key = (computed.indicator.pk, den, num)
            if key not in bindings:
                bindings[key] = len(columns)
                both = f"({den}) AND ({num})" if den is not None else f"({num})"
                columns.append(f"SUM(CASE WHEN ({den}) THEN {case} ELSE 0 END)" if den else f"SUM({case})")
                columns.append(f"SUM(CASE WHEN {both} THEN {case} ELSE 0 END)")
            pair[(computed.indicator.pk, period)] = bindings[key]
    names = list(VIEWS[view].columns)
    query = QUERIES[view]
    snapshot = VIEWS[view].snapshot
    # A snapshot view is counted per period (its rows are the state at each period's end); an event view once,
    # by month, over the whole range — each period's counts are then the sums of its months' (an event falls in
    # exactly one month), read from the pair of sums bound for that period.
    if snapshot:
        calls = [(p.start, p.end, p.kind) for p in sorted(periods)]
    else:
        calls = [(min(p.start for p in periods), max(p.end for p in periods), "month")]
    groups: dict[tuple[str, dt.date, str | None], list[int]] = defaultdict(lambda: [0] * len(columns))
    renamed = ", ".join(f"q.{quote('v_' + n)} AS {quote(n)}" for n in names)
    sums_sql = ", ".join(c.replace("%", "%%") for c in columns)
    # One read-only transaction: every view and period counted from the same snapshot of the data.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Compiling these queries costs more than running them (a second each on a busy server).
            cursor.execute("SET LOCAL jit = off")
        for first, end, kind in calls:
            for part in query(first, end, today, kind):
                inner, params = part.query.sql_with_params()
                # Our names, the ORM's query and expressions checked by the rule language's whitelist.
                sql = (
                    f"SELECT v.period_, v.{quote('area')}, {sums_sql} "  # noqa: S608
                    f"FROM (SELECT q.{quote('v_period')} AS period_, {renamed} FROM ({inner}) q) v "
                    f"GROUP BY v.period_, v.{quote('area')}"
                )
                cursor.execute(sql, params)
                for start, area, *values in cursor.fetchall():
                    row = groups[(kind, _as_date(start), area)]
                    for i, value in enumerate(values):
                        row[i] += int(value or 0)
    by_start = {(p.kind, p.start): p for p in periods}
    months = {start for kind, start, _ in groups if kind == "month"}
    containing = {m: [p for p in periods if p.start <= m < p.end] for m in months} if not snapshot else {}
    out: dict[tuple[int, Period], Counts] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (kind, start, area), values in groups.items():
        targets = [by_start[(kind, start)]] if snapshot else containing[start]
        for target in targets:
            for computed, _ in todo:
                index = pair.get((computed.indicator.pk, target))
                if index is not None and values[index]:
                    counts = out[(computed.indicator.pk, target)][area]
                    counts[0] += values[index + 1]
                    counts[1] += values[index]
    return {key: dict(by_area) for key, by_area in out.items()}


def _bound_sql(computed: Computed, period: Period, cache: dict[Any, list[str | None]]) -> list[str | None]:
    """The two expressions with the parameters in force on the period's first day, as text (for the digest)."""
    in_force = tuple(parameter_value(values, period.start) for values in computed.parameters.values())
    key = (computed.indicator.pk, json.dumps(in_force, default=str))
    if key not in cache:
        definition = computed.definition
        cache[key] = [
            bind(e, parameters=computed.parameters, as_of=period.start).sql() if e is not None else None
            for e in (definition.numerator, definition.denominator)
        ]
    return cache[key]


BATCH = 2000
FIGURES = ("numerator", "denominator", "value")
FLUSH = 200_000  # values held before they are written (each flush is one transaction)
COPIED = ("indicator_id", "area_id", "period_kind", "period_start", "numerator", "denominator", "value", "computed_at")


@dataclass
class _Computed:
    """One period's counts by area pk, waiting to be written with its digest."""

    computed: Computed
    period: Period
    counts: dict[int, list[int]]
    digest: str


def _insert(rows: list[tuple[Any, ...]]) -> None:
    """New values (``COPIED`` tuples): COPY on PostgreSQL (a city's first run writes a million), bulk INSERTs
    elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        IndicatorValue.objects.bulk_create(
            (IndicatorValue(**dict(zip(COPIED, row, strict=True))) for row in rows), batch_size=BATCH
        )
        return
    table = connection.ops.quote_name(IndicatorValue._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(COPIED)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


@transaction.atomic
def _store(batch: list[_Computed], now: dt.datetime) -> tuple[int, int]:
    """Write the values of ``batch``'s periods that changed, delete those of areas no longer counted, keep the
    digests — in one transaction, reading the stored values of those periods in one query."""
    if not batch:
        return 0, 0
    keys = {(b.computed.indicator.pk, b.period.kind, b.period.start) for b in batch}
    existing: dict[tuple[int, str, dt.date], dict[int, tuple[Any, ...]]] = defaultdict(dict)
    for pk, indicator, kind, start, area, numerator, denominator, value in (
        IndicatorValue.objects.select_for_update()
        .filter(
            indicator__in={k[0] for k in keys},
            period_kind__in={k[1] for k in keys},
            period_start__in={k[2] for k in keys},
        )
        .values_list(
            "pk", "indicator_id", "period_kind", "period_start", "area_id", "numerator", "denominator", "value"
        )
        .order_by()
    ):
        if (indicator, kind, start) in keys:
            existing[(indicator, kind, start)][area] = (pk, numerator, denominator, value)
    new: list[tuple[Any, ...]] = []
    changed: list[IndicatorValue] = []
    stale: list[int] = []
    for b in batch:
        indicator, period = b.computed.indicator.pk, b.period
        old_values = existing.pop((indicator, period.kind, period.start), {})
        for area_id, (numerator, denominator) in b.counts.items():
            value = value_of(numerator, denominator, percent=b.computed.definition.percent)
            old = old_values.pop(area_id, None)
            if old is None:
                new.append((indicator, area_id, period.kind, period.start, numerator, denominator, value, now))
            elif old[1:] != (numerator, denominator, value):
                changed.append(
                    IndicatorValue(
                        pk=old[0], numerator=numerator, denominator=denominator, value=value, computed_at=now
                    )
                )
        stale += [old[0] for old in old_values.values()]
    _insert(new)
    IndicatorValue.objects.bulk_update(changed, [*FIGURES, "computed_at"], batch_size=BATCH)
    for i in range(0, len(stale), BATCH):
        IndicatorValue.objects.filter(pk__in=stale[i : i + BATCH]).delete()
    IndicatorPeriod.objects.bulk_create(
        [
            IndicatorPeriod(
                indicator=b.computed.indicator,
                period_kind=b.period.kind,
                period_start=b.period.start,
                digest=b.digest,
                computed_at=now,
            )
            for b in batch
        ],
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["indicator", "period_kind", "period_start"],
        update_fields=["digest", "computed_at"],
    )
    return len(new) + len(changed), len(stale)


PATHS = ("sql", "python")


def indicators_compute(
    *,
    first: dt.date,
    last: dt.date,
    standards: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    path: str = "sql",
) -> Summary:
    """Materialise every computed indicator for the periods overlapping ``[first, last]`` (see the module).

    ``standards`` limits it to those standards' keys, ``kinds`` to those period kinds (month, quarter, year).
    ``path`` ``sql`` counts the views that have a query (``datasets.QUERIES``) in the database, one GROUP BY
    per view and period kind, and the others row by row; ``python`` counts every view row by row (the
    reference the set-based path is tested against, tests/evaluation/test_sql_path.py).
    """
    if path not in PATHS:
        raise ValueError(f"unknown path {path!r}; one of {', '.join(PATHS)}")
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    last = min(last, today)
    summary = Summary()
    if first > last:
        return summary
    areas = AreaTree()
    todo = computed_indicators(standards=standards, skipped=summary.skipped)
    summary.indicators = [c.indicator.key for c in todo]
    stored = {
        (p.indicator_id, p.period_kind, p.period_start): p.digest
        for p in IndicatorPeriod.objects.filter(indicator__in=[c.indicator for c in todo])
    }
    wanted = set(kinds) if kinds is not None else None
    work = [
        (c, p)
        for c in todo
        for kind in c.definition.periods
        if wanted is None or kind in wanted
        for p in periods_between(kind, first, last)
    ]
    # The set-based path: every view with a query, counted once for all its indicators and periods.
    counted: dict[tuple[int, Period], Counts] = {}
    in_sql: set[str] = set()
    if path == "sql" and connection.vendor in DIALECTS:
        by_view: dict[str, dict[int, tuple[Computed, list[Period]]]] = defaultdict(dict)
        for c, p in work:
            if c.definition.view.name in QUERIES:
                by_view[c.definition.view.name].setdefault(c.indicator.pk, (c, []))[1].append(p)
        for view, per_indicator in by_view.items():
            counted.update(count_by_sql(view, list(per_indicator.values()), today))
            in_sql.add(view)
    rows_cache: dict[tuple[str, Period | None], tuple[list[Row], str]] = {}
    bound_cache: dict[Any, list[str | None]] = {}
    batch: list[_Computed] = []
    held = 0
    tallies: dict[tuple[int, str], Counts] = {}
    for done, (computed, period) in enumerate(work, start=1):
        view = computed.definition.view.name
        bound = (_bound_sql(computed, period, bound_cache), computed.definition.levels)
        if view in in_sql:
            by_code = counted.get((computed.indicator.pk, period), {})
            digest = _digest("counts", _sorted_counts(by_code), *bound)
        else:
            key = (view, None if view in UNDATED else period)
            if key not in rows_cache:
                rows = PRODUCERS[view](period.start, period.end, today)
                rows_cache[key] = (rows, _digest(rows))
            rows, rows_digest = rows_cache[key]
            by_code = {}
            digest = _digest(rows_digest, *bound)
        if stored.get((computed.indicator.pk, period.kind, period.start)) == digest:
            summary.periods_unchanged += 1
        else:
            if view not in in_sql:
                # An undated view's rows are the same for every period: so are its counts for the same binding.
                memo = (computed.indicator.pk, digest)
                if view in UNDATED and memo in tallies:
                    by_code = tallies[memo]
                else:
                    by_code = tally(rows, computed, period)
                    if view in UNDATED:
                        tallies[memo] = by_code
            counts, lost = roll_up(by_code, computed.definition.levels, areas)
            batch.append(_Computed(computed, period, counts, digest))
            held += len(counts)
            summary.periods_computed += 1
            summary.rows_without_area += lost
        if held >= FLUSH or done == len(work):
            written, deleted = _store(batch, now)
            summary.values_written += written
            summary.values_deleted += deleted
            batch, held = [], 0
        if progress is not None:
            progress(done, len(work))
    return summary
