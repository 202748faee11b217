"""Writing audit rows. Call from inside the service's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from fuwu.common.models import AuditLog


def audit(
    *,
    actor: Any,
    event: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditLog:
    """Record one event. ``actor`` is a user, or ``None`` for the command line."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = user.get_username() if user else "system"
    return AuditLog.objects.create(
        actor=user,
        actor_label=label,
        event=event,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        before=before,
        after=after,
        note=note,
    )


def history_for(obj: models.Model) -> models.QuerySet[AuditLog]:
    return AuditLog.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).select_related("actor")


# A list's audit row names at most this many persons (a page shows 50); an export records the count only.
MAX_LISTED_IDS = 1000
LISTED, EXPORTED = "persons.listed", "persons.exported"


def audit_persons_read(
    *,
    actor: Any,
    purpose: str,
    persons: Iterable[int | models.Model] = (),
    count: int | None = None,
    obj: models.Model | None = None,
    exported: bool = False,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Record that ``actor`` was shown persons: one row per page, search or file that shows any.

    The one place every read of personal data that is not a single record's page is audited (the record's
    own page writes ``person.viewed``). ``purpose`` says where ("registry search", "proactive export");
    ``persons`` are the ones shown (ids or rows), ``count`` how many when there are too many to name (an
    export). The row is ``persons.listed`` or, for a file, ``persons.exported``, on ``obj`` (the screening
    run, the settlement) or on the registry as a whole.
    """
    ids = sorted({p if isinstance(p, int) else int(p.pk) for p in persons})
    after: dict[str, Any] = {"persons": len(ids) if count is None else count, **(details or {})}
    if ids:
        after["person_ids"] = ids[:MAX_LISTED_IDS]
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditLog.objects.create(
        actor=user,
        actor_label=user.get_username() if user else "system",
        event=EXPORTED if exported else LISTED,
        object_type=obj._meta.label_lower if obj is not None else "residents.person",
        object_id=str(obj.pk) if obj is not None else "*",
        after=after,
        note=purpose,
    )
