"""Home care end to end in real Chromium, with the demo accounts, as issue 4 asks:

an officer screens the registry (a background job, followed on its page) → the elder of 82 becomes
entitled (account opened, home located) → her daughter books a bath → the provider accepts and plans the
day → the caregiver checks in and out on a phone, with the phone's location, and takes the daughter's
confirmation code → the daughter rates the visit → the month settles and reconciles to the fen.

axe-core checks every page visited for serious or critical violations.

The home-care pages read the time through ``local_now``; the test moves that clock through the journey
(booking the day before the visit, the visit itself, then the first days of the next month for the
settlement) so it runs the same whatever day the suite runs on. Eligibility is screened on the real date.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from fuwu.homecare import demo
from fuwu.homecare.models import AccountMonth, EntitlementAccount, Order, OrderStatus, Settlement
from fuwu.jobs.worker import run_queue
from tests.browser.conftest import axe_serious
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORDS = {
    "officer": "demo-officer-2026",
    "family": "demo-family-2026",
    "provider": "demo-provider-2026",
    "caregiver": "demo-caregiver-2026",
}
# The elder's home, and where the caregiver's phone says it is at the door (about 30 m away).
HOME = (Decimal("28.656000"), Decimal("121.420000"))
AT_THE_DOOR = {"latitude": 28.65625, "longitude": 121.42015}


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, day: dt.date, hour: int, minute: int = 0) -> None:
        self.now = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One clock for every home-care module that reads the time (they import ``local_now`` by name)."""
    clock = Clock(timezone.localtime())
    import_module(settings.ROOT_URLCONF)  # imports every view, and through them every home-care module
    for name, module in list(sys.modules.items()):
        if name.startswith("fuwu.homecare") and hasattr(module, "local_now"):
            monkeypatch.setattr(module, "local_now", clock)
    return clock


@pytest.fixture
def site(live_server: Any) -> str:
    # What `make demo` sets up, less the synthetic population (the journey needs only the demo elder).
    call_command("areas", "load", verbosity=0)
    call_command("standards", "load", str(REPO / "standards"), verbosity=0)
    call_command("demo_accounts", verbosity=0)
    call_command("demo_homecare", verbosity=0)
    return str(live_server.url)


def log_in(page: Any, site: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(site + "/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORDS[username])
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def accessible(page: Any) -> None:
    assert axe_serious(page) == [], page.url


def test_home_care_from_screening_to_settlement(site: str, browser: Any, clock: Clock) -> None:
    today = timezone.localdate()
    visit_day = today + dt.timedelta(days=1)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()

    # 1. The officer screens the registry.
    clock.set(today, 8)
    log_in(page, site, "officer")
    page.get_by_role("link", name="主动服务名单").click()
    page.wait_for_url("**/proactive/screen/")  # nothing screened yet: the list starts here
    accessible(page)
    page.get_by_role("button", name="筛查户籍登记人员").click()
    # The screening is a background job: its page waits for the worker, which runs here, in this process.
    page.wait_for_url("**/jobs/*/")
    accessible(page)
    assert run_queue() == 1
    page.get_by_text("户籍登记人员筛查完成").wait_for()  # htmx polled the job's panel
    accessible(page)
    page.get_by_role("link", name="查看主动服务名单").click()
    page.wait_for_url("**/proactive/*/")
    accessible(page)

    # 2. The elder of 82 becomes entitled: the officer opens accounts from that screening and locates her home.
    page.get_by_role("link", name="居家养老服务").click()
    accessible(page)
    page.goto(site + "/homecare/office/accounts/")
    page.locator("input[name=run]").first.check()
    page.get_by_test_id("open-accounts").click()
    page.wait_for_load_state()
    assert "王秀英" in page.locator("main").inner_text()
    accessible(page)
    page.get_by_role("link", name="王秀英").click()
    page.get_by_role("textbox", name="住址").fill("海门街道演示小区 3 幢 101 室")
    page.get_by_role("textbox", name="纬度").fill(str(HOME[0]))
    page.get_by_role("textbox", name="经度").fill(str(HOME[1]))
    page.get_by_role("button", name="保存住址").click()
    page.wait_for_load_state()
    accessible(page)
    account = EntitlementAccount.objects.get(person__source_id=demo.DEMO_SOURCE)
    assert account.monthly_allowance > 0
    assert "hc-bathing" in account.items

    # 3. Her daughter books a bath for tomorrow morning.
    log_in(page, site, "family")
    page.get_by_role("link", name="居家养老上门服务").click()
    accessible(page)
    page.get_by_role("link", name="为王秀英预约上门服务").click()
    page.get_by_label("助浴服务", exact=False).check()
    page.get_by_label("服务日期").fill(visit_day.isoformat())
    page.get_by_label("最早几点可以上门").fill("09:00")
    page.get_by_label("最晚几点要服务完").fill("12:00")
    accessible(page)
    page.get_by_role("button", name="提交预约").click()
    page.wait_for_url("**/homecare/orders/*/")
    assert "预约已提交" in page.locator("main").inner_text()
    accessible(page)
    order = Order.objects.get(account=account)
    assert order.status == OrderStatus.REQUESTED
    month = AccountMonth.objects.get(pk=order.account_month_id)
    assert month.held == order.subsidy > 0

    # 4. The provider accepts and plans tomorrow.
    clock.set(today, 9)
    log_in(page, site, "provider")
    page.get_by_role("link", name="居家养老服务").click()
    accessible(page)
    page.get_by_role("button", name=f"受理 工单 {order.pk}", exact=True).click()
    page.wait_for_load_state()
    clock.set(today, 10)
    page.goto(f"{site}/homecare/office/plan/?day={visit_day.isoformat()}")
    page.get_by_test_id("dispatch").click()
    page.wait_for_load_state()
    accessible(page)
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED
    assert order.caregiver is not None
    assert order.caregiver.user is not None
    assert order.caregiver.user.username == "caregiver"

    # The daughter's page now shows the code she will read to the caregiver.
    log_in(page, site, "family")
    page.goto(f"{site}/homecare/orders/{order.pk}/")
    code = page.get_by_test_id("confirmation-code").inner_text().strip()
    assert code == order.confirmation_code
    accessible(page)

    # 5. The caregiver, on a phone that shares its location, checks in and out.
    phone = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation=AT_THE_DOOR,
        permissions=["geolocation"],
    )
    mobile = phone.new_page()
    clock.set(visit_day, 9, 40)
    log_in(mobile, site, "caregiver")
    mobile.get_by_role("link", name="我的上门服务").click()
    accessible(mobile)
    mobile.get_by_role("link", name="助浴服务").click()
    accessible(mobile)
    checkin = mobile.locator("form[action$='/check-in/']")
    checkin.get_by_role("button", name="用手机定位填写经纬度").click()
    mobile.wait_for_function("document.querySelector(\"form[action$='/check-in/'] input[name=latitude]\").value !== ''")
    checkin.get_by_role("button", name="签到，开始服务").click()
    mobile.wait_for_load_state()
    assert "在范围内" in mobile.get_by_test_id("checkin-flag").inner_text()
    accessible(mobile)
    clock.set(visit_day, 10, 50)
    checkout = mobile.locator("form[action$='/check-out/']")
    checkout.get_by_label("已完成的服务内容").fill("协助洗浴\n更换衣物\n检查皮肤")
    checkout.get_by_role("button", name="用手机定位填写经纬度").click()
    mobile.wait_for_function(
        "document.querySelector(\"form[action$='/check-out/'] input[name=latitude]\").value !== ''"
    )
    checkout.get_by_role("button", name="签退，结束服务").click()
    mobile.wait_for_load_state()
    mobile.get_by_role("textbox", name="确认码").fill(code)
    mobile.get_by_role("button", name="提交确认码").click()
    mobile.wait_for_load_state()
    accessible(mobile)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.confirmed_at is not None
    assert order.checkin_distance_m is not None
    assert order.checkin_distance_m < 100
    assert not order.checkin_flagged
    month.refresh_from_db()
    assert (month.held, month.spent) == (Decimal(0), order.subsidy)
    phone.close()

    # 6. The daughter rates the visit.
    clock.set(visit_day, 18)
    page.goto(f"{site}/homecare/orders/{order.pk}/")
    page.get_by_label("5 星：非常满意").check()
    page.get_by_label("想说的话（可不填）").fill("护理员很耐心。")
    accessible(page)
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_load_state()
    accessible(page)
    order.refresh_from_db()
    assert order.status == OrderStatus.RATED

    # 7. The month settles: after it ends, the officer generates and confirms the provider's settlement.
    next_month = (visit_day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    clock.set(next_month + dt.timedelta(days=1), 10)
    log_in(page, site, "officer")
    page.goto(f"{site}/homecare/reports/settlements/?month={visit_day:%Y-%m}")
    accessible(page)
    page.get_by_role("button", name="生成结算单").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="确认结算").click()
    page.wait_for_url("**/homecare/reports/settlements/*/")
    assert page.get_by_test_id("status").inner_text() == "已确认"
    accessible(page)
    settlement = Settlement.objects.get(provider=order.provider, month=visit_day.replace(day=1))
    assert settlement.status == "confirmed"
    assert (settlement.visits, settlement.net) == (1, order.price)
    # What the elders' accounts spent equals what the provider is paid, to the fen.
    page.goto(f"{site}/homecare/reports/settlements/?month={visit_day:%Y-%m}")
    assert page.get_by_test_id("reconciled").is_visible()
    accessible(page)
    page.get_by_role("link", name=order.provider.name).click()
    page.wait_for_url("**/homecare/reports/settlements/*/")
    xlsx = page.request.get(f"{site}/homecare/reports/settlements/{settlement.pk}.xlsx")
    assert xlsx.ok
    pdf = page.request.get(f"{site}/homecare/reports/settlements/{settlement.pk}.pdf")
    assert pdf.body().startswith(b"%PDF")
    # The elder's monthly statement, as her daughter sees it.
    log_in(page, site, "family")
    page.goto(f"{site}/homecare/reports/statement/{account.pk}/{visit_day:%Y-%m}/")
    spent = page.get_by_role("row", name="已使用（元）").inner_text()
    assert f"{order.subsidy:.2f}" in spent
    assert "助浴服务" in page.locator("main").inner_text()
    accessible(page)
    context.close()
