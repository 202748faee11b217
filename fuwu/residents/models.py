"""The resident registry: hukou households and the people in them, with the base facts the rules ask about.

``Person`` has one column per base fact in ``fuwu.eligibility.facts``, named
exactly as the fact (``household_id`` included: the foreign key's column holds
the hukou household number itself), so the bulk engines can read the table
as the facts vocabulary describes it. A NULL fact is *unknown*; every fact has
its own value for "does not apply" (``none``, ``0``, ``false``). Allowed values
are database constraints generated from the vocabulary, so changing
``facts.py`` shows up as a pending migration.

The identity number and the contact details are never stored in clear: see ``fuwu.residents.crypto``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fuwu.eligibility.facts import BASE_FACTS, FactType
from fuwu.residents.columns import HOUSEHOLD_ID_MAX, INTEGER_RANGES, NAME_MAX

AREA_CODE = r"^[0-9]{12}$"
TEXT_FACT_MAX = 32  # longer than any code in facts.py, so new codes need a constraint change, not a column change


def _area_code(field: str, *, nullable: bool) -> models.CheckConstraint:
    condition = Q(**{f"{field}__regex": AREA_CODE})
    if nullable:
        condition |= Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=condition, name=f"%(class)s_{field}_is_area_code")


def _allowed_values() -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{fact.name}__in": list(fact.allowed)}) | Q(**{f"{fact.name}__isnull": True}),
            name=f"person_{fact.name}_allowed",
        )
        for fact in BASE_FACTS
        if fact.type == FactType.TEXT and fact.allowed
    ]


class Household(models.Model):
    """A hukou household (户), identified by the household number in its hukou booklet."""

    household_id = models.CharField(max_length=HOUSEHOLD_ID_MAX, unique=True)
    # The household's registered village or community, taken from its members on import.
    hukou_area = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["household_id"]
        constraints = [_area_code("hukou_area", nullable=False)]

    def __str__(self) -> str:
        return self.household_id


class PersonImport(models.Model):
    """One run of the importer or the bulk loader, with its error report (no identity numbers in it).

    A bulk load (``loading.persons_load``) commits batch by batch: while it runs (or after it was killed)
    its outcome is ``loading`` and ``rows_done`` is its checkpoint, the rows of the file (in file order)
    whose batches are committed, written in the same transaction as they are. A retry of the same file
    (same ``sha256``) carries on after it::

        loading ──▶ imported | partial | rejected      (finished_at set in the same, last transaction)
    """

    class Kind(models.TextChoices):
        SPREADSHEET = "spreadsheet", _("表格导入")
        PARQUET = "parquet", _("合成人口载入")

    class Outcome(models.TextChoices):
        IMPORTED = "imported", _("已导入")
        PARTIAL = "partial", _("部分导入")
        REJECTED = "rejected", _("未导入")
        LOADING = "loading", _("导入中")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    valid_only = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # [{"row": 7, "column": "身份证号", "problem": "...", "fix": "..."}, ...]
    errors = models.JSONField(default=list, blank=True)
    # The bulk loader's checkpoint: rows of the file read and committed (written or reported), in file order.
    rows_done = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The background job that runs a bulk load, so its retry finds the load to carry on.
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["spreadsheet", "parquet"]), name="person_import_kind_valid"),
            models.CheckConstraint(
                condition=Q(outcome__in=["imported", "partial", "rejected", "loading"]),
                name="person_import_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.filename} ({self.outcome})"


class Person(models.Model):
    name = models.CharField(max_length=NAME_MAX)
    id_number_encrypted = models.BinaryField(editable=False)
    id_number_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The synthetic population's person_id, so batch eligibility results can be joined back; empty otherwise.
    source_id = models.CharField(max_length=64, blank=True, default="")
    # Contact details, encrypted like the identity number (``crypto.ENCRYPTED_COLUMNS``, bound to the row by
    # ``id_number_hash``); NULL when not recorded. Phones are stored in ``phones.parse``'s form before encryption.
    contact_phone_encrypted = models.BinaryField(null=True, editable=False)
    emergency_contact_name_encrypted = models.BinaryField(null=True, editable=False)
    emergency_contact_relation_encrypted = models.BinaryField(null=True, editable=False)
    emergency_contact_phone_encrypted = models.BinaryField(null=True, editable=False)

    # --- base facts (fuwu.eligibility.facts.BASE_FACTS), NULL = unknown ---
    # Date of birth and sex are in the identity number, so they are always known.
    birth_date = models.DateField()
    sex = models.CharField(max_length=TEXT_FACT_MAX)
    # Required: access to a person's record is scoped by it.
    hukou_area = models.CharField(max_length=12, db_index=True)
    hukou_type = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)
    residence_area = models.CharField(max_length=12, null=True, blank=True)
    lives_in_village = models.BooleanField(null=True, blank=True)
    household = models.ForeignKey(
        Household,
        to_field="household_id",
        db_column="household_id",
        on_delete=models.PROTECT,
        related_name="members",
    )
    relation = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)
    lives_alone = models.BooleanField(null=True, blank=True)
    disability_kind = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)
    disability_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    care_need = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)
    low_income_status = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)
    veteran_category = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)
    school_stage = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)
    boarding = models.BooleanField(null=True, blank=True)
    fd_hypertension = models.BooleanField(null=True, blank=True)
    fd_diabetes = models.BooleanField(null=True, blank=True)
    fd_pregnant = models.BooleanField(null=True, blank=True)
    fd_severe_mental = models.BooleanField(null=True, blank=True)
    house_grade = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)
    income = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, help_text=_("元/年"))
    employment_status = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)
    pension_insurance = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)
    medical_insurance = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)
    orphan_status = models.CharField(max_length=TEXT_FACT_MAX, null=True, blank=True)

    # --- flags from checking the identity number against the record ---
    # The number's area code is not the hukou county: allowed (people move), shown to officers.
    id_area_differs = models.BooleanField(default=False)
    # Registered with an old 15-digit number, converted to 18 on the way in.
    id_from_15_digits = models.BooleanField(default=False)

    source_import = models.ForeignKey(
        PersonImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="persons"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["hukou_area", "household_id", "id"]
        indexes = [models.Index(fields=["name"], name="person_name_idx")]
        constraints = [
            *_allowed_values(),
            models.CheckConstraint(
                condition=Q(
                    disability_grade__gte=INTEGER_RANGES["disability_grade"][0],
                    disability_grade__lte=INTEGER_RANGES["disability_grade"][1],
                )
                | Q(disability_grade__isnull=True),
                name="person_disability_grade_range",
            ),
            models.CheckConstraint(
                condition=Q(income__gte=0) | Q(income__isnull=True), name="person_income_not_negative"
            ),
            _area_code("hukou_area", nullable=False),
            _area_code("residence_area", nullable=True),
            models.CheckConstraint(condition=~Q(name=""), name="person_name_not_empty"),
            # A hukou household has one head (户主).
            models.UniqueConstraint(
                fields=["household"], condition=Q(relation="head"), name="person_one_head_per_household"
            ),
            models.UniqueConstraint(fields=["source_id"], condition=~Q(source_id=""), name="person_source_id_unique"),
        ]

    def __str__(self) -> str:
        # Never the name or number: __str__ ends up in logs, the admin and error pages.
        return f"Person #{self.pk}"
