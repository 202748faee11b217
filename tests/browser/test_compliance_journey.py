"""Compliance end to end in real Chromium on a phone, as issue 12 asks:

the officer draws next month's sample and publishes it → the inspector drawn fills the checklist on the phone
(answers saved in the background, one of them while the connection is down; photos taken in the page with the
phone's position) and signs → the institution answers the rectification order with a photo → the inspector
sends it for re-inspection, re-inspects and signs a pass → the officer publishes → the public page shows the
grade.

axe-core checks every page visited for serious or critical violations.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from fuwu.accounts.models import Department, User
from fuwu.areas.models import Area
from fuwu.compliance.models import (
    Answer,
    Draw,
    Evidence,
    Inspection,
    InspectionKind,
    Institution,
    OrderStatus,
    RectificationOrder,
    Standing,
)
from fuwu.compliance.services.institutions import inspector_enrol
from tests.browser.conftest import axe_serious
from tests.common.test_uploads import jpeg
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORDS = {
    "officer": "demo-officer-2026",
    "inspector": "demo-inspector-2026",
    "institution": "demo-institution-2026",
}
STATION = "和美村微型消防站（旅程）"
# Where the inspector's phone says it is: in 椒江's 和美村.
AT_THE_STATION = {"latitude": 28.6801, "longitude": 121.4412}


@pytest.fixture
def site(live_server: Any) -> str:
    call_command("areas", "load", verbosity=0)
    call_command("standards", "load", str(REPO / "standards" / "taizhou"), verbosity=0)
    call_command("demo_accounts", verbosity=0)
    department = Department.objects.get(code="civil-affairs")
    jj = Area.objects.get(code="331002")
    for name in ("inspector", "inspector2"):
        inspector_enrol(actor=None, user=User.objects.get(username=name), department_id=department.pk, area=jj)
    station = Institution.objects.create(
        name=STATION,
        kind="micro-fire-station",
        code="MF-JOURNEY",
        area=Area.objects.get(code="331002001901"),
        address="海门街道和美村",
        latitude=AT_THE_STATION["latitude"],
        longitude=AT_THE_STATION["longitude"],
    )
    station.admins.add(User.objects.get(username="institution"))
    return str(live_server.url)


@pytest.fixture
def phone(browser: Any) -> Any:
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation=AT_THE_STATION,
        permissions=["geolocation"],
    )
    yield context.new_page()
    context.close()


def log_in(page: Any, site: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(site + "/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORDS[username])
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def accessible(page: Any) -> None:
    assert axe_serious(page) == [], page.url


def item_section(page: Any, clause: str) -> Any:
    return page.locator("section.cf-item").filter(has=page.get_by_role("heading", name=f"第 {clause} 条"))


def answer(page: Any, clause: str, result: str, *, note: str = "", number: str = "") -> None:
    section = item_section(page, clause)
    if number:
        section.get_by_role("textbox").first.fill(number)
    if note:
        section.get_by_label("发现的问题或说明", exact=False).fill(note)
    section.get_by_label(result, exact=True).check()
    expect(section.locator("[data-status]")).to_contain_text("已保存")  # no eval under the CSP


def take_photo(page: Any, clause: str, photo: Path) -> None:
    section = item_section(page, clause)
    section.locator("input[type=file]").set_input_files(str(photo))
    with page.expect_navigation():
        section.get_by_role("button", name="上传", exact=False).click()
    assert "含拍摄位置" in page.locator("main").inner_text()


def test_draw_inspect_rectify_reinspect_publish(site: str, phone: Any, tmp_path: Path) -> None:
    page = phone
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(jpeg())

    # 1. The officer draws next month's micro fire stations in 椒江, checks the draw and publishes it.
    log_in(page, site, "officer")
    page.get_by_role("link", name="检查与整改").click()
    accessible(page)
    page.get_by_role("link", name="抽取下一期检查").click()
    page.get_by_label("村级微型消防站 抽查比例（%）").fill("100")
    accessible(page)
    page.get_by_test_id("draw").click()
    page.wait_for_url(re.compile(r"/office/draws/\d+/$"))
    assert STATION in page.locator("main").inner_text()
    accessible(page)
    page.get_by_role("link", name="按记录重新计算，复核抽取结果").click()
    assert "复核通过" in page.locator("main").inner_text()
    page.get_by_test_id("publish-draw").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("draw-status").inner_text() == "已公开"
    accessible(page)
    draw = Draw.objects.get()
    inspection = Inspection.objects.get(pick__draw=draw, institution__code="MF-JOURNEY")
    assert set(inspection.inspectors.values_list("username", flat=True)) == {"inspector", "inspector2"}

    # 2. The inspector, on the phone, starts the checklist and answers it clause by clause.
    log_in(page, site, "inspector")
    page.get_by_role("link", name="我的检查任务").click()
    accessible(page)
    page.get_by_role("link", name=STATION).click()
    page.get_by_test_id("start").click()
    page.wait_for_load_state()
    accessible(page)
    answer(page, "5.3", "符合")
    take_photo(page, "5.3", photo)
    answer(page, "5.3.1", "符合", number="8")
    answer(page, "8.2", "符合")
    take_photo(page, "8.2", photo)
    answer(page, "9.1", "符合", number="3")
    answer(page, "9.2", "符合")
    # The connection drops: the answer waits on the phone and goes when it is back.
    page.context.set_offline(True)
    section = item_section(page, "6.2")
    section.get_by_label("发现的问题或说明", exact=False).fill("秋冬季未见每日巡查记录")
    section.get_by_label("不符合", exact=True).check()
    expect(page.locator("[data-queue]")).to_contain_text("网络不通")
    assert not Answer.objects.filter(item__inspection=inspection, item__clause_number="6.2").exists()
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-queue]")).to_contain_text("已全部提交")
    # The browser's own "online" event and this one both replay the queue: the answer goes once, not twice
    # (a second copy on its way would also still be writing while this test reads).
    page.wait_for_timeout(300)
    assert len(posted) == 1, posted
    assert Answer.objects.get(item__inspection=inspection, item__clause_number="6.2").result == "not"
    accessible(page)
    photos = Evidence.objects.filter(item__inspection=inspection)
    assert photos.count() == 2
    assert all(abs(float(e.latitude) - AT_THE_STATION["latitude"]) < 0.0001 for e in photos)
    page.get_by_test_id("sign").click()
    page.wait_for_load_state()
    assert "检查记录已签署" in page.locator("main").inner_text()
    accessible(page)
    order = RectificationOrder.objects.get(inspection=inspection)
    assert order.item.clause_number == "6.2"
    pdf = page.request.get(f"{site}/compliance/inspections/{inspection.pk}/record.pdf")
    assert pdf.body().startswith(b"%PDF")

    # 3. The institution answers the order with a photo of the patrol log.
    log_in(page, site, "institution")
    page.get_by_role("link", name="本机构").click()
    accessible(page)
    page.get_by_role("link", name=f"{STATION} · 第 6.2 条").click()
    accessible(page)
    page.locator("input[type=file]").set_input_files(str(photo))
    with page.expect_navigation():
        page.get_by_role("button", name="上传", exact=True).click()
    page.get_by_label("采取的整改措施").fill("已建立每日巡查登记本，补记本周巡查")
    page.get_by_test_id("answer-order").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("order-status").inner_text() == "已提交整改材料"
    accessible(page)

    # 4. The inspector wants to see it: sends it for re-inspection, re-inspects, signs a pass.
    log_in(page, site, "inspector")
    page.goto(f"{site}/compliance/rectifications/{order.pk}/")
    page.get_by_label("需要现场复查").check()
    page.get_by_test_id("decide").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("order-status").inner_text() == "待现场复查"
    accessible(page)
    page.goto(f"{site}/compliance/inspections/{inspection.pk}/")
    page.get_by_test_id("reinspect").click()
    page.wait_for_url(re.compile(rf"/compliance/inspections/(?!{inspection.pk}/)\d+/$"))
    accessible(page)
    answer(page, "6.2", "符合")
    page.get_by_test_id("sign").click()
    page.wait_for_load_state()
    again = Inspection.objects.get(kind=InspectionKind.REINSPECTION)
    assert again.passed
    order.refresh_from_db()
    assert order.status == OrderStatus.VERIFIED
    accessible(page)

    # 5. The officer publishes the results.
    log_in(page, site, "officer")
    page.get_by_role("link", name="检查与整改").click()
    for _ in range(2):
        page.get_by_role("button", name=f"公开 {STATION} 的结果").first.click()
        page.wait_for_load_state()
    accessible(page)
    standing = Standing.objects.get(institution__code="MF-JOURNEY")
    assert standing.inspection == again

    # 6. Anyone finds the station and sees its grade.
    page.context.clear_cookies()
    page.goto(site + "/")
    page.get_by_role("link", name="服务机构").click()
    page.get_by_label("机构类型").select_option(label="村级微型消防站")
    page.get_by_role("button", name="查找").click()
    page.wait_for_load_state()
    accessible(page)
    page.get_by_role("link", name=STATION).click()
    grade = page.get_by_test_id("grade").inner_text()
    assert grade.startswith(("优秀", "合格"))
    assert again.inspected_on is not None
    assert again.inspected_on.isoformat() in page.locator("main").inner_text()
    accessible(page)
    page.get_by_role("link", name=again.inspected_on.isoformat(), exact=True).click()
    assert "复查" in page.locator("main").inner_text()
    accessible(page)
