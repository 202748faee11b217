"""``{% rating_panel %}``: the rating given, or the form to give it, on the application's page."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("applications/_rating.html", takes_context=True)
def rating_panel(context: Any) -> dict[str, Any]:
    from fuwu.applications.views_ratings import rating_context

    return rating_context(context["request"].user, context["application"])
