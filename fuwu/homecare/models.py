"""Home-based elderly care door-to-door service: providers, caregivers, elders' accounts, orders, settlement.

What a service costs, how much an elder may spend a month, how long a visit takes and who may make it all
come from the home-care standard in force (``fuwu.homecare.standard``); these tables hold only what
happened.

An order's life (one service function per arrow, in ``fuwu.homecare.services``)::

    requested ─accept─▶ accepted ─dispatch─▶ scheduled ─check in─▶ in_service ─check out─▶ completed ─rate─▶ rated
        │                  │                    │  │                                         (confirmed first)
        └─────cancel───────┴──────cancel────────┘  └─no show─▶ no_show
    (the provider may decline a requested order: cancelled, with the reason)

Money follows the order through the elder's month (``AccountMonth``): booking *holds* the price of a
subsidised project; confirmation of the completed visit *spends* what the visit is worth under the
standard's visit rules (``Order.payable``: the price, a short visit's share of it, or after the officer's
review of a held visit the amount decided; ``fuwu.homecare.visits``); cancellation and no-show release
the hold; an upheld complaint gives the spent amount back and the provider is not paid for the visit.
A database constraint keeps ``held + spent <= allowance``, so no interleaving of requests can overdraw.

A visit for two (``Order.staff``) has its lead in ``Order.caregiver`` and its second caregiver in
``VisitPartner``; it starts (``Order.started_at``) when both have checked in. What was irregular at the door
is in ``Order.flags``; a visit the rules hold waits with ``Order.review = pending``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


def money(**options: Any) -> models.DecimalField[Any, Any]:
    """Yuan to the fen."""
    return models.DecimalField(max_digits=12, decimal_places=2, **options)


def coordinate(**options: Any) -> models.DecimalField[Any, Any]:
    """Degrees (WGS-84), to about 10 cm."""
    return models.DecimalField(max_digits=9, decimal_places=6, **options)


class Provider(models.Model):
    """A licensed service organisation that the county buys home-care services from."""

    name = models.CharField(max_length=200)
    licence_number = models.CharField(max_length=64, unique=True)
    licence_valid_until = models.DateField()
    areas = models.ManyToManyField("areas.Area", related_name="homecare_providers", help_text=_("Areas served."))
    address = models.CharField(max_length=300)
    contact_name = models.CharField(max_length=100)
    contact_phone = models.CharField(max_length=32)
    admins = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="managed_providers", blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Caregiver(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="caregivers")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="caregiver"
    )
    name = models.CharField(max_length=100)
    phone = models.CharField(max_length=32, blank=True)
    # Ids of the standard's qualifications (``qualifications:`` in its YAML) the caregiver holds.
    qualifications = models.JSONField(default=list, blank=True)
    health_certificate_expires = models.DateField()
    home_latitude = coordinate()
    home_longitude = coordinate()
    shift_start = models.TimeField()
    shift_end = models.TimeField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["provider", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(shift_start__lt=F("shift_end")), name="caregiver_shift_ordered"),
        ]

    def __str__(self) -> str:
        return self.name


class TrainingKind(models.TextChoices):
    PRE_JOB = "pre_job", _("岗前培训")
    IN_SERVICE = "in_service", _("在岗培训")


class TrainingRecord(models.Model):
    caregiver = models.ForeignKey(Caregiver, on_delete=models.CASCADE, related_name="training")
    kind = models.CharField(max_length=16, choices=TrainingKind.choices)
    completed_on = models.DateField()
    hours = models.DecimalField(max_digits=5, decimal_places=1)
    topic = models.CharField(max_length=200)

    class Meta:
        ordering = ["caregiver", "-completed_on"]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="training_hours_positive"),
            models.CheckConstraint(condition=Q(kind__in=["pre_job", "in_service"]), name="training_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.caregiver_id} {self.kind} {self.hours} h"


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    CLOSED = "closed", _("已停止")


class LocationSource(models.TextChoices):
    MAP = "map", _("在地图上选定")
    TYPED = "typed", _("手动填写经纬度")
    CHECKIN = "checkin", _("采用护理员签到定位")


class EntitlementAccount(models.Model):
    """An elder's home-care account, opened from a screening result.

    ``monthly_allowance`` and ``items`` are the rule's answer on the screening date; a later screening
    updates them (the month already opened keeps its allowance).
    """

    person = models.OneToOneField("residents.Person", on_delete=models.PROTECT, related_name="homecare_account")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="accounts")
    status = models.CharField(max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    monthly_allowance = money()
    items = models.JSONField(default=list, help_text=_("Subsidised projects the elder is entitled to."))
    rule_version = models.CharField(max_length=120)
    screening_run = models.ForeignKey(
        "eligibility.ScreeningRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_on = models.DateField()
    first_visit_due = models.DateField(help_text=_("The standard's limit from approval to the first visit."))
    # Where the visits happen, for dispatch and the check-in distance. Entered by the officer or provider.
    address = models.CharField(max_length=300, blank=True)
    latitude = coordinate(null=True, blank=True)
    longitude = coordinate(null=True, blank=True)
    location_source = models.CharField(max_length=16, choices=LocationSource.choices, blank=True)
    location_note = models.CharField(max_length=300, blank=True, help_text=_("Why the position was typed by hand."))
    usual_caregiver = models.ForeignKey(
        Caregiver, null=True, blank=True, on_delete=models.SET_NULL, related_name="usual_for"
    )

    class Meta:
        ordering = ["opened_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(monthly_allowance__gte=0), name="account_allowance_not_negative"),
            models.CheckConstraint(condition=Q(status__in=["active", "closed"]), name="account_status_valid"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="account_location_complete",
            ),
            models.CheckConstraint(
                condition=Q(location_source__in=["", "map", "typed", "checkin"]), name="account_location_source_valid"
            ),
            # Coordinates typed by hand are allowed, but only with the officer's note of where they came from.
            models.CheckConstraint(
                condition=~Q(location_source="typed") | ~Q(location_note=""), name="account_typed_location_has_note"
            ),
        ]

    def __str__(self) -> str:
        return f"account {self.pk} (person {self.person_id})"


class AccountMonth(models.Model):
    """One elder's allowance for one calendar month, and what is held and spent against it."""

    account = models.ForeignKey(EntitlementAccount, on_delete=models.PROTECT, related_name="months")
    month = models.DateField(help_text=_("The first day of the month."))
    allowance = money()
    held = money(default=0)
    spent = money(default=0)
    self_paid = money(default=0, help_text=_("Packages the elder paid for."))

    class Meta:
        ordering = ["account", "month"]
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="one_account_month"),
            models.CheckConstraint(
                condition=Q(held__gte=0) & Q(spent__gte=0) & Q(self_paid__gte=0), name="account_month_not_negative"
            ),
            # The invariant concurrent bookings race for: the last yuan can be held only once.
            models.CheckConstraint(
                condition=Q(held__lte=F("allowance") - F("spent")), name="account_month_within_allowance"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m}"

    @property
    def remaining(self) -> object:
        return self.allowance - self.held - self.spent


class FamilyLink(models.Model):
    """A family member's (or guardian's) account allowed to book and confirm for an elder."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="family_links")
    person = models.ForeignKey("residents.Person", on_delete=models.CASCADE, related_name="family_links")
    relation = models.CharField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "person"], name="one_family_link")]

    def __str__(self) -> str:
        return f"user {self.user_id} → person {self.person_id}"


class OrderStatus(models.TextChoices):
    REQUESTED = "requested", _("已预约")
    ACCEPTED = "accepted", _("已受理")
    SCHEDULED = "scheduled", _("已派单")
    IN_SERVICE = "in_service", _("服务中")
    COMPLETED = "completed", _("已完成")
    RATED = "rated", _("已评价")
    CANCELLED = "cancelled", _("已取消")
    NO_SHOW = "no_show", _("未上门服务")


class OrderKind(models.TextChoices):
    SUBSIDISED = "subsidised", _("补贴服务项目")
    PACKAGE = "package", _("个性化服务套餐")


class ReviewStatus(models.TextChoices):
    """The officer's review of a visit the standard's rules hold from settlement (none when not held)."""

    NONE = "", _("无需核查")
    PENDING = "pending", _("待核查")
    FULL = "full", _("核查后全额结算")
    REDUCED = "reduced", _("核查后减额结算")
    REFUSED = "refused", _("核查后不予结算")


class Order(models.Model):
    """One booked visit (or a month's package) for one elder. See the module docstring for the states."""

    account = models.ForeignKey(EntitlementAccount, on_delete=models.PROTECT, related_name="orders")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="orders")
    item = models.SlugField(max_length=80)
    kind = models.CharField(max_length=16, choices=OrderKind.choices)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.REQUESTED)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    minutes = models.PositiveIntegerField(help_text=_("Visit length from the standard."))
    staff = models.PositiveSmallIntegerField(default=1)
    price = money()
    subsidy = money(help_text=_("Drawn from the elder's monthly allowance."))
    self_pay = money(default=0)
    # The month whose allowance this order holds or spent.
    account_month = models.ForeignKey(AccountMonth, on_delete=models.PROTECT, related_name="orders")

    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=64)
    channel = models.CharField(max_length=8, default="web")
    requested_at = models.DateTimeField()
    respond_by = models.DateTimeField(help_text=_("The standard's response limit, in working time."))
    accepted_at = models.DateTimeField(null=True, blank=True)

    caregiver = models.ForeignKey(Caregiver, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    planned_start = models.DateTimeField(null=True, blank=True)
    dispatch_note = models.CharField(max_length=300, blank=True, help_text=_("Why the plan left it unassigned."))

    # The lead caregiver's check-in and check-out; a second caregiver's check-in is a VisitPartner row.
    checkin_at = models.DateTimeField(null=True, blank=True)
    checkin_latitude = coordinate(null=True, blank=True)
    checkin_longitude = coordinate(null=True, blank=True)
    checkin_distance_m = models.PositiveIntegerField(null=True, blank=True)
    checkin_flagged = models.BooleanField(default=False)
    # Typed by hand rather than taken from the phone's location: allowed with a reason, and flagged for review.
    checkin_typed = models.BooleanField(default=False)
    checkin_reason = models.CharField(max_length=300, blank=True)
    checkout_at = models.DateTimeField(null=True, blank=True)
    checkout_latitude = coordinate(null=True, blank=True)
    checkout_longitude = coordinate(null=True, blank=True)
    checkout_distance_m = models.PositiveIntegerField(null=True, blank=True)
    checkout_flagged = models.BooleanField(default=False)
    checkout_typed = models.BooleanField(default=False)
    checkout_reason = models.CharField(max_length=300, blank=True)
    # When every caregiver the visit needs had checked in (the duration counts from here), and how long it lasted.
    started_at = models.DateTimeField(null=True, blank=True)
    visit_minutes = models.PositiveIntegerField(null=True, blank=True)
    short_reason = models.CharField(max_length=300, blank=True, help_text=_("Why the visit ended early."))
    # What was irregular, as the standard's visit rules see it: [{"flag": "late", "minutes": 40, ...}, ...].
    flags = models.JSONField(default=list, blank=True)
    # What the visit is worth under the standard's rules: the price, a share of it, or (after review) the
    # officer's decision; empty until checked out, and while held for the officer's review.
    payable = money(null=True, blank=True)
    review = models.CharField(max_length=16, choices=ReviewStatus.choices, blank=True)
    review_note = models.CharField(max_length=300, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tasks_done = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    # Read to the caregiver by the elder or family at the door; shown on their own order page.
    confirmation_code = models.CharField(max_length=6)
    confirmation_failures = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True, help_text=_("Cancelled or no-show at."))
    end_reason = models.CharField(max_length=300, blank=True)
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    subsidy_refunded = models.BooleanField(default=False, help_text=_("Given back after an upheld complaint."))

    class Meta:
        ordering = ["-window_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["booked_by", "idempotency_key"], name="order_idempotency_key_unique"),
            models.CheckConstraint(condition=Q(window_end__gt=F("window_start")), name="order_window_ordered"),
            models.CheckConstraint(
                condition=Q(price__gte=0) & Q(subsidy__gte=0) & Q(self_pay__gte=0), name="order_money_not_negative"
            ),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in OrderStatus]), name="order_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=["subsidised", "package"]), name="order_kind_valid"),
            # A check-in or check-out away from the elder's home, or typed by hand, is kept only with the reason.
            models.CheckConstraint(
                condition=(Q(checkin_flagged=False, checkin_typed=False) | ~Q(checkin_reason=""))
                & (Q(checkout_flagged=False, checkout_typed=False) | ~Q(checkout_reason="")),
                name="order_flagged_location_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(visit_minutes__isnull=True) | Q(visit_minutes__gte=F("minutes")) | ~Q(short_reason=""),
                name="order_short_visit_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(payable__isnull=True) | Q(payable__gte=0, payable__lte=F("price")),
                name="order_payable_within_price",
            ),
            models.CheckConstraint(
                condition=Q(review__in=["", "pending", "full", "reduced", "refused"]), name="order_review_valid"
            ),
            # Held for review: nothing is payable until the officer decides, and a decision says who, when, why.
            models.CheckConstraint(condition=~Q(review="pending") | Q(payable__isnull=True), name="order_held_unpaid"),
            models.CheckConstraint(
                condition=Q(review__in=["", "pending"])
                | (Q(reviewed_at__isnull=False, reviewed_by__isnull=False, payable__isnull=False) & ~Q(review_note="")),
                name="order_review_decision_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["scheduled", "in_service", "completed", "rated"])
                | Q(caregiver__isnull=False, planned_start__isnull=False),
                name="order_scheduled_has_caregiver",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["completed", "rated"]) | Q(checkout_at__isnull=False),
                name="order_completed_was_checked_out",
            ),
            models.CheckConstraint(
                condition=~Q(status="rated") | Q(confirmed_at__isnull=False), name="order_rated_was_confirmed"
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "status", "window_start"], name="order_provider_status_idx"),
            models.Index(fields=["caregiver", "planned_start"], name="order_caregiver_day_idx"),
        ]

    def __str__(self) -> str:
        return f"order {self.pk} {self.item} {self.status}"


class VisitPartner(models.Model):
    """A second caregiver on a visit the item says needs two (``delivery.staff``), and their own check-in.

    The order's ``caregiver`` leads the visit (checks out, takes the confirmation); the visit starts when
    the lead and every partner have checked in.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="partners")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.PROTECT, related_name="partner_visits")
    checkin_at = models.DateTimeField(null=True, blank=True)
    checkin_latitude = coordinate(null=True, blank=True)
    checkin_longitude = coordinate(null=True, blank=True)
    checkin_distance_m = models.PositiveIntegerField(null=True, blank=True)
    checkin_flagged = models.BooleanField(default=False)
    checkin_typed = models.BooleanField(default=False)
    checkin_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "caregiver"], name="one_partner_row_per_caregiver"),
            models.CheckConstraint(
                condition=Q(checkin_flagged=False, checkin_typed=False) | ~Q(checkin_reason=""),
                name="partner_flagged_location_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"partner {self.caregiver_id} on order {self.order_id}"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    ACCEPTED = "accepted", _("已采用")
    DISMISSED = "dismissed", _("未采用")


class LocationProposal(models.Model):
    """Where a caregiver's phone placed them when checking in at an elder's home, offered to the officer.

    The officer may take it as the home's position (a map drawn from outlines is only as good as a drawing);
    one proposal waits per account, the newest.
    """

    account = models.ForeignKey(EntitlementAccount, on_delete=models.CASCADE, related_name="location_proposals")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.PROTECT, related_name="+")
    latitude = coordinate()
    longitude = coordinate()
    accuracy_m = models.PositiveIntegerField(null=True, blank=True, help_text=_("As the phone reported it."))
    distance_m = models.PositiveIntegerField(null=True, blank=True, help_text=_("From the position on record."))
    reason = models.CharField(max_length=300, blank=True, help_text=_("The caregiver's reason, if out of range."))
    proposed_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="pending"), name="one_pending_location_proposal"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "dismissed"]), name="location_proposal_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"location proposal {self.pk} for account {self.account_id}"


class ServicePhoto(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="homecare/photos/%Y/%m/")
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"photo {self.pk} of order {self.order_id}"


class Rating(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="rating")
    stars = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rated_at = models.DateTimeField()
    # The clause it concerns, where the rater or the office named one (``fuwu.standards.clause_choice``): a clause
    # of the version governing the item. None: the evaluation falls back to the item's clause.
    clause = models.ForeignKey("standards.Clause", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="rating_stars_1_to_5")]

    def __str__(self) -> str:
        return f"{self.stars}★ order {self.order_id}"


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("处理中")
    UPHELD = "upheld", _("投诉成立")
    DISMISSED = "dismissed", _("投诉不成立")


class Complaint(models.Model):
    """open → upheld | dismissed, with an outcome, by the standard's deadline in working days."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="complaints")
    text = models.TextField()
    lodged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lodged_at = models.DateTimeField()
    due_on = models.DateField()
    status = models.CharField(max_length=16, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN)
    outcome = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The clause it concerns, where the complainant or the office named one (``fuwu.standards.clause_choice``): a clause
    # of the version governing the item. None: the evaluation falls back to the item's clause.
    clause = models.ForeignKey("standards.Clause", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", resolved_at__isnull=True)
                | (~Q(status="open") & Q(resolved_at__isnull=False) & ~Q(outcome="")),
                name="complaint_resolution_complete",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "upheld", "dismissed"]), name="complaint_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"complaint {self.pk} on order {self.order_id} ({self.status})"


class Callback(models.Model):
    """A supervisor's telephone callback on a sampled completed visit."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="callback")
    sampled_on = models.DateField()
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    reached = models.BooleanField(null=True, blank=True)
    satisfied = models.BooleanField(null=True, blank=True)
    note = models.TextField(blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_at__isnull=True) | Q(reached__isnull=False), name="callback_done_has_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"callback on order {self.order_id}"


class DispatchRun(models.Model):
    """One plan of one provider's day: what the solver decided and what it could not place, and why."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="dispatch_runs")
    day = models.DateField()
    solver = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True, help_text=_("e.g. a caregiver called in sick"))
    visits = models.PositiveIntegerField()
    assigned = models.PositiveIntegerField()
    travel_minutes = models.DecimalField(max_digits=10, decimal_places=1)
    unassigned = models.JSONField(default=list, help_text=_("[{order, reason}]"))
    excluded_caregivers = models.JSONField(default=list, help_text=_("[{caregiver, reason}]"))

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"dispatch {self.provider_id} {self.day}"


class SettlementStatus(models.TextChoices):
    DRAFT = "draft", _("待确认")
    CONFIRMED = "confirmed", _("已确认")


class Settlement(models.Model):
    """A provider's monthly settlement: confirmed visits at the standard's prices, less deductions."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="settlements")
    month = models.DateField()
    status = models.CharField(max_length=16, choices=SettlementStatus.choices, default=SettlementStatus.DRAFT)
    visits = models.PositiveIntegerField(default=0)
    gross = money(default=0)
    deductions = money(default=0)
    net = money(default=0)
    # The elders' side of the same month, summed independently, for the reconciliation check.
    elders_spent = money(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-month", "provider"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "month"], name="one_settlement_per_provider_month"),
            models.CheckConstraint(condition=Q(net=F("gross") - F("deductions")), name="settlement_net_adds_up"),
        ]

    def __str__(self) -> str:
        return f"settlement {self.provider_id} {self.month:%Y-%m}"


class SettlementLine(models.Model):
    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="settlement_line")
    item = models.SlugField(max_length=80)
    price = money()
    deduction = money(default=0)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["settlement", "order"]
        constraints = [
            models.CheckConstraint(condition=Q(deduction__lte=F("price")), name="settlement_line_deduction_le_price"),
            models.CheckConstraint(
                condition=Q(deduction=0) | ~Q(reason=""), name="settlement_line_deduction_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.settlement_id} order {self.order_id}"


class CalendarDay(models.Model):
    """The State Council's holiday notice for a year the calendar package does not know yet.

    Overrides ``chinese_calendar`` for that date: the office enters the new year's notice here when
    it is published (usually in November or December).
    """

    date = models.DateField(unique=True)
    is_workday = models.BooleanField()
    name = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.is_workday else 'holiday'}"


class CaregiverAbsence(models.Model):
    """A caregiver who called in sick (or is otherwise away) for a day; the day's plan is re-made without them."""

    caregiver = models.ForeignKey(Caregiver, on_delete=models.CASCADE, related_name="absences")
    day = models.DateField()
    reported_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caregiver", "day"], name="one_absence_per_caregiver_day")]

    def __str__(self) -> str:
        return f"{self.caregiver_id} away {self.day}"
