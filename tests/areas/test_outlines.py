"""The one reader of Taizhou's county outlines, used by compliance, home care and evaluation."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from fuwu.areas import outlines

COUNTY_CODES = {"331002", "331003", "331004", "331022", "331023", "331024", "331081", "331082", "331083"}


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    outlines._document.cache_clear()
    outlines.counties.cache_clear()
    yield
    outlines._document.cache_clear()
    outlines.counties.cache_clear()


def test_the_nine_counties_with_their_source() -> None:
    assert set(outlines.counties()) == COUNTY_CODES
    about = outlines.source()
    assert about is not None
    assert "echarts-china-cities-pypkg" in about.package
    assert about.dated == "2018-02-09"
    one = outlines.feature_collection("331002")
    assert one is not None
    assert [f["id"] for f in one["features"]] == ["331002"]
    everything = outlines.feature_collection("")
    assert everything is not None
    assert len(everything["features"]) == 9


def test_positions_are_checked_against_the_outline() -> None:
    jiaojiang = outlines.counties()["331002"]
    latitude, longitude = outlines.random_point("331002", random.Random(1))
    assert outlines.contains("331002", latitude=latitude, longitude=longitude)
    assert not outlines.contains("331024", latitude=latitude, longitude=longitude)
    assert outlines.near_county("331002", latitude=jiaojiang.centre[1], longitude=jiaojiang.centre[0])
    assert not outlines.near_county("331024", latitude=jiaojiang.centre[1], longitude=jiaojiang.centre[0] + 1)
    assert outlines.near_county("999999", latitude=0, longitude=0)  # unknown county: nothing to check against


def test_a_missing_file_leaves_tables_only(tmp_path: Path) -> None:
    with override_settings(AREAS_DIR=tmp_path):
        outlines._document.cache_clear()
        outlines.counties.cache_clear()
        assert outlines.source() is None
        assert outlines.feature_collection("331002") is None
        assert outlines.counties() == {}
