"""The real content in standards/ and data/: complete, honest about its sources, and searchable."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command

from fuwu.accounts.models import User
from fuwu.areas.models import Area
from fuwu.homecare.models import Caregiver, FamilyLink, Provider, TrainingRecord
from fuwu.residents.models import Person
from fuwu.standards.models import ServiceItem, StandardVersion
from fuwu.standards.parsing import ParsedStandard, expand_paths, parse_many
from fuwu.standards.schema import LifeArea
from fuwu.standards.selectors import search
from tests.conftest import REPO

STANDARDS = REPO / "standards"


@pytest.fixture(scope="module")
def parsed() -> dict[str, ParsedStandard]:
    return {p.document.id: p for p in parse_many([STANDARDS])}


def test_every_file_validates_and_says_where_it_comes_from(parsed: dict[str, ParsedStandard]) -> None:
    assert len(parsed) == len(expand_paths([STANDARDS]))
    for p in parsed.values():
        assert len(p.document.source.basis) > 40, p.path
        if p.document.source.modeled:
            assert p.document.meta.modeled_fields or any(c.modeled for c in p.document.clauses), p.path


def test_taizhou_first_batch_has_fifteen_standards(parsed: dict[str, ParsedStandard]) -> None:
    taizhou = [p for p in parsed.values() if p.document.meta.number.startswith("DB3310/T")]
    assert len(taizhou) == 15
    titles = {p.document.meta.title.zh for p in taizhou}
    for named in ["居家养老上门服务规范", "家庭医生基本服务规范", "公共交通基本服务规范"]:
        assert named in titles
    assert len({p.document.meta.number for p in taizhou}) == 15


def test_national_standard_covers_the_nine_life_areas(parsed: dict[str, ParsedStandard]) -> None:
    national = parsed["national-basic-public-services-2023"].document
    assert national.meta.scope == "national"
    areas = Counter(item.life_area for item in national.items)
    assert set(areas) == {a.value for a in LifeArea}
    assert len(national.items) >= 75
    for item in national.items:
        assert item.expenditure is not None, item.id
        assert item.lead_department is not None, item.id


def test_home_care_menu_is_ten_projects_and_four_packages(parsed: dict[str, ParsedStandard]) -> None:
    home_care = parsed["taizhou-home-care"].document
    categories = Counter(item.category.zh for item in home_care.items if item.category)
    assert sorted(categories.values()) == [4, 10]
    parameters = {p.id: p for p in home_care.parameters}
    prices = parameters["hc-unit-price"].values[-1].value
    packages = parameters["hc-package-price"].values[-1].value
    assert isinstance(prices, dict)
    assert isinstance(packages, dict)
    projects = [i for i in home_care.items if not i.id.startswith("hc-package-")]
    assert {i.id for i in projects} == set(prices)
    assert {i.id for i in home_care.items if i.id.startswith("hc-package-")} == set(packages)
    assert all(Decimal(v) > 0 for v in [*prices.values(), *packages.values()])
    subsidy = parameters["hc-monthly-subsidy"].values[-1].value
    assert isinstance(subsidy, dict)
    assert {"destitute", "minimum-allowance", "age-80-89"} <= set(subsidy)
    # The seed says: the difficult groups and everyone aged 80 or over.
    objects = " ".join(c.text.zh for c in _clauses(home_care.clauses) if c.text)
    assert "80周岁" in objects
    assert "特困" in objects
    assert "低保" in objects


def _clauses(clauses: list) -> list:  # type: ignore[type-arg]
    out = []
    for c in clauses:
        out += [c, *_clauses(c.children)]
    return out


def test_home_care_items_say_how_long_a_visit_takes_and_who_may_deliver_it(
    parsed: dict[str, ParsedStandard],
) -> None:
    home_care = parsed["taizhou-home-care"].document
    declared = {q.id for q in home_care.qualifications}
    assert declared == {"care-worker", "nurse-or-therapist", "hair-foot-care"}
    clauses = {c.number: c for c in _clauses(home_care.clauses)}
    used: set[str] = set()
    for item in home_care.items:
        # Every project and every package involves a home visit, so dispatch needs each one's delivery.
        assert item.delivery is not None, item.id
        assert 1 <= item.delivery.minutes <= 240, item.id
        assert set(item.delivery.qualifications) <= declared, item.id
        used |= set(item.delivery.qualifications)
        assert item.delivery.modeled, item.id  # the whole standard is modelled; no delivery value is published
        if item.delivery.clause:
            # A cited clause must state the visit length it is cited for.
            text = clauses[item.delivery.clause].text
            assert text is not None, item.id
            minutes = item.delivery.minutes
            assert f"{minutes} min" in text.zh or f"{minutes // 60} h" in text.zh, (item.id, text.zh)
    assert used == declared
    delivery = {i.id: i.delivery for i in home_care.items if i.delivery}
    assert (delivery["hc-bathing"].minutes, delivery["hc-bathing"].staff) == (60, 2)
    assert delivery["hc-bathing"].qualifications == ["care-worker"]
    assert delivery["hc-rehab-care"].qualifications == ["nurse-or-therapist"]
    assert delivery["hc-hair-foot-care"].qualifications == ["hair-foot-care"]
    for q in home_care.qualifications:
        assert q.clause == "8.2", q.id
    # The caregiver rules come from the standard as parameters, each cited to the clause that states it.
    parameters = {p.id: p for p in home_care.parameters}
    for key, value, unit, words in [
        ("hc-pre-job-training-hours", 40, "hour", "不少于40学时"),
        ("hc-annual-training-hours", 24, "hour", "不少于24学时"),
        ("hc-callback-days", 5, "working_day", "服务完成后5个工作日内"),
        ("hc-callback-share", 10, "percent", "不应低于完成工单的10%"),
        ("hc-health-check-months", 12, "month", "每年体检1次"),
    ]:
        parameter = parameters[key]
        assert parameter.values[-1].value == Decimal(value), key
        assert parameter.unit == unit, key
        assert parameter.clause is not None, key
        text = clauses[parameter.clause].text
        assert text is not None, key
        assert words in text.zh, key


def test_national_item_links_resolve(parsed: dict[str, ParsedStandard]) -> None:
    national_ids = {i.id for i in parsed["national-basic-public-services-2023"].document.items}
    for p in parsed.values():
        for item in p.document.items:
            if item.national_item:
                assert item.national_item in national_ids, (p.path, item.id)


@pytest.mark.django_db
def test_demo_setup_is_idempotent_and_searchable() -> None:
    def setup() -> None:
        call_command("areas", "load")
        call_command("standards", "load", str(STANDARDS))
        call_command("demo_accounts")
        call_command("demo_homecare")

    def counts() -> tuple[int, ...]:
        models = (Area, StandardVersion, ServiceItem, User, Provider, Caregiver, TrainingRecord, FamilyLink, Person)
        return tuple(model.objects.count() for model in models)

    setup()
    first = counts()
    setup()
    assert counts() == first
    assert FamilyLink.objects.get().user.username == "family"
    # The searches the issue names, on the real content, on this database.
    assert "taizhou-home-care" in {v.standard.key for v in search(query="上门").standards}
    assert "gb-elderly-welfare-subsidy" in {i.key for i in search(query="高龄").items}
