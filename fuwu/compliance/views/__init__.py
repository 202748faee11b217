"""Compliance pages by audience: ``public`` (residents), ``office`` (departments, the standards office, auditors),
``field`` (inspectors, and institutions filling their self-assessment or answering orders), ``mine``
(institution administrators). Thin: parse, read through the selectors or call one service, render.

A role that may never open a page gets 403; a row outside the user's scope is a 404, so a URL does not tell
whether it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from fuwu.accounts.models import Role, User
from fuwu.accounts.permissions import has_role

View = Callable[..., HttpResponseBase]


def for_roles(roles: set[Role]) -> Callable[[View], View]:
    """Sign in first; then only these roles."""

    def wrap(view: View) -> View:
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return inner

    return wrap


def staff(request: HttpRequest) -> User:
    """The signed-in user (the views that call this are behind ``for_roles``)."""
    return cast(User, request.user)


def wants_json(request: HttpRequest) -> bool:
    """The field page's script saves answers in the background and reads JSON back."""
    return request.headers.get("X-Requested-With") == "fetch"
