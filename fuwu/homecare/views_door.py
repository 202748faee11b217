"""Pages at the door: families following their elders' accounts and visits, caregivers making the visits.

Thin: each view finds its row through a selector (a row outside the user's scope is a 404, the same as a
row that does not exist), parses one form, calls one service, and redirects; a refusal goes back onto
the form with the service's message.

The family's order page shows the confirmation code the caregiver must be told at the door, so only
the elder's family sees it; the caregiver has the visit page instead, and never sees the code.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.homecare import complaints, door, permissions, selectors, services, standard, visits
from fuwu.homecare.forms_door import (
    BookForm,
    CancelForm,
    CheckInForm,
    CheckOutForm,
    CodeForm,
    ComplainForm,
    ConfirmForm,
    DayForm,
    DoorForm,
    NoShowForm,
    PhotoForm,
    RateForm,
    refuse,
)
from fuwu.homecare.models import (
    AccountStatus,
    Caregiver,
    EntitlementAccount,
    Order,
    OrderKind,
    OrderStatus,
    ReviewStatus,
    VisitPartner,
)
from fuwu.homecare.services import CANCELLABLE, HomeCareError
from fuwu.residents.models import Person
from fuwu.residents.selectors import Contact
from fuwu.residents.services import person_contact_reveal
from fuwu.standards import clause_choice
from fuwu.standards.models import ServiceItem
from fuwu.standards.selectors import item_in_force, item_names

F = TypeVar("F", bound=DoorForm)

# Orders still on their way, and completed visits waiting for the family's confirmation.
UNDER_WAY = (OrderStatus.REQUESTED, OrderStatus.ACCEPTED, OrderStatus.SCHEDULED, OrderStatus.IN_SERVICE)
PAST_SHOWN = 20
# While these hold, the elder or family may have to read the code to the caregiver at the door.
CODE_SHOWN = (OrderStatus.SCHEDULED, OrderStatus.IN_SERVICE)


def _today() -> dt.date:
    # The services' clock, so that a test (or a replay) that sets it sets the pages' "today" too.
    return services.local_now().date()


def _names(keys: Iterable[str]) -> dict[str, str]:
    english = (translation.get_language() or "").startswith("en")
    found = item_names(keys=sorted(set(keys)))
    return {key: (name["en"] if english and name["en"] else name["zh"]) for key, name in found.items()}


@dataclass(frozen=True)
class OrderRow:
    order: Order
    project: str


def _rows(orders: Iterable[Order], names: dict[str, str]) -> list[OrderRow]:
    return [OrderRow(o, names.get(o.item, o.item)) for o in orders]


def _awaiting_confirmation(order: Order) -> bool:
    return order.status == OrderStatus.COMPLETED and order.confirmed_at is None


@dataclass(frozen=True)
class VisitRecord:
    """What happened at the door, in plain words, for the family before they confirm and for the caregivers."""

    partners: list[VisitPartner]
    flags: list[str]  # each irregularity in the page's language
    held: bool  # waiting for the officer's review: nothing is paid until then
    payable: Decimal | None  # what the visit is worth under the standard's rules, once known
    reduced: bool  # worth less than its price

    @classmethod
    def of(cls, order: Order) -> VisitRecord:
        payable = order.payable
        return cls(
            partners=list(order.partners.select_related("caregiver").order_by("pk")),
            flags=visits.flags_text(order),
            held=order.review == ReviewStatus.PENDING,
            payable=payable,
            reduced=payable is not None and payable < order.price,
        )


# --- the family ----------------------------------------------------------------------------------


def _elder_or_404(request: HttpRequest, person_id: int) -> Person:
    try:
        return selectors.elders_for_booking(user=request.user).get(pk=person_id)
    except Person.DoesNotExist as exc:
        raise Http404("no such elder") from exc


def _family_order_or_404(request: HttpRequest, pk: int) -> Order:
    # Only the family: the page shows the confirmation code, which the caregiver must be told, not shown.
    if not has_role(request.user, {Role.RESIDENT}):
        raise Http404("no such order")
    try:
        return selectors.order_for_user(user=request.user, pk=pk)
    except Order.DoesNotExist as exc:
        raise Http404("no such order") from exc


def _account(person: Person) -> EntitlementAccount | None:
    account: EntitlementAccount | None = getattr(person, "homecare_account", None)
    return account


@dataclass(frozen=True)
class ElderCard:
    person: Person
    account: EntitlementAccount | None
    statement: selectors.Statement | None
    current: list[OrderRow]
    past: list[OrderRow]

    @property
    def bookable(self) -> bool:
        return self.account is not None and self.account.status == AccountStatus.ACTIVE


@never_cache
@login_required
@require_GET
def family_home(request: HttpRequest) -> HttpResponse:
    """My elders: each one's account, this month's allowance, and their orders."""
    if selectors.caregiver_for_user(user=request.user) is not None:
        return redirect("homecare:route")
    if not has_role(request.user, {Role.RESIDENT}):
        raise Http404("the home-care family pages are for residents")
    today = _today()
    elders = list(selectors.elders_for_family(user=request.user))
    found: list[tuple[Person, EntitlementAccount | None, list[Order], list[Order]]] = []
    for person in elders:
        orders = selectors.orders_for_user(user=request.user).filter(account__person=person)
        current = list(
            orders.filter(
                Q(status__in=UNDER_WAY) | Q(status=OrderStatus.COMPLETED, confirmed_at__isnull=True)
            ).order_by("window_start", "pk")
        )
        past = list(orders.exclude(pk__in=[o.pk for o in current]).order_by("-window_start", "-pk")[:PAST_SHOWN])
        found.append((person, _account(person), current, past))
    names = _names(o.item for _p, _a, current, past in found for o in [*current, *past])
    cards = [
        ElderCard(
            person=person,
            account=account,
            statement=selectors.statement(account=account, month=today) if account is not None else None,
            current=_rows(current, names),
            past=_rows(past, names),
        )
        for person, account, current, past in found
    ]
    return render(request, "homecare/door/family_home.html", {"cards": cards, "today": today})


def _bookable(account: EntitlementAccount, on: dt.date) -> list[standard.Project]:
    """The subsidised projects the elder's screening entitles them to, and every package."""
    return [
        p for p in standard.projects(on=on).values() if p.kind == OrderKind.PACKAGE or p.key in (account.items or [])
    ]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _elder_or_404(request, person_id)
    account = _account(person)
    context: dict[str, Any] = {"person": person, "account": account, "form": None}
    if account is None or account.status != AccountStatus.ACTIVE:
        return render(request, "homecare/door/book.html", context)
    today = _today()
    context["statement"] = selectors.statement(account=account, month=today)
    try:
        projects = _bookable(account, today)
    except standard.StandardNotLoaded:
        return render(request, "homecare/door/book.html", {**context, "no_standard": True}, status=503)
    if request.method == "POST":
        form = BookForm(request.POST, projects=projects)
        if form.is_valid():
            start, end = form.window()
            try:
                order, created = services.order_book(
                    actor=request.user,
                    person=person,
                    item=form.cleaned_data["project"],
                    window_start=start,
                    window_end=end,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except HomeCareError as exc:
                form = _refused_booking(request, form, projects, exc)
            else:
                if created:
                    messages.success(request, _("预约已提交。服务机构受理后会安排护理员上门，请留意本页的状态。"))
                else:
                    messages.info(request, _("这张预约单已经提交过，没有重复预约。"))
                if not has_role(request.user, {Role.RESIDENT}):
                    # Village and community staff follow the order from the elder's account in the office pages.
                    return redirect("homecare:account", pk=account.pk)
                return redirect("homecare:order", pk=order.pk)
        return render(request, "homecare/door/book.html", {**context, "form": form}, status=400)
    form = BookForm(
        projects=projects,
        initial={
            "idempotency_key": uuid.uuid4().hex,
            "day": today + dt.timedelta(days=1),
            "start": dt.time(9),
            "end": dt.time(12),
        },
    )
    return render(request, "homecare/door/book.html", {**context, "form": form})


def _refused_booking(
    request: HttpRequest, form: BookForm, projects: list[standard.Project], exc: HomeCareError
) -> BookForm:
    if exc.code != "idempotency_key_reused":
        refuse(form, exc)
        return form
    # This form's key already made a different booking (e.g. sent again after going back and changing
    # it): a new key lets the person book this one as a new order, once they have checked it.
    data = request.POST.copy()
    data["idempotency_key"] = uuid.uuid4().hex
    fresh = BookForm(data, projects=projects)
    fresh.is_valid()
    fresh.add_error(None, _("这张预约单已经提交过一次。如果还要另外预约，请核对下面的内容后再提交。"))
    return fresh


def _order_page(
    request: HttpRequest, order: Order, *, failed: tuple[str, DoorForm] | None = None, status: int = 200
) -> HttpResponse:
    rating = getattr(order, "rating", None)
    forms: dict[str, DoorForm] = {
        "cancel_form": CancelForm(),
        "confirm_form": ConfirmForm(),
        "rate_form": RateForm(),
        "complain_form": ComplainForm(),
    }
    if failed is not None:
        forms[failed[0]] = failed[1]
    offered = clause_choice.choices(clause_choice.governing_version(order.item))
    for name in ("rate_form", "complain_form"):
        forms[name].fields["clause"].widget.choices = offered
    confirmed = order.confirmed_at is not None
    context = {
        **forms,
        "failed": failed[1] if failed else None,
        "order": order,
        "visit": VisitRecord.of(order),
        "project": _names([order.item]).get(order.item, order.item),
        "photos": list(order.photos.order_by("uploaded_at", "pk")),
        "rating": rating,
        "complaints": list(selectors.complaints_for_user(user=request.user).filter(order=order)),
        "show_code": order.status in CODE_SHOWN or _awaiting_confirmation(order),
        "show_caregiver": order.caregiver is not None and order.status not in (OrderStatus.REQUESTED,),
        "can_cancel": order.status in CANCELLABLE,
        "can_confirm": _awaiting_confirmation(order),
        "can_rate": order.status == OrderStatus.COMPLETED and confirmed and rating is None,
        "can_complain": order.status not in (OrderStatus.REQUESTED, OrderStatus.CANCELLED),
    }
    return render(request, "homecare/door/order.html", context, status=status)


@never_cache
@login_required
@require_GET
def order(request: HttpRequest, pk: int) -> HttpResponse:
    return _order_page(request, _family_order_or_404(request, pk))


def _family_action(
    request: HttpRequest, pk: int, form_class: type[F], name: str, act: Callable[[Order, F], str]
) -> HttpResponse:
    """Parse ``form_class``, call the one service ``act`` calls, and go back to the order page."""
    found = _family_order_or_404(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            done = act(found, form)
        except HomeCareError as exc:
            refuse(form, exc)
        else:
            messages.success(request, done)
            return redirect("homecare:order", pk=found.pk)
    return _order_page(request, found, failed=(name, form), status=400)


@login_required
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    def act(order: Order, form: CancelForm) -> str:
        services.order_cancel(actor=request.user, order=order, reason=form.cleaned_data["reason"])
        if order.subsidy:
            return _("预约已取消，预留的补贴额度已退回本月余额。")
        return _("预约已取消。")

    return _family_action(request, pk, CancelForm, "cancel_form", act)


@login_required
@require_POST
def order_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    def act(order: Order, form: ConfirmForm) -> str:
        services.order_confirm(actor=request.user, order=order)
        return _("已确认服务完成。欢迎为这次服务评分。")

    return _family_action(request, pk, ConfirmForm, "confirm_form", act)


@login_required
@require_POST
def order_rate(request: HttpRequest, pk: int) -> HttpResponse:
    def act(order: Order, form: RateForm) -> str:
        services.order_rate(
            actor=request.user,
            order=order,
            stars=form.cleaned_data["stars"],
            comment=form.cleaned_data["comment"],
            clause=form.cleaned_data["clause"],
        )
        return _("谢谢您的评价。")

    return _family_action(request, pk, RateForm, "rate_form", act)


@login_required
@require_POST
def order_complain(request: HttpRequest, pk: int) -> HttpResponse:
    def act(order: Order, form: ComplainForm) -> str:
        complaint = complaints.complaint_lodge(
            actor=request.user, order=order, text=form.cleaned_data["text"], clause=form.cleaned_data["clause"]
        )
        return _("投诉已受理，将在 %(due)s 前答复。") % {"due": f"{complaint.due_on:%Y-%m-%d}"}

    return _family_action(request, pk, ComplainForm, "complain_form", act)


@login_required
@require_GET
def photo(request: HttpRequest, pk: int, photo_id: int) -> FileResponse:
    """A service photo, to whoever may see its order (the family, the caregiver, the provider, officers)."""
    try:
        found = selectors.order_for_user(user=request.user, pk=pk)
    except Order.DoesNotExist as exc:
        raise Http404("no such photo") from exc
    picture = found.photos.filter(pk=photo_id).first()
    if picture is None:
        raise Http404("no such photo")
    try:
        handle = picture.image.open("rb")
    except FileNotFoundError as exc:
        raise Http404("photo file missing") from exc
    # The type was sniffed from the content on upload, never taken from the name or the browser.
    response = FileResponse(handle, content_type=picture.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- the caregiver -------------------------------------------------------------------------------


def _caregiver_or_404(request: HttpRequest) -> Caregiver:
    caregiver = selectors.caregiver_for_user(user=request.user)
    if caregiver is None:
        raise Http404("the visit pages are for caregivers")
    return caregiver


def _visit_or_404(request: HttpRequest, pk: int) -> Order:
    _caregiver_or_404(request)
    try:
        # A caregiver's scope is the visits assigned to them.
        return selectors.order_for_user(user=request.user, pk=pk)
    except Order.DoesNotExist as exc:
        raise Http404("no such visit") from exc


@never_cache
@login_required
@require_GET
def route(request: HttpRequest) -> HttpResponse:
    """The caregiver's visits of one day (``?day=YYYY-MM-DD``; without it the day with work), in planned order."""
    caregiver = _caregiver_or_404(request)
    today = _today()
    day, status, moved = today, 200, False
    if "day" in request.GET:
        form = DayForm(request.GET)
        if form.is_valid():
            day = form.cleaned_data["day"]
        else:
            status = 400
    else:
        # Nothing today: open on the next day with visits to make, rather than an empty page.
        day = selectors.caregiver_work_day(user=request.user, today=today)
        moved = day != today
        form = DayForm(initial={"day": day})
    found = selectors.caregiver_route(user=request.user, day=day)
    names = _names(v.item for v in found)
    rows = [
        RouteRow(
            order=v,
            project=names.get(v.item, v.item),
            partner=v.caregiver_id != caregiver.pk,
            crew=[v.caregiver.name if v.caregiver else "", *(p.caregiver.name for p in v.partners.all())],
        )
        for v in found
    ]
    context = {
        "caregiver": caregiver,
        "day": day,
        "today": today,
        "moved": moved,
        "day_form": form,
        "visits": rows,
        "previous": day - dt.timedelta(days=1),
        "next": day + dt.timedelta(days=1),
    }
    return render(request, "homecare/door/route.html", context, status=status)


@dataclass(frozen=True)
class RouteRow:
    order: Order
    project: str
    partner: bool  # the caregiver joins this visit as the second caregiver
    crew: list[str]  # everyone planned on the visit, the lead first


def _item(key: str) -> ServiceItem | None:
    try:
        return item_in_force(key=key)
    except (ServiceItem.DoesNotExist, ServiceItem.MultipleObjectsReturned):
        return None


def _radius(on: dt.date) -> int | None:
    try:
        return int(standard.number("checkin_radius_m", on=on))
    except standard.StandardNotLoaded:
        return None


def _contact_on_the_day(request: HttpRequest, visit: Order) -> Contact | None:
    """The elder's phone and emergency contact in full, for a caregiver of the visit on its day; audited."""
    person = visit.account.person
    if not permissions.caregiver_on_visit_day(request.user, person):
        return None
    return person_contact_reveal(person=person, actor=request.user, grant=permissions.VISIT_DAY_GRANT)


def _visit_page(
    request: HttpRequest, visit: Order, *, failed: tuple[str, DoorForm] | None = None, status: int = 200
) -> HttpResponse:
    forms: dict[str, DoorForm] = {
        "checkin_form": CheckInForm(),
        "checkout_form": CheckOutForm(),
        "photo_form": PhotoForm(),
        "code_form": CodeForm(),
        "noshow_form": NoShowForm(),
    }
    if failed is not None:
        forms[failed[0]] = failed[1]
    photos = list(visit.photos.order_by("uploaded_at", "pk"))
    photo_limit: int = settings.FUWU_PHOTO_MAX_COUNT
    lead = permissions.is_assigned_caregiver(request.user, visit)
    record = VisitRecord.of(visit)
    mine = next((p for p in record.partners if p.caregiver.user_id == request.user.pk), None)
    awaiting = lead and _awaiting_confirmation(visit)
    in_service = lead and visit.status == OrderStatus.IN_SERVICE
    now = services.local_now()
    started = visit.started_at or visit.checkin_at
    context = {
        **forms,
        "failed": failed[1] if failed else None,
        "order": visit,
        "visit": record,
        "lead": lead,
        "me_partner": mine,
        "person": visit.account.person,
        "contact": _contact_on_the_day(request, visit),
        "project": _names([visit.item]).get(visit.item, visit.item),
        "item": _item(visit.item),
        "radius": _radius(_today()),
        "window": _checkin_window(visit),
        "photos": photos,
        "photo_limit": photo_limit,
        "can_check_in": (lead and visit.status == OrderStatus.SCHEDULED)
        or (
            mine is not None
            and mine.checkin_at is None
            and visit.status in (OrderStatus.SCHEDULED, OrderStatus.IN_SERVICE)
        ),
        "in_service": in_service,
        "served": visits.minutes_between(started, now) if in_service and started else None,
        "waiting_for": [p.caregiver.name for p in record.partners if p.checkin_at is None],
        "can_add_photo": lead and (visit.status == OrderStatus.IN_SERVICE or awaiting) and len(photos) < photo_limit,
        "awaiting_code": awaiting,
        "can_no_show": lead and visit.status == OrderStatus.SCHEDULED,
    }
    return render(request, "homecare/door/visit.html", context, status=status)


@dataclass(frozen=True)
class CheckinWindow:
    opens: dt.datetime
    closes: dt.datetime
    tolerance: int


def _checkin_window(visit: Order) -> CheckinWindow | None:
    """When the standard accepts a check-in for ``visit``, for the caregiver to see before trying."""
    if visit.planned_start is None:
        return None
    agreed = timezone.localtime(visit.planned_start)
    try:
        rules = visits.rules_on(agreed.date())
    except visits.NoVisitRules:
        return None
    return CheckinWindow(
        agreed - dt.timedelta(minutes=rules.open_before),
        agreed + dt.timedelta(minutes=rules.close_after),
        rules.tolerance,
    )


@never_cache
@login_required
@require_GET
def visit(request: HttpRequest, pk: int) -> HttpResponse:
    return _visit_page(request, _visit_or_404(request, pk))


def _caregiver_action(
    request: HttpRequest,
    pk: int,
    form_class: type[F],
    name: str,
    act: Callable[[Order, F], str],
    *,
    lead_only: bool = True,
) -> HttpResponse:
    """Parse ``form_class``, call the one service ``act`` calls, and go back to the visit page.

    Who may act is asked first, before the form (an upload included) is read: everything but the check-in is
    for the caregiver leading the visit; a second caregiver only checks in.
    """
    found = _visit_or_404(request, pk)
    if lead_only and not permissions.is_assigned_caregiver(request.user, found):
        raise PermissionDenied
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            done = act(found, form)
        except HomeCareError as exc:
            refuse(form, exc)
        else:
            messages.success(request, done)
            return redirect("homecare:visit", pk=found.pk)
    return _visit_page(request, found, failed=(name, form), status=400)


def _where(distance: int | None, flagged: bool) -> str:
    if distance is None:
        return ""
    text = _("定位距老人住址约 %(m)s 米。") % {"m": distance}
    if flagged:
        text += _("已按您填写的原因标记，供核查。")
    return text


@login_required
@require_POST
def visit_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    def act(order: Order, form: CheckInForm) -> str:
        if not permissions.is_assigned_caregiver(request.user, order) and permissions.is_partner(request.user, order):
            mine = door.order_partner_check_in(
                actor=request.user, order=order, at=form.position(), reason=form.cleaned_data["reason"]
            )
            return _("已签到。") + _where(mine.checkin_distance_m, mine.checkin_flagged or mine.checkin_typed)
        done = door.order_check_in(
            actor=request.user, order=order, at=form.position(), reason=form.cleaned_data["reason"]
        )
        started = _("已签到，开始服务。") if done.started_at else _("已签到。两人服务从搭档也签到时开始计时。")
        return started + _where(done.checkin_distance_m, done.checkin_flagged or done.checkin_typed)

    return _caregiver_action(request, pk, CheckInForm, "checkin_form", act, lead_only=False)


@login_required
@require_POST
def visit_check_out(request: HttpRequest, pk: int) -> HttpResponse:
    def act(order: Order, form: CheckOutForm) -> str:
        done = door.order_check_out(
            actor=request.user,
            order=order,
            at=form.position(),
            tasks_done=form.task_lines(),
            notes=form.cleaned_data["notes"],
            reason=form.cleaned_data["reason"],
            short_reason=form.cleaned_data["short_reason"],
        )
        flagged = _("这次服务有异常情况，已记录，老人和家属确认前会看到。") if done.flags else ""
        return (
            _("已签退，实际服务 %(minutes)s 分钟。") % {"minutes": done.visit_minutes}
            + _where(done.checkout_distance_m, done.checkout_flagged or done.checkout_typed)
            + flagged
            + _("请老人或家属读出确认码，填写在下面。")
        )

    return _caregiver_action(request, pk, CheckOutForm, "checkout_form", act)


@login_required
@require_POST
def visit_photo(request: HttpRequest, pk: int) -> HttpResponse:
    def act(order: Order, form: PhotoForm) -> str:
        door.photo_add(actor=request.user, order=order, upload=form.cleaned_data["photo"])
        return _("照片已上传。")

    return _caregiver_action(request, pk, PhotoForm, "photo_form", act)


@login_required
@require_POST
def visit_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    def act(order: Order, form: CodeForm) -> str:
        services.order_confirm(actor=request.user, order=order, code=form.cleaned_data["code"])
        return _("确认码正确，这次服务已确认完成。")

    return _caregiver_action(request, pk, CodeForm, "code_form", act)


@login_required
@require_POST
def visit_no_show(request: HttpRequest, pk: int) -> HttpResponse:
    def act(order: Order, form: NoShowForm) -> str:
        door.order_no_show(actor=request.user, order=order, reason=form.cleaned_data["reason"], at=form.position())
        return _("已登记这次未能上门服务，服务机构会联系老人或家属另行安排。")

    return _caregiver_action(request, pk, NoShowForm, "noshow_form", act)
