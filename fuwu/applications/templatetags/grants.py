"""``{% grant_line application %}``: the approved application's grant on its detail page (one line)."""

from __future__ import annotations

from typing import Any

from django import template

from fuwu.applications.models import Grant

register = template.Library()


@register.inclusion_tag("applications/_grant.html")
def grant_line(application: Any) -> dict[str, Any]:
    return {"grant": Grant.objects.filter(application_id=application.pk).first()}
