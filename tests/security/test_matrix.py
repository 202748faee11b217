"""Role × route × object: every route of the URL conf and every API operation answers each identity as the
matrix says, for an object of the identity's own county and one of another; nothing answers 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.security.asking import ask, code, sides
from tests.security.conftest import client_as
from tests.security.matrix import ADMIN_ROW, MATRIX, XFAIL
from tests.security.urls import ARGS, admin_routes, routes
from tests.security.world import ROLES, World

pytestmark = pytest.mark.django_db

ROUTES = {route.name: route for route in routes()}


@pytest.fixture(scope="module")
def clients(world: World) -> dict[str, Client]:
    """One logged-in client per identity for the whole module (sessions live in the world's transaction)."""
    return {role: client_as(world, role) for role in ROLES}


def _cases() -> list[Any]:
    cases = []
    for (name, method, side), expected in MATRIX.items():
        for role, want in expected.items():
            marks = []
            reason = XFAIL.get((name, method, side, role))
            if reason:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            cases.append(pytest.param(name, method, side, role, want, id=f"{name}-{method}-{side}-{role}", marks=marks))
    return cases


def test_every_route_is_in_the_matrix() -> None:
    """A new view (or a new object route, or a route that gained an object) fails here until it has rows."""
    missing = []
    for route in routes():
        if route.params and route.name not in ARGS:
            missing.append(f"{route.name}: no arguments in tests/security/urls.py ARGS")
        for side in sides(route):
            side_key = "-" if sides(route) == ("A",) else side
            if not any((route.name, method, side_key) in MATRIX for method in ("GET", "POST")):
                missing.append(f"{route.name} side {side_key}: no row in tests/security/matrix.py")
    stale = {name for name, _, _ in MATRIX} - set(ROUTES)
    assert not missing, "\n".join(missing)
    assert not stale, f"rows for routes that no longer exist: {sorted(stale)}"


def test_every_api_operation_is_in_the_matrix(client: Client) -> None:
    """Every operation of the OpenAPI document is a route with rows for its method."""
    document = json.loads(client.get("/api/v1/openapi.json").content)
    by_id = {name.split(":", 1)[1]: name for name in ROUTES if name.startswith("api-1.0.0:")}
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            # ninja names a route after the operation's function; the id is "<module>_<function>".
            function = next((f for f in by_id if operation["operationId"].endswith(f"_{f}")), None)
            if function is None:
                missing.append(f"{method.upper()} {path} ({operation['operationId']}): no route")
                continue
            name = by_id[function]
            if not any((name, method.upper(), side) in MATRIX for side in ("-", "A")):
                missing.append(f"{method.upper()} {path}: no {method.upper()} row for {name}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize(("name", "method", "side", "role", "want"), _cases())
def test_matrix(
    world: World, clients: dict[str, Client], name: str, method: str, side: str, role: str, want: str
) -> None:
    route = ROUTES[name]
    client = clients[role] if name != "accounts:logout" else client_as(world, role)
    response = ask(client, world, route, "A" if side == "-" else side, method)
    assert response.status_code < 500, f"{method} {name} as {role}: {response.status_code}"
    assert code(response) == want, (
        f"{method} {response.request['PATH_INFO']} as {role} (side {side}): expected {want}, got "
        f"{response.status_code} {response.get('Location', '')}"
    )


# The admin login and logout pages are for everyone.
ADMIN_PAGES = [r for r in admin_routes() if not r.params and r.name not in ("admin:login", "admin:logout")]


@pytest.mark.parametrize("role", ROLES)
def test_admin_is_for_the_standards_office_only(world: World, clients: dict[str, Client], role: str) -> None:
    want = dict(zip(ROLES, ADMIN_ROW.split(), strict=True))[role]
    for route in ADMIN_PAGES:
        response = clients[role].get("/" + route.pattern)
        assert response.status_code < 500, f"GET /{route.pattern} as {role}: {response.status_code}"
        if want == "{so}":
            assert response.status_code in (200, 403), f"GET /{route.pattern} as {role}: {response.status_code}"
        else:
            assert code(response) == want, f"GET /{route.pattern} as {role}: {code(response)}"
