"""Back office for compliance: the institutions' administrators, the inspector pools and declared conflicts are
kept here (configuration, as home care's caregivers are); what inspections, draws, orders and pilots found is
shown read-only, since every change to those goes through ``fuwu.compliance.services`` and is audited."""

from __future__ import annotations

from django.contrib import admin

from fuwu.compliance.models import (
    Conflict,
    Draw,
    Inspection,
    Inspector,
    Institution,
    InstitutionImport,
    Pilot,
    RectificationOrder,
    Standing,
)

# One read-only base for rows that change only through services (home care's, until it moves to fuwu.common).
from fuwu.homecare.admin import ReadOnlyAdmin


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "kind", "code", "area", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "code", "address")
    raw_id_fields = ("area", "homecare_provider")
    filter_horizontal = ("admins",)
    # Kind, code and area are checked against the standards by the import and ``institution_create``.
    readonly_fields = ("kind", "code", "area", "homecare_provider")


@admin.register(Inspector)
class InspectorAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "department", "area", "employer", "active")
    list_filter = ("department", "active")
    raw_id_fields = ("user", "area", "employer")


@admin.register(Conflict)
class ConflictAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("inspector", "institution", "reason", "declared_at")
    raw_id_fields = ("inspector", "institution")


for model in (Draw, Inspection, RectificationOrder, Pilot, Standing, InstitutionImport):
    admin.site.register(model, ReadOnlyAdmin)
