"""Identity numbers at rest: AES-GCM round trip, fresh nonces, lookup by keyed hash, key handling."""

from __future__ import annotations

import base64
import datetime as dt
import os
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from fuwu.residents import crypto, idnumber
from fuwu.residents.checks import pii_key_is_not_the_development_key, pii_key_is_usable
from fuwu.residents.models import Person
from fuwu.residents.selectors import persons_search
from tests.residents.factories import PersonFactory

NUMBER = idnumber.make("331002", dt.date(1950, 3, 12), 123)


def test_round_trip() -> None:
    lookup, blob = crypto.seal(NUMBER)
    assert crypto.decrypt(blob, lookup=lookup) == NUMBER
    assert crypto.decrypt(memoryview(blob), lookup=lookup) == NUMBER  # as PostgreSQL returns bytea


def test_ciphertext_hides_the_number_and_differs_each_time() -> None:
    lookup = crypto.lookup_hash(NUMBER)
    first, second = crypto.encrypt(NUMBER, lookup=lookup), crypto.encrypt(NUMBER, lookup=lookup)
    assert NUMBER.value.encode() not in first
    assert first != second  # a fresh nonce each time: equal numbers are not visible as equal ciphertexts
    assert crypto.decrypt(first, lookup=lookup) == crypto.decrypt(second, lookup=lookup) == NUMBER


def test_the_hash_is_keyed_and_stable() -> None:
    assert crypto.lookup_hash(NUMBER) == crypto.lookup_hash(idnumber.parse(NUMBER.value.lower()))
    assert NUMBER.value not in crypto.lookup_hash(NUMBER)
    other = idnumber.make("331002", dt.date(1950, 3, 12), 125)
    assert crypto.lookup_hash(NUMBER) != crypto.lookup_hash(other)


def test_a_ciphertext_moved_to_another_row_does_not_open() -> None:
    _, blob = crypto.seal(NUMBER)
    other_row = crypto.lookup_hash(idnumber.make("331002", dt.date(1950, 3, 12), 125))
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, lookup=other_row)


def test_another_key_neither_decrypts_nor_hashes_alike(settings: Any) -> None:
    lookup, blob = crypto.seal(NUMBER)
    settings.FUWU_PII_KEY = base64.b64encode(os.urandom(32)).decode()
    assert crypto.lookup_hash(NUMBER) != lookup
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, lookup=lookup)


@pytest.mark.django_db
def test_stored_rows_hold_no_clear_number_and_are_found_by_hash(make_user: Any) -> None:
    person = PersonFactory(birth_date=dt.date(1950, 3, 12))
    row = Person.objects.values("id_number_encrypted", "id_number_hash").get(pk=person.pk)
    number = crypto.decrypt(row["id_number_encrypted"], lookup=row["id_number_hash"])
    assert number.value not in bytes(row["id_number_encrypted"]).decode("latin-1")
    assert Person.objects.get(id_number_hash=crypto.lookup_hash(number)) == person
    from fuwu.accounts.models import Role

    officer = make_user(Role.DEPARTMENT_OFFICER)
    assert list(persons_search(user=officer, query=number.value).persons) == [person]
    assert list(persons_search(user=officer, query=number.value.lower()).persons) == [person]


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_bad_key_is_refused_with_the_reason(bad: str, settings: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="FUWU_PII_KEY"):
        crypto.decode_key(bad)
    settings.FUWU_PII_KEY = bad
    assert [e.id for e in pii_key_is_usable()] == ["residents.E001"]


def test_the_development_key_is_flagged_for_deployment(settings: Any) -> None:
    settings.FUWU_PII_KEY = crypto.DEVELOPMENT_KEY
    assert [w.id for w in pii_key_is_not_the_development_key()] == ["residents.W001"]
    settings.FUWU_PII_KEY = base64.b64encode(os.urandom(32)).decode()
    assert pii_key_is_not_the_development_key() == []


def test_a_file_is_sealed_under_a_purpose_of_its_own() -> None:
    data = "姓名,身份证号\n".encode()
    blob = crypto.seal_bytes(data, purpose="upload", aad="token")
    assert crypto.open_bytes(memoryview(blob), purpose="upload", aad="token") == data
    with pytest.raises(crypto.DecryptionError):
        crypto.open_bytes(blob, purpose="upload", aad="another token")
    with pytest.raises(ValueError, match="column"):
        crypto.seal_bytes(data, purpose=crypto.CONTACT_PHONE.purpose, aad="token")
