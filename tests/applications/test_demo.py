"""The demo step: the home-care demo's elder gets applications in several states, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuwu.accounts.models import Department, Role, User
from fuwu.applications.demo import demo_applications_ensure
from fuwu.areas.models import Area, AreaLevel
from fuwu.homecare.demo import DEMO_SOURCE
from fuwu.homecare.models import FamilyLink
from fuwu.standards.parsing import parse_many
from fuwu.standards.services import standards_load
from tests.residents.factories import PersonFactory

TAIZHOU = Path(__file__).resolve().parents[2] / "standards" / "taizhou"


@pytest.mark.django_db
def test_the_demo_seeds_applications_in_several_states_once() -> None:
    standards_load(
        parsed=parse_many([TAIZHOU / "taizhou-social-assistance.yaml", TAIZHOU / "taizhou-home-care.yaml"]),
        actor=None,
    )
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    county = Area.objects.create(code="331002", name_zh="椒江区", level=AreaLevel.COUNTY, parent=city)
    civil = Department.objects.create(code="civil-affairs", name_zh="台州市民政局")
    User.objects.create_user(username="officer", role=Role.DEPARTMENT_OFFICER, area=county, department=civil)
    family = User.objects.create_user(username="family", role=Role.RESIDENT, area=county)
    elder = PersonFactory(source_id=DEMO_SOURCE)
    FamilyLink.objects.create(user=family, person=elder, relation="女儿")
    made = demo_applications_ensure()
    assert sorted(a.status for a in made) == ["awaiting_applicant", "in_progress", "submitted"]
    assert all(not a.item_key.startswith("hc-") for a in made)  # home care keeps its own order flow
    assert sorted(a.pk for a in demo_applications_ensure()) == sorted(a.pk for a in made)
