"""Roles, the lockout after repeated failures, demo accounts, and the registry's permission matrix."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client

from fuwu.accounts.models import Department, Role, User
from fuwu.accounts.services import DEMO_ACCOUNTS
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.models import AuditLog
from fuwu.standards.models import StandardVersion, Status

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-1"


@pytest.fixture
def area() -> Area:
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    return Area.objects.create(code="331002", name_zh="椒江区", level=AreaLevel.COUNTY, parent=city)


def make_user(role: Role, area: Area) -> User:
    department = Department.objects.get_or_create(code="civil-affairs", defaults={"name_zh": "民政局"})[0]
    return User.objects.create_user(
        username=f"u-{role}",
        password=PASSWORD,
        role=role,
        area=area,
        department=department if role in (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_SUPERVISOR) else None,
    )


def test_an_officer_needs_a_department_and_an_area(area: Area) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="o", password=PASSWORD, role=Role.DEPARTMENT_OFFICER, area=area)


def test_login_and_logout(client: Client, area: Area) -> None:
    make_user(Role.RESIDENT, area)
    response = client.post("/accounts/login/", {"username": "u-resident", "password": PASSWORD})
    assert response.status_code == 302
    assert "退出" in client.get("/").content.decode()
    client.post("/accounts/logout/")
    assert "登录" in client.get("/").content.decode()


def test_login_locks_out_after_repeated_failures(client: Client, area: Area, settings: object) -> None:
    make_user(Role.RESIDENT, area)
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "u-resident", "password": "wrong"})
    assert response.status_code == 429
    assert "账号已暂时锁定" in response.content.decode()
    # Even the right password is refused while locked.
    response = client.post("/accounts/login/", {"username": "u-resident", "password": PASSWORD})
    assert response.status_code == 429
    # Another account from the same address is not affected.
    make_user(Role.CAREGIVER, area)
    assert client.post("/accounts/login/", {"username": "u-caregiver", "password": PASSWORD}).status_code == 302


def test_a_failure_below_the_limit_does_not_lock(client: Client, area: Area) -> None:
    make_user(Role.RESIDENT, area)
    for _ in range(4):
        client.post("/accounts/login/", {"username": "u-resident", "password": "wrong"})
    assert client.post("/accounts/login/", {"username": "u-resident", "password": PASSWORD}).status_code == 302


def test_demo_accounts_are_one_per_role_and_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    Area.objects.create(code="331002", name_zh="椒江区", level=AreaLevel.COUNTY, parent=city)
    call_command("demo_accounts")
    call_command("demo_accounts")
    assert User.objects.count() == len(DEMO_ACCOUNTS)
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert AuditLog.objects.filter(event="account.demo_created").count() == len(DEMO_ACCOUNTS)
    out = capsys.readouterr().out
    assert all(a.username in out and a.password in out for a in DEMO_ACCOUNTS)
    client = Client()
    officer = next(a for a in DEMO_ACCOUNTS if a.role == Role.DEPARTMENT_OFFICER)
    response = client.post("/accounts/login/", {"username": officer.username, "password": officer.password})
    assert response.status_code == 302


ROLES = [None, *Role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", "/staff/reviews/", {Role.STANDARDS_OFFICE, Role.DEPARTMENT_OFFICER, Role.AUDITOR}),
        ("get", "/staff/versions/{pk}/history/", {Role.STANDARDS_OFFICE, Role.DEPARTMENT_OFFICER, Role.AUDITOR}),
        ("post", "/staff/versions/{pk}/begin_review/", {Role.STANDARDS_OFFICE}),
    ],
)
def test_registry_permission_matrix(
    client: Client,
    area: Area,
    mini_version: StandardVersion,
    role: Role | None,
    method: str,
    path: str,
    allowed: set[Role],
) -> None:
    if role is not None:
        client.force_login(make_user(role, area))
    response = getattr(client, method)(path.format(pk=mini_version.pk))
    mini_version.refresh_from_db()
    if role in allowed:
        assert response.status_code in (200, 302)
        if method == "post":
            assert mini_version.status == Status.UNDER_REVIEW
    else:
        assert response.status_code in (302, 403), response.status_code
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")
        assert mini_version.status == Status.PUBLISHED


def test_reviews_page_lists_due_standards_and_runs_the_lifecycle(
    client: Client, area: Area, mini_version: StandardVersion
) -> None:
    office = make_user(Role.STANDARDS_OFFICE, area)
    client.force_login(office)
    html = client.get("/staff/reviews/").content.decode()
    assert "DB3310/T 999—2021" in html  # due 2026-11-29, within the window
    client.post(f"/staff/versions/{mini_version.pk}/begin_review/")
    client.post(f"/staff/versions/{mini_version.pk}/confirm/", {"note": "still fit"})
    mini_version.refresh_from_db()
    assert mini_version.status == Status.PUBLISHED
    assert mini_version.last_reviewed_on is not None
    history = client.get(f"/staff/versions/{mini_version.pk}/history/").content.decode()
    assert "standard.review_started" in history
    assert "standard.review_confirmed" in history
    assert office.username in history
    # A refused transition shows its reason and changes nothing.
    response = client.post(f"/staff/versions/{mini_version.pk}/confirm/", follow=True)
    assert "cannot confirm" in response.content.decode()


def test_admin_is_for_the_standards_office(client: Client, area: Area, mini_version: StandardVersion) -> None:
    office = make_user(Role.STANDARDS_OFFICE, area)
    office.is_staff = True
    office.is_superuser = True
    office.save()
    client.force_login(office)
    assert client.get("/admin/standards/standardversion/").status_code == 200
    response = client.post(
        "/admin/standards/standardversion/",
        {"action": "begin_review", "_selected_action": [mini_version.pk]},
        follow=True,
    )
    assert response.status_code == 200
    mini_version.refresh_from_db()
    assert mini_version.status == Status.UNDER_REVIEW
