"""Writing audit rows. Call from inside the service's transaction."""

from __future__ import annotations

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
