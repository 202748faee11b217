"""The demo's veterans pilot is accepted whatever day of the month the demo is built on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from fuwu.compliance.demo import demo_compliance_ensure
from fuwu.compliance.models import Pilot, PilotStatus

REPO = Path(__file__).resolve().parents[2]


# The 2nd is when this month's inspection round fails one of the pilot's stations on the very day of acceptance.
@pytest.mark.django_db
@pytest.mark.parametrize("today", [dt.date(2026, 12, 1), dt.date(2026, 12, 2)])
def test_the_demo_pilot_is_accepted_on_its_latest_inspections(today: dt.date, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    call_command("areas", "load", verbosity=0)
    call_command("standards", "load", str(REPO / "standards"), verbosity=0)
    call_command("demo_accounts", verbosity=0)

    demo_compliance_ensure(today=today)

    decided = Pilot.objects.exclude(decided_at=None).get()
    assert decided.status == PilotStatus.ACCEPTED, decided.result["reasons"]
    assert all(line["passed"] for line in decided.result["institutions"])
