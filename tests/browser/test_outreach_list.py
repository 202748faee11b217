"""The proactive list on an officer's phone, in real Chromium: from the overview by township to one elder,
her phone revealed (and audited), the call recorded; the filters refresh the list in place (htmx).

axe-core checks every page visited, in standard and in large-text mode, for serious or critical violations.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from fuwu.common.models import AuditLog
from fuwu.eligibility.models import OutreachRecord
from fuwu.homecare import demo
from fuwu.residents import crypto
from fuwu.residents.models import Person
from tests.browser.conftest import axe_serious
from tests.conftest import REPO
from tests.eligibility.stores import stored_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(live_server: Any, tmp_path: Path) -> str:
    """The demo's accounts and elder (given a phone), and a registry screening that finds her."""
    call_command("areas", "load", verbosity=0)
    call_command("standards", "load", str(REPO / "standards"), verbosity=0)
    call_command("demo_accounts", verbosity=0)
    call_command("demo_homecare", verbosity=0)
    elder = Person.objects.get(source_id=demo.DEMO_SOURCE)
    elder.contact_phone_encrypted = crypto.seal_text(crypto.CONTACT_PHONE, "13812345678", row=elder.id_number_hash)
    elder.save(update_fields=["contact_phone_encrypted"])
    answers = [
        (elder.pk, elder.hukou_area, item, "eligible", Decimal("50.00") if item.startswith("hc-") else None)
        for item in ("hc-bathing", "hc-meals", "gb-radio-listening")
    ]
    stored_run(tmp_path / "run", answers, as_of=timezone.localdate())
    return str(live_server.url)


def test_an_officer_works_the_list_on_a_phone(site: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(site + "/accounts/login/")
    page.get_by_label("用户名").fill("officer")
    page.get_by_label("密码").fill("demo-officer-2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()

    page.goto(site + "/proactive/")
    assert "需要逐一联系的项目" in page.locator("main").inner_text()
    assert axe_serious(page) == []
    # Radio is for everyone: it is not among the township's items, only in the closed section below.
    township = page.locator("details.township").first
    assert township.get_attribute("open") is not None  # the only township here is open already
    township.locator("summary").click()  # and closes, and opens, by its summary
    assert township.locator("table").is_hidden()
    township.locator("summary").click()
    township.locator("table").wait_for()
    assert "收听广播" not in township.inner_text()
    assert "助浴服务" in township.inner_text()
    assert axe_serious(page) == []
    township.get_by_role("row", name="助浴服务").get_by_role("link").first.click()
    page.wait_for_load_state()

    # The row as a card: masked name, age, village, masked phone.
    card = page.locator("table.outreach tbody tr").first
    text = card.inner_text()
    age = timezone.localdate().year - Person.objects.get(source_id=demo.DEMO_SOURCE).birth_date.year
    assert "王*" in text
    assert "138****5678" in text
    assert f"{age - 1} 岁" in text or f"{age} 岁" in text
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # nothing sideways
    assert axe_serious(page) == []

    # The full number, on a click that is audited.
    card.get_by_role("button", name="王* 的完整号码").click()
    page.get_by_role("link", name="13812345678").wait_for()
    assert AuditLog.objects.filter(event="person.contact_revealed").count() == 1

    # The call's outcome, saved in place.
    card.get_by_label("联系情况").select_option("contacted")
    card.get_by_label("备注").fill("已电话告知女儿")
    card.get_by_role("button", name="保存").click()
    page.get_by_role("status").filter(has_text="已保存").wait_for()
    assert OutreachRecord.objects.get().status == "contacted"

    # Filters refresh the list in place: nobody is left to contact for bathing.
    page.get_by_label("联系情况", exact=True).first.select_option("pending")
    page.get_by_text("没有符合筛选条件的居民。").wait_for()
    assert "status=pending" in page.url
    page.get_by_label("服务项目").select_option("*")
    page.locator("table.outreach").get_by_text("助餐服务").first.wait_for()
    assert axe_serious(page) == []

    # Large-text mode reads the same.
    page.get_by_test_id("large-mode").click()
    page.wait_for_load_state()
    assert axe_serious(page) == []
    context.close()
