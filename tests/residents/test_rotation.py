"""Rotating FUWU_PII_KEY: old rows keep opening and being found while ``fuwu residents rotate-key`` re-seals
them a batch at a time, a row at a time: the identity number, its hash, and every contact column bound to
that hash together. Stopped half way it resumes; afterwards the old key can go."""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from fuwu.accounts.models import Role, User
from fuwu.residents import contacts, crypto, rotation
from fuwu.residents.models import Person
from fuwu.residents.selectors import persons_search
from fuwu.residents.services import persons_import
from tests.residents.factories import IN_AREA_VILLAGE, PersonFactory

pytestmark = pytest.mark.django_db

OLD = base64.b64encode(b"o" * 32).decode()
NEW = base64.b64encode(os.urandom(32)).decode()
CONTACT = {
    "contact_phone": "13812345678",
    "emergency_contact_name": "李建国",
    "emergency_contact_relation": "儿子",
    "emergency_contact_phone": "0576-88123456",
}


def legacy_blob(column: crypto.EncryptedColumn, plain: str, row: str, key: str) -> bytes:
    """Version 1 as written before rotation existed (identity numbers and contact details alike): no key id."""
    aead = crypto._aead(crypto.decode_key(key), column.purpose)
    nonce = os.urandom(crypto.NONCE_BYTES)
    return crypto.LEGACY_VERSION + nonce + aead.encrypt(nonce, plain.encode(), row.encode())


def numbers() -> dict[int, str]:
    return {
        p.pk: crypto.decrypt(p.id_number_encrypted, lookup=p.id_number_hash).value
        for p in Person.objects.order_by("pk")
    }


def contact_details() -> dict[int, dict[str, str | None]]:
    return {p.pk: contacts.stored(p) for p in Person.objects.order_by("pk")}


def under_new_key_only(settings: Any) -> None:
    """Every column of every row opens with NEW alone, bound to the hash NEW gives its number."""
    settings.FUWU_PII_OLD_KEYS = []
    for person in Person.objects.all():
        number = crypto.decrypt(person.id_number_encrypted, lookup=person.id_number_hash)
        assert person.id_number_hash == crypto.lookup_hash(number)
        for column in crypto.columns_by_model()["residents.Person"]:
            blob = getattr(person, column.field)
            if blob is not None:
                assert crypto.key_state(blob) == "current", (person.pk, column.field)
                crypto.open_text(column, blob, row=person.id_number_hash)


@pytest.fixture
def under_old_key(settings: Any) -> list[Person]:
    """Five residents written under OLD, then NEW becomes the key (OLD kept for the rotation).

    0: identity number in the version-1 format; 1: phone and emergency contact (version 2, OLD's key id);
    2: the same contact details in the version-1 format, as ``outreach`` wrote them before the key ring.
    """
    settings.FUWU_PII_KEY = OLD
    people = [PersonFactory(birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=i)) for i in range(3)]
    people.append(
        PersonFactory(
            birth_date=dt.date(1950, 1, 4),
            phone=CONTACT["contact_phone"],
            emergency_name=CONTACT["emergency_contact_name"],
            emergency_relation=CONTACT["emergency_contact_relation"],
            emergency_phone=CONTACT["emergency_contact_phone"],
        )
    )
    people.append(PersonFactory(birth_date=dt.date(1950, 1, 5)))
    first, second, third = people[0], people[3], people[2]
    number = crypto.decrypt(first.id_number_encrypted, lookup=first.id_number_hash)
    Person.objects.filter(pk=first.pk).update(
        id_number_encrypted=legacy_blob(crypto.ID_NUMBER, number.value, first.id_number_hash, OLD)
    )
    Person.objects.filter(pk=third.pk).update(
        **{
            column.field: legacy_blob(column, CONTACT[name], third.id_number_hash, OLD)
            for name, column in contacts.ENCRYPTED.items()
        }
    )
    settings.FUWU_PII_KEY, settings.FUWU_PII_OLD_KEYS = NEW, [OLD]
    return [first, second, third, people[1], people[4]]


def test_the_format_names_its_key_and_version_1_still_opens(under_old_key: list[Person], settings: Any) -> None:
    before, details = numbers(), contact_details()
    blob = bytes(Person.objects.get(pk=under_old_key[1].pk).id_number_encrypted)
    assert blob[:1] == crypto.FORMAT_VERSION
    assert blob[1:5] == crypto._key(OLD, "FUWU_PII_KEY").key_id
    settings.FUWU_PII_OLD_KEYS = []
    with pytest.raises(crypto.DecryptionError, match="add the old key to FUWU_PII_OLD_KEYS"):
        crypto.decrypt(blob, lookup=under_old_key[1].id_number_hash)
    settings.FUWU_PII_OLD_KEYS = [OLD]
    assert numbers() == before
    assert details[under_old_key[1].pk] == details[under_old_key[2].pk] == CONTACT  # version 2 and version 1


def search(client: Client, number: str) -> str:
    return client.post("/residents/", {"q": number}).content.decode()


def test_a_resident_with_contact_details_is_found_and_rotated_whole(
    under_old_key: list[Person], make_user: Callable[..., User], client: Client, settings: Any
) -> None:
    client.force_login(make_user(Role.DEPARTMENT_OFFICER))
    person = under_old_key[1]
    number, old_hash = numbers()[person.pk], person.id_number_hash
    assert person.name in search(client, number)  # before: under the old key

    call_command("residents", "rotate-key", stdout=io.StringIO())
    person.refresh_from_db()
    assert person.id_number_hash != old_hash  # re-hashed under NEW
    assert person.name in search(client, number)  # after, with the old key still configured
    under_new_key_only(settings)  # ... and with it gone
    assert person.name in search(client, number)
    assert contacts.stored(person) == CONTACT
    page = client.post(f"/residents/{person.pk}/contact/").content.decode()  # the audited reveal
    assert 'href="tel:13812345678"' in page
    assert "李建国（儿子）" in page
    out = io.StringIO()
    call_command("residents", "rotate-key", "--check", stdout=out)
    assert "residents.Person: 5 row(s) done, 0 row(s) still to re-encrypt" in out.getvalue()
    assert "FUWU_PII_OLD_KEYS can be removed" in out.getvalue()


def stop() -> None:
    raise KeyboardInterrupt  # the operator's Ctrl-C, after the first committed batch


def test_during_the_rotation_residents_are_found_and_not_duplicated(
    under_old_key: list[Person],
    make_user: Callable[..., User],
    tmp_path: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    officer = make_user(Role.DEPARTMENT_OFFICER)
    person = under_old_key[1]
    number = numbers()[person.pk]
    assert list(persons_search(user=officer, query=number).persons) == [person]
    # Imported again under the new key, with a new phone: recognised as the same resident and updated, not
    # registered twice. The new phone is sealed under NEW, but bound to the row's hash under OLD.
    sheet = tmp_path / "again.csv"
    sheet.write_text(
        f"姓名,身份证号,户号,户籍所在地,手机号\n{person.name},{number},{person.household_id},{IN_AREA_VILLAGE},"
        "13912345678\n",
        encoding="utf-8",
    )
    report = persons_import(path=sheet, actor=officer, valid_only=False)
    assert report.errors == []
    assert (report.record.created, report.record.updated) == (0, 1)
    assert Person.objects.count() == 5
    stored = Person.objects.get(pk=person.pk)
    assert stored.id_number_hash == person.id_number_hash
    assert crypto.key_state(stored.contact_phone_encrypted) == "current"
    assert contacts.stored(stored) == {**CONTACT, "contact_phone": "13912345678"}

    # Half way (stopped after the first batch): everyone still found, every column still opens.
    monkeypatch.setattr(rotation, "after_batch", stop)
    with pytest.raises(KeyboardInterrupt):
        rotation.pii_key_rotate(batch_size=2)
    assert rotation.pii_rows_left() == {"residents.Person": 3, "evaluation.ClauseFeedback": 0}
    for pk, clear in numbers().items():
        assert [p.pk for p in persons_search(user=officer, query=clear).persons] == [pk]
    monkeypatch.undo()
    rotation.pii_key_rotate(batch_size=2)
    under_new_key_only(settings)
    assert contacts.stored(Person.objects.get(pk=person.pk)) == {**CONTACT, "contact_phone": "13912345678"}
    for pk, clear in numbers().items():
        assert [p.pk for p in persons_search(user=officer, query=clear).persons] == [pk]


def test_rotate_key_rewrites_every_row_then_the_old_key_can_go(under_old_key: list[Person], settings: Any) -> None:
    before, details = numbers(), contact_details()
    out = io.StringIO()
    with pytest.raises(CommandError, match="rows remain under an old key"):
        call_command("residents", "rotate-key", "--check", stdout=out)
    text = out.getvalue()
    assert "residents.Person.id_number_encrypted: 0 under the current key, 4 under an old key, 1 in the" in text
    assert "residents.Person.contact_phone_encrypted: 0 under the current key, 1 under an old key, 1 in the" in text
    assert "residents.Person: 0 row(s) done, 5 row(s) still to re-encrypt, 0 row(s) that open with no" in text

    out = io.StringIO()
    call_command("residents", "rotate-key", "--batch-size", "2", stdout=out)
    assert "residents.Person: 5 row(s) re-encrypted, 0 already under the current key" in out.getvalue()
    assert "FUWU_PII_OLD_KEYS can be removed" in out.getvalue()

    under_new_key_only(settings)  # the old key is gone: everything opens and is found under the new one
    assert numbers() == before
    assert contact_details() == details
    out = io.StringIO()
    call_command("residents", "rotate-key", stdout=out)
    assert "0 row(s) re-encrypted, 5 already under the current key" in out.getvalue()


def test_every_listed_column_rotates(under_old_key: list[Person], settings: Any) -> None:
    """A column added to ENCRYPTED_COLUMNS rotates without more code: each is checked on a row that has it
    (the registry's here; public feedback's contact in ``tests/evaluation/test_feedback_contact.py``)."""
    rotation.pii_key_rotate()
    settings.FUWU_PII_OLD_KEYS = []
    person = Person.objects.get(pk=under_old_key[1].pk)
    for column in crypto.columns_by_model()["residents.Person"]:
        blob = getattr(person, column.field)
        assert blob is not None, column.field
        assert crypto.key_state(blob) == "current"
        assert crypto.open_text(column, blob, row=getattr(person, column.row_field))


def test_stopped_half_way_it_resumes_where_rows_are_left(
    under_old_key: list[Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    before, details = numbers(), contact_details()
    batches = []
    real = rotation.after_batch

    def stop_after_the_first_batch() -> None:
        batches.append(1)
        if len(batches) == 1:
            raise KeyboardInterrupt  # the operator's Ctrl-C, between two committed batches
        real()

    monkeypatch.setattr(rotation, "after_batch", stop_after_the_first_batch)
    with pytest.raises(KeyboardInterrupt):
        rotation.pii_key_rotate(batch_size=2)
    assert rotation.pii_rows_left() == {"residents.Person": 3, "evaluation.ClauseFeedback": 0}
    assert (numbers(), contact_details()) == (before, details)  # half rotated, every row still opens
    reports = rotation.pii_key_rotate(batch_size=2)
    assert [(r.rotated, r.already) for r in reports] == [(3, 2), (0, 0)]
    assert rotation.pii_rows_left() == {"residents.Person": 0, "evaluation.ClauseFeedback": 0}
    assert (numbers(), contact_details()) == (before, details)


def test_a_row_changed_while_it_is_rotated_keeps_the_change(
    under_old_key: list[Person], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """An import writes a new phone between the rotation's read and its write: the stale re-seal is not
    written over it; the row is read again and re-sealed with the new phone."""
    person = under_old_key[1]
    real = rotation._plan
    meddled = []

    def an_import_meanwhile(*args: Any) -> Any:
        plan = real(*args)
        if not meddled:
            meddled.append(1)
            Person.objects.filter(pk=person.pk).update(
                contact_phone_encrypted=crypto.seal_text(crypto.CONTACT_PHONE, "13912345678", row=person.id_number_hash)
            )
        return plan

    monkeypatch.setattr(rotation, "_plan", an_import_meanwhile)
    report, _feedback = rotation.pii_key_rotate(batch_size=10)
    assert (report.rotated, report.busy) == (5, 0)
    under_new_key_only(settings)
    assert contacts.stored(Person.objects.get(pk=person.pk))["contact_phone"] == "13912345678"


def test_a_bad_old_key_stops_start_up(settings: Any) -> None:
    from fuwu.residents.checks import pii_key_is_usable

    settings.FUWU_PII_OLD_KEYS = ["not-a-key"]
    assert [e.id for e in pii_key_is_usable()] == ["residents.E002"]


def test_check_tells_a_wrong_key_from_an_unfinished_rotation(under_old_key: list[Person], settings: Any) -> None:
    settings.FUWU_PII_OLD_KEYS = []  # as after restoring a backup with the wrong FUWU_PII_KEY
    out = io.StringIO()
    with pytest.raises(CommandError, match="neither FUWU_PII_KEY nor a key in FUWU_PII_OLD_KEYS"):
        call_command("residents", "rotate-key", "--check", stdout=out)
    assert "4 under a key that is not configured" in out.getvalue()  # and one in the version-1 format
    assert "0 row(s) done, 0 row(s) still to re-encrypt, 5 row(s) that open with no configured key" in out.getvalue()
    with pytest.raises(CommandError, match=f"residents.Person {under_old_key[0].pk}: "):
        call_command("residents", "rotate-key", stdout=io.StringIO())  # stops at once, changes nothing
    assert rotation.pii_rows_left() == {"residents.Person": 5, "evaluation.ClauseFeedback": 0}


def test_version_1_rows_under_the_current_key_are_brought_to_version_2(settings: Any, areas: object) -> None:
    """The demo database and anything written before the key ring: no key change, only the format."""
    person = PersonFactory(phone="13812345678")
    number = crypto.decrypt(person.id_number_encrypted, lookup=person.id_number_hash).value
    Person.objects.filter(pk=person.pk).update(
        id_number_encrypted=legacy_blob(crypto.ID_NUMBER, number, person.id_number_hash, settings.FUWU_PII_KEY),
        contact_phone_encrypted=legacy_blob(
            crypto.CONTACT_PHONE, "13812345678", person.id_number_hash, settings.FUWU_PII_KEY
        ),
    )
    assert rotation.pii_rows_left() == {"residents.Person": 1, "evaluation.ClauseFeedback": 0}
    report, _feedback = rotation.pii_key_rotate()
    assert report.rotated == 1
    person.refresh_from_db()
    assert crypto.key_state(person.id_number_encrypted) == crypto.key_state(person.contact_phone_encrypted) == "current"
    assert contacts.stored(person)["contact_phone"] == "13812345678"


def test_queued_uploads_under_the_old_key_hold_the_old_key(
    under_old_key: list[Person], make_user: Callable[..., User], settings: Any
) -> None:
    from fuwu.residents.services import persons_import_queue, persons_import_upload

    settings.FUWU_PII_KEY, settings.FUWU_PII_OLD_KEYS = OLD, []
    job = persons_import_queue(
        data=b"name\n", filename="list.csv", actor=make_user(Role.DEPARTMENT_OFFICER), valid_only=False
    )
    settings.FUWU_PII_KEY, settings.FUWU_PII_OLD_KEYS = NEW, [OLD]
    rotation.pii_key_rotate()
    assert persons_import_upload(job) == b"name\n"  # still opens during the rotation
    out = io.StringIO()
    with pytest.raises(CommandError, match="let the queued imports finish"):
        call_command("residents", "rotate-key", "--check", stdout=out)
    assert "1 uploaded list(s) wait for their import job under an old key" in out.getvalue()
