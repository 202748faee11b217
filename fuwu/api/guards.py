"""What every API request passes before its handler: a size cap, strict JSON, and CSRF for a logged-in caller.

* A body larger than ``FUWU_API_MAX_BODY`` bytes (64 KiB unless set) is 413, before it is read: no API call
  needs more, and reading it would only cost memory.
* JSON is strict: ``NaN``, ``Infinity`` and ``-Infinity`` (which Python's parser accepts and JSON does not)
  are 400, and so is a body that is not JSON at all, with a message that says so.
* A write by a caller with a session (the ``sessionid`` cookie) needs Django's CSRF token, whichever
  endpoint it is — also those that anyone may call anonymously, such as ``POST /eligibility``: with a
  session it reads a registered person and writes an audit row, so a page on another site must not be
  able to make a staff member's browser do it (a cross-site ``text/plain`` form post included).

* An operation marked :func:`takes_files` (a material upload) takes ``multipart/form-data`` instead: its cap is
  ``FUWU_API_MAX_UPLOAD_BODY`` (unless set: ``FUWU_API_MAX_FILES`` files of ``FUWU_UPLOAD_MAX_BYTES`` each, plus
  the JSON cap for the other fields), checked from ``Content-Length`` before anything is read; the body is
  never read whole (Django streams the files to disk) and is not parsed as JSON. Each file then goes through
  the upload kernel (``fuwu.common.uploads``) in the service, as on the page.

Every refusal is ``{"detail": ..., "code": ...}`` like the rest of the API (``bad_json``, ``too_large``,
``csrf_failed``, ``bad_length``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja.parser import Parser
from ninja.utils import check_csrf

from fuwu.common.uploads import DEFAULT_MAX_BYTES as DEFAULT_MAX_UPLOAD_BYTES

DEFAULT_MAX_BODY = 64 * 1024
DEFAULT_MAX_FILES = 8
MULTIPART = "multipart/form-data"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def max_body() -> int:
    return int(getattr(settings, "FUWU_API_MAX_BODY", DEFAULT_MAX_BODY))


def max_files() -> int:
    return int(getattr(settings, "FUWU_API_MAX_FILES", DEFAULT_MAX_FILES))


def max_upload_body() -> int:
    explicit = getattr(settings, "FUWU_API_MAX_UPLOAD_BODY", None)
    if explicit:
        return int(explicit)
    return max_files() * int(getattr(settings, "FUWU_UPLOAD_MAX_BYTES", DEFAULT_MAX_UPLOAD_BYTES)) + max_body()


def takes_files(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an API operation's function as taking ``multipart/form-data`` (apply under ``@router.post``)."""
    handler.fuwu_takes_files = True  # type: ignore[attr-defined]
    return handler


def _takes_files(view: Callable[..., HttpResponse]) -> bool:
    # ``view`` is the bound ``Operation.run`` of one operation; its ``view_func`` is the handler.
    operation = getattr(view, "__self__", None)
    return bool(getattr(getattr(operation, "view_func", None), "fuwu_takes_files", False))


def _not_json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows; send a finite number or null")


def strict_loads(body: bytes | str) -> Any:
    """``json.loads`` without NaN and the infinities."""
    return json.loads(body, parse_constant=_not_json_constant)


class StrictParser(Parser):
    """The API's body parser: strict JSON (the guard has already answered a bad body with its reason)."""

    def parse_body(self, request: HttpRequest) -> Any:
        return strict_loads(request.body)


def _refuse(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def request_guard(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A django-ninja view decorator (``api.add_decorator(..., mode="view")``): runs before parsing."""

    files = _takes_files(view)

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            multipart = files and request.content_type == MULTIPART
            limit = max_upload_body() if multipart else max_body()
            length = _declared_length(request)
            if length is None:
                return _refuse(400, "Content-Length: not a number", "bad_length")
            if length > limit:
                return _refuse(413, f"body: {length} bytes is more than this API accepts ({limit} bytes)", "too_large")
            user = getattr(request, "user", None)
            if getattr(user, "is_authenticated", False) and check_csrf(request) is not None:
                return _refuse(
                    403,
                    "CSRF check failed: logged in, send the csrftoken cookie's value in an X-CSRFToken header",
                    "csrf_failed",
                )
            if multipart:
                return view(request, *args, **kwargs)
            body = request.body
            if len(body) > limit:  # a body sent without a truthful Content-Length
                return _refuse(413, f"body: more than this API accepts ({limit} bytes)", "too_large")
            if body:
                try:
                    strict_loads(body)
                except ValueError as exc:  # json.JSONDecodeError and the constants above
                    return _refuse(400, f"body: not valid JSON ({exc})", "bad_json")
        return view(request, *args, **kwargs)

    return guarded
