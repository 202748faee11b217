"""Visit rules: when staff may check in, what makes a visit irregular, and what an irregular visit is worth.

The rules are the home-care standard's (``visit_rules`` in its YAML, read through ``standard.visit_rules``):

* check-in is accepted only within a window around the agreed time (the start the provider's plan gave
  the elder), otherwise refused: a caregiver who cannot come then agrees a new time and is re-planned;
* arriving more than the punctuality tolerance before or after the agreed time flags the visit
  ``early`` or ``late``;
* a check-in or check-out further from the home than the check-in radius flags it ``out_of_range``, and
  coordinates typed by hand rather than taken from the phone flag it ``typed_location`` (both need the
  caregiver's reason);
* a visit whose item needs two staff starts when both have checked in; checking out with fewer flags it
  ``staff_missing`` (its time then counts from the lead's arrival);
* checking out before the item's minimum duration needs a reason and flags it ``short``.

Each flag is settled as the standard says: in ``full`` (only noted), ``pro_rata`` (a short visit is
worth the share of the minimum duration it lasted) or ``hold`` (held for the officer's review, see
``fuwu.homecare.reviews``); a hold wins over pro rata, which wins over full. ``Order.payable`` keeps the
outcome, and the elder's confirmation spends that, never more than the booked price (``spend``).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fuwu.homecare import standard
from fuwu.homecare.models import (
    AccountMonth,
    Caregiver,
    LocationProposal,
    LocationSource,
    Order,
    ProposalStatus,
    ReviewStatus,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Settlement outcomes, strongest first: one flag that holds the visit holds it whatever the others say.
STRENGTH = {"hold": 2, "pro_rata": 1, "full": 0}
REASON_LENGTH = 300


class NoVisitRules(Exception):
    """The home-care standard in force declares no visit rules."""


def rules_on(day: dt.date) -> standard.VisitRules:
    try:
        return standard.visit_rules(on=day)
    except standard.StandardNotLoaded as exc:
        raise NoVisitRules(str(exc)) from exc


def _clock(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    """Whole minutes from ``start`` to ``end`` (a part-minute does not count), never below 0."""
    return max(0, int((end - start).total_seconds() // 60))


# --- at the door ------------------------------------------------------------------------------------


def checkin_refusal(order: Order, now: dt.datetime, rules: standard.VisitRules) -> str | None:
    """Why ``now`` is outside the window in which the standard accepts a check-in for ``order`` (None if inside)."""
    assert order.planned_start is not None  # noqa: S101 - a scheduled order has its agreed time (a constraint)
    agreed = timezone.localtime(order.planned_start)
    opens = agreed - dt.timedelta(minutes=rules.open_before)
    closes = agreed + dt.timedelta(minutes=rules.close_after)
    if opens <= now <= closes:
        return None
    window = {"agreed": _clock(agreed), "opens": f"{opens:%H:%M}", "closes": f"{closes:%H:%M}"}
    if now < opens:
        return (
            _("现在还不能签到：这次服务约定 %(agreed)s 上门，签到时间为 %(opens)s 至 %(closes)s。请到时再签到。")
            % window
        )
    return (
        _(
            "已超过签到时间：这次服务约定 %(agreed)s 上门，签到时间为 %(opens)s 至 %(closes)s。"
            "请联系服务机构，与老人重新约定上门时间并重新派单。"
        )
        % window
    )


def punctuality_flag(order: Order, now: dt.datetime, rules: standard.VisitRules, *, who: str) -> dict[str, Any] | None:
    """Early or late by more than the standard's tolerance, with by how much."""
    assert order.planned_start is not None  # noqa: S101 - see checkin_refusal
    offset = (now - order.planned_start).total_seconds() / 60
    if offset < -rules.tolerance:
        return {"flag": "early", "minutes": int(-offset), "who": who}
    if offset > rules.tolerance:
        return {"flag": "late", "minutes": int(offset), "who": who}
    return None


def location_flags(*, step: str, who: str, metres: int, radius: int, far: bool, typed: bool) -> list[dict[str, Any]]:
    flags: list[dict[str, Any]] = []
    if far:
        flags.append({"flag": "out_of_range", "step": step, "metres": metres, "radius": radius, "who": who})
    if typed:
        flags.append({"flag": "typed_location", "step": step, "who": who})
    return flags


def pro_rata(price: Decimal, served: int, minimum: int) -> Decimal:
    """The share of ``price`` that ``served`` minutes of a ``minimum``-minute visit are worth, to the fen."""
    if minimum <= 0 or served >= minimum:
        return Decimal(price).quantize(CENT)
    return (Decimal(price) * served / minimum).quantize(CENT, rounding=ROUND_HALF_UP)


def settlement_of(flags: list[dict[str, Any]], rules: standard.VisitRules) -> str:
    """How a visit with ``flags`` is settled: "full", "pro_rata" or "hold"."""
    found = [rules.settle.get(f["flag"], "hold") for f in flags]
    return max(found, key=STRENGTH.__getitem__, default="full")


def outcome(order: Order, rules: standard.VisitRules) -> tuple[str, Decimal | None]:
    """(review status, payable) of a visit just checked out."""
    how = settlement_of(order.flags, rules)
    if how == "hold":
        return ReviewStatus.PENDING, None
    if how == "pro_rata":
        return ReviewStatus.NONE, pro_rata(order.price, order.visit_minutes or 0, order.minutes)
    return ReviewStatus.NONE, Decimal(order.price).quantize(CENT)


def consequence(how: str) -> str:
    """What the standard does with such a visit, in plain words."""
    if how == "hold":
        return _("这次服务将暂缓结算，由村（社区）或民政部门核查后确定是否支付、支付多少。")
    if how == "pro_rata":
        return _("这次服务将按实际服务时长占约定时长的比例结算。")
    return _("这次服务仍按全额结算，异常情况会记录在案。")


# --- in words ----------------------------------------------------------------------------------------


def flag_text(flag: dict[str, Any]) -> str:
    """One flag in plain words, in the active language."""
    kind = flag.get("flag")
    who = flag.get("who") or ""
    if kind == "short":
        return _("实际服务 %(served)s 分钟，少于约定的至少 %(minutes)s 分钟") % {
            "served": flag.get("minutes", 0),
            "minutes": flag.get("needed", 0),
        }
    if kind == "early":
        return _("%(who)s签到比约定时间早 %(minutes)s 分钟") % {"who": who, "minutes": flag.get("minutes", 0)}
    if kind == "late":
        return _("%(who)s签到比约定时间晚 %(minutes)s 分钟") % {"who": who, "minutes": flag.get("minutes", 0)}
    if kind == "out_of_range":
        place = {"who": who, "metres": flag.get("metres", 0), "radius": flag.get("radius", 0)}
        if flag.get("step") == "checkout":
            return _("%(who)s签退时离老人住址约 %(metres)s 米，超出 %(radius)s 米的范围") % place
        return _("%(who)s签到时离老人住址约 %(metres)s 米，超出 %(radius)s 米的范围") % place
    if kind == "typed_location":
        if flag.get("step") == "checkout":
            return _("%(who)s签退的位置是手动填写的，不是手机定位") % {"who": who}
        return _("%(who)s签到的位置是手动填写的，不是手机定位") % {"who": who}
    if kind == "staff_missing":
        return _("这项服务需要 %(needed)s 名护理员，只有 %(present)s 名签到") % {
            "needed": flag.get("needed", 0),
            "present": flag.get("present", 0),
        }
    return str(kind)


def flags_text(order: Order) -> list[str]:
    return [flag_text(f) for f in order.flags]


def settlement_reason(order: Order) -> str:
    """The reason on the order's settlement and statement line, in the site's language (stored as written)."""
    if not order.flags and order.review == ReviewStatus.NONE:
        return ""
    with translation.override(settings.LANGUAGE_CODE):
        what = _("；").join(flags_text(order))
        if order.review == ReviewStatus.PENDING:
            reason = _("待核查，暂不结算：%(what)s") % {"what": what}
        elif order.review != ReviewStatus.NONE:
            decided = ReviewStatus(order.review).label
            reason = _("%(decision)s（%(note)s）：%(what)s") % {
                "decision": decided,
                "note": order.review_note,
                "what": what,
            }
        elif order.payable is not None and order.payable < order.price:
            reason = _("%(what)s，按实际服务时长比例结算") % {"what": what}
        else:
            reason = what
    return reason[:REASON_LENGTH]


# --- money -------------------------------------------------------------------------------------------


def spent_parts(order: Order) -> tuple[Decimal, Decimal]:
    """What the elder's month counts as spent on ``order``: (from the allowance, paid by the elder).

    Nothing until the visit is both confirmed and decided (``payable`` known), and nothing after an upheld
    complaint gave it back; then the payable amount, from the allowance first, never more than was booked.
    """
    if order.confirmed_at is None or order.subsidy_refunded or order.payable is None:
        return ZERO, ZERO
    subsidy = min(Decimal(order.subsidy), Decimal(order.payable))
    own = min(Decimal(order.self_pay), Decimal(order.payable) - subsidy)
    return subsidy.quantize(CENT), own.quantize(CENT)


def spend(order: Order) -> tuple[Decimal, Decimal]:
    """Move a confirmed, decided visit's hold into the month's spending; the rest of the hold goes back.

    Called once: by the confirmation when the visit's worth is known, or by the officer's review of a
    visit confirmed while it was held.
    """
    subsidy, own = spent_parts(order)
    if order.confirmed_at is None or order.subsidy_refunded or order.payable is None:
        return subsidy, own
    AccountMonth.objects.filter(pk=order.account_month_id).update(
        held=F("held") - order.subsidy, spent=F("spent") + subsidy, self_paid=F("self_paid") + own
    )
    return subsidy, own


# --- the home's position -----------------------------------------------------------------------------


def location_propose(
    *,
    order: Order,
    caregiver: Caregiver,
    latitude: Decimal,
    longitude: Decimal,
    accuracy_m: int | None,
    metres: int,
    reason: str,
    now: dt.datetime,
) -> LocationProposal | None:
    """Offer a located check-in to the officer as the home's position, unless one was taken from a check-in already.

    One proposal waits per account: a newer check-in replaces the waiting one. Typed coordinates never propose.
    """
    account = order.account
    if account.location_source == LocationSource.CHECKIN:
        return None
    values = {
        "order": order,
        "caregiver": caregiver,
        "latitude": latitude,
        "longitude": longitude,
        "accuracy_m": accuracy_m,
        "distance_m": metres,
        "reason": reason,
        "proposed_at": now,
    }
    proposal, _created = LocationProposal.objects.update_or_create(
        account=account, status=ProposalStatus.PENDING, defaults=values
    )
    return proposal
