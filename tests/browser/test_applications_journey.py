"""An application end to end in real Chromium, as issue 11 asks, the parent on her phone:

a mother applies for preschool aid (学前教育家庭经济困难幼儿资助) for her child from the item's guide, uploading
the application form as a photo → the education bureau's officer finds it in the inbox and sends a one-time
notice (一次性告知) that the form lacks her signature → she sees the notice behind the bell, opens the application
from it and uploads the signed form → the officer accepts it, completes the review step and approves → the grant
(the item's yearly amount) shows on her page, and she rates the handling (好差评).

The world is the applications tests' one (the real student-aid standard, the child's village, the officer of
the education bureau of 椒江区, the mother linked to the child). axe-core checks every page visited for serious
or critical violations; each state change reaches the mother as an in-site notice.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fuwu.applications.models import Application, Grant, MaterialState, Rating, Status
from fuwu.notices.models import Notice
from tests.applications import conftest as applications
from tests.applications.conftest import PASSWORD, PRESCHOOL, STUDENT_AID, World
from tests.applications.test_grants import standard_value
from tests.browser.conftest import axe_serious
from tests.common.test_uploads import jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

world = applications.world  # the applications tests' world, a fixture here too

FORM = "家庭经济困难学生认定申请表（含个人承诺）"


@pytest.fixture
def site(live_server: Any, world: World) -> str:
    return str(live_server.url)


def log_in(page: Any, site: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(site + "/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name=f"退出 ({username})")).to_be_visible()


def accessible(page: Any) -> None:
    assert axe_serious(page) == [], page.url


def upload(page: Any, name: str) -> None:
    """Choose "upload" for the form and attach a real JPEG, as the phone's camera gives it."""
    page.get_by_role("radio", name="上传文件").check()
    page.get_by_label(f"{FORM}：文件").set_input_files(
        files=[{"name": name, "mimeType": "image/jpeg", "buffer": jpeg()}]
    )


def act(page: Any, summary: str, name: str, reason: str = "") -> None:
    """Open the officer's action ``summary`` and confirm it, with ``reason`` as the opinion."""
    page.locator("summary", has_text=summary).first.click()
    form = page.locator(f"form[action$='/{name}/']")
    if reason:
        form.get_by_label("原因或意见").fill(reason)
    form.get_by_role("button", name="确定").click()
    page.wait_for_load_state()


def bell_says(page: Any, user: Any) -> None:
    """The bell in the header counts the parent's unread notices."""
    unread = Notice.objects.filter(recipient=user, read_at__isnull=True).count()
    assert unread > 0
    expect(page.get_by_test_id("notice-bell")).to_have_text(f"消息（{unread} 条未读）")


def test_preschool_aid_from_application_to_grant_and_rating(site: str, browser: Any, world: World) -> None:
    mobile = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    parent = mobile.new_page()
    desk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    officer = desk.new_page()

    # 1. The mother applies from the item's guide, on her phone, with a photo of the form.
    log_in(parent, site, "parent")
    parent.goto(f"{site}/items/{PRESCHOOL}/")
    accessible(parent)
    parent.get_by_role("link", name="在线申请").click()
    parent.wait_for_url(f"**/applications/apply/{PRESCHOOL}/")
    main = parent.locator("main")
    expect(main).to_contain_text("申请人：林小禾")
    expect(main).to_contain_text("看起来符合条件")  # the eligibility answer, before submitting
    expect(main).to_contain_text("通过数据共享获取，无需提交")  # the household register is not asked for
    upload(parent, "申请表.jpg")
    parent.get_by_label("我承诺所填信息和所交材料真实有效").check()
    accessible(parent)
    parent.get_by_role("button", name="提交申请").click()
    parent.wait_for_url("**/applications/*/")
    expect(parent.get_by_test_id("status")).to_have_text("待受理")
    accessible(parent)
    application = Application.objects.get()
    assert (application.person, application.capacity, application.status) == (world.child, "family", Status.SUBMITTED)
    assert application.department == world.education
    detail = f"{site}/applications/{application.pk}/"

    # 2. The officer finds it in the inbox and sends one notice listing what is missing.
    log_in(officer, site, "officer")
    officer.get_by_role("link", name="待办申请").click()
    officer.wait_for_url("**/applications/inbox/")
    expect(officer.get_by_role("row", name="林小禾")).to_contain_text("待受理")
    accessible(officer)
    officer.get_by_role("row", name="林小禾").get_by_role("link", name="学前教育家庭经济困难幼儿资助").click()
    officer.wait_for_url(detail)
    accessible(officer)
    officer.locator("summary", has_text="一次性告知需补正的材料").click()
    notice = officer.locator("form[action$='/notice/']")
    notice.get_by_label(FORM).check()
    notice.get_by_label("原因或意见").fill("申请表缺家长签字")
    accessible(officer)
    notice.get_by_role("button", name="确定").click()
    expect(officer.get_by_test_id("status")).to_have_text("待补正")
    accessible(officer)

    # 3. The mother's bell says so; she opens the notice, sees what is missing and uploads the signed form.
    parent.goto(site + "/applications/")
    accessible(parent)
    bell_says(parent, world.parent)
    parent.get_by_test_id("notice-bell").click()
    parent.wait_for_url("**/notices/")
    latest = parent.locator(".notice-list li").first
    expect(latest).to_contain_text("需要补正材料：请登录查看一次性告知，并一次补齐")
    expect(latest).to_contain_text("林*")  # masked: the notice never carries the full name
    expect(parent.locator(".notice-list")).not_to_contain_text("林小禾")
    accessible(parent)
    latest.get_by_role("button", name="查看详情").click()
    parent.wait_for_url(detail)
    expect(parent.get_by_test_id("status")).to_have_text("待补正")
    expect(parent.get_by_test_id("materials")).to_contain_text("需补正")
    expect(parent.get_by_test_id("timeline")).to_contain_text("申请表缺家长签字")
    accessible(parent)
    upload(parent, "签字后的申请表.jpg")
    parent.get_by_role("button", name="提交补正材料").click()
    expect(parent.get_by_test_id("status")).to_have_text("待受理")
    accessible(parent)
    assert application.materials.get(index=0).state == MaterialState.PROVIDED
    assert application.materials.get(index=0).original_name == "签字后的申请表.jpg"

    # 4. The officer (told of the supplied material by her own bell) accepts, completes the review, approves.
    officer.reload()
    assert Notice.objects.filter(recipient=world.officer, kind="supplied").exists()
    accessible(officer)
    act(officer, "受理", "accept")
    expect(officer.get_by_test_id("status")).to_have_text("办理中")
    accessible(officer)
    act(officer, "办结本环节", "advance", "评议通过，已公示")
    expect(officer.get_by_test_id("timeline")).to_contain_text("评议通过，已公示")
    accessible(officer)
    act(officer, "批准", "approve", "符合资助条件")
    expect(officer.get_by_test_id("status")).to_have_text("已批准")
    accessible(officer)

    # 5. A grant at the standard's yearly amount exists, and shows on the mother's page; she rates the handling.
    grant = Grant.objects.get(application=application)
    today = timezone.localdate()
    amount = standard_value(STUDENT_AID, "sa-preschool-aid-amount", today)
    assert (grant.person, grant.item_key, grant.amount, grant.period) == (world.child, PRESCHOOL, amount, "year")
    assert grant.start_on == today
    parent.reload()
    expect(parent.get_by_test_id("status")).to_have_text("已批准")
    expect(parent.get_by_test_id("grant")).to_contain_text(f"每年 {grant.amount:.2f} 元，{today:%Y-%m-%d} 至")
    bell_says(parent, world.parent)
    accessible(parent)
    parent.get_by_label("非常满意", exact=True).check()
    parent.get_by_label("想说的话（可不填）").fill("一次就告诉我缺什么，手机上就补好了。")
    accessible(parent)
    parent.get_by_role("button", name="提交评价").click()
    expect(parent.get_by_test_id("rating")).to_contain_text("非常满意")
    accessible(parent)
    rating = Rating.objects.get(application=application)
    assert rating.level == 5

    # 6. Every change reached the mother as an in-site notice; she reads them all.
    kinds = list(
        Notice.objects.filter(recipient=world.parent).order_by("created_at", "pk").values_list("kind", flat=True)
    )
    assert kinds[-5:] == ["notice", "supplied", "accepted", "advanced", "approved"]
    parent.get_by_test_id("notice-bell").click()
    parent.wait_for_url("**/notices/")
    expect(parent.locator(".notice-list li").first).to_contain_text("已批准")
    accessible(parent)
    parent.get_by_role("button", name="全部标为已读").click()
    expect(parent.get_by_test_id("notice-bell")).to_have_text("消息")
    assert not Notice.objects.filter(recipient=world.parent, read_at__isnull=True).exists()
    mobile.close()
    desk.close()
