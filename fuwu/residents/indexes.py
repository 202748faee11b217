"""The registry's secondary indexes, put aside while a first load fills an empty registry (ADR 0026).

A first load of millions of residents on PostgreSQL spends most of the server's time keeping indexes up to date
row by row, and more the larger the table grows. The indexes that only serve readers (no uniqueness, no look-up
of the load's own) are therefore dropped when a load starts on an empty registry and built again, each with one
sort, before the load records that it finished. What a load may drop is ``deferrable()``: the indexes the model
itself declares that are not unique (``db_index`` fields, foreign keys, ``Meta.indexes``, and PostgreSQL's
``varchar_pattern_ops`` companions), named and written exactly as the migrations made them. The primary key, the
unique ones (``id_number_hash``, one head per household, ``source_id``), the foreign keys and the check
constraints stay: the database refuses during the load whatever it refuses otherwise, and the load's own look-ups
keep their indexes.

Nothing needs remembering across a kill: the model says which indexes should exist, the catalogue which do.
``restore()`` builds the missing ones (``CREATE INDEX IF NOT EXISTS``, each committed on its own), and is called
when a load finishes (whatever its outcome), when a load that did not defer starts (so a first load that was
killed and never resumed is mended by the next load), and by ``fuwu residents indexes``. Elsewhere than on
PostgreSQL nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from fuwu.residents.models import Person


@dataclass(frozen=True)
class Index:
    name: str
    sql: str  # CREATE INDEX … as the model's migrations make it


def supported() -> bool:
    return connection.vendor == "postgresql"


def deferrable() -> list[Index]:
    """The Person table's indexes that no constraint and none of the load's look-ups need (on PostgreSQL)."""
    if not supported():
        return []
    found: dict[str, Index] = {}
    with connection.schema_editor(collect_sql=True) as schema:
        # Django's own statements for the model (private methods: the ones its migrations use), so the names and
        # definitions are the migrations' exactly; nothing is executed (collect_sql).
        editor: Any = schema
        statements = list(editor._model_indexes_sql(Person))
        for field in Person._meta.concrete_fields:
            if field.unique and not field.primary_key:  # its own index stays; its LIKE companion serves no one
                like = editor._create_like_index_sql(Person, field)
                if like is not None:
                    statements.append(like)
    for statement in statements:
        name = statement.parts["name"]
        name = name.name if hasattr(name, "name") else str(name).strip('"')
        found[name] = Index(name, str(statement))
    return list(found.values())


def present() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
                       [Person._meta.db_table])  # fmt: skip
        return {row[0] for row in cursor.fetchall()}


def missing() -> list[Index]:
    """The deferrable indexes the database lacks now (after a deferred load, or one that was killed)."""
    wanted = deferrable()
    if not wanted:
        return []
    have = present()
    return [index for index in wanted if index.name not in have]


def defer() -> list[str]:
    """Drop the deferrable indexes that exist, in one short transaction; the names dropped."""
    if not supported():
        return []
    have = present()
    dropped = [index.name for index in deferrable() if index.name in have]
    if dropped:
        qn = connection.ops.quote_name
        with transaction.atomic(), connection.cursor() as cursor:
            _checks_now(cursor)
            for name in dropped:
                cursor.execute(f"DROP INDEX IF EXISTS {qn(name)}")
    return dropped


def _checks_now(cursor: Any) -> None:
    """The foreign keys' checks deferred to the commit, made now: PostgreSQL changes no index of a table with
    checks pending. Only inside a caller's transaction (a test's) are there any; the load commits every batch."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def restore(progress: Callable[[str], None] | None = None) -> list[str]:
    """Build the deferrable indexes that are missing, each in its own transaction with the session's
    ``maintenance_work_mem`` raised to ``settings.FUWU_INDEX_BUILD_MEMORY``; the names built."""
    built = []
    for index in missing():
        if progress is not None:
            progress(index.name)
        with transaction.atomic(), connection.cursor() as cursor:
            _checks_now(cursor)
            cursor.execute(
                "SELECT set_config(%s, %s, true)", ["maintenance_work_mem", settings.FUWU_INDEX_BUILD_MEMORY]
            )
            cursor.execute(index.sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
        built.append(index.name)
    return built
