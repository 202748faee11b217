"""A standard's dashboard for one area and month, as the page, its Excel and its PDF all show it.

The page's filters (area, month, indicator) are read once here; the page draws the numbers as charts with a
table behind each, the workbook lists them (area, period, numerator, denominator, value, target), the PDF prints
them with static SVG charts. Scoped to the reader's area by the selectors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fuwu.areas.models import Area
from fuwu.areas.selectors import area_names
from fuwu.common.params import ParamError, parse_month
from fuwu.evaluation import selectors
from fuwu.standards.models import StandardVersion


class NotFound(Exception):
    """No such standard, or an area that does not exist or is outside the reader's (as absent as each other)."""


@dataclass
class Dashboard:
    version: StandardVersion
    area: Area
    root: Area
    crumbs: list[Area]
    month: dt.date | None
    bad_month: bool
    cards: list[selectors.Card] = field(default_factory=list)
    uncomputed: list[selectors.Uncomputed] = field(default_factory=list)
    chosen: selectors.Card | None = None
    children: list[selectors.ChildValue] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    def name(self, area: Area) -> str:
        return self.names.get(area.code, area.name_zh)

    def filters(self) -> dict[str, str]:
        """The page's filters besides its area, as query parameters (for the downloads' links)."""
        out: dict[str, str] = {}
        if self.month is not None:
            out["month"] = f"{self.month:%Y-%m}"
        if self.chosen is not None:
            out["indicator"] = self.chosen.indicator.key
        return out


def _month(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return parse_month(text)
    except ParamError:
        return None


def dashboard_for(user: Any, *, key: str, area_code: str | None, month: str | None, indicator: str | None) -> Dashboard:
    """The dashboard of standard ``key`` in ``area_code`` (the reader's own area without one).

    A month that is not ``YYYY-MM`` falls back to the latest month with data (``bad_month`` says so); an unknown
    indicator to the first. Raises ``NotFound`` for an unknown standard and for an area outside the reader's.
    """
    try:
        version = selectors.version_for(key)
        area = selectors.area_for_user(user, area_code)
    except (StandardVersion.DoesNotExist, Area.DoesNotExist, PermissionDenied) as exc:
        raise NotFound(key) from exc
    root = selectors.root_area(user)
    asked = _month(month)
    shown = asked or selectors.latest_month(version, area)
    crumbs = selectors.breadcrumbs(area, root)
    board = Dashboard(version, area, root, crumbs, shown, bad_month=bool(month) and asked is None)
    if shown is not None:
        board.cards, board.uncomputed = selectors.cards(version, area, shown)
        board.chosen = next(
            (c for c in board.cards if c.indicator.key == indicator), board.cards[0] if board.cards else None
        )
        if board.chosen is not None:
            board.children = selectors.children_values(board.chosen.indicator, area, shown)
    else:
        # No computed values yet: the indicators entered by hand still show.
        board.uncomputed = selectors.cards(version, area, timezone.localdate().replace(day=1))[1]
    board.names = area_names([a.code for a in crumbs] + [c.area.code for c in board.children])
    return board


def value_of(point: selectors.Point | None) -> Decimal | None:
    """A point's value, or ``None`` when it has no denominator (nothing to divide: no data)."""
    return point.value if point is not None and point.denominator else None
