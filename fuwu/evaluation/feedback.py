"""Public feedback on the clauses of a standard in force: submitted, limited, moderated, answered, counted.

* **Anyone may write**, signed in or not, about one clause of a version in force; a contact is optional and
  is seen by the standards office only. Nothing identifying is kept for limits but a keyed hash of the
  address (HMAC with the site's key: the address itself cannot be read back from it).
* **Limits** (``settings.FUWU_FEEDBACK``), counted from the stored rows as the eligibility checks count theirs:
  at most ``per_address_per_hour`` from one address in a rolling hour and ``per_account_per_day`` from one
  account in a rolling day; past either, ``TooMuchFeedback``. The text is ``min_chars``–``max_chars`` long
  (with at least one letter or digit), the contact at most ``contact_max_chars``. A form's hidden honeypot
  field, filled in, is a robot: the view thanks it and stores nothing.
* **Moderation.** A comment is *pending* until the office approves it (shown publicly) or rejects it (never
  shown). Only an approved comment may be answered; the answer is public with it.
* **Counts by clause**: every status for the office and the evaluation report; approved only for the public.
* **The contact** is a telephone number (checked and stored as the registry's, ``fuwu.residents.phones``) or
  an e-mail address, encrypted at rest like the registry's contact details (``crypto.FEEDBACK_CONTACT``,
  rotated with them by ``fuwu residents rotate-key``), bound to a random token of its row. The office sees it
  masked (``138****5678``, ``z***@example.com``); ``feedback_contact_reveal`` shows it in full and leaves an
  audit row, as a resident's phone is revealed.

Every write is one transaction with its audit row; the audit rows carry neither the text's author nor the
contact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.common.audit import audit
from fuwu.evaluation.models import ClauseFeedback, FeedbackStatus
from fuwu.residents import crypto, phones
from fuwu.residents.masking import mask_email, mask_phone
from fuwu.standards.models import IN_FORCE, Clause, StandardVersion


class FeedbackError(ValueError):
    """Input that cannot be accepted; the message names the field and the fix."""


class TooMuchFeedback(FeedbackError):
    """Past the limit of comments from one address or one account."""


class NotAllowed(PermissionError):
    """Only the standards office moderates and answers."""


MODERATORS = {Role.STANDARDS_OFFICE}
READERS = {Role.STANDARDS_OFFICE, Role.AUDITOR}


def can_moderate(user: Any) -> bool:
    return has_role(user, MODERATORS)


def can_read_all(user: Any) -> bool:
    return has_role(user, READERS)


def address_hash(address: str | None) -> str:
    """A keyed hash of the sender's address: enough to count, never the address."""
    key = hashlib.sha256(f"fuwu feedback address v1 {settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, (address or "unknown").encode(), hashlib.sha256).hexdigest()


def _limits() -> dict[str, int]:
    return {k: int(v) for k, v in settings.FUWU_FEEDBACK.items()}


# --- reads ------------------------------------------------------------------------------------------------------


def version_in_force(key: str) -> StandardVersion:
    version = StandardVersion.objects.filter(standard__key=key, status__in=IN_FORCE).select_related("standard").first()
    if version is None:
        raise StandardVersion.DoesNotExist(key)
    return version


def clause_of(version: StandardVersion, number: str) -> Clause:
    return Clause.objects.get(version=version, number=number)


def public_feedback(version: StandardVersion, *, clause: Clause | None = None) -> QuerySet[ClauseFeedback]:
    """Approved comments (text, answer, dates) — never the contact, the author or the address hash."""
    rows = ClauseFeedback.objects.filter(version=version, status=FeedbackStatus.APPROVED)
    if clause is not None:
        rows = rows.filter(clause=clause)
    return rows.select_related("clause").only(
        "pk", "text", "answer", "submitted_at", "answered_at", "clause__number", "clause__title_zh", "clause__title_en"
    )


@dataclass(frozen=True)
class ClauseCount:
    number: str
    title: str
    approved: int = 0
    pending: int = 0
    rejected: int = 0

    @property
    def total(self) -> int:
        return self.approved + self.pending + self.rejected


def counts_by_clause(version: StandardVersion, *, public: bool) -> list[ClauseCount]:
    """Comments per clause, in the document's order: approved only when ``public``, every status otherwise."""
    rows = ClauseFeedback.objects.filter(version=version)
    if public:
        rows = rows.filter(status=FeedbackStatus.APPROVED)
    tally: dict[int, Counter[str]] = {}
    for clause_id, status, n in rows.values_list("clause_id", "status").annotate(n=Count("pk")).order_by():
        tally.setdefault(clause_id, Counter())[status] += n
    clauses = Clause.objects.filter(pk__in=tally).order_by("position")
    return [
        ClauseCount(
            c.number,
            c.title or c.text[:30],
            tally[c.pk][FeedbackStatus.APPROVED],
            0 if public else tally[c.pk][FeedbackStatus.PENDING],
            0 if public else tally[c.pk][FeedbackStatus.REJECTED],
        )
        for c in clauses
    ]


def inbox(user: Any, *, status: str = FeedbackStatus.PENDING) -> QuerySet[ClauseFeedback]:
    if not can_read_all(user):
        raise NotAllowed("only the standards office and auditors read the feedback inbox")
    rows = ClauseFeedback.objects.select_related("version__standard", "clause").order_by("submitted_at", "pk")
    return rows.filter(status=status) if status else rows


# --- writes -----------------------------------------------------------------------------------------------------


def _clean_text(text: str) -> str:
    limits = _limits()
    text = (text or "").replace("\x00", "").strip()
    if len(text) < limits["min_chars"] or not any(ch.isalnum() for ch in text):
        raise FeedbackError(_("意见：请至少写 %(n)d 个字，说明对本条款的意见。") % {"n": limits["min_chars"]})
    if len(text) > limits["max_chars"]:
        raise FeedbackError(
            _("意见：最多 %(n)d 个字（现在 %(m)d 个字），请删减。") % {"n": limits["max_chars"], "m": len(text)}
        )
    return text


def _check_limits(*, author: Any, hashed: str, now: dt.datetime) -> None:
    limits = _limits()
    per_address = limits["per_address_per_hour"]
    if ClauseFeedback.objects.filter(address_hash=hashed, submitted_at__gt=now - dt.timedelta(hours=1)).count() >= (
        per_address
    ):
        raise TooMuchFeedback(_("提交太频繁：同一网络每小时最多 %(n)d 条意见，请稍后再试。") % {"n": per_address})
    if author is not None:
        per_account = limits["per_account_per_day"]
        recent = ClauseFeedback.objects.filter(author=author, submitted_at__gt=now - dt.timedelta(days=1)).count()
        if recent >= per_account:
            raise TooMuchFeedback(_("提交太频繁：同一账号每天最多 %(n)d 条意见，请明天再试。") % {"n": per_account})


def clean_contact(raw: str) -> str:
    """``""`` (none given), an e-mail address, or a phone in the registry's stored form; else ``FeedbackError``."""
    contact = (raw or "").replace("\x00", "").strip()
    if not contact:
        return ""
    limit = _limits()["contact_max_chars"]
    if len(contact) > limit:
        raise FeedbackError(_("联系方式：最多 %(n)d 个字，也可以不填。") % {"n": limit})
    if "@" in contact:
        try:
            validate_email(contact)
        except ValidationError as exc:
            raise FeedbackError(_("联系方式：电子邮箱的格式不对，请写成 name@example.com 这样，也可以不填。")) from exc
        local, _at, domain = contact.rpartition("@")
        return f"{local}@{domain.lower()}"
    try:
        return phones.parse(contact)
    except phones.PhoneError as exc:
        raise FeedbackError(
            _("联系方式：请填写手机号（如 13812345678）、带区号的固定电话（如 0576-88123456）或电子邮箱，也可以不填。")
        ) from exc


def _contact(row: ClauseFeedback) -> str:
    return crypto.open_optional(crypto.FEEDBACK_CONTACT, row.contact_encrypted, row=row.contact_row) or ""


def masked_contact(row: ClauseFeedback) -> str:
    """What the office's inbox shows of a comment's contact: ``138****5678``, ``z***@example.com``, or ``""``."""
    contact = _contact(row)
    if not contact:
        return ""
    return mask_email(contact) if "@" in contact else mask_phone(contact)


@transaction.atomic
def feedback_contact_reveal(*, actor: Any, feedback_id: int) -> str:
    """A comment's contact in full, for the office only, with the audit row every reveal leaves."""
    if not can_moderate(actor):
        raise NotAllowed("only the standards office reads a comment's contact")
    try:
        row = ClauseFeedback.objects.get(pk=feedback_id)
    except ClauseFeedback.DoesNotExist as exc:
        raise FeedbackError(_("意见：没有编号为 %(pk)d 的意见。") % {"pk": feedback_id}) from exc
    contact = _contact(row)
    audit(actor=actor, event="feedback.contact_revealed", obj=row)
    return contact


@transaction.atomic
def feedback_submit(
    *, version: StandardVersion, clause_number: str, text: str, contact: str, author: Any, address: str | None
) -> ClauseFeedback:
    """A comment on one clause of a version in force, pending moderation. Raises ``FeedbackError``."""
    if version.status not in IN_FORCE:
        raise FeedbackError(_("标准：只接受对现行标准的意见。"))
    try:
        clause = clause_of(version, clause_number)
    except Clause.DoesNotExist as exc:
        raise FeedbackError(
            _("条款：%(code)s 没有这一条款，请从标准页面的条款进入。") % {"code": version.code}
        ) from exc
    body = _clean_text(text)
    contact = clean_contact(contact)
    user = author if getattr(author, "is_authenticated", False) else None
    now = timezone.now()
    hashed = address_hash(address)
    _check_limits(author=user, hashed=hashed, now=now)
    binding = secrets.token_hex(16)  # binds the contact's ciphertext to this row (crypto.FEEDBACK_CONTACT)
    row = ClauseFeedback.objects.create(
        version=version,
        clause=clause,
        text=body,
        contact_encrypted=crypto.seal_optional(crypto.FEEDBACK_CONTACT, contact or None, row=binding),
        contact_row=binding,
        author=user,
        address_hash=hashed,
        submitted_at=now,
    )
    audit(actor=user, event="feedback.submitted", obj=row, after={"clause": clause.number, "version": version.pk})
    return row


def _locked(pk: int) -> ClauseFeedback:
    try:
        return ClauseFeedback.objects.select_for_update().get(pk=pk)
    except ClauseFeedback.DoesNotExist as exc:
        raise FeedbackError(_("意见：没有编号为 %(pk)d 的意见。") % {"pk": pk}) from exc


@transaction.atomic
def feedback_moderate(*, actor: Any, feedback_id: int, decision: str, note: str = "") -> ClauseFeedback:
    """pending → approved (shown publicly) or rejected (with a note saying why). Office only."""
    if not can_moderate(actor):
        raise NotAllowed("only the standards office moderates feedback")
    if decision not in (FeedbackStatus.APPROVED, FeedbackStatus.REJECTED):
        raise FeedbackError(_("审核结果：请选择公开或不采用。"))
    note = (note or "").strip()
    if decision == FeedbackStatus.REJECTED and not note:
        raise FeedbackError(_("审核说明：不采用时请写明理由。"))
    if len(note) > 300:
        raise FeedbackError(_("审核说明：最多 300 个字。"))
    row = _locked(feedback_id)
    if row.status != FeedbackStatus.PENDING:
        raise FeedbackError(
            _("意见：第 %(pk)d 条已经审核（%(status)s）。") % {"pk": row.pk, "status": row.get_status_display()}
        )
    row.status = decision
    row.moderated_at = timezone.now()
    row.moderated_by = actor
    row.moderation_note = note
    row.save(update_fields=["status", "moderated_at", "moderated_by", "moderation_note"])
    audit(actor=actor, event="feedback.moderated", obj=row, before={"status": "pending"}, after={"status": decision})
    return row


@transaction.atomic
def feedback_answer(*, actor: Any, feedback_id: int, answer: str) -> ClauseFeedback:
    """The office's public answer to an approved comment (it may be replaced by a later answer)."""
    if not can_moderate(actor):
        raise NotAllowed("only the standards office answers feedback")
    answer = (answer or "").replace("\x00", "").strip()
    if not answer:
        raise FeedbackError(_("答复：请填写答复内容。"))
    if len(answer) > _limits()["max_chars"]:
        raise FeedbackError(_("答复：最多 %(n)d 个字。") % {"n": _limits()["max_chars"]})
    row = _locked(feedback_id)
    if row.status != FeedbackStatus.APPROVED:
        raise FeedbackError(_("意见：第 %(pk)d 条尚未公开，公开后才能答复。") % {"pk": row.pk})
    before = {"answered": bool(row.answer)}
    row.answer = answer
    row.answered_at = timezone.now()
    row.answered_by = actor
    row.save(update_fields=["answer", "answered_at", "answered_by"])
    audit(actor=actor, event="feedback.answered", obj=row, before=before, after={"answered": True})
    return row
