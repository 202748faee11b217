"""The institutions import page meets the same spreadsheet guard as the resident import: a zip bomb, XXE or
billion-laughs workbook is a message on the page, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fuwu.compliance.models import Institution
from tests.common import hostile_sheets
from tests.compliance.conftest import World
from tests.compliance.test_views import client_for


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (hostile_sheets.zip_bomb, "解压后过大"),
        (hostile_sheets.xxe, "文档类型定义"),
        (hostile_sheets.billion_laughs, "文档类型定义"),
    ],
    ids=["zip-bomb", "xxe", "billion-laughs"],
)
def test_a_hostile_workbook_is_a_message_on_the_import_page(
    world: World, make: Callable[[], bytes], message: str
) -> None:
    before = Institution.objects.count()
    response = client_for(world, "officer").post(
        "/compliance/office/institutions/import/", {"file": SimpleUploadedFile("机构.xlsx", make())}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Institution.objects.count() == before
