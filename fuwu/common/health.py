"""Health endpoints for a load balancer or an orchestrator.

* ``/healthz``: the process answers (no database, no template): restart it if this fails.
* ``/readyz``: the database is reachable, migrated and has standards in force: send traffic only then.

Both are plain text, never cached, and exempt from the HTTPS redirect (settings), so a probe over
plain HTTP inside the cluster gets the answer rather than a redirect.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from fuwu.common.readiness import readiness


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    state = readiness()
    if state.ready:
        return HttpResponse("ready\n", content_type="text/plain; charset=utf-8")
    return HttpResponse(f"not ready: {state.problem}\n", status=503, content_type="text/plain; charset=utf-8")
