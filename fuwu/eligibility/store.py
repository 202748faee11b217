"""Where a run's answers live: all of them in the run's Parquet files, what people act on in the database.

A screening answers every (person, item) question: about 30 eligible or unknown answers per person, 200
million at city scale. They stay where the engine wrote them, one wide row per person
(``ScreeningRun.output``, ADR 5), and are read here with DuckDB. The database gets, in bulk, in short
transactions (``Pace``) that the run's closing transaction makes visible
(``fuwu.eligibility.services.screening_run_complete``):

- ``ScreeningCount``: the answers counted by township and item (the pages' counts);
- ``Candidate``: entitled to an item worth a call (``proactive.outreach``) and not yet receiving it —
  the proactive list;
- ``EntitlementChange``: newly entitled or no longer entitled since the previous run of the same
  population.

ADR 17 explains the split. Every function here reads files; none writes the database, except
``bulk_insert``, which writes the rows it is given in the caller's transaction, and ``Pace``, which gives
one transaction after another room between them.
"""

from __future__ import annotations

import io
import itertools
import json
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped]
from django.conf import settings
from django.db import connection, models, transaction

from fuwu.common.batches import SQLITE_PAUSE, ahead
from fuwu.eligibility import layers
from fuwu.eligibility.engines import column
from fuwu.eligibility.screening import MANIFEST, parquet_source

TOWNSHIP_DIGITS = 9
FETCH = 50_000  # rows per batch read from DuckDB
# Rows per write transaction while a run is stored, to begin with: on PostgreSQL a COPY of that many rows. On
# SQLite, whose one write lock every officer's write waits for, the rows of each next transaction are fitted
# to hold it about TRANSACTION_SECONDS at the speed of the last one (within a quarter and four times this), so
# a loaded machine writes fewer rows a transaction rather than holding the lock longer (docs/benchmarks.md).
TRANSACTION_ROWS = 20_000
TRANSACTION_SECONDS = 0.25


class MissingResults(Exception):
    """The run's Parquet files are gone (retention removed them, or they were never written here)."""


def _quote(path: Path | str) -> str:
    return str(path).replace("'", "''")


def has_results(out: Path | str) -> bool:
    out = Path(out)
    return (out / MANIFEST).is_file() and (any(out.glob("part-*.parquet")) or layers.layers_of(out) is not None)


def manifest_items(out: Path) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["items"]
    return items


def source(out: Path | str) -> str:
    """A DuckDB table expression over every finished partition of a run."""
    out = Path(out)
    if not has_results(out):
        raise MissingResults(f"no screening results in {out}")
    return layers.source(out) or f"read_parquet('{_quote(out)}/part-*.parquet', union_by_name = true)"


def _columns(con: duckdb.DuckDBPyConnection, out: Path) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source(out)}").fetchall()}


def _level(name: str, columns: set[str]) -> str:
    return column(name, "duckdb") if name in columns else "CAST(NULL AS DECIMAL(18, 2))"


@dataclass(frozen=True)
class Counts:
    """A run's answers counted: per item for the whole run, per (township, item), and in all."""

    items: dict[str, dict[str, Any]]  # item → {"eligible", "unknown", "amount" (str)}
    townships: list[tuple[str, str, int, int, Decimal]]  # (township, item, eligible, unknown, amount)
    persons: int  # persons with at least one eligible or unknown answer
    rows: int  # eligible or unknown (person, item) answers: the long form's length


def members_keep(export: Path, out: Path) -> None:
    """The registry export's (person_id, household_id) alone, for the next daily run; then the export goes.

    The export holds every person's facts in clear; who lives with whom is all a later incremental run
    needs of it (households are screened together). ``export`` is a Parquet file or a folder of them
    (an export partitioned by county).
    """
    tmp = out.with_suffix(".tmp")
    duckdb.connect().execute(
        f"COPY (SELECT person_id, household_id FROM {parquet_source(export)} ORDER BY person_id) "
        f"TO '{_quote(tmp)}' (FORMAT PARQUET, COMPRESSION ZSTD)"
    )
    tmp.replace(out)
    if export.is_dir():
        shutil.rmtree(export)
    else:
        export.unlink()


def count(out: Path) -> Counts:
    """One pass over the run's files, grouped by township."""
    items = manifest_items(out)
    con = duckdb.connect()
    names = _columns(con, out)
    aggregates = []
    for item in items:
        status = column(item, "duckdb")
        aggregates += [
            f"coalesce(count_if({status}), 0)",
            f"coalesce(count_if({status} IS NULL), 0)",
            f"coalesce(sum({_level(f'{item}__amount', names)}), 0)",
        ]
    any_answer = " OR ".join(f"{column(item, 'duckdb')} IS NOT FALSE" for item in items) or "FALSE"
    rows = con.execute(
        f"SELECT substr(coalesce(hukou_area, ''), 1, {TOWNSHIP_DIGITS}) AS township, count_if({any_answer}), "
        f"{', '.join(aggregates) or '0'} FROM {source(out)} GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return counts_of(rows, items)


def counts_of(rows: Iterable[Sequence[Any]], items: Iterable[str]) -> Counts:
    """Add up the rows of a count query by township — (township, persons with an answer, then eligible,
    unknown and amount per item in ``items``' order) — into the run's counts."""
    items = list(items)
    totals: dict[str, dict[str, Any]] = {item: {"eligible": 0, "unknown": 0, "amount": Decimal(0)} for item in items}
    townships = []
    persons = answers = 0
    for row in rows:
        township, with_answer, values = row[0], row[1], row[2:]
        persons += int(with_answer)
        for k, item in enumerate(items):
            eligible, unknown, amount = int(values[3 * k]), int(values[3 * k + 1]), Decimal(values[3 * k + 2])
            if eligible or unknown:
                townships.append((township, item, eligible, unknown, amount))
                answers += eligible + unknown
            totals[item]["eligible"] += eligible
            totals[item]["unknown"] += unknown
            totals[item]["amount"] += amount
    shown = {
        item: {**c, "amount": str(c["amount"])} for item, c in sorted(totals.items()) if c["eligible"] or c["unknown"]
    }
    return Counts(shown, townships, persons, answers)


def _eligible_long(out: Path, items: Iterable[str], names: set[str], versions: dict[str, dict[str, Any]]) -> str:
    """The eligible answers for ``items``, one row per (person, item), as SQL."""
    branches = []
    for item in items:
        if item not in versions:
            continue
        status = column(item, "duckdb")
        version = str(versions[item]["rule_version"]).replace("'", "''")
        branches.append(
            f"SELECT person_id, coalesce(hukou_area, '') AS hukou_area, '{item}' AS item, "
            f"'{version}' AS rule_version, {_level(f'{item}__amount', names)} AS amount, "
            f"{_level(f'{item}__units', names)} AS units FROM {source(out)} WHERE {status}"
        )
    return " UNION ALL ".join(branches)


def _one_scan(out: Path, items: Sequence[str], names: set[str], versions: dict[str, dict[str, Any]]) -> str:
    """The eligible answers for ``items``, one row per (person, item), as SQL reading the files once.

    Each person's row becomes a list of (item number, status, amount, units), one per item; the
    eligible ones are unnested into rows and the number joined to the item and its rule version. One
    pass over the run's files for every item, where a UNION ALL of one SELECT per item reads them once
    per item.
    """
    chosen = [item for item in items if item in versions]
    if not chosen:
        return ""
    entries, labels = [], []
    for k, item in enumerate(chosen):
        entries.append(
            f"{{'k': {k}, 'ok': {column(item, 'duckdb')}, "
            f"'amount': CAST({_level(f'{item}__amount', names)} AS DECIMAL(18, 2)), "
            f"'units': CAST({_level(f'{item}__units', names)} AS DECIMAL(18, 2))}}"
        )
        item_sql, version = item.replace("'", "''"), str(versions[item]["rule_version"]).replace("'", "''")
        labels.append(f"({k}, '{item_sql}', '{version}')")
    return (
        "SELECT u.person_id, u.hukou_area, l.item, l.rule_version, u.e.amount AS amount, u.e.units AS units FROM "
        "(SELECT person_id, coalesce(hukou_area, '') AS hukou_area, "
        f"unnest(list_filter([{', '.join(entries)}], lambda x: x.ok)) AS e FROM {source(out)}) AS u "
        f"JOIN (VALUES {', '.join(labels)}) AS l(k, item, rule_version) ON l.k = u.e.k"
    )


CANDIDATE_COLUMNS = ("person_id", "hukou_area", "item", "rule_version", "amount", "units")


def candidates(
    out: Path, *, items: Iterable[str], served: pa.Table, persons: pa.Table | None = None
) -> Iterator[pa.RecordBatch]:
    """Arrow batches of (person_id, hukou_area, item, rule_version, amount, units): eligible, not served.

    ``served`` has columns person_id (int64) and item (string): who already receives what. ``persons``
    (a person_id column): only them. One DuckDB query over the run's files for every item; the rows
    stay in Arrow on their way to ``bulk_insert``.
    """
    con = duckdb.connect()
    sql = _one_scan(out, sorted(set(items)), _columns(con, out), manifest_items(out))
    if not sql:
        return
    con.register("served", served)
    only = ""
    if persons is not None:
        con.register("only_persons", persons)
        only = " AND person_id IN (SELECT person_id FROM only_persons)"
    reader = con.sql(
        f"SELECT * FROM ({sql}) AS e WHERE NOT EXISTS "
        f"(SELECT 1 FROM served s WHERE s.person_id = e.person_id AND s.item = e.item){only} ORDER BY person_id, item"
    ).to_arrow_reader(FETCH)
    for batch in reader:
        if batch.num_rows:
            yield batch


CHANGE_COLUMNS = ("person_id", "hukou_area", "item", "change", "amount")


def changes(out: Path, previous: Path, *, persons: pa.Table | None = None) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of (person_id, hukou_area, item, "gained" | "lost", amount) between two runs' files.

    Eligible is what counts: an answer that went from eligible to unknown is "lost" (the list no
    longer shows it), from unknown to eligible "gained". ``persons`` (a person_id column) limits the
    comparison to them: an incremental run changed nobody else.
    """
    con = duckdb.connect()
    now_items, before_items = manifest_items(out), manifest_items(previous)
    now_names, before_names = _columns(con, out), _columns(con, previous)
    limit = ""
    if persons is not None:
        con.register("changed_persons", persons)
        limit = " WHERE person_id IN (SELECT person_id FROM changed_persons)"

    def side(prefix: str, names: set[str]) -> str:
        return ", ".join(
            f"{column(c, 'duckdb')} AS {column(prefix + c, 'duckdb')}" for c in sorted(names - {"person_id"})
        )

    # One row per person of either run, each side's columns prefixed n_ (this run) and b_ (before).
    con.execute(
        "CREATE TEMP TABLE pairs AS SELECT * FROM "
        f"(SELECT person_id, {side('n_', now_names)} FROM {source(out)}{limit}) "
        f"FULL JOIN (SELECT person_id, {side('b_', before_names)} FROM {source(previous)}{limit}) USING (person_id)"
    )

    def col(prefix: str, name: str, names: set[str]) -> str | None:
        return column(prefix + name, "duckdb") if name in names else None

    branches = []
    for item in sorted(set(now_items) | set(before_items)):
        is_now = f"coalesce({col('n_', item, now_names)}, FALSE)" if item in now_items else "FALSE"
        was = f"coalesce({col('b_', item, before_names)}, FALSE)" if item in before_items else "FALSE"
        amount_now = col("n_", f"{item}__amount", now_names) or "NULL"
        amount_before = col("b_", f"{item}__amount", before_names) or "NULL"
        branches.append(
            f"SELECT person_id, coalesce(n_hukou_area, b_hukou_area, '') AS hukou_area, '{item}' AS item, "
            f"CASE WHEN {is_now} THEN 'gained' ELSE 'lost' END AS change, "
            f"CAST(CASE WHEN {is_now} THEN {amount_now} ELSE {amount_before} END AS DECIMAL(18, 2)) AS amount "
            f"FROM pairs WHERE {is_now} <> {was}"
        )
    if not branches:
        return
    result = con.execute(f"SELECT * FROM ({' UNION ALL '.join(branches)}) ORDER BY person_id, item")
    while batch := result.fetchmany(FETCH):
        yield batch


@dataclass(frozen=True)
class Answer:
    person_id: int
    hukou_area: str
    item: str
    rule_version: str
    amount: Decimal | None
    units: Decimal | None


def eligible(out: Path, *, items: Iterable[str]) -> list[Answer]:
    """Every eligible answer of the run for ``items``, sorted by person and item (for small item sets)."""
    con = duckdb.connect()
    sql = _eligible_long(out, sorted(set(items)), _columns(con, out), manifest_items(out))
    if not sql:
        return []
    return [Answer(*row) for row in con.execute(f"{sql} ORDER BY person_id, item").fetchall()]


# --- Writing the rows people act on ------------------------------------------------------------------------------

COPY_BATCH = 5_000  # rows per executemany on SQLite
AHEAD = 2  # Arrow batches made CSV ahead of the one PostgreSQL is being sent (``bulk_insert``)


class Pace:
    """Write transactions one after another, each short, with room between them on SQLite.

    SQLite has one write lock and no queue for it: a waiting writer sleeps and retries (up to 100 ms between
    tries), so transactions committed back to back would starve an officer's write although none is long.
    On SQLite the next transaction therefore begins no sooner than ``SQLITE_PAUSE`` (longer than a waiter's
    sleep) after the last commit; the time spent preparing the next rows counts toward it. ``longest`` is
    the longest transaction so far, from its start to its commit (on SQLite, how long it held the lock).
    """

    def __init__(self) -> None:
        self.committed: float | None = None
        self.longest = 0.0
        self.last = 0.0
        self.transactions = 0
        self.batch_rows = TRANSACTION_ROWS

    def fit(self, rows: int) -> None:
        """After a transaction that wrote ``rows`` rows: on SQLite, the rows for the next one to last about
        ``TRANSACTION_SECONDS`` at the same speed."""
        if connection.vendor == "sqlite" and rows >= self.batch_rows // 2:
            wanted = int(rows / max(self.last, 1e-3) * TRANSACTION_SECONDS)
            self.batch_rows = max(TRANSACTION_ROWS // 4, min(TRANSACTION_ROWS * 4, wanted))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.committed is not None and connection.vendor == "sqlite" and not connection.in_atomic_block:
            wait = self.committed + SQLITE_PAUSE - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        started = time.perf_counter()
        with transaction.atomic():
            yield
        self.committed = time.perf_counter()
        self.last = self.committed - started
        self.longest = max(self.longest, self.last)
        self.transactions += 1


def parts(batches: Iterable[Sequence[tuple[Any, ...]] | pa.RecordBatch], pace: Pace) -> Iterator[Any]:
    """``batches`` cut into parts of at most ``pace.batch_rows`` rows (read at each cut), ready for ``bulk_insert``:
    on SQLite an Arrow batch is turned into tuples here, before the transaction that writes it (PostgreSQL
    copies Arrow as CSV)."""
    sqlite = connection.vendor == "sqlite"
    for batch in batches:
        start = 0
        while start < len(batch):
            rows = pace.batch_rows
            part = batch.slice(start, rows) if isinstance(batch, pa.RecordBatch) else batch[start : start + rows]
            start += rows
            yield _tuples(part) if sqlite and isinstance(part, pa.RecordBatch) else part


def bulk_insert(
    model: type[models.Model],
    columns: Sequence[str],
    batches: Iterable[Sequence[tuple[Any, ...]] | pa.RecordBatch],
    *,
    into: str | None = None,
    freeze: bool = False,
    **constants: Any,
) -> int:
    """Insert rows in ``columns`` order, plus the same ``constants`` on each, in the caller's transaction.

    ``into``: the (quoted) table to write, if not the model's own (a run's partition: ``partition_create``).
    ``freeze``: PostgreSQL's ``COPY … FREEZE``, rows written already frozen and their pages all-visible (no
    hint bits for the index builds to set, nothing for vacuum to do later), which PostgreSQL allows only into a
    table created or emptied in the same transaction (``partition_empty``).

    A batch is a list of tuples or an Arrow record batch (``candidates``). PostgreSQL: one ``COPY … FROM
    STDIN`` (psycopg's ``cursor.copy``), an Arrow batch written to it as CSV by Arrow rather than row by
    row. SQLite: one prepared INSERT, ``executemany`` a batch at a time, an Arrow batch turned into
    tuples column by column. Constraints still hold: the database checks them. Returns the number of rows.
    """
    table = into or connection.ops.quote_name(model._meta.db_table)
    fields = {f.attname: f.column for f in model._meta.concrete_fields}
    names = [fields[c] for c in (*columns, *constants)]
    fixed = tuple(constants.values())
    quoted = ", ".join(connection.ops.quote_name(n) for n in names)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            pending = iter(batches)
            first = next(pending, None)
            if first is None:
                return 0
            arrow = isinstance(first, pa.RecordBatch)
            options = ", ".join([*(["FORMAT csv"] if arrow else []), *(["FREEZE"] if freeze else [])])
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN{f' ({options})' if options else ''}") as copy:
                # Arrow batches are read (the query goes on in DuckDB's threads) and made CSV in a thread while the
                # one before is copied (the driver lets go of the interpreter while it sends).
                prepared = ((len(b), _csv(b, fixed) if isinstance(b, pa.RecordBatch) else b) for b in pending)
                head = [(len(first), _csv(first, fixed) if arrow else first)]
                with closing(ahead(prepared, depth=AHEAD) if arrow else prepared) as rest:
                    for length, data in itertools.chain(head, rest):
                        if isinstance(data, bytes):
                            copy.write(data)
                        else:
                            for row in data:
                                copy.write_row((*row, *fixed))
                        written += length
            return written
        sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(names))})"
        for batch in batches:
            rows = _tuples(batch) if isinstance(batch, pa.RecordBatch) else batch
            for start in range(0, len(rows), COPY_BATCH):
                part = rows[start : start + COPY_BATCH]
                cursor.executemany(sql, [(*row, *fixed) for row in part] if fixed else part)
                written += len(part)
    return written


def _tuples(batch: pa.RecordBatch) -> list[tuple[Any, ...]]:
    """An Arrow batch's rows as tuples for SQLite; decimals as their text, as Django hands SQLite a Decimal."""
    values = []
    for array in batch.columns:
        if pa.types.is_decimal(array.type):
            array = array.cast(pa.string())
        values.append(array.to_pylist())
    return list(zip(*values, strict=True))


def _csv(batch: pa.RecordBatch, fixed: tuple[Any, ...]) -> bytes:
    """An Arrow batch, plus the ``fixed`` values on each row, as PostgreSQL CSV: a NULL is an empty unquoted
    field, every text value is quoted (so an empty text stays empty), decimals are written exactly."""
    arrays = [*batch.columns, *(pa.array([value] * batch.num_rows) for value in fixed)]
    table = pa.RecordBatch.from_arrays(arrays, names=[f"c{k}" for k in range(len(arrays))])
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
    return buffer.getvalue()


# --- PostgreSQL: one partition of the candidates per run (ADR 28) ---------------------------------------------------
#
# On PostgreSQL the candidates table is partitioned by run (migration eligibility 0008): a run's candidates are a
# table of their own, attached to ``eligibility_candidate`` once written. A full run copies its rows into the table
# bare — no index to keep up row by row — builds the indexes in one pass each, then attaches it; removing a run's
# candidates (a re-run, an abandoned run, retention) drops its table. Rows of a run that has no table of its own
# (written through the ORM) land in the default partition and are deleted row by row as before. SQLite has one
# table and none of this.


def partitioned(model: type[models.Model]) -> bool:
    """Whether ``model``'s table is a partitioned one (PostgreSQL after migration eligibility 0008)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relkind = 'p' FROM pg_class c WHERE c.oid = to_regclass(%s)", [model._meta.db_table])
        row = cursor.fetchone()
    return bool(row and row[0])


def partition_name(model: type[models.Model], run_id: int) -> str:
    """The table of one run's rows of ``model``, quoted."""
    return connection.ops.quote_name(f"{model._meta.db_table}_run{int(run_id)}")


def partition_drop(model: type[models.Model], run_id: int) -> None:
    """Drop the run's table, attached or not (a run stored again, abandoned or purged), in the caller's
    transaction. Dropping an attached one locks the parent table for the moment it takes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{model._meta.db_table}_run{int(run_id)}"])
        if not cursor.fetchone()[0]:
            return
        # Rows written in this same transaction still owe their deferred foreign-key checks, which PostgreSQL
        # will not drop a table with: run them now, then defer again as Django's constraints are.
        cursor.execute(
            "SELECT string_agg(quote_ident(conname), ', ') FROM pg_constraint WHERE conrelid = to_regclass(%s) "
            "AND contype = 'f' AND condeferred",
            [model._meta.db_table],
        )
        deferred = cursor.fetchone()[0]
        if deferred:
            cursor.execute(f"SET CONSTRAINTS {deferred} IMMEDIATE")
        cursor.execute(f"DROP TABLE {partition_name(model, run_id)}")
        if deferred:
            cursor.execute(f"SET CONSTRAINTS {deferred} DEFERRED")


def partition_create(model: type[models.Model], run_id: int) -> str:
    """A new empty table for the run's rows, detached and bare: the parent's columns and defaults (the id
    sequence), a check that every row is the run's (so attaching need not scan it), no index. Returns its
    name. In the caller's transaction."""
    name = partition_name(model, run_id)
    parent = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {name} (LIKE {parent} INCLUDING DEFAULTS)")
        cursor.execute(f"ALTER TABLE {name} ADD CHECK (run_id IS NOT NULL AND run_id = {int(run_id)})")
    return name


def partition_empty(model: type[models.Model], run_id: int) -> None:
    """Empty the run's detached table (``TRUNCATE``) in the caller's transaction, so that a ``COPY`` in the same
    transaction may write its rows frozen (``bulk_insert(freeze=True)``). Nobody else reads or writes it."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {partition_name(model, run_id)}")


# Sessions building a run's table's indexes at once (``partition_index``): each index's build waits for disk part
# of its time (writing and syncing the index), which another's sort fills (docs/benchmarks.md, issue 14).
INDEX_SESSIONS = 3


@dataclass(frozen=True)
class _Build:
    """One index of the run's table: the statement that builds it and, for a primary key or unique constraint,
    the one that then makes it the constraint (at once: the index is there)."""

    create: str
    constraint: str | None = None


def _builds(model: type[models.Model], run_id: int) -> list[_Build]:
    """The parent's primary key, unique constraints and indexes, as statements for the run's table."""
    name = partition_name(model, run_id)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.contype, pg_get_indexdef(c.conindid), c.condeferrable FROM pg_constraint c "
            "WHERE c.conrelid = to_regclass(%s) AND c.contype IN ('p', 'u') ORDER BY c.conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = to_regclass(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
            [table],
        )
        indexes = [row[0] for row in cursor.fetchall()]
    builds = []
    for k, (kind, definition, deferrable) in enumerate(constraints):
        index = connection.ops.quote_name(f"{table}_run{int(run_id)}_c{k}")
        using = definition.split(" USING ", 1)[1]
        constraint = f"{'PRIMARY KEY' if kind == 'p' else 'UNIQUE'} USING INDEX {index}"
        deferred = " DEFERRABLE INITIALLY DEFERRED" if deferrable else ""
        builds.append(
            _Build(
                f"CREATE UNIQUE INDEX {index} ON {name} USING {using}", f"ALTER TABLE {name} ADD {constraint}{deferred}"
            )
        )
    for k, definition in enumerate(indexes):
        index = connection.ops.quote_name(f"{table}_run{int(run_id)}_i{k}")
        builds.append(_Build(f"CREATE INDEX {index} ON {name} USING {definition.split(' USING ', 1)[1]}"))
    return builds


def _build(statement: str) -> None:
    """One index built in its own transaction, ``maintenance_work_mem`` raised for its sort
    (``settings.FUWU_INDEX_BUILD_MEMORY``, as the registry's first load: ``fuwu.residents.indexes``)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", ["maintenance_work_mem", settings.FUWU_INDEX_BUILD_MEMORY])
        cursor.execute(statement)


def _build_in_own_session(statement: str) -> None:
    try:
        _build(statement)
    finally:
        connection.close()  # this thread's own connection


def partition_index(model: type[models.Model], run_id: int) -> None:
    """Build on the run's table the parent's primary key, unique constraints and indexes, so attaching it finds
    them and builds none: each index one sort (PostgreSQL's parallel index build), with the memory of a bulk
    index build. Outside a transaction (a full run's detached table, committed, that nobody else reads) the
    indexes are built ``INDEX_SESSIONS`` at a time, each in a session of its own, and then made the constraints
    they are; inside one (its table is not visible to other sessions) one after another. A duplicate (run,
    person, item) fails here, as it would have at the insert."""
    builds = _builds(model, run_id)
    if connection.in_atomic_block:
        for build in builds:
            _build(build.create)
    else:
        with ThreadPoolExecutor(max_workers=INDEX_SESSIONS) as pool:
            for done in [pool.submit(_build_in_own_session, build.create) for build in builds]:
                done.result()
    with transaction.atomic(), connection.cursor() as cursor:
        for build in builds:
            if build.constraint:
                cursor.execute(build.constraint)


def partition_attach(model: type[models.Model], run_id: int) -> None:
    """Attach the run's table to the parent (in the caller's transaction) and gather its statistics for the
    planner. Its check constraint spares the scan; the parent is locked only against other changes of its
    partitions (SHARE UPDATE EXCLUSIVE), not against readers."""
    name = partition_name(model, run_id)
    parent = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {parent} ATTACH PARTITION {name} FOR VALUES IN ({int(run_id)})")
        cursor.execute(f"ANALYZE {name}")
