"""Every spreadsheet download has a test that a hostile value comes out as text, and every module that writes
a workbook or CSV goes through ``fuwu.common.spreadsheets`` (``safe_cell`` / ``safe_row`` / ``stream_*``).

A new download (a URL ending in .xlsx or .csv, or named like an export) without an entry here fails."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

FUWU = Path(__file__).resolve().parents[2] / "fuwu"

# URL name → the test (module, function) that downloads it with a hostile value and checks it is inert.
EXPORTS = {
    "residents:import_errors": (
        "tests.residents.test_import_guard",
        "test_the_error_report_neutralises_a_header_typed_as_a_formula",
    ),
    "proactive:export": ("tests.eligibility.test_formula_cells", "test_the_outreach_export_neutralises_formulas"),
    "proactive:export_csv": ("tests.eligibility.test_formula_cells", "test_the_outreach_export_neutralises_formulas"),
    "homecare:settlement_xlsx": (
        "tests.homecare.test_formula_cells",
        "test_the_settlement_workbook_neutralises_formulas",
    ),
    "compliance:coverage_xlsx": (
        "tests.compliance.test_formula_cells",
        "test_the_coverage_workbook_neutralises_formulas",
    ),
    "compliance:import_errors": (
        "tests.compliance.test_formula_cells",
        "test_the_import_error_report_neutralises_formulas",
    ),
    "grants:finance_export": ("tests.applications.test_grants", "test_the_finance_export_neutralises_formulas"),
    "applications:inbox_export": ("tests.applications.test_export", "test_the_inbox_export_neutralises_formulas"),
    "evaluation:standard_xlsx": (
        "tests.evaluation.test_dashboards",
        "test_the_excel_neutralises_a_name_typed_as_a_formula",
    ),
}


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "", space: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{space}:{p.namespace}" if space and p.namespace else (p.namespace or space)
            yield from _routes(p.url_patterns, prefix + str(p.pattern), inner)
        else:
            yield prefix + str(p.pattern), f"{space}:{p.name}" if space else (p.name or "")


def test_every_download_has_a_hostile_value_test() -> None:
    downloads = {
        name
        for route, name in _routes(get_resolver().url_patterns)
        if re.search(r"\.(xlsx|csv)\$?$|export", route) or re.search(r"xlsx|csv|export", name)
    }
    assert downloads, "the URL conf lists no downloads: the walk is broken"
    missing = downloads - EXPORTS.keys()
    assert not missing, f"downloads without a formula-injection test in EXPORTS: {sorted(missing)}"
    for module, function in EXPORTS.values():
        assert callable(getattr(importlib.import_module(module), function, None)), f"{module}.{function} is gone"


def test_every_module_that_writes_spreadsheets_neutralises_cells() -> None:
    writers = re.compile(r"\bWorkbook\(\)|csv\.writer\(|csv\.DictWriter\(")
    safe = re.compile(r"\bsafe_(cell|row)\b|\bstream_(xlsx|csv)\b")
    unsafe = []
    for path in FUWU.rglob("*.py"):
        if path.name == "spreadsheets.py" and path.parent.name == "common":
            continue
        text = path.read_text(encoding="utf-8")
        if writers.search(text) and not safe.search(text):
            unsafe.append(str(path.relative_to(FUWU)))
    assert not unsafe, f"these write workbooks or CSV without fuwu.common.spreadsheets.safe_cell: {unsafe}"
