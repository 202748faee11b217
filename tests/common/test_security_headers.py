"""Content-Security-Policy and Referrer-Policy on every page, no inline script in any template, and staff
sessions that end after 30 idle minutes (residents keep theirs)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.test import Client

from fuwu.accounts.models import Role, User
from fuwu.common.middleware import LAST_SEEN

FUWU = Path(__file__).resolve().parents[2] / "fuwu"


def policy(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/api/v1/docs", "/accounts/login/", "/no-such-page/"])
def test_every_response_has_the_policy_and_referrer_policy(client: Client, path: str) -> None:
    response = client.get(path)
    csp = policy(response)
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', nothing from elsewhere
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert response["Referrer-Policy"] == "same-origin"


def test_no_template_has_an_inline_script() -> None:
    inline = []
    for template in FUWU.rglob("templates/**/*.html"):
        for tag in re.findall(r"<script\b[^>]*>", template.read_text(encoding="utf-8")):
            if "src=" not in tag and "application/json" not in tag:
                inline.append(f"{template.relative_to(FUWU)}: {tag}")
    assert not inline, inline
    assert not [
        str(t.relative_to(FUWU))
        for t in FUWU.rglob("templates/**/*.html")
        if re.search(r"\son[a-z]+=\"", t.read_text(encoding="utf-8"))
    ], "event handler attributes are inline script too"


def signed_in(role: Role) -> tuple[Client, User]:
    user = User.objects.create_user(username=f"idle-{role}", password="a-long-test-password-1", role=role)
    client = Client()
    client.force_login(user)
    return client, user


def idle(client: Client, minutes: int) -> None:
    session = client.session
    session[LAST_SEEN] = int(time.time()) - minutes * 60
    session.save()


@pytest.mark.django_db
def test_a_staff_session_ends_after_30_idle_minutes() -> None:
    client, _ = signed_in(Role.AUDITOR)
    assert client.get("/residents/").status_code == 200
    assert client.session.get_expiry_age() == 30 * 60  # the store forgets it too
    idle(client, 29)
    assert client.get("/residents/").status_code == 200
    idle(client, 31)
    response = client.get("/residents/?page=2")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fresidents%2F%3Fpage%3D2"
    assert client.get("/residents/").status_code == 302  # signed out, not just redirected once


@pytest.mark.django_db
def test_an_htmx_request_is_sent_to_sign_in_again() -> None:
    client, _ = signed_in(Role.STANDARDS_OFFICE)
    client.get("/")
    idle(client, 45)
    response = client.get("/residents/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")


@pytest.mark.django_db
def test_a_resident_keeps_the_session() -> None:
    client, _ = signed_in(Role.RESIDENT)
    client.get("/")
    idle(client, 24 * 60)
    response = client.get("/")
    assert "退出" in response.content.decode()
