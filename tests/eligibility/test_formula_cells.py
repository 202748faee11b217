"""The proactive list's downloads: a note or a name typed as a formula comes out as text (OWASP CSV injection)."""

from __future__ import annotations

import pytest

from fuwu.eligibility.models import OutreachRecord, ScreeningRun
from fuwu.residents.models import Person
from tests.common.formula_cells import HOSTILE, assert_inert_csv, assert_inert_xlsx, body
from tests.eligibility.test_proactive import areas, client_for, officer, people, run, standard  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_the_outreach_export_neutralises_formulas(run: ScreeningRun, people: dict[str, Person], suffix: str) -> None:  # noqa: F811
    OutreachRecord.objects.create(
        run=run, person_id=people["wang"].pk, item="test-visit", status="contacted", note=HOSTILE
    )
    data = body(client_for(officer()).get(f"/proactive/{run.pk}/export.{suffix}"))
    (assert_inert_xlsx if suffix == "xlsx" else assert_inert_csv)(data)
