"""Times on pages are Asia/Shanghai wall-clock times, never UTC.

The screening runs offered for opening accounts were labelled with the run's UTC end time (a Python format
of the stored time, which Django's templates would have converted but a form label does not).
"""

from __future__ import annotations

import datetime as dt

from django.test import Client

from fuwu.common.models import AuditLog
from fuwu.eligibility.models import ScreeningRun
from tests.homecare.conftest import VILLAGE, World, registry_run
from tests.residents.factories import PersonFactory

# 17:30 UTC on the 29th is 01:30 on the 30th in Shanghai: the date differs as well as the hour.
LATE = dt.datetime(2026, 11, 29, 17, 30, tzinfo=dt.UTC)


def test_screening_runs_offered_for_opening_show_shanghai_time(client: Client, world: World) -> None:
    run = registry_run(PersonFactory(birth_date=dt.date(1941, 2, 2), hukou_area=VILLAGE))
    ScreeningRun.objects.filter(pk=run.pk).update(finished_at=LATE)
    client.force_login(world.officer)
    page = client.get("/homecare/office/accounts/").content.decode()
    assert "2026-11-30 01:30" in page
    assert "2026-11-29 17:30" not in page


def test_audit_rows_name_their_time_in_shanghai(world: World) -> None:
    row = AuditLog.objects.create(event="test.event", object_type="x", object_id="1")
    AuditLog.objects.filter(pk=row.pk).update(occurred_at=LATE)
    row.refresh_from_db()
    assert str(row).startswith("2026-11-30 01:30 test.event")
