"""403, 404 and 500 in the site's frame, in the reader's language, with a way back (DEBUG off, as in production)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from fuwu.accounts.models import Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production_errors(settings: Any) -> None:
    settings.DEBUG = False


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def framed(html: str) -> None:
    assert '<header class="site">' in html
    assert '<main id="main"' in html
    assert 'href="/"' in html  # the way back home
    assert "Traceback" not in html


def test_404_in_chinese_then_in_english() -> None:
    response = Client().get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    framed(html)
    assert "找不到这个页面" in html
    assert "返回首页" in html
    assert '<html lang="zh-Hans"' in html

    html = english(Client()).get("/no/such/page/").content.decode()
    assert "Page not found" in html
    assert "Back to the home page" in html
    assert '<html lang="en"' in html


def test_403_for_a_logged_in_person_without_the_role() -> None:
    client = Client()
    client.force_login(User.objects.create_user("someone", password="x-long-password-1", role=Role.RESIDENT))
    response = client.get("/proactive/screen/")
    html = response.content.decode()
    assert response.status_code == 403
    framed(html)
    assert "没有权限查看这个页面" in html
    assert "联系本单位的系统管理员" in html
    assert "403 Forbidden" not in html
    assert "You do not have permission to see this page" in english(client).get("/proactive/screen/").content.decode()


def test_an_expired_form_gets_the_site_403_not_django_csrf_page() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    html = response.content.decode()
    assert response.status_code == 403
    framed(html)
    assert "页面已过期，请重新提交" in html
    assert "CSRF" not in html


def test_500_renders_in_the_frame_without_touching_the_database(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.common.urls_boom"
    response = Client(raise_request_exception=False).get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    framed(html)
    assert "服务器出错了" in html
    assert "the database went away" not in html
    html = english(Client(raise_request_exception=False)).get("/boom/").content.decode()
    assert "Server error" in html


def test_favicon_for_browsers_that_ask_the_root() -> None:
    client = Client()
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # type: ignore[attr-defined]
    home = client.get("/").content.decode()
    assert re.search(r'<link rel="icon" href="/static/fuwu/favicon\.svg" type="image/svg\+xml">', home)


def test_swagger_ui_is_served_from_our_own_static_files() -> None:
    client = Client()
    html = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui" in html
    assert re.findall(r"https?://", html) == [], "the docs page must load nothing from another site"
    scripts = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert scripts
    for url in scripts:
        assert url.startswith("/static/"), url
        assert client.get(url).status_code == 200, url
    # Swagger UI would otherwise fetch a validator badge from validator.swagger.io.
    assert '"validatorUrl": null' in html
