"""Data quality: completeness and timeliness per check and area, counted by hand here; the page and its scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area
from fuwu.compliance.models import Inspection
from fuwu.eligibility.models import RunStatus, ScreeningCount, ScreeningRun
from fuwu.evaluation.engine import Period
from fuwu.evaluation.manual import manual_value_enter
from fuwu.evaluation.quality import homecare_units, quality
from fuwu.homecare.models import EntitlementAccount, Order
from fuwu.standards.models import Indicator, StandardVersion
from tests.compliance.conftest import World, make_user
from tests.compliance.conftest import world as compliance_world  # noqa: F401 - a fixture, used by name
from tests.evaluation.conftest import built, world  # noqa: F401 - fixtures, used by name
from tests.homecare.conftest import World as HomeCareWorld
from tests.homecare.test_supervision import END, Built

OCTOBER = dt.date(2026, 10, 1)
NOW = dt.datetime(2026, 11, 20, 4, tzinfo=dt.UTC)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def by_key(area: Area, month: dt.date = OCTOBER) -> dict[str, tuple[tuple[int, int, int | None], dict[str, tuple]]]:
    out = {}
    for row in quality(area, month, now=NOW):
        t = row.total
        out[row.check.key] = (
            (t.expected, t.reported, t.on_time),
            {c.code: (s.expected, s.reported, s.on_time) for c, s in row.children},
        )
    return out


def _planned(world: World, name: str, planned: dt.date, inspected: dt.date | None) -> None:  # noqa: F811
    version = StandardVersion.objects.get(standard__key="taizhou-veterans-service-centre")
    done = inspected is not None
    Inspection.objects.create(
        institution=world.institutions[name],
        standard=version.standard,
        version=version,
        kind="official",
        status="signed" if done else "planned",
        planned_on=planned,
        inspected_on=inspected,
        passed=True if done else None,
        score=Decimal(90) if done else None,
        signed_at=NOW if done else None,
        signed_by=world.users["officer"] if done else None,
    )


def test_inspections_screening_and_entries_by_hand(compliance_world: World) -> None:  # noqa: F811
    world = compliance_world  # noqa: F811
    # Planned in October: 椒江's centre done on its day, 海门's station done late, 白云's not done; 黄岩's done.
    _planned(world, "centre", dt.date(2026, 10, 10), dt.date(2026, 10, 10))
    _planned(world, "haimen", dt.date(2026, 10, 12), dt.date(2026, 10, 20))
    _planned(world, "baiyun", dt.date(2026, 10, 14), None)
    _planned(world, "hy_centre", dt.date(2026, 10, 15), dt.date(2026, 10, 1))
    _planned(world, "hemei", dt.date(2026, 11, 3), None)  # November's: not October's
    # Screening: October's latest run counted people in 海门 and 东城, not in 白云.
    run = ScreeningRun.objects.create(
        engine="duckdb",
        as_of=dt.date(2026, 10, 20),
        population="registry",
        output="/x",
        rules_digest="t",
        status=RunStatus.COMPLETED,
        finished_at=NOW,
    )
    ScreeningCount.objects.create(run=run, township="331002001", item="a", eligible=3, unknown=0)
    ScreeningCount.objects.create(run=run, township="331003001", item="a", eligible=0, unknown=2)
    ScreeningCount.objects.create(run=run, township="331002002", item="a", eligible=0, unknown=0)
    # By hand: the veterans bureau's 椒江 officer entered one of the two indicators, within the deadline.
    bureau = Department.objects.create(code="veterans", name_zh="退役军人事务局")
    vet = make_user("vet", Role.DEPARTMENT_OFFICER, world.areas["331002"], department=bureau)
    manual_value_enter(
        actor=vet,
        indicator=Indicator.objects.get(key="vc-satisfaction"),
        area=world.areas["331002"],
        period=Period.containing("quarter", dt.date(2026, 7, 1)),
        value=Decimal(95),
        source_document="测评报告",
        source_date=dt.date(2026, 10, 5),
        now=dt.datetime(2026, 10, 6, 2, tzinfo=dt.UTC),
    )

    city = by_key(world.areas["331000"])
    assert city["compliance_inspections"] == ((4, 3, 2), {"331002": (3, 2, 1), "331003": (1, 1, 1)})
    assert city["screening_results"][0] == (3, 2, None)
    assert city["screening_results"][1] == {"331002": (2, 1, None), "331003": (1, 1, None)}
    # Four indicators entered by hand × two counties: the veterans standard's vc-holiday-visit-coverage and
    # vc-satisfaction, and the fire standard's micro stations and alarms (its lead, 消防救援支队, is on the platform).
    assert city["manual_entries"] == ((8, 1, 1), {"331002": (4, 1, 1), "331003": (4, 0, 0)})
    county = by_key(world.areas["331002"])
    assert county["compliance_inspections"][1] == {"331002001": (1, 1, 0), "331002002": (1, 0, 0)}
    share = next(r for r in quality(world.areas["331000"], OCTOBER, now=NOW) if r.check.key == "compliance_inspections")
    assert (share.total.completeness, share.total.timeliness) == (Decimal("75.0"), Decimal("50.0"))


def test_homecare_townships_against_a_hand_count(world: HomeCareWorld, built: Built) -> None:  # noqa: F811
    month = dt.date(2026, 12, 1)
    units = homecare_units(Period.containing("month", month), END)
    # Counted here from the rows: townships with an active account; those with an order on the month.
    expected = {a.person.hukou_area[:9] for a in EntitlementAccount.objects.filter(status="active")}
    ordered = {
        o.account.person.hukou_area[:9]
        for o in Order.objects.filter(account_month__month=month).select_related("account__person")
    }
    assert {code for code, _r, _t in units} == expected
    assert {code for code, reported, _t in units if reported} == expected & ordered
    done = list(
        Order.objects.filter(account_month__month=month, status__in=["completed", "rated"]).select_related(
            "account__person"
        )
    )
    deadline = dt.datetime(2027, 1, 11, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # 10 days after the month
    late = {o.account.person.hukou_area[:9] for o in done if o.confirmed_at and o.confirmed_at >= deadline}
    unconfirmed = {o.account.person.hukou_area[:9] for o in done if o.confirmed_at is None}
    reported = expected & ordered
    # Before the deadline a visit not yet confirmed is not late; long after it, it is.
    assert {code for code, _r, on_time in units if on_time} == reported - late
    later = homecare_units(Period.containing("month", month), dt.datetime(2027, 3, 1, tzinfo=dt.UTC))
    assert {code for code, _r, on_time in later if on_time} == reported - late - unconfirmed


def test_the_page_is_scoped_like_the_dashboard(compliance_world: World) -> None:  # noqa: F811
    world = compliance_world  # noqa: F811
    officer = client_for(world.users["officer"])  # 椒江
    page = officer.get(reverse("evaluation:quality") + "?month=2026-10")
    assert page.status_code == 200
    text = page.content.decode()
    assert "完整性" in text
    assert "海门街道" in text
    assert officer.get(reverse("evaluation:quality_area", args=["331003"])).status_code == 404
    assert officer.get(reverse("evaluation:quality_area", args=["999999"])).status_code == 404
    assert client_for(world.users["resident"]).get(reverse("evaluation:quality")).status_code == 403
    bad = client_for(world.users["stdoffice"]).get(reverse("evaluation:quality") + "?month=2026-13")
    assert bad.status_code == 200
    assert "2026-01 这样的格式" in bad.content.decode()


@pytest.mark.parametrize("days", [0, 30])
def test_the_deadline_is_a_setting(compliance_world: World, settings: object, days: int) -> None:  # noqa: F811
    settings.FUWU_EVALUATION_TIMELY_DAYS = days  # type: ignore[attr-defined]
    bureau = Department.objects.create(code="veterans", name_zh="退役军人事务局")
    vet = make_user("vet", Role.DEPARTMENT_OFFICER, compliance_world.areas["331002"], department=bureau)
    # Entered 5 days after the quarter's end: late with no days allowed, on time with 30.
    manual_value_enter(
        actor=vet,
        indicator=Indicator.objects.get(key="vc-satisfaction"),
        area=compliance_world.areas["331002"],
        period=Period.containing("quarter", dt.date(2026, 7, 1)),
        value=Decimal(95),
        source_document="测评报告",
        source_date=dt.date(2026, 10, 5),
        now=dt.datetime(2026, 10, 6, 2, tzinfo=dt.UTC),
    )
    city = by_key(compliance_world.areas["331000"])
    assert city["manual_entries"][0] == (8, 1, 1 if days else 0)
