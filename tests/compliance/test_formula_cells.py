"""Compliance's downloads (coverage, an import's error report): typed text that looks like a formula stays text."""

from __future__ import annotations

import csv
import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile

from fuwu.areas.models import Area
from tests.common.formula_cells import HOSTILE, assert_inert_xlsx, body
from tests.compliance.conftest import World
from tests.compliance.test_views import client_for


def test_the_coverage_workbook_neutralises_formulas(world: World) -> None:
    Area.objects.filter(code="331002").update(name_zh=HOSTILE)
    response = client_for(world, None).get("/compliance/coverage.xlsx")
    assert response.status_code == 200
    assert_inert_xlsx(body(response))


def test_the_import_error_report_neutralises_formulas(world: World) -> None:
    client = client_for(world, "officer")
    out = io.StringIO()
    csv.writer(out).writerows([[HOSTILE], ["1"]])
    page = client.post(
        "/compliance/office/institutions/import/", {"file": SimpleUploadedFile("机构.csv", out.getvalue().encode())}
    ).content.decode()
    link = re.search(r'href="(/compliance/office/imports/\d+/errors.xlsx)"', page)
    assert link is not None
    assert_inert_xlsx(body(client.get(link.group(1))))
