"""``{% notice_bell %}``: the header's bell with the logged-in user's unread count."""

from __future__ import annotations

from typing import Any

from django import template

from fuwu.notices.selectors import unread_count

register = template.Library()


@register.inclusion_tag("notices/_bell.html", takes_context=True)
def notice_bell(context: Any) -> dict[str, Any]:
    user = context.get("user")
    return {"unread": unread_count(user=user) if user is not None else 0}
