from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
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


def area_names(codes: Iterable[str], *, language: str | None = None) -> dict[str, str]:
    """Names of the areas with these codes, in the page's language or ``language`` (Chinese without an English name)."""
    english = (language or get_language() or "").startswith("en")
    return {
        code: (en if english and en else zh)
        for code, zh, en in Area.objects.filter(code__in=set(codes)).values_list("code", "name_zh", "name_en")
    }
