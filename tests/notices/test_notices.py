"""Notices: each state change writes in-site messages to the right accounts, the bell counts them, they are
marked read; SMS and e-mail go through the configured backend (the outbox files by default), retried when a
send fails; nothing carries a full name, an identity number or a full phone number."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from fuwu.accounts.models import Role, User
from fuwu.applications.models import Application, Provision
from fuwu.applications.services import (
    MaterialInput,
    application_accept,
    application_accept_with_promise,
    application_advance,
    application_close,
    application_decide,
    application_notice,
    application_supply,
    application_transfer,
    application_withdraw,
)
from fuwu.notices import backends, messages
from fuwu.notices.models import Delivery, DeliveryStatus, Notice
from fuwu.notices.services import deliveries_send_due, delivery_send
from fuwu.residents import crypto
from fuwu.residents.models import Person
from tests.applications.conftest import MONDAY, World, at, photo

PHONE = "13812345678"


def as_user(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def kinds_for(user: User) -> list[str]:
    return list(Notice.objects.filter(recipient=user).order_by("id").values_list("kind", flat=True))


@pytest.fixture
def outbox(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return tmp_path / "var" / "outbox"


def with_phone(person: Person, phone: str = PHONE) -> None:
    person.contact_phone_encrypted = crypto.seal_optional(crypto.CONTACT_PHONE, phone, row=person.id_number_hash)
    person.save(update_fields=["contact_phone_encrypted"])


# --- who is told ---------------------------------------------------------------------------------------------


def test_a_submission_tells_the_applicant_side_and_the_handling_officers_only(world: World) -> None:
    world.apply()
    assert kinds_for(world.parent) == ["submitted"]
    assert kinds_for(world.officer) == ["submitted"]
    for nobody in (world.officer_b, world.officer_civil, world.stranger, world.resident, world.agent):
        assert kinds_for(nobody) == []
    (officer_notice,) = Notice.objects.filter(recipient=world.officer)
    assert officer_notice.audience == "officer"
    assert officer_notice.link.endswith(f"/applications/{Application.objects.get().pk}/")


def test_an_agent_submitting_and_the_linked_family_are_both_told(world: World) -> None:
    world.apply(actor=world.agent)
    assert kinds_for(world.agent) == ["submitted"]
    assert kinds_for(world.parent) == ["submitted"]


def test_every_state_change_tells_the_applicant(world: World) -> None:
    a = world.apply()
    application_notice(actor=world.officer, application=a, missing=[0], reason="申请表未签字", now=at(MONDAY, 10))
    application_supply(
        actor=world.parent, application=a, materials={0: MaterialInput(Provision.UPLOAD, photo())}, now=at(MONDAY, 11)
    )
    application_accept(actor=world.officer, application=a, now=at(MONDAY, 12))
    application_advance(actor=world.officer, application=a, now=at(MONDAY, 13))
    application_decide(actor=world.officer, application=a, approve=True, reason="", now=at(MONDAY, 14))
    assert kinds_for(world.parent) == ["submitted", "notice", "supplied", "accepted", "advanced", "approved"]
    # The officer hears of what asks them to act, never of their own actions.
    assert kinds_for(world.officer) == ["submitted", "supplied"]


@pytest.mark.parametrize("ending", ["refused", "withdrawn", "closed", "transferred", "accepted_with_promise"])
def test_the_other_changes_tell_the_applicant_too(world: World, ending: str) -> None:
    a = world.apply()
    now = at(MONDAY, 12)
    if ending == "refused":
        application_decide(
            actor=world.officer, application=a, approve=False, reason="x", ground="criterion:preschool", now=now
        )
    elif ending == "withdrawn":
        application_withdraw(actor=world.parent, application=a, now=now)
    elif ending == "closed":
        application_close(actor=world.officer, application=a, reason="逾期未补正", now=now)
    elif ending == "transferred":
        application_transfer(actor=world.officer, application=a, department=world.civil, reason="职责", now=now)
        assert kinds_for(world.officer_civil) == ["transferred"]  # the new department's officers
    else:
        application_accept_with_promise(
            actor=world.officer, application=a, promised=[0], days=5, reason="容缺", now=now
        )
    assert kinds_for(world.parent) == ["submitted", ending]
    if ending == "withdrawn":
        assert kinds_for(world.officer) == ["submitted", "withdrawn"]


def test_a_refused_change_writes_no_notice(world: World) -> None:
    a = world.apply()
    with pytest.raises(Exception):  # noqa: B017, PT011 - a refusal of any kind
        application_close(actor=world.officer, application=a, reason="   ", now=at(MONDAY, 12))
    with pytest.raises(Exception):  # noqa: B017, PT011
        application_accept(actor=world.officer_b, application=a, now=at(MONDAY, 12))
    assert kinds_for(world.parent) == ["submitted"]


# --- masked, translated --------------------------------------------------------------------------------------


def test_notices_carry_masked_forms_only(world: World) -> None:
    a = world.apply()
    application_close(actor=world.officer, application=a, reason="林小禾的家长来电要求终止", now=at(MONDAY, 12))
    number = crypto.decrypt(world.child.id_number_encrypted, lookup=world.child.id_number_hash).value
    for notice in Notice.objects.all():
        stored = json.dumps(notice.params, ensure_ascii=False)
        text = messages.render(notice.kind, notice.audience, notice.params)
        for secret in (world.child.name, number, "来电要求终止"):
            assert secret not in stored
            assert secret not in text
        assert "林*" in text


def test_notice_words_are_translated(world: World) -> None:
    world.apply()
    notice = Notice.objects.get(recipient=world.parent)
    chinese = messages.render(notice.kind, notice.audience, notice.params, language="zh-hans")
    english = messages.render(notice.kind, notice.audience, notice.params, language="en")
    assert "已收到" in chinese
    assert "received" in english.lower()
    assert "Preschool aid" in english  # the item's English name
    with translation.override("en"):
        assert messages.render(notice.kind, notice.audience, notice.params) == english


# --- the bell, the page, marking read ------------------------------------------------------------------------


def test_the_bell_counts_unread_and_marking_read_lowers_it(world: World) -> None:
    a = world.apply()
    application_accept(actor=world.officer, application=a, now=at(MONDAY, 10))
    client = as_user("parent")
    page = client.get("/applications/").content.decode()
    assert 'data-testid="notice-bell"' in page
    assert "2 条未读" in page
    first = Notice.objects.filter(recipient=world.parent).order_by("id").first()
    assert first is not None
    response = client.post(f"/notices/{first.pk}/read/")
    assert response.status_code == 302
    assert "1 条未读" in client.get("/applications/").content.decode()
    listing = client.get("/notices/").content.decode()
    assert "已受理" in listing
    assert "林*" in listing
    assert client.post("/notices/read-all/").status_code == 302
    assert not Notice.objects.filter(recipient=world.parent, read_at__isnull=True).exists()
    assert "条未读" not in client.get("/notices/").content.decode()


def test_opening_a_notice_marks_it_read_and_goes_to_the_application(world: World) -> None:
    world.apply()
    notice = Notice.objects.get(recipient=world.parent)
    response = as_user("parent").post(f"/notices/{notice.pk}/read/", {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == notice.link
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_another_accounts_notice_cannot_be_marked(world: World) -> None:
    world.apply()
    notice = Notice.objects.get(recipient=world.parent)
    assert as_user("stranger").post(f"/notices/{notice.pk}/read/").status_code == 404
    assert as_user("parent").get(f"/notices/{notice.pk}/read/").status_code == 405
    assert as_user("parent").post("/notices/999999/read/").status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None
    assert Client().get("/notices/").status_code == 302  # to the login page


def test_no_bell_for_visitors(world: World) -> None:
    assert 'data-testid="notice-bell"' not in Client().get("/").content.decode()


# --- the outbox ----------------------------------------------------------------------------------------------


def test_an_sms_is_written_to_the_outbox_masked(
    world: World, outbox: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with_phone(world.adult)
    from fuwu.applications.services import application_submit
    from fuwu.standards.models import ServiceItem

    with django_capture_on_commit_callbacks(execute=True):
        application_submit(
            actor=world.resident,
            item=ServiceItem.objects.get(key="sa-high-school-fee-waiver"),
            person=world.adult,
            materials={},
            now=at(MONDAY, 9),
        )
    (delivery,) = Delivery.objects.all()
    assert (delivery.channel, delivery.status, delivery.attempts) == ("sms", DeliveryStatus.SENT, 1)
    assert delivery.to_masked == "138****5678"
    (path,) = outbox.glob("*.json")
    content = path.read_text(encoding="utf-8")
    data = json.loads(content)
    assert data["to"] == "138****5678"
    assert "林*" in data["body"]
    number = crypto.decrypt(world.adult.id_number_encrypted, lookup=world.adult.id_number_hash).value
    for secret in (PHONE, world.adult.name, number):
        assert secret not in content
    # Staff of the city read it on the outbox page; nobody else does.
    so = User.objects.create_user(username="so", password="x-long-password-1", role=Role.STANDARDS_OFFICE)
    client = Client()
    client.force_login(so)
    page = client.get("/notices/outbox/").content.decode()
    assert "138****5678" in page
    assert PHONE not in page
    assert as_user("officer").get("/notices/outbox/").status_code == 403
    assert as_user("parent").get("/notices/outbox/").status_code == 403


def test_no_address_no_delivery_and_email_is_masked(
    world: World, outbox: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        world.apply()
    assert not Delivery.objects.exists()  # the parent's account has neither a phone nor an e-mail
    User.objects.filter(pk=world.parent.pk).update(email="lin.mother@example.com")
    a = Application.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        application_accept(actor=world.officer, application=a, now=at(MONDAY, 10))
    (delivery,) = Delivery.objects.all()
    assert (delivery.channel, delivery.to_masked, delivery.status) == ("email", "l***@example.com", "sent")
    assert "lin.mother" not in next(outbox.glob("*.json")).read_text(encoding="utf-8")


def test_the_backend_is_chosen_by_settings(
    world: World, outbox: Path, settings: Any, caplog: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.FUWU_NOTICES = {
        **settings.FUWU_NOTICES,
        "backends": {"sms": "fuwu.notices.backends.LogBackend", "email": "fuwu.notices.backends.LogBackend"},
    }
    User.objects.filter(pk=world.parent.pk).update(email="lin.mother@example.com")
    with caplog.at_level(logging.INFO, logger="fuwu.notices"), django_capture_on_commit_callbacks(execute=True):
        world.apply()
    (delivery,) = Delivery.objects.all()
    assert delivery.status == "sent"
    assert delivery.backend == "fuwu.notices.backends.LogBackend"
    assert delivery.reference.startswith("log:")
    assert not outbox.exists()
    assert "l***@example.com" in caplog.text
    assert "lin.mother" not in caplog.text


class BrokenBackend:
    def send(self, message: backends.OutgoingMessage) -> str:
        raise backends.DeliveryFailed("gateway down")


def test_a_failed_send_is_recorded_and_retried_until_it_goes_or_gives_up(
    world: World, outbox: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    broken = f"{__name__}.BrokenBackend"
    settings.FUWU_NOTICES = {**settings.FUWU_NOTICES, "backends": {"sms": broken, "email": broken}, "max_attempts": 3}
    User.objects.filter(pk=world.parent.pk).update(email="lin.mother@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        world.apply()
    (delivery,) = Delivery.objects.all()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "gateway down" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()
    assert deliveries_send_due() == 0  # not due yet: nothing is tried again at once
    later = delivery.next_attempt_at + dt.timedelta(seconds=1)
    assert delivery_send(delivery_id=delivery.pk, now=later) == "pending"
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.next_attempt_at - later > dt.timedelta(minutes=9)  # the pause doubles
    settings.FUWU_NOTICES = {
        **settings.FUWU_NOTICES,
        "backends": {
            "sms": "fuwu.notices.backends.OutboxFileBackend",
            "email": "fuwu.notices.backends.OutboxFileBackend",
        },
    }
    assert deliveries_send_due(now=delivery.next_attempt_at + dt.timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    assert len(list(outbox.glob("*.json"))) == 1


def test_a_send_that_keeps_failing_gives_up(
    world: World, outbox: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    broken = f"{__name__}.BrokenBackend"
    settings.FUWU_NOTICES = {**settings.FUWU_NOTICES, "backends": {"sms": broken, "email": broken}, "max_attempts": 2}
    User.objects.filter(pk=world.parent.pk).update(email="lin.mother@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        world.apply()
    delivery = Delivery.objects.get()
    assert delivery_send(delivery_id=delivery.pk, now=delivery.next_attempt_at + dt.timedelta(seconds=1)) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert deliveries_send_due(now=timezone.now() + dt.timedelta(days=1)) == 0


def test_an_unwritable_outbox_is_a_recorded_failure(
    world: World, settings: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    blocker = tmp_path / "var"
    blocker.write_text("a file where the folder should be")
    settings.VAR_DIR = blocker
    User.objects.filter(pk=world.parent.pk).update(email="lin.mother@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        world.apply()  # the application is not affected
    delivery = Delivery.objects.get()
    assert delivery.status == "pending"
    assert "outbox not writable" in delivery.last_error
    assert Application.objects.count() == 1
