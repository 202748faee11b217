"""Who may act is asked before what they sent is read: an auditor posting to an officer's form gets 403, not the
form's errors (issue 9: three views validated the form first)."""

from __future__ import annotations

import pytest
from django.test import Client

from fuwu.accounts.models import Role
from fuwu.homecare.models import Complaint, ReviewStatus
from fuwu.homecare.supervision import callbacks_sample
from tests.homecare.conftest import World, make_user
from tests.homecare.test_settlement import AFTER, MONTH, build_month

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
