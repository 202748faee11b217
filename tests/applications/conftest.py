"""A small world for applications on the real student-aid standard: preschool aid has a form to upload, a
household register got by data sharing, and steps of 30 and 20 working days led by the education bureau."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fuwu.accounts.models import Department, Role, User
from fuwu.applications.models import Application, Provision
from fuwu.applications.services import MaterialInput, application_submit
from fuwu.areas.models import Area, AreaLevel
from fuwu.homecare.models import FamilyLink
from fuwu.residents.models import Person
from fuwu.standards.models import ServiceItem
from fuwu.standards.parsing import ParsedStandard, parse_many
from fuwu.standards.services import standards_load
from tests.common.test_uploads import jpeg
from tests.residents.factories import PersonFactory

STUDENT_AID = Path(__file__).resolve().parents[2] / "standards" / "taizhou" / "taizhou-student-aid.yaml"
PRESCHOOL = "sa-preschool-aid"
VILLAGE_A, VILLAGE_B = "331002001901", "331003001901"
PASSWORD = "a-long-test-password-1"
MONDAY = dt.date(2026, 11, 23)  # no holiday near it


@cache
def _parsed() -> list[ParsedStandard]:
    return parse_many([STUDENT_AID])


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def photo(name: str = "申请表.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg(), content_type="image/jpeg")


@dataclass
class World:
    item: ServiceItem
    education: Department
    civil: Department
    officer: User  # education bureau, 椒江区
    officer_civil: User  # civil affairs, 椒江区: another department
    officer_b: User  # education bureau, 黄岩区: another area
    parent: User  # the child's mother
    resident: User  # applies for themself
    stranger: User  # a resident linked to nobody
    agent: User  # 代办员 of the child's village
    agent_b: User  # 代办员 of a village in 黄岩区
    child: Person
    adult: Person

    def apply(
        self,
        actor: User | None = None,
        *,
        person: Person | None = None,
        now: dt.datetime | None = None,
        upload: Any = None,
    ) -> Application:
        return application_submit(
            actor=actor or self.parent,
            item=self.item,
            person=person or self.child,
            materials={0: MaterialInput(Provision.UPLOAD, upload or photo())},
            now=now or at(MONDAY, 9),
        )


def _user(username: str, role: Role, area: Area | None, **extra: Any) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, role=role, area=area, **extra)


@pytest.fixture
def world(db: None, settings: Any, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    standards_load(parsed=_parsed(), actor=None)
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    county = Area.objects.create(code="331002", name_zh="椒江区", level=AreaLevel.COUNTY, parent=city)
    town = Area.objects.create(code="331002001", name_zh="海门街道", level=AreaLevel.TOWNSHIP, parent=county)
    village = Area.objects.create(code=VILLAGE_A, name_zh="社区901", level=AreaLevel.VILLAGE, parent=town)
    county_b = Area.objects.create(code="331003", name_zh="黄岩区", level=AreaLevel.COUNTY, parent=city)
    town_b = Area.objects.create(code="331003001", name_zh="黄岩街道", level=AreaLevel.TOWNSHIP, parent=county_b)
    village_b = Area.objects.create(code=VILLAGE_B, name_zh="社区B", level=AreaLevel.VILLAGE, parent=town_b)
    education = Department.objects.create(code="education", name_zh="教育局")
    civil = Department.objects.create(code="civil-affairs", name_zh="民政局")
    child = PersonFactory(
        name="林小禾",
        birth_date=dt.date(2022, 3, 1),
        hukou_area=VILLAGE_A,
        school_stage="preschool",
        low_income_status="minimum_allowance",
    )
    adult = PersonFactory(name="林大山", birth_date=dt.date(1990, 1, 1), hukou_area=VILLAGE_A)
    parent = _user("parent", Role.RESIDENT, county)
    FamilyLink.objects.create(user=parent, person=child, relation="母亲")
    resident = _user("self", Role.RESIDENT, county)
    FamilyLink.objects.create(user=resident, person=adult, relation="本人")
    item = ServiceItem.objects.get(key=PRESCHOOL)
    return World(
        item=item,
        education=education,
        civil=civil,
        officer=_user("officer", Role.DEPARTMENT_OFFICER, county, department=education),
        officer_civil=_user("officer-civil", Role.DEPARTMENT_OFFICER, county, department=civil),
        officer_b=_user("officer-b", Role.DEPARTMENT_OFFICER, county_b, department=education),
        parent=parent,
        resident=resident,
        stranger=_user("stranger", Role.RESIDENT, county),
        agent=_user("agent", Role.VILLAGE_AGENT, village),
        agent_b=_user("agent-b", Role.VILLAGE_AGENT, village_b),
        child=child,
        adult=adult,
    )
