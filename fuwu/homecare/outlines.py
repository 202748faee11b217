"""Taizhou's county outlines for the map on which officers place an elder's home.

Read from ``data/areas/taizhou-counties.geojson`` (``settings.AREAS_DIR``), whose ``source`` member says where
the outlines come from, how old they are and how far to trust them; pages show that. Served from fuwu
itself: no map tiles, no network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings

FILE = "taizhou-counties.geojson"
COUNTY_DIGITS = 6


@dataclass(frozen=True)
class OutlineSource:
    package: str  # e.g. "echarts-china-cities-pypkg 0.0.9 (PyPI, MIT, pyecharts project)"
    dated: str  # the outlines' own date


@lru_cache(maxsize=1)
def _document() -> dict[str, Any] | None:
    try:
        with (settings.AREAS_DIR / FILE).open(encoding="utf-8") as handle:
            document: dict[str, Any] = json.load(handle)
    except (OSError, ValueError):
        return None
    return document


def source() -> OutlineSource | None:
    """Where the outlines come from, or ``None`` when the file is missing (the page then offers typing only)."""
    document = _document()
    if document is None:
        return None
    about = document.get("source") or {}
    return OutlineSource(str(about.get("package", "")), str(about.get("dated", "")))


def counties(code: str) -> dict[str, Any] | None:
    """A FeatureCollection of the county ``code`` (all of Taizhou when it has no outline here)."""
    document = _document()
    if document is None:
        return None
    features = document.get("features", [])
    chosen = [f for f in features if str(f.get("id")) == code] or features
    return {"type": "FeatureCollection", "features": chosen}
