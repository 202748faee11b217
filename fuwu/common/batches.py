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

import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from django.db import connection, models, transaction

# Rows per transaction on SQLite: about a tenth of a second of lock with insert_rows on a loaded machine.
SQLITE_BATCH = 5_000
# Longer than SQLite's longest busy-handler sleep (100 ms), so a waiting writer gets its turn.
SQLITE_PAUSE = 0.12


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
    prepared: dict[str, Callable[[Any], Any]] = {
        f.attname: partial(f.get_db_prep_save, connection=connection)
        for f in fields
        if isinstance(f, models.DateField | models.DecimalField | models.JSONField)
    }
    fixed = {
        f.attname: f.get_db_prep_save(constants[f.attname], connection=connection)
        for f in fields
        if constants and f.attname in constants
    }
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model, values as parameters
        connection.ops.quote_name(model._meta.db_table),
        ", ".join(connection.ops.quote_name(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    params = []
    for row in rows:
        values = []
        for f in fields:
            if f.attname in fixed:
                values.append(fixed[f.attname])
                continue
            value = row.get(f.attname)
            prep = prepared.get(f.attname)
            values.append(prep(value) if prep is not None and value is not None else value)
        params.append(values)
    if params:
        # Its own transaction when called outside one; inside the caller's, part of it (no savepoint: a failed
        # insert fails the caller's transaction, which is what an all-or-nothing caller wants).
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.executemany(sql, params)
    return len(params)
