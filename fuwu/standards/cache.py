"""Public pages cached by what they show: the standards' content hashes and lifecycle state.

A page of the service guide is a function of a few standards' content (their ``content_hash``), their
lifecycle (status, dates, successor), the language and, for a guide, the day (dated parameters). So:

* every request asks the database one tiny question, :func:`generation` — has anything in the registry
  changed? (one row that triggers on the standards' tables change in every writing transaction; migration
  ``0003_state_generation``) — and only when it has, reads :func:`snapshot` again: each version's id,
  number, status, dates and content hash, no documents (a few dozen rows);
* each fragment's key is built from the states of exactly the versions it shows (the menu: the versions in
  force; a standard's page: that standard's versions; a guide: its item's version and the day), plus the
  language;
* fragments (rendered HTML of a page's main content, never the header with its login state, CSRF token
  and messages) and prepared data (the index of items in force) live in the bounded in-process LRU of
  ``fuwu.common.pagecache``, one per worker process.

A load makes a new version (a new id and hash) and a lifecycle change changes that version's state, so
either gives new keys to exactly the fragments that showed it; nothing is invalidated by hand, and a
change made any other way (the admin, a shell) is seen by the next request just the same. Old keys are
never read again and age out of the LRU. ADRs 0013 and 0022 have the reasoning.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from django.db import connection
from django.db.models import Field, Model
from django.utils.translation import get_language

from fuwu.common.pagecache import fragments
from fuwu.standards.models import IN_FORCE, Standard, StandardVersion

T = TypeVar("T")


class VersionState(NamedTuple):
    """What of a version a public page may show, short of its content (which its hash stands for).

    A named tuple, in the order of the snapshot's columns: built for every version on every request.
    """

    id: int
    number: int
    status: str
    content_hash: str
    # ISO dates, as text
    effective_on: str
    review_due_on: str
    last_reviewed_on: str | None
    superseded_by_id: int | None
    standard_key: str

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE

    @property
    def content(self) -> tuple[int, str, int, str]:
        """What pages that show the content but not the lifecycle (the menu, a guide) depend on."""
        return (self.id, self.standard_key, self.number, self.content_hash)


@dataclass(frozen=True)
class Snapshot:
    """The state of every version, read in one query at the start of a request."""

    versions: tuple[VersionState, ...]

    def in_force(self) -> tuple[VersionState, ...]:
        return tuple(v for v in self.versions if v.in_force)

    def of_standard(self, key: str) -> tuple[VersionState, ...]:
        return tuple(v for v in self.versions if v.standard_key == key)


DATES = ("effective_on", "review_due_on", "last_reviewed_on")


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)  # noqa: S101 - a concrete column, never a reverse relation
    return connection.ops.quote_name(field.column)


@functools.cache
def _snapshot_sql() -> str:
    v, s = StandardVersion, Standard
    columns = ", ".join(
        [f"v.{_column(v, name)}" for name in ("id", "number", "status", "content_hash")]
        # Dates as text: they are only compared, and parsing them costs more than the query.
        + [f"CAST(v.{_column(v, name)} AS TEXT)" for name in DATES]
        + [f"v.{_column(v, 'superseded_by')}", f"s.{_column(s, 'key')}"]
    )
    # Names from the models' own metadata, no input: nothing to inject.
    quote = connection.ops.quote_name
    tables = f"{quote(v._meta.db_table)} v JOIN {quote(s._meta.db_table)} s ON s.id = v.{_column(v, 'standard')}"
    # No ORDER BY (the rows are sorted here): sorting by id would send SQLite to the table instead of the index.
    return f"SELECT {columns} FROM {tables}"  # noqa: S608


def read_snapshot() -> Snapshot:
    """Every version's state, from one narrow query.

    Plain SQL: it runs whenever the registry changed, and building the same query through the ORM costs
    several times more than running it.
    """
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_sql())
        rows = cursor.fetchall()
    return Snapshot(tuple(map(VersionState._make, sorted(rows))))


GENERATION_SQL = "SELECT generation FROM standards_state_generation WHERE id = 1"


def generation() -> int | None:
    """The registry's generation: a value the database changes in every transaction that changes a standard.

    ``None`` when this database keeps none (a backend without the triggers, or the row gone): then nothing
    can be known unchanged. On PostgreSQL a prepared statement, run by psycopg with the server's binding:
    the server neither parses nor plans it again on this connection.
    """
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            import psycopg  # the PostgreSQL driver, installed where PostgreSQL is used

            with psycopg.Cursor(connection.connection) as cursor:
                cursor.execute(GENERATION_SQL, prepare=True)
                row = cursor.fetchone()
        elif connection.vendor == "sqlite":
            row = connection.connection.execute(GENERATION_SQL).fetchone()
        else:
            return None
    return None if row is None else int(row[0])


class _Known(threading.local):
    """The last snapshot this thread read, and the generation read before it."""

    generation: int | None = None
    snapshot: Snapshot | None = None
    database: Any = None


_known = _Known()


def snapshot() -> Snapshot:
    """Every version's state as the database holds it now: read again only if the registry has changed.

    The generation is read before the snapshot, so a snapshot kept under a generation is at least as new as
    it. Any later change gives the row a value it never had (a sequence; on SQLite a random 64-bit number),
    so an equal generation means nothing changed since — also after a rolled-back change, also made
    outside the services. Kept per thread (one per worker process under gunicorn's sync workers) and per
    database, so tests that switch databases never see another's state.
    """
    current = generation()
    database = (connection.alias, connection.settings_dict.get("NAME"))
    known = _known
    if current is not None and current == known.generation and known.database == database:
        assert known.snapshot is not None  # noqa: S101 - set together with the generation
        return known.snapshot
    fresh = read_snapshot()
    known.generation, known.snapshot, known.database = current, fresh, database
    return fresh


def cached(kind: str, depends_on: Hashable, build: Callable[[], T]) -> T:
    """The value ``build`` makes for what it ``depends_on`` (version states and more), in the active language."""
    return fragments.get_or_build((kind, get_language(), depends_on), build)
