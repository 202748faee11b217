"""Submitting once, whatever the retries: the API's ``Idempotency-Key`` for ``POST /api/v1/applications`` and for
uploading materials (``POST /api/v1/applications/{id}/materials``).

The same rule as home care's booking (``homecare.services.order_book``): the key is kept on the row it created,
unique per user; a retry with the same key and the same request answers with that row (as it is now), the
same key with another request is refused (``idempotency_key_reused``). The request is compared by a digest of
its canonical JSON (``request_digest``), since an application's request has more parts than a booking's.

An upload's key is kept in the details of the ``supplied`` event it wrote (unique per user as a submission's:
the digest covers the application, so the same key sent for another application is another request); the
digest is of the files' own bytes, so a retry sends the same files, and is answered without storing them again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fuwu.applications.models import Application, ApplicationEvent, EventKind
from fuwu.applications.services import ApplicationError

KEY_MAX = 64


def request_digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _key(raw: str | None) -> str:
    key = (raw or "").strip()
    if not key:
        raise ApplicationError(
            _("缺少请求头 Idempotency-Key；每件新申请请生成一个新的随机值，重试时沿用同一个值。"),
            code="idempotency_key_required",
            field="Idempotency-Key",
        )
    if len(key) > KEY_MAX:
        raise ApplicationError(
            _("请求头 Idempotency-Key 不能超过 %(max)s 个字符。") % {"max": KEY_MAX},
            code="bad_idempotency_key",
            field="Idempotency-Key",
        )
    return key


def _replay(found: Application, digest: str, stored: str | None = None) -> Application:
    """``found`` when the request is the one its key first came with (``stored``: its digest, if not the row's)."""
    if (found.request_digest if stored is None else stored) != digest:
        raise ApplicationError(
            _("这个 Idempotency-Key 已用于另一件申请；重试时请发送与第一次完全相同的内容，新的申请请使用新的键。"),
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )
    return found


def application_submit_once(
    *, actor: Any, idempotency_key: str | None, body: Any, submit: Callable[[], Application]
) -> tuple[Application, bool]:
    """``(application, created)``: ``submit()`` once per (user, key); a retry gets the first application back."""
    key = _key(idempotency_key)
    digest = request_digest(body)
    found = Application.objects.filter(submitted_by=actor, idempotency_key=key).first()
    if found is not None:
        return _replay(found, digest), False
    try:
        with transaction.atomic():
            application = submit()
            Application.objects.filter(pk=application.pk).update(idempotency_key=key, request_digest=digest)
            application.idempotency_key, application.request_digest = key, digest
            return application, True
    except (IntegrityError, ApplicationError):
        # A retry that raced in: the first one committed with this key (its duplicate was refused here).
        found = Application.objects.filter(submitted_by=actor, idempotency_key=key).first()
        if found is None:
            raise
        return _replay(found, digest), False


def _supplied(actor: Any, key: str) -> ApplicationEvent | None:
    return (
        ApplicationEvent.objects.filter(actor=actor, kind=EventKind.SUPPLIED, details__idempotency_key=key)
        .select_related("application")
        .first()
    )


def application_supply_once(
    *, actor: Any, idempotency_key: str | None, body: Any, supply: Callable[[], Application]
) -> tuple[Application, bool]:
    """``(application, supplied)``: ``supply()`` once per (user, key); a retry gets the application as it is now."""
    key = _key(idempotency_key)
    digest = request_digest(body)
    event = _supplied(actor, key)
    if event is not None:
        return _replay(event.application, digest, event.details.get("request_digest", "")), False
    try:
        with transaction.atomic():
            application = supply()
            written = application.events.filter(kind=EventKind.SUPPLIED).order_by("-at", "-id")[0]  # just written
            written.details = {**written.details, "idempotency_key": key, "request_digest": digest}
            written.save(update_fields=["details"])
            return application, True
    except ApplicationError:
        # A retry that raced in: the first one supplied with this key (this one found the revision moved on).
        event = _supplied(actor, key)
        if event is None:
            raise
        return _replay(event.application, digest, event.details.get("request_digest", "")), False
