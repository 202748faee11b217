"""At the door: the caregivers' check-in and check-out (the lead's and a second caregiver's), photos of the
record, and visits that could not happen, under the standard's visit rules (``fuwu.homecare.visits``).

Like ``fuwu.homecare.services``: each function is keyword-only, runs in one transaction, checks who may act
and from which state, and writes its audit row; refusals are ``HomeCareError`` with a message for the
caregiver, or ``PermissionDenied``. The clock is read as ``services.local_now()``, so that whoever sets it
for a test or a replay sets it here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fuwu.common.audit import audit
from fuwu.common.uploads import UploadRefused, generated_name, reencode_image
from fuwu.homecare import permissions, services, standard, visits
from fuwu.homecare.models import Caregiver, Order, OrderStatus, ServicePhoto, VisitPartner
from fuwu.homecare.services import (
    HomeCareError,
    distance_m,
    end_with_reason,
    locked,
    order_state,
    require_state,
)


@dataclass(frozen=True)
class Position:
    """Where a caregiver stands. ``typed``: entered by hand rather than taken from the phone's location."""

    latitude: Decimal
    longitude: Decimal
    typed: bool = False
    accuracy_m: int | None = None


def _distance_from_home(order: Order, at: Position) -> int:
    account = order.account
    if account.latitude is None or account.longitude is None:
        raise HomeCareError(
            _("该老人的住址尚未定位，无法核对签到位置；请联系服务机构补录住址。"), code="no_home_location"
        )
    return round(distance_m(float(at.latitude), float(at.longitude), float(account.latitude), float(account.longitude)))


def _require_valid(at: Position) -> None:
    # Finite first: ordering a Decimal NaN raises InvalidOperation instead of answering False.
    finite = at.latitude.is_finite() and at.longitude.is_finite()
    if not (finite and -90 <= at.latitude <= 90 and -180 <= at.longitude <= 180):
        raise HomeCareError(_("定位数据无效：纬度应在 -90～90，经度应在 -180～180 之间。"), code="bad_location")


@dataclass(frozen=True)
class Located:
    """A check-in or check-out position as the rules see it."""

    metres: int
    radius: int
    far: bool
    typed: bool
    reason: str

    def audited(self, flags: list[dict[str, Any]]) -> dict[str, Any]:
        """What the audit row keeps of where the caregiver was, and of the visit's flags."""
        return {
            "distance_m": self.metres,
            "flagged": self.far,
            "typed": self.typed,
            "flags": [f["flag"] for f in flags],
        }


def _location_check(order: Order, at: Position, reason: str, *, on: dt.date) -> Located:
    _require_valid(at)
    meters = _distance_from_home(order, at)
    radius = int(standard.number("checkin_radius_m", on=on))
    far = meters > radius
    why = reason.strip()[:300]
    if far and not why:
        raise HomeCareError(
            _("当前位置距老人住址约%(meters)s米，超过%(radius)s米；请填写原因后再提交（将标记供核查）。")
            % {"meters": meters, "radius": radius},
            code="reason_required",
        )
    if at.typed and not why:
        raise HomeCareError(
            _(
                "经纬度是手动填写的，不是手机定位；请在“原因”中写明为什么没有用手机定位（例如“手机定位失败”），"
                "这次服务将标记待核查。"
            ),
            code="reason_required",
        )
    return Located(meters, radius, far, at.typed, why if (far or at.typed) else "")


def _rules(on: dt.date) -> standard.VisitRules:
    try:
        return visits.rules_on(on)
    except visits.NoVisitRules:
        raise HomeCareError(
            _("服务标准没有规定签到、签退的规则，暂时不能签到；请联系服务机构。"), code="no_visit_rules"
        ) from None


def _at_the_door(order: Order, at: Position, reason: str, now: dt.datetime, who: str) -> tuple[Located, list[Any]]:
    """A check-in by ``who``: inside the standard's window, where, and what it flags."""
    rules = _rules(now.date())
    refusal = visits.checkin_refusal(order, now, rules)
    if refusal:
        raise HomeCareError(refusal, code="outside_checkin_window")
    where = _location_check(order, at, reason, on=now.date())
    late = visits.punctuality_flag(order, now, rules, who=who)
    flags = [late] if late else []
    flags += visits.location_flags(
        step="checkin", who=who, metres=where.metres, radius=where.radius, far=where.far, typed=where.typed
    )
    return where, flags


def _propose(order: Order, caregiver: Caregiver, at: Position, where: Located, now: dt.datetime) -> None:
    visits.location_propose(
        order=order,
        caregiver=caregiver,
        latitude=at.latitude,
        longitude=at.longitude,
        accuracy_m=at.accuracy_m,
        metres=where.metres,
        reason=where.reason,
        now=now,
    )


def _caregiver_only(actor: Any, order: Order) -> None:
    if not permissions.is_assigned_caregiver(actor, order):
        raise PermissionDenied("only the caregiver assigned to this visit may do this")


def _crew_complete(order: Order) -> bool:
    """The lead and every partner the visit needs have checked in."""
    partners = list(order.partners.all())
    present = (order.checkin_at is not None) + sum(p.checkin_at is not None for p in partners)
    return order.checkin_at is not None and present >= order.staff


@transaction.atomic
def order_check_in(
    *, actor: Any, order: Order, at: Position, reason: str = "", now: dt.datetime | None = None
) -> Order:
    """The lead caregiver arrives. The visit starts now if nobody else is needed or all partners are in."""
    order = locked(order)
    _caregiver_only(actor, order)
    require_state(order, OrderStatus.SCHEDULED, action=pgettext("order action", "签到"))
    now = timezone.localtime(now or services.local_now())
    assert order.caregiver is not None  # noqa: S101 - a scheduled order has a caregiver (a constraint)
    where, flags = _at_the_door(order, at, reason, now, order.caregiver.name)
    before = order_state(order)
    order.status, order.checkin_at = OrderStatus.IN_SERVICE, now
    order.checkin_latitude, order.checkin_longitude = at.latitude, at.longitude
    order.checkin_distance_m, order.checkin_flagged, order.checkin_reason = where.metres, where.far, where.reason
    order.checkin_typed = where.typed
    order.flags = [*order.flags, *flags]
    if _crew_complete(order):
        order.started_at = now
    order.save()
    if not at.typed:
        _propose(order, order.caregiver, at, where, now)
    audit(
        actor=actor,
        event="homecare.order_checked_in",
        obj=order,
        before=before,
        after={**order_state(order), **where.audited(flags)},
        note=where.reason,
    )
    return order


@transaction.atomic
def order_partner_check_in(
    *, actor: Any, order: Order, at: Position, reason: str = "", now: dt.datetime | None = None
) -> VisitPartner:
    """A second caregiver arrives (before or after the lead); the visit starts when the last one needed is in."""
    order = locked(order)
    if not permissions.is_partner(actor, order):
        raise PermissionDenied("only a caregiver planned as this visit's partner may check in as one")
    partner = (
        VisitPartner.objects.select_for_update().select_related("caregiver").get(order=order, caregiver__user=actor)
    )
    require_state(order, OrderStatus.SCHEDULED, OrderStatus.IN_SERVICE, action=pgettext("order action", "签到"))
    if partner.checkin_at is not None:
        raise HomeCareError(_("您已经签到过了。"), code="wrong_state")
    now = timezone.localtime(now or services.local_now())
    where, flags = _at_the_door(order, at, reason, now, partner.caregiver.name)
    partner.checkin_at = now
    partner.checkin_latitude, partner.checkin_longitude = at.latitude, at.longitude
    partner.checkin_distance_m, partner.checkin_flagged, partner.checkin_reason = where.metres, where.far, where.reason
    partner.checkin_typed = where.typed
    partner.save()
    order.flags = [*order.flags, *flags]
    if order.started_at is None and _crew_complete(order):
        order.started_at = now
    order.save(update_fields=["flags", "started_at"])
    if not at.typed:
        _propose(order, partner.caregiver, at, where, now)
    audit(
        actor=actor,
        event="homecare.partner_checked_in",
        obj=order,
        after={"caregiver": partner.caregiver_id, **where.audited(flags)},
        note=where.reason,
    )
    return partner


@transaction.atomic
def order_check_out(
    *,
    actor: Any,
    order: Order,
    at: Position,
    tasks_done: Iterable[str],
    notes: str = "",
    reason: str = "",
    short_reason: str = "",
    now: dt.datetime | None = None,
) -> Order:
    """The lead caregiver leaves: the duration, the flags, and what the visit is worth under the standard's rules.

    Leaving before the item's minimum duration needs ``short_reason``; the visit is then short. A visit that
    needed more staff than checked in counts from the lead's arrival and is flagged staff_missing.
    """
    order = locked(order)
    _caregiver_only(actor, order)
    require_state(order, OrderStatus.IN_SERVICE, action=pgettext("order action", "签退"))
    tasks = [t.strip()[:200] for t in tasks_done if t.strip()]
    if not tasks:
        raise HomeCareError(_("请至少填写一项已完成的服务内容。"), code="record_required")
    now = timezone.localtime(now or services.local_now())
    assert order.checkin_at is not None  # noqa: S101 - in service: checked in
    assert order.caregiver is not None  # noqa: S101 - in service: a caregiver (a constraint)
    if now < order.checkin_at:
        raise HomeCareError(_("签退时间不能早于签到时间，请核对手机的时间。"), code="bad_time")
    rules = _rules(now.date())
    where = _location_check(order, at, reason, on=now.date())
    flags = visits.location_flags(
        step="checkout",
        who=order.caregiver.name,
        metres=where.metres,
        radius=where.radius,
        far=where.far,
        typed=where.typed,
    )
    present = 1 + order.partners.filter(checkin_at__isnull=False).count()
    if present < order.staff:
        flags.append({"flag": "staff_missing", "needed": order.staff, "present": present})
    started = order.started_at or order.checkin_at
    served = visits.minutes_between(started, now)
    why_short = short_reason.strip()[:300]
    if served < order.minutes:
        if not why_short:
            how = visits.settlement_of([{"flag": "short"}], rules)
            raise HomeCareError(
                _("服务从 %(start)s 开始，到现在 %(served)s 分钟，少于这个项目至少 %(minutes)s 分钟的要求。")
                % {"start": f"{timezone.localtime(started):%H:%M}", "served": served, "minutes": order.minutes}
                + _("如确需提前结束，请填写“提前结束的原因”；")
                + visits.consequence(how),
                code="short_reason_required",
            )
        flags.append({"flag": "short", "minutes": served, "needed": order.minutes})
    else:
        why_short = ""
    before = order_state(order)
    order.status, order.checkout_at = OrderStatus.COMPLETED, now
    order.checkout_latitude, order.checkout_longitude = at.latitude, at.longitude
    order.checkout_distance_m, order.checkout_flagged, order.checkout_reason = where.metres, where.far, where.reason
    order.checkout_typed = where.typed
    order.tasks_done, order.notes = tasks, notes.strip()
    order.started_at, order.visit_minutes, order.short_reason = started, served, why_short
    order.flags = [*order.flags, *flags]
    order.review, order.payable = visits.outcome(order, rules)
    order.save()
    audit(
        actor=actor,
        event="homecare.order_checked_out",
        obj=order,
        before=before,
        after={
            **order_state(order),
            **where.audited(order.flags),
            "minutes": served,
            "review": order.review,
            "payable": None if order.payable is None else str(order.payable),
        },
        note=" ".join(filter(None, [where.reason, why_short])),
    )
    return order


def _sniff(head: bytes) -> str | None:
    for content_type, magic in settings.FUWU_PHOTO_TYPES.items():
        if head.startswith(magic) and (content_type != "image/webp" or head[8:12] == b"WEBP"):
            return str(content_type)
    return None


@transaction.atomic
def photo_add(*, actor: Any, order: Order, upload: UploadedFile) -> ServicePhoto:
    """A photo of the service record: JPEG, PNG or WebP by content (not by name), within the size limit, decoded
    and stored re-encoded (``fuwu.common.uploads.reencode_image``)."""
    order = locked(order)
    _caregiver_only(actor, order)
    require_state(order, OrderStatus.IN_SERVICE, OrderStatus.COMPLETED, action=pgettext("order action", "上传照片"))
    if order.confirmed_at is not None:
        raise HomeCareError(_("服务已经确认，不能再添加照片。"), code="wrong_state")
    limit = settings.FUWU_PHOTO_MAX_COUNT
    if order.photos.count() >= limit:
        raise HomeCareError(_("每次服务最多上传%(limit)s张照片。") % {"limit": limit}, code="too_many_photos")
    size = upload.size or 0
    max_bytes = settings.FUWU_PHOTO_MAX_BYTES
    if size == 0:
        raise HomeCareError(_("照片文件是空的，请重新拍摄。"), code="bad_photo")
    if size > max_bytes:
        raise HomeCareError(
            _("照片 %(name)s 为%(size)s MB，超过%(limit)s MB 的上限；请压缩后再上传。")
            % {"name": upload.name, "size": f"{size / 1024 / 1024:.1f}", "limit": max_bytes // 1024 // 1024},
            code="bad_photo",
        )
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    upload.seek(0)
    content_type = _sniff(data[:16])
    if content_type is None:
        raise HomeCareError(_("%(name)s 不是 JPEG、PNG 或 WebP 图片。") % {"name": upload.name}, code="bad_photo")
    # Decoded and written again by the upload kernel: a broken picture or a pixel bomb is refused, and what is
    # kept holds the pixels only (no EXIF, nothing hidden after the image). A WebP is kept as a JPEG.
    try:
        data, _width, _height = reencode_image(data, name=upload.name or "", as_png=content_type == "image/png")
    except UploadRefused as exc:
        raise HomeCareError(str(exc), code="bad_photo") from exc
    content_type = "image/png" if content_type == "image/png" else "image/jpeg"
    # Stored under a generated name with the extension of what is kept, never the sender's name.
    stored = ContentFile(data, name=generated_name("png" if content_type == "image/png" else "jpg"))
    photo = ServicePhoto.objects.create(order=order, image=stored, content_type=content_type, size=len(data))
    audit(actor=actor, event="homecare.photo_added", obj=order, after={"photo": photo.pk, "type": content_type})
    return photo


@transaction.atomic
def order_no_show(
    *, actor: Any, order: Order, reason: str, at: Position | None = None, now: dt.datetime | None = None
) -> Order:
    """The visit did not happen (elder not at home, or the caregiver could not come); nothing is paid."""
    order = locked(order)
    if not (permissions.is_assigned_caregiver(actor, order) or permissions.manages(actor, order.provider)):
        raise PermissionDenied("only the assigned caregiver or the provider may record a no-show")
    require_state(order, OrderStatus.SCHEDULED, action=pgettext("order action", "登记未上门服务"))
    if at is not None:
        _require_valid(at)
        order.checkin_latitude, order.checkin_longitude = at.latitude, at.longitude
        order.checkin_distance_m = _distance_from_home(order, at)
        # end_with_reason saves only its own fields: keep where the caregiver stood.
        order.save(update_fields=["checkin_latitude", "checkin_longitude", "checkin_distance_m"])
    return end_with_reason(actor, order, OrderStatus.NO_SHOW, reason, "homecare.order_no_show", now)
