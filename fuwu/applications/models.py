"""Applications for a service item, handled step by step within the standard's working-day limits.

An application is pinned to the item *as its version stated it* (``item``, ``version``): the materials it
asks for and the steps it goes through are read from ``item.data`` by index, so no code knows any item.

Lifecycle (one service per arrow in ``services.py``; each writes an :class:`ApplicationEvent` and an audit row)::

    submit ─▶ submitted ──accept / accept_with_promise (容缺)──▶ in_progress ──advance──▶ in_progress (next step)
                  │  ▲                                             │  ▲    │
                  │  └─────────────supply (clock resumes)──────────┼──┘    ├──approve──▶ approved
                  └──notice (一次性告知, clock stops)──▶ awaiting_applicant ◀┘         └──refuse───▶ refused
                                                                                      (also from submitted: 不予受理)
    submitted · awaiting_applicant · in_progress ──withdraw (applicant)──▶ withdrawn
                                                  ──close (department)───▶ closed
    transfer (to another department) keeps the state and the clock.

The clock: accepting starts the first department step with its ``promised_limit_days`` (else
``legal_limit_days``) in working days on the Chinese calendar; ``due_on`` is that step's last day. A notice
stops it (the working days left are kept in ``days_left``); supplying starts it again from the day of supply.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from fuwu.common import satisfaction


class Capacity(models.TextChoices):
    SELF = "self", _("本人")
    FAMILY = "family", _("家属")
    AGENT = "agent", _("村（社区）代办员")
    COUNTER = "counter", _("窗口工作人员")
    # 免申即享: a screening run's candidate, pre-filled by the system for the officer who ran it (``proactive.py``).
    SYSTEM = "system", _("系统预填（免申即享）")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    IN_PROGRESS = "in_progress", _("办理中")
    AWAITING_APPLICANT = "awaiting_applicant", _("待补正")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("不予批准")
    WITHDRAWN = "withdrawn", _("已撤回")
    CLOSED = "closed", _("已终止")
    # 免申即享 (``proactive.py``): pre-filled from a screening, waiting for the resident to confirm; a decline
    # closes it (``closed``, with the ``declined`` event and its reason).
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("待本人确认")


OPEN = (Status.SUBMITTED, Status.IN_PROGRESS, Status.AWAITING_APPLICANT)


class Provision(models.TextChoices):
    UPLOAD = "upload", _("已上传")
    SHARED = "shared", _("数据共享获取")
    COUNTER = "counter", _("到窗口提交")
    # 免申即享 without confirmation: the standard (as we model it) asks nothing of the person.
    NOT_REQUIRED = "not_required", _("免申即享，无需提供")


class MaterialState(models.TextChoices):
    PROVIDED = "provided", _("已提供")
    MISSING = "missing", _("需补正")
    PROMISED = "promised", _("容缺后补")


class Eligibility(models.TextChoices):
    ELIGIBLE = "eligible", _("看起来符合条件")
    NOT_ELIGIBLE = "not_eligible", _("看起来不符合条件")
    UNKNOWN = "unknown", _("尚不能判断")
    NO_RULE = "no_rule", _("该事项没有可自动判断的条件")


class Application(models.Model):
    item = models.ForeignKey("standards.ServiceItem", on_delete=models.PROTECT, related_name="applications")
    version = models.ForeignKey("standards.StandardVersion", on_delete=models.PROTECT, related_name="applications")
    # The item's stable key, for filters across versions.
    item_key = models.SlugField(max_length=80)
    person = models.ForeignKey("residents.Person", on_delete=models.PROTECT, related_name="applications")
    # The applicant's hukou area when they applied: the department's area scope reads it.
    area_code = models.CharField(max_length=12)
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    capacity = models.CharField(max_length=16, choices=Capacity.choices)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.SUBMITTED)
    step = models.PositiveSmallIntegerField(default=0, help_text=_("Index into the item's steps."))
    due_on = models.DateField(null=True, blank=True)
    # While awaiting the applicant: the state to return to and the working days that were left.
    resume_status = models.CharField(max_length=24, choices=Status.choices, blank=True)
    paused_on = models.DateField(null=True, blank=True)
    days_left = models.IntegerField(null=True, blank=True)
    notice_sent = models.BooleanField(default=False)
    eligibility = models.CharField(max_length=16, choices=Eligibility.choices, default=Eligibility.NO_RULE)
    eligibility_reasons = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every transition: a page's form carries the number it showed, so a second officer acting on
    # what they saw is told that someone else acted first.
    revision = models.PositiveIntegerField(default=1)
    # POST /api/v1/applications: the caller's Idempotency-Key and a digest of the body it came with.
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    request_digest = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="application_overdue"),
            # The inbox's first page (soonest due first) and its counts, without sorting or reading 200,000 rows.
            models.Index(fields=["department", "due_on", "submitted_at", "id"], name="application_inbox_page"),
            models.Index(fields=["department", "status", "due_on", "area_code"], name="application_inbox_count"),
            models.Index(
                fields=["department", "item_key", "due_on", "submitted_at", "id"], name="application_inbox_item"
            ),
            # One item and one step: walked in the page's order with the step in the key, and status and area at
            # the end so that the capped count never reads the table (docs/benchmarks.md).
            models.Index(
                fields=["department", "item_key", "step", "due_on", "submitted_at", "id", "status", "area_code"],
                name="application_inbox_item_step",
            ),
            models.Index(fields=["department", "status", "due_on"], name="application_inbox"),
            models.Index(fields=["department", "area_code"], name="application_area"),
            models.Index(fields=["item_key", "status"], name="application_item"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="awaiting_applicant") | (Q(paused_on__isnull=False) & ~Q(resume_status="")),
                name="application_paused_has_bookkeeping",
            ),
            models.CheckConstraint(
                condition=Q(status="awaiting_applicant") | (Q(paused_on__isnull=True) & Q(resume_status="")),
                name="application_running_not_paused",
            ),
            models.CheckConstraint(condition=Q(revision__gte=1), name="application_revision_positive"),
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="application_idempotency_key_once",
            ),
            # One open application per person and item: a second submission (even at the same moment) is refused.
            models.UniqueConstraint(
                fields=["person", "item_key"],
                condition=Q(status__in=["submitted", "in_progress", "awaiting_applicant"]),
                name="one_open_application_per_item",
            ),
            # Nor beside a pre-filled one (免申即享) waiting for the person's confirmation.
            models.UniqueConstraint(
                fields=["person", "item_key"],
                condition=Q(status__in=["submitted", "in_progress", "awaiting_applicant", "awaiting_confirmation"]),
                name="one_pending_application_per_item",
            ),
        ]

    def __str__(self) -> str:
        return f"application {self.pk} {self.item_key} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


class ApplicationMaterial(models.Model):
    """One material of the item's checklist for one application (``index`` into the item's ``materials``)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    index = models.PositiveSmallIntegerField()
    provision = models.CharField(max_length=16, choices=Provision.choices)
    state = models.CharField(max_length=16, choices=MaterialState.choices, default=MaterialState.PROVIDED)
    file = models.FileField(upload_to="applications/", max_length=200, blank=True)
    original_name = models.CharField(max_length=120, blank=True)
    content_type = models.CharField(max_length=40, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    promised_by = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["application", "index"]
        constraints = [
            models.UniqueConstraint(fields=["application", "index"], name="application_material_once"),
            models.CheckConstraint(
                condition=~Q(provision="upload") | ~Q(file="") | ~Q(state="provided"),
                name="uploaded_material_has_file",
            ),
            models.CheckConstraint(
                condition=~Q(state="promised") | Q(promised_by__isnull=False), name="promised_material_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"application {self.application_id} material {self.index}"


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("提交申请")
    ACCEPTED = "accepted", _("受理")
    ACCEPTED_WITH_PROMISE = "accepted_with_promise", _("容缺受理")
    NOTICE = "notice", _("一次性告知需补正材料")
    SUPPLIED = "supplied", _("补正材料")
    ADVANCED = "advanced", _("办结环节")
    APPROVED = "approved", _("批准")
    REFUSED = "refused", _("不予批准")
    TRANSFERRED = "transferred", _("转办")
    WITHDRAWN = "withdrawn", _("撤回")
    CLOSED = "closed", _("终止办理")
    ESCALATED = "escalated", _("超期督办")
    PREFILLED = "prefilled", _("系统预填申请（免申即享）")
    GRANTED = "granted", _("免申即享，无需申请直接批准")
    CONFIRMED = "confirmed", _("本人确认申请")
    DECLINED = "declined", _("本人谢绝")


class ApplicationEvent(models.Model):
    """The timeline: one row per transition, with who, why and the clause relied on."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=24, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=Status.choices)
    step = models.PositiveSmallIntegerField()
    due_on = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True)
    clause = models.CharField(max_length=32, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["application", "at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"


# --- 好差评 ratings, rectification of a 差评, public per-item figures (``ratings.py``, ``figures.py``) ----------


class Rating(models.Model):
    """The applicant side's 好差评 of how an application was handled: once, after the decision.

    ``level`` is the national five-level scale (``fuwu.common.satisfaction.Level``); ``reasons`` are keys of
    that level's fixed list; ``text`` is the rater's own words.
    """

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="rating")
    level = models.PositiveSmallIntegerField(choices=satisfaction.Level.choices)
    reasons = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rated_at = models.DateTimeField()
    # The clause it concerns, where the rater or the office named one (``fuwu.standards.clause_choice``): a clause
    # of the version governing the item. None: the evaluation falls back to the item's clause.
    clause = models.ForeignKey("standards.Clause", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-rated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=5), name="application_rating_level_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"rating {self.level} of application {self.application_id}"


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("待整改")
    RECTIFIED = "rectified", _("已整改，待回访")
    SATISFIED = "satisfied", _("回访满意，已办结")
    UNSATISFIED = "unsatisfied", _("回访仍不满意")


RECTIFICATION_OPEN = (RectificationStatus.OPEN, RectificationStatus.RECTIFIED)


class Rectification(models.Model):
    """A 差评's rectification (差评整改) by the department that handled the application.

    Lifecycle (one service each in ``ratings.py``, each with its audit row)::

        rating 不满意 / 非常不满意 ──▶ open ──record (department: what it did)──▶ rectified
                                                                               │
                         callback to the applicant ──satisfied──────────────────┼──▶ satisfied
                                                   ──still not satisfied────────┴──▶ unsatisfied

    ``due_on`` is ``days`` working days after ``opened_on`` (the rating's day, not counted), the setting
    ``FUWU_APPLICATIONS_RATINGS["rectification_days"]``; the deadline covers the whole of it, callback
    included. Open or rectified past ``due_on`` is overdue (flagged on the supervisor's list). ``unsatisfied``
    is final here: the supervisor (the standards office) sees it and follows up outside this record.
    """

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="rectification")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="rectifications")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    # The applicant's hukou area (the application's): officers' and supervisors' scope reads it.
    area_code = models.CharField(max_length=12)
    status = models.CharField(max_length=16, choices=RectificationStatus.choices, default=RectificationStatus.OPEN)
    opened_on = models.DateField()
    days = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    calendar_known = models.BooleanField(default=True)
    action = models.TextField(blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    callback_at = models.DateTimeField(null=True, blank=True)
    callback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    callback_note = models.TextField(blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["department", "status", "due_on"], name="rectification_list")]
        constraints = [
            models.CheckConstraint(condition=Q(due_on__gte=models.F("opened_on")), name="rectification_due_after"),
            models.CheckConstraint(
                condition=Q(status="open") | (Q(recorded_at__isnull=False) & ~Q(action="")),
                name="rectification_recorded_has_action",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "rectified"]) | Q(callback_at__isnull=False),
                name="rectification_closed_has_callback",
            ),
        ]

    def __str__(self) -> str:
        return f"rectification {self.pk} of application {self.application_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in RECTIFICATION_OPEN


class ItemFigures(models.Model):
    """One item's public figures, counted over the applications decided in the window before ``as_of``.

    Raw counts (the page divides them), recomputed once a day (``figures.py``): the daily job, or the first
    guide page of the day that finds them older.
    """

    item_key = models.SlugField(max_length=80, unique=True)
    as_of = models.DateField()
    handled = models.PositiveIntegerField(default=0)
    timed = models.PositiveIntegerField(default=0, help_text=_("Handled with at least one step that had a due date."))
    on_time = models.PositiveIntegerField(default=0)
    working_days = models.PositiveIntegerField(default=0, help_text=_("Sum over the handled applications."))
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["item_key"]
        constraints = [
            models.CheckConstraint(condition=Q(on_time__lte=models.F("timed")), name="figures_on_time_within"),
            models.CheckConstraint(condition=Q(timed__lte=models.F("handled")), name="figures_timed_within"),
            models.CheckConstraint(condition=Q(satisfied__lte=models.F("rated")), name="figures_satisfied_within"),
        ]

    def __str__(self) -> str:
        return f"figures of {self.item_key} as of {self.as_of}"


# --- grants (``grants.py``) ----------------------------------------------------------------------------------


class GrantState(models.TextChoices):
    ACTIVE = "active", _("享受中")
    ENDED = "ended", _("已终止")
    CANCELLED = "cancelled", _("已撤销")


class GrantPeriod(models.TextChoices):
    ONCE = "once", _("一次性")
    MONTH = "month", _("每月")
    YEAR = "year", _("每年")


class Grant(models.Model):
    """What an approval gives: the item's level (from its rule's ``level``) for the person, from ``start_on``.

    Created in the approval's transaction for an item whose rule states a level; the "already receives" that
    the proactive list reads (``grants.receiving_q``). A yearly or one-off aid is a payment line in the
    finance export; a monthly one runs until it is ended. ``cancelled``: revoked, never to be paid.
    """

    person = models.ForeignKey("residents.Person", on_delete=models.PROTECT, related_name="grants")
    item = models.ForeignKey("standards.ServiceItem", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey("standards.StandardVersion", on_delete=models.PROTECT, related_name="+")
    item_key = models.SlugField(max_length=80)
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="grant")
    # Copied from the application at approval: the finance export is scoped by them.
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="grants")
    area_code = models.CharField(max_length=12)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    units = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=60, blank=True)
    period = models.CharField(max_length=8, choices=GrantPeriod.choices)
    # Items naming the same shared allowance pay it once (the standard's ``level.shared``).
    shared = models.CharField(max_length=80, blank=True)
    start_on = models.DateField()
    end_on = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=GrantState.choices, default=GrantState.ACTIVE)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-start_on", "-id"]
        indexes = [
            models.Index(fields=["person", "item_key", "state"], name="grant_person_item"),
            models.Index(fields=["department", "area_code", "start_on"], name="grant_finance"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "item_key"], condition=Q(state="active"), name="one_active_grant_per_item"
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="grant_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")), name="grant_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(state="active") | Q(ended_at__isnull=False), name="grant_ended_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"grant {self.pk} {self.item_key} ({self.state})"


class Overdue(models.Model):
    """The overdue job's state of one application (``overdue.py``), in a table of its own: the job writes tens of
    thousands of these at once, and a narrow row with one index costs a fraction of the application's (whose
    every update rewrites a dozen indexes)."""

    application = models.OneToOneField(Application, primary_key=True, on_delete=models.CASCADE, related_name="overdue")
    # Since when the running clock is past due (null: not overdue now), and the step escalated last (once each).
    since = models.DateField(null=True, blank=True)
    escalated_step = models.PositiveSmallIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"application {self.application_id} overdue since {self.since}"


# --- 免申即享: applications a screening run pre-filled (``proactive.py``) --------------------------------------


class PrefillMode(models.TextChoices):
    CONFIRM = "confirm", _("预填申请，待本人确认")
    GRANT = "grant", _("无需申请，直接批准")


class Prefill(models.Model):
    """Where a pre-filled application came from: the screening run's candidate, the township, the officer.

    One per run, person and item: a second run of the same township and item creates nothing new.
    """

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="prefill")
    run = models.ForeignKey("eligibility.ScreeningRun", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("residents.Person", on_delete=models.PROTECT, related_name="+")
    item_key = models.SlugField(max_length=80)
    township = models.CharField(max_length=12)
    mode = models.CharField(max_length=8, choices=PrefillMode.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "person", "item_key"], name="one_prefill_per_run_person_item"),
        ]
        indexes = [models.Index(fields=["person", "item_key"], name="prefill_person_item")]

    def __str__(self) -> str:
        return f"prefill of application {self.application_id} (run {self.run_id})"
