"""A small home-care world on the real home-care standard: one county, a provider, a caregiver, an elder of 82."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area, AreaLevel
from fuwu.eligibility.models import RunStatus, ScreeningRun
from fuwu.homecare.accounts import accounts_open_from_run
from fuwu.homecare.door import Position, order_partner_check_in
from fuwu.homecare.models import Caregiver, EntitlementAccount, FamilyLink, Provider, TrainingRecord
from fuwu.homecare.services import order_partner_assign
from fuwu.residents.models import Person
from fuwu.standards.parsing import ParsedStandard, parse_many
from fuwu.standards.services import standards_load
from tests.eligibility.stores import write_results
from tests.residents.factories import PersonFactory

HOME_CARE = Path(__file__).resolve().parents[2] / "standards" / "taizhou" / "taizhou-home-care.yaml"
VILLAGE = "331002001901"
ELDER_HOME = (Decimal("28.656000"), Decimal("121.420000"))
PASSWORD = "a-long-test-password-1"
# A Monday with no holiday near it; tests that need the calendar pick their own dates.
TODAY = dt.date(2026, 11, 23)


@cache
def _parsed() -> list[ParsedStandard]:
    return parse_many([HOME_CARE])


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


@dataclass
class World:
    officer: User
    family: User
    provider_admin: User
    caregiver_user: User
    stranger: User
    provider: Provider
    caregiver: Caregiver
    elder: Person
    account: EntitlementAccount

    def user(self, name: str) -> User:
        return getattr(self, name)  # type: ignore[no-any-return]


def make_user(username: str, role: Role, area: Area | None, **extra: Any) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, role=role, area=area, **extra)


# Screening runs' Parquet files for these tests, removed when the test process ends.
_RUN_FILES = tempfile.TemporaryDirectory(prefix="fuwu-homecare-runs-")


def registry_run(
    *people: Person,
    items: tuple[str, ...] = ("hc-meals",),
    amount: Decimal = Decimal("300.00"),
    population: str = "registry",
) -> ScreeningRun:
    """A finished screening that found ``people`` entitled to ``items`` at ``amount`` a month (in its files)."""
    out = write_results(
        Path(tempfile.mkdtemp(dir=_RUN_FILES.name)),
        [(person.pk, person.hukou_area, item, "eligible", amount) for person in people for item in items],
        rule_version="taizhou-home-care@1",
    )
    run = ScreeningRun.objects.create(
        engine="duckdb",
        as_of=TODAY,
        population=population,
        output=str(out),
        rules_digest="test",
        status=RunStatus.COMPLETED,
        finished_at=timezone.now(),
    )
    return run


def open_account(officer: User, person: Person, *, amount: Decimal, items: list[str]) -> EntitlementAccount:
    """An account as the officer opens it from a registry screening that found ``person`` entitled."""
    accounts_open_from_run(actor=officer, run=registry_run(person, items=tuple(items), amount=amount), today=TODAY)
    return EntitlementAccount.objects.get(person=person)


@pytest.fixture
def world(db: None) -> World:
    standards_load(parsed=_parsed(), actor=None)
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    county = Area.objects.create(code="331002", name_zh="椒江区", level=AreaLevel.COUNTY, parent=city)
    township = Area.objects.create(code="331002001", name_zh="海门街道", level=AreaLevel.TOWNSHIP, parent=county)
    Area.objects.create(code=VILLAGE, name_zh="社区901", level=AreaLevel.VILLAGE, parent=township)
    other = Area.objects.create(code="331003", name_zh="黄岩区", level=AreaLevel.COUNTY, parent=city)
    department = Department.objects.get_or_create(code="civil-affairs", defaults={"name_zh": "民政局"})[0]
    officer = make_user("officer", Role.DEPARTMENT_OFFICER, county, department=department)
    provider = Provider.objects.create(
        name="椒江安康居家养老服务中心",
        licence_number="JJ-2021-001",
        licence_valid_until=dt.date(2028, 12, 31),
        address="椒江区海门街道",
        contact_name="王主任",
        contact_phone="0576-0000000",
    )
    provider.areas.add(county)
    provider_admin = make_user("provider", Role.PROVIDER_ADMIN, county)
    provider.admins.add(provider_admin)
    caregiver_user = make_user("caregiver", Role.CAREGIVER, county)
    caregiver = Caregiver.objects.create(
        provider=provider,
        user=caregiver_user,
        name="李护理员",
        qualifications=["care-worker", "nurse-or-therapist", "hair-foot-care"],
        health_certificate_expires=dt.date(2027, 6, 30),
        home_latitude=Decimal("28.650000"),
        home_longitude=Decimal("121.410000"),
        shift_start=dt.time(8, 0),
        shift_end=dt.time(17, 0),
    )
    TrainingRecord.objects.create(
        caregiver=caregiver, kind="pre_job", completed_on=dt.date(2025, 3, 1), hours=Decimal(40), topic="岗前培训"
    )
    # 82, no difficult-group status, moderate care need: the age band plus the disability add-on.
    elder = PersonFactory(
        birth_date=dt.date(1944, 3, 5), hukou_area=VILLAGE, low_income_status="none", care_need="moderate"
    )
    family = make_user("family", Role.RESIDENT, county)
    FamilyLink.objects.create(user=family, person=elder, relation="daughter")
    stranger = make_user("stranger", Role.RESIDENT, other)
    account = open_account(officer, elder, amount=Decimal("200.00"), items=["hc-bathing", "hc-cleaning", "hc-meals"])
    account.latitude, account.longitude, account.address = *ELDER_HOME, "海门街道某小区"
    account.save()
    return World(
        officer=officer,
        family=family,
        provider_admin=provider_admin,
        caregiver_user=caregiver_user,
        stranger=stranger,
        provider=provider,
        caregiver=caregiver,
        elder=elder,
        account=account,
    )


PARTNER = "partner"


def second_caregiver(world: World) -> Caregiver:
    """A second caregiver of the world's provider (user "partner"), for the visits that need two."""
    found = Caregiver.objects.filter(user__username=PARTNER).first()
    if found is not None:
        return found
    user = make_user(PARTNER, Role.CAREGIVER, world.caregiver_user.area)
    partner = Caregiver.objects.create(
        provider=world.provider,
        user=user,
        name="王护理员",
        qualifications=list(world.caregiver.qualifications),
        health_certificate_expires=world.caregiver.health_certificate_expires,
        home_latitude=Decimal("28.660000"),
        home_longitude=Decimal("121.430000"),
        shift_start=dt.time(8, 0),
        shift_end=dt.time(17, 0),
    )
    TrainingRecord.objects.create(
        caregiver=partner, kind="pre_job", completed_on=dt.date(2025, 3, 1), hours=Decimal(40), topic="岗前培训"
    )
    return partner


def with_partner(world: World, order: Any, *, arrive: dt.datetime | None) -> None:
    """Give a scheduled visit that needs two its second caregiver, who checks in at ``arrive`` (None: never)."""
    partner = second_caregiver(world)
    order_partner_assign(actor=world.provider_admin, order=order, caregiver=partner)
    if arrive is not None:
        assert partner.user is not None
        order_partner_check_in(actor=partner.user, order=order, at=Position(*ELDER_HOME), now=arrive)
