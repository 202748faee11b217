"""Linking family members' accounts to an elder: only the officer of the area, only residents, once."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from fuwu.accounts.models import Role
from fuwu.common.models import AuditLog
from fuwu.homecare.family import family_link_add, family_link_remove
from fuwu.homecare.models import FamilyLink
from fuwu.homecare.services import HomeCareError
from tests.homecare.conftest import World, make_user


def test_the_officer_links_a_resident_and_it_is_audited(world: World) -> None:
    son = make_user("son", Role.RESIDENT, world.officer.area)
    link = family_link_add(actor=world.officer, person=world.elder, username=" son ", relation="儿子")
    assert (link.user, link.person, link.relation) == (son, world.elder, "儿子")
    assert AuditLog.objects.filter(event="homecare.family_linked", object_id=str(world.elder.pk)).exists()


@pytest.mark.parametrize(
    ("username", "relation", "code"),
    [
        ("nobody", "儿子", "unknown_user"),
        ("caregiver", "儿子", "not_a_resident"),
        ("family", "女儿", "already_linked"),
        ("stranger", "", "bad_relation"),
        ("stranger", "关" * 33, "bad_relation"),
    ],
)
def test_refusals_say_why(world: World, username: str, relation: str, code: str) -> None:
    with pytest.raises(HomeCareError) as refused:
        family_link_add(actor=world.officer, person=world.elder, username=username, relation=relation)
    assert refused.value.code == code
    assert FamilyLink.objects.count() == 1  # the world's own link, nothing added


@pytest.mark.parametrize("who", ["family", "provider_admin", "caregiver_user", "stranger"])
def test_only_the_officer_of_the_area_links(world: World, who: str) -> None:
    with pytest.raises(PermissionDenied):
        family_link_add(actor=world.user(who), person=world.elder, username="stranger", relation="邻居")


def test_unlinking_takes_away_booking(world: World) -> None:
    link = FamilyLink.objects.get(user=world.family)
    with pytest.raises(PermissionDenied):
        family_link_remove(actor=world.family, link=link)
    family_link_remove(actor=world.officer, link=link)
    assert not FamilyLink.objects.exists()
    assert AuditLog.objects.filter(event="homecare.family_unlinked").exists()


def test_the_account_page_links_a_family_member(client: Client, world: World) -> None:
    make_user("grandson", Role.RESIDENT, world.officer.area)
    client.force_login(world.officer)
    page = client.get(reverse("homecare:account", args=[world.account.pk]))
    assert "关联家属账号" in page.content.decode()
    response = client.post(
        reverse("homecare:account_family", args=[world.account.pk]), {"username": "grandson", "relation": "孙子"}
    )
    assert response.status_code == 302
    assert FamilyLink.objects.filter(user__username="grandson", person=world.elder).exists()
    refused = client.post(
        reverse("homecare:account_family", args=[world.account.pk]), {"username": "nobody", "relation": "孙子"}
    )
    assert "没有用户名为“nobody”的账号" in client.get(refused["Location"]).content.decode()


def test_the_provider_sees_no_link_form_and_cannot_post(client: Client, world: World) -> None:
    client.force_login(world.provider_admin)
    page = client.get(reverse("homecare:account", args=[world.account.pk]))
    assert "关联家属账号" not in page.content.decode()
    response = client.post(
        reverse("homecare:account_family", args=[world.account.pk]), {"username": "stranger", "relation": "x"}
    )
    assert response.status_code == 403
