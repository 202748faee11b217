"""Error pages in the site's frame, in the reader's language, with a way back.

Django's own 403 and 404 views already render ``403.html`` and ``404.html`` with the request; the 500
view and the CSRF failure view are ours. The 500 page must render when the database is what failed,
so it is given an anonymous user (the real one would be read from the session, i.e. the database)
and falls back to plain text if even that cannot render.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponsePermanentRedirect,
    HttpResponseServerError,
)
from django.template.loader import render_to_string
from django.templatetags.static import static

logger = logging.getLogger(__name__)

FALLBACK_500 = (
    '<!doctype html><html lang="zh-Hans"><meta charset="utf-8"><title>服务器出错 · fuwu</title>'
    "<h1>服务器出错</h1><p>很抱歉，服务器暂时无法完成您的请求。请稍后再试。</p>"
    '<p lang="en">Sorry, the server could not answer. Please try again later.</p><p><a href="/">返回首页</a></p>'
)


def server_error(request: HttpRequest) -> HttpResponse:
    html: str
    try:
        html = render_to_string("500.html", {"user": AnonymousUser(), "messages": ()}, request=request)
    except Exception:
        logger.exception("the 500 page itself failed to render")
        html = FALLBACK_500
    return HttpResponseServerError(html)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with an expired or missing security token (e.g. a page left open overnight)."""
    return HttpResponseForbidden(render_to_string("403.html", {"csrf_failed": True}, request=request))


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever a page links to; send them to the static file (hashed in production)."""
    return HttpResponsePermanentRedirect(static("fuwu/favicon.ico"))
