"""Privacy-preserving counts of how the public uses the standards: guide views, PDF downloads, self-checks.

What is counted, per service item and day, and nothing more: no address, no user, no cookie, no time of day,
no answers. A guide page read (``guide:item_detail``), its PDF fetched (``guide:item_pdf``), and a self-check
whose results found the item open to the person (``eligibility:check``; an allowance counts for each item it
covers, nothing is counted when the results are only printed again). Requests whose user agent is empty or
names itself a robot, crawler, script, headless browser or monitor (``BOT``) are not counted.

The guide pages are the site's hot path (cached, benchmarked): counting there is an addition to a dictionary in
the process. The first request after ``FLUSH_SECONDS`` writes what the process gathered in one upsert (``INSERT
... ON CONFLICT DO UPDATE SET hits = hits + excluded.hits``, the same on PostgreSQL and SQLite), and a process
that stops writes its rest on exit. A process killed hard loses at most its last ``FLUSH_SECONDS`` of counts.

Pages show a count only from ``SHOWN_FROM`` up (below, "fewer than"): a small number says little about use and
too much about the few who looked.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from fuwu.evaluation.models import PublicityCount, PublicityKind

SHOWN_FROM = 5
FLUSH_SECONDS = 60.0
# Words a robot's user agent carries (lower case): crawlers, scripts and libraries, headless browsers, monitors.
BOT = (
    "bot", "crawl", "spider", "slurp", "archiv", "curl", "wget", "python", "httpclient", "okhttp", "java/",
    "go-http", "libwww", "headless", "phantom", "lighthouse", "pingdom", "monitor", "uptime", "scan", "preview",
    "facebookexternalhit",
)  # fmt: skip

logger = logging.getLogger(__name__)
Key = tuple[str, str, dt.date]  # kind, item key, day


class _Buffer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[Key] = Counter()
        self.since = time.monotonic()


_buffer = _Buffer()


@lru_cache(maxsize=1024)
def is_bot(user_agent: str) -> bool:
    # Cached: a site sees the same few hundred user agents over and over, and this runs on every guide view.
    agent = user_agent.strip().lower()
    return not agent or any(word in agent for word in BOT)


class _Today:
    """Today in Asia/Shanghai, worked out once a day (``timezone.localdate`` costs more than the counting)."""

    def __init__(self) -> None:
        self.day = dt.date.min
        self.until = 0.0  # time.time() at which ``day`` ends

    def __call__(self) -> dt.date:
        now = time.time()
        if now >= self.until:
            local = timezone.localtime()
            self.day = local.date()
            midnight = dt.datetime.combine(self.day + dt.timedelta(days=1), dt.time(), tzinfo=local.tzinfo)
            self.until = midnight.timestamp()
        return self.day


_today = _Today()


def count(request: HttpRequest, kind: PublicityKind, item_keys: Iterable[str]) -> None:
    """Count one use of each item in ``item_keys`` today (in memory; written by ``flush``)."""
    if is_bot(request.META.get("HTTP_USER_AGENT", "")):
        return
    day = _today()
    with _buffer.lock:
        for key in item_keys:
            _buffer.counts[(str(kind), key, day)] += 1
        due = time.monotonic() - _buffer.since >= FLUSH_SECONDS
    if due:
        flush()


def flush() -> int:
    """Write the process's gathered counts in one upsert; the number of rows written. Never raises."""
    with _buffer.lock:
        taken, _buffer.counts = _buffer.counts, Counter()
        _buffer.since = time.monotonic()
    if not taken:
        return 0
    table = connection.ops.quote_name(PublicityCount._meta.db_table)
    sql = (
        f"INSERT INTO {table} (kind, item_key, day, hits) VALUES (%s, %s, %s, %s) "  # noqa: S608 - our own table
        f"ON CONFLICT (kind, item_key, day) DO UPDATE SET hits = {table}.hits + excluded.hits"
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, [(kind, key, day, n) for (kind, key, day), n in sorted(taken.items())])
    except Exception:
        # Kept for the next try (they are few: one per kind, item and day), and said in the log.
        logger.exception("publicity counts not written; kept for the next flush")
        with _buffer.lock:
            _buffer.counts.update(taken)
        return 0
    return len(taken)


def _flush_at_exit() -> None:
    try:
        flush()
    except Exception:
        logger.exception("publicity counts lost at exit")


atexit.register(_flush_at_exit)


@dataclass(frozen=True)
class ItemUse:
    """One item's uses in a period; a count is ``None`` when below ``SHOWN_FROM`` (shown as "fewer than")."""

    key: str
    name: str
    guide_views: int | None
    pdf_downloads: int | None
    self_checks: int | None

    @property
    def counts(self) -> tuple[int | None, int | None, int | None]:
        return self.guide_views, self.pdf_downloads, self.self_checks


def _shown(n: int) -> int | None:
    return n if n >= SHOWN_FROM else None


def item_uses(items: Iterable[tuple[str, str]], *, first: dt.date, last: dt.date) -> tuple[list[ItemUse], ItemUse]:
    """Per item (key, name) and for all of them together, the counts from ``first`` to ``last`` (days, inclusive).

    The counts are the city's, for everyone: they carry no area (nothing about a reader is kept).
    """
    items = list(items)
    sums: Counter[tuple[str, str]] = Counter()
    rows = (
        PublicityCount.objects.filter(item_key__in=[k for k, _ in items], day__gte=first, day__lte=last)
        .values_list("item_key", "kind")
        .annotate(total=Sum("hits"))
    )
    for key, kind, total in rows:
        sums[(key, kind)] = int(total or 0)

    def use(key: str, name: str, of: list[str]) -> ItemUse:
        def total(kind: PublicityKind) -> int | None:
            return _shown(sum(sums[(k, str(kind))] for k in of))

        return ItemUse(
            key,
            name,
            total(PublicityKind.GUIDE_VIEW),
            total(PublicityKind.PDF_DOWNLOAD),
            total(PublicityKind.SELF_CHECK),
        )

    return [use(k, n, [k]) for k, n in items], use("", "", [k for k, _ in items])
