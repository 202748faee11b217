"""Who may act is asked before what they sent is read: an auditor posting to an officer's form gets 403, not the
form's errors (issue 9: three views validated the form first)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from fuwu.accounts.models import Role
from fuwu.homecare.models import Complaint, ReviewStatus
from fuwu.homecare.supervision import callbacks_sample
from tests.homecare.conftest import World, make_user, second_caregiver, with_partner
from tests.homecare.test_settlement import AFTER, MONTH, book, build_month, schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(world: World) -> Client:
    build_month(world)
    client = Client()
    client.force_login(make_user("auditor", Role.AUDITOR, None))
    return client


def test_resolving_a_complaint(world: World, auditor: Client) -> None:
    complaint = Complaint.objects.get()
    response = auditor.post(f"/homecare/office/complaints/{complaint.pk}/resolve/", {"decision": "nonsense"})
    assert response.status_code == 403


def test_deciding_a_held_visit(world: World, auditor: Client) -> None:
    order = world.account.orders.filter(status="rated").get()
    type(order).objects.filter(pk=order.pk).update(review=ReviewStatus.PENDING, payable=None)
    response = auditor.post(f"/homecare/office/reviews/{order.pk}/", {f"r{order.pk}-decision": "nonsense"})
    assert response.status_code == 403


def test_recording_a_callback(world: World, auditor: Client) -> None:
    (callback,) = callbacks_sample(actor=world.officer, month=MONTH, now=AFTER)
    response = auditor.post(f"/homecare/reports/callbacks/{callback.pk}/", {f"cb{callback.pk}-reached": "maybe"})
    assert response.status_code == 403


def test_the_second_caregiver_may_not_check_out_or_upload(world: World, auditor: Client) -> None:
    """Only the visit's lead checks out, adds photos, takes the code or records a no-show: the partner is
    refused before the form (an upload included) is read."""
    order = book(world, world.elder, "hc-bathing", dt.date(2026, 12, 28), 9, "partner-bath")
    schedule(world, order, dt.date(2026, 12, 28), 9)
    with_partner(world, order, arrive=None)
    partner = second_caregiver(world).user
    assert partner is not None
    client = Client()
    client.force_login(partner)
    for action in ("check-out", "photos", "confirm", "no-show"):
        response = client.post(f"/homecare/visits/{order.pk}/{action}/", {"photo": "not a file", "code": "x"})
        assert response.status_code == 403, action
