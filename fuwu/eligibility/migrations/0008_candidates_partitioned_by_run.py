"""On PostgreSQL, the candidates table partitioned by run (ADR 28); SQLite keeps its one table.

A run's candidates become a table of their own (``eligibility_candidate_run<id>``), copied into bare and
attached once indexed (``fuwu.eligibility.store.partition_*``), and dropped with the run; rows written for
a run without a table of its own land in ``eligibility_candidate_default``. The model is unchanged: the
primary key becomes (id, run_id), as PostgreSQL requires of a partitioned table, and ids still come from
one sequence. Existing rows move to a partition per run.
"""

from typing import Any

from django.db import migrations

TABLE = "eligibility_candidate"
OLD = "eligibility_candidate_unpartitioned"
SEQUENCE = "eligibility_candidate_id_seq"


def _definitions(cursor: Any, table: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(name, kind, definition) of the table's constraints and the CREATE INDEX of its other indexes."""
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) "
        "AND contype IN ('p', 'u', 'f') ORDER BY contype, conname",
        [table],
    )
    constraints = [(name, kind, definition) for name, kind, definition in cursor.fetchall()]
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = to_regclass(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
        [table],
    )
    return constraints, [row[0].replace(" ON ONLY ", " ON ") for row in cursor.fetchall()]


def _relkind(cursor: Any) -> str | None:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
    row = cursor.fetchone()
    return str(row[0]) if row else None


def _move(cursor: Any, source: str, constraints: list[tuple[str, str, str]], indexes: list[str]) -> None:
    """Free the constraint and index names on ``source`` (names are the schema's, not the table's)."""
    for name, _kind, _definition in constraints:
        cursor.execute(f'ALTER TABLE "{source}" DROP CONSTRAINT "{name}"')
    for definition in indexes:
        cursor.execute(f'DROP INDEX "{definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]}"')


def _recreate(cursor: Any, constraints: list[tuple[str, str, str]], indexes: list[str], primary_key: str) -> None:
    for name, kind, definition in constraints:
        cursor.execute(f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{name}" {primary_key if kind == "p" else definition}')
    for definition in indexes:
        cursor.execute(definition)


def partition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if _relkind(cursor) != "r":
            return
        constraints, indexes = _definitions(cursor, TABLE)
        cursor.execute(f'ALTER TABLE "{TABLE}" RENAME TO "{OLD}"')
        _move(cursor, OLD, constraints, indexes)
        cursor.execute(f'ALTER TABLE "{OLD}" ALTER COLUMN id DROP IDENTITY IF EXISTS')  # and its sequence
        cursor.execute(f'ALTER TABLE "{OLD}" ALTER COLUMN id DROP DEFAULT')
        cursor.execute(f'DROP SEQUENCE IF EXISTS "{SEQUENCE}"')  # the one ``unpartition`` left
        cursor.execute(f'CREATE SEQUENCE "{SEQUENCE}"')
        cursor.execute(f'CREATE TABLE "{TABLE}" (LIKE "{OLD}") PARTITION BY LIST (run_id)')
        cursor.execute(f"ALTER TABLE \"{TABLE}\" ALTER COLUMN id SET DEFAULT nextval('{SEQUENCE}')")
        cursor.execute(f'ALTER SEQUENCE "{SEQUENCE}" OWNED BY "{TABLE}".id')
        _recreate(cursor, constraints, indexes, "PRIMARY KEY (id, run_id)")
        cursor.execute(f'CREATE TABLE "{TABLE}_default" PARTITION OF "{TABLE}" DEFAULT')
        cursor.execute(f'SELECT DISTINCT run_id FROM "{OLD}" ORDER BY 1')
        for (run_id,) in cursor.fetchall():
            cursor.execute(
                f'CREATE TABLE "{TABLE}_run{int(run_id)}" PARTITION OF "{TABLE}" FOR VALUES IN ({int(run_id)})'
            )
        cursor.execute(f'INSERT INTO "{TABLE}" SELECT * FROM "{OLD}"')
        cursor.execute(f"SELECT setval('{SEQUENCE}', coalesce((SELECT max(id) FROM \"{OLD}\"), 0) + 1, false)")
        cursor.execute(f'DROP TABLE "{OLD}"')


def unpartition(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if _relkind(cursor) != "p":
            return
        constraints, indexes = _definitions(cursor, TABLE)
        cursor.execute(f'CREATE TABLE "{OLD}" (LIKE "{TABLE}" INCLUDING DEFAULTS)')
        cursor.execute(f'INSERT INTO "{OLD}" SELECT * FROM "{TABLE}"')
        cursor.execute(f'ALTER SEQUENCE "{SEQUENCE}" OWNED BY "{OLD}".id')
        cursor.execute(f'DROP TABLE "{TABLE}" CASCADE')  # with its partitions, constraints and indexes
        # and the detached tables killed runs left (rows nothing reads), which use the sequence too
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace "
            "AND relname ~ %s",
            [f"^{TABLE}_run[0-9]+$"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TABLE "{name}"')
        cursor.execute(f'ALTER TABLE "{OLD}" RENAME TO "{TABLE}"')
        _recreate(cursor, constraints, indexes, "PRIMARY KEY (id)")


class Migration(migrations.Migration):
    dependencies = [
        ("eligibility", "0007_daily_run_lineage"),
    ]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
