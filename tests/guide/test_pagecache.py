"""Cached public pages are never stale, never another visitor's, never another language's."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import constants
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.shortcuts import render
from django.test import Client, RequestFactory
from django.utils.safestring import mark_safe
from django.utils.translation import override

from fuwu.accounts.models import Role, User
from fuwu.common import pagecache
from fuwu.standards import services
from fuwu.standards.models import StandardVersion
from fuwu.standards.parsing import parse_many

pytestmark = pytest.mark.django_db

Writer = Callable[..., Path]


@pytest.fixture
def other_version(mini_version: StandardVersion, write_standard: Writer) -> StandardVersion:
    """A second standard beside the mini one, with its own item."""
    path = write_standard(name="other.yaml")
    text = path.read_text(encoding="utf-8")
    text = text.replace("id: test-home-visits", "id: test-other").replace("id: test-visit", "id: test-other-visit")
    text = text.replace("高龄老人上门探访", "另一个标准的探访").replace("DB3310/T 999—2021", "DB3310/T 998—2021")
    text = text.replace("id: test-satisfaction", "id: test-other-satisfaction").replace(
        "test-allowance", "test-other-a"
    )
    path.write_text(text, encoding="utf-8")
    services.standards_load(parsed=parse_many([path]), actor=None)
    return StandardVersion.objects.get(standard__key="test-other")


def load(path: Path) -> None:
    services.standards_load(parsed=parse_many([path]), actor=None)


def misses_for(client: Client, url: str) -> int:
    """How many cache entries serving ``url`` had to be built."""
    before = pagecache.fragments.misses
    assert client.get(url).status_code == 200
    return pagecache.fragments.misses - before


def test_loading_a_changed_standard_shows_the_change_on_every_page(
    client: Client, other_version: StandardVersion, write_standard: Writer
) -> None:
    warm = ["/", "/standards/", "/standards/test-home-visits/", "/standards/test-other/", "/items/test-visit/"]
    for url in [*warm, "/items/test-other-visit/"]:
        assert client.get(url).status_code == 200
    load(write_standard("高龄老人上门探访", "高龄老人上门关爱"))
    assert "高龄老人上门关爱" in client.get("/").content.decode()
    assert "高龄老人上门关爱" in client.get("/items/test-visit/").content.decode()
    assert "高龄老人上门关爱" in client.get("/standards/test-home-visits/").content.decode()
    assert "版本历史" in client.get("/standards/test-home-visits/").content.decode()
    # Exactly what changed: the other standard's guide and page are still served from the cache.
    assert misses_for(client, "/items/test-other-visit/") == 0
    assert misses_for(client, "/standards/test-other/") == 0


def test_a_lifecycle_change_changes_exactly_that_standard(client: Client, other_version: StandardVersion) -> None:
    mini = StandardVersion.objects.get(standard__key="test-home-visits")
    assert "现行" in client.get("/standards/test-home-visits/").content.decode()
    client.get("/standards/test-other/")
    client.get("/items/test-visit/")
    client.get("/")
    services.standard_begin_review(version=mini, actor=None, note="due")
    assert "复审中" in client.get("/standards/test-home-visits/").content.decode()
    assert "复审中" in client.get("/standards/").content.decode()
    # Still in force: the guide and the menu show the same content, from the cache.
    assert misses_for(client, "/items/test-visit/") == 0
    assert misses_for(client, "/") == 0
    assert misses_for(client, "/standards/test-other/") == 0

    services.standard_abolish(version=StandardVersion.objects.get(pk=mini.pk), actor=None, note="replaced")
    assert client.get("/items/test-visit/").status_code == 404
    menu = client.get("/").content.decode()
    assert "高龄老人上门探访" not in menu
    assert "另一个标准的探访" in menu
    assert "已废止" in client.get("/standards/test-home-visits/").content.decode()
    assert misses_for(client, "/standards/test-other/") == 0


def test_a_change_made_outside_the_services_is_seen_too(client: Client, mini_version: StandardVersion) -> None:
    assert client.get("/items/test-visit/").status_code == 200
    StandardVersion.objects.filter(pk=mini_version.pk).update(status="abolished")
    assert client.get("/items/test-visit/").status_code == 404


def test_languages_do_not_bleed_into_each_other(client: Client, mini_version: StandardVersion) -> None:
    english = Client()
    english.post("/i18n/setlang/", {"language": "en", "next": "/"})
    for url, zh, en in [
        ("/", "高龄老人上门探访", "Home visits for the very old"),
        ("/items/test-visit/", "高龄老人上门探访", "Home visits for the very old"),
        ("/standards/test-home-visits/", "测试上门探访服务规范", "Test home visit service specification"),
        ("/standards/", "测试上门探访服务规范", "Test home visit service specification"),
    ]:
        first = client.get(url).content.decode()
        second = english.get(url).content.decode()
        third = client.get(url).content.decode()
        assert zh in first, url
        assert en not in first, url
        assert en in second, url
        assert zh not in second, url
        assert '<html lang="en"' in second
        assert first.split("<main")[1] == third.split("<main")[1], url


def test_a_logged_in_header_is_never_served_to_anyone_else(client: Client, mini_version: StandardVersion) -> None:
    alice = User.objects.create_user("alice-pc", password="pw-alice-123456", role=Role.RESIDENT)
    bob = User.objects.create_user("bob-pc", password="pw-bob-123456", role=Role.RESIDENT)
    as_alice, as_bob = Client(), Client()
    as_alice.force_login(alice)
    as_bob.force_login(bob)
    for url in ["/", "/items/test-visit/", "/standards/", "/standards/test-home-visits/"]:
        assert "alice-pc" in as_alice.get(url).content.decode()
        anonymous = client.get(url).content.decode()
        assert "alice-pc" not in anonymous
        assert 'href="/accounts/login/"' in anonymous
        seen_by_bob = as_bob.get(url).content.decode()
        assert "bob-pc" in seen_by_bob
        assert "alice-pc" not in seen_by_bob


def test_each_visitor_gets_their_own_csrf_token(client: Client, mini_version: StandardVersion) -> None:
    def tokens(c: Client) -> set[str]:
        html = c.get("/").content.decode()
        return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))

    first, second = Client(), Client()
    a, b = tokens(first), tokens(second)
    assert a
    assert b
    # Masked tokens differ on every page; what matters is that each works for its own visitor's form.
    response = first.post("/display/", {"mode": "large", "next": "/", "csrfmiddlewaretoken": a.pop()})
    assert response.status_code == 302
    strict = Client(enforce_csrf_checks=True)
    page = strict.get("/items/test-visit/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    assert strict.post("/display/", {"mode": "large", "csrfmiddlewaretoken": token.group(1)}).status_code == 302
    assert Client(enforce_csrf_checks=True).post("/display/", {"mode": "large"}).status_code == 403


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("large", [False, True])
def test_the_shared_frame_is_what_a_fresh_render_would_give(language: str, large: bool, db: None) -> None:
    """Held equal for the cases the frame varies by, so a change to base.html cannot go stale unseen."""
    page = pagecache.Page('A <"title">', mark_safe("<p>the body, with \x00 nothing special</p>"))
    request = RequestFactory().get("/items/x/?a=1&next=<b>")
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    request.large_display = large  # type: ignore[attr-defined]
    with override(language):
        cached = pagecache.render_page(request, page).content.decode()
        fresh = render(request, pagecache.FRAME_TEMPLATE, {"page": page}).content.decode()
    mask = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert mask.sub("TOKEN", cached) == mask.sub("TOKEN", fresh)
    assert 'value="/items/x/?a=1&amp;next=' in cached
    assert "<title>A &lt;&quot;title&quot;&gt; · fuwu</title>" in cached


def test_a_waiting_message_is_shown_not_cached(db: None) -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    request._messages.add(constants.SUCCESS, "已切换")  # type: ignore[attr-defined]
    page = pagecache.Page("t", mark_safe("<p>b</p>"))
    assert "已切换" in pagecache.render_page(request, page).content.decode()
    assert request._messages.used  # type: ignore[attr-defined]  # shown, so not kept for the next page


def test_a_guide_shows_the_amounts_in_force_on_the_day(
    client: Client, mini_version: StandardVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "80至89周岁：每月 60 元" in client.get("/items/test-visit/").content.decode()
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: dt.date(2023, 6, 1))
    assert "80至89周岁：每月 50 元" in client.get("/items/test-visit/").content.decode()
