from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.translation import get_language

from fuwu.areas.models import Area


def areas(*, parent_code: str | None = None, level: str | None = None) -> QuerySet[Area]:
    qs = Area.objects.select_related("parent")
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    if level:
        qs = qs.filter(level=level)
    return qs


def area_by_code(code: str) -> Area:
    return Area.objects.select_related("parent").get(code=code)


def descendant_codes_prefix(area: Area) -> str:
    """Codes below an area share its meaningful prefix (a city's drops its trailing zeros)."""
    return area.code[:4] if area.level == "city" else area.code


def code_within(field: str, prefix: str) -> Q:
    """Rows whose area code ``field`` starts with ``prefix``, also as a range that an index on ``field`` can seek to.

    ``startswith`` is SQL's ``LIKE 'prefix%'``, which PostgreSQL answers from a B-tree index only under the "C"
    collation. Under the database's own (here ``C.UTF-8``), a county officer's proactive list scanned a whole run's
    candidates to reach the county's: 6.9 s at 6.6 million persons, where the range takes 0.1 ms
    (docs/benchmarks.md). Area codes are digits, which every collation orders as their characters, so the codes
    starting with ``331083`` are those from ``331083`` up to, not including, ``331084``. The ``startswith`` stays
    beside the range, so the answer is exact in any collation.
    """
    within = Q(**{f"{field}__startswith": prefix})
    if not (prefix.isascii() and prefix.isdigit()):
        return within
    within &= Q(**{f"{field}__gte": prefix})
    following = str(int(prefix) + 1).zfill(len(prefix))
    if len(following) > len(prefix):  # all nines: no code of this length follows
        return within
    return within & Q(**{f"{field}__lt": following})


def area_names(codes: Iterable[str], *, language: str | None = None) -> dict[str, str]:
    """Names of the areas with these codes, in the page's language or ``language`` (Chinese without an English name)."""
    english = (language or get_language() or "").startswith("en")
    return {
        code: (en if english and en else zh)
        for code, zh, en in Area.objects.filter(code__in=set(codes)).values_list("code", "name_zh", "name_en")
    }
