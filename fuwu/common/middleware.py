"""Request middleware: language from the user's choice only, the display mode, the security headers
(Content-Security-Policy), the idle timeout of staff sessions, and the refusal of NUL bytes in addresses."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import translation

LARGE = "large"


class CookieLocaleMiddleware:
    """Chinese unless the visitor chose English with the language switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language, so an
    elder using a relative's English-language phone would get English; fuwu is
    Chinese first, and only an explicit choice (the language cookie) changes it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        response.headers.setdefault("Vary", "Cookie")
        return response


class DisplayModeMiddleware:
    """Large-text, high-contrast mode, remembered in a cookie (no account needed)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.large_display = request.COOKIES.get(settings.DISPLAY_COOKIE_NAME) == LARGE  # type: ignore[attr-defined]
        return self.get_response(request)


def content_security_policy(directives: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(sources)}".strip() for name, sources in directives.items())


class SecurityHeadersMiddleware:
    """Content-Security-Policy from ``FUWU_CSP`` on every response that does not set its own.

    Django 5.2 has no CSP of its own. The policy allows scripts only from the site's own static files
    (htmx, ECharts, the apps' scripts): no inline script, no eval, nothing from elsewhere. Referrer-Policy
    comes from Django's SecurityMiddleware (``SECURE_REFERRER_POLICY``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = content_security_policy(settings.FUWU_CSP)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


LAST_SEEN = "fuwu_last_seen"
# A session's expiry is moved on (a database write) at most this often; the timeout is exact to within it.
TOUCH_EVERY_SECONDS = 60


def idle_minutes(user: Any) -> int | None:
    """How long ``user``'s session may sit idle: ``FUWU_IDLE_MINUTES`` by role, else the staff default."""
    by_role: dict[str, int | None] = settings.FUWU_IDLE_MINUTES
    role = str(getattr(user, "role", ""))
    return by_role.get(role, settings.FUWU_STAFF_IDLE_MINUTES)


class IdleTimeoutMiddleware:
    """Sign staff out after ``FUWU_STAFF_IDLE_MINUTES`` without a request (residents keep the cookie's age).

    The session's own expiry follows the last request (``set_expiry``), so an idle session also dies in
    the store; the time of the last request is kept in the session to say so on the next one. A page
    request goes to the login page (and back afterwards); an htmx request is told to reload there.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        minutes = idle_minutes(user)
        if minutes is None:
            return self.get_response(request)
        now = int(time.time())
        last = request.session.get(LAST_SEEN)
        if isinstance(last, int) and now - last > minutes * 60:
            logout(request)
            login = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}"
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = login
                return response
            return redirect(login)
        if not isinstance(last, int) or now - last >= TOUCH_EVERY_SECONDS:
            request.session[LAST_SEEN] = now
            request.session.set_expiry(minutes * 60)
        return self.get_response(request)


NUL = "\x00"


class NulRefusingMiddleware:
    """A NUL byte (``%00``) in the path or in any query parameter is a 400, before any view reads it.

    No address of fuwu has a use for one, and PostgreSQL refuses it in a text parameter: a view that passed a
    query parameter to a query without a form (whose fields refuse NUL) answered 500. Refused here, once, for
    every page and the API (whose answer is ``{"detail", "code": "nul_byte"}`` like its other refusals).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = self.nul_in(request)
        if where is None:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": f"{where}: a NUL byte (%00) is not allowed; remove it", "code": "nul_byte"}, status=400
            )
        return render(request, "400.html", {"field": where}, status=400)

    @staticmethod
    def nul_in(request: HttpRequest) -> str | None:
        """The name of the first part of the address with a NUL in it, or ``None``."""
        if NUL in request.path:
            return "path"
        for key, values in request.GET.lists():
            if NUL in key or any(NUL in value for value in values):
                return key.replace(NUL, "")[:40] or "?"
        return None
