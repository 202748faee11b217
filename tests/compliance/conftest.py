"""A small compliance world on the real standards: two counties, veterans' stations and village fire stations.

Areas: 台州市 → 椒江区 (two townships, three villages) and 黄岩区 (one township, one village). Institutions:
the 椒江 veterans' centre, a township station, village stations, micro fire stations. A pool of four
inspectors of the civil affairs department, city-wide; an officer of 椒江, the standards office, an auditor;
the administrators of two institutions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area, AreaLevel
from fuwu.compliance.models import Inspection, Inspector, Institution
from fuwu.compliance.services.inspections import answer_give, evidence_add, inspection_start
from fuwu.standards.models import Standard
from fuwu.standards.parsing import ParsedStandard, parse_many
from fuwu.standards.services import standards_load
from tests.common.test_uploads import jpeg

TAIZHOU = Path(__file__).resolve().parents[2] / "standards" / "taizhou"
VETERANS = "taizhou-veterans-service-centre"
FIRE = "taizhou-rural-fire-safety"
PASSWORD = "a-long-test-password-1"
# A Monday with no holiday near it; tests about the calendar pick their own dates.
TODAY = dt.date(2026, 11, 23)


@cache
def parsed(*names: str) -> list[ParsedStandard]:
    return parse_many([TAIZHOU / f"{name}.yaml" for name in names])


def make_user(username: str, role: Role, area: Area | None = None, **extra: Any) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, role=role, area=area, **extra)


def photo(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg(), content_type="image/jpeg")


@pytest.fixture(autouse=True)
def _chinese() -> Iterator[None]:
    # Pages served in English (a language cookie) leave English active in the thread; these tests read Chinese.
    with translation.override("zh-hans"):
        yield


@dataclass
class World:
    users: dict[str, User]
    areas: dict[str, Area]
    institutions: dict[str, Institution]
    inspectors: list[Inspector]
    department: Department
    standards: dict[str, Standard] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return self.users[name]


def institution(name: str, kind: str, area: Area, code: str, **extra: Any) -> Institution:
    return Institution.objects.create(
        name=name, kind=kind, code=code, area=area, address=f"{area.name_zh}某路1号", **extra
    )


@pytest.fixture
def world(db: None, settings: Any, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    standards_load(parsed=parsed(VETERANS, FIRE), actor=None)
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    jj = Area.objects.create(code="331002", name_zh="椒江区", level=AreaLevel.COUNTY, parent=city)
    hy = Area.objects.create(code="331003", name_zh="黄岩区", level=AreaLevel.COUNTY, parent=city)
    haimen = Area.objects.create(code="331002001", name_zh="海门街道", level=AreaLevel.TOWNSHIP, parent=jj)
    baiyun = Area.objects.create(code="331002002", name_zh="白云街道", level=AreaLevel.TOWNSHIP, parent=jj)
    dongcheng = Area.objects.create(code="331003001", name_zh="东城街道", level=AreaLevel.TOWNSHIP, parent=hy)
    villages = {
        code: Area.objects.create(code=code, name_zh=name, level=AreaLevel.VILLAGE, parent=parent)
        for code, name, parent in [
            ("331002001901", "和美社区", haimen),
            ("331002001902", "幸福社区", haimen),
            ("331002002901", "和美社区", baiyun),
            ("331003001901", "和美社区", dongcheng),
        ]
    }
    department = Department.objects.create(code="civil-affairs", name_zh="民政局")
    other_department = Department.objects.create(code="fire", name_zh="消防救援支队")
    users = {
        "officer": make_user("officer", Role.DEPARTMENT_OFFICER, jj, department=department),
        "hy_officer": make_user("hy_officer", Role.DEPARTMENT_OFFICER, hy, department=department),
        "fire_officer": make_user("fire_officer", Role.DEPARTMENT_OFFICER, jj, department=other_department),
        "stdoffice": make_user("stdoffice", Role.STANDARDS_OFFICE, city),
        "auditor": make_user("auditor", Role.AUDITOR, city),
        "resident": make_user("resident", Role.RESIDENT, jj),
        "centre_admin": make_user("centre_admin", Role.INSTITUTION_ADMIN, jj),
        "station_admin": make_user("station_admin", Role.INSTITUTION_ADMIN, jj),
    }
    institutions = {
        "centre": institution(
            "椒江区退役军人服务中心",
            "veterans-service-centre",
            jj,
            "VC-JJ",
            latitude=Decimal("28.680000"),
            longitude=Decimal("121.440000"),
        ),
        "haimen": institution(
            "海门街道退役军人服务站",
            "veterans-station-township",
            haimen,
            "VS-HM",
            latitude=Decimal("28.675000"),
            longitude=Decimal("121.430000"),
        ),
        "baiyun": institution("白云街道退役军人服务站", "veterans-station-township", baiyun, "VS-BY"),
        "hemei": institution("和美社区退役军人服务站", "veterans-station-village", villages["331002001901"], "VV-HM"),
        "xingfu": institution("幸福社区退役军人服务站", "veterans-station-village", villages["331002001902"], "VV-XF"),
        "hy_centre": institution("黄岩区退役军人服务中心", "veterans-service-centre", hy, "VC-HY"),
        "fire_hemei": institution("和美社区微型消防站", "micro-fire-station", villages["331002001901"], "MF-HM"),
    }
    institutions["centre"].admins.add(users["centre_admin"])
    institutions["hemei"].admins.add(users["station_admin"])
    inspectors = []
    for n in range(4):
        user = make_user(f"inspector{n}", Role.INSPECTOR, city, first_name=f"检查员{n}")
        users[user.username] = user
        inspectors.append(Inspector.objects.create(user=user, department=department, area=city))
    standards = {s.key: s for s in Standard.objects.all()}
    return World(
        users,
        {
            **villages,
            "331000": city,
            "331002": jj,
            "331003": hy,
            "331002001": haimen,
            "331002002": baiyun,
            "331003001": dongcheng,
        },
        institutions,
        inspectors,
        department,
        standards,
    )


def planned(world: World, name: str, *, standard: str = VETERANS, pair: tuple[int, int] = (0, 1)) -> Inspection:
    """An official inspection of one institution, planned for two inspectors of the pool (as a draw would)."""
    inspection = Inspection.objects.create(
        institution=world.institutions[name], standard=world.standards[standard], kind="official", planned_on=TODAY
    )
    inspection.inspectors.set([world.inspectors[i].user for i in pair])
    return inspection


def fill(
    inspection: Inspection,
    actor: User,
    *,
    results: dict[str, str] | None = None,
    default: str = "compliant",
    photos: bool = True,
) -> Inspection:
    """Answer every item (``results`` by clause number, else ``default``), with photos and numbers as asked."""
    results = results or {}
    for item in inspection.items.order_by("position"):
        result = results.get(item.clause_number, default)
        number = None
        if "number" in item.evidence:
            number = item.at_least if item.at_least is not None else (item.at_most or Decimal(1))
            if result != "compliant" and item.at_least is not None:
                number = item.at_least - 1
        note = "" if result in ("compliant", "na") else f"第{item.clause_number}条发现问题"
        answer_give(actor=actor, item=item, result=result, note=note, number=number)
        if photos and result != "na" and ("photo" in item.evidence or "file" in item.evidence):
            evidence_add(actor=actor, item=item, upload=photo())
    return inspection


def started(world: World, name: str, *, day: dt.date = TODAY, **options: Any) -> Inspection:
    inspection = planned(world, name, **options)
    first = inspection.inspectors.order_by("pk").first()
    return inspection_start(actor=first, inspection=inspection, today=day)
