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
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

from django.db import connection, models, transaction

# Rows per transaction on SQLite: about a tenth of a second of lock with insert_rows on a loaded machine.
SQLITE_BATCH = 5_000
# Longer than SQLite's longest busy-handler sleep (100 ms), so a waiting writer gets its turn.
SQLITE_PAUSE = 0.12


T = TypeVar("T")


def chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """``rows`` in lists of ``size`` (the last one shorter): ``itertools.batched`` before Python 3.12."""
    it = iter(rows)
    while part := list(itertools.islice(it, size)):
        yield part


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
