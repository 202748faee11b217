"""The settlement workbook: a provider's name typed as a formula comes out as text (OWASP CSV injection)."""

from __future__ import annotations

from fuwu.homecare.models import Provider
from fuwu.homecare.settlement import settlement_generate
from tests.common.formula_cells import HOSTILE, assert_inert_xlsx, body
from tests.homecare.conftest import World
from tests.homecare.test_settlement import AFTER, MONTH, Month
from tests.homecare.test_views_reports import client_for, month  # noqa: F401 - month is a fixture


def test_the_settlement_workbook_neutralises_formulas(world: World, month: Month) -> None:  # noqa: F811
    Provider.objects.filter(pk=world.provider.pk).update(name=HOSTILE)
    world.provider.refresh_from_db()
    settlement = settlement_generate(actor=world.officer, provider=world.provider, month=MONTH, now=AFTER)
    response = client_for(world.officer).get(f"/homecare/reports/settlements/{settlement.pk}.xlsx")
    assert response.status_code == 200
    assert_inert_xlsx(body(response))
