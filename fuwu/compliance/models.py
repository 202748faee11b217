"""Institutions and how they meet the standards: inspections, rectification, random draws and pilots.

What an institution must do comes from the standards (requirement clauses with an ``assessment``, read by
``fuwu.compliance.checklists``); these tables hold who the institutions are and what inspections found.
A checklist is copied into each inspection when it starts, so a later version of the standard never changes
a finished inspection.

An inspection's life (``fuwu.compliance.services.inspections``)::

    planned ─start─▶ in_progress ─sign─▶ signed ─publish─▶ published
       └───cancel (a redraw)──▶ cancelled

A self-assessment starts in progress and is never published. A re-inspection (复查) starts in progress with
the original's checklist, carrying the answers that need no second look.

A rectification order's life (``fuwu.compliance.services.rectification``)::

    open ─answer─▶ answered ─accept─▶ accepted           (shown put right by the evidence)
     ▲                │  └─reinspect─▶ to_reinspect
     └────return──────┘
    open, answered or to_reinspect ─re-inspection signed─▶ verified | failed (a new order opens)

A random draw (双随机): drawn ─publish─▶ published; a redraw supersedes it (never silently: a reason, a new
seed, both kept and shown).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


def coordinate(**options: Any) -> models.DecimalField[Any, Any]:
    """Degrees (WGS-84), to about 10 cm."""
    return models.DecimalField(max_digits=9, decimal_places=6, **options)


def located(prefix: str = "") -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{prefix}latitude__isnull": True, f"{prefix}longitude__isnull": True})
        | Q(**{f"{prefix}latitude__isnull": False, f"{prefix}longitude__isnull": False}),
        name=f"%(class)s_{prefix}location_complete",
    )


class Institution(models.Model):
    """A service institution of a kind some standard governs (``kind`` is that kind's id in the standards).

    A home-care provider is one of these: ``homecare_provider`` links the home-care app's ``Provider`` row to
    its institution (ADR 7 plans the move of the provider's own fields here).
    """

    name = models.CharField(max_length=200)
    kind = models.SlugField(max_length=80, help_text=_("The institution kind's id in the standards."))
    code = models.CharField(
        max_length=64, unique=True, help_text=_("Registration code (e.g. unified social credit code); unique.")
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="institutions")
    address = models.CharField(max_length=300)
    latitude = coordinate(null=True, blank=True)
    longitude = coordinate(null=True, blank=True)
    contact_name = models.CharField(max_length=100, blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    admins = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="administered_institutions", blank=True)
    homecare_provider = models.OneToOneField(
        "homecare.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="institution"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["area__code", "kind", "name"]
        constraints = [located()]
        indexes = [models.Index(fields=["kind", "area"], name="institution_kind_area_idx")]

    def __str__(self) -> str:
        return self.name


class ImportOutcome(models.TextChoices):
    IMPORTED = "imported", _("已导入")
    PARTIAL = "partial", _("部分导入")
    REJECTED = "rejected", _("未导入")


class InstitutionImport(models.Model):
    """One import of an institution list, with its error report."""

    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    valid_only = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=ImportOutcome.choices)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text=_("[{row, column, problem, fix}]"))

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.outcome})"


class Inspector(models.Model):
    """A member of a department's pool of inspectors (执法检查人员库), drawn in pairs."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inspector")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="inspectors")
    area = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The area whose institutions they inspect."),
    )
    employer = models.ForeignKey(
        Institution,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employed_inspectors",
        help_text=_("An institution they work for: never drawn to inspect it."),
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["department", "user__username"]

    def __str__(self) -> str:
        return str(self.user.get_full_name() or self.user.get_username())

    @property
    def name(self) -> str:
        return str(self)


class Conflict(models.Model):
    """An inspector declared conflicted with an institution (a relative works there, a past contract …)."""

    inspector = models.ForeignKey(Inspector, on_delete=models.CASCADE, related_name="conflicts")
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="conflicts")
    reason = models.CharField(max_length=200)
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["inspector", "institution"], name="one_conflict_per_pair")]

    def __str__(self) -> str:
        return f"{self.inspector_id} × {self.institution_id}"


class DrawStatus(models.TextChoices):
    DRAWN = "drawn", _("已抽取，待公开")
    PUBLISHED = "published", _("已公开")
    SUPERSEDED = "superseded", _("已作废（重新抽取）")


class Draw(models.Model):
    """One period's random draw of institutions to inspect and of inspectors to send (双随机).

    ``frame`` is everything the draw read (the institutions per stratum, the pool, the conflicts) and ``seed``
    the random number it used, so anyone can recompute the same picks (``draws.verify``).
    """

    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="draws")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    ratios = models.JSONField(help_text=_("{kind: share drawn, as a decimal string}"))
    seed = models.CharField(max_length=40)
    method = models.CharField(max_length=32)
    frame = models.JSONField()
    frame_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=DrawStatus.choices, default=DrawStatus.DRAWN)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    reason = models.TextField(blank=True, help_text=_("Why a redraw replaced the earlier draw."))
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            # No silent redraw: one live draw per department, area and period; a redraw supersedes it first.
            models.UniqueConstraint(
                fields=["department", "area", "period_start"],
                condition=~Q(status="superseded"),
                name="one_live_draw_per_period",
            ),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="draw_period_ordered"),
            models.CheckConstraint(condition=Q(supersedes__isnull=True) | ~Q(reason=""), name="redraw_has_reason"),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False), name="published_draw_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"draw {self.pk} {self.period_start}"


class DrawPick(models.Model):
    """One institution a draw picked, with the pair of inspectors drawn for it."""

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="picks")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="picks")
    stratum = models.CharField(max_length=120, help_text=_("kind|county code"))
    first_inspector = models.ForeignKey(Inspector, on_delete=models.PROTECT, related_name="+")
    second_inspector = models.ForeignKey(Inspector, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["draw", "stratum", "institution"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "institution"], name="one_pick_per_institution"),
            models.CheckConstraint(
                condition=~Q(first_inspector=F("second_inspector")), name="pick_two_different_inspectors"
            ),
        ]

    def __str__(self) -> str:
        return f"pick {self.institution_id} in draw {self.draw_id}"


class InspectionKind(models.TextChoices):
    OFFICIAL = "official", _("部门检查")
    SELF = "self", _("机构自评")
    REINSPECTION = "reinspection", _("复查")


class InspectionStatus(models.TextChoices):
    PLANNED = "planned", _("待检查")
    IN_PROGRESS = "in_progress", _("检查中")
    SIGNED = "signed", _("已签署")
    PUBLISHED = "published", _("已公开")
    CANCELLED = "cancelled", _("已取消")


DONE = (InspectionStatus.SIGNED, InspectionStatus.PUBLISHED)


class Inspection(models.Model):
    """One inspection of one institution against one standard (its version in force on the inspection date)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="inspections")
    standard = models.ForeignKey("standards.Standard", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        "standards.StandardVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=InspectionKind.choices)
    status = models.CharField(max_length=16, choices=InspectionStatus.choices, default=InspectionStatus.PLANNED)
    pick = models.ForeignKey(DrawPick, null=True, blank=True, on_delete=models.PROTECT, related_name="inspections")
    follows = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reinspections")
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="assigned_inspections", blank=True)
    planned_on = models.DateField(null=True, blank=True)
    inspected_on = models.DateField(null=True, blank=True, help_text=_("The date whose standard the checklist is."))
    score = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    critical_failed = models.BooleanField(default=False)
    grade_key = models.CharField(max_length=80, blank=True)
    grade_zh = models.CharField(max_length=100, blank=True)
    grade_en = models.CharField(max_length=200, blank=True)
    stars = models.PositiveSmallIntegerField(null=True, blank=True)
    summary = models.TextField(blank=True, help_text=_("The inspector's overall remarks."))
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-inspected_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["in_progress", "signed", "published"])
                | Q(version__isnull=False, inspected_on__isnull=False),
                name="started_inspection_has_version",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["signed", "published"])
                | Q(signed_at__isnull=False, signed_by__isnull=False, passed__isnull=False),
                name="signed_inspection_has_result",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | (Q(published_at__isnull=False) & ~Q(kind="self")),
                name="only_department_results_published",
            ),
            models.CheckConstraint(
                condition=Q(kind="reinspection", follows__isnull=False)
                | Q(~Q(kind="reinspection"), follows__isnull=True),
                name="reinspection_follows_original",
            ),
            # One re-inspection at a time: a second may open only after the first is signed.
            models.UniqueConstraint(
                fields=["follows"], condition=Q(status="in_progress"), name="one_open_reinspection"
            ),
        ]
        indexes = [models.Index(fields=["institution", "standard", "status"], name="inspection_inst_std_idx")]

    def __str__(self) -> str:
        return f"inspection {self.pk} {self.kind} {self.status}"


class ClauseKind(models.TextChoices):
    REQUIREMENT = "requirement", _("要求（应）")
    RECOMMENDATION = "recommendation", _("推荐（宜）")


class Method(models.TextChoices):
    DOCUMENT = "document", _("查阅资料")
    ON_SITE = "on_site", _("现场查看")
    INTERVIEW = "interview", _("询问访谈")
    DATA_CHECK = "data_check", _("数据核查")


class ChecklistItem(models.Model):
    """One clause on one inspection's checklist, copied from the standard's version when the inspection began."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    clause_number = models.CharField(max_length=32)
    clause_kind = models.CharField(max_length=16, choices=ClauseKind.choices)
    subject = models.CharField(max_length=16, blank=True)
    title_zh = models.CharField(max_length=200, blank=True)
    title_en = models.CharField(max_length=300, blank=True)
    text_zh = models.TextField()
    text_en = models.TextField(blank=True)
    method = models.CharField(max_length=16, choices=Method.choices)
    evidence = models.JSONField(default=list, help_text=_("photo, file, number"))
    measure_zh = models.CharField(max_length=100, blank=True)
    measure_en = models.CharField(max_length=200, blank=True)
    unit_zh = models.CharField(max_length=32, blank=True)
    unit_en = models.CharField(max_length=64, blank=True)
    at_least = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    at_most = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    weight = models.PositiveSmallIntegerField()
    critical = models.BooleanField(default=False)
    guidance_zh = models.TextField(blank=True)
    guidance_en = models.TextField(blank=True)
    rectification_days = models.PositiveSmallIntegerField()
    modeled = models.BooleanField(default=False)

    class Meta:
        ordering = ["inspection", "position"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "clause_number"], name="one_item_per_clause"),
            models.UniqueConstraint(fields=["inspection", "position"], name="item_position_unique"),
            models.CheckConstraint(condition=Q(weight__gte=1), name="item_weight_positive"),
            models.CheckConstraint(
                condition=Q(critical=False) | Q(clause_kind="requirement"), name="only_requirements_critical"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clause_number} ({self.inspection_id})"


class Result(models.TextChoices):
    COMPLIANT = "compliant", _("符合")
    PARTLY = "partly", _("部分符合")
    NOT = "not", _("不符合")
    NOT_APPLICABLE = "na", _("不适用")


FAILED = (Result.PARTLY, Result.NOT)


class Answer(models.Model):
    """The answer given for one checklist item. The latest answer by the device's clock wins (offline retries)."""

    item = models.OneToOneField(ChecklistItem, on_delete=models.CASCADE, related_name="answer")
    result = models.CharField(max_length=16, choices=Result.choices)
    note = models.TextField(blank=True)
    number = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField()
    client_time = models.DateTimeField(null=True, blank=True, help_text=_("When the device says it was answered."))
    carried = models.CharField(
        max_length=300, blank=True, help_text=_("For a re-inspection: why this answer was carried, not re-checked.")
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(result__in=[r.value for r in Result]), name="answer_result_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.result}"


class OrderStatus(models.TextChoices):
    OPEN = "open", _("待整改")
    ANSWERED = "answered", _("已提交整改材料")
    ACCEPTED = "accepted", _("整改材料已验收")
    TO_REINSPECT = "to_reinspect", _("待现场复查")
    VERIFIED = "verified", _("复查合格")
    FAILED = "failed", _("复查仍不合格")


OPEN_ORDERS = (OrderStatus.OPEN, OrderStatus.ANSWERED, OrderStatus.TO_REINSPECT)


class RectificationOrder(models.Model):
    """A failed requirement to put right by a deadline in working days (整改通知)."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="orders")
    item = models.OneToOneField(ChecklistItem, on_delete=models.PROTECT, related_name="order")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    opened_on = models.DateField()
    days = models.PositiveSmallIntegerField(help_text=_("Working days allowed."))
    due_on = models.DateField()
    calendar_known = models.BooleanField(
        default=True, help_text=_("False when the holidays of the deadline's year were not yet published.")
    )
    response = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_by = models.ForeignKey(
        Inspection, null=True, blank=True, on_delete=models.PROTECT, related_name="closed_orders"
    )
    previous = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="next")
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    escalation = models.PositiveSmallIntegerField(
        default=0, help_text=_("0 on time; 1 overdue, for the county department; 2 escalated to the city.")
    )

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(due_on__gte=F("opened_on")), name="order_due_after_opening"),
            models.CheckConstraint(
                condition=~Q(status="answered") | Q(answered_at__isnull=False), name="answered_order_has_time"
            ),
            models.CheckConstraint(condition=Q(escalation__lte=2), name="order_escalation_levels"),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="order_status_due_idx")]

    def __str__(self) -> str:
        return f"order {self.pk} {self.status}"


class Evidence(models.Model):
    """A photo or file given as evidence: for a checklist item (by the inspector) or an order (by the institution).

    Stored through ``fuwu.common.uploads`` (content-checked, re-encoded, EXIF gone); the position is what the
    browser reported when it was sent, never what the file said.
    """

    item = models.ForeignKey(ChecklistItem, null=True, blank=True, on_delete=models.CASCADE, related_name="files")
    order = models.ForeignKey(RectificationOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(max_length=200)
    kind = models.CharField(max_length=8)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=120)
    latitude = coordinate(null=True, blank=True)
    longitude = coordinate(null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(item__isnull=False, order__isnull=True) | Q(item__isnull=True, order__isnull=False),
                name="evidence_has_one_parent",
            ),
            located(),
        ]

    def __str__(self) -> str:
        return f"evidence {self.pk}"

    @property
    def is_image(self) -> bool:
        return self.kind in ("jpeg", "png")


class Standing(models.Model):
    """An institution's latest published result against one standard: its public grade, and coverage's input."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="standings")
    standard = models.ForeignKey("standards.Standard", on_delete=models.CASCADE, related_name="+")
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="+")
    inspected_on = models.DateField()
    score = models.DecimalField(max_digits=5, decimal_places=1)
    passed = models.BooleanField()
    grade_key = models.CharField(max_length=80, blank=True)
    grade_zh = models.CharField(max_length=100, blank=True)
    grade_en = models.CharField(max_length=200, blank=True)
    stars = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["institution", "standard"], name="one_standing_per_standard")]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.standard_id} {self.score}"


class PilotStatus(models.TextChoices):
    DESIGNATED = "designated", _("试点中")
    ACCEPTED = "accepted", _("通过验收")
    NOT_ACCEPTED = "not_accepted", _("未通过验收")


class Pilot(models.Model):
    """A township, street or village designated to pilot a standard, and its acceptance (验收)."""

    standard = models.ForeignKey("standards.Standard", on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    start_on = models.DateField()
    accept_by = models.DateField()
    status = models.CharField(max_length=16, choices=PilotStatus.choices, default=PilotStatus.DESIGNATED)
    min_average_score = models.DecimalField(max_digits=5, decimal_places=1)
    min_passing_percent = models.DecimalField(max_digits=5, decimal_places=1)
    designated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    designated_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["standard", "area__code"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "area"], name="one_pilot_per_standard_area"),
            models.CheckConstraint(condition=Q(accept_by__gte=F("start_on")), name="pilot_dates_ordered"),
            models.CheckConstraint(
                condition=Q(status="designated") | Q(decided_at__isnull=False), name="decided_pilot_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"pilot {self.standard_id} {self.area_id}"
