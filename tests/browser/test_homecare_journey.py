"""Home care end to end in real Chromium, with the demo accounts, as issues 4 and 8 ask:

an officer screens the registry (a background job, followed on its page) → the elder of 82 becomes entitled
(account opened, home placed on the county map, with the mouse and then the keyboard) → her daughter books a
bath and a cleaning → the provider accepts and plans the day (the plan opens on it), and the bath gets two
caregivers → both check in on their phones, with the phones' location, and the lead takes the daughter's code
→ the cleaning is cut short: the caregiver must say why, the visit is flagged, and the daughter sees its real
duration and price before she confirms → the officer takes a located check-in as the home's position → the
month settles with the short visit deducted, its reason on the statement, and still reconciles to the fen.

axe-core checks every page visited for serious or critical violations.

The home-care pages read the time through ``local_now``; the test moves that clock through the journey
(booking the day before the visits, the visits themselves, then the first days of the next month for the
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
from playwright.sync_api import expect

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
    "caregiver2": "demo-caregiver2-2026",
}
# Where the caregivers' phones say they are at the door: this far from the home placed on the map (about 30 m).
AT_THE_DOOR = (Decimal("0.00025"), Decimal("0.00015"))


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, day: dt.date, hour: int, minute: int = 0) -> None:
        self.now = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())

    def after(self, moment: dt.datetime, minutes: int) -> None:
        self.now = moment + dt.timedelta(minutes=minutes)


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


def phone(browser: Any, where: tuple[Decimal, Decimal]) -> Any:
    """A caregiver's phone that shares its location: ``where`` plus the few metres of AT_THE_DOOR."""
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation={
            "latitude": float(where[0] + AT_THE_DOOR[0]),
            "longitude": float(where[1] + AT_THE_DOOR[1]),
        },
        permissions=["geolocation"],
    )
    return context.new_page()


def locate(mobile: Any, form: Any, action: str) -> None:
    """Fill ``form``'s coordinates from the phone, as the caregiver does with the button."""
    form.get_by_role("button", name="用手机定位填写经纬度").click()
    expect(mobile.locator(f"form[action$='/{action}/'] input[name=located]")).to_have_value("device")


def open_visit(mobile: Any, site: str, username: str, project: str) -> None:
    log_in(mobile, site, username)
    mobile.get_by_role("link", name="我的上门服务").click()
    accessible(mobile)
    mobile.get_by_role("link", name=project).click()
    accessible(mobile)


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

    # 2. The elder of 82 becomes entitled: the officer opens accounts from that screening and places her home
    #    on the county's map (a click, then one step north with the keyboard), with the address typed.
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
    assert "echarts-china-cities-pypkg" in page.locator("#map-source").inner_text()
    map_ = page.get_by_role("application", name="老人住处地图", exact=False)
    page.locator(".hc-map-canvas canvas").first.wait_for(state="attached")  # no eval under the CSP
    # She clicks where the home is: the pixel the map draws 28.656 N, 121.42 E at (read from the chart).
    pixel = page.evaluate(
        "([lon, lat]) => echarts.getInstanceByDom(document.querySelector('.hc-map-canvas'))"
        ".convertToPixel({geoIndex: 0}, [lon, lat])",
        [121.42, 28.656],
    )
    map_.click(position={"x": pixel[0], "y": pixel[1]})
    expect(page.locator("input[name=latitude]")).not_to_have_value("")
    assert page.locator("input[name=source]").input_value() == "map"
    clicked = Decimal(page.get_by_role("textbox", name="纬度", exact=True).input_value())
    assert abs(clicked - Decimal("28.656")) < Decimal("0.01")  # a click is as good as a pixel
    map_.focus()
    page.keyboard.press("ArrowUp")
    assert Decimal(page.get_by_role("textbox", name="纬度", exact=True).input_value()) == clicked + Decimal("0.001")
    assert "已在地图上选定" in page.locator("[data-map-status]").inner_text()
    accessible(page)
    page.get_by_role("button", name="保存住址").click()
    page.wait_for_load_state()
    assert "住址和定位已保存" in page.locator("main").inner_text()
    accessible(page)
    account = EntitlementAccount.objects.get(person__source_id=demo.DEMO_SOURCE)
    assert account.monthly_allowance > 0
    assert {"hc-bathing", "hc-cleaning"} <= set(account.items)
    assert (account.location_source, account.latitude) == ("map", clicked + Decimal("0.001"))
    assert account.longitude is not None
    home = (account.latitude, account.longitude)

    # 3. Her daughter books a bath (two caregivers, at least an hour) and a cleaning (at least two hours).
    log_in(page, site, "family")
    page.get_by_role("link", name="居家养老上门服务").click()
    accessible(page)
    for project, start, end in (("助浴服务", "09:00", "12:00"), ("助洁服务", "13:00", "16:00")):
        page.get_by_role("link", name="为王秀英预约上门服务").click()
        page.get_by_label(project, exact=False).check()
        page.get_by_label("服务日期").fill(visit_day.isoformat())
        page.get_by_label("最早几点可以上门").fill(start)
        page.get_by_label("最晚几点要服务完").fill(end)
        accessible(page)
        page.get_by_role("button", name="提交预约").click()
        page.wait_for_url("**/homecare/orders/*/")
        assert "预约已提交" in page.locator("main").inner_text()
        accessible(page)
        page.get_by_role("link", name="居家养老上门服务").first.click()
    bath = Order.objects.get(account=account, item="hc-bathing")
    cleaning = Order.objects.get(account=account, item="hc-cleaning")
    month = AccountMonth.objects.get(pk=bath.account_month_id)
    assert month.held == bath.subsidy + cleaning.subsidy == Decimal("160.00")

    # 4. The provider accepts both and plans: the plan opens on tomorrow, the day with work.
    clock.set(today, 9)
    log_in(page, site, "provider")
    page.get_by_role("link", name="居家养老服务").click()
    accessible(page)
    for order in (bath, cleaning):
        page.get_by_role("button", name=f"受理 工单 {order.pk}", exact=True).click()
        page.wait_for_load_state()
    clock.set(today, 10)
    page.get_by_role("link", name="派单计划").click()
    assert "今天没有要安排的工单" in page.locator("main").inner_text()
    assert page.get_by_label("日期", exact=True).input_value() == visit_day.isoformat()
    accessible(page)
    page.get_by_test_id("dispatch").click()
    page.wait_for_load_state()
    assert "2 单中安排了 2 单" in page.locator("main").inner_text()
    crews = " ".join(page.get_by_test_id(f"crew-{bath.pk}").all_inner_texts())
    assert "两人服务，搭档" in crews  # on the lead's route
    assert "的搭档" in crews  # and on the partner's
    accessible(page)
    for order in (bath, cleaning):
        order.refresh_from_db()
        assert order.status == OrderStatus.SCHEDULED
    assert bath.caregiver is not None
    assert bath.caregiver.user is not None
    assert bath.planned_start is not None
    crew = [bath.caregiver.user.username, *(p.caregiver.user.username for p in bath.partners.all() if p.caregiver.user)]
    assert sorted(crew) == ["caregiver", "caregiver2"]
    lead, partner = crew

    # The daughter's page now shows the code she will read to the caregiver who leads the bath.
    log_in(page, site, "family")
    page.goto(f"{site}/homecare/orders/{bath.pk}/")
    code = page.get_by_test_id("confirmation-code").inner_text().strip()
    assert code == bath.confirmation_code
    accessible(page)

    # 5. Both caregivers check in for the bath on their phones: the partner first, then the lead; it starts then.
    agreed = timezone.localtime(bath.planned_start)
    second = phone(browser, home)
    clock.after(agreed, 2)
    open_visit(second, site, partner, "助浴服务")
    checkin = second.locator("form[action$='/check-in/']")
    locate(second, checkin, "check-in")
    checkin.get_by_role("button", name="签到", exact=True).click()
    second.wait_for_load_state()
    assert "我的签到时间" in second.locator("main").inner_text()
    accessible(second)
    first = phone(browser, home)
    clock.after(agreed, 4)
    open_visit(first, site, lead, "助浴服务")
    checkin = first.locator("form[action$='/check-in/']")
    locate(first, checkin, "check-in")
    checkin.get_by_role("button", name="签到", exact=True).click()
    first.wait_for_load_state()
    assert "已签到，开始服务" in first.locator("main").inner_text()
    assert "在范围内" in first.get_by_test_id("checkin-flag").inner_text()
    accessible(first)
    bath.refresh_from_db()
    assert bath.started_at == agreed + dt.timedelta(minutes=4)
    clock.after(agreed, 75)
    first.reload()
    checkout = first.locator("form[action$='/check-out/']")
    checkout.get_by_label("已完成的服务内容").fill("协助洗浴\n更换衣物\n检查皮肤")
    locate(first, checkout, "check-out")
    checkout.get_by_role("button", name="签退，结束服务").click()
    first.wait_for_load_state()
    assert "已签退，实际服务 71 分钟" in first.locator("main").inner_text()
    first.get_by_role("textbox", name="确认码").fill(code)
    first.get_by_role("button", name="提交确认码").click()
    first.wait_for_load_state()
    accessible(first)
    bath.refresh_from_db()
    assert (bath.status, bath.flags, bath.payable) == (OrderStatus.COMPLETED, [], Decimal("80.00"))
    assert bath.confirmed_at is not None
    assert bath.checkin_distance_m is not None
    assert bath.checkin_distance_m < 100
    first.context.close()
    second.context.close()

    # 6. The cleaning is cut short: the caregiver must say why; the visit is flagged short.
    assert cleaning.caregiver is not None
    assert cleaning.caregiver.user is not None
    assert cleaning.planned_start is not None
    agreed = timezone.localtime(cleaning.planned_start)
    mobile = phone(browser, home)
    clock.after(agreed, 0)
    open_visit(mobile, site, cleaning.caregiver.user.username, "助洁服务")
    checkin = mobile.locator("form[action$='/check-in/']")
    locate(mobile, checkin, "check-in")
    checkin.get_by_role("button", name="签到，开始服务").click()
    mobile.wait_for_load_state()
    clock.after(agreed, 45)
    mobile.reload()
    assert "已服务 45 分钟" in mobile.get_by_test_id("served-so-far").inner_text()
    checkout = mobile.locator("form[action$='/check-out/']")
    checkout.get_by_label("已完成的服务内容").fill("打扫客厅")
    locate(mobile, checkout, "check-out")
    checkout.get_by_role("button", name="签退，结束服务").click()
    mobile.wait_for_load_state()
    assert "少于这个项目至少 120 分钟的要求" in mobile.locator("main").inner_text()
    accessible(mobile)
    checkout = mobile.locator("form[action$='/check-out/']")
    checkout.get_by_label("提前结束的原因").fill("老人身体不适，要求停止")
    locate(mobile, checkout, "check-out")
    checkout.get_by_role("button", name="签退，结束服务").click()
    mobile.wait_for_load_state()
    assert "已签退，实际服务 45 分钟" in mobile.locator("main").inner_text()
    assert "实际服务 45 分钟，少于约定的至少 120 分钟" in mobile.get_by_test_id("visit-flags").inner_text()
    accessible(mobile)
    mobile.context.close()
    cleaning.refresh_from_db()
    assert (cleaning.visit_minutes, cleaning.payable) == (45, Decimal("30.00"))

    # 7. The daughter sees the real duration and price before she confirms, and rates the bath.
    clock.set(visit_day, 18)
    page.goto(f"{site}/homecare/orders/{cleaning.pk}/")
    assert page.get_by_test_id("visit-minutes").inner_text().startswith("45 分钟")
    assert "实际服务 45 分钟，少于约定的至少 120 分钟" in page.get_by_test_id("visit-flags").inner_text()
    assert "本次支付 30.00 元（原价 80.00 元）" in page.get_by_test_id("visit-outcome").inner_text()
    assert "这次实际服务 45 分钟" in page.get_by_test_id("confirm-minutes").inner_text()
    accessible(page)
    page.get_by_role("button", name="确认服务已完成").click()
    page.wait_for_load_state()
    accessible(page)
    month.refresh_from_db()
    assert (month.held, month.spent) == (Decimal("0.00"), Decimal("110.00"))
    page.goto(f"{site}/homecare/orders/{bath.pk}/")
    page.get_by_label("5 星：非常满意").check()
    page.get_by_label("想说的话（可不填）").fill("两位护理员很耐心。")
    accessible(page)
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_load_state()
    accessible(page)
    bath.refresh_from_db()
    assert bath.status == OrderStatus.RATED

    # 8. The officer takes a caregiver's located check-in as the home's position; nothing waits for review.
    log_in(page, site, "officer")
    page.goto(f"{site}/homecare/office/accounts/{account.pk}/")
    assert "护理员签到时的定位" in page.get_by_test_id("location-proposal").inner_text()
    accessible(page)
    page.get_by_role("button", name="采用这个位置").click()
    page.wait_for_load_state()
    account.refresh_from_db()
    assert account.location_source == "checkin"
    assert account.latitude == home[0] + AT_THE_DOOR[0]
    page.get_by_role("link", name="异常服务核查").first.click()
    assert page.get_by_test_id("no-held").is_visible()
    accessible(page)

    # 9. The month settles: the short cleaning deducted with its reason, and still to the fen.
    next_month = (visit_day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    clock.set(next_month + dt.timedelta(days=1), 10)
    page.goto(f"{site}/homecare/reports/settlements/?month={visit_day:%Y-%m}")
    accessible(page)
    page.get_by_role("button", name="生成结算单").click()
    page.wait_for_load_state()
    main = page.locator("main").inner_text()
    assert "实际服务 45 分钟，少于约定的至少 120 分钟，按实际服务时长比例结算" in main
    page.get_by_role("button", name="确认结算").click()
    page.wait_for_url("**/homecare/reports/settlements/*/")
    assert page.get_by_test_id("status").inner_text() == "已确认"
    accessible(page)
    settlement = Settlement.objects.get(provider=bath.provider, month=visit_day.replace(day=1))
    assert settlement.status == "confirmed"
    assert (settlement.visits, settlement.gross, settlement.deductions, settlement.net) == (
        2,
        Decimal("160.00"),
        Decimal("50.00"),
        Decimal("110.00"),
    )
    # What the elders' accounts spent equals what the provider is paid, to the fen.
    page.goto(f"{site}/homecare/reports/settlements/?month={visit_day:%Y-%m}")
    assert page.get_by_test_id("reconciled").is_visible()
    accessible(page)
    page.get_by_role("link", name=bath.provider.name).click()
    page.wait_for_url("**/homecare/reports/settlements/*/")
    xlsx = page.request.get(f"{site}/homecare/reports/settlements/{settlement.pk}.xlsx")
    assert xlsx.ok
    pdf = page.request.get(f"{site}/homecare/reports/settlements/{settlement.pk}.pdf")
    assert pdf.body().startswith(b"%PDF")
    # The elder's monthly statement, as her daughter sees it: the cleaning at 30 yuan, and why.
    log_in(page, site, "family")
    page.goto(f"{site}/homecare/reports/statement/{account.pk}/{visit_day:%Y-%m}/")
    assert "110.00" in page.get_by_role("row", name="已使用（元）").inner_text()
    reason = page.get_by_test_id(f"statement-reason-{cleaning.pk}").inner_text()
    assert reason == "实际服务 45 分钟，少于约定的至少 120 分钟，按实际服务时长比例结算"
    assert "助浴服务" in page.locator("main").inner_text()
    accessible(page)
    context.close()
