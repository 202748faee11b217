"""The registry's generation: one row the database itself changes whenever a standard or a version changes.

Every public page asks whether the registry changed since this process last read its state
(``fuwu.standards.cache.snapshot``). Triggers on the two tables the state is read from give the one row a
value never seen before on every insert, update or delete (and, on PostgreSQL, truncate), in the writing
transaction, however the change is made: the services, the admin, a shell, raw SQL. PostgreSQL takes the
value from a sequence (never handed out twice, not even by a transaction that rolled back); SQLite, which
has no sequences, a random 64-bit number. The table is no model: nothing in Django writes it, and a test
database's flush leaves it alone. ADR 0022.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLE = "standards_state_generation"
WATCHED = ("standards_standard", "standards_standardversion")

POSTGRESQL = [
    f"CREATE SEQUENCE {TABLE}_seq",
    f"CREATE TABLE {TABLE} (id smallint PRIMARY KEY CHECK (id = 1), generation bigint NOT NULL)",
    f"INSERT INTO {TABLE} VALUES (1, nextval('{TABLE}_seq'))",
    f"""CREATE FUNCTION {TABLE}_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {TABLE} (id, generation) VALUES (1, nextval('{TABLE}_seq'))
    ON CONFLICT (id) DO UPDATE SET generation = EXCLUDED.generation;
    RETURN NULL;
END
$$""",
    *(
        f"CREATE TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_bump()"
        for table in WATCHED
    ),
]
POSTGRESQL_REVERSE = [
    *(f"DROP TRIGGER {table}_generation ON {table}" for table in WATCHED),
    f"DROP FUNCTION {TABLE}_bump()",
    f"DROP TABLE {TABLE}",
    f"DROP SEQUENCE {TABLE}_seq",
]

SQLITE = [
    f"CREATE TABLE {TABLE} (id integer PRIMARY KEY CHECK (id = 1), generation integer NOT NULL)",
    f"INSERT INTO {TABLE} VALUES (1, random())",
    *(
        f"CREATE TRIGGER {table}_generation_{event.lower()} AFTER {event} ON {table} "
        f"BEGIN INSERT OR REPLACE INTO {TABLE} (id, generation) VALUES (1, random()); END"
        for table in WATCHED
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
]
SQLITE_REVERSE = [
    *(
        f"DROP TRIGGER {table}_generation_{event.lower()}"
        for table in WATCHED
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
    f"DROP TABLE {TABLE}",
]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            return  # another database: pages read the whole state on every request (fuwu.standards.cache)
        for sql in statements[vendor]:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("standards", "0002_version_state_index")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        )
    ]
