"""Contact phone and emergency contact: parsed, encrypted at rest, masked, revealed with an audit row, imported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.test import Client

from fuwu.accounts.models import Role, User
from fuwu.common.models import AuditLog
from fuwu.residents import contacts, crypto, permissions, phones
from fuwu.residents.loading import persons_load as persons_load_parquet
from fuwu.residents.masking import mask_phone
from fuwu.residents.models import Person
from fuwu.residents.selectors import person_contact
from fuwu.residents.services import person_contact_reveal, persons_import
from tests.residents.factories import PersonFactory
from tests.residents.test_import import GOOD, HEADER, write_csv, write_xlsx
from tests.residents.test_parquet import SCHEMA, person, write

# --- parsing and masking -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits, as a Chinese IME types them
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0576-88123456", "0576-88123456"),
        ("0576 8812 3456", "0576-88123456"),
        ("(0576)88123456", "0576-88123456"),
        ("（0576）88123456", "0576-88123456"),
        ("057688123456", "0576-88123456"),
        ("+86 576 88123456", "0576-88123456"),
        ("010-62345678", "010-62345678"),
        ("021-5123456", "021-5123456"),
        ("0576-88123456-801", "0576-88123456-801"),
        ("0576-88123456转801", "0576-88123456-801"),
        ("0576-88123456 ext 801", "0576-88123456-801"),
    ],
)
def test_phone_forms_are_folded_to_one(raw: str, stored: str) -> None:
    assert phones.parse(raw) == stored


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("1381234567", "has 10 digits; a mobile number has 11"),
        ("138123456789", "has 12 digits"),
        ("12812345678", "not a mobile number"),
        ("86543210", "no area code"),
        ("0576-0123456", "not a landline number"),
        ("0576-865432", "not a landline number"),
        ("138x1234", "no extension"),
        ("电话138", "characters other than digits"),
        ("١٣٨١٢٣٤٥٦٧٨", "characters other than digits"),  # Arabic-Indic digits are digits to Python, not to us
        ("12345", "has 5 digits"),
        ("-", "characters other than digits"),
    ],
)
def test_bad_phones_say_what_is_wrong_without_repeating_the_number(raw: str, problem: str) -> None:
    with pytest.raises(phones.PhoneError) as caught:
        phones.parse(raw)
    assert problem in caught.value.problem
    assert caught.value.fix
    if len(raw) > 1:
        assert raw not in caught.value.problem  # import reports are stored: no phone numbers in them


@pytest.mark.parametrize(
    ("stored", "masked"),
    [
        ("13812345678", "138****5678"),
        ("0576-88123456", "0576-****3456"),
        ("0576-88123456-801", "0576-****3456"),
        ("010-62345678", "010-****5678"),
        ("", ""),
    ],
)
def test_mask_phone(stored: str, masked: str) -> None:
    assert mask_phone(stored) == masked


# --- encryption at rest ------------------------------------------------------------------------------------------


def test_every_encrypted_column_is_a_field_of_its_model_and_opens_only_there() -> None:
    row = "a" * 64
    for column in crypto.ENCRYPTED_COLUMNS:
        model = apps.get_model(column.model)
        assert model._meta.get_field(column.field).get_internal_type() == "BinaryField"
        model._meta.get_field(column.row_field)
        blob = crypto.seal_text(column, "0576-88123456", row=row)
        assert b"88123456" not in blob
        assert crypto.open_text(column, memoryview(blob), row=row) == "0576-88123456"
        with pytest.raises(crypto.DecryptionError):
            crypto.open_text(column, blob, row="b" * 64)  # another row
        for other in crypto.ENCRYPTED_COLUMNS:
            if other is not column:
                with pytest.raises(crypto.DecryptionError):
                    crypto.open_text(other, blob, row=row)  # another column
    assert len({c.purpose for c in crypto.ENCRYPTED_COLUMNS}) == len(crypto.ENCRYPTED_COLUMNS)
    assert set(contacts.ENCRYPTED.values()) <= set(crypto.ENCRYPTED_COLUMNS)


def test_the_identity_number_column_is_the_generic_api_under_its_own_key() -> None:
    from fuwu.residents import idnumber

    number = idnumber.make("331002", dt.date(1950, 3, 12), 123)
    lookup, blob = crypto.seal(number)
    assert crypto.open_text(crypto.ID_NUMBER, blob, row=lookup) == number.value
    assert crypto.decrypt(crypto.seal_text(crypto.ID_NUMBER, number.value, row=lookup), lookup=lookup) == number


@pytest.mark.django_db
def test_the_stored_columns_hold_no_clear_contact_details(areas: object) -> None:
    resident = PersonFactory(
        phone="13812345678", emergency_name="王小红", emergency_relation="女儿", emergency_phone="0576-88123456"
    )
    raw = Person.objects.filter(pk=resident.pk).values(*(c.field for c in contacts.ENCRYPTED.values())).get()
    for blob in raw.values():
        data = bytes(blob)
        assert data[:1] == crypto.FORMAT_VERSION
        for clear in ("13812345678", "88123456", "王小红", "女儿"):
            assert clear.encode() not in data
    assert contacts.stored(Person.objects.get(pk=resident.pk)) == {
        "contact_phone": "13812345678",
        "emergency_contact_name": "王小红",
        "emergency_contact_relation": "女儿",
        "emergency_contact_phone": "0576-88123456",
    }


# --- who sees what -----------------------------------------------------------------------------------------------


@pytest.fixture
def resident(areas: object) -> Person:
    return PersonFactory(
        name="王秀英",
        phone="13812345678",
        emergency_name="李建国",
        emergency_relation="儿子",
        emergency_phone="13998765432",
    )


def revealed(person: Person) -> list[AuditLog]:
    return list(AuditLog.objects.filter(event="person.contact_revealed", object_id=str(person.pk)))


def test_the_person_page_shows_contact_masked_and_reveals_it_with_an_audit_row(
    client: Client, make_user: Callable[..., User], resident: Person
) -> None:
    officer = make_user(Role.DEPARTMENT_OFFICER)
    client.force_login(officer)
    page = client.get(f"/residents/{resident.pk}/").content.decode()
    assert "138****5678" in page
    assert "李*（儿子）" in page
    assert "139****5432" in page
    assert "13812345678" not in page
    assert "李建国" not in page
    assert "显示完整联系方式" in page
    assert revealed(resident) == []

    assert client.get(f"/residents/{resident.pk}/contact/").status_code == 405  # a reveal is a POST
    page = client.post(f"/residents/{resident.pk}/contact/").content.decode()
    assert 'href="tel:13812345678"' in page
    assert "李建国（儿子）" in page
    assert "13998765432" in page
    [row] = revealed(resident)
    assert row.actor == officer
    assert "13812345678" not in str(row.after) + row.note

    fragment = client.post(f"/residents/{resident.pk}/contact/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    assert 'href="tel:13812345678"' in fragment
    assert len(revealed(resident)) == 2


def test_an_auditor_sees_contact_masked_and_cannot_reveal_it(
    client: Client, make_user: Callable[..., User], resident: Person
) -> None:
    client.force_login(make_user(Role.AUDITOR, "331000"))
    page = client.get(f"/residents/{resident.pk}/").content.decode()
    assert "138****5678" in page
    assert "显示完整联系方式" not in page
    assert client.post(f"/residents/{resident.pk}/contact/").status_code == 403
    assert revealed(resident) == []


def test_an_officer_of_another_area_gets_nothing(
    client: Client, make_user: Callable[..., User], resident: Person
) -> None:
    client.force_login(make_user(Role.DEPARTMENT_OFFICER, "331003"))
    assert client.post(f"/residents/{resident.pk}/contact/").status_code == 404
    assert revealed(resident) == []


def test_a_resident_without_contact_details_shows_none(
    client: Client, make_user: Callable[..., User], areas: object
) -> None:
    someone = PersonFactory()
    client.force_login(make_user(Role.DEPARTMENT_OFFICER))
    page = client.get(f"/residents/{someone.pk}/").content.decode()
    assert "未登记" in page
    assert "显示完整联系方式" not in page


# --- the selector other apps call ---------------------------------------------------------------------------------


@pytest.fixture
def visit_day_grant() -> Iterator[str]:
    """A grant as home care would register it: the caregiver named ``carer`` sees this elder's contact."""
    name = "tests.visit_day"
    permissions.register_contact_grant(name, lambda user, person: user.username == "carer")
    yield name
    permissions._CONTACT_GRANTS.pop(name)


def test_another_app_reads_contact_for_the_viewer_its_grant_vouches_for(
    make_user: Callable[..., User], resident: Person, visit_day_grant: str
) -> None:
    carer = make_user(Role.CAREGIVER, username="carer")
    stranger = make_user(Role.CAREGIVER, username="stranger")
    masked = person_contact(person=resident, viewer=carer, grant=visit_day_grant)
    assert masked is not None
    assert (masked.phone, masked.emergency_name, masked.revealed, masked.can_reveal) == (
        "138****5678",
        "李*",
        False,
        True,
    )
    assert person_contact(person=resident, viewer=carer) is None  # no grant, no registry access
    assert person_contact(person=resident, viewer=stranger, grant=visit_day_grant) is None
    assert person_contact(person=resident, viewer=carer, grant="tests.unknown") is None

    full = person_contact_reveal(person=resident, actor=carer, grant=visit_day_grant)
    assert (full.phone, full.emergency_name, full.emergency_phone) == ("13812345678", "李建国", "13998765432")
    [row] = revealed(resident)
    assert (row.actor, row.note) == (carer, visit_day_grant)
    with pytest.raises(PermissionDenied):
        person_contact_reveal(person=resident, actor=stranger, grant=visit_day_grant)
    assert len(revealed(resident)) == 1


def test_a_grant_name_is_registered_once(visit_day_grant: str) -> None:
    with pytest.raises(ValueError, match="already registered"):
        permissions.register_contact_grant(visit_day_grant, lambda user, person: True)


# --- import -----------------------------------------------------------------------------------------------------

CONTACT_HEADER = [*HEADER, "手机号", "紧急联系人", "与紧急联系人关系", "紧急联系人电话"]


def with_contact(row: list[Any], *contact: Any) -> list[Any]:
    return [*row, *contact]


def test_contact_columns_import_under_chinese_headers_and_aliases(tmp_path: Path, areas: object) -> None:
    rows = [
        with_contact(GOOD[0], "１３８ １２３４ ５６７８", "王建国", "儿子", "0576-8812 3456"),
        with_contact(GOOD[1], "", "", "", ""),
        with_contact(GOOD[2], "+86 139-8765-4321", "", "", ""),
        with_contact(GOOD[3], 13612345678, "张阿姨", "邻居", 13712345678),  # typed into number cells
    ]
    report = persons_import(
        path=write_xlsx(tmp_path / "list.xlsx", rows, header=CONTACT_HEADER), actor=None, valid_only=False
    )
    assert report.errors == []
    grandpa = Person.objects.get(name="王大山")
    assert contacts.stored(grandpa) == {
        "contact_phone": "13812345678",
        "emergency_contact_name": "王建国",
        "emergency_contact_relation": "儿子",
        "emergency_contact_phone": "0576-88123456",
    }
    assert contacts.stored(Person.objects.get(name="陈秀英"))["contact_phone"] is None
    assert contacts.stored(Person.objects.get(name="王建国"))["contact_phone"] == "13987654321"
    lodger = contacts.stored(Person.objects.get(name="李根生"))
    assert (lodger["contact_phone"], lodger["emergency_contact_phone"]) == ("13612345678", "13712345678")
    assert b"13812345678" not in bytes(grandpa.contact_phone_encrypted)


@pytest.mark.parametrize(
    "header",
    [
        ["联系电话", "紧急联系人", "紧急联系人关系", "紧急联系人电话"],
        ["contact_phone", "emergency_contact_name", "emergency_contact_relation", "emergency_contact_phone"],
        ["手机号码", "紧急联系人姓名", "紧急联系人与本人关系", "紧急联系电话"],
    ],
)
def test_each_header_spelling_is_recognised(tmp_path: Path, areas: object, header: list[str]) -> None:
    rows = [with_contact(GOOD[3], "13612345678", "张阿姨", "邻居", "13712345678")]
    report = persons_import(
        path=write_csv(tmp_path / "one.csv", rows, header=[*HEADER, *header]), actor=None, valid_only=False
    )
    assert report.errors == []
    assert contacts.stored(Person.objects.get())["emergency_contact_name"] == "张阿姨"


def test_bad_phones_and_half_contacts_are_row_errors_that_name_row_and_column(tmp_path: Path, areas: object) -> None:
    rows = [
        with_contact(GOOD[0], "1381234567", "", "", ""),
        with_contact(GOOD[1], "86543210", "", "", ""),
        with_contact(GOOD[2], "", "王大山", "父亲", ""),
        with_contact(GOOD[3], "", "", "", "13712345678"),
    ]
    report = persons_import(
        path=write_csv(tmp_path / "bad.csv", rows, header=CONTACT_HEADER), actor=None, valid_only=False
    )
    found = {(e.row, e.column): e for e in report.errors}
    assert "a mobile number has 11" in found[(2, "手机号")].problem
    assert "no area code" in found[(3, "手机号")].problem
    assert "0576-88123456" in found[(3, "手机号")].fix
    assert "emergency contact" in found[(4, "紧急联系人电话")].problem
    assert "emergency contact" in found[(5, "紧急联系人")].problem
    assert report.record.outcome == "rejected"
    assert Person.objects.count() == 0
    # The stored report never repeats a phone number.
    assert "1381234567" not in str(report.record.errors)
    assert "86543210" not in str(report.record.errors)


def test_a_landline_that_excel_stored_as_a_number_is_refused(tmp_path: Path, areas: object) -> None:
    rows = [with_contact(GOOD[3], 57688123456, "", "", "")]
    report = persons_import(
        path=write_xlsx(tmp_path / "n.xlsx", rows, header=CONTACT_HEADER), actor=None, valid_only=False
    )
    [error] = report.errors
    assert (error.row, error.column) == (2, "手机号")
    assert "leading 0" in error.problem
    assert "Text" in error.fix


def test_reimporting_compares_contact_in_clear_and_an_empty_cell_clears_it(tmp_path: Path, areas: object) -> None:
    path = tmp_path / "list.csv"
    row = with_contact(GOOD[3], "13612345678", "张阿姨", "邻居", "13712345678")
    persons_import(path=write_csv(path, [row], header=CONTACT_HEADER), actor=None, valid_only=False)
    before = bytes(Person.objects.get().contact_phone_encrypted)
    again = persons_import(path=write_csv(path, [row], header=CONTACT_HEADER), actor=None, valid_only=False)
    assert (again.record.updated, again.record.unchanged) == (0, 1)
    assert bytes(Person.objects.get().contact_phone_encrypted) == before  # not re-encrypted
    changed = with_contact(GOOD[3], "13612345679", "", "", "")
    report = persons_import(path=write_csv(path, [changed], header=CONTACT_HEADER), actor=None, valid_only=False)
    assert report.record.updated == 1
    assert contacts.stored(Person.objects.get()) == {
        "contact_phone": "13612345679",
        "emergency_contact_name": None,
        "emergency_contact_relation": None,
        "emergency_contact_phone": None,
    }
    # A file without the contact columns leaves them as they are.
    persons_import(path=write_csv(path, [GOOD[3]]), actor=None, valid_only=False)
    assert contacts.stored(Person.objects.get())["contact_phone"] == "13612345679"


def test_the_upload_page_lists_the_contact_columns(client: Client, make_user: Callable[..., User]) -> None:
    client.force_login(make_user(Role.DEPARTMENT_OFFICER))
    page = client.get("/residents/import/").content.decode()
    for header in ("联系电话", "紧急联系人", "紧急联系人关系", "紧急联系人电话"):
        assert f"<td>{header}</td>" in page


def test_a_population_with_phones_loads_them(tmp_path: Path, areas: object) -> None:
    schema = SCHEMA.append(pa.field("contact_phone", pa.string()))
    rows = [person(1, contact_phone="13812345678"), person(2, contact_phone=None)]
    report = persons_load_parquet(path=write(tmp_path / "p.parquet", rows, schema), actor=None)
    assert report.ignored_columns == []
    assert contacts.stored(Person.objects.get(source_id="1"))["contact_phone"] == "13812345678"
    assert contacts.stored(Person.objects.get(source_id="2"))["contact_phone"] is None
