"""Is this database ready for work: reachable, migrated, standards loaded? One answer for every caller.

``/readyz`` reports it to a load balancer; commands that need the standards (``fuwu screen``,
``fuwu whatif``, ``fuwu homecare …``) refuse with what to run instead of dying on ``no such table``,
by inheriting ``NeedsStandards``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)

FIRST_STEPS = "run `fuwu migrate` and `fuwu standards load standards/` first"


@dataclass(frozen=True)
class Readiness:
    database: bool
    migrated: bool
    standards: bool
    problem: str = ""

    @property
    def ready(self) -> bool:
        return self.database and self.migrated and self.standards


def unapplied_migrations() -> tuple[list[str], bool]:
    """The migrations not yet applied, and whether none at all is (an empty database)."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan], not executor.loader.applied_migrations


def readiness() -> Readiness:
    """Check, in order, that the database answers, every migration is applied and a standard is in force."""
    from fuwu.standards.selectors import versions_in_force

    try:
        connection.ensure_connection()
    except DatabaseError:
        # The detail (host, user) goes to the log, not to whoever asked /readyz.
        logger.warning("readiness: the database is not reachable", exc_info=True)
        return Readiness(False, False, False, "the database is not reachable")
    try:
        pending, empty = unapplied_migrations()
    except DatabaseError:
        logger.warning("readiness: cannot read the applied migrations", exc_info=True)
        return Readiness(True, False, False, "cannot read the applied migrations")
    if empty:
        return Readiness(True, False, False, "the database is empty (not migrated)")
    if pending:
        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        return Readiness(True, False, False, f"migrations not applied: {', '.join(pending[:3])}{more}")
    try:
        loaded = versions_in_force().exists()
    except DatabaseError:
        logger.warning("readiness: cannot read the standards", exc_info=True)
        return Readiness(True, True, False, "cannot read the standards")
    if not loaded:
        return Readiness(True, True, False, "no standard is in force (none loaded)")
    return Readiness(True, True, True)


class NeedsStandards(BaseCommand):
    """A command that reads the standards: before it runs, check that the database is ready for it."""

    def execute(self, *args: Any, **options: Any) -> Any:
        state = readiness()
        if not state.ready:
            raise CommandError(f"this database is not ready: {state.problem}; {FIRST_STEPS}")
        return super().execute(*args, **options)
