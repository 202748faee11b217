"""What the status codes cannot show: a page that answers 200 must not carry another county's (or another
owner's) person on it, and a write refused with a message must have written nothing."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from fuwu.eligibility.models import OutreachRecord
from fuwu.residents.masking import mask_name
from tests.security.asking import ask
from tests.security.conftest import client_as
from tests.security.matrix import MATRIX
from tests.security.urls import routes
from tests.security.world import ADDRESS, ELDER, ROLES, World

pytestmark = pytest.mark.django_db

ROUTES = {route.name: route for route in routes()}
# Who may see the B elder at all: the officer of B and the city-wide roles.
SEES_B = {"officer_other", "stdoffice", "auditor"}
# The A elder is seen by A's officer, provider, caregiver, family and the city-wide roles; not by B's officer.
SEES_A = {"officer", "provider", "caregiver", "family", "stdoffice", "auditor"}


def _pages() -> list[pytest.ParameterSet]:
    cases = []
    for (name, method, side), expected in MATRIX.items():
        if method != "GET" or name.startswith("admin"):
            continue
        for role, want in expected.items():
            if want != "200" or role == "anonymous":
                continue
            cases.append(pytest.param(name, side, role, id=f"{name}-{side}-{role}"))
    return cases


def _markers(side: str) -> list[str]:
    return [ELDER[side], mask_name(ELDER[side]), ADDRESS[side]]


@pytest.fixture(scope="module")
def clients(world: World) -> dict[str, Client]:
    return {role: client_as(world, role) for role in ROLES if role != "anonymous"}


@pytest.mark.parametrize(("name", "side", "role"), _pages())
def test_a_page_shows_nobody_its_reader_may_not_see(
    world: World, clients: dict[str, Client], name: str, side: str, role: str
) -> None:
    response = ask(clients[role], world, ROUTES[name], "A" if side == "-" else side, "GET")
    if not response.get("Content-Type", "").startswith(("text/html", "application/json", "text/csv")):
        return  # PDFs and workbooks: their text is compressed; the status row covers who gets them
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    hidden = [] if role in SEES_B else _markers("B")
    hidden += [] if role in SEES_A else _markers("A")
    leaked = [marker for marker in hidden if marker in text]
    assert not leaked, f"GET {response.request['PATH_INFO']} as {role} shows {leaked}"


@pytest.mark.parametrize("role", ["officer_other", "auditor", "stdoffice", "provider"])
def test_only_the_areas_officer_records_an_outreach_call(world: World, role: str) -> None:
    """proactive:record answers 3xx to everyone allowed in; for these the redirect carries a refusal."""
    before = OutreachRecord.objects.count()
    response = ask(client_as(world, role), world, ROUTES["proactive:record"], "A", "POST")
    assert response.status_code in (302, 303, 403)
    assert OutreachRecord.objects.count() == before


def test_the_areas_officer_does_record_it(world: World) -> None:
    """The control for the test above: the same request as A's officer writes one record."""
    before = OutreachRecord.objects.count()
    with transaction.atomic():
        client_as(world, "officer").post(
            f"/proactive/{world.run.pk}/record/",
            {"person_id": str(world.sides["A"].newcomer.pk), "item": "hc-meals", "status": "contacted"},
        )
        assert OutreachRecord.objects.count() == before + 1
        transaction.set_rollback(True)


def test_a_shared_providers_settlement_shows_an_officer_only_their_countys_elders(world: World) -> None:
    """B's provider starts serving county A too: A's officer now reaches its settlement, which lists B's elder."""
    import io

    from openpyxl import load_workbook

    settlement = world.sides["B"].settlement
    with transaction.atomic():
        world.sides["B"].provider.areas.add(world.sides["A"].county)
        client = client_as(world, "officer")
        page = client.get(f"/homecare/reports/settlements/{settlement.pk}/")
        workbook = client.get(f"/homecare/reports/settlements/{settlement.pk}.xlsx")
        transaction.set_rollback(True)
    shown = page.content.decode() if page.status_code == 200 else ""
    if workbook.status_code == 200:
        book = load_workbook(
            io.BytesIO(b"".join(workbook.streaming_content) if workbook.streaming else workbook.content)
        )
        shown += " ".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row)
    leaked = [marker for marker in _markers("B") if marker in shown]
    assert not leaked, f"officer of {world.sides['A'].county.code} reads {leaked} in settlement {settlement.pk}"
