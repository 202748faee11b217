"""Grants: an approval of an item with a level gives one, at the standard's amount and period; home care's
opens the elder's account; the finance export lists payment lines by period, scoped; the proactive list reads
grants as "already receives", before receipts."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.utils import timezone

from fuwu.accounts.models import Role, User
from fuwu.applications import grants
from fuwu.applications.grants import grant_end, payment_lines, receiving_pairs, receiving_q, receiving_sql
from fuwu.applications.models import Application, Grant, GrantState, Provision, Status
from fuwu.applications.services import (
    ApplicationError,
    MaterialInput,
    application_accept,
    application_decide,
    application_submit,
)
from fuwu.areas.models import Area
from fuwu.common.models import AuditLog
from fuwu.eligibility.models import Candidate, Receipt, RunStatus, ScreeningRun
from fuwu.eligibility.proactive import newly_entitled
from fuwu.homecare.models import EntitlementAccount, FamilyLink, Provider
from fuwu.residents import crypto
from fuwu.residents.models import Person
from fuwu.standards.models import ServiceItem
from fuwu.standards.parsing import parse_many
from fuwu.standards.services import standards_load
from tests.applications.conftest import MONDAY, PASSWORD, STUDENT_AID, VILLAGE_A, World, at
from tests.residents.factories import PersonFactory

HOME_CARE = Path(__file__).resolve().parents[2] / "standards" / "taizhou" / "taizhou-home-care.yaml"
FEE_WAIVER = "sa-high-school-fee-waiver"  # a rule without a level: nothing to grant


def standard_value(path: Path, parameter: str, on: dt.date) -> Decimal:
    """The parameter's value on ``on`` as the standard's file states it (read here, not through fuwu's rules)."""
    (parsed,) = parse_many([path])
    (p,) = [p for p in parsed.document.parameters if p.id == parameter]
    value = [v for v in sorted(p.values, key=lambda v: v.effective_from) if v.effective_from <= on][-1].value
    assert not isinstance(value, dict)
    return Decimal(str(value))


def approved(world: World, application: Application | None = None, *, day: dt.date = MONDAY) -> Application:
    application = application or world.apply(now=at(day, 9))
    application_accept(actor=world.officer, application=application, now=at(day, 10))
    return application_decide(actor=world.officer, application=application, approve=True, reason="", now=at(day, 11))


def as_user(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


# --- created on approval -------------------------------------------------------------------------------------


def test_approval_gives_a_grant_at_the_standards_amount_and_period(world: World) -> None:
    application = approved(world)
    grant = Grant.objects.get(application=application)
    assert grant.amount == standard_value(STUDENT_AID, "sa-preschool-aid-amount", MONDAY)
    assert (grant.period, grant.person, grant.item_key) == ("year", world.child, "sa-preschool-aid")
    assert grant.start_on == MONDAY
    assert grant.end_on == dt.date(2027, 11, 22)  # one year of aid
    assert grant.state == GrantState.ACTIVE
    assert (grant.department, grant.area_code) == (world.education, application.area_code)
    log = AuditLog.objects.get(event="grant.created")
    assert log.after["amount"] == str(grant.amount)


def test_an_item_without_a_level_gives_no_grant(world: World) -> None:
    item = ServiceItem.objects.get(key=FEE_WAIVER)
    application = application_submit(
        actor=world.resident, item=item, person=world.adult, materials={}, now=at(MONDAY, 9)
    )
    approved(world, application)
    assert Application.objects.get(pk=application.pk).status == Status.APPROVED
    assert not Grant.objects.exists()


def test_a_refusal_gives_no_grant(world: World) -> None:
    application = world.apply()
    application_decide(
        actor=world.officer,
        application=application,
        approve=False,
        reason="不在普惠性幼儿园就读",
        ground="criterion:preschool",
        now=at(MONDAY, 11),
    )
    assert not Grant.objects.exists()


def test_a_new_approval_ends_the_earlier_grant(world: World) -> None:
    first = Grant.objects.get(application=approved(world))
    later = MONDAY + dt.timedelta(days=14)
    second = Grant.objects.get(application=approved(world, day=later))
    first.refresh_from_db()
    assert first.state == GrantState.ENDED
    assert first.end_on == later - dt.timedelta(days=1)
    assert second.state == GrantState.ACTIVE
    assert Grant.objects.filter(person=world.child, state=GrantState.ACTIVE).count() == 1


def test_grant_end_checks_the_officer_and_the_reason(world: World) -> None:
    grant = Grant.objects.get(application=approved(world))
    with pytest.raises(PermissionDenied):
        grant_end(actor=world.officer_b, grant=grant, reason="迁出")
    with pytest.raises(PermissionDenied):
        grant_end(actor=world.parent, grant=grant, reason="迁出")
    with pytest.raises(ApplicationError) as exc:
        grant_end(actor=world.officer, grant=grant, reason="  ")
    assert exc.value.field == "reason"
    grant.refresh_from_db()
    assert grant.state == GrantState.ACTIVE
    grant_end(actor=world.officer, grant=grant, reason="核实后不符合", cancel=True, now=at(MONDAY, 15))
    grant.refresh_from_db()
    assert grant.state == GrantState.CANCELLED
    assert list(payment_lines(grant, first=dt.date(2026, 1, 1), last=dt.date(2028, 12, 31))) == []
    with pytest.raises(ApplicationError) as again:
        grant_end(actor=world.officer, grant=grant, reason="再次")
    assert again.value.code == "wrong_state"


def test_the_detail_page_shows_the_grant(world: World) -> None:
    application = approved(world)
    client = as_user("parent")
    page = client.get(f"/applications/{application.pk}/").content.decode()
    grant = Grant.objects.get(application=application)
    assert 'data-testid="grant"' in page
    assert str(grant.amount) in page


# --- home care ------------------------------------------------------------------------------------------------


@pytest.fixture
def homecare(world: World) -> dict[str, Any]:
    standards_load(parsed=parse_many([HOME_CARE]), actor=None)
    county = Area.objects.get(code="331002")
    civil = world.civil
    provider = Provider.objects.create(
        name="椒江安康居家养老服务中心",
        licence_number="JJ-2021-001",
        licence_valid_until=dt.date(2028, 12, 31),
        address="椒江区海门街道",
        contact_name="王主任",
        contact_phone="0576-0000000",
    )
    elder = PersonFactory(
        birth_date=dt.date(1944, 3, 5),
        hukou_area=world.child.hukou_area,
        residence_area=world.child.hukou_area,
        low_income_status="none",
        care_need="moderate",
    )
    family = User.objects.create_user(username="daughter", password=PASSWORD, role=Role.RESIDENT, area=county)
    FamilyLink.objects.create(user=family, person=elder, relation="daughter")
    return {"provider": provider, "county": county, "elder": elder, "family": family, "civil": civil}


def _homecare_application(world: World, hc: dict[str, Any]) -> Application:
    return application_submit(
        actor=hc["family"],
        item=ServiceItem.objects.get(key="hc-meals"),
        person=hc["elder"],
        materials={
            1: MaterialInput(Provision.COUNTER),
            4: MaterialInput(Provision.COUNTER),
            5: MaterialInput(Provision.COUNTER),
        },
        now=at(MONDAY, 9),
    )


def _expected_allowance(elder: Person) -> Decimal:
    """What the rule's level gives this elder, from the explain engine (the self-check's answer)."""
    from fuwu.eligibility.explain import explain
    from fuwu.eligibility.facts import BASE
    from fuwu.eligibility.selectors import rules_in_force

    rules = [r for r in rules_in_force() if r.item == "hc-meals"]
    (result,) = explain({n: getattr(elder, n) for n in BASE}, rules=rules, as_of=MONDAY)
    assert result.amount is not None
    assert result.amount > 0
    return result.amount


def test_home_care_approval_opens_the_elders_account(world: World, homecare: dict[str, Any]) -> None:
    homecare["provider"].areas.add(homecare["county"])
    application = _homecare_application(world, homecare)
    application_accept(actor=world.officer_civil, application=application, now=at(MONDAY, 10))
    application_decide(actor=world.officer_civil, application=application, approve=True, reason="", now=at(MONDAY, 11))
    account = EntitlementAccount.objects.get(person=homecare["elder"])
    expected = _expected_allowance(homecare["elder"])
    assert account.monthly_allowance == expected
    assert "hc-meals" in account.items
    assert account.provider == homecare["provider"]
    assert account.opened_on == MONDAY
    grant = Grant.objects.get(application=application)
    assert (grant.amount, grant.period, grant.end_on, grant.shared) == (expected, "month", None, "hc-monthly-allowance")
    assert AuditLog.objects.filter(event="homecare.account_opened").count() == 1


def test_home_care_approval_without_a_provider_changes_nothing(world: World, homecare: dict[str, Any]) -> None:
    application = _homecare_application(world, homecare)  # the provider serves no area
    application_accept(actor=world.officer_civil, application=application, now=at(MONDAY, 10))
    with pytest.raises(ApplicationError) as exc:
        application_decide(
            actor=world.officer_civil, application=application, approve=True, reason="", now=at(MONDAY, 11)
        )
    assert exc.value.code == "no_provider"
    assert Application.objects.get(pk=application.pk).status == Status.IN_PROGRESS
    assert not Grant.objects.exists()
    assert not EntitlementAccount.objects.exists()


# --- payment lines and the finance export ------------------------------------------------------------------------


def test_payment_lines_by_period(world: World) -> None:
    grant = Grant.objects.get(application=approved(world))
    lines = list(payment_lines(grant, first=dt.date(2026, 1, 1), last=dt.date(2028, 12, 31)))
    assert [(line.period, line.due_on) for line in lines] == [("2026", MONDAY)]  # one year's aid, paid once
    grant.period, grant.end_on = "month", None
    months = list(payment_lines(grant, first=dt.date(2026, 12, 1), last=dt.date(2027, 2, 28)))
    assert [line.period for line in months] == ["2026-12", "2027-01", "2027-02"]
    grant.end_on = dt.date(2027, 1, 10)
    assert [line.period for line in payment_lines(grant, first=dt.date(2026, 11, 1), last=dt.date(2027, 2, 28))] == [
        "2026-11",
        "2026-12",
        "2027-01",
    ]
    grant.period, grant.end_on = "once", MONDAY
    assert [line.due_on for line in payment_lines(grant, first=MONDAY, last=MONDAY)] == [MONDAY]
    assert list(payment_lines(grant, first=MONDAY + dt.timedelta(days=1), last=dt.date(2027, 1, 1))) == []


def _workbook(response: Any) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(book.worksheets[0].iter_rows(values_only=True))


def test_the_finance_export_lists_the_departments_lines_in_its_area_masked(world: World) -> None:
    grant = Grant.objects.get(application=approved(world))
    client = as_user("officer")
    response = client.get("/grants/finance/", {"from": "2026-11", "to": "2026-11"})
    assert response.status_code == 200
    rows = _workbook(response)
    assert len(rows) == 2
    number = crypto.decrypt(world.child.id_number_encrypted, lookup=world.child.id_number_hash)
    row = rows[1]
    assert row[3] == "sa-preschool-aid"
    assert Decimal(str(row[7])) == grant.amount
    assert row[4] == "林*"
    assert row[5] == number.masked()
    text = repr(rows)
    assert world.child.name not in text
    assert number.value not in text
    # Another month: nothing due; another area, another department: nothing at all.
    assert len(_workbook(client.get("/grants/finance/", {"from": "2026-12", "to": "2027-10"}))) == 1
    for other in ("officer-b", "officer-civil"):
        c = as_user(other)
        assert len(_workbook(c.get("/grants/finance/", {"from": "2026-11", "to": "2026-11"}))) == 1


def test_the_finance_export_neutralises_formulas(world: World) -> None:
    Person.objects.filter(pk=world.child.pk).update(name="=HYPERLINK(1)")
    approved(world)
    client = as_user("officer")
    rows = _workbook(client.get("/grants/finance/", {"from": "2026-11", "to": "2026-11"}))
    assert rows[1][4] == "'=*"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "2026-13", "to": "2026-11"}, "起始月份"), ({"from": "2026-11", "to": "soon"}, "截止月份")],
)
def test_the_finance_export_names_a_bad_month(world: World, params: dict[str, str], field: str) -> None:
    client = as_user("officer")
    response = client.get("/grants/finance/", params)
    assert response.status_code == 400
    assert field in response.content.decode()


def test_the_finance_export_refuses_a_reversed_range_and_non_officers(world: World) -> None:
    client = as_user("officer")
    assert client.get("/grants/finance/", {"from": "2026-11", "to": "2026-10"}).status_code == 400
    assert client.get("/grants/finance/").status_code == 200  # the form
    for name in ("parent", "agent"):
        c = as_user(name)
        assert c.get("/grants/finance/", {"from": "2026-11", "to": "2026-11"}).status_code == 403
    assert Client().get("/grants/finance/").status_code == 302


# --- "already receives" ------------------------------------------------------------------------------------------


def _run_with_candidates(*persons: Person, item: str) -> ScreeningRun:
    run = ScreeningRun.objects.create(
        engine="duckdb",
        as_of=timezone.localdate(),
        population="registry",
        output="/nonexistent",
        rules_digest="test",
        status=RunStatus.COMPLETED,
        finished_at=timezone.now(),
    )
    for p in persons:
        Candidate.objects.create(run=run, person_id=p.pk, hukou_area=p.hukou_area, item=item, rule_version="t")
    return run


def test_the_proactive_list_leaves_out_whoever_holds_a_grant(world: World) -> None:
    approved(world, day=timezone.localdate())
    other = PersonFactory(hukou_area=world.child.hukou_area)
    run = _run_with_candidates(world.child, other, item="sa-preschool-aid")
    listed = {c.person_id for c in newly_entitled(run=run, user=world.officer)}
    assert listed == {other.pk}


def test_a_grant_overrules_a_receipt_where_both_exist(world: World) -> None:
    grant = Grant.objects.get(application=approved(world, day=timezone.localdate()))
    Receipt.objects.create(person_id=world.child.pk, item="sa-preschool-aid", source="import")
    grant_end(actor=world.officer, grant=grant, reason="不再就读", cancel=True)
    run = _run_with_candidates(world.child, item="sa-preschool-aid")
    # The receipt says "receives", the grant (cancelled) says not: the grant decides, and the child is listed.
    assert [c.person_id for c in newly_entitled(run=run, user=world.officer)] == [world.child.pk]


def _four_people(world: World) -> dict[str, Person]:
    """granted · ended grant with a receipt · receipt only · nothing · a grant that starts tomorrow."""
    today = timezone.localdate()
    people = {k: PersonFactory(hukou_area=world.child.hukou_area) for k in ("granted", "ended", "receipt", "none")}
    people["future"] = world.child
    base = approved(world, day=today)
    grant = Grant.objects.get(application=base)
    for key, state, start in (("granted", GrantState.ACTIVE, today), ("ended", GrantState.ENDED, today)):
        Grant.objects.create(
            person=people[key],
            item=grant.item,
            version=grant.version,
            item_key=grant.item_key,
            application=Application.objects.create(
                item=base.item,
                version=base.version,
                item_key=base.item_key,
                person=people[key],
                area_code=base.area_code,
                department=base.department,
                submitted_by=world.parent,
                capacity=base.capacity,
                status=Status.APPROVED,
                submitted_at=base.submitted_at,
            ),
            department=grant.department,
            area_code=grant.area_code,
            amount=grant.amount,
            period=grant.period,
            start_on=start,
            end_on=None,
            state=state,
            created_at=timezone.now(),
            ended_at=None if state == GrantState.ACTIVE else timezone.now(),
        )
    Grant.objects.filter(pk=grant.pk).update(start_on=today + dt.timedelta(days=1), end_on=None)
    for key in ("ended", "receipt"):
        Receipt.objects.create(person_id=people[key].pk, item=grant.item_key, source="import")
    return people


def test_receiving_reads_the_same_in_the_orm_in_sql_and_in_pairs(world: World) -> None:
    people = _four_people(world)
    today = timezone.localdate()
    expected = {people["granted"].pk, people["receipt"].pk}
    run = _run_with_candidates(*people.values(), item="sa-preschool-aid")
    by_orm = set(Candidate.objects.filter(run=run).filter(receiving_q(today=today)).values_list("person_id", flat=True))
    sql, params = receiving_sql("c.person_id", "c.item", today=today)
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Candidate._meta.db_table)
        cursor.execute(f"SELECT c.person_id FROM {table} c WHERE c.run_id = %s AND {sql}", [run.pk, *params])  # noqa: S608
        by_sql = {row[0] for row in cursor.fetchall()}
    by_pairs = {p for p, item in receiving_pairs(today=today) if item == "sa-preschool-aid"}
    assert by_orm == by_sql == by_pairs == expected


def test_a_screening_leaves_grant_holders_out_of_the_candidates(world: World) -> None:
    """The run's own candidate query (DuckDB over the files) is handed the grants as served."""
    from fuwu.eligibility.services import served_table

    people = _four_people(world)
    served = served_table()
    pairs = set(zip(served.column("person_id").to_pylist(), served.column("item").to_pylist(), strict=True))
    assert (people["granted"].pk, "sa-preschool-aid") in pairs
    assert (people["ended"].pk, "sa-preschool-aid") not in pairs  # its receipt is overruled
    assert (people["receipt"].pk, "sa-preschool-aid") in pairs


def test_grants_module_keeps_no_item_names() -> None:
    source = Path(grants.__file__).read_text(encoding="utf-8")
    assert "sa-" not in source
    assert "hc-" not in source


def _grant_for(world: World, person: Person, *, item_key: str, state: str = GrantState.ACTIVE) -> Grant:
    """A grant row for ``person`` (the approval path is tested above; here only what readers make of it)."""
    application = Application.objects.create(
        item=world.item,
        version=world.item.version,
        item_key=item_key,
        person=person,
        area_code=person.hukou_area,
        department=world.education,
        submitted_by=world.parent,
        capacity="counter",
        status=Status.APPROVED,
        submitted_at=timezone.now(),
    )
    return Grant.objects.create(
        person=person,
        item=world.item,
        version=world.item.version,
        item_key=item_key,
        application=application,
        department=world.education,
        area_code=person.hukou_area,
        amount=Decimal(60),
        period="month",
        start_on=timezone.localdate(),
        state=state,
        created_at=timezone.now(),
        ended_at=None if state == GrantState.ACTIVE else timezone.now(),
    )


def test_what_if_counts_grant_holders_as_already_receiving(world: World, tmp_path: Path) -> None:
    from fuwu.eligibility.explain import ELIGIBLE, explain
    from fuwu.eligibility.ruleset import rules_from_document
    from fuwu.eligibility.services import served_table
    from fuwu.eligibility.whatif import what_if
    from fuwu.standards.parsing import parse_standard_file
    from tests.conftest import MINI
    from tests.eligibility.population import random_population, write

    as_of = dt.date(2026, 11, 29)
    rows = random_population(400, seed=5, as_of=as_of, unknown=0)
    rules = rules_from_document(parse_standard_file(MINI).document)
    (rule,) = [r for r in rules if r.amount is not None]
    entitled = [r for r in rows if r["person_id"] > 100 and explain(r, rules=[rule], as_of=as_of)[0].status == ELIGIBLE]
    granted, receipted = (PersonFactory(id=entitled[i]["person_id"], hukou_area=VILLAGE_A) for i in (0, 1))
    population = write(rows, tmp_path / "pop.parquet")

    def receiving() -> int:
        report = what_if(
            in_force=rules, draft=rules, population=population, as_of=as_of, work=tmp_path / "w", served=served_table()
        )
        return report.totals().after_receiving

    assert receiving() == 0
    _grant_for(world, granted, item_key=rule.item)
    assert receiving() == 1  # the grant holder already receives
    cancelled = _grant_for(world, receipted, item_key=rule.item, state=GrantState.CANCELLED)
    Receipt.objects.create(person_id=receipted.pk, item=rule.item, source="import")
    assert receiving() == 1  # the receipt is overruled by the (cancelled) grant
    Grant.objects.filter(pk=cancelled.pk).delete()
    assert receiving() == 2  # without a grant, the receipt counts


# --- read back by the evaluation report's cost section ------------------------------------------------------------


def test_the_evaluation_report_counts_what_grants_paid_in_its_period(world: World) -> None:
    from fuwu.evaluation.review import _grants_paid

    grant = Grant.objects.get(application=approved(world))
    items = [world.item.key]
    assert _grants_paid(items, dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == {
        "available": True,
        "grants": 1,
        "payments": 1,  # a year's aid, paid on its first day
        "amount": f"{grant.amount:.2f}",
        "unknown_amounts": 0,
    }
    later = _grants_paid(items, dt.date(2027, 12, 1), dt.date(2028, 11, 30))
    assert later["available"] is False  # the grant ended on 2027-11-22
    assert _grants_paid(["another-item"], dt.date(2026, 1, 1), dt.date(2026, 12, 31))["available"] is False
