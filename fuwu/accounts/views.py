"""The lockout page: officers see who is locked out of signing in and lift it (fuwu.accounts.lockout)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fuwu.accounts.lockout import UnlockRefused, lockout_clear, lockouts_for, may_see_lockouts


@never_cache
@require_http_methods(["GET", "POST"])
def lockouts(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not may_see_lockouts(request.user):
        raise PermissionDenied
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        if not username:
            messages.error(request, _("请选择要解除锁定的账号。"))
            return redirect("accounts:lockouts")
        try:
            lockout_clear(actor=request.user, username=username, ip_address=request.POST.get("ip_address") or None)
        except UnlockRefused:
            raise PermissionDenied from None
        messages.success(request, _("已解除 %(username)s 的登录锁定。") % {"username": username})
        return redirect("accounts:lockouts")
    return render(request, "accounts/lockouts.html", {"lockouts": lockouts_for(actor=request.user)})
