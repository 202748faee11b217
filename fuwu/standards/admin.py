"""Back office for the standardisation office: drafts are published and reviewed through the services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from fuwu.accounts.permissions import can_manage_standards
from fuwu.standards import services
from fuwu.standards.models import Clause, ServiceItem, Standard, StandardVersion


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ClauseInline(ReadOnlyInline):
    model = Clause
    fields = ("number", "kind", "subject", "title_zh", "text_zh")


class ItemInline(ReadOnlyInline):
    model = ServiceItem
    fields = ("key", "name_zh", "life_area")


def _run(request: HttpRequest, queryset: QuerySet[StandardVersion], action: str, **kwargs: object) -> None:
    if not can_manage_standards(request.user):
        messages.error(request, "only the standardisation office changes a standard's status")
        return
    service = {
        "publish": services.standard_publish,
        "begin_review": services.standard_begin_review,
        "confirm": services.standard_confirm,
    }[action]
    for version in queryset:
        try:
            service(version=version, actor=request.user, **kwargs)  # type: ignore[operator]
            messages.success(request, f"{version}: {action}")
        except services.TransitionError as exc:
            messages.error(request, str(exc))


@admin.action(description="Publish (draft → published)")
def publish(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[StandardVersion]) -> None:  # type: ignore[type-arg]
    _run(request, queryset, "publish")


@admin.action(description="Begin review (published → under review)")
def begin_review(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[StandardVersion]) -> None:  # type: ignore[type-arg]
    _run(request, queryset, "begin_review")


@admin.action(description="Confirm after review (under review → published)")
def confirm(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[StandardVersion]) -> None:  # type: ignore[type-arg]
    _run(request, queryset, "confirm")


@admin.register(StandardVersion)
class StandardVersionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "title_zh", "number", "status", "effective_on", "review_due_on")
    list_filter = ("status", "scope")
    search_fields = ("code", "title_zh", "title_en")
    actions = [publish, begin_review, confirm]
    inlines = [ItemInline, ClauseInline]
    # Content changes come from the standard file (fuwu standards load), status
    # changes from the actions above, so no field is edited here directly.
    readonly_fields = [f.name for f in StandardVersion._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Standard)
class StandardAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("key", "created_at")
