from __future__ import annotations

from typing import Any

from django import template

from fuwu.guide.guides import text

register = template.Library()


@register.filter
def tr(value: dict[str, str] | None) -> str:
    """A bilingual text from a standard document, in the active language."""
    return text(value)


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if mapping else None
