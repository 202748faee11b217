"""Counts of guide views, PDF downloads and self-checks: per item and day, nothing about the visitor, cheap."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fuwu.accounts.models import Role
from fuwu.evaluation import publicity
from fuwu.evaluation.models import PublicityCount, PublicityKind
from fuwu.standards.models import StandardVersion
from tests.eligibility.test_selfcheck import ELDER, real_standards  # noqa: F401 - fixtures
from tests.evaluation.test_views import PAGE, client_for
from tests.homecare.conftest import World, make_user
from tests.homecare.test_supervision import Built
from tests.residents.conftest import areas  # noqa: F401

pytestmark = pytest.mark.django_db
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.fixture(autouse=True)
def _empty_buffer() -> Iterator[None]:
    publicity._buffer.counts.clear()
    publicity._buffer.since = time.monotonic()  # a fresh interval: no write until it has passed
    yield
    publicity._buffer.counts.clear()


def _counts() -> dict[tuple[str, str], int]:
    return {(r.kind, r.item_key): r.hits for r in PublicityCount.objects.all()}


@pytest.mark.parametrize(
    ("agent", "bot"),
    [
        (BROWSER, False),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47", False),
        ("Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", True),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
        ("curl/8.5.0", True),
        ("python-requests/2.32", True),
        ("Mozilla/5.0 HeadlessChrome/126.0", True),
        ("", True),
    ],
)
def test_robots_are_told_by_their_user_agent(agent: str, bot: bool) -> None:
    assert publicity.is_bot(agent) is bot


def test_views_and_downloads_are_counted_per_item_and_day_without_the_visitor(mini_version: StandardVersion) -> None:
    person = Client(HTTP_USER_AGENT=BROWSER)
    robot = Client(HTTP_USER_AGENT="Mozilla/5.0 (compatible; bingbot/2.0)")
    page, pdf = reverse("guide:item_detail", args=["test-visit"]), reverse("guide:item_pdf", args=["test-visit"])
    # The hot path only adds in memory: no write while a guide is read.
    with CaptureQueriesContext(connection) as queries:
        assert person.get(page).status_code == 200
    assert not [q for q in queries.captured_queries if "publicity" in q["sql"]]
    assert person.get(page).status_code == 200
    assert person.get(pdf).status_code == 200
    assert robot.get(page).status_code == 200
    assert person.get(reverse("guide:item_detail", args=["no-such-item"])).status_code == 404
    assert PublicityCount.objects.count() == 0
    assert publicity.flush() == 2
    assert _counts() == {(PublicityKind.GUIDE_VIEW, "test-visit"): 2, (PublicityKind.PDF_DOWNLOAD, "test-visit"): 1}
    assert set(PublicityCount.objects.values_list("day", flat=True)) == {timezone.localdate()}
    # A second flush adds to the day's row (one upsert), it does not replace it.
    person.get(page)
    publicity.flush()
    assert _counts()[(PublicityKind.GUIDE_VIEW, "test-visit")] == 3
    assert publicity.flush() == 0  # nothing gathered since


def test_the_first_request_after_the_interval_writes_what_was_gathered(
    mini_version: StandardVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = Client(HTTP_USER_AGENT=BROWSER)
    page = reverse("guide:item_detail", args=["test-visit"])
    person.get(page)
    assert PublicityCount.objects.count() == 0
    monkeypatch.setattr(publicity._buffer, "since", publicity._buffer.since - publicity.FLUSH_SECONDS)
    person.get(page)
    assert _counts() == {(PublicityKind.GUIDE_VIEW, "test-visit"): 2}


def test_a_self_check_counts_the_items_it_found_not_the_answers(client: Client, real_standards: None) -> None:  # noqa: F811
    client.defaults["HTTP_USER_AGENT"] = BROWSER
    assert client.post("/check/", ELDER).status_code == 200
    publicity.flush()
    counts = _counts()
    assert counts[(PublicityKind.SELF_CHECK, "sr-minimum-living-allowance")] == 1
    assert counts[(PublicityKind.SELF_CHECK, "hc-meals")] == 1  # covered by the shared allowance
    assert all(kind == PublicityKind.SELF_CHECK for kind, _ in counts)
    # Printing the same results again is not another self-check.
    client.post("/check/", {**ELDER, "print": "1"})
    publicity.flush()
    assert _counts() == counts


def test_the_dashboard_shows_counts_only_from_the_threshold(world: World, built: Built) -> None:
    day = dt.date(2026, 12, 3)
    PublicityCount.objects.create(kind=PublicityKind.GUIDE_VIEW, item_key="hc-meals", day=day, hits=7)
    PublicityCount.objects.create(kind=PublicityKind.GUIDE_VIEW, item_key="hc-meals", day=day.replace(day=9), hits=5)
    PublicityCount.objects.create(kind=PublicityKind.PDF_DOWNLOAD, item_key="hc-meals", day=day, hits=2)
    PublicityCount.objects.create(kind=PublicityKind.PDF_DOWNLOAD, item_key="hc-bathing", day=day, hits=3)
    PublicityCount.objects.create(
        kind=PublicityKind.GUIDE_VIEW, item_key="hc-meals", day=dt.date(2026, 11, 30), hits=50
    )
    auditor = make_user("auditor", Role.AUDITOR, None)
    html = client_for(auditor).get(PAGE, {"month": "2026-12"}).content.decode()
    assert 'id="uses-h"' in html
    # December only (November's 50 are another month); a count below 5 is said as such, never shown.
    assert '<th scope="row">助餐服务</th><td>12</td><td>少于 5</td><td>少于 5</td>' in html
    assert '<th scope="row">助浴服务</th><td>少于 5</td><td>少于 5</td><td>少于 5</td>' in html
    # The standard's items together pass the threshold for PDF downloads (2 + 3).
    assert '<th scope="row">本标准合计</th><td>12</td><td>5</td><td>少于 5</td>' in html


def test_the_day_is_the_local_one_worked_out_once_a_day(monkeypatch: pytest.MonkeyPatch) -> None:
    today = publicity._Today()
    assert today() == timezone.localdate()
    until = today.until
    assert until > time.time()
    assert today() == timezone.localdate()
    assert today.until == until  # not worked out again before midnight
    # Past midnight in Asia/Shanghai: the next day, worked out again.
    after_midnight = timezone.localtime().replace(hour=0, minute=0, second=1) + dt.timedelta(days=1)
    monkeypatch.setattr(time, "time", lambda: until + 1)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    monkeypatch.setattr(publicity.timezone, "localtime", lambda: after_midnight)
    assert today() == after_midnight.date() == tomorrow
    assert str(after_midnight.tzinfo) == "Asia/Shanghai"
