"""Fast public pages: an in-process LRU of rendered fragments, and the site's frame around them.

A public page is the site's frame (``base.html``: navigation, login state, language and display switches
with their CSRF tokens, messages) around a main content that is the same for everyone. The content is
rendered once per key (:class:`FragmentCache`; the keys are the callers' — see ``fuwu.standards.cache``).

Rendering the frame itself costs more than the rest of a cached request (a dozen URL reversals and
translations), so for the visitors who share it — not logged in, no messages waiting — it is rendered
once per language and display mode with markers where the per-request parts go (the path in the switches'
``next`` fields, the CSRF token), and the markers are replaced on each request. The frame's fixed parts
and each page's content are kept encoded (UTF-8), so a request joins bytes: encoding the largest
standard's page (40,000 characters, most of them Chinese) cost more than the rest of the request. Logged-in visitors and
anyone with a message get the frame rendered for them, as any page would be: a header with a name or a
message in it is never cached. ``tests/guide/test_pagecache.py`` holds the cached frame equal to a fresh
render.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from types import SimpleNamespace
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import context_processors
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

T = TypeVar("T")


class FragmentCache:
    """A bounded, thread-safe LRU of values built on demand, its size counted in characters of text."""

    def __init__(self, *, max_size: int) -> None:
        self.max_size = max_size
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[0]  # type: ignore[no-any-return]
            self.misses += 1
        # Built outside the lock: two threads may build the same value once each, which is harmless.
        value = build()
        cost = _size(value)
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (value, cost)
                self.size += cost
            while self.size > self.max_size and self._entries:
                _, (_, old_cost) = self._entries.popitem(last=False)
                self.size -= old_cost
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0


def _size(value: Any) -> int:
    """Roughly how much a cached value holds: characters of text, a little for anything else."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, Page):
        return len(value.title) + len(value.body) + (len(value._utf8) if value._utf8 is not None else 0)
    if isinstance(value, tuple):
        return sum(_size(v) for v in value)
    if isinstance(value, dict):
        return 100 * len(value)
    return 1_000


# At most ~50 million characters (~100 MB) per worker process; the demo's pages in both languages take ~10 MB.
fragments = FragmentCache(max_size=50_000_000)


class Page:
    """A page's title and main content; the content's UTF-8 bytes are made once, when first sent."""

    __slots__ = ("_utf8", "body", "title")

    def __init__(self, title: str, body: SafeString) -> None:
        self.title = title
        self.body = body
        self._utf8: bytes | None = None

    @property
    def utf8(self) -> bytes:
        # Two threads may encode it once each: harmless, the same bytes.
        if self._utf8 is None:
            self._utf8 = self.body.encode()
        return self._utf8


FRAME_TEMPLATE = "guide/page.html"
# Markers for the per-request parts; none can occur in a rendered page (they survive escaping unchanged).
TITLE, BODY, PATH, CSRF = (f"\x00fuwu-frame-{part}\x00" for part in ("title", "body", "path", "csrf"))


def _frame(language: str, large: bool) -> str:
    """``base.html`` as an anonymous visitor without messages sees it, with markers for what varies."""
    marker_request = SimpleNamespace(get_full_path=lambda: PATH, path=PATH, GET={}, COOKIES={}, META={})
    user = AnonymousUser()
    context = {
        "page": Page(TITLE, mark_safe(BODY)),  # noqa: S308 - a marker, replaced by rendered HTML
        "request": marker_request,
        "user": user,
        "perms": None,
        "messages": (),
        "csrf_token": CSRF,
        "large_display": large,
        **context_processors.i18n(marker_request),  # type: ignore[arg-type]
    }
    return str(get_template(FRAME_TEMPLATE).render(context))


def _shared_frame(request: HttpRequest) -> bool:
    """Whether this visitor sees the shared frame: not logged in and nothing waiting in their messages."""
    if request.user.is_authenticated:
        return False
    # len() reads the waiting messages without marking them shown.
    return len(get_messages(request)) == 0


def _frame_parts(language: str, large: bool) -> tuple[bytes | str, ...]:
    """The shared frame cut at its markers: its fixed parts as UTF-8 bytes, the markers between them."""
    frame = _frame(language, large)
    marker = re.compile("(" + "|".join(re.escape(m) for m in (TITLE, BODY, PATH, CSRF)) + ")")
    return tuple(part if i % 2 else part.encode() for i, part in enumerate(marker.split(frame)))


def render_page(request: HttpRequest, page: Page) -> HttpResponse:
    """``page`` inside the site's frame, for this visitor."""
    if not _shared_frame(request):
        return render(request, FRAME_TEMPLATE, {"page": page})
    large = bool(getattr(request, "large_display", False))
    language = get_language()
    parts = fragments.get_or_build(("frame", language, large), lambda: _frame_parts(language, large))
    # Markers are filled from these values only: nothing inside the content is ever taken for one.
    values = {
        TITLE: escape(page.title).encode(),
        BODY: page.utf8,
        PATH: escape(request.get_full_path()).encode(),
        CSRF: get_token(request).encode(),
    }
    return HttpResponse(b"".join(part if isinstance(part, bytes) else values[part] for part in parts))
