"""Grants: what an approved application gives, read from the item's rule ``level`` (ADR 24).

* ``grant_on_approval`` — called by ``services.application_decide`` inside the approval's transaction. An item
  whose rule states a level (``amount`` and/or ``units`` per ``period``: once, month, year; the same level the
  what-if costs) gets a :class:`Grant` for the person with that level, worked out on the approval day from the
  person's registry facts; an item without one gets none. A home-care project (``settings.FUWU_HOMECARE``'s
  standard) also opens, or brings up to date, the elder's entitlement account through home care's own
  ``accounts.account_open``.
* ``grant_end`` — the department ends (or cancels) a grant; audited.
* Payment lines — a one-off aid pays once on its start day, a yearly one once a year from its start, a
  monthly one each month from its start's month until its end; ``finance_rows`` lists them by period for an
  officer's department and area (the finance export streams them through ``fuwu.common.spreadsheets``),
  with names and identity numbers masked.
* Receiving — a person receives an item when a grant for it is current (active, started, not past its end);
  where a person has a grant for the item, the grant decides, whatever a receipt says; otherwise a receipt
  (``eligibility.Receipt``) does. ``receiving_q`` / ``receiving_sql`` / ``receiving_pairs`` are that rule for
  the proactive list's three readers (the ORM, SQL, the DuckDB engines).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fuwu.applications import permissions
from fuwu.applications.models import Application, Grant, GrantPeriod, GrantState
from fuwu.applications.services import ApplicationError, _reason
from fuwu.common.audit import audit
from fuwu.residents import crypto
from fuwu.residents.masking import mask_name
from fuwu.residents.models import Person
from fuwu.residents.permissions import officer_prefix

# --- the level an approval gives --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    amount: Decimal | None
    units: Decimal | None
    unit: str
    period: str
    shared: str
    rule_version: str


def _rule(application: Application) -> Any:
    """The item's rule as the application's version states it."""
    return next((r for r in _same_version_rules(application) if r.item == application.item_key), None)


def _facts(person: Person, *, on: dt.date) -> dict[str, Any]:
    from fuwu.eligibility.derived import person_facts
    from fuwu.eligibility.facts import BASE

    def base(p: Person) -> dict[str, Any]:
        return {name: getattr(p, name) for name in BASE}

    household = [base(m) for m in Person.objects.filter(household_id=person.household_id)]
    return person_facts(base(person), as_of=on, household=household)


def level_for(*, application: Application, on: dt.date) -> Level | None:
    """The level the item's rule gives the applicant on ``on``; ``None`` when the rule states no level (or the
    amount is a price the person pays). The officer's approval decides eligibility, so the level is worked out
    whatever the rule's criteria said; an amount that needs a fact the registry lacks is ``None``."""
    from fuwu.eligibility.engines import rule_version
    from fuwu.eligibility.rules import money

    rule = _rule(application)
    if rule is None or (rule.amount is None and rule.units is None) or rule.self_paid:
        return None
    bound = rule.bound(on)
    facts = _facts(application.person, on=on)
    amount = bound.amount_fn(facts) if bound.amount_fn is not None else None
    units = bound.units_fn(facts) if bound.units_fn is not None else None
    return Level(
        amount=money(amount) if amount is not None else None,
        units=money(units) if units is not None else None,
        unit=rule.unit or "",
        period=rule.period,
        shared=rule.shared or "",
        rule_version=rule_version(rule),
    )


def end_of(start: dt.date, period: str) -> dt.date | None:
    """A one-off aid ends the day it starts; a yearly one after a year; a monthly one runs until it is ended."""
    if period == GrantPeriod.ONCE:
        return start
    if period == GrantPeriod.YEAR:
        return _add_months(start, 12) - dt.timedelta(days=1)
    return None


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _state(grant: Grant) -> dict[str, Any]:
    return {
        "person": grant.person_id,
        "item": grant.item_key,
        "application": grant.application_id,
        "amount": str(grant.amount) if grant.amount is not None else None,
        "units": str(grant.units) if grant.units is not None else None,
        "period": grant.period,
        "start_on": grant.start_on.isoformat(),
        "end_on": grant.end_on.isoformat() if grant.end_on else None,
        "state": grant.state,
    }


def _is_homecare(application: Application, on: dt.date) -> bool:
    from fuwu.homecare import standard as homecare_standard

    if application.version.standard.key != settings.FUWU_HOMECARE["standard"]:
        return False
    projects = homecare_standard.projects(on=on)
    return application.item_key in projects and projects[application.item_key].kind == "subsidised"


def _open_homecare_account(*, actor: Any, application: Application, level: Level, on: dt.date) -> dict[str, Any]:
    """The elder's account, through home care's own service: the allowance the rule gives, and every subsidised
    project the rule finds them entitled to plus the one approved."""
    from fuwu.eligibility.explain import ELIGIBLE, explain
    from fuwu.homecare import accounts
    from fuwu.homecare import standard as homecare_standard
    from fuwu.homecare.models import EntitlementAccount

    if level.amount is None:
        raise ApplicationError(
            _("按标准计算服务补贴额度所需的信息（如困难类别、失能等级）尚未登记，暂不能批准；请先核实登记信息。"),
            code="level_unknown",
        )
    person = application.person
    subsidised = {k for k, p in homecare_standard.projects(on=on).items() if p.kind == "subsidised"}
    rule = _rule(application)
    siblings = [
        r
        for r in _same_version_rules(application)
        if r.item in subsidised and r.item != application.item_key and (r.shared or "") == (rule.shared or "")
    ]
    entitled = {r.item for r in explain(_facts(person, on=on), rules=siblings, as_of=on) if r.status == ELIGIBLE}
    existing = EntitlementAccount.objects.filter(person=person).first()
    items = sorted(entitled | {application.item_key} | set(existing.items if existing else []))
    outcome = accounts.account_open(
        actor=actor,
        person=person,
        allowance=level.amount,
        items=items,
        rule_version=level.rule_version,
        today=on,
        account=existing,
    )
    if outcome == accounts.NO_PROVIDER:
        raise ApplicationError(
            _("老人户籍所在地还没有签约的居家养老服务机构，服务账户无法开通；请先安排服务机构再批准。"),
            code="no_provider",
        )
    return {"homecare_account": outcome, "items": items}


def _same_version_rules(application: Application) -> list[Any]:
    from fuwu.eligibility.selectors import rules_for_versions, rules_in_force

    version = application.version
    key = version.standard.key
    rules = [r for r in rules_in_force() if r.standard == key and r.version == version.number]
    return rules or rules_for_versions([version])


def grant_on_approval(*, actor: Any, application: Application, now: dt.datetime) -> Grant | None:
    """The grant an approval gives (inside the approval's transaction); ``None`` for an item without a level.

    A grant already active for the person and item (an earlier approval) ends the day before the new one starts.
    """
    on = timezone.localtime(now).date()
    level = level_for(application=application, on=on)
    if level is None:
        return None
    details: dict[str, Any] = {}
    if _is_homecare(application, on):
        details = _open_homecare_account(actor=actor, application=application, level=level, on=on)
    for earlier in Grant.objects.select_for_update().filter(
        person_id=application.person_id, item_key=application.item_key, state=GrantState.ACTIVE
    ):
        _end(earlier, actor=actor, state=GrantState.ENDED, reason=_("新的批准取代了此前的享受"), on=on, now=now)
    assert application.department_id is not None  # noqa: S101 - an application reaches approval only with one
    grant = Grant.objects.create(
        person_id=application.person_id,
        item=application.item,
        version=application.version,
        item_key=application.item_key,
        application=application,
        department_id=application.department_id,
        area_code=application.area_code,
        amount=level.amount,
        units=level.units,
        unit=level.unit,
        period=level.period,
        shared=level.shared,
        start_on=on,
        end_on=end_of(on, level.period),
        created_at=now,
    )
    audit(actor=actor, event="grant.created", obj=grant, after=_state(grant) | details)
    return grant


def _end(grant: Grant, *, actor: Any, state: str, reason: str, on: dt.date, now: dt.datetime) -> None:
    before = _state(grant)
    grant.state = state
    grant.ended_at = now
    grant.end_reason = reason
    if state == GrantState.ENDED:
        last = max(grant.start_on, on - dt.timedelta(days=1))
        grant.end_on = last if grant.end_on is None else min(grant.end_on, last)
    grant.save()
    audit(actor=actor, event=f"grant.{state}", obj=grant, before=before, after=_state(grant), note=reason)


def grant_end(*, actor: Any, grant: Grant, reason: str, cancel: bool = False, now: dt.datetime | None = None) -> Grant:
    """The department ends a grant from today (``cancel``: revokes it, so nothing of it is ever paid)."""
    now = timezone.localtime(now) if now is not None else timezone.localtime()
    reason = _reason(reason, required=True, what=_("终止享受的原因"))
    with transaction.atomic():
        grant = Grant.objects.select_for_update().select_related("application").get(pk=grant.pk)
        if not permissions.handles(actor, grant.application):
            raise PermissionDenied("only the handling department of the applicant's area ends a grant")
        if grant.state != GrantState.ACTIVE:
            raise ApplicationError(
                _("这项享受已是“%(state)s”，不能再终止。") % {"state": grant.get_state_display()}, code="wrong_state"
            )
        _end(
            grant,
            actor=actor,
            state=GrantState.CANCELLED if cancel else GrantState.ENDED,
            reason=reason,
            on=now.date(),
            now=now,
        )
        return grant


# --- payment lines and the finance export -----------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentLine:
    grant: Grant
    period: str  # "2026-11" for a month, "2026" for a year, the day for a one-off payment
    due_on: dt.date
    amount: Decimal | None


def payment_lines(grant: Grant, *, first: dt.date, last: dt.date) -> Iterator[PaymentLine]:
    """The grant's payments due between ``first`` and ``last`` (both included); none for a cancelled grant."""
    if grant.state == GrantState.CANCELLED:
        return
    end = min(last, grant.end_on) if grant.end_on else last
    if grant.period == GrantPeriod.ONCE:
        if first <= grant.start_on <= end:
            yield PaymentLine(grant, grant.start_on.isoformat(), grant.start_on, grant.amount)
        return
    if grant.period == GrantPeriod.YEAR:  # on each anniversary of the start
        n, due = 0, grant.start_on
        while due <= end:
            if due >= first:
                yield PaymentLine(grant, f"{due:%Y}", due, grant.amount)
            n += 1
            due = _add_months(grant.start_on, 12 * n)
        return
    month = max(grant.start_on, first).replace(day=1)  # each month it runs in, from its start's month
    while month <= end:
        yield PaymentLine(grant, f"{month:%Y-%m}", max(month, grant.start_on), grant.amount)
        month = _add_months(month, 1)


def grants_for_finance(*, user: Any) -> QuerySet[Grant]:
    """The grants of the officer's department whose applicant's hukou is in the officer's area (none otherwise)."""
    prefix = officer_prefix(user)
    if prefix is None or user.department_id is None:
        return Grant.objects.none()
    return Grant.objects.filter(department_id=user.department_id, area_code__startswith=prefix)


FINANCE_HEADER = (
    gettext_lazy("发放期间"),
    gettext_lazy("应发日期"),
    gettext_lazy("服务事项"),
    gettext_lazy("事项代码"),
    gettext_lazy("姓名"),
    gettext_lazy("身份证号"),
    gettext_lazy("户籍地代码"),
    gettext_lazy("金额（元）"),
    gettext_lazy("周期"),
    gettext_lazy("状态"),
    gettext_lazy("申请编号"),
)


def finance_header() -> list[str]:
    return [str(h) for h in FINANCE_HEADER]


def finance_rows(*, user: Any, first: dt.date, last: dt.date) -> Iterator[list[Any]]:
    """One row per payment line due in [first, last], by period then area; names and ID numbers masked."""
    grants = (
        grants_for_finance(user=user)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=first), start_on__lte=last)
        .exclude(state=GrantState.CANCELLED)
        .select_related("person", "item")
        .order_by("area_code", "start_on", "id")
    )
    lines = sorted(
        (line for grant in grants.iterator(chunk_size=2000) for line in payment_lines(grant, first=first, last=last)),
        key=lambda line: (line.due_on, line.grant.area_code, line.grant.pk),
    )
    for line in lines:
        g = line.grant
        number = crypto.decrypt(g.person.id_number_encrypted, lookup=g.person.id_number_hash).masked()
        yield [
            line.period,
            line.due_on,
            g.item.name_zh,
            g.item_key,
            mask_name(g.person.name),
            number,
            g.area_code,
            line.amount,
            g.get_period_display(),
            g.get_state_display(),
            g.application_id,
        ]


def month_range(raw_from: str, raw_to: str) -> tuple[dt.date, dt.date]:
    """The first day of ``from`` and the last day of ``to`` (both "YYYY-MM"); a clear error naming the field."""

    def parse(raw: str, field: str) -> dt.date:
        try:
            return dt.datetime.strptime((raw or "").strip(), "%Y-%m").date()  # noqa: DTZ007 - a month, no time
        except ValueError:
            raise ApplicationError(
                _("“%(field)s”应为年月，例如 2026-11。")
                % {"field": _("起始月份") if field == "from" else _("截止月份")},
                code="bad_month",
                field=field,
            ) from None

    first, last_month = parse(raw_from, "from"), parse(raw_to, "to")
    if last_month < first:
        raise ApplicationError(_("截止月份不能早于起始月份。"), code="bad_range", field="to")
    if (last_month.year - first.year) * 12 + last_month.month - first.month >= 60:
        raise ApplicationError(_("一次最多导出 60 个月。"), code="bad_range", field="to")
    return first, _add_months(last_month, 1) - dt.timedelta(days=1)


# --- receiving: what the proactive list reads -------------------------------------------------------------------


def _current(today: dt.date) -> Q:
    return Q(state=GrantState.ACTIVE, start_on__lte=today) & (Q(end_on__isnull=True) | Q(end_on__gte=today))


def receiving_q(*, today: dt.date, person: str = "person_id", item: str = "item") -> Q:
    """For a queryset with ``person`` and ``item`` columns: the rows whose person receives the item on ``today``."""
    from fuwu.eligibility.models import Receipt

    grants = Grant.objects.filter(person_id=OuterRef(person), item_key=OuterRef(item))
    receipts = Receipt.objects.filter(person_id=OuterRef(person), item=OuterRef(item))
    return Q(Exists(grants.filter(_current(today)))) | (Q(Exists(receipts)) & ~Q(Exists(grants)))


def receiving_sql(person: str, item: str, *, today: dt.date) -> tuple[str, list[Any]]:
    """The same as SQL over two column references, and its parameters (positional ``%s``)."""
    from fuwu.eligibility.models import Receipt

    g = connection.ops.quote_name(Grant._meta.db_table)
    r = connection.ops.quote_name(Receipt._meta.db_table)
    # Our table names and the caller's column references; today is a parameter.
    sql = (
        f"(EXISTS (SELECT 1 FROM {g} g WHERE g.person_id = {person} AND g.item_key = {item} AND g.state = 'active' "  # noqa: S608
        f"AND g.start_on <= %s AND (g.end_on IS NULL OR g.end_on >= %s)) "
        f"OR (EXISTS (SELECT 1 FROM {r} r WHERE r.person_id = {person} AND r.item = {item}) "
        f"AND NOT EXISTS (SELECT 1 FROM {g} g WHERE g.person_id = {person} AND g.item_key = {item})))"
    )
    return sql, [today, today]


def receiving_pairs(*, today: dt.date) -> Iterator[tuple[int, str]]:
    """Every (person id, item) receiving on ``today``: current grants, then receipts not overruled by a grant."""
    from fuwu.eligibility.models import Receipt

    yield from Grant.objects.filter(_current(today)).values_list("person_id", "item_key").iterator(chunk_size=50_000)
    granted = Grant.objects.filter(person_id=OuterRef("person_id"), item_key=OuterRef("item"))
    yield from (Receipt.objects.exclude(Exists(granted)).values_list("person_id", "item").iterator(chunk_size=50_000))


def grant_for_user(*, user: Any, application: Application) -> Grant | None:
    """The grant of an application the user may already see (the detail page's line)."""
    if not permissions.may_view(user, application):
        return None
    return Grant.objects.filter(application=application).first()
