"""A comment's optional contact: checked like the registry's phones, encrypted at rest under the PII key ring,
masked in the office's inbox, revealed in full only to the office with an audit row, rotated with the registry,
and encrypted by migration 0005 where it was stored in clear."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fuwu.accounts.models import Role
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.models import AuditLog
from fuwu.evaluation import feedback
from fuwu.evaluation.models import ClauseFeedback
from fuwu.residents import crypto, rotation
from fuwu.standards.models import StandardVersion
from fuwu.standards.services import standards_load
from tests.homecare.conftest import _parsed, make_user

KEY = "taizhou-home-care"
CLAUSE = "6.2.1"
PAGE = reverse("evaluation:feedback_clause", args=[KEY, CLAUSE])
INBOX = reverse("evaluation:feedback_inbox")
MIGRATION = ("evaluation", "0005_feedback_contact_encrypted")
OLD = base64.b64encode(b"o" * 32).decode()
NEW = base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def version(db: None) -> StandardVersion:
    standards_load(parsed=_parsed(), actor=None)
    return StandardVersion.objects.get(standard__key=KEY)


@pytest.fixture
def office(db: None) -> Any:
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    return make_user("stdoffice", Role.STANDARDS_OFFICE, city)


def submit(version: StandardVersion, contact: str, *, address: str = "x") -> ClauseFeedback:
    return feedback.feedback_submit(
        version=version, clause_number=CLAUSE, text="送餐时间太早了", contact=contact, author=None, address=address
    )


def raw_rows() -> list[tuple[Any, ...]]:
    """Every column of every comment, as the database holds it (no model, no decryption)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ClauseFeedback._meta.db_table}")  # noqa: S608 - our own table name
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cursor.fetchall()]


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("written", "stored", "masked"),
    [
        ("138 0000 1111", "13800001111", "138****1111"),
        ("（0576）8812 3456", "0576-88123456", "0576-****3456"),
        ("Zhang.San@Example.COM", "Zhang.San@example.com", "Z***@example.com"),
    ],
)
def test_the_contact_is_encrypted_at_rest_and_masked(
    version: StandardVersion, written: str, stored: str, masked: str
) -> None:
    row = submit(version, written)
    everything = repr(raw_rows())
    for clear in {written, stored, stored.lower(), stored[-8:]}:
        assert clear not in everything, clear
    stored_blob = ClauseFeedback.objects.get(pk=row.pk).contact_encrypted
    assert stored_blob is not None
    blob = bytes(stored_blob)
    assert crypto.key_state(blob) == "current"
    assert crypto.open_text(crypto.FEEDBACK_CONTACT, blob, row=row.contact_row) == stored
    with pytest.raises(crypto.DecryptionError):  # bound to its row: copied onto another it does not open
        crypto.open_text(crypto.FEEDBACK_CONTACT, blob, row=submit(version, "", address="y").contact_row)
    assert feedback.masked_contact(ClauseFeedback.objects.get(pk=row.pk)) == masked


def test_no_contact_stores_nothing(version: StandardVersion) -> None:
    row = submit(version, "   ")
    assert row.contact_encrypted is None
    assert feedback.masked_contact(row) == ""


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("8812345", "联系方式：请填写手机号"),  # no area code
        ("1380000111", "联系方式：请填写手机号"),  # 10 digits
        ("微信 zhangsan", "联系方式：请填写手机号"),
        ("zhang@", "联系方式：电子邮箱的格式不对"),
        ("1" * 61, "联系方式：最多 60 个字"),
    ],
)
def test_a_contact_that_is_neither_a_phone_nor_an_e_mail_is_refused(
    version: StandardVersion, written: str, message: str
) -> None:
    response = Client().post(PAGE, {"text": "送餐时间太早了", "contact": written}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ClauseFeedback.objects.count() == 0


def test_the_inbox_masks_and_only_the_office_reveals_with_an_audit_row(version: StandardVersion, office: Any) -> None:
    row = submit(version, "13800001111")
    page = logged_in(office).get(INBOX).content.decode()
    assert "138****1111" in page
    assert "13800001111" not in page
    assert AuditLog.objects.filter(event="feedback.contact_revealed").count() == 0

    reveal = reverse("evaluation:feedback_contact", args=[row.pk])
    response = logged_in(office).post(reveal, {"back": "pending"})
    assert response.status_code == 200
    assert "13800001111" in response.content.decode()
    (entry,) = AuditLog.objects.filter(event="feedback.contact_revealed")
    assert (entry.object_id, entry.actor_id) == (str(row.pk), office.pk)
    assert "13800001111" not in str(entry.before) + str(entry.after) + entry.note

    auditor = make_user("auditor", Role.AUDITOR, None)
    auditor_page = logged_in(auditor).get(INBOX).content.decode()
    assert "1111" not in auditor_page  # the auditor reads the comments, not even the masked contact
    for someone in (auditor, make_user("resident", Role.RESIDENT, None)):
        assert logged_in(someone).post(reveal).status_code == 403
    assert Client().post(reveal).status_code == 403
    with pytest.raises(feedback.NotAllowed):
        feedback.feedback_contact_reveal(actor=auditor, feedback_id=row.pk)
    assert logged_in(office).post(reverse("evaluation:feedback_contact", args=[99999])).status_code == 404
    assert AuditLog.objects.filter(event="feedback.contact_revealed").count() == 1


def test_rotating_the_key_re_seals_feedback_contacts(version: StandardVersion, settings: Any) -> None:
    assert crypto.FEEDBACK_CONTACT in crypto.ENCRYPTED_COLUMNS
    settings.FUWU_PII_KEY, settings.FUWU_PII_OLD_KEYS = OLD, []
    rows = [submit(version, phone, address=phone) for phone in ("13800001111", "0576-88123456", "")]
    settings.FUWU_PII_KEY, settings.FUWU_PII_OLD_KEYS = NEW, [OLD]
    assert rotation.pii_rows_left()["evaluation.ClauseFeedback"] == 2
    reports = {r.model: r for r in rotation.pii_key_rotate(batch_size=1)}
    assert (reports["evaluation.ClauseFeedback"].rotated, reports["evaluation.ClauseFeedback"].already) == (2, 1)
    settings.FUWU_PII_OLD_KEYS = []  # the old key is gone: everything opens under the new one alone
    assert rotation.pii_rows_left()["evaluation.ClauseFeedback"] == 0
    after = {r.pk: r for r in ClauseFeedback.objects.all()}
    assert [feedback.masked_contact(after[r.pk]) for r in rows] == ["138****1111", "0576-****3456", ""]
    for row in rows[:2]:
        assert after[row.pk].contact_row == row.contact_row  # not a keyed hash: the binding is kept
        rotated = after[row.pk].contact_encrypted
        assert rotated is not None
        assert crypto.key_state(rotated) == "current"


@pytest.mark.django_db(transaction=True)
def test_migration_0005_encrypts_clear_contacts_and_reverses() -> None:
    standards_load(parsed=_parsed(), actor=None)
    version = StandardVersion.objects.get(standard__key=KEY)
    clause = version.clauses.get(number=CLAUSE)
    executor = MigrationExecutor(connection)
    (before,) = [
        parent.key for parent in executor.loader.graph.node_map[MIGRATION].parents if parent.key[0] == "evaluation"
    ]
    executor.migrate([before])
    apps = executor.loader.project_state([before]).apps
    model = apps.get_model("evaluation", "ClauseFeedback")
    written = ["13800001111", " zhang@example.com ", "", "写在旧表里的 0576 88123456"]
    pks = [
        model.objects.create(
            version_id=version.pk, clause_id=clause.pk, text="意见", contact=c, address_hash=f"h{n}",
            submitted_at=timezone.now(),
        ).pk
        for n, c in enumerate(written)
    ]  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([MIGRATION])
    everything = repr(raw_rows())
    for clear in ("13800001111", "zhang@example.com", "88123456"):
        assert clear not in everything
    apps = executor.loader.project_state([MIGRATION]).apps
    rows = apps.get_model("evaluation", "ClauseFeedback").objects.in_bulk(pks)
    opened = [
        crypto.open_optional(crypto.FEEDBACK_CONTACT, rows[pk].contact_encrypted, row=rows[pk].contact_row)
        for pk in pks
    ]
    assert opened == ["13800001111", "zhang@example.com", None, "写在旧表里的 0576 88123456"]  # kept as written
    assert len({rows[pk].contact_row for pk in pks if rows[pk].contact_encrypted is not None}) == 3

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([before])  # reversible: the clear column comes back with the contacts in it
    apps = executor.loader.project_state([before]).apps
    back = apps.get_model("evaluation", "ClauseFeedback").objects.in_bulk(pks)
    assert [back[pk].contact for pk in pks] == ["13800001111", "zhang@example.com", "", "写在旧表里的 0576 88123456"]

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
