"""Back office for home care: providers, caregivers and their training, and the holiday calendar are kept
here; what happened to accounts, orders, complaints, plans and settlements is shown read-only (every change
to those goes through ``fuwu.homecare.services`` from the pages, so it is checked and audited)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from fuwu.homecare import standard
from fuwu.homecare.models import (
    AccountMonth,
    CalendarDay,
    Callback,
    Caregiver,
    CaregiverAbsence,
    Complaint,
    DispatchRun,
    EntitlementAccount,
    FamilyLink,
    LocationProposal,
    Order,
    Provider,
    Rating,
    ServicePhoto,
    Settlement,
    SettlementLine,
    TrainingRecord,
    VisitPartner,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shown, never changed here: these rows change only through the services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "licence_number", "licence_valid_until", "contact_name", "contact_phone", "active")
    list_filter = ("active",)
    search_fields = ("name", "licence_number")
    filter_horizontal = ("areas", "admins")


class TrainingInline(admin.TabularInline):  # type: ignore[type-arg]
    model = TrainingRecord
    extra = 1
    fields = ("kind", "completed_on", "hours", "topic")


class CaregiverForm(forms.ModelForm):  # type: ignore[type-arg]
    """Qualifications are picked from the standard's list rather than typed as JSON."""

    qualifications = forms.MultipleChoiceField(
        label="资格", required=False, widget=forms.CheckboxSelectMultiple, choices=[]
    )

    class Meta:
        model = Caregiver
        fields = (
            "provider",
            "user",
            "name",
            "phone",
            "qualifications",
            "health_certificate_expires",
            "home_latitude",
            "home_longitude",
            "shift_start",
            "shift_end",
            "active",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            names = standard.qualification_names()
        except standard.StandardNotLoaded:
            names = {}
        held = [q for q in (self.instance.qualifications or []) if q not in names]
        field = self.fields["qualifications"]
        assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 - declared above
        # Ids the standard no longer declares stay visible, so saving the form does not drop them silently.
        field.choices = [*names.items(), *((q, q) for q in held)]


@admin.register(Caregiver)
class CaregiverAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = CaregiverForm
    list_display = ("name", "provider", "phone", "health_certificate_expires", "shift_start", "shift_end", "active")
    list_filter = ("provider", "active")
    search_fields = ("name", "phone")
    raw_id_fields = ("user",)
    inlines = [TrainingInline]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("date", "is_workday", "name")
    list_filter = ("is_workday",)
    date_hierarchy = "date"


@admin.register(FamilyLink)
class FamilyLinkAdmin(ReadOnlyAdmin):
    list_display = ("user", "person", "relation")
    raw_id_fields = ("user", "person")


@admin.register(EntitlementAccount)
class EntitlementAccountAdmin(ReadOnlyAdmin):
    list_display = ("pk", "person", "provider", "status", "monthly_allowance", "opened_on", "first_visit_due")
    list_filter = ("status", "provider")
    list_select_related = ("person", "provider")


@admin.register(AccountMonth)
class AccountMonthAdmin(ReadOnlyAdmin):
    list_display = ("account", "month", "allowance", "held", "spent", "self_paid")
    list_filter = ("month",)


class PhotoInline(ReadOnlyInline):
    model = ServicePhoto
    fields = ("image", "content_type", "size", "uploaded_at")
    readonly_fields = fields


class PartnerInline(ReadOnlyInline):
    model = VisitPartner
    fields = ("caregiver", "checkin_at", "checkin_distance_m", "checkin_flagged", "checkin_typed", "checkin_reason")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "item",
        "status",
        "provider",
        "caregiver",
        "window_start",
        "visit_minutes",
        "review",
        "payable",
        "overdue_flagged_at",
    )
    list_filter = ("status", "kind", "provider", "review", "checkin_flagged", "checkout_flagged", "checkin_typed")
    list_select_related = ("provider", "caregiver")
    date_hierarchy = "window_start"
    inlines = [PartnerInline, PhotoInline]


@admin.register(LocationProposal)
class LocationProposalAdmin(ReadOnlyAdmin):
    list_display = ("account", "caregiver", "proposed_at", "distance_m", "accuracy_m", "status", "decided_by")
    list_filter = ("status",)
    list_select_related = ("account", "caregiver", "decided_by")


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ("order", "stars", "rated_at")
    list_filter = ("stars",)


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ("pk", "order", "status", "lodged_at", "due_on", "resolved_at")
    list_filter = ("status",)


@admin.register(Callback)
class CallbackAdmin(ReadOnlyAdmin):
    list_display = ("order", "sampled_on", "due_on", "done_at", "reached", "satisfied")


@admin.register(DispatchRun)
class DispatchRunAdmin(ReadOnlyAdmin):
    list_display = ("provider", "day", "solver", "visits", "assigned", "travel_minutes", "created_at", "reason")
    list_filter = ("provider", "solver")
    date_hierarchy = "day"


@admin.register(CaregiverAbsence)
class CaregiverAbsenceAdmin(ReadOnlyAdmin):
    list_display = ("caregiver", "day", "reason", "reported_at")
    date_hierarchy = "day"


class SettlementLineInline(ReadOnlyInline):
    model = SettlementLine
    fields = ("order", "item", "price", "deduction", "reason")
    readonly_fields = fields


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ("provider", "month", "status", "visits", "gross", "deductions", "net", "elders_spent")
    list_filter = ("status", "provider")
    inlines = [SettlementLineInline]
