"""The lockout is per username *and* real client address, the address is believed from trusted proxies only,
and an officer can lift a lockout (audited)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory

from fuwu.accounts.lockout import client_ip
from fuwu.accounts.models import Role, User
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.models import AuditLog
from tests.accounts.test_accounts import PASSWORD, make_user

pytestmark = pytest.mark.django_db
ATTACKER, OWNER, PROXY = "203.0.113.5", "198.51.100.7", "10.0.0.2"


@pytest.fixture
def areas() -> dict[str, Area]:
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    return {
        "331002": Area.objects.create(code="331002", name_zh="椒江区", level=AreaLevel.COUNTY, parent=city),
        "331003": Area.objects.create(code="331003", name_zh="黄岩区", level=AreaLevel.COUNTY, parent=city),
    }


def login(username: str, password: str, **meta: Any) -> int:
    return Client().post("/accounts/login/", {"username": username, "password": password}, **meta).status_code


def lock(username: str, **meta: Any) -> None:
    for _ in range(5):
        status = login(username, "wrong", **meta)
    assert status == 429


def test_a_stranger_cannot_lock_someone_out_from_elsewhere(areas: dict[str, Area]) -> None:
    make_user(Role.RESIDENT, areas["331002"])
    lock("u-resident", REMOTE_ADDR=ATTACKER)
    assert login("u-resident", PASSWORD, REMOTE_ADDR=OWNER) == 302  # the owner, from their own address
    assert login("u-resident", PASSWORD, REMOTE_ADDR=ATTACKER) == 429


def test_behind_a_trusted_proxy_each_client_is_locked_on_its_own_address(areas: dict[str, Area], settings: Any) -> None:
    settings.FUWU_TRUSTED_PROXIES = ["10.0.0.0/8"]
    make_user(Role.RESIDENT, areas["331002"])
    lock("u-resident", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER)
    assert login("u-resident", PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{OWNER}, 10.0.0.9") == 302


def test_the_forwarded_address_is_believed_only_from_a_trusted_proxy(settings: Any) -> None:
    settings.FUWU_TRUSTED_PROXIES = ["10.0.0.0/8"]
    factory = RequestFactory()
    # A client cannot pick its address by sending the header itself.
    assert client_ip(factory.get("/", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=OWNER)) == ATTACKER
    # From the proxy: the last address that is not a trusted proxy (what the outer proxy saw).
    spoofed = factory.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{OWNER}, {ATTACKER}, 10.0.0.9")
    assert client_ip(spoofed) == ATTACKER
    assert client_ip(factory.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="junk")) == PROXY
    settings.FUWU_TRUSTED_PROXIES = []
    assert client_ip(factory.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=OWNER)) == PROXY


def officer(area: Area, username: str) -> User:
    user = make_user(Role.DEPARTMENT_OFFICER, area)
    user.username = username
    user.save()
    return user


def test_an_officer_of_the_area_unlocks_and_it_is_audited(areas: dict[str, Area]) -> None:
    resident = make_user(Role.RESIDENT, areas["331002"])
    lock("u-resident", REMOTE_ADDR=OWNER)

    other = Client()
    other.force_login(officer(areas["331003"], "hy-officer"))
    assert "u-resident" not in other.get("/accounts/lockouts/").content.decode()
    assert other.post("/accounts/lockouts/", {"username": "u-resident"}).status_code == 403

    ours = officer(areas["331002"], "jj-officer")
    client = Client()
    client.force_login(ours)
    page = client.get("/accounts/lockouts/").content.decode()
    assert "u-resident" in page
    assert OWNER in page
    response = client.post("/accounts/lockouts/", {"username": "u-resident", "ip_address": OWNER}, follow=True)
    assert "已解除 u-resident 的登录锁定" in response.content.decode()
    assert 'data-testid="no-lockouts"' in response.content.decode()
    assert login("u-resident", PASSWORD, REMOTE_ADDR=OWNER) == 302
    [row] = AuditLog.objects.filter(event="accounts.unlocked")
    assert (row.actor, row.object_id) == (ours, str(resident.pk))


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.CAREGIVER, Role.AUDITOR, Role.PROVIDER_ADMIN])
def test_other_roles_may_not_unlock(areas: dict[str, Area], role: Role) -> None:
    client = Client()
    client.force_login(make_user(role, areas["331002"]))
    assert client.get("/accounts/lockouts/").status_code == 403
    assert client.post("/accounts/lockouts/", {"username": "x"}).status_code == 403


def test_the_admin_action_unlocks(areas: dict[str, Area]) -> None:
    resident = make_user(Role.RESIDENT, areas["331002"])
    lock("u-resident", REMOTE_ADDR=OWNER)
    admin = User.objects.create_superuser("root", password=PASSWORD)
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/accounts/user/", {"action": "unlock", "_selected_action": [resident.pk]}, follow=True
    )
    assert "已解除登录锁定：u-resident" in response.content.decode()
    assert login("u-resident", PASSWORD, REMOTE_ADDR=OWNER) == 302
