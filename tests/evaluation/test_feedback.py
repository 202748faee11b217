"""Public feedback on clauses: anonymous, limited, moderated before it is shown, answered, counted by clause."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fuwu.accounts.models import Department, Role
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.models import AuditLog
from fuwu.evaluation import feedback
from fuwu.evaluation.models import ClauseFeedback, FeedbackStatus
from fuwu.standards.models import StandardVersion
from fuwu.standards.services import standards_load
from tests.homecare.conftest import _parsed, make_user

KEY = "taizhou-home-care"
CLAUSE = "6.2.1"
PAGE = reverse("evaluation:feedback_clause", args=[KEY, CLAUSE])
PUBLIC = reverse("evaluation:feedback_standard", args=[KEY])
SECRET_CONTACT = "13800001111"


@pytest.fixture
def version(db: None) -> StandardVersion:
    standards_load(parsed=_parsed(), actor=None)
    return StandardVersion.objects.get(standard__key=KEY)


@pytest.fixture
def office(db: None) -> Any:
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    return make_user("stdoffice", Role.STANDARDS_OFFICE, city)


def post(client: Client, data: dict[str, str], *, address: str = "10.0.0.1", url: str = PAGE) -> Any:
    return client.post(url, data, REMOTE_ADDR=address)


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_anonymous_comment_waits_for_moderation_then_shows_without_its_contact(
    version: StandardVersion, office: Any
) -> None:
    anonymous = Client()
    response = post(anonymous, {"text": "送餐时间太早，希望能改到十一点以后", "contact": SECRET_CONTACT})
    assert response.status_code == 302
    assert response["Location"].endswith("?sent=1")
    row = ClauseFeedback.objects.get()
    assert row.status == FeedbackStatus.PENDING
    assert row.author is None
    assert feedback.masked_contact(row) == "138****1111"  # stored encrypted: test_feedback_contact.py
    assert "10.0.0.1" not in row.address_hash
    assert len(row.address_hash) == 64
    # Not shown while pending: neither on the clause's page nor on the standard's.
    assert "送餐时间太早" not in anonymous.get(PAGE).content.decode()
    assert "送餐时间太早" not in anonymous.get(PUBLIC).content.decode()

    feedback.feedback_moderate(actor=office, feedback_id=row.pk, decision="approved")
    clause_page = anonymous.get(PAGE).content.decode()
    assert "送餐时间太早" in clause_page
    standard_page = anonymous.get(PUBLIC).content.decode()
    assert "送餐时间太早" in standard_page
    for html in (clause_page, standard_page):
        assert SECRET_CONTACT not in html
        assert row.address_hash not in html
    # The audit rows carry neither the text's contact nor the address.
    for entry in AuditLog.objects.filter(object_type="evaluation.clausefeedback"):
        assert SECRET_CONTACT not in str(entry.after) + entry.note
    assert [(c.number, c.approved) for c in feedback.counts_by_clause(version, public=True)] == [(CLAUSE, 1)]


def test_a_rejected_comment_is_never_shown_and_needs_a_reason(version: StandardVersion, office: Any) -> None:
    row = feedback.feedback_submit(
        version=version, clause_number=CLAUSE, text="这是广告内容请联系", contact="", author=None, address="1.2.3.4"
    )
    with pytest.raises(feedback.FeedbackError, match="理由"):
        feedback.feedback_moderate(actor=office, feedback_id=row.pk, decision="rejected", note="")
    feedback.feedback_moderate(actor=office, feedback_id=row.pk, decision="rejected", note="与条款无关")
    assert "这是广告内容" not in Client().get(PAGE).content.decode()
    with pytest.raises(feedback.FeedbackError, match="已经审核"):
        feedback.feedback_moderate(actor=office, feedback_id=row.pk, decision="approved")
    with pytest.raises(feedback.FeedbackError, match="公开后才能答复"):
        feedback.feedback_answer(actor=office, feedback_id=row.pk, answer="谢谢")
    # Counted for the office, not for the public.
    assert feedback.counts_by_clause(version, public=True) == []
    (count,) = feedback.counts_by_clause(version, public=False)
    assert (count.number, count.rejected, count.total) == (CLAUSE, 1, 1)


def test_the_office_answers_on_the_page_and_only_the_office(version: StandardVersion, office: Any) -> None:
    row = feedback.feedback_submit(
        version=version, clause_number=CLAUSE, text="建议增加送餐的温度要求", contact="", author=None, address="x"
    )
    department = Department.objects.get_or_create(code="civil-affairs", defaults={"name_zh": "民政局"})[0]
    officer = make_user("officer", Role.DEPARTMENT_OFFICER, Area.objects.get(code="331000"), department=department)
    auditor = make_user("auditor", Role.AUDITOR, None)
    moderate = reverse("evaluation:feedback_moderate", args=[row.pk])
    for someone in (officer, auditor):
        assert logged_in(someone).post(moderate, {"decision": "approved"}).status_code == 403
    assert Client().post(moderate, {"decision": "approved"}).status_code == 403
    client = logged_in(office)
    assert client.post(moderate, {"decision": "approved", "back": "../../x"}).status_code == 302
    answer = reverse("evaluation:feedback_answer", args=[row.pk])
    assert logged_in(officer).post(answer, {"answer": "采纳"}).status_code == 403
    response = client.post(answer, {"answer": "修订时将增加送餐温度要求"}, follow=True)
    assert response.status_code == 200
    assert "答复已公开" in response.content.decode()
    html = Client().get(PAGE).content.decode()
    assert "修订时将增加送餐温度要求" in html
    # The auditor reads the inbox but sees no contact and no buttons; a resident does not read it.
    assert logged_in(auditor).get(reverse("evaluation:feedback_inbox")).status_code == 200
    resident = make_user("resident", Role.RESIDENT, None)
    assert logged_in(resident).get(reverse("evaluation:feedback_inbox")).status_code == 403


def test_an_empty_answer_or_decision_is_a_clear_message_not_a_500(version: StandardVersion, office: Any) -> None:
    row = feedback.feedback_submit(
        version=version, clause_number=CLAUSE, text="建议增加送餐的温度要求", contact="", author=None, address="x"
    )
    client = logged_in(office)
    response = client.post(reverse("evaluation:feedback_moderate", args=[row.pk]), {"decision": "maybe"}, follow=True)
    assert "审核结果" in response.content.decode()
    response = client.post(reverse("evaluation:feedback_moderate", args=[99999]), {"decision": "approved"}, follow=True)
    assert "没有编号为 99999 的意见" in response.content.decode()
    assert ClauseFeedback.objects.get(pk=row.pk).status == FeedbackStatus.PENDING


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"text": ""}, "意见：请至少写"),
        ({"text": "！！！！！！"}, "意见：请至少写"),
        ({"text": "太长" * 600}, "意见：最多 1000 个字"),
        ({"text": "送餐时间太早了", "contact": "1" * 61}, "联系方式：最多 60 个字"),
    ],
)
def test_bad_input_is_refused_naming_the_field(version: StandardVersion, data: dict[str, str], field: str) -> None:
    response = post(Client(), data)
    assert response.status_code == 400
    assert field in response.content.decode()
    assert ClauseFeedback.objects.count() == 0


def test_an_unknown_clause_or_standard_is_404(version: StandardVersion) -> None:
    assert Client().get(reverse("evaluation:feedback_clause", args=[KEY, "99.9"])).status_code == 404
    assert (
        post(
            Client(), {"text": "送餐时间太早了"}, url=reverse("evaluation:feedback_clause", args=[KEY, "99.9"])
        ).status_code
        == 404
    )
    assert Client().get(reverse("evaluation:feedback_standard", args=["no-such"])).status_code == 404
    assert ClauseFeedback.objects.count() == 0


def test_the_honeypot_is_thanked_and_nothing_is_kept(version: StandardVersion) -> None:
    response = post(Client(), {"text": "买便宜的东西请点击这里", "website": "http://spam.example"})
    assert response.status_code == 302
    assert ClauseFeedback.objects.count() == 0


def test_limits_per_address_and_per_account(version: StandardVersion, settings: Any) -> None:
    settings.FUWU_FEEDBACK = {**settings.FUWU_FEEDBACK, "per_address_per_hour": 2, "per_account_per_day": 3}
    anonymous = Client()
    for n in range(2):
        assert post(anonymous, {"text": f"第{n}条意见内容"}).status_code == 302
    refused = post(anonymous, {"text": "第三条意见内容"})
    assert refused.status_code == 429
    assert "每小时最多 2 条" in refused.content.decode()
    # Another address is not held back by the first one's count.
    assert post(anonymous, {"text": "另一处的意见内容"}, address="10.0.0.2").status_code == 302
    # A signed-in resident is limited per account too, from any address.
    resident = logged_in(make_user("resident", Role.RESIDENT, None))
    for n in range(3):
        assert post(resident, {"text": f"账号的第{n}条意见"}, address=f"10.1.0.{n}").status_code == 302
    refused = post(resident, {"text": "账号的第四条意见"}, address="10.1.0.9")
    assert refused.status_code == 429
    assert "每天最多 3 条" in refused.content.decode()
    assert ClauseFeedback.objects.count() == 6


def test_the_standard_page_links_each_clause_to_its_feedback(version: StandardVersion) -> None:
    html = Client().get(reverse("guide:standard_detail", args=[KEY])).content.decode()
    assert PAGE in html
    assert "对第 6.2.1 条提意见" in html


def test_a_version_not_in_force_takes_no_comments(version: StandardVersion) -> None:
    StandardVersion.objects.filter(pk=version.pk).update(status="abolished")
    version.refresh_from_db()
    with pytest.raises(feedback.FeedbackError, match="现行标准"):
        feedback.feedback_submit(
            version=version, clause_number=CLAUSE, text="送餐时间太早了", contact="", author=None, address="x"
        )
    assert Client().get(PAGE).status_code == 404
