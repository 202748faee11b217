"""The materialised indicators: one row per indicator × area × period, rebuilt by the engine (engine.py).

Rows are written only by ``fuwu.evaluation.engine.indicators_compute``; pages read them through
``fuwu.evaluation.selectors``, scoped to the reader's area.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodKind(models.TextChoices):
    MONTH = "month", _("月")
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年")


class IndicatorValue(models.Model):
    """An indicator's numerator and denominator in one area and period, as of ``computed_at``.

    ``value`` is numerator ÷ denominator (× 100 for a percent), empty when the denominator is 0. An area's
    numerator and denominator are the sums of its children's, so a roll-up is the weighted ratio.
    """

    indicator = models.ForeignKey("standards.Indicator", on_delete=models.CASCADE, related_name="values")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(help_text=_("The first day of the month, quarter or year."))
    numerator = models.PositiveIntegerField()
    denominator = models.PositiveIntegerField()
    value = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["indicator", "period_kind", "period_start", "area"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "area", "period_kind", "period_start"], name="indicator_value_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(numerator__lte=models.F("denominator")), name="indicator_value_share"
            ),
        ]
        indexes = [models.Index(fields=["indicator", "period_kind", "area", "period_start"])]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.area_id} {self.period_kind} {self.period_start}: {self.value}"


class IndicatorPeriod(models.Model):
    """What one indicator's period was last computed from: a digest of its view's rows and the definition.

    A run that finds the same digest leaves the period's values alone; that is what makes a re-run change
    nothing and new data recompute only the periods it falls in.
    """

    indicator = models.ForeignKey("standards.Indicator", on_delete=models.CASCADE, related_name="+")
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField()
    digest = models.CharField(max_length=64)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period_kind", "period_start"], name="indicator_period_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.period_kind} {self.period_start}"


# --- Feedback on clauses and the review of a standard (feedback.py, review.py; ADR 25) ------------------------


class FeedbackStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已公开")
    REJECTED = "rejected", _("未采用")


class ClauseFeedback(models.Model):
    """A comment from the public on one clause of a standard's version: pending → approved | rejected.

    Only approved comments (their text and the office's answer) are shown publicly; the contact and the
    address's hash never are. Written only by ``fuwu.evaluation.feedback``.
    """

    version = models.ForeignKey("standards.StandardVersion", on_delete=models.CASCADE, related_name="+")
    clause = models.ForeignKey("standards.Clause", on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    # The optional contact (a phone in ``phones.parse``'s form, or an e-mail address), encrypted like the
    # registry's (``crypto.FEEDBACK_CONTACT`` in ``ENCRYPTED_COLUMNS``) and bound to this row by ``contact_row``,
    # a random token set before the row is written. Seen by the office only, masked until an audited reveal.
    contact_encrypted = models.BinaryField(null=True, blank=True, editable=False)
    contact_row = models.CharField(max_length=32, blank=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address_hash = models.CharField(max_length=64, help_text=_("A keyed hash of the sender's address, for limits."))
    submitted_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=FeedbackStatus.choices, default=FeedbackStatus.PENDING)
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    moderation_note = models.CharField(max_length=300, blank=True)
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["address_hash", "submitted_at"], name="feedback_address_time"),
            models.Index(fields=["version", "status"], name="feedback_version_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(moderated_at__isnull=False),
                name="feedback_moderated_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(answer="") | models.Q(answered_at__isnull=False, status="approved"),
                name="feedback_answer_on_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"feedback {self.pk} on {self.clause_id} ({self.status})"


class Decision(models.TextChoices):
    CONTINUE = "continue", _("继续有效")
    REVISE = "revise", _("修订")
    ABOLISH = "abolish", _("废止")


class StandardEvaluation(models.Model):
    """One evaluation report (标准实施评估) of a version, the decision taken on it and the report's PDF.

    Written only by ``fuwu.evaluation.review.evaluation_decide``: the numbers as they were (``data``), the
    suggested decision and its reasons, the office's decision (the same, or another with reasons) and the
    stored PDF, kept with the version's history.
    """

    version = models.ForeignKey("standards.StandardVersion", on_delete=models.PROTECT, related_name="evaluations")
    period_start = models.DateField()
    period_end = models.DateField()
    data = models.JSONField(help_text=_("The report's figures when the decision was taken."))
    # Blank: no suggestion (fuwu held no record of the standard's implementation); the decision then has reasons.
    suggested = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reasons = models.TextField(blank=True)
    draft = models.ForeignKey(
        "standards.StandardVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    report = models.FileField(max_length=200)
    report_sha256 = models.CharField(max_length=64)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision=models.F("suggested")) | ~models.Q(reasons=""),
                name="evaluation_override_has_reasons",
            ),
            models.CheckConstraint(
                condition=~models.Q(decision="revise") | models.Q(draft__isnull=False),
                name="evaluation_revise_has_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"evaluation {self.pk} of {self.version_id}: {self.decision}"


# --- Entered by hand, and published (issue 13: manual entry; the public page) --------------------------------


class ManualValue(models.Model):
    """An indicator fuwu cannot compute, entered by an authorised officer for one area and period (人工填报).

    Kept apart from ``IndicatorValue``, which only the engine writes: the engine never reads, writes or
    deletes these. A correction overwrites the row; the audit log keeps every earlier value and who gave it.
    """

    indicator = models.ForeignKey("standards.Indicator", on_delete=models.CASCADE, related_name="manual_values")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField()
    value = models.DecimalField(max_digits=14, decimal_places=4)
    numerator = models.PositiveIntegerField(null=True, blank=True)
    denominator = models.PositiveIntegerField(null=True, blank=True)
    source_document = models.CharField(max_length=200, help_text=_("The document the value is taken from."))
    source_date = models.DateField(help_text=_("The date of that document."))
    note = models.TextField(blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()

    class Meta:
        ordering = ["indicator", "period_kind", "-period_start", "area"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "area", "period_kind", "period_start"], name="manual_value_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(numerator__isnull=True, denominator__isnull=True)
                | models.Q(numerator__isnull=False, denominator__gt=0, numerator__lte=models.F("denominator")),
                name="manual_value_share",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.area_id} {self.period_kind} {self.period_start}: {self.value} (manual)"


class IndicatorPublication(models.Model):
    """The standards office's choice to show an indicator on the standard's public page."""

    indicator = models.OneToOneField("standards.Indicator", on_delete=models.CASCADE, related_name="publication")
    published = models.BooleanField(default=False)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.indicator_id} published={self.published}"


class PublicityKind(models.TextChoices):
    GUIDE_VIEW = "guide_view", _("指南浏览")
    PDF_DOWNLOAD = "pdf_download", _("PDF 下载")
    SELF_CHECK = "self_check", _("自查结果")


class PublicityCount(models.Model):
    """How often a service item's guide was read, its PDF downloaded, or a self-check found it, on one day.

    A counter and nothing else: no address, no user, no cookie, no time of day. Rows are only ever added to, by
    ``fuwu.evaluation.publicity.flush`` in one upsert; pages show a count only from ``publicity.SHOWN_FROM`` up.
    """

    kind = models.CharField(max_length=16, choices=PublicityKind.choices)
    item_key = models.CharField(max_length=100)
    day = models.DateField()
    hits = models.PositiveIntegerField()

    class Meta:
        ordering = ["day", "kind", "item_key"]
        constraints = [models.UniqueConstraint(fields=["kind", "item_key", "day"], name="publicity_count_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.item_key}: {self.hits}"
