from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from fuwu.accounts.models import Department, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "role", "department", "area", "is_active")
    list_filter = ("role", "department", "is_active")
    fieldsets = (*BaseUserAdmin.fieldsets, ("fuwu", {"fields": ("role", "department", "area")}))  # type: ignore[misc]
    raw_id_fields = ("area",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name_zh", "name_en")
