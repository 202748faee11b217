"""The review of a standard end to end in real Chromium, as issue 13 asks:

the standards office opens a standard due for review (home care: effective 2021-11-29, five-year period), reads
its evaluation, drills into a county on the dashboard, confirms "revise", and the standard shows under review
with the report attached to its version's history (and a new draft). A resident's comment on a clause waits for
moderation and is then shown with the office's answer. axe-core checks every page visited.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from fuwu.areas.models import Area
from fuwu.common.models import AuditLog
from fuwu.evaluation.models import ClauseFeedback, IndicatorValue, StandardEvaluation
from fuwu.standards.models import Indicator, StandardVersion, Status
from tests.browser.conftest import axe_serious
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-stdoffice-2026"
KEY = "taizhou-home-care"


@pytest.fixture
def site(live_server: Any, settings: Any, tmp_path: Any) -> str:
    settings.MEDIA_ROOT = tmp_path
    call_command("areas", "load", verbosity=0)
    call_command("standards", "load", str(REPO / "standards" / "taizhou"), verbosity=0)
    call_command("demo_accounts", verbosity=0)
    # Two months of one indicator in the period (the last whole months): 椒江 on time 3 of 4, then 7 of 8.
    indicator = Indicator.objects.get(version__standard__key=KEY, version__status="published", key="hc-on-time-rate")
    this_month = timezone.localdate().replace(day=1)
    last = (this_month - dt.timedelta(days=1)).replace(day=1)
    before = (last - dt.timedelta(days=1)).replace(day=1)
    for code in ("331000", "331002"):
        for month, (n, d) in ((before, (3, 4)), (last, (7, 8))):
            IndicatorValue.objects.create(
                indicator=indicator,
                area=Area.objects.get(code=code),
                period_kind="month",
                period_start=month,
                numerator=n,
                denominator=d,
                value=n * 100 / d,
                computed_at=timezone.now(),
            )
    return str(live_server.url)


def accessible(page: Any) -> None:
    assert axe_serious(page) == [], page.url


def test_the_office_reviews_the_home_care_standard_and_revises_it(site: str, page: Any) -> None:
    page.goto(site + "/accounts/login/")
    page.get_by_label("用户名").fill("stdoffice")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()

    # 1. The reviews due: home care is overdue; its evaluation report is one click away.
    page.get_by_role("link", name="复审", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("到期和即将到期复审的标准")
    accessible(page)
    page.get_by_role("link", name="DB3310/T 80—2021 评估报告").click()

    # 2. The evaluation: five sections, the indicator against its target, the suggestion.
    expect(page.get_by_role("heading", level=1)).to_contain_text("标准实施评估报告")
    for heading in ("一、实施情况", "二、实施效果：指标与目标", "三、群众评价", "四、实施成本", "五、评估建议"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    effect = page.locator("section").filter(has=page.get_by_role("heading", name="二、实施效果：指标与目标"))
    expect(effect).to_contain_text("10/12")  # 3 of 4, then 7 of 8
    expect(effect).to_contain_text("未达标")  # 83.3 % against ≥ 95 %
    expect(page.locator("svg.report-chart").first).to_be_visible()
    expect(page.get_by_text("建议：修订")).to_be_visible()
    accessible(page)

    # 3. Drill into a county on the dashboard, and back.
    page.get_by_role("link", name="椒江区").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("椒江区")
    expect(page.locator("main")).to_contain_text("7/8")
    accessible(page)
    page.go_back()

    # 4. Confirm "revise": the standard goes under review, a new draft is started, the report is kept.
    page.get_by_role("radio", name=re.compile("^修订")).check()
    page.get_by_label("理由（与建议不同时必填）").fill("准时率两个月未达标，送餐条款需要修订")
    page.get_by_role("button", name="作出复审结论").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("变更历史")
    expect(page.locator("main")).to_contain_text("复审中")
    expect(page.locator("main")).to_contain_text("新草案 v2")
    report_link = page.get_by_role("link", name="DB3310/T 80—2021 v1 评估报告（PDF）")
    expect(report_link).to_be_visible()
    accessible(page)
    pdf = page.request.get(site + report_link.get_attribute("href"))
    assert pdf.ok
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    version = StandardVersion.objects.get(standard__key=KEY, number=1)
    assert version.status == Status.UNDER_REVIEW
    evaluation = StandardEvaluation.objects.get(version=version)
    assert (evaluation.suggested, evaluation.decision, evaluation.draft.number) == ("revise", "revise", 2)

    # 5. The public page shows it under review, with the new draft among its versions.
    page.goto(site + f"/standards/{KEY}/")
    expect(page.locator("main")).to_contain_text("复审中")
    expect(page.locator("main")).to_contain_text("v2")
    accessible(page)


def test_a_comment_on_a_clause_is_moderated_then_answered(site: str, page: Any) -> None:
    # An anonymous visitor comments on clause 6.2.1 from the standard's page.
    page.goto(site + f"/standards/{KEY}/")
    page.get_by_role("link", name="对第 6.2.1 条提意见").click()
    accessible(page)
    page.get_by_label("您的意见", exact=False).fill("送餐时间太早，希望能在十一点以后送到")
    page.get_by_label("联系方式", exact=False).fill("13800001111")
    page.get_by_role("button", name="提交意见").click()
    expect(page.get_by_role("status")).to_contain_text("审核后公开")
    expect(page.locator("main")).not_to_contain_text("送餐时间太早")  # not before moderation
    accessible(page)

    # The office approves and answers it.
    page.goto(site + "/accounts/login/")
    page.get_by_label("用户名").fill("stdoffice")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(site + "/evaluation/feedback/")
    main = page.locator("main")
    expect(main).to_contain_text("138****1111")  # the office sees the contact masked ...
    expect(main).not_to_contain_text("13800001111")
    accessible(page)
    page.get_by_role("button", name="完整联系方式").click()  # ... and in full on an audited reveal
    expect(page.locator("main")).to_contain_text("13800001111")
    accessible(page)
    assert AuditLog.objects.filter(event="feedback.contact_revealed").count() == 1
    page.get_by_role("link", name="返回意见审核").click()
    page.get_by_role("radio", name="公开").check()
    page.get_by_role("button", name="提交审核").click()
    page.goto(site + "/evaluation/feedback/?status=approved")
    page.get_by_label("答复（公开）").fill("已转交服务组织调整送餐时间")
    page.get_by_role("button", name="公开答复").click()
    expect(page.locator("main")).to_contain_text("答复已公开")

    # Anyone now reads it with the answer, and never the contact.
    page.context.clear_cookies()
    page.goto(site + f"/evaluation/feedback/{KEY}/")
    main = page.locator("main")
    expect(main).to_contain_text("送餐时间太早")
    expect(main).to_contain_text("已转交服务组织调整送餐时间")
    expect(main).not_to_contain_text("13800001111")
    accessible(page)
    assert ClauseFeedback.objects.get().status == "approved"
