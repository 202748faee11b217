"""Office pages of home care: the provider's inbox, day plan and caregivers; the officer's accounts,
complaints and overdue orders. Thin: parse, read through the selectors or call one service, render.

Who may open which page is the role (403 for the wrong role, like the rest of the project); which rows
they see is the selectors' scope, and a row outside it is a 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.areas import outlines
from fuwu.common.audit import audit_persons_read
from fuwu.eligibility.models import RunStatus, ScreeningRun
from fuwu.eligibility.registry import REGISTRY
from fuwu.homecare import accounts as homecare_accounts
from fuwu.homecare import complaints as homecare_complaints
from fuwu.homecare import family, permissions, planning, reviews, selectors, services, standard
from fuwu.homecare.forms_office import (
    AbsenceForm,
    DayForm,
    DeclineForm,
    FamilyLinkForm,
    HomeForm,
    OpenAccountsForm,
    ResolveForm,
    errors_text,
)
from fuwu.homecare.models import (
    Caregiver,
    CaregiverAbsence,
    Complaint,
    ComplaintStatus,
    DispatchRun,
    EntitlementAccount,
    LocationSource,
    Order,
    OrderStatus,
    ProposalStatus,
    Provider,
    TrainingKind,
)
from fuwu.homecare.services import HomeCareError
from fuwu.homecare.views_reports import parse_month
from fuwu.residents.masking import mask_name
from fuwu.residents.models import Person
from fuwu.residents.permissions import sees_identity
from fuwu.standards import clause_choice

PROVIDERS = {Role.PROVIDER_ADMIN}
SUPERVISORS = {Role.DEPARTMENT_OFFICER, Role.AUDITOR}
OFFICE = PROVIDERS | SUPERVISORS
PAGE_SIZE = 50
RECENT_RUNS = 10
SHOWN = 50

View = Callable[..., HttpResponse]


def _for(roles: set[Role]) -> Callable[[View], View]:
    """Sign in first; then only these roles (403 for the others, whose role alone rules the page out)."""

    def wrap(view: View) -> View:
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return inner

    return wrap


def _today() -> dt.date:
    return services.local_now().date()


def _project_names(on: dt.date) -> dict[str, str]:
    try:
        return {key: project.name for key, project in standard.projects(on=on).items()}
    except standard.StandardNotLoaded:
        return {}


def _elder_name(user: Any, person: Person) -> str:
    # Officers of the elder's area see the name; everyone else the surname only, as on the registry pages.
    return person.name if sees_identity(user, person.hukou_area) else mask_name(person.name)


@dataclass(frozen=True)
class OrderRow:
    order: Order
    elder: str
    project: str
    overdue: bool

    @property
    def planned_end(self) -> dt.datetime | None:
        start = self.order.planned_start
        return start + dt.timedelta(minutes=self.order.minutes) if start else None

    @property
    def crew_ids(self) -> list[int]:
        """The lead and the partners planned on the visit."""
        return [self.order.caregiver_id or 0, *(p.caregiver_id for p in self.order.partners.all())]

    @property
    def partners(self) -> list[str]:
        return [p.caregiver.name for p in self.order.partners.all()]

    @property
    def overdue_why(self) -> str:
        if not self.overdue:
            return ""
        if self.order.status == OrderStatus.REQUESTED:
            return _("超过受理时限")
        return _("服务时段已过，仍未上门")


def _rows(request: HttpRequest, orders: Iterable[Order], *, now: dt.datetime) -> list[OrderRow]:
    orders = list(orders)
    late = set(
        selectors.overdue_orders(user=request.user, now=now)
        .filter(pk__in=[o.pk for o in orders])
        .values_list("pk", flat=True)
    )
    names = _project_names(now.date())
    return [
        OrderRow(o, _elder_name(request.user, o.account.person), names.get(o.item, o.item), o.pk in late)
        for o in orders
    ]


def _order_or_404(request: HttpRequest, pk: int) -> Order:
    try:
        return selectors.order_for_user(user=request.user, pk=pk)
    except Order.DoesNotExist as exc:
        raise Http404("no such order") from exc


def _provider(request: HttpRequest) -> Provider | None:
    """The provider asked for (``provider=``), or the only one the user manages; ``None`` to ask which."""
    providers = selectors.providers_for_user(user=request.user)
    raw = request.POST.get("provider") or request.GET.get("provider")
    if raw:
        try:
            return providers.get(pk=int(raw))
        except (ValueError, Provider.DoesNotExist) as exc:
            raise Http404("no such provider") from exc
    only = list(providers[:2])
    return only[0] if len(only) == 1 else None


def _pick_provider(request: HttpRequest, url_name: str) -> HttpResponse:
    providers = list(selectors.providers_for_user(user=request.user))
    return render(request, "homecare/office/pick_provider.html", {"providers": providers, "url_name": url_name})


def _to(url_name: str, **query: object) -> HttpResponseRedirect:
    shown = {k: v for k, v in query.items() if v not in (None, "")}
    return HttpResponseRedirect(reverse(url_name) + (f"?{urlencode(shown)}" if shown else ""))


# --- the office's front page -----------------------------------------------------------------------


@never_cache
@require_GET
@_for(OFFICE)
def office_home(request: HttpRequest) -> HttpResponse:
    """A provider's inbox; for officers and auditors, the way to their pages."""
    user = request.user
    now = services.local_now()
    if not has_role(user, PROVIDERS):
        return render(
            request,
            "homecare/office/officer_home.html",
            {
                "can_open": permissions.can_open_accounts(user),
                "open_complaints": selectors.complaints_for_user(user=user).filter(status=ComplaintStatus.OPEN).count(),
                "overdue": selectors.overdue_orders(user=user, now=now).count(),
                "held": reviews.reviews_for_user(user=user).count(),
            },
        )
    provider = _provider(request)
    if provider is None:
        return _pick_provider(request, "homecare:office_home")
    orders = selectors.orders_for_user(user=user).filter(provider=provider)
    return render(
        request,
        "homecare/office/inbox.html",
        {
            "provider": provider,
            "now": now,
            "requested": _rows(
                request, orders.filter(status=OrderStatus.REQUESTED).order_by("respond_by", "pk"), now=now
            ),
            "accepted": _rows(
                request, orders.filter(status=OrderStatus.ACCEPTED).order_by("window_start", "pk"), now=now
            ),
            "overdue": _rows(request, selectors.overdue_orders(user=user, now=now).filter(provider=provider), now=now),
            "decline_form": DeclineForm(),
        },
    )


@require_POST
@_for(PROVIDERS)
def order_accept(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_or_404(request, pk)
    try:
        services.order_accept(actor=request.user, order=order, now=services.local_now())
    except HomeCareError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已受理工单 {pk}，请在派单计划中安排护理员。").format(pk=order.pk))
    return _to("homecare:office_home", provider=order.provider_id)


@require_POST
@_for(PROVIDERS)
def order_decline(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order_or_404(request, pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("工单 {pk} 未处理：").format(pk=order.pk) + errors_text(form))
        return _to("homecare:office_home", provider=order.provider_id)
    try:
        services.order_decline(
            actor=request.user, order=order, reason=form.cleaned_data["reason"], now=services.local_now()
        )
    except HomeCareError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已拒绝受理工单 {pk}，补贴已退回老人账户。").format(pk=order.pk))
    return _to("homecare:office_home", provider=order.provider_id)


# --- the day's plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    caregiver: Caregiver
    stops: list[OrderRow]
    absence: CaregiverAbsence | None


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())
    return start, start + dt.timedelta(days=1)


def _excluded(run: DispatchRun | None, names: dict[int, str]) -> list[tuple[str, str]]:
    if run is None:
        return []
    return [(names.get(int(e["caregiver"]), str(e["caregiver"])), str(e["reason"])) for e in run.excluded_caregivers]


@never_cache
@require_http_methods(["GET", "POST"])
@_for(PROVIDERS)
def plan_day(request: HttpRequest) -> HttpResponse:
    """The day's routes, what is left unassigned and why (the first day with work unless ``?day=``); POST plans."""
    provider = _provider(request)
    if provider is None:
        if request.method == "POST":
            raise Http404("which provider?")
        return _pick_provider(request, "homecare:plan_day")
    today = _today()
    if request.method == "POST":
        form = DayForm(request.POST)
        if not form.is_valid():
            messages.error(request, errors_text(form))
            return _to("homecare:plan_day", provider=provider.pk)
        day = form.cleaned_data["day"]
        try:
            run = planning.dispatch_day(actor=request.user, provider=provider, day=day, now=services.local_now())
        except HomeCareError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("派单计划已生成：{visits} 单中安排了 {assigned} 单。").format(
                    visits=run.visits, assigned=run.assigned
                ),
            )
        return _to("homecare:plan_day", provider=provider.pk, day=day.isoformat())

    status = 200
    if "day" in request.GET:
        form = DayForm(request.GET, initial={"day": today})
        valid = form.is_valid()
        day = form.cleaned_data["day"] if valid else today
        status = 200 if valid else 400
    else:
        # Open on the first day from today with orders to plan or visits planned, not on an empty today.
        day = selectors.plan_work_day(user=request.user, provider=provider, today=today)
        form = DayForm(initial={"day": day})
    now = services.local_now()
    start, end = _day_bounds(day)
    orders = list(
        selectors.orders_for_user(user=request.user)
        .filter(provider=provider, window_start__gte=start, window_start__lt=end)
        .prefetch_related("partners__caregiver")
        .order_by("planned_start", "window_start", "pk")
    )
    rows = _rows(request, orders, now=now)
    caregivers = list(provider.caregivers.filter(active=True).order_by("name"))
    absences = {a.caregiver_id: a for a in CaregiverAbsence.objects.filter(caregiver__provider=provider, day=day)}
    placed = (OrderStatus.SCHEDULED, OrderStatus.IN_SERVICE, OrderStatus.COMPLETED, OrderStatus.RATED)
    routes = [
        Route(
            caregiver=c,
            stops=[r for r in rows if c.pk in r.crew_ids and r.order.status in placed],
            absence=absences.get(c.pk),
        )
        for c in caregivers
    ]
    latest = provider.dispatch_runs.filter(day=day).first()
    names = {c.pk: c.name for c in provider.caregivers.all()}
    return render(
        request,
        "homecare/office/plan.html",
        {
            "provider": provider,
            "day": day,
            "moved": day != today and "day" not in request.GET,
            "form": form,
            "past": day < today,
            "routes": routes,
            "unassigned": [r for r in rows if r.order.status == OrderStatus.ACCEPTED],
            "requested": [r for r in rows if r.order.status == OrderStatus.REQUESTED],
            "run": latest,
            "excluded": _excluded(latest, names),
        },
        status=status,
    )


@require_POST
@_for(PROVIDERS)
def plan_absent(request: HttpRequest) -> HttpResponse:
    """A caregiver called in sick: record it and re-plan their day without them."""
    form = AbsenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, errors_text(form))
        return _to("homecare:plan_day", provider=request.POST.get("provider", ""), day=request.POST.get("day", ""))
    managed = selectors.providers_for_user(user=request.user)
    caregiver = (
        Caregiver.objects.filter(provider__in=managed, pk=form.cleaned_data["caregiver"])
        .select_related("provider")
        .first()
    )
    if caregiver is None:
        raise Http404("no such caregiver")
    day = form.cleaned_data["day"]
    try:
        run = planning.caregiver_absent(
            actor=request.user,
            caregiver=caregiver,
            day=day,
            reason=form.cleaned_data["reason"],
            now=services.local_now(),
        )
    except HomeCareError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("已记录{name}请假，并重新派单：{visits} 单中安排了 {assigned} 单。").format(
                name=caregiver.name, visits=run.visits, assigned=run.assigned
            ),
        )
    return _to("homecare:plan_day", provider=caregiver.provider_id, day=day.isoformat())


# --- caregivers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaregiverRow:
    caregiver: Caregiver
    qualifications: list[str]
    pre_job_hours: Decimal
    year_hours: Decimal
    blockers: list[str]
    certificate_expired: bool


def _hours(caregiver: Caregiver, kind: str, since: dt.date | None, until: dt.date) -> Decimal:
    return sum(
        (
            t.hours
            for t in caregiver.training.all()
            if t.kind == kind and t.completed_on <= until and (since is None or t.completed_on >= since)
        ),
        Decimal(0),
    )


@never_cache
@require_GET
@_for(PROVIDERS)
def caregivers(request: HttpRequest) -> HttpResponse:
    """Who may be sent, and who may not and why: qualifications, training hours, health certificate."""
    provider = _provider(request)
    if provider is None:
        return _pick_provider(request, "homecare:caregivers")
    today = _today()
    names = standard.qualification_names()
    rows = [
        CaregiverRow(
            caregiver=c,
            qualifications=[names.get(q, q) for q in c.qualifications],
            pre_job_hours=_hours(c, TrainingKind.PRE_JOB, None, today),
            year_hours=_hours(c, TrainingKind.IN_SERVICE, today.replace(month=1, day=1), today),
            blockers=services.caregiver_blockers(c, on=today),
            certificate_expired=c.health_certificate_expires < today,
        )
        for c in provider.caregivers.prefetch_related("training").order_by("-active", "name")
    ]
    return render(
        request,
        "homecare/office/caregivers.html",
        {
            "provider": provider,
            "today": today,
            "rows": rows,
            "pre_job_needed": standard.number("pre_job_training_hours", on=today),
            "annual_needed": standard.number("annual_training_hours", on=today),
        },
    )


# --- accounts ------------------------------------------------------------------------------------


def _registry_runs() -> QuerySet[ScreeningRun]:
    recent = ScreeningRun.objects.filter(population=REGISTRY, status=RunStatus.COMPLETED, draft=False).order_by(
        "-finished_at", "-pk"
    )
    return ScreeningRun.objects.filter(pk__in=list(recent.values_list("pk", flat=True)[:RECENT_RUNS])).order_by(
        "-finished_at", "-pk"
    )


def _report_text(report: homecare_accounts.OpeningReport) -> str:
    text = _("开通 {opened} 户，更新 {updated} 户，无变化 {unchanged} 户。").format(
        opened=report.opened, updated=report.updated, unchanged=report.unchanged
    )
    if report.skipped:
        reasons = "；".join(_("{reason} {n} 人").format(reason=r, n=n) for r, n in report.skipped.items())
        text += _("未开通：{reasons}。").format(reasons=reasons)
    return text


@dataclass(frozen=True)
class AccountRow:
    account: EntitlementAccount
    elder: str
    items: list[str]


@never_cache
@require_http_methods(["GET", "POST"])
@_for(OFFICE)
def accounts(request: HttpRequest) -> HttpResponse:
    """The accounts in the user's scope; officers open accounts from a registry screening here."""
    user = request.user
    can_open = permissions.can_open_accounts(user)
    if request.method == "POST":
        if not can_open:
            raise PermissionDenied
        form = OpenAccountsForm(request.POST, runs=_registry_runs())
        if form.is_valid():
            try:
                report = homecare_accounts.accounts_open_from_run(
                    actor=user, run=form.cleaned_data["run"], today=_today()
                )
            except HomeCareError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _report_text(report))
        else:
            messages.error(request, errors_text(form))
        return _to("homecare:accounts")
    page = Paginator(selectors.accounts_for_user(user=user).order_by("first_visit_due", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    names = _project_names(_today())
    rows = [AccountRow(a, _elder_name(user, a.person), [names.get(i, i) for i in a.items]) for a in page.object_list]
    audit_persons_read(actor=user, purpose="home-care accounts", persons=[a.person_id for a in page.object_list])
    return render(
        request,
        "homecare/office/accounts.html",
        {
            "page": page,
            "rows": rows,
            "form": OpenAccountsForm(runs=_registry_runs()) if can_open else None,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@_for(OFFICE)
def account(request: HttpRequest, pk: int) -> HttpResponse:
    """One elder's account: the month's statement, orders, and where the visits happen."""
    user = request.user
    try:
        found = selectors.account_for_user(user=user, pk=pk)
    except EntitlementAccount.DoesNotExist as exc:
        raise Http404("no such account") from exc
    person = found.person
    audit_persons_read(actor=user, purpose="home-care account", persons=[person.pk], obj=found)
    can_set_home = permissions.is_officer_for(user, person) or permissions.manages(user, found.provider)
    can_link = permissions.is_officer_for(user, person)
    family_form = FamilyLinkForm()
    status = 200
    if request.method == "POST":
        if not can_set_home:
            raise PermissionDenied
        form = HomeForm(request.POST)
        if form.is_valid():
            try:
                homecare_accounts.account_set_home(actor=user, account=found, **form.cleaned_data)
            except HomeCareError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("住址和定位已保存。"))
                return HttpResponseRedirect(reverse("homecare:account", args=[found.pk]))
        status = 400
    else:
        form = HomeForm(
            initial={
                "address": found.address,
                "latitude": found.latitude,
                "longitude": found.longitude,
                "source": LocationSource.TYPED,
            }
        )
    today = _today()
    month = parse_month(request.GET.get("month") or "") or today.replace(day=1)
    names = _project_names(today)
    now = services.local_now()
    statement = selectors.statement(account=found, month=month)
    return render(
        request,
        "homecare/office/account.html",
        {
            "account": found,
            "elder": _elder_name(user, person),
            "items": [names.get(i, i) for i in found.items],
            "statement": statement,
            "lines": [(line, names.get(line.order.item, line.order.item)) for line in statement.lines],
            "previous_month": (month - dt.timedelta(days=1)).replace(day=1),
            "next_month": (month + dt.timedelta(days=32)).replace(day=1),
            "orders": _rows(request, selectors.orders_for_user(user=user).filter(account=found)[:SHOWN], now=now),
            "form": form if can_set_home else None,
            "outline": outlines.source() if can_set_home else None,
            "county": person.hukou_area[: outlines.COUNTY_DIGITS],
            "proposal": found.location_proposals.filter(status=ProposalStatus.PENDING)
            .select_related("caregiver")
            .first()
            if can_link
            else None,
            "can_book": permissions.can_book_for(user, person),
            "family_form": family_form if can_link else None,
            "family": list(person.family_links.select_related("user")) if can_link else [],
        },
        status=status,
    )


@never_cache
@require_POST
def account_family(request: HttpRequest, pk: int) -> HttpResponse:
    """Link a family member's account to the elder (the officer of the area, after checking who they are)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        found = selectors.account_for_user(user=request.user, pk=pk)
    except EntitlementAccount.DoesNotExist as exc:
        raise Http404("no such account") from exc
    if not permissions.is_officer_for(request.user, found.person):
        raise PermissionDenied
    form = FamilyLinkForm(request.POST)
    if form.is_valid():
        try:
            family.family_link_add(actor=request.user, person=found.person, **form.cleaned_data)
        except HomeCareError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已关联家属账号。家属登录后即可为老人预约、确认和评价服务。"))
    else:
        messages.error(request, _("请填写家属的用户名和与老人的关系。"))
    return HttpResponseRedirect(reverse("homecare:account", args=[found.pk]))


# --- complaints and overdue orders ---------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintRow:
    complaint: Complaint
    elder: str
    project: str
    overdue: bool
    form: ResolveForm | None


@never_cache
@require_GET
@_for(SUPERVISORS)
def complaints(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = _today()
    names = _project_names(today)
    scoped = selectors.complaints_for_user(user=user)

    offered: dict[str, list[tuple[str, str]]] = {}

    def row(c: Complaint, *, resolvable: bool) -> ComplaintRow:
        person = c.order.account.person
        form = None
        if resolvable and permissions.is_officer_for(user, person):
            form = ResolveForm(auto_id=f"c{c.pk}-%s", initial={"clause": str(c.clause_id or "")})
            if c.order.item not in offered:
                offered[c.order.item] = clause_choice.choices(clause_choice.governing_version(c.order.item))
            form.fields["clause"].widget.choices = offered[c.order.item]
        return ComplaintRow(
            c, _elder_name(user, person), names.get(c.order.item, c.order.item), resolvable and c.due_on < today, form
        )

    return render(
        request,
        "homecare/office/complaints.html",
        {
            "today": today,
            "open": [
                row(c, resolvable=True) for c in scoped.filter(status=ComplaintStatus.OPEN).order_by("due_on", "pk")
            ],
            "resolved": [
                row(c, resolvable=False)
                for c in scoped.exclude(status=ComplaintStatus.OPEN).order_by("-resolved_at", "-pk")[:SHOWN]
            ],
        },
    )


@require_POST
@_for(SUPERVISORS)
def complaint_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        complaint = selectors.complaints_for_user(user=request.user).get(pk=pk)
    except Complaint.DoesNotExist as exc:
        raise Http404("no such complaint") from exc
    # Who may act, before what they sent is read (an auditor sees complaints but resolves none).
    if not permissions.is_officer_for(request.user, complaint.order.account.person):
        raise PermissionDenied
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("投诉 {pk} 未办结：").format(pk=complaint.pk) + errors_text(form))
        return _to("homecare:complaints")
    try:
        homecare_complaints.complaint_resolve(
            actor=request.user,
            complaint=complaint,
            upheld=form.cleaned_data["decision"] == ComplaintStatus.UPHELD,
            outcome=form.cleaned_data["outcome"],
            # The select is on the form; a POST without it leaves the complainant's choice.
            clause=form.cleaned_data["clause"] if "clause" in request.POST else homecare_complaints.UNCHANGED,
            now=services.local_now(),
        )
    except HomeCareError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("投诉 {pk} 已办结。").format(pk=complaint.pk))
    return _to("homecare:complaints")


@never_cache
@require_GET
@_for(SUPERVISORS)
def overdue(request: HttpRequest) -> HttpResponse:
    now = services.local_now()
    return render(
        request,
        "homecare/office/overdue.html",
        {"now": now, "rows": _rows(request, selectors.overdue_orders(user=request.user, now=now), now=now)},
    )
