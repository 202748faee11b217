"""The standards registry: standards, their versions, and what each version holds.

A *standard* is identified by the stable ``key`` of its file (the YAML ``id``);
every distinct content loaded for it is a *version*. A version's clauses, items,
indicators and parameters are rows of their own, so they can be searched,
linked and diffed; the validated document is also kept whole in ``document``
so nothing in the file is lost.

Version lifecycle (see ``services.py`` for the transitions)::

    draft ──publish──▶ published ──begin_review──▶ under_review
                          ▲  │                        │  │
                          │  └──────abolish───────┐   │  └──confirm──▶ published
                          │                       ▼   ▼
                          │                      abolished
       (publishing a newer version moves the current one to "revised")
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from fuwu.standards import schema


def localized(obj: Any, field: str) -> str:
    """The field in the active language, falling back to Chinese."""
    if (get_language() or "zh-hans").startswith("en"):
        english = getattr(obj, f"{field}_en", "")
        if english:
            return str(english)
    return str(getattr(obj, f"{field}_zh", ""))


class LifeArea(models.TextChoices):
    CHILDCARE = schema.LifeArea.CHILDCARE.value, _("幼有所育")
    EDUCATION = schema.LifeArea.EDUCATION.value, _("学有所教")
    EMPLOYMENT = schema.LifeArea.EMPLOYMENT.value, _("劳有所得")
    MEDICAL = schema.LifeArea.MEDICAL.value, _("病有所医")
    ELDERLY = schema.LifeArea.ELDERLY.value, _("老有所养")
    HOUSING = schema.LifeArea.HOUSING.value, _("住有所居")
    VULNERABLE = schema.LifeArea.VULNERABLE.value, _("弱有所扶")
    VETERANS = schema.LifeArea.VETERANS.value, _("优军服务保障")
    CULTURE_SPORTS = schema.LifeArea.CULTURE_SPORTS.value, _("文体服务保障")


class Status(models.TextChoices):
    DRAFT = schema.Status.DRAFT.value, _("草案")
    PUBLISHED = schema.Status.PUBLISHED.value, _("现行")
    UNDER_REVIEW = schema.Status.UNDER_REVIEW.value, _("复审中")
    REVISED = schema.Status.REVISED.value, _("已被修订替代")
    ABOLISHED = schema.Status.ABOLISHED.value, _("已废止")


# Versions residents see: in force, including while a review is running.
IN_FORCE = (Status.PUBLISHED, Status.UNDER_REVIEW)


class ClauseKind(models.TextChoices):
    REQUIREMENT = schema.ClauseKind.REQUIREMENT.value, _("要求（应）")
    RECOMMENDATION = schema.ClauseKind.RECOMMENDATION.value, _("推荐（宜）")
    PERMISSION = schema.ClauseKind.PERMISSION.value, _("允许（可）")
    STATEMENT = schema.ClauseKind.STATEMENT.value, _("陈述")


class Subject(models.TextChoices):
    SITE = schema.Subject.SITE.value, _("场所与建筑")
    EQUIPMENT = schema.Subject.EQUIPMENT.value, _("设施设备")
    STAFFING = schema.Subject.STAFFING.value, _("人员配备与资质")
    TRAINING = schema.Subject.TRAINING.value, _("培训")
    PROCESS = schema.Subject.PROCESS.value, _("服务流程")
    QUALITY = schema.Subject.QUALITY.value, _("服务质量")
    MANAGEMENT = schema.Subject.MANAGEMENT.value, _("管理")


class Standard(models.Model):
    key = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class StandardVersion(models.Model):
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(help_text=_("1 for the first loaded version, then 2, 3 …"))
    code = models.CharField(max_length=64, help_text=_("The standard's number, e.g. DB3310/T 80—2021."))
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=300, blank=True)
    scope = models.CharField(max_length=16)
    issuing_body_zh = models.CharField(max_length=200)
    issuing_body_en = models.CharField(max_length=300, blank=True)
    summary_zh = models.TextField(blank=True)
    summary_en = models.TextField(blank=True)
    issued_on = models.DateField()
    effective_on = models.DateField()
    review_period_years = models.PositiveSmallIntegerField()
    last_reviewed_on = models.DateField(null=True, blank=True)
    review_due_on = models.DateField(
        help_text=_("Set by the lifecycle services; at most five years after the last of effect or review.")
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )
    content_hash = models.CharField(max_length=64)
    document = models.JSONField(help_text=_("The validated standard document, whole."))
    source_path = models.CharField(max_length=255, blank=True)
    modeled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["standard__key", "-number"]
        indexes = [
            # Every public page reads these columns of every version (fuwu.standards.cache.snapshot). From an
            # index that holds them all, SQLite never walks the overflow pages of the document in the same row.
            models.Index(
                fields=[
                    "standard",
                    "number",
                    "status",
                    "content_hash",
                    "effective_on",
                    "review_due_on",
                    "last_reviewed_on",
                    "superseded_by",
                ],
                name="version_state",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["standard", "number"], name="version_number_unique"),
            # Only one version of a standard is in force at a time.
            models.UniqueConstraint(
                fields=["standard"],
                condition=Q(status__in=["published", "under_review"]),
                name="one_version_in_force",
            ),
            models.CheckConstraint(condition=Q(effective_on__gte=models.F("issued_on")), name="effective_after_issue"),
            models.CheckConstraint(
                condition=Q(review_period_years__gte=1) & Q(review_period_years__lte=schema.MAX_REVIEW_PERIOD_YEARS),
                name="review_period_within_law",
            ),
            models.CheckConstraint(
                condition=~Q(status="revised") | Q(superseded_by__isnull=False),
                name="revised_has_successor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} (v{self.number})"

    @property
    def title(self) -> str:
        return localized(self, "title")

    @property
    def issuing_body(self) -> str:
        return localized(self, "issuing_body")

    @property
    def summary(self) -> str:
        return localized(self, "summary")

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE


class Clause(models.Model):
    version = models.ForeignKey(StandardVersion, on_delete=models.CASCADE, related_name="clauses")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    number = models.CharField(max_length=32)
    position = models.PositiveIntegerField(help_text=_("Order in the document."))
    depth = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=ClauseKind.choices)
    subject = models.CharField(max_length=16, choices=Subject.choices, blank=True)
    title_zh = models.CharField(max_length=200, blank=True)
    title_en = models.CharField(max_length=300, blank=True)
    text_zh = models.TextField(blank=True)
    text_en = models.TextField(blank=True)
    modeled = models.BooleanField(default=False)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="clause_number_unique"),
            models.UniqueConstraint(fields=["version", "position"], name="clause_position_unique"),
            models.CheckConstraint(condition=Q(subject="") | ~Q(kind="statement"), name="subject_only_on_provisions"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title_zh or self.text_zh[:30]}"

    @property
    def title(self) -> str:
        return localized(self, "title")

    @property
    def text(self) -> str:
        return localized(self, "text")


class ServiceItem(models.Model):
    version = models.ForeignKey(StandardVersion, on_delete=models.CASCADE, related_name="items")
    key = models.SlugField(max_length=80)
    position = models.PositiveIntegerField()
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=300, blank=True)
    life_area = models.CharField(max_length=16, choices=LifeArea.choices, db_index=True)
    category_zh = models.CharField(max_length=200, blank=True)
    category_en = models.CharField(max_length=300, blank=True)
    target_group_zh = models.TextField()
    target_group_en = models.TextField(blank=True)
    content_zh = models.TextField()
    content_en = models.TextField(blank=True)
    lead_department_zh = models.CharField(max_length=200, blank=True)
    lead_department_en = models.CharField(max_length=300, blank=True)
    data = models.JSONField(help_text=_("The item as written in the standard: materials, steps, channels …"))

    class Meta:
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="item_key_unique_in_version")]

    def __str__(self) -> str:
        return f"{self.key} {self.name_zh}"

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def category(self) -> str:
        return localized(self, "category")

    @property
    def target_group(self) -> str:
        return localized(self, "target_group")

    @property
    def content(self) -> str:
        return localized(self, "content")

    @property
    def lead_department(self) -> str:
        return localized(self, "lead_department")


class Indicator(models.Model):
    version = models.ForeignKey(StandardVersion, on_delete=models.CASCADE, related_name="indicators")
    key = models.SlugField(max_length=80)
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=300, blank=True)
    formula_zh = models.TextField()
    formula_en = models.TextField(blank=True)
    target = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    comparison = models.CharField(max_length=8)
    unit = models.CharField(max_length=32, blank=True)
    clause = models.CharField(max_length=32, blank=True)
    modeled = models.BooleanField(default=False)

    class Meta:
        ordering = ["version", "key"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="indicator_key_unique_in_version")]

    def __str__(self) -> str:
        return f"{self.key} {self.name_zh}"

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def formula(self) -> str:
        return localized(self, "formula")


class Parameter(models.Model):
    """A value that changes on dates, e.g. an allowance amount."""

    version = models.ForeignKey(StandardVersion, on_delete=models.CASCADE, related_name="parameters")
    key = models.SlugField(max_length=80)
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=300, blank=True)
    unit = models.CharField(max_length=32)
    clause = models.CharField(max_length=32, blank=True)
    modeled = models.BooleanField(default=False)

    class Meta:
        ordering = ["version", "key"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="parameter_key_unique_in_version")]

    def __str__(self) -> str:
        return f"{self.key} {self.name_zh}"

    @property
    def name(self) -> str:
        return localized(self, "name")


class ParameterValue(models.Model):
    parameter = models.ForeignKey(Parameter, on_delete=models.CASCADE, related_name="values")
    effective_from = models.DateField()
    # A number, or a table of numbers keyed by band; stored as JSON strings of
    # decimals so no value passes through a float.
    value = models.JSONField()

    class Meta:
        ordering = ["parameter", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["parameter", "effective_from"], name="parameter_value_date_unique")
        ]

    def __str__(self) -> str:
        return f"{self.parameter_id} from {self.effective_from}"
