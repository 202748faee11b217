"""Reads of notices, each the reader's own; the outbox's files for the roles that may read them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.notices.backends import outbox_dir
from fuwu.notices.models import Notice

OUTBOX_SHOWN = 200


def notices_of(*, user: Any) -> QuerySet[Notice]:
    return Notice.objects.filter(recipient_id=user.pk).order_by("-created_at", "-id")


def unread_count(*, user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notice.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def may_read_outbox(user: Any) -> bool:
    """The city-wide staff roles: the standards office and auditors (the files hold masked forms only)."""
    return has_role(user, {Role.STANDARDS_OFFICE, Role.AUDITOR})


@dataclass(frozen=True)
class OutboxEntry:
    name: str
    channel: str
    to: str
    subject: str
    body: str


def outbox_entries(*, limit: int = OUTBOX_SHOWN) -> list[OutboxEntry]:
    """The newest files the outbox backend wrote (a file that cannot be read is shown as such)."""
    folder = outbox_dir()
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[:limit]
    out = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        out.append(
            OutboxEntry(
                name=path.name,
                channel=str(data.get("channel", "")),
                to=str(data.get("to", "")),
                subject=str(data.get("subject", "")),
                body=str(data.get("body", "")),
            )
        )
    return out
