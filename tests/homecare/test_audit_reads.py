"""Home care's account pages show elders: each leaves a persons.listed row with whom it showed."""

from __future__ import annotations

from django.test import Client

from fuwu.common.models import AuditLog
from tests.homecare.conftest import World


def test_the_accounts_list_and_an_account_page_are_audited(world: World) -> None:
    client = Client()
    client.force_login(world.officer)
    assert client.get("/homecare/office/accounts/").status_code == 200
    assert client.get(f"/homecare/office/accounts/{world.account.pk}/").status_code == 200
    rows = list(AuditLog.objects.filter(actor=world.officer, event="persons.listed").order_by("pk"))
    assert [(r.note, r.after) for r in rows] == [
        ("home-care accounts", {"persons": 1, "person_ids": [world.elder.pk]}),
        ("home-care account", {"persons": 1, "person_ids": [world.elder.pk]}),
    ]
    assert (rows[1].object_type, rows[1].object_id) == ("homecare.entitlementaccount", str(world.account.pk))
