"""Writing notices and sending their outbox (see ``models`` and ADR 24).

``notice_application_event`` runs inside the application's transaction (one call from
``applications.services._record``): the notices and their deliveries commit with the state change or not at all,
and sending starts once it has committed (``transaction.on_commit``). A send that fails is kept with its error and
tried again after a growing pause (``deliveries_send_due``, on the schedule), up to ``max_attempts``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from fuwu.accounts.models import Role, User
from fuwu.notices import backends, messages
from fuwu.notices.models import Audience, Channel, Delivery, DeliveryStatus, Notice
from fuwu.residents.masking import mask_name, mask_phone

logger = logging.getLogger("fuwu.notices")

SELF_RELATIONS = frozenset({"本人", "self"})


def _config(name: str) -> Any:
    return settings.FUWU_NOTICES[name]


# --- addresses: looked up when needed, stored masked only -----------------------------------------------------


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else ""


def address_of(user: User, channel: str) -> str:
    """The user's address for ``channel`` ("" when there is none): the account's e-mail; for SMS the phone
    recorded for the person the account is linked to as 本人 (self)."""
    if channel == Channel.EMAIL:
        return (user.email or "").strip()
    if channel == Channel.SMS:
        from fuwu.homecare.models import FamilyLink
        from fuwu.residents import crypto

        for link in FamilyLink.objects.filter(user=user).select_related("person"):
            person = link.person
            if link.relation.strip().lower() in SELF_RELATIONS and person.contact_phone_encrypted:
                phone = crypto.open_optional(
                    crypto.CONTACT_PHONE, person.contact_phone_encrypted, row=person.id_number_hash
                )
                return phone or ""
    return ""


def masked(channel: str, address: str) -> str:
    return mask_phone(address) if channel == Channel.SMS else mask_email(address)


# --- who hears of an application's change ---------------------------------------------------------------------


def _applicant_side(application: Any) -> list[User]:
    from fuwu.homecare.models import FamilyLink

    # A pre-filled application (免申即享, capacity "system") names the officer who ran the screening: not an applicant.
    ids = set() if application.capacity == "system" else {application.submitted_by_id}
    ids |= set(FamilyLink.objects.filter(person_id=application.person_id).values_list("user_id", flat=True))
    return list(User.objects.filter(pk__in=ids, is_active=True))


def _handling_officers(application: Any) -> list[User]:
    from fuwu.applications.permissions import handles

    if application.department_id is None:
        return []
    officers = User.objects.filter(
        role=Role.DEPARTMENT_OFFICER, department_id=application.department_id, is_active=True
    ).select_related("area")
    return [u for u in officers if handles(u, application)]


def _params(application: Any, event: Any) -> dict[str, Any]:
    item = application.item
    params: dict[str, Any] = {
        "person": mask_name(application.person.name),
        "item": {"zh": item.name_zh, "en": item.name_en},
        "number": str(application.pk),
    }
    if application.due_on and application.is_open:
        params["due"] = application.due_on.isoformat()
    if event.details.get("promised_by"):
        params["promised_by"] = str(event.details["promised_by"])
    if application.department_id:
        params["department"] = {"zh": application.department.name_zh, "en": application.department.name_en or ""}
    return params


def notice_application_event(*, event: Any, actor: Any) -> list[Notice]:
    """The notices an application's timeline row calls for, in the caller's transaction; sent after commit.

    The applicant's side (who submitted it and every account linked to the person) hears of every change; the
    handling officers hear of what asks them to act (a new application, materials supplied, a transfer to them,
    a withdrawal), except the officer who acted.
    """
    application = event.application
    kind = str(event.kind)
    now = event.at
    link = reverse("applications:detail", args=[application.pk])
    subject = f"applications.application:{application.pk}"
    params = _params(application, event)
    rows: list[Notice] = []
    applicants = _applicant_side(application)
    if kind in messages.APPLICANT:
        rows += [
            Notice(recipient=u, kind=kind, audience=Audience.APPLICANT, params=params, link=link, subject=subject)
            for u in applicants
        ]
    if kind in messages.OFFICER:
        taken = {u.pk for u in applicants} | {getattr(actor, "pk", None)}
        rows += [
            Notice(recipient=u, kind=kind, audience=Audience.OFFICER, params=params, link=link, subject=subject)
            for u in _handling_officers(application)
            if u.pk not in taken
        ]
    return notices_write(rows, now=now)


def notices_write(rows: list[Notice], *, now: dt.datetime) -> list[Notice]:
    """``rows`` written at ``now`` with their deliveries, in the caller's transaction; sent after commit. For one
    application's change (above) and for a job's (the overdue job's escalations)."""
    for row in rows:
        row.created_at = now
    notices = Notice.objects.bulk_create(rows)
    deliveries = _deliveries(notices, now=now)
    if deliveries:
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: deliveries_send(ids=ids))
    return notices


def _deliveries(notices: Iterable[Notice], *, now: dt.datetime) -> list[Delivery]:
    """One delivery per channel configured for the notice's audience where the recipient has an address."""
    out = []
    for notice in notices:
        for channel in _config("channels").get(notice.audience, []):
            address = address_of(notice.recipient, channel)
            if address:
                out.append(
                    Delivery(
                        notice=notice,
                        channel=channel,
                        to_masked=masked(channel, address),
                        backend=backends.backend_path(channel),
                        next_attempt_at=now,
                    )
                )
    return Delivery.objects.bulk_create(out)


# --- sending ---------------------------------------------------------------------------------------------------


def _pause(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=float(_config("retry_minutes")) * 2 ** max(attempts - 1, 0))


def delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Send one delivery if it is due; its status after. A failure keeps the error and sets the next attempt.

    The attempt is claimed first (attempts + 1, next attempt pushed back), so two workers never send it twice.
    """
    now = now or timezone.now()
    found = Delivery.objects.filter(pk=delivery_id).select_related("notice", "notice__recipient").first()
    if found is None or found.status != DeliveryStatus.PENDING or found.next_attempt_at > now:
        return found.status if found is not None else ""
    attempts = found.attempts + 1
    claimed = Delivery.objects.filter(pk=found.pk, status=DeliveryStatus.PENDING, attempts=found.attempts).update(
        attempts=F("attempts") + 1, next_attempt_at=now + _pause(attempts)
    )
    if not claimed:
        return DeliveryStatus.PENDING
    notice = found.notice
    language = settings.LANGUAGE_CODE
    message = backends.OutgoingMessage(
        reference=f"delivery-{found.pk}",
        channel=found.channel,
        to=address_of(notice.recipient, found.channel),
        to_masked=found.to_masked,
        subject=messages.subject(language=language),
        body=messages.render(notice.kind, notice.audience, notice.params, language=language),
    )
    try:
        if not message.to:
            raise backends.DeliveryFailed("the recipient no longer has an address for this channel")
        reference = backends.backend_for(found.channel).send(message)
    except Exception as exc:
        status = DeliveryStatus.FAILED if attempts >= int(_config("max_attempts")) else DeliveryStatus.PENDING
        Delivery.objects.filter(pk=found.pk).update(
            status=status, last_error=f"{type(exc).__name__}: {exc}"[:300], backend=backends.backend_path(found.channel)
        )
        logger.warning("delivery %s (%s) failed, attempt %s: %s", found.pk, found.channel, attempts, exc)
        return status
    Delivery.objects.filter(pk=found.pk).update(
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        reference=str(reference)[:200],
        last_error="",
        backend=backends.backend_path(found.channel),
    )
    return DeliveryStatus.SENT


def deliveries_send(*, ids: Iterable[int]) -> None:
    for pk in ids:
        delivery_send(delivery_id=pk)


def deliveries_send_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send (again) every pending delivery whose time has come; how many were sent."""
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(delivery_send(delivery_id=pk, now=now) == DeliveryStatus.SENT for pk in due)


# --- reading ---------------------------------------------------------------------------------------------------


@transaction.atomic
def notice_mark_read(*, user: Any, notice_id: int, now: dt.datetime | None = None) -> Notice:
    """Mark one of the user's own notices read (another's is 404, as if it did not exist)."""
    notice = Notice.objects.select_for_update().filter(pk=notice_id, recipient_id=user.pk).first()
    if notice is None:
        raise Http404("no such notice")
    if notice.read_at is None:
        notice.read_at = now or timezone.now()
        notice.save(update_fields=["read_at"])
    return notice


@transaction.atomic
def notices_mark_all_read(*, user: Any, now: dt.datetime | None = None) -> int:
    return Notice.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=now or timezone.now())
