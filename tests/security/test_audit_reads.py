"""Every page and file of home care that shows elders leaves a "persons read" audit row naming them (issue 9):
the elder's monthly statement (page and PDF) and the provider's settlement (page, Excel, PDF)."""

from __future__ import annotations

import pytest

from fuwu.common.models import AuditLog
from tests.security.conftest import client_as
from tests.security.world import World

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "event", "purpose"),
    [
        ("/homecare/reports/statement/{account}/2026-12/", "persons.listed", "home-care statement 2026-12 (page)"),
        ("/homecare/reports/statement/{account}/2026-12.pdf", "persons.exported", "home-care statement 2026-12 (pdf)"),
        ("/homecare/reports/settlements/{settlement}/", "persons.listed", "home-care settlement (page)"),
        ("/homecare/reports/settlements/{settlement}.xlsx", "persons.exported", "home-care settlement (xlsx)"),
        ("/homecare/reports/settlements/{settlement}.pdf", "persons.exported", "home-care settlement (pdf)"),
    ],
)
def test_statements_and_settlements_audit_the_elders_they_show(
    world: World, url: str, event: str, purpose: str
) -> None:
    side = world.sides["A"]
    officer = world.user("officer")
    before = AuditLog.objects.filter(actor=officer, event=event).count()
    response = client_as(world, "officer").get(url.format(account=side.account.pk, settlement=side.settlement.pk))
    assert response.status_code == 200, url
    rows = AuditLog.objects.filter(actor=officer, event=event).order_by("-pk")
    assert rows.count() == before + 1, f"{url}: no {event} row"
    row = rows[0]
    assert row.note == purpose
    after = row.after or {}
    assert after["persons"] >= 1
    assert side.elder.pk in after["person_ids"]
    assert world.sides["B"].elder.pk not in after["person_ids"]
