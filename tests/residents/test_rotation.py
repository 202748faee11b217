"""Rotating FUWU_PII_KEY: old rows keep opening and being found while ``fuwu residents rotate-key`` re-encrypts
and re-hashes them a batch at a time; stopped half way it resumes; afterwards the old key can go."""

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

from fuwu.accounts.models import Role, User
from fuwu.residents import crypto, idnumber, rotation
from fuwu.residents.models import Person
from fuwu.residents.selectors import persons_search
from fuwu.residents.services import persons_import
from tests.residents.factories import IN_AREA_VILLAGE, PersonFactory

pytestmark = pytest.mark.django_db

OLD = base64.b64encode(b"o" * 32).decode()
NEW = base64.b64encode(os.urandom(32)).decode()


def legacy_blob(number: idnumber.IdNumber, lookup: str, key: str) -> bytes:
    """Version 1 as written before rotation existed: no key id."""
    aead = crypto._aead(crypto.decode_key(key), crypto.ID_NUMBER)
    nonce = os.urandom(crypto.NONCE_BYTES)
    return crypto.LEGACY_VERSION + nonce + aead.encrypt(nonce, number.value.encode(), lookup.encode())


def numbers() -> dict[int, str]:
    return {
        p.pk: crypto.decrypt(p.id_number_encrypted, lookup=p.id_number_hash).value
        for p in Person.objects.order_by("pk")
    }


@pytest.fixture
def under_old_key(settings: Any) -> list[Person]:
    """Five residents written under OLD, one of them in the version-1 format; then NEW becomes the key."""
    settings.FUWU_PII_KEY = OLD
    people = [PersonFactory(birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=i)) for i in range(5)]
    first = people[0]
    number = crypto.decrypt(first.id_number_encrypted, lookup=first.id_number_hash)
    Person.objects.filter(pk=first.pk).update(id_number_encrypted=legacy_blob(number, first.id_number_hash, OLD))
    settings.FUWU_PII_KEY, settings.FUWU_PII_OLD_KEYS = NEW, [OLD]
    return people


def test_the_format_names_its_key_and_version_1_still_opens(under_old_key: list[Person], settings: Any) -> None:
    before = numbers()
    blob = bytes(Person.objects.get(pk=under_old_key[1].pk).id_number_encrypted)
    assert blob[:1] == crypto.FORMAT_VERSION
    assert blob[1:5] == crypto._key(OLD, "FUWU_PII_KEY").key_id
    settings.FUWU_PII_OLD_KEYS = []
    with pytest.raises(crypto.DecryptionError, match="add the old key to FUWU_PII_OLD_KEYS"):
        crypto.decrypt(blob, lookup=under_old_key[1].id_number_hash)
    settings.FUWU_PII_OLD_KEYS = [OLD]
    assert numbers() == before


def test_during_the_rotation_residents_are_found_and_not_duplicated(
    under_old_key: list[Person], make_user: Callable[..., User], tmp_path: Path
) -> None:
    officer = make_user(Role.DEPARTMENT_OFFICER)
    person = under_old_key[2]
    number = crypto.decrypt(person.id_number_encrypted, lookup=person.id_number_hash)
    assert list(persons_search(user=officer, query=number.value).persons) == [person]
    # Imported again under the new key: recognised as the same resident and updated, not registered twice.
    sheet = tmp_path / "again.csv"
    sheet.write_text(
        f"姓名,身份证号,户号,户籍所在地\n{person.name},{number.value},{person.household_id},{IN_AREA_VILLAGE}\n",
        encoding="utf-8",
    )
    report = persons_import(path=sheet, actor=officer, valid_only=False)
    assert report.errors == []
    assert (report.record.created, report.record.updated + report.record.unchanged) == (0, 1)
    assert Person.objects.count() == 5


def test_rotate_key_rewrites_every_row_then_the_old_key_can_go(under_old_key: list[Person], settings: Any) -> None:
    before = numbers()
    out = io.StringIO()
    with pytest.raises(CommandError, match="rows remain under an old key"):
        call_command("residents", "rotate-key", "--check", stdout=out)
    assert "Person.id_number_encrypted: 0 under the current key, 5 row(s) still under an old key" in out.getvalue()

    out = io.StringIO()
    call_command("residents", "rotate-key", "--batch-size", "2", stdout=out)
    assert "5 re-encrypted, 0 already under the current key" in out.getvalue()
    assert "FUWU_PII_OLD_KEYS can be removed" in out.getvalue()

    settings.FUWU_PII_OLD_KEYS = []  # the old key is gone: everything opens and is found under the new one
    assert numbers() == before
    for person in Person.objects.all():
        number = crypto.decrypt(person.id_number_encrypted, lookup=person.id_number_hash)
        assert person.id_number_hash == crypto.lookup_hash(number)
        assert crypto.under_current_key(person.id_number_encrypted)
    out = io.StringIO()
    call_command("residents", "rotate-key", stdout=out)
    assert "0 re-encrypted, 5 already under the current key" in out.getvalue()


def test_stopped_half_way_it_resumes_where_rows_are_left(
    under_old_key: list[Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = numbers()
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
    assert rotation.pii_rows_under_old_keys() == {"residents.Person.id_number_encrypted": 3}
    assert numbers() == before  # half rotated, every row still opens
    reports = rotation.pii_key_rotate(batch_size=2)
    assert [(r.rotated, r.already) for r in reports] == [(3, 2)]
    assert rotation.pii_rows_under_old_keys() == {"residents.Person.id_number_encrypted": 0}
    assert numbers() == before


def test_a_bad_old_key_stops_start_up(settings: Any) -> None:
    from fuwu.residents.checks import pii_key_is_usable

    settings.FUWU_PII_OLD_KEYS = ["not-a-key"]
    assert [e.id for e in pii_key_is_usable()] == ["residents.E002"]


def test_check_tells_a_wrong_key_from_an_unfinished_rotation(under_old_key: list[Person], settings: Any) -> None:
    settings.FUWU_PII_OLD_KEYS = []  # as after restoring a backup with the wrong FUWU_PII_KEY
    out = io.StringIO()
    with pytest.raises(CommandError, match="neither FUWU_PII_KEY nor in FUWU_PII_OLD_KEYS"):
        call_command("residents", "rotate-key", "--check", stdout=out)
    assert "4 under a key that is not configured" in out.getvalue()  # and one in the version-1 format
