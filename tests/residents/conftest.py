from __future__ import annotations

from collections.abc import Callable

import pytest

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area, AreaLevel

PASSWORD = "a-long-test-password-1"


@pytest.fixture
def areas(db: None) -> dict[str, Area]:
    """Taizhou with three counties, a township in two of them and two generated villages in each."""
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    made = {"city": city}
    for code, name in (("331002", "椒江区"), ("331003", "黄岩区"), ("331004", "路桥区")):
        made[code] = Area.objects.create(code=code, name_zh=name, level=AreaLevel.COUNTY, parent=city)
    for county in ("331002", "331003"):
        township = Area.objects.create(
            code=f"{county}001", name_zh=f"{county}街道", level=AreaLevel.TOWNSHIP, parent=made[county]
        )
        made[township.code] = township
        for n in (901, 902):
            village = Area.objects.create(
                code=f"{township.code}{n}", name_zh=f"社区{n}", level=AreaLevel.VILLAGE, parent=township
            )
            made[village.code] = village
    return made


@pytest.fixture
def make_user(areas: dict[str, Area]) -> Callable[..., User]:
    def make(role: Role, area_code: str = "331002", username: str = "") -> User:
        department = Department.objects.get_or_create(code="civil-affairs", defaults={"name_zh": "民政局"})[0]
        return User.objects.create_user(
            username=username or f"u-{role}-{area_code}",
            password=PASSWORD,
            role=role,
            area=areas[area_code] if area_code != "331000" else areas["city"],
            department=department if role in (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_SUPERVISOR) else None,
        )

    return make
