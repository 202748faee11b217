"""Taizhou's county outlines (``data/areas/taizhou-counties.geojson``, ``settings.AREAS_DIR``), read once.

One reader for every map of fuwu: compliance's coverage and institution maps (and its check that an
institution's position lies in its county, and the demo's institutions placed on land), home care's map on
which officers place an elder's home, and the evaluation dashboard's county choropleth. No map tiles, nothing
from the internet (docs/offline-maps.md).

The outlines are a 2018 drawing at about 100 m precision whose datum is not stated; the file's ``source``
member says where they come from and how old they are, and pages that draw them show that. Checks allow a
margin. When the file is missing, ``source`` and ``feature_collection`` give ``None`` and ``counties`` nothing.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

FILE = "taizhou-counties.geojson"
COUNTY_DIGITS = 6  # a county's code is the first six digits of its areas' codes (GB/T 2260)
# About 2 km: more than the outlines' precision and the few hundred metres a GCJ-02 datum would shift them.
MARGIN_DEGREES = 0.02

Ring = list[tuple[float, float]]  # (longitude, latitude)


@dataclass(frozen=True)
class OutlineSource:
    package: str  # e.g. "echarts-china-cities-pypkg 0.0.9 (PyPI, MIT, pyecharts project)"
    dated: str  # the outlines' own date


@dataclass(frozen=True)
class County:
    code: str
    name: str
    centre: tuple[float, float]  # (longitude, latitude)
    rings: tuple[Ring, ...]  # outer rings of its polygons
    bbox: tuple[float, float, float, float]  # west, south, east, north


def path() -> Path:
    return Path(settings.AREAS_DIR) / FILE


@lru_cache(maxsize=1)
def _document() -> dict[str, Any] | None:
    try:
        with path().open(encoding="utf-8") as handle:
            document: dict[str, Any] = json.load(handle)
    except (OSError, ValueError):
        return None
    return document


def source() -> OutlineSource | None:
    """Where the outlines come from, or ``None`` when the file is missing (pages then offer tables only)."""
    document = _document()
    if document is None:
        return None
    about = document.get("source") or {}
    return OutlineSource(str(about.get("package", "")), str(about.get("dated", "")))


def feature_collection(code: str = "") -> dict[str, Any] | None:
    """A FeatureCollection of the county ``code`` (all of Taizhou when it has no outline here)."""
    document = _document()
    if document is None:
        return None
    features = document.get("features", [])
    chosen = [f for f in features if str(f.get("id")) == code] or features
    return {"type": "FeatureCollection", "features": chosen}


@lru_cache(maxsize=1)
def counties() -> dict[str, County]:
    """Every county with an outline, by its six-digit code."""
    document = _document()
    out: dict[str, County] = {}
    for feature in (document or {}).get("features", []):
        props = feature["properties"]
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        rings = tuple([(float(x), float(y)) for x, y in polygon[0]] for polygon in polygons)
        xs = [x for ring in rings for x, _ in ring]
        ys = [y for ring in rings for _, y in ring]
        centre = props.get("centre") or [sum(xs) / len(xs), sum(ys) / len(ys)]
        out[str(props["code"])] = County(
            str(props["code"]), str(props["name"]), (centre[0], centre[1]), rings, (min(xs), min(ys), max(xs), max(ys))
        )
    return out


def _inside(ring: Ring, x: float, y: float) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def contains(code: str, *, latitude: float, longitude: float) -> bool:
    county = counties().get(code)
    return county is not None and any(_inside(ring, longitude, latitude) for ring in county.rings)


def near_county(code: str, *, latitude: float, longitude: float) -> bool:
    """Within the county's bounding box, with a margin for the outlines' precision; True for an unknown county."""
    county = counties().get(code)
    if county is None:
        return True
    west, south, east, north = county.bbox
    m = MARGIN_DEGREES
    return west - m <= longitude <= east + m and south - m <= latitude <= north + m


def random_point(code: str, rng: random.Random) -> tuple[float, float]:
    """A point inside the county's outline, as (latitude, longitude), from ``rng``; its centre if none is found."""
    county = counties()[code]
    west, south, east, north = county.bbox
    # The largest polygon is the mainland; islands are left to the fishermen.
    main = max(county.rings, key=len)
    for _ in range(1000):
        x, y = rng.uniform(west, east), rng.uniform(south, north)
        if _inside(main, x, y):
            return round(y, 6), round(x, 6)
    return county.centre[1], county.centre[0]
