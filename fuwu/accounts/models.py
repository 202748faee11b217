"""Accounts: who a user is, and the role, department and area that scope what they see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    CAREGIVER = "caregiver", _("护理员")
    PROVIDER_ADMIN = "provider_admin", _("服务机构管理员")
    DEPARTMENT_OFFICER = "department_officer", _("部门工作人员")
    STANDARDS_OFFICE = "standards_office", _("标准化办公室")
    AUDITOR = "auditor", _("审计员")
    INSTITUTION_ADMIN = "institution_admin", _("机构管理员")
    INSPECTOR = "inspector", _("检查人员")
    # Applies for residents of their own village or community (代办员); their area is that village.
    VILLAGE_AGENT = "village_agent", _("村（社区）代办员")
    # Above a department's officers of an area (督办负责人): reads its applications and 差评 rectifications, and is
    # who the overdue job's escalations are addressed to; acts on none of them and never reads the registry.
    DEPARTMENT_SUPERVISOR = "department_supervisor", _("部门督办负责人")


class Department(models.Model):
    """A government department that leads services (e.g. 民政局, civil affairs)."""

    code = models.SlugField(max_length=64, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh


class User(AbstractUser):
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.RESIDENT)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    area = models.ForeignKey(
        "areas.Area",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("The administrative area this user's access is limited to."),
    )

    class Meta:
        constraints = [
            # A department officer acts for one department in one area; without
            # both, their access could not be scoped.
            models.CheckConstraint(
                condition=~models.Q(role="department_officer")
                | (models.Q(department__isnull=False) & models.Q(area__isnull=False)),
                name="officer_has_department_and_area",
            ),
            # A supervisor is scoped as an officer is: one department, one area.
            models.CheckConstraint(
                condition=~models.Q(role="department_supervisor")
                | (models.Q(department__isnull=False) & models.Q(area__isnull=False)),
                name="supervisor_has_department_and_area",
            ),
        ]

    @property
    def is_staff_role(self) -> bool:
        return self.role in {Role.DEPARTMENT_OFFICER, Role.STANDARDS_OFFICE, Role.AUDITOR}
