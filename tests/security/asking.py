"""How the matrix asks: one request as one identity, answered as a short code the matrix is written in.

Codes: the status (``200``, ``400``, ``403``, ``404``, ``405`` …), ``log`` for a redirect to a login page and
``3xx`` for any other redirect (a write that went through, or came back with a message).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.test import Client

from tests.security.urls import ARGS, MULTIPART_API, POST_DATA, SHARED, Route, url_for
from tests.security.world import World


def code(response: Any) -> str:
    status = response.status_code
    if 300 <= status < 400:
        return "log" if "/login/" in response.get("Location", "") else "3xx"
    return str(status)


def sides(route: Route) -> tuple[str, ...]:
    """Object routes are asked for county A's object and for county B's; the rest once."""
    return ("A", "B") if route.params and route.name not in SHARED else ("A",)


def ask(client: Client, world: World, route: Route, side: str, method: str) -> Any:
    """One request, inside a savepoint that is rolled back, so a write does not change the next question."""
    url = url_for(world, route, side)
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        else:
            body = POST_DATA[route.name](world, world.sides[side]) if route.name in POST_DATA else {}
            if route.name in MULTIPART_API:
                response = client.post(url, body, headers={"Idempotency-Key": "matrix"})
            elif route.name.startswith("api-"):
                response = client.post(url, body, content_type="application/json")
            else:
                response = client.post(url, body)
        transaction.set_rollback(True)
    return response


__all__ = ["ARGS", "ask", "code", "sides"]
