"""Screening the registry in place on PostgreSQL: the facts never leave the database (ADR 18).

The ordinary registry run (``services.screening_registry_run``) exports every person's facts to Parquet and
screens the file with DuckDB. A deployment where personal data must not leave the database screens here
instead, with the PostgreSQL dialect of the same query (``engines.screening_sql``):

- the facts come from ``eligibility_person_facts``, a view over ``residents_person`` created by migration
  0004: the Person's primary key as ``person_id`` and the base facts, nothing else (no name, identity
  number or contact detail; those stay encrypted and no rule reads them). Derived facts — age on the
  screening day, the household aggregates — are computed in the query from their one definition
  (``derived.py``), the household facts once per household, all in one statement (one snapshot);
- the answers (one wide row per person, as the Parquet files of an ordinary run hold them) go into a table
  of the run's own, ``eligibility_answers_<stamp>``, named by the run's ``output`` as
  ``postgresql:<table>``; its comment holds the items' rule versions (the files' ``manifest.json``);
- what people act on is written from it inside the database, exactly as
  ``services.screening_run_complete`` writes it from files, and shown once the run's closing transaction
  marks it completed: the counts by township and item, the candidates (eligible to an item worth a call,
  not served), and the changes since the previous registry run (an in-place one by its table, an ordinary
  one by loading its files).

The answers table is dropped by retention (``services.screening_runs_purge``) or when the run fails, as an
ordinary run's files are removed. The daily incremental run falls back to a full in-place run
(``incremental.screening_registry_incremental``): it needs the previous export's households, which an
in-place run never writes out. A test runs both paths on the same registry and day and compares what they
store and every (person, item) answer (``tests/eligibility/test_inplace.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from fuwu.eligibility import services, store
from fuwu.eligibility.engines import column, rule_version, screening_sql
from fuwu.eligibility.facts import BASE_FACTS
from fuwu.eligibility.models import Candidate, EntitlementChange, ScreeningRun
from fuwu.eligibility.registry import REGISTRY
from fuwu.eligibility.ruleset import ItemRule
from fuwu.eligibility.screening import Plan, ScreeningError

VIEW = "eligibility_person_facts"
OUTPUT_PREFIX = "postgresql:"  # ScreeningRun.output of an in-place run: postgresql:<answers table>
TABLE_PREFIX = "eligibility_answers_"
PREVIOUS = "fuwu_inplace_previous"  # temporary: an ordinary previous run's files, loaded for the comparison


class InPlaceUnavailable(ScreeningError):
    """Screening in place was asked for (or is required) and cannot be done here; the message says why."""


def required() -> bool:
    """Whether this deployment screens the registry only in place (``FUWU_SCREEN_IN_PLACE``)."""
    return bool(getattr(settings, "FUWU_SCREEN_IN_PLACE", False))


def wanted(in_place: bool | None) -> bool:
    """Whether a registry run screens in place: ``in_place`` if given, else the setting. A deployment that
    requires it refuses a run asked to export."""
    if in_place is False and required():
        raise InPlaceUnavailable(
            "this deployment screens the registry in place only (FUWU_SCREEN_IN_PLACE is on): "
            "personal data must not be exported to Parquet; drop the option that asks for the export"
        )
    return required() if in_place is None else in_place


def check_available() -> None:
    """Refuse with the reason and the fix unless the database is PostgreSQL with the facts view up to date."""
    if connection.vendor != "postgresql":
        raise InPlaceUnavailable(
            f"screening in place needs PostgreSQL, and this database is {connection.vendor}: set DATABASE_URL "
            "to a PostgreSQL database, or screen without --in-place (FUWU_SCREEN_IN_PLACE off), which exports "
            "the registry's facts to Parquet for DuckDB"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s",
            [VIEW],
        )
        have = {row[0] for row in cursor.fetchall()}
    if not have:
        raise InPlaceUnavailable(f"the facts view {VIEW} is missing: run `fuwu migrate` (eligibility 0004)")
    want = {"person_id", *(f.name for f in BASE_FACTS)}
    if have != want:
        missing, extra = sorted(want - have), sorted(have - want)
        raise InPlaceUnavailable(
            f"the facts view {VIEW} does not match the facts vocabulary (missing: {', '.join(missing) or 'none'}; "
            f"not facts: {', '.join(extra) or 'none'}): a change to facts.py needs a migration that replaces "
            "the view (docs/decisions/0018)"
        )


def answers_table(run: ScreeningRun) -> str | None:
    """The table holding an in-place run's answers, or None for a run whose answers are in Parquet files."""
    if not run.output.startswith(OUTPUT_PREFIX):
        return None
    return run.output.removeprefix(OUTPUT_PREFIX)


def _quoted(table: str) -> str:
    if not table.startswith(TABLE_PREFIX) or not table[len(TABLE_PREFIX) :].replace("_", "").isalnum():
        raise ValueError(f"not an answers table: {table!r}")  # the name comes from a row; never trust it in SQL
    return connection.ops.quote_name(table)


def has_answers(run: ScreeningRun) -> bool:
    """Whether an in-place run's answers table is still there (retention and failures drop it)."""
    table = answers_table(run)
    if table is None or connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [_quoted(table)])
        row = cursor.fetchone()
    return bool(row and row[0])


def readable(run: ScreeningRun) -> bool:
    """Whether a run's answers can be compared in place: its table, or its Parquet files (loaded for it)."""
    return has_answers(run) if answers_table(run) else store.has_results(run.output)


def items_of(table: str) -> dict[str, dict[str, Any]]:
    """The items an answers table holds, with their rule versions (its comment; ``manifest.json``'s items)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", [_quoted(table)])
        row = cursor.fetchone()
    if not row or not row[0]:
        raise store.MissingResults(f"no screening answers in table {table}")
    items: dict[str, dict[str, Any]] = json.loads(row[0])["items"]
    return items


def drop_answers(run: ScreeningRun) -> None:
    """Drop an in-place run's answers table, if it has one (retention, or a run that did not finish)."""
    table = answers_table(run)
    if table is not None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_quoted(table)}")


# --- Screening ----------------------------------------------------------------------------------------------------


def screen(table: str, *, rules: Sequence[ItemRule], as_of: dt.date) -> int:
    """Screen every registered person into a new answers table, in one transaction; the number of persons.

    A process killed on the way leaves no table (the transaction rolls back).
    """
    quoted = _quoted(table)
    manifest = {
        "as_of": as_of.isoformat(),
        "items": {r.item: {"rule_version": rule_version(r), "period": r.period, "unit": r.unit} for r in rules},
    }
    # One statement, so one snapshot of the registry: the household facts (aggregated once, in a subquery
    # the persons join to) and each person's own facts are read at the same moment.
    sql = screening_sql(rules, source=VIEW, as_of=as_of, dialect="postgres")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {quoted} AS {sql}")
        persons = int(cursor.rowcount)
        cursor.execute(f"ALTER TABLE {quoted} ADD PRIMARY KEY (person_id)")
        cursor.execute(f"COMMENT ON TABLE {quoted} IS %s", [json.dumps(manifest, ensure_ascii=False)])
        # The row count is what the comparisons' plans need; statistics on every item's column cost seconds.
        cursor.execute(f"ANALYZE {quoted} (person_id)")
    return persons


def _columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def _level(name: str, columns: set[str], prefix: str = "") -> str:
    return f"{prefix}{column(name, 'postgres')}" if name in columns else "CAST(NULL AS numeric(18, 2))"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def count(table: str) -> store.Counts:
    """One pass over the answers table, grouped by township: what ``store.count`` gives for files."""
    items = items_of(table)
    names = _columns(table)
    aggregates = []
    for item in items:
        status = column(item, "postgres")
        aggregates += [
            f"count(*) FILTER (WHERE {status})",
            f"count(*) FILTER (WHERE {status} IS NULL)",
            f"CAST(coalesce(sum({_level(f'{item}__amount', names)}), 0) AS numeric(38, 2))",
        ]
    any_answer = " OR ".join(f"{column(item, 'postgres')} IS NOT FALSE" for item in items) or "FALSE"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT substr(coalesce(hukou_area, ''), 1, {store.TOWNSHIP_DIGITS}) AS township, "  # noqa: S608
            f"count(*) FILTER (WHERE {any_answer}), {', '.join(aggregates) or '0'} "
            f"FROM {_quoted(table)} GROUP BY 1 ORDER BY 1"
        )
        rows = cursor.fetchall()
    return store.counts_of(rows, items)


def _unpivot(items: dict[str, dict[str, Any]], names: set[str], *, prefix: str) -> str:
    """A LATERAL VALUES list turning a wide row into one row per item: (item, version, ok, amount, units)."""
    rows = [
        f"({_literal(item)}, {_literal(str(info['rule_version']))}, {prefix}{column(item, 'postgres')}, "
        f"{_level(f'{item}__amount', names, prefix)}, {_level(f'{item}__units', names, prefix)})"
        for item, info in items.items()
    ]
    return f"(VALUES {', '.join(rows)}) AS v(item, rule_version, ok, amount, units)"


def _insert_candidates(run: ScreeningRun, table: str, outreach: Sequence[str]) -> int:
    """Eligible to an item worth a call and not receiving it, straight from the answers into ``Candidate``."""
    items = {item: info for item, info in items_of(table).items() if item in set(outreach)}
    if not items:
        return 0
    from fuwu.applications.grants import receiving_sql  # a current grant, else a receipt

    candidates = connection.ops.quote_name(Candidate._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in store.CANDIDATE_COLUMNS)
    receiving, params = receiving_sql("a.person_id", "v.item", today=timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {candidates} (run_id, {names}) "  # noqa: S608 - our names, quoted literals
            "SELECT %s, a.person_id, coalesce(a.hukou_area, ''), v.item, v.rule_version, v.amount, v.units "
            f"FROM {_quoted(table)} a CROSS JOIN LATERAL {_unpivot(items, _columns(table), prefix='a.')} "
            f"WHERE v.ok AND NOT {receiving}",
            [run.pk, *params],
        )
        return int(max(cursor.rowcount, 0))


def _load_files(out: Path) -> str:
    """An ordinary run's wide Parquet answers, copied into a temporary table for the comparison (into the
    database, never out of it)."""
    con = duckdb.connect()
    result = con.execute(f"SELECT * FROM {store.source(out)}")  # noqa: S608 - a quoted path
    names = [d[0] for d in result.description]
    types = {"person_id": "bigint", "hukou_area": "text"}
    manifest = store.manifest_items(out)
    columns = [(name, types.get(name) or ("boolean" if name in manifest else "numeric(18, 2)")) for name in names]
    quoted = ", ".join(column(n, "postgres") for n, _ in columns)
    definitions = ", ".join(f"{column(n, 'postgres')} {t}" for n, t in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PREVIOUS}")
        cursor.execute(f"CREATE TEMPORARY TABLE {PREVIOUS} ({definitions})")
        with cursor.cursor.copy(f"COPY {PREVIOUS} ({quoted}) FROM STDIN") as copy:
            while batch := result.fetchmany(store.FETCH):
                for row in batch:
                    copy.write_row(row)
        cursor.execute(f"ALTER TABLE {PREVIOUS} ADD PRIMARY KEY (person_id)")
        cursor.execute(f"ANALYZE {PREVIOUS}")
    return PREVIOUS


def _insert_changes(run: ScreeningRun, table: str, previous: ScreeningRun) -> int:
    """Newly entitled and no longer entitled since ``previous``, as ``store.changes`` finds them in files."""
    before_table = answers_table(previous)
    if before_table is None:
        before = _load_files(Path(previous.output))
        before_items = store.manifest_items(Path(previous.output))
        before_sql = before
    else:
        before, before_items = before_table, items_of(before_table)
        before_sql = _quoted(before_table)
    now_items, now_names, before_names = items_of(table), _columns(table), _columns(before)
    rows, nows, wases = [], [], []
    for item in sorted(set(now_items) | set(before_items)):
        status = column(item, "postgres")
        is_now = f"coalesce(n.{status}, FALSE)" if item in now_items else "FALSE"
        was = f"coalesce(b.{status}, FALSE)" if item in before_items else "FALSE"
        amount_now = _level(f"{item}__amount", now_names, "n.") if item in now_items else "NULL"
        amount_before = _level(f"{item}__amount", before_names, "b.") if item in before_items else "NULL"
        nows.append(is_now)
        wases.append(was)
        rows.append(
            f"({_literal(item)}, {is_now}, {was}, "
            f"CAST(CASE WHEN {is_now} THEN {amount_now} ELSE {amount_before} END AS numeric(18, 2)))"
        )
    if not rows:
        return 0
    changes = connection.ops.quote_name(EntitlementChange._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in store.CHANGE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {changes} (run_id, {names}) "  # noqa: S608 - our names, quoted literals
            "SELECT %s, coalesce(n.person_id, b.person_id), coalesce(n.hukou_area, b.hukou_area, ''), v.item, "
            "CASE WHEN v.now THEN 'gained' ELSE 'lost' END, v.amount "
            f"FROM {_quoted(table)} n FULL JOIN {before_sql} b ON b.person_id = n.person_id "
            # Persons whose answers are all as before are left out before their answers are unpivoted.
            f"CROSS JOIN LATERAL (VALUES {', '.join(rows)}) AS v(item, now, was, amount) "
            f"WHERE ROW({', '.join(nows)}) IS DISTINCT FROM ROW({', '.join(wases)}) AND v.now <> v.was",
            [run.pk],
        )
        written = int(max(cursor.rowcount, 0))
        if before_table is None:
            cursor.execute(f"DROP TABLE IF EXISTS {PREVIOUS}")
    return written


def complete(
    *, run: ScreeningRun, table: str, actor: Any, seconds: float, progress: services.ProgressFn
) -> ScreeningRun:
    """Store what people act on from the answers table and close the run.

    The same rows as ``services.screening_run_complete`` stores from files, written by the database from
    the table: nothing is read out of it but the counts by township and item. The candidates and changes go
    in one transaction (``INSERT … SELECT``: PostgreSQL's row locks let every other writer on meanwhile);
    as from files, the run is opened and closed in transactions of their own (``services.run_open``,
    ``run_close``), and shown only once closed.
    """
    progress(0, None, gettext_noop("汇总筛查结果"))
    counts = count(table)
    previous = services.previous_run(run, readable=readable)
    outreach = services._outreach_items()
    progress(0, None, gettext_noop("载入筛查结果"))
    storing, stored = services.run_open(run, counts=counts)
    with storing.transaction():
        stored += _insert_candidates(storing.run, table, outreach)
        changes = _insert_changes(storing.run, table, previous) if previous is not None else 0
    stored += changes
    # as a full run from files records it: everyone screened
    run = services.run_close(
        storing,
        counts=counts,
        stored=stored,
        changes=changes,
        previous=previous,
        seconds=seconds,
        screened=counts.persons,
        actor=actor,
        in_place=True,
    )
    progress(1, 1, gettext_noop("载入筛查结果"))
    return run


def screening_registry_in_place(
    *,
    actor: Any,
    as_of: dt.date,
    rules: Sequence[ItemRule],
    progress: services.ProgressFn | None = None,
    on_start: Callable[[ScreeningRun], None] | None = None,
) -> ScreeningRun:
    """Screen every registered person in the database and store what people act on (``services`` checks who
    may and which rules, then calls this for ``screening_registry_run(in_place=True)``).

    Fails like the ordinary run: the run is marked failed and its answers table dropped before the error goes
    on; a killed process leaves a running run for its job to abandon (``services.screening_registry_abandon``).
    """
    progress = progress or services._no_progress
    check_available()
    stamp = timezone.localtime().strftime("%Y%m%d_%H%M%S_%f")
    table = f"{TABLE_PREFIX}{stamp}"
    plan = Plan(
        engine="postgres",
        as_of=as_of,
        population=Path(VIEW),
        out=Path(OUTPUT_PREFIX + table),
        partitions=1,
        rules=rules,
    )
    run = None
    try:
        facts_at = timezone.now()  # the view is read in one statement: its snapshot is the facts at this time
        run = services.screening_run_start(plan=plan, actor=actor, population=REGISTRY)
        ScreeningRun.objects.filter(pk=run.pk).update(facts_at=facts_at, output=OUTPUT_PREFIX + table)
        run.refresh_from_db()
        if on_start is not None:
            on_start(run)
        progress(0, 1, gettext_noop("逐项判断是否符合条件"))
        started = time.perf_counter()
        screen(table, rules=rules, as_of=as_of)
        seconds = time.perf_counter() - started
        progress(1, 1, gettext_noop("逐项判断是否符合条件"))
        return complete(run=run, table=table, actor=actor, seconds=seconds, progress=progress)
    except BaseException:
        if run is not None:
            try:
                services.screening_registry_abandon(run_id=run.pk, actor=actor)
            except Exception:  # the original error matters more; a job's retry abandons the run again
                services.logger.exception("could not close in-place registry run %s after a failure", run.pk)
        raise


def eligible(run: ScreeningRun, *, items: Sequence[str] | set[str]) -> list[store.Answer]:
    """Every eligible answer of a registry run for ``items``, by person and item, wherever its answers are."""
    table = answers_table(run)
    if table is None:
        return store.eligible(Path(run.output), items=items)
    if not has_answers(run):
        raise store.MissingResults(f"no screening answers in table {table}")
    chosen = {item: info for item, info in items_of(table).items() if item in set(items)}
    if not chosen:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.person_id, coalesce(a.hukou_area, ''), v.item, v.rule_version, v.amount, v.units "  # noqa: S608
            f"FROM {_quoted(table)} a CROSS JOIN LATERAL {_unpivot(chosen, _columns(table), prefix='a.')} "
            "WHERE v.ok ORDER BY a.person_id, v.item"
        )
        return [store.Answer(*row) for row in cursor.fetchall()]


def long_answers(run: ScreeningRun) -> list[tuple[int, str, str, str, Any, Any]]:
    """Every eligible or unknown (person, item) answer of an in-place run, as ``screening.read_results`` gives
    a file run's: (person_id, item, rule_version, status, amount, units), sorted. For comparisons and checks."""
    table = answers_table(run)
    if table is None or not has_answers(run):
        raise store.MissingResults(f"run {run.pk} has no answers table")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.person_id, v.item, v.rule_version, CASE WHEN v.ok THEN 'eligible' ELSE 'unknown' END, "  # noqa: S608
            f"v.amount, v.units FROM {_quoted(table)} a "
            f"CROSS JOIN LATERAL {_unpivot(items_of(table), _columns(table), prefix='a.')} "
            "WHERE v.ok IS NOT FALSE ORDER BY a.person_id, v.item"
        )
        return list(cursor.fetchall())


__all__ = ["InPlaceUnavailable", "check_available", "eligible", "required", "screening_registry_in_place", "wanted"]
