"""`fuwu demo_compliance`: institutions in every county, a published draw, inspections in every state, a map."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from fuwu.areas.models import Area, AreaLevel
from fuwu.compliance.coverage import map_value, rollup, standards_with_kinds
from fuwu.compliance.models import (
    Draw,
    DrawStatus,
    Inspection,
    Institution,
    OrderStatus,
    Pilot,
    PilotStatus,
    RectificationOrder,
)
from fuwu.compliance.services.draws import draw_verify
from tests.conftest import REPO


@pytest.mark.django_db
def test_the_demo_needs_what_make_demo_runs_before_it() -> None:
    with pytest.raises(CommandError, match="demo_accounts"):
        call_command("demo_compliance")


@pytest.mark.django_db
def test_the_demo_has_every_county_a_published_draw_every_state_and_a_map(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    call_command("areas", "load", verbosity=0)
    call_command("standards", "load", str(REPO / "standards"), verbosity=0)
    call_command("demo_accounts", verbosity=0)
    call_command("demo_homecare", verbosity=0)
    call_command("demo_compliance", verbosity=0)
    counts = (Institution.objects.count(), Inspection.objects.count(), RectificationOrder.objects.count())

    counties = set(Area.objects.filter(level=AreaLevel.COUNTY).values_list("code", flat=True))
    assert {code[:6] for code in Institution.objects.values_list("area__code", flat=True)} == counties
    assert Institution.objects.filter(homecare_provider__isnull=False).exists()  # home care's provider, linked

    draws = Draw.objects.filter(status=DrawStatus.PUBLISHED)
    assert draws.count() >= len(counties)
    assert all(draw_verify(d) for d in draws)

    states = set(Inspection.objects.values_list("status", flat=True))
    assert {"planned", "in_progress", "signed", "published"} <= states
    assert Inspection.objects.filter(kind="reinspection", status="published").exists()
    assert Inspection.objects.filter(kind="self", status="in_progress").exists()
    orders = set(RectificationOrder.objects.values_list("status", flat=True))
    assert {OrderStatus.OPEN, OrderStatus.ANSWERED, OrderStatus.ACCEPTED, OrderStatus.VERIFIED} <= orders
    assert RectificationOrder.objects.filter(escalation__gte=1).exists()  # overdue, flagged
    assert set(Pilot.objects.values_list("status", flat=True)) == {PilotStatus.ACCEPTED, PilotStatus.DESIGNATED}

    veterans = next(c for c in rollup(standards_with_kinds()) if c.key == "taizhou-veterans-service-centre")
    values = [map_value(r) for r in veterans.by_level(AreaLevel.COUNTY)]
    assert len(values) == len(counties)
    assert any(v for v in values)  # something is covered somewhere
    page = Client().get("/compliance/coverage/?standard=taizhou-veterans-service-centre").content.decode()
    assert "coverage-map" in page

    call_command("demo_compliance", verbosity=0)
    assert (Institution.objects.count(), Inspection.objects.count(), RectificationOrder.objects.count()) == counts
