"""The evaluation reports kept with a standard's version, for the registry's history page."""

from __future__ import annotations

from typing import Any

from django import template

from fuwu.evaluation import review
from fuwu.evaluation.models import StandardEvaluation

register = template.Library()


@register.simple_tag(takes_context=True)
def evaluation_reports(context: template.Context, version: Any) -> list[StandardEvaluation]:
    """The version's evaluations, newest first, if the reader may read them; otherwise none."""
    request = context.get("request")
    if request is None or not review.can_read(request.user):
        return []
    return review.evaluations_of(version)
