from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from fuwu.accounts.lockout import UnlockRefused, lockout_clear
from fuwu.accounts.models import Department, User


@admin.action(description="解除登录锁定")
def unlock(modeladmin: Any, request: HttpRequest, queryset: QuerySet[User]) -> None:
    done = []
    for user in queryset:
        try:
            lockout_clear(actor=request.user, username=user.username)
        except UnlockRefused:
            continue
        done.append(user.username)
    modeladmin.message_user(request, f"已解除登录锁定：{'、'.join(done) or '无'}", messages.SUCCESS)


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "role", "department", "area", "is_active")
    list_filter = ("role", "department", "is_active")
    fieldsets = (*BaseUserAdmin.fieldsets, ("fuwu", {"fields": ("role", "department", "area")}))  # type: ignore[misc]
    raw_id_fields = ("area",)
    actions = (unlock,)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name_zh", "name_en")
