"""Long writes in short transactions that leave room for everyone else, and fast inserts for them.

SQLite has one write lock for the whole database, and no queue for it: a waiting writer sleeps and
retries (up to 100 ms between tries), so a background job that commits batch after batch with only
microseconds between them can starve a person's login for longer than its busy timeout, even though no
single transaction is long. On SQLite, then, batches are small and the writer pauses after each commit
for longer than a waiter sleeps; on PostgreSQL (row locks) batches are as large as the caller likes and
there is no pause.

    for part in chunks(rows, write_batch(20_000)):
        insert_rows(Model, part)  # one short transaction
        after_batch()
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

from django.db import connection, connections, models, transaction
from django.db.models.expressions import RawSQL

# Rows per transaction on SQLite: about a tenth of a second of lock with insert_rows on a loaded machine.
SQLITE_BATCH = 5_000
# Longer than SQLite's longest busy-handler sleep (100 ms), so a waiting writer gets its turn.
SQLITE_PAUSE = 0.12


# Values per ``IN (…)`` list where a whole list is not one parameter (SQLite; PostgreSQL's limit is 65,535).
IN_CHUNK = 5_000

T = TypeVar("T")
M = TypeVar("M", bound=models.Model)


def chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """``rows`` in lists of ``size`` (the last one shorter): ``itertools.batched`` before Python 3.12."""
    it = iter(rows)
    while part := list(itertools.islice(it, size)):
        yield part


def among(queryset: models.QuerySet[M], field: str, values: Iterable[Any]) -> Iterator[models.QuerySet[M]]:
    """``queryset`` narrowed to the rows whose ``field`` is one of ``values``: the queries to run, one or a few.

    On PostgreSQL one query, ``field = ANY(%s)`` with the values as one array parameter; elsewhere ``IN`` lists
    of ``IN_CHUNK``. A lookup of 20,000 keys as ``__in`` costs seconds of the client's CPU before the server sees
    it (the ORM prepares each value, the driver scans a statement with 20,000 placeholders); an array is one
    value. The values must already be the column's type (strings, integers): they are not prepared one by one.
    """
    values = list(values)
    if not values:
        return
    if connection.vendor == "postgresql":
        meta = queryset.model._meta
        target = meta.pk if field == "pk" else meta.get_field(field)
        assert isinstance(target, models.Field)  # noqa: S101 - a column, not a relation's reverse side
        qn = connection.ops.quote_name
        column = f"{qn(meta.db_table)}.{qn(target.column)}"  # names from the model; the values one parameter
        yield queryset.filter(RawSQL(f"{column} = ANY(%s)", (values,), output_field=models.BooleanField()))  # noqa: S611
        return
    for part in chunks(values, IN_CHUNK):
        yield queryset.filter(**{f"{field}__in": part})


def ahead(items: Iterable[T], *, depth: int = 1) -> Generator[T]:
    """``items``, made in a thread while the caller uses the ones before: at most ``depth`` made and not yet taken.

    For a loop whose steps alternate between this process's CPU (checking the next batch) and waiting for the
    database (writing this one): the database driver lets go of the interpreter while it waits, so the two
    overlap. The thread must not use the database (Django gives each thread its own connection, outside the
    caller's transaction); if it did, its connections are closed when it ends. An exception making an item is
    raised here, in its place, after the items before it. Close the generator (``contextlib.closing``; a ``for``
    loop left by an exception does not close it): that stops the thread and waits for it (the item it is making).
    """
    made: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                made.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as exc:  # handed to the caller, raised there
            put((False, exc))
        finally:
            connections.close_all()  # this thread's own, if anything opened one

    thread = threading.Thread(target=make, name="fuwu-ahead", daemon=True)
    thread.start()
    try:
        while True:
            is_item, value = made.get()
            if is_item:
                yield value
            elif value is None:
                return
            else:
                raise value
    finally:
        stop.set()
        thread.join()


def write_batch(wanted: int) -> int:
    """How many rows to write per transaction: ``wanted``, capped on SQLite."""
    return min(wanted, SQLITE_BATCH) if connection.vendor == "sqlite" else wanted


def after_batch() -> None:
    """Call after committing a batch (outside the transaction): on SQLite, let a waiting writer in."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        time.sleep(SQLITE_PAUSE)


def insert_rows(
    model: type[models.Model], rows: Iterable[Mapping[str, Any]], *, constants: Mapping[str, Any] | None = None
) -> int:
    """INSERT rows (``attname`` → Python value; a missing column is NULL) with one prepared statement.

    ``bulk_create`` spends most of a large load building SQL field by field (and on SQLite caps a
    statement at 999 parameters, about 100 rows); ``executemany`` of one prepared INSERT is many times
    faster. Only the ORM's Python side is skipped (no ``save()``, no signals, no primary keys handed
    back): every invariant is a database constraint, so the database still refuses anything the model
    would. Values that need the backend's adapter (dates, times, decimals, JSON) are prepared here;
    ``constants`` (the same for every row, e.g. a time stamp or the parent's id) are prepared once. All
    before the one short transaction the rows go in (or the caller's). Returns the number of rows.
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model, values as parameters
        connection.ops.quote_name(model._meta.db_table),
        ", ".join(connection.ops.quote_name(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    params = _prepared_rows(fields, rows, constants, adapt=(models.DateField, models.DecimalField, models.JSONField))
    if params:
        # Its own transaction when called outside one; inside the caller's, part of it (no savepoint: a failed
        # insert fails the caller's transaction, which is what an all-or-nothing caller wants).
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.executemany(sql, params)
    return len(params)


def _prepared_rows(
    fields: list[models.Field[Any, Any]],
    rows: Iterable[Mapping[str, Any]],
    constants: Mapping[str, Any] | None,
    *,
    adapt: tuple[type[models.Field[Any, Any]], ...] = (models.DateField, models.DecimalField),
) -> list[list[Any]]:
    """Each row's values in ``fields``' order, those of the ``adapt`` kinds through the backend's adapter,
    ``constants`` prepared once."""
    names = [f.attname for f in fields]
    fixed = [
        (i, f.get_db_prep_save(constants[f.attname], connection=connection))
        for i, f in enumerate(fields)
        if constants and f.attname in constants
    ]
    fixed_at = {i for i, _ in fixed}
    prepared = [
        (i, partial(f.get_db_prep_save, connection=connection))
        for i, f in enumerate(fields)
        if isinstance(f, adapt) and i not in fixed_at
    ]
    # Millions of cells: one comprehension per row, then only the few cells that need more.
    out = []
    for row in rows:
        get = row.get
        values = [get(name) for name in names]
        for i, value in fixed:
            values[i] = value
        for i, prep in prepared:
            if values[i] is not None:
                values[i] = prep(values[i])
        out.append(values)
    return out


def copy_rows(
    model: type[models.Model], rows: Iterable[Mapping[str, Any]], *, constants: Mapping[str, Any] | None = None
) -> int:
    """As ``insert_rows``, with PostgreSQL's ``COPY … FROM STDIN`` (one stream, no statement per row).

    Elsewhere it is ``insert_rows``. Not for JSON columns (COPY is given plain values). Every constraint
    still holds: COPY checks them as INSERT does, and a refused row fails the whole COPY.
    """
    if connection.vendor != "postgresql":
        return insert_rows(model, rows, constants=constants)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if any(isinstance(f, models.JSONField) for f in fields):
        raise TypeError(f"{model.__name__} has a JSON column: use insert_rows")
    # Dates and decimals as they are: COPY sends them in PostgreSQL's own formats (the backend's adapter would
    # hand them back unchanged, a call per cell).
    params = _prepared_rows(fields, rows, constants, adapt=())
    if params:
        sql = "COPY {} ({}) FROM STDIN".format(
            connection.ops.quote_name(model._meta.db_table),
            ", ".join(connection.ops.quote_name(f.column) for f in fields),
        )
        with transaction.atomic(savepoint=False), connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for values in params:
                copy.write_row(values)
    return len(params)


def update_rows(model: type[models.Model], objs: Sequence[models.Model], fields: list[str]) -> int:
    """UPDATE ``fields`` of ``objs`` (by primary key) to the objects' values, as one set-based write.

    ``bulk_update`` builds one ``CASE WHEN pk = … THEN …`` per field per 1,000 rows, which PostgreSQL plans
    and evaluates row by row. Here: on PostgreSQL the values are COPY'd into a temporary table and joined
    in one ``UPDATE … FROM``; on SQLite one prepared ``UPDATE … WHERE pk = ?`` runs with ``executemany``.
    """
    if not objs:
        return 0
    meta = model._meta
    targets = [f for name in fields if isinstance(f := meta.get_field(name), models.Field)]
    if len(targets) != len(fields):
        raise TypeError(f"not all of {fields} are concrete fields of {model.__name__}")
    pk = meta.pk
    assert pk is not None  # noqa: S101 - every model has one
    qn = connection.ops.quote_name
    params = [
        [*(f.get_db_prep_save(getattr(obj, f.attname), connection=connection) for f in targets), obj.pk] for obj in objs
    ]
    table = qn(meta.db_table)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            temp = qn(f"_fuwu_update_{meta.db_table}")
            columns = ", ".join(qn(f.column) for f in [*targets, pk])
            cursor.execute(f"DROP TABLE IF EXISTS {temp}")
            cursor.execute(f"CREATE TEMPORARY TABLE {temp} AS SELECT {columns} FROM {table} WITH NO DATA")  # noqa: S608
            with cursor.cursor.copy(f"COPY {temp} ({columns}) FROM STDIN") as copy:
                for values in params:
                    copy.write_row(values)
            # Without statistics the planner may hash the temporary table and scan the whole target for it.
            cursor.execute(f"ANALYZE {temp}")
            sets = ", ".join(f"{qn(f.column)} = u.{qn(f.column)}" for f in targets)
            cursor.execute(f"UPDATE {table} SET {sets} FROM {temp} u WHERE {table}.{qn(pk.column)} = u.{qn(pk.column)}")  # noqa: S608
            cursor.execute(f"DROP TABLE {temp}")
        else:
            sets = ", ".join(f"{qn(f.column)} = %s" for f in targets)
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE {qn(pk.column)} = %s", params)  # noqa: S608
    return len(params)
