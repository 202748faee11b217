"""Who sees which residents and how much: masking, scoping, reveal, and the audit rows each viewing leaves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client

from fuwu.accounts.models import Role, User
from fuwu.common.models import AuditLog
from fuwu.residents import crypto
from fuwu.residents.masking import mask_name
from fuwu.residents.models import Person
from fuwu.residents.selectors import persons_for_user
from tests.residents.factories import IN_AREA_VILLAGE, OUT_OF_AREA_VILLAGE, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("王小明", "王*"),
        ("欧阳娜娜", "欧阳*"),
        ("欧阳", "欧*"),
        ("司马相如", "司马*"),
        ("李", "李*"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.fixture
def people(areas: object) -> dict[str, Person]:
    return {
        "in": PersonFactory(name="王小明", hukou_area=IN_AREA_VILLAGE, birth_date=dt.date(1948, 5, 6)),
        "out": PersonFactory(
            name="李大红", hukou_area=OUT_OF_AREA_VILLAGE, birth_date=dt.date(1951, 7, 8), female=True
        ),
    }


def number_of(person: Person) -> str:
    return crypto.decrypt(person.id_number_encrypted, lookup=person.id_number_hash).value


def events(person: Person) -> list[str]:
    return sorted(
        AuditLog.objects.filter(object_id=str(person.pk), object_type="residents.person").values_list(
            "event", flat=True
        )
    )


ROLES = [None, *Role]
OTHERS = {
    Role.RESIDENT,
    Role.CAREGIVER,
    Role.PROVIDER_ADMIN,
    Role.STANDARDS_OFFICE,
    Role.INSTITUTION_ADMIN,
    Role.INSPECTOR,
    Role.VILLAGE_AGENT,  # applies for residents of their village; never reads the registry
    Role.DEPARTMENT_SUPERVISOR,  # reads the department's applications (督办); never the registry
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["in", "out"])
@pytest.mark.parametrize("endpoint", ["list", "detail", "reveal"])
def test_permission_matrix(
    client: Client,
    make_user: Callable[..., User],
    people: dict[str, Person],
    role: Role | None,
    where: str,
    endpoint: str,
) -> None:
    """role × resident in/out of the officer's area (椒江区) × list/detail/reveal, with the audit rows."""
    person = people[where]
    if role is not None:
        client.force_login(make_user(role, "331002"))
    full_number, masked_number = number_of(person), number_of(person)[:6] + "********" + number_of(person)[14:]
    if endpoint == "list":
        response = client.get("/residents/")
    elif endpoint == "detail":
        response = client.get(f"/residents/{person.pk}/")
    else:
        response = client.post(f"/residents/{person.pk}/reveal/")
    html = response.content.decode()
    officer_here = role == Role.DEPARTMENT_OFFICER and where == "in"

    if role is None:
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")
        assert events(person) == []
    elif role in OTHERS:
        assert response.status_code in (403, 404)
        assert events(person) == []
    elif role == Role.DEPARTMENT_OFFICER and where == "out":
        # Out of the officer's area: not listed, and not even confirmed to exist.
        assert response.status_code == (200 if endpoint == "list" else 404)
        assert person.name not in html
        assert masked_number not in html
        assert mask_name(person.name) not in html
        assert events(person) == []
    elif endpoint == "list":
        assert response.status_code == 200
        assert masked_number in html
        assert full_number not in html
        assert (person.name in html) == officer_here
        assert mask_name(person.name) in html or officer_here
        assert events(person) == []
    elif endpoint == "detail":
        assert response.status_code == 200
        assert masked_number in html
        assert full_number not in html
        assert (person.name in html) == officer_here
        assert (f"/residents/{person.pk}/reveal/" in html) == officer_here
        # The exact birth date would complete the masked number, so it waits for the reveal.
        assert person.birth_date.strftime("%Y-%m-%d") not in html
        assert events(person) == ["person.viewed"]
    elif officer_here:  # reveal
        assert response.status_code == 200
        assert full_number in html
        assert person.birth_date.strftime("%Y-%m-%d") in html
        assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
        assert events(person) == ["person.id_number_revealed", "person.viewed"]
    else:  # an auditor asking to reveal
        assert role == Role.AUDITOR
        assert response.status_code == 403
        assert full_number not in html
        assert events(person) == []


def test_reveal_is_post_only(client: Client, make_user: Callable[..., User], people: dict[str, Person]) -> None:
    client.force_login(make_user(Role.DEPARTMENT_OFFICER))
    assert client.get(f"/residents/{people['in'].pk}/reveal/").status_code == 405
    assert events(people["in"]) == []


def test_audit_rows_name_the_actor_and_hold_no_identity(
    client: Client, make_user: Callable[..., User], people: dict[str, Person]
) -> None:
    officer = make_user(Role.DEPARTMENT_OFFICER)
    client.force_login(officer)
    client.post(f"/residents/{people['in'].pk}/reveal/")
    rows = AuditLog.objects.filter(object_id=str(people["in"].pk))
    assert {r.actor for r in rows} == {officer}
    text = " ".join(f"{r.before} {r.after} {r.note}" for r in rows)
    assert number_of(people["in"]) not in text
    assert people["in"].name not in text


def test_scoping_by_area_prefix(make_user: Callable[..., User], people: dict[str, Person]) -> None:
    def visible(user: User) -> set[str]:
        return {p.name for p in persons_for_user(user=user)}

    assert visible(make_user(Role.DEPARTMENT_OFFICER, "331002")) == {"王小明"}
    assert visible(make_user(Role.DEPARTMENT_OFFICER, "331003")) == {"李大红"}
    # A township officer sees the township; a city officer (prefix 3310) the whole city.
    assert visible(make_user(Role.DEPARTMENT_OFFICER, "331002001")) == {"王小明"}
    assert visible(make_user(Role.DEPARTMENT_OFFICER, "331000")) == {"王小明", "李大红"}
    assert visible(make_user(Role.DEPARTMENT_OFFICER, "331004")) == set()
    assert visible(make_user(Role.AUDITOR, "331002")) == {"王小明", "李大红"}
    for role in OTHERS:
        assert visible(make_user(role, "331002")) == set()
    inactive = make_user(Role.DEPARTMENT_OFFICER, "331002", username="gone")
    inactive.is_active = False
    assert visible(inactive) == set()


def test_search_by_number_or_name(client: Client, make_user: Callable[..., User], people: dict[str, Person]) -> None:
    client.force_login(make_user(Role.AUDITOR))
    found = client.post("/residents/", {"q": number_of(people["out"])}).content.decode()
    assert mask_name("李大红") in found
    assert mask_name("王小明") not in found
    assert number_of(people["out"]) not in found  # not echoed back, not even in the search box
    by_name = client.post("/residents/", {"q": "小明"}).content.decode()
    assert "王*" in by_name
    assert "李*" not in by_name
    wrong = client.post("/residents/", {"q": "331002194805060191"}).content.decode()
    assert "the check character is 1 but should be X" in wrong


def test_officer_sees_the_id_area_flag(client: Client, make_user: Callable[..., User], areas: object) -> None:
    moved = PersonFactory(hukou_area=IN_AREA_VILLAGE, id_area_differs=True)
    client.force_login(make_user(Role.DEPARTMENT_OFFICER))
    assert "地址码不同" in client.get("/residents/").content.decode()
    assert 'data-testid="flag-id-area-differs"' in client.get(f"/residents/{moved.pk}/").content.decode()


def test_detail_lists_household_members_in_scope(client: Client, make_user: Callable[..., User], areas: object) -> None:
    head = PersonFactory(name="王大山")
    spouse = PersonFactory(name="陈小花", household=head.household, relation="spouse", female=True)
    client.force_login(make_user(Role.DEPARTMENT_OFFICER))
    html = client.get(f"/residents/{head.pk}/").content.decode()
    assert spouse.name in html
    assert events(spouse) == []  # listing a member is not viewing their record
