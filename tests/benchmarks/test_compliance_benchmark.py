"""The compliance benchmark builds what it says and measures the real functions (no timing asserted here)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from benchmarks.compliance import build, measure, synthetic_standard
from fuwu.compliance.coverage import rollup, standards_with_kinds
from fuwu.standards.parsing import parse_standard_text


def test_a_synthetic_standard_is_a_valid_one() -> None:
    document, _lines = parse_standard_text(
        synthetic_standard(3, [("bench-kind-03-0", "village"), ("bench-kind-03-1", "county")]), name="bench.yaml"
    )
    assert [k.level for k in document.institution_kinds] == ["village", "county"]
    assert sum(1 for c in document.clauses[1].children if c.assessment) == 30


@pytest.mark.django_db
def test_the_benchmark_builds_a_city_and_measures_it(tmp_path: Path) -> None:
    sizes = build(argparse.Namespace(villages=200, standards=6, institutions=500, seed=1), tmp_path)
    assert (sizes["villages"], sizes["townships"], sizes["institutions"]) == (200, 20, 500)
    assert len(standards_with_kinds()) == 6
    result = measure(1)
    assert result["kinds"] >= 6
    assert result["checklist_items"] > 0
    city = next(c for c in rollup(standards_with_kinds()) if c.key.startswith("bench-")).city
    assert city is not None
    assert city.institutions > 0
