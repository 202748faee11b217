"""Administrative areas: city, county-level division, township or street, village or community."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    CITY = "city", _("地级市")
    COUNTY = "county", _("县级行政区")
    TOWNSHIP = "township", _("乡镇（街道）")
    VILLAGE = "village", _("村（社区）")


class Area(models.Model):
    code = models.CharField(max_length=12, unique=True, help_text=_("Statistical division code."))
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128, blank=True)
    level = models.CharField(max_length=16, choices=AreaLevel.choices)
    kind_zh = models.CharField(max_length=16, blank=True, help_text=_("e.g. 区, 县, 市, 镇, 乡, 街道, 村, 社区"))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    generated = models.BooleanField(
        default=False, help_text=_("True for demo villages and communities made up by the generator.")
    )
    modeled = models.BooleanField(default=False, help_text=_("True when the code or name is not verified."))

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level="city") | models.Q(parent__isnull=False),
                name="area_below_city_has_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"
