"""Fifty things residents type, and what they must find first, on the real standards (issue 8).

The selector answers all fifty; a sample goes through the page residents use (GET /search/?q=…), where the
first result is the first link in the list of service items.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from fuwu.standards.models import ServiceItem
from fuwu.standards.parsing import parse_many
from fuwu.standards.selectors import search
from fuwu.standards.services import standards_load
from tests.conftest import REPO

pytestmark = pytest.mark.django_db

# (what a resident types, the key of the item that must come first)
EVERYDAY = [
    # The searches seen returning nothing or the wrong thing first (issue 8).
    ("老人 洗澡", "hc-bathing"),
    ("洗澡", "hc-bathing"),
    ("老人吃饭", "hc-meals"),
    ("80岁 补贴", "gb-elderly-welfare-subsidy"),
    ("高龄补贴", "gb-elderly-welfare-subsidy"),
    ("看病 报销", "gb-medical-assistance"),
    ("居家养老", "hc-meals"),
    ("低保", "gb-minimum-living-allowance"),
    ("体检", "gb-elderly-health-management"),
    # Elders and their families.
    ("老人体检", "gb-elderly-health-management"),
    ("６５岁 体检", "gb-elderly-health-management"),  # typed with full-width digits
    ("八十岁老人补贴", "gb-elderly-welfare-subsidy"),
    ("长寿金", "gb-elderly-welfare-subsidy"),
    ("送饭", "hc-meals"),
    ("老年食堂", "hc-meals"),
    ("我想给妈妈申请助浴", "hc-bathing"),
    ("打扫卫生", "hc-cleaning"),
    ("陪老人看病", "hc-medical-escort"),
    ("理发", "hc-hair-foot-care"),
    ("一键呼叫", "hc-emergency"),
    ("聊天", "hc-companionship"),
    ("失能老人 护理", "hc-rehab-care"),
    ("70岁 坐公交", "pt-elderly-free-ride"),
    ("老年人坐公交免费", "pt-elderly-free-ride"),
    ("养老金", "gb-employee-pension"),
    # Help when money is short.
    ("低保 怎么申请", "gb-minimum-living-allowance"),
    ("五保户", "gb-extreme-poverty-support"),
    ("临时困难", "gb-temporary-assistance"),
    ("大病 报销", "gb-medical-assistance"),
    ("请律师", "gb-legal-aid"),
    ("残疾人坐公交", "pt-disabled-free-ride"),
    ("残疾补贴", "gb-disability-living-nursing-subsidies"),
    # Health.
    ("家庭医生", "fd-contract"),
    ("打疫苗", "gb-immunization"),
    ("宝宝 打疫苗", "gb-immunization"),
    ("医保", "gb-employee-medical-insurance"),
    ("怀孕", "gb-preconception-checkup"),
    # Children and school.
    ("托儿所", "ic-inclusive-nursery-place"),
    ("上幼儿园 补助", "gb-preschool-aid"),
    ("住校补助", "gb-boarding-student-subsidy"),
    ("助学贷款", "sa-student-origin-loan"),
    ("营养餐", "gb-rural-student-nutrition"),
    ("孤儿", "gb-children-in-difficulty"),
    ("留守儿童", "gb-left-behind-children"),
    # Work, housing, culture, veterans, safety.
    ("找工作", "gb-job-placement-guidance"),
    ("拖欠工资", "gb-labour-inspection"),
    ("退伍军人 找工作", "gb-veteran-employment-services"),
    ("危房", "gb-rural-dilapidated-housing"),
    ("借书", "gb-reading"),
    ("身份证 上门办", "rp-village-id-registration-services"),
]

# Sampled through the page: the issue's own searches and a few more.
THROUGH_THE_PAGE = [
    "老人 洗澡",
    "老人吃饭",
    "80岁 补贴",
    "看病 报销",
    "低保",
    "体检",
    "６５岁 体检",
    "我想给妈妈申请助浴",
]


@pytest.fixture
def real_standards(db: None) -> None:
    standards_load(parsed=parse_many([REPO / "standards"]), actor=None)


def test_fifty_everyday_queries_find_the_right_item_first(real_standards: None, client: Client) -> None:
    assert len(EVERYDAY) == 50
    assert len({q for q, _ in EVERYDAY}) == 50
    wrong = []
    for query, expected in EVERYDAY:
        results = search(query=query)
        first = results.items[0].key if results.items else None
        if first != expected:
            wrong.append(f"{query!r}: first {first!r}, expected {expected!r}")
    assert not wrong, "\n".join(wrong)

    names = dict(ServiceItem.objects.values_list("key", "name_zh"))
    for query in THROUGH_THE_PAGE:
        html = client.get("/search/", {"q": query}).content.decode()
        items = html.split("<h2>服务项目</h2>", 1)
        assert len(items) == 2, f"{query!r}: no service items on the page"
        first_link = re.search(r'<a href="/items/([\w-]+)/">([^<]+)</a>', items[1])
        assert first_link, query
        expected = dict(EVERYDAY)[query]
        assert first_link.group(1) == expected, query
        assert first_link.group(2) == names[expected]


def test_what_the_issue_saw(real_standards: None) -> None:
    # 居家养老 finds every one of the ten home-care projects.
    home_care = {i.key for i in search(query="居家养老").items}
    projects = set(
        ServiceItem.objects.filter(
            version__standard__key="taizhou-home-care", category_zh="十大补贴服务项目"
        ).values_list("key", flat=True)
    )
    assert len(projects) == 10
    assert projects <= home_care
    # 低保: both minimum-allowance items before anything that only mentions 低保 (助餐 …).
    assert [i.name_zh for i in search(query="低保").items[:2]] == ["最低生活保障", "最低生活保障"]
    # 体检 finds the health check for everyone aged 65 or over, national and Taizhou.
    check_ups = [i.key for i in search(query="体检").items]
    assert {"gb-elderly-health-management", "fd-elderly-health"} <= set(check_ups)
    # An age finds the items whose target group admits it, and not those that exclude it.
    for_80 = {i.key for i in search(query="80岁 补贴").items}
    assert "gb-elderly-welfare-subsidy" in for_80
    assert not for_80 & {"sa-preschool-aid", "gb-boarding-student-subsidy", "es-training-subsidy"}
    assert "pt-elderly-free-ride" not in {i.key for i in search(query="65岁 坐公交").items}  # 70 and over
    # Items before clauses: the page lists service items first.
    results = search(query="洗澡")
    assert results.first == results.items[0]
