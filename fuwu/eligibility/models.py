"""Screening runs and their results: who is entitled to what, found without waiting for an application."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    RUNNING = "running", _("运行中")
    COMPLETED = "completed", _("已完成")
    FAILED = "failed", _("失败")


class ResultStatus(models.TextChoices):
    ELIGIBLE = "eligible", _("符合条件")
    UNKNOWN = "unknown", _("信息不全")


class ScreeningRun(models.Model):
    """One pass of every rule over a population, on an as-of date.

    Status: running → completed | failed. A failed or interrupted run is resumed
    by running the same command again; its finished partitions are kept. Its answers
    are stored in short transactions, the last of which marks it completed; readers
    select completed runs only, so a run is shown complete with all its rows or not
    at all (``services.screening_run_complete``). ``store_attempt`` counts the
    attempts at storing it: only the latest may write its rows. ``purged_at``:
    retention removed its files and rows (the record, its counts and outreach
    records stay).
    """

    engine = models.CharField(max_length=16)
    as_of = models.DateField()
    population = models.CharField(max_length=500, help_text=_("Parquet path, or 'registry'."))
    output = models.CharField(max_length=500)
    rules_digest = models.CharField(max_length=64, help_text=_("Identifies the rule versions that ran."))
    draft = models.BooleanField(default=False, help_text=_("A what-if run of a draft revision."))
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    persons = models.BigIntegerField(default=0)
    counts = models.JSONField(default=dict, help_text=_("Per item: eligible and unknown counts, and total amount."))
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    previous = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The run of the same population its changes are counted against."),
    )
    incremental = models.BooleanField(default=False, help_text=_("Screened only the persons whose facts changed."))
    facts_at = models.DateTimeField(
        null=True, blank=True, help_text=_("A registry run: when its export of the registry began.")
    )
    screened = models.BigIntegerField(default=0, help_text=_("Persons the engine screened in this run."))
    result_rows = models.BigIntegerField(default=0, help_text=_("Eligible or unknown (person, item) answers."))
    stored_rows = models.BigIntegerField(default=0, help_text=_("Rows this run wrote to the database."))
    purged_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When retention removed its Parquet files and person rows.")
    )
    store_attempt = models.PositiveIntegerField(
        default=0, help_text=_("Attempts at storing its rows; only the latest may write them.")
    )
    # A daily run (ADR 27) stores only what changed: it reads the candidate rows of the runs before it in its
    # lineage (the full run at its root, then one run per generation) less those it and they ended.
    base = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("A daily run: the run it builds on (its files and candidate rows)."),
    )
    lineage = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("A daily run: the full run at the root of its chain of daily runs."),
    )
    generation = models.PositiveIntegerField(default=0, help_text=_("Daily runs since the full run at its root."))

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="running") | Q(finished_at__isnull=False), name="finished_run_has_end_time"
            ),
            # One daily run per generation of a chain, running or completed: two daily runs never build on the
            # same run (each marks the rows it ends; ADR 27).
            models.UniqueConstraint(
                fields=["lineage", "generation"],
                condition=Q(lineage__isnull=False, status__in=["running", "completed"]),
                name="one_daily_run_per_generation",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} {self.engine} {self.as_of}"


class Candidate(models.Model):
    """Someone a run found entitled to an item worth a call who did not receive it when the run finished.

    What the proactive list acts on; the whole run's answers (every item, unknowns, amounts) stay in the
    run's Parquet files (``ScreeningRun.output``, read with DuckDB by ``fuwu.eligibility.store``).
    """

    # No index of its own: the unique constraint's (run, person_id, item) serves every look-up by run, and each
    # index is written for each of the hundreds of thousands of rows a run stores.
    run = models.ForeignKey(ScreeningRun, on_delete=models.CASCADE, related_name="candidates", db_index=False)
    person_id = models.BigIntegerField(help_text=_("The population's person id (the registry's Person id)."))
    hukou_area = models.CharField(max_length=12, blank=True)
    item = models.CharField(max_length=80)
    rule_version = models.CharField(max_length=120)
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    units = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    # The daily run from which the row no longer holds (its person was screened again, left the registry, or
    # began or stopped receiving something): a later run of the same lineage reads the row unless it or a run
    # before it ended it (``selectors.candidates_of``, ADR 27). Null: it holds.
    until = models.ForeignKey(
        ScreeningRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "person_id", "item"], name="one_candidate_per_person_item"),
        ]
        indexes = [
            models.Index(fields=["run", "item", "hukou_area"], name="candidate_item_area_idx"),
            models.Index(fields=["run", "hukou_area", "person_id"], name="candidate_area_person_idx"),
            # Only ended rows: a full run's rows are not in it (nothing to write for them).
            models.Index(fields=["until"], condition=Q(until__isnull=False), name="candidate_until_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.item}"


class Change(models.TextChoices):
    GAINED = "gained", _("新符合条件")
    LOST = "lost", _("不再符合条件")


class EntitlementChange(models.Model):
    """An entitlement that a run found and the previous run of the same population did not, or the reverse."""

    run = models.ForeignKey(ScreeningRun, on_delete=models.CASCADE, related_name="changes")
    person_id = models.BigIntegerField()
    hukou_area = models.CharField(max_length=12, blank=True)
    item = models.CharField(max_length=80)
    change = models.CharField(max_length=8, choices=Change.choices)
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "person_id", "item"], name="one_change_per_person_item"),
        ]
        indexes = [models.Index(fields=["run", "item", "change"], name="change_item_idx")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.item} {self.change}"


class ScreeningCount(models.Model):
    """A run's answers counted by township and item: what pages with counts read (never the Parquet)."""

    run = models.ForeignKey(ScreeningRun, on_delete=models.CASCADE, related_name="area_counts")
    township = models.CharField(max_length=12, blank=True, help_text=_("9-digit township code; empty if unknown."))
    item = models.CharField(max_length=80)
    eligible = models.BigIntegerField(default=0)
    unknown = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "township", "item"], name="one_count_per_township_item"),
        ]

    def __str__(self) -> str:
        return f"{self.township} {self.item} {self.eligible}"


class Receipt(models.Model):
    """Someone who already receives an item (from the department's roll, or from delivery)."""

    person_id = models.BigIntegerField()
    item = models.CharField(max_length=80)
    since = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=32, default="import")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person_id", "item"], name="one_receipt_per_person_item")]

    def __str__(self) -> str:
        return f"{self.person_id} receives {self.item}"


class OutreachStatus(models.TextChoices):
    PENDING = "pending", _("待联系")
    CONTACTED = "contacted", _("已联系")
    APPLIED = "applied", _("已申请")
    DECLINED = "declined", _("本人不需要")
    UNREACHABLE = "unreachable", _("联系不上")


class OutreachRecord(models.Model):
    """What came of contacting one newly entitled person about one item (免申即享)."""

    run = models.ForeignKey(ScreeningRun, on_delete=models.CASCADE, related_name="outreach")
    person_id = models.BigIntegerField()
    item = models.CharField(max_length=80)
    status = models.CharField(max_length=16, choices=OutreachStatus.choices, default=OutreachStatus.PENDING)
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "person_id", "item"], name="one_outreach_per_person_item")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.item} {self.status}"
