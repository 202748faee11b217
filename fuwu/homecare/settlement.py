"""Each provider's monthly settlement, and the city-wide check that the money adds up to the fen.

A settlement (one per provider and month)::

    (none) ─generate─▶ draft ─confirm─▶ confirmed
                        │  ▲
                        └──┘ generate again: the lines are replaced

Its lines are the provider's *subsidised* orders of the month (the month of the elder's allowance the
order drew on, ``order.account_month.month``):

* a completed or rated visit that the elder or family confirmed, at its price (the gross), less what the
  standard's visit rules take off (``fuwu.homecare.visits``): a short visit pays the share of its minimum
  duration it lasted; a visit held for the officer's review is deducted in full while it waits, and then
  pays what the officer decided; the reason is on the line;
* the same with an upheld complaint (``order.subsidy_refunded``): the price is deducted, reason 投诉成立;
* a no-show, at price 0 with reason 未上门服务: nothing is paid, but the line shows the visit was booked;
* a completed visit nobody confirmed yet is left out: it is paid in the settlement generated after it is
  confirmed (while the month's settlement is still a draft).

A settlement cannot be confirmed while a visit of its lines still waits for the officer's review.

Packages are paid by the elder, not from the subsidy: they are not lines, but the statement lists their
total (the provider's self-paid revenue). ``net = gross - deductions`` is a database constraint.

:func:`reconcile` checks a month three ways, to the fen: each elder's ledger (``AccountMonth.spent``)
against the subsidy of that elder's confirmed, unrefunded orders; each provider's settlement net
against the same orders of that provider; and the city's ledger total against the settlements' total.
Every difference comes with the orders that cause it.

``Settlement.elders_spent`` is the elders' side as the ledger alone can say it: the spent amount of
every elder's month whose orders were all with this provider. An elder who used two providers in one
month cannot be split by the ledger (it keeps one amount per elder and month), so such months are left
out of it (and counted in ``mixed``); the reconciliation, which works order by order, covers them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.areas.selectors import descendant_codes_prefix
from fuwu.common.audit import audit
from fuwu.homecare import permissions, standard, visits
from fuwu.homecare.models import (
    AccountMonth,
    Order,
    OrderKind,
    OrderStatus,
    Provider,
    ReviewStatus,
    Settlement,
    SettlementLine,
    SettlementStatus,
)
from fuwu.homecare.services import HomeCareError, local_now, month_start
from fuwu.residents.masking import mask_name
from fuwu.residents.permissions import officer_prefix
from fuwu.standards.selectors import item_names

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The visit took place and was confirmed (rating comes after confirmation).
DONE = (OrderStatus.COMPLETED, OrderStatus.RATED)
# Stored in the lines as written on the paper statement, whatever the reader's language.
UPHELD_REASON = "投诉成立"
NO_SHOW_REASON = "未上门服务"
# Read every settlement, change none.
SETTLEMENT_READERS = {Role.AUDITOR, Role.STANDARDS_OFFICE}


def fen(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def next_month(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1)


# --- who may --------------------------------------------------------------------------------------


def _area_prefixes(provider: Provider) -> list[str]:
    return [descendant_codes_prefix(area) for area in provider.areas.all()]


def serves(provider: Provider, prefix: str) -> bool:
    """Whether the provider's served areas and the area of ``prefix`` overlap (either contains the other)."""
    return any(prefix.startswith(p) or p.startswith(prefix) for p in _area_prefixes(provider))


def may_settle(user: Any, provider: Provider) -> bool:
    """An officer of an area the provider serves (or of a wider area that contains one)."""
    prefix = officer_prefix(user)
    return prefix is not None and serves(provider, prefix)


def may_read_settlement(user: Any, provider: Provider) -> bool:
    return has_role(user, SETTLEMENT_READERS) or may_settle(user, provider) or permissions.manages(user, provider)


def line_prefix(user: Any, provider: Provider) -> str | None:
    """The area a user's view of the provider's settlement is cut to; ``None`` for all of it.

    A settlement spans every area the provider serves. Supervisors (auditors, the standards office) and the
    provider's own administrators see all of it; an officer sees the lines of elders whose hukou is in their
    own area, and the totals of those lines, never another county's elders.
    """
    if user is None or has_role(user, SETTLEMENT_READERS) or permissions.manages(user, provider):
        return None
    return officer_prefix(user) or "-"  # "-" matches no area code: nothing to see


def _outside(prefix: str | None, areas: list[str]) -> int:
    return 0 if prefix is None else sum(1 for area in areas if not area.startswith(prefix))


def _require_every_line(actor: Any, provider: Provider, areas: list[str]) -> None:
    """Generating or confirming a settlement needs authority over the area of every one of its lines."""
    outside = _outside(officer_prefix(actor) or "-", areas)
    if outside:
        raise HomeCareError(
            _(
                "%(provider)s 的结算单中有 %(n)s 次服务的老人户籍不在您的辖区，您只能查看本辖区的部分；"
                "生成和确认结算单须由辖区覆盖全部服务对象的经办人员（如市级民政部门）办理。"
            )
            % {"provider": provider.name, "n": outside},
            code="outside_area",
        )


def sees_reconciliation(user: Any) -> bool:
    """The city-wide check is for supervisors, not for providers."""
    return has_role(user, SETTLEMENT_READERS) or officer_prefix(user) is not None


def providers_for_settlement(*, user: Any) -> list[Provider]:
    """The providers whose settlements ``user`` may read."""
    if has_role(user, SETTLEMENT_READERS):
        return list(Provider.objects.all())
    if has_role(user, {Role.PROVIDER_ADMIN}):
        return list(Provider.objects.filter(admins=user))
    return [p for p in Provider.objects.prefetch_related("areas") if may_settle(user, p)]


def settlements_for_user(*, user: Any) -> QuerySet[Settlement]:
    pks = [p.pk for p in providers_for_settlement(user=user)]
    return Settlement.objects.filter(provider_id__in=pks).select_related("provider", "created_by")


def settlement_for_user(*, user: Any, pk: int) -> Settlement:
    return settlements_for_user(user=user).get(pk=pk)


# --- lines ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedLine:
    order: Order
    price: Decimal
    deduction: Decimal
    reason: str

    def key(self) -> tuple[int, Decimal, Decimal, str]:
        return (self.order.pk, fen(self.price), fen(self.deduction), self.reason)


def _planned_lines(provider: Provider, first: dt.date) -> list[PlannedLine]:
    orders = (
        Order.objects.filter(provider=provider, account_month__month=first, kind=OrderKind.SUBSIDISED)
        .filter(Q(status__in=DONE, confirmed_at__isnull=False) | Q(status=OrderStatus.NO_SHOW))
        .select_related("account__person")
        .order_by("window_start", "pk")
    )
    lines = []
    for order in orders:
        if order.status == OrderStatus.NO_SHOW:
            lines.append(PlannedLine(order, ZERO, ZERO, NO_SHOW_REASON))
        elif order.subsidy_refunded:
            lines.append(PlannedLine(order, fen(order.price), fen(order.price), UPHELD_REASON))
        else:
            # Held for review: nothing is paid until the officer decides (payable is empty until then).
            paid = ZERO if order.payable is None else fen(order.payable)
            lines.append(PlannedLine(order, fen(order.price), fen(order.price) - paid, visits.settlement_reason(order)))
    return lines


@dataclass(frozen=True)
class LedgerShare:
    spent: Decimal
    mixed: int  # elders' months with orders of more than one provider, left out of ``spent``


def elders_spent(provider: Provider, month: dt.date) -> LedgerShare:
    """What the elders' ledger says was spent with ``provider`` (see the module docstring's limitation)."""
    first = month_start(month)
    ours = Order.objects.filter(provider=provider, account_month__month=first).values("account_month")
    others = Order.objects.filter(account_month__month=first).exclude(provider=provider).values("account_month")
    months = AccountMonth.objects.filter(pk__in=ours)
    spent = months.exclude(pk__in=others).aggregate(total=Sum("spent"))["total"]
    return LedgerShare(fen(spent), months.filter(pk__in=others).count())


def _state(settlement: Settlement) -> dict[str, Any]:
    return {
        "status": settlement.status,
        "visits": settlement.visits,
        "gross": str(settlement.gross),
        "deductions": str(settlement.deductions),
        "net": str(settlement.net),
        "elders_spent": str(settlement.elders_spent),
    }


@transaction.atomic
def settlement_generate(
    *, actor: Any, provider: Provider, month: dt.date, now: dt.datetime | None = None
) -> Settlement:
    """Make (or re-make, while a draft) the provider's settlement of ``month`` from its orders."""
    if not may_settle(actor, provider):
        raise PermissionDenied("only an officer of an area the provider serves may settle its month")
    now = now or local_now()
    first = month_start(month)
    if first > month_start(now.date()):
        raise HomeCareError(_("这个月还没有开始，不能生成结算单；请选择本月或以前的月份。"), code="future_month")
    settlement, created = Settlement.objects.select_for_update().get_or_create(
        provider=provider, month=first, defaults={"created_by": actor}
    )
    if settlement.status == SettlementStatus.CONFIRMED:
        raise HomeCareError(
            _("%(provider)s %(year)s年%(month)s月的结算单已经确认，不能重新生成；如有差错，请在下月结算中调整。")
            % {"provider": provider.name, "year": f"{first:%Y}", "month": f"{first:%m}"},
            code="settlement_confirmed",
        )
    before = None if created else _state(settlement)
    planned = _planned_lines(provider, first)
    stored = list(settlement.lines.values_list("order__account__person__hukou_area", flat=True))
    _require_every_line(actor, provider, [line.order.account.person.hukou_area for line in planned] + stored)
    settlement.lines.all().delete()
    SettlementLine.objects.bulk_create(
        SettlementLine(
            settlement=settlement,
            order=line.order,
            item=line.order.item,
            price=line.price,
            deduction=line.deduction,
            reason=line.reason,
        )
        for line in planned
    )
    settlement.visits = sum(1 for line in planned if line.order.status in DONE)
    settlement.gross = fen(sum((line.price for line in planned), ZERO))
    settlement.deductions = fen(sum((line.deduction for line in planned), ZERO))
    settlement.net = settlement.gross - settlement.deductions
    settlement.elders_spent = elders_spent(provider, first).spent
    settlement.created_by = actor
    settlement.save()
    audit(
        actor=actor,
        event="homecare.settlement_generated",
        obj=settlement,
        before=before,
        after={**_state(settlement), "lines": len(planned)},
    )
    return settlement


@transaction.atomic
def settlement_confirm(*, actor: Any, settlement: Settlement, now: dt.datetime | None = None) -> Settlement:
    """Confirm a draft once its month is over and nothing changed since it was generated; it is final."""
    settlement = Settlement.objects.select_for_update().select_related("provider").get(pk=settlement.pk)
    if not may_settle(actor, settlement.provider):
        raise PermissionDenied("only an officer of an area the provider serves may confirm its settlement")
    if settlement.status != SettlementStatus.DRAFT:
        raise HomeCareError(_("这份结算单已经确认过了。"), code="settlement_confirmed")
    _require_every_line(
        actor,
        settlement.provider,
        list(settlement.lines.values_list("order__account__person__hukou_area", flat=True)),
    )
    now = now or local_now()
    if now.date() < next_month(settlement.month):
        raise HomeCareError(
            _("%(year)s年%(month)s月还没有结束，月内的服务可能还会变动；请在下月初重新生成结算单后再确认。")
            % {"year": f"{settlement.month:%Y}", "month": f"{settlement.month:%m}"},
            code="month_not_over",
        )
    held = settlement.lines.filter(order__review=ReviewStatus.PENDING, order__subsidy_refunded=False).count()
    if held:
        raise HomeCareError(
            _(
                "本月还有 %(n)s 次服务因签到异常、时长或人数不足等待核查，核查前不能确认结算单；"
                "请在“异常服务核查”中作出结论后，重新生成结算单再确认。"
            )
            % {"n": held},
            code="reviews_pending",
        )
    stored = {(line.order_id, fen(line.price), fen(line.deduction), line.reason) for line in settlement.lines.all()}
    if stored != {line.key() for line in _planned_lines(settlement.provider, settlement.month)}:
        raise HomeCareError(
            _("结算单生成后又有工单确认、投诉处理或未上门登记，内容已过时；请先点击“重新生成”，核对后再确认。"),
            code="settlement_stale",
        )
    before = _state(settlement)
    settlement.status = SettlementStatus.CONFIRMED
    settlement.save(update_fields=["status"])
    audit(actor=actor, event="homecare.settlement_confirmed", obj=settlement, before=before, after=_state(settlement))
    return settlement


# --- the statement --------------------------------------------------------------------------------


def project_names(*, on: dt.date, keys: list[str] | None = None) -> dict[str, str]:
    """Chinese project names for the statement; an item no longer bookable keeps its registry name."""
    names = {key: p.name_zh for key, p in standard.projects(on=on).items()}
    missing = [k for k in keys or [] if k not in names]
    if missing:
        names.update({k: n["zh"] for k, n in item_names(keys=missing).items()})
    return names


@dataclass(frozen=True)
class StatementRow:
    day: dt.date
    elder: str  # masked: the surname and *
    project: str
    price: Decimal
    deduction: Decimal
    reason: str
    order_id: int

    @property
    def paid(self) -> Decimal:
        return self.price - self.deduction


@dataclass(frozen=True)
class SettlementReport:
    """One settlement as one reader may see it: the lines (names masked) and their totals, the self-paid packages.

    For an officer whose area covers only some of the provider's elders, the lines, totals and packages are
    those of the officer's area, and ``hidden`` counts the lines left out (``line_prefix``).
    """

    settlement: Settlement
    rows: list[StatementRow]
    self_paid: Decimal  # packages the elders paid the provider for, outside the subsidy
    self_paid_orders: int
    held: int = 0  # lines whose visit waits for the officer's review (the settlement cannot be confirmed)
    visits: int = 0
    gross: Decimal = ZERO
    deductions: Decimal = ZERO
    hidden: int = 0  # lines of elders outside the reader's area, not shown and not in the totals

    @property
    def net(self) -> Decimal:
        return self.gross - self.deductions

    @property
    def partial(self) -> bool:
        return self.hidden > 0


def settlement_report(settlement: Settlement, *, user: Any = None) -> SettlementReport:
    """The settlement as ``user`` may see it (``line_prefix``); without a user, all of it (commands, tests)."""
    prefix = line_prefix(user, settlement.provider)
    every = settlement.lines.select_related("order__account__person").order_by("order__window_start", "order")
    lines = [line for line in every if prefix is None or line.order.account.person.hukou_area.startswith(prefix)]
    hidden = settlement.lines.count() - len(lines)
    names = project_names(on=settlement.month, keys=[line.item for line in lines])
    rows = [
        StatementRow(
            day=timezone.localtime(line.order.window_start).date(),
            elder=mask_name(line.order.account.person.name),
            project=names.get(line.item, line.item),
            price=fen(line.price),
            deduction=fen(line.deduction),
            reason=line.reason,
            order_id=line.order_id,
        )
        for line in lines
    ]
    packages = Order.objects.filter(
        provider_id=settlement.provider_id,
        account_month__month=settlement.month,
        kind=OrderKind.PACKAGE,
        status__in=DONE,
        confirmed_at__isnull=False,
    )
    if prefix is not None:
        packages = packages.filter(account__person__hukou_area__startswith=prefix)
    # What the elders paid for them: the price, less what the visit rules took off (visits.spent_parts).
    total = sum((visits.spent_parts(o)[1] for o in packages), ZERO)
    held = sum(1 for line in lines if line.order.review == ReviewStatus.PENDING and not line.order.subsidy_refunded)
    return SettlementReport(
        settlement,
        rows,
        fen(total),
        packages.count(),
        held,
        # The whole settlement's totals are its own (as generated); a part's are its lines'.
        visits=settlement.visits if prefix is None else sum(1 for line in lines if line.order.status in DONE),
        gross=fen(settlement.gross if prefix is None else sum((line.price for line in lines), ZERO)),
        deductions=fen(settlement.deductions if prefix is None else sum((line.deduction for line in lines), ZERO)),
        hidden=hidden,
    )


# --- reconciliation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderAmount:
    """One order behind a difference: what the elders' side and the settlement each count for it."""

    order_id: int
    account_id: int
    provider_id: int
    item: str
    spent: Decimal  # the subsidy the elder's side counts as spent on it
    settled: Decimal  # what the settlement pays for it (price less deduction)
    note: str


@dataclass(frozen=True)
class LedgerDifference:
    """One elder's month whose ledger differs from the subsidy of its confirmed, unrefunded orders."""

    account_id: int
    ledger_spent: Decimal
    orders_spent: Decimal
    orders: list[OrderAmount]

    @property
    def difference(self) -> Decimal:
        return self.ledger_spent - self.orders_spent


@dataclass(frozen=True)
class ProviderReconciliation:
    provider: Provider
    settlement: Settlement | None
    orders_spent: Decimal  # subsidy of the provider's confirmed, unrefunded orders of the month
    settled_net: Decimal
    ledger: LedgerShare
    orders: list[OrderAmount] = field(default_factory=list)
    hidden_orders: int = 0  # orders behind a difference that the reader may not see (another area's elders)

    @property
    def difference(self) -> Decimal:
        return self.orders_spent - self.settled_net

    @property
    def ledger_difference(self) -> Decimal | None:
        """The elders' ledger less the net; ``None`` when an elder's month is shared with another provider."""
        return None if self.ledger.mixed else self.ledger.spent - self.settled_net

    @property
    def ok(self) -> bool:
        return self.difference == 0 and not self.orders and not self.hidden_orders and not self.ledger_difference


@dataclass(frozen=True)
class Reconciliation:
    month: dt.date
    ledger_spent: Decimal  # every elder's AccountMonth.spent for the month
    orders_spent: Decimal
    settled_net: Decimal  # every provider's settlement net for the month
    providers: list[ProviderReconciliation]
    ledger_differences: list[LedgerDifference]

    @property
    def difference(self) -> Decimal:
        return self.ledger_spent - self.settled_net

    @property
    def ok(self) -> bool:
        return self.difference == 0 and not self.ledger_differences and all(p.ok for p in self.providers)


def _spending_orders(first: dt.date) -> dict[Order, Decimal]:
    """The orders whose subsidy the elders' ledger holds as spent, and how much: confirmed, decided, not given
    back (``visits.spent_parts``)."""
    orders = Order.objects.filter(
        account_month__month=first,
        confirmed_at__isnull=False,
        subsidy_refunded=False,
        subsidy__gt=0,
        payable__isnull=False,
    ).order_by("pk")
    spent = {o: visits.spent_parts(o)[0] for o in orders}
    return {o: amount for o, amount in spent.items() if amount > 0}


def reconcile(*, month: dt.date) -> Reconciliation:
    """Compare the elders' ledger, the orders and the settlements of ``month``, to the fen."""
    first = month_start(month)
    spending = _spending_orders(first)
    by_month: dict[int, list[Order]] = defaultdict(list)
    by_provider: dict[int, dict[int, Order]] = defaultdict(dict)
    for order in spending:
        by_month[order.account_month_id].append(order)
        by_provider[order.provider_id][order.pk] = order

    ledger_differences = []
    ledger_total = ZERO
    for row in AccountMonth.objects.filter(month=first).order_by("account_id"):
        ledger_total += fen(row.spent)
        orders = by_month.get(row.pk, [])
        counted = fen(sum((spending[o] for o in orders), ZERO))
        if fen(row.spent) != counted:
            amounts = [
                OrderAmount(
                    o.pk, o.account_id, o.provider_id, o.item, fen(spending[o]), ZERO, _("已确认，计入本月已用")
                )
                for o in orders
            ]
            ledger_differences.append(LedgerDifference(row.account_id, fen(row.spent), counted, amounts))

    settlements = {s.provider_id: s for s in Settlement.objects.filter(month=first).select_related("provider")}
    provider_ids = set(settlements) | set(by_provider)
    providers = Provider.objects.in_bulk(list(provider_ids))
    paid_lines: dict[int, dict[int, SettlementLine]] = defaultdict(dict)
    for line in SettlementLine.objects.filter(settlement__month=first).select_related("order"):
        paid_lines[line.order.provider_id][line.order_id] = line

    results = []
    for pk in sorted(provider_ids, key=lambda p: providers[p].name):
        settlement = settlements.get(pk)
        ours = by_provider.get(pk, {})
        lines = paid_lines.get(pk, {})
        causes = []
        for order_id in sorted(set(ours) | {k for k, v in lines.items() if v.price - v.deduction}):
            spender = ours.get(order_id)
            paid = lines.get(order_id)
            spent = fen(spending[spender]) if spender else ZERO
            settled = fen(paid.price - paid.deduction) if paid else ZERO
            if spent == settled:
                continue
            source = spender or (paid.order if paid else None)
            assert source is not None  # noqa: S101 - the id came from one of the two
            if paid is None:
                note = _("已确认，但不在结算单中（结算单生成后才确认，或尚未生成结算单）")
            elif spender is None:
                note = _("结算单付款，但老人账户未计为已用（已退回补贴或未确认）")
            else:
                note = _("结算金额与补贴金额不一致")
            causes.append(
                OrderAmount(source.pk, source.account_id, source.provider_id, source.item, spent, settled, note)
            )
        results.append(
            ProviderReconciliation(
                provider=providers[pk],
                settlement=settlement,
                orders_spent=fen(sum((spending[o] for o in ours.values()), ZERO)),
                settled_net=fen(settlement.net) if settlement else ZERO,
                ledger=elders_spent(providers[pk], first),
                orders=causes,
            )
        )
    return Reconciliation(
        month=first,
        ledger_spent=ledger_total,
        orders_spent=fen(sum(spending.values(), ZERO)),
        settled_net=fen(sum((s.net for s in settlements.values()), ZERO)),
        providers=results,
        ledger_differences=ledger_differences,
    )
