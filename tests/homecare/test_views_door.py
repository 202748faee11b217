"""The pages at the door: a family books and follows a bath, the caregiver makes the visit, and who sees what."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fuwu.accounts.models import Role, User
from fuwu.homecare import services, standard
from fuwu.homecare.door import Position, order_check_in, order_check_out, order_partner_check_in, photo_add
from fuwu.homecare.models import (
    AccountMonth,
    Caregiver,
    Complaint,
    FamilyLink,
    Order,
    OrderStatus,
    Provider,
    Rating,
    ServicePhoto,
)
from fuwu.residents import crypto
from tests.common.test_uploads import jpeg
from tests.homecare.conftest import ELDER_HOME, TODAY, World, at, make_user, second_caregiver, with_partner
from tests.residents.factories import PersonFactory

pytestmark = pytest.mark.django_db

DAY = TODAY + dt.timedelta(days=2)  # a Wednesday
HOME = Position(*ELDER_HOME)
FAR = Position(ELDER_HOME[0] + Decimal("0.02"), ELDER_HOME[1])  # about 2.2 km north
JPEG = jpeg()  # a real photo: what is stored is decoded and written again
LOGIN = reverse("accounts:login")


@dataclass
class Clock:
    now: dt.datetime


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The services' clock (which the pages read too), set to the world's Monday morning."""
    fixed = Clock(at(TODAY, 10))
    monkeypatch.setattr(services, "local_now", lambda: fixed.now)
    return fixed


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def other_caregiver(world: World) -> User:
    """A caregiver of another provider serving the same county."""
    provider = Provider.objects.create(
        name="椒江康乐服务社",
        licence_number="JJ-2022-009",
        licence_valid_until=dt.date(2028, 12, 31),
        address="椒江区",
        contact_name="陈主任",
        contact_phone="0576-1111111",
    )
    user = make_user("other_caregiver", Role.CAREGIVER, world.officer.area)
    Caregiver.objects.create(
        provider=provider,
        user=user,
        name="赵护理员",
        qualifications=["care-worker"],
        health_certificate_expires=dt.date(2027, 6, 30),
        home_latitude=Decimal("28.650000"),
        home_longitude=Decimal("121.410000"),
        shift_start=dt.time(8),
        shift_end=dt.time(17),
    )
    return user


def book_bath(world: World, key: str = "bath-1", day: dt.date = DAY) -> Order:
    order, _ = services.order_book(
        actor=world.family,
        person=world.elder,
        item="hc-bathing",
        window_start=at(day, 9),
        window_end=at(day, 12),
        idempotency_key=key,
        now=at(TODAY, 9),
    )
    return order


@pytest.fixture
def booked(world: World) -> Order:
    return book_bath(world)


@pytest.fixture
def scheduled(world: World, booked: Order) -> Order:
    """The bath given to the world's caregiver at 09:30, with a second caregiver (bathing needs two)."""
    services.order_accept(actor=world.provider_admin, order=booked, now=at(TODAY, 9, 30))
    order = services.order_schedule(
        actor=world.provider_admin, order=booked, caregiver=world.caregiver, planned_start=at(DAY, 9, 30)
    )
    with_partner(world, order, arrive=None)
    return order


@pytest.fixture
def in_service(world: World, scheduled: Order) -> Order:
    partner = second_caregiver(world)
    assert partner.user is not None
    order_partner_check_in(actor=partner.user, order=scheduled, at=HOME, now=at(DAY, 9, 33))
    return order_check_in(actor=world.caregiver_user, order=scheduled, at=HOME, now=at(DAY, 9, 35))


@pytest.fixture
def completed(world: World, in_service: Order) -> Order:
    return order_check_out(
        actor=world.caregiver_user, order=in_service, at=HOME, tasks_done=["协助洗浴"], now=at(DAY, 10, 45)
    )


@pytest.fixture
def confirmed(world: World, completed: Order) -> Order:
    return services.order_confirm(actor=world.family, order=completed, now=at(DAY, 11))


def as_user(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return str(response.content.decode())


def book_data(
    key: str, *, item: str = "hc-bathing", day: dt.date = DAY, start: str = "09:00", end: str = "12:00"
) -> dict[str, str]:
    return {"project": item, "day": day.isoformat(), "start": start, "end": end, "idempotency_key": key}


class _Labels(HTMLParser):
    """Collects the ids of form controls and the ``for`` of labels, to find controls without a label."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labelled.add(str(a["for"]))
        if tag in {"input", "textarea", "select"} and a.get("type") not in {"hidden", "submit"}:
            self.controls.append(str(a.get("id")))


def unlabelled(html: str) -> list[str]:
    parser = _Labels()
    parser.feed(html)
    return [c for c in parser.controls if c not in parser.labelled]


def unique_ids(html: str) -> bool:
    ids = re.findall(r'\sid="([^"]+)"', html)
    return len(ids) == len(set(ids))


def headings_in_order(html: str) -> bool:
    """One h1 first, and no level skipped on the way down."""
    levels = [int(n) for n in re.findall(r"<h([1-6])[\s>]", html)]
    return levels[:1] == [1] and levels.count(1) == 1 and all(b <= a + 1 for a, b in itertools.pairwise(levels))


# --- the family books ------------------------------------------------------------------------------


def test_family_books_a_bath_through_the_form(client: Client, world: World) -> None:
    as_user(client, world.family)
    url = reverse("homecare:book", args=[world.elder.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    choices = dict(form.fields["project"].choices)
    # Entitled subsidised projects and every package; never a subsidised project the screening did not grant.
    assert {"hc-bathing", "hc-cleaning", "hc-meals"} <= set(choices)
    assert any(key.startswith("hc-package-") for key in choices)
    assert "hc-rehab-care" not in choices
    bath = standard.project("hc-bathing", on=TODAY)
    assert f"{bath.price} 元/次" in choices["hc-bathing"]
    assert f"每月最多 {bath.monthly_limit} 次" in choices["hc-bathing"]
    key = form["idempotency_key"].value()
    assert len(key) == 32

    response = client.post(url, book_data(key))

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("homecare:order", args=[order.pk])
    assert (order.item, order.window_start, order.window_end) == ("hc-bathing", at(DAY, 9), at(DAY, 12))
    assert order.booked_by == world.family
    assert order.idempotency_key == key
    assert "预约已提交" in text(client.get(response["Location"]))


def test_village_staff_book_for_an_elder_of_their_area(client: Client, world: World) -> None:
    as_user(client, world.officer)
    response = client.post(reverse("homecare:book", args=[world.elder.pk]), book_data("officer-1"))
    order = Order.objects.get()
    assert order.booked_by == world.officer
    # They follow it from the elder's account in the office pages; the family's order page is the family's.
    assert response["Location"] == reverse("homecare:account", args=[world.account.pk])


def test_staff_of_another_area_cannot_book(client: Client, world: World) -> None:
    elsewhere = make_user(
        "officer-elsewhere", Role.DEPARTMENT_OFFICER, world.stranger.area, department=world.officer.department
    )
    as_user(client, elsewhere)
    assert client.post(reverse("homecare:book", args=[world.elder.pk]), book_data("x")).status_code == 404
    assert not Order.objects.exists()


def test_each_showing_of_the_form_has_its_own_key(client: Client, world: World) -> None:
    as_user(client, world.family)
    url = reverse("homecare:book", args=[world.elder.pk])
    first, second = (client.get(url).context["form"]["idempotency_key"].value() for _ in range(2))
    assert first != second


def test_a_double_post_with_the_same_key_books_once(client: Client, world: World) -> None:
    as_user(client, world.family)
    url = reverse("homecare:book", args=[world.elder.pk])
    first = client.post(url, book_data("same-key"))
    second = client.post(url, book_data("same-key"))
    assert Order.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert "已经提交过，没有重复预约" in text(client.get(second["Location"]))
    month = AccountMonth.objects.get()
    assert month.held == standard.project("hc-bathing", on=TODAY).price  # held once, not twice


def test_a_key_already_used_for_another_booking_is_replaced(client: Client, world: World) -> None:
    as_user(client, world.family)
    url = reverse("homecare:book", args=[world.elder.pk])
    client.post(url, book_data("k1"))
    response = client.post(url, book_data("k1", item="hc-cleaning"))
    assert response.status_code == 400
    assert "这张预约单已经提交过一次" in text(response)
    fresh = response.context["form"]["idempotency_key"].value()
    assert fresh != "k1"
    again = client.post(url, book_data(fresh, item="hc-cleaning"))
    assert again.status_code == 302
    assert sorted(Order.objects.values_list("item", flat=True)) == ["hc-bathing", "hc-cleaning"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (book_data("k", start="09:00", end="09:30"), "每次不少于60分钟"),
        (book_data("k", day=TODAY - dt.timedelta(days=1)), "服务时段已经过去"),
        (book_data("k", start="12:00", end="09:00"), "结束时间必须晚于开始时间"),
        (book_data("k", item="hc-rehab-care"), "选择一个有效的选项"),
        (book_data(""), "页面已过期"),
        ({**book_data("k"), "day": "明天"}, "输入一个有效的日期"),
    ],
)
def test_a_refused_booking_shows_why(client: Client, world: World, data: dict[str, str], message: str) -> None:
    as_user(client, world.family)
    response = client.post(reverse("homecare:book", args=[world.elder.pk]), data)
    assert response.status_code == 400
    assert message in text(response)
    assert 'role="alert"' in text(response)
    assert not Order.objects.exists()


def test_the_monthly_limit_is_shown_on_the_form(client: Client, world: World) -> None:
    limit = standard.project("hc-bathing", on=TODAY).monthly_limit
    assert limit is not None
    for n in range(limit):
        book_bath(world, key=f"b{n}", day=DAY + dt.timedelta(days=n))
    as_user(client, world.family)
    response = client.post(reverse("homecare:book", args=[world.elder.pk]), book_data("over"))
    assert response.status_code == 400
    assert f"每月不超过{limit}次，本月已预约{limit}次" in text(response)
    assert Order.objects.count() == limit


def test_an_elder_without_an_account_is_explained(client: Client, world: World) -> None:
    father = PersonFactory(name="钱老伯", birth_date=dt.date(1940, 1, 2))
    FamilyLink.objects.create(user=world.family, person=father, relation="son")
    as_user(client, world.family)
    home = text(client.get(reverse("homecare:family_home")))
    assert "钱老伯" in home
    assert "还没有开通居家养老上门服务账户" in home
    assert "村（社区）办公室" in home
    assert reverse("homecare:book", args=[father.pk]) not in home
    book = client.get(reverse("homecare:book", args=[father.pk]))
    assert book.status_code == 200
    assert book.context["form"] is None
    assert "还没有开通" in text(book)
    assert client.post(reverse("homecare:book", args=[father.pk]), book_data("x")).status_code == 200
    assert not Order.objects.exists()


def test_family_home_shows_the_month_and_the_orders(client: Client, world: World, booked: Order) -> None:
    as_user(client, world.family)
    response = client.get(reverse("homecare:family_home"))
    page = text(response)
    assert world.elder.name in page
    statement = response.context["cards"][0].statement
    assert (statement.allowance, statement.held, statement.remaining) == (
        Decimal("200.00"),
        booked.subsidy,
        Decimal("200.00") - booked.subsidy,
    )
    assert f"{statement.remaining} 元" in page
    assert reverse("homecare:order", args=[booked.pk]) in page
    assert "助浴服务" in page
    assert "已预约" in page  # the status, in Chinese


def test_a_resident_without_elders_is_told_how_to_link(client: Client, world: World) -> None:
    as_user(client, world.stranger)
    page = text(client.get(reverse("homecare:family_home")))
    assert "还没有关联需要照顾的老人" in page


# --- the family's order page -----------------------------------------------------------------------


def test_the_order_page_shows_the_code_while_the_visit_is_scheduled(
    client: Client, world: World, scheduled: Order
) -> None:
    as_user(client, world.family)
    page = text(client.get(reverse("homecare:order", args=[scheduled.pk])))
    assert scheduled.confirmation_code in page
    assert "请在护理员服务结束时把确认码告诉护理员" in page
    assert world.caregiver.name in page
    assert "已派单" in page
    assert unlabelled(page) == []
    assert unique_ids(page)


def test_the_code_is_not_shown_before_a_caregiver_is_sent(client: Client, world: World, booked: Order) -> None:
    as_user(client, world.family)
    page = text(client.get(reverse("homecare:order", args=[booked.pk])))
    assert 'data-testid="confirmation-code"' not in page
    assert "请在护理员服务结束时" not in page


@pytest.mark.parametrize("who", ["stranger", "other_caregiver", "caregiver_user", "provider_admin"])
def test_the_order_page_is_the_familys_only(
    client: Client, world: World, other_caregiver: User, scheduled: Order, who: str
) -> None:
    # The assigned caregiver too: the code must be told at the door, never read off a screen.
    user = other_caregiver if who == "other_caregiver" else world.user(who)
    as_user(client, user)
    response = client.get(reverse("homecare:order", args=[scheduled.pk]))
    assert response.status_code == 404
    assert scheduled.confirmation_code not in text(response)


def test_no_page_shows_the_identity_number(client: Client, world: World, in_service: Order) -> None:
    number = crypto.decrypt(world.elder.id_number_encrypted, lookup=world.elder.id_number_hash).value
    as_user(client, world.family)
    pages = [reverse("homecare:family_home"), reverse("homecare:order", args=[in_service.pk])]
    seen = [text(client.get(url)) for url in pages]
    as_user(client, world.caregiver_user)
    seen += [
        text(client.get(f"{reverse('homecare:route')}?day={DAY}")),
        text(client.get(reverse("homecare:visit", args=[in_service.pk]))),
    ]
    assert all(world.elder.name in page for page in seen)
    assert not any(number in page or number[:10] in page for page in seen)


def test_family_cancels_with_a_reason(client: Client, world: World, booked: Order) -> None:
    as_user(client, world.family)
    url = reverse("homecare:order_cancel", args=[booked.pk])
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 400
    assert "这个字段是必填项" in text(refused)
    response = client.post(url, {"reason": "老人住院了"})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == OrderStatus.CANCELLED
    assert AccountMonth.objects.get().held == 0
    assert "补贴额度已退回" in text(client.get(response["Location"]))


def test_a_visit_under_way_cannot_be_cancelled(client: Client, world: World, in_service: Order) -> None:
    as_user(client, world.family)
    page = text(client.get(reverse("homecare:order", args=[in_service.pk])))
    assert reverse("homecare:order_cancel", args=[in_service.pk]) not in page
    response = client.post(reverse("homecare:order_cancel", args=[in_service.pk]), {"reason": "不要了"})
    assert response.status_code == 400
    assert "不能取消" in text(response)
    in_service.refresh_from_db()
    assert in_service.status == OrderStatus.IN_SERVICE


def test_family_confirms_then_rates(client: Client, world: World, completed: Order) -> None:
    as_user(client, world.family)
    order_url = reverse("homecare:order", args=[completed.pk])
    page = text(client.get(order_url))
    assert completed.confirmation_code in page  # completed, not yet confirmed: still needed at the door
    assert "协助洗浴" in page
    early = client.post(reverse("homecare:order_rate", args=[completed.pk]), {"stars": "5"})
    assert early.status_code == 400
    assert "请先确认服务已完成" in text(early)

    assert client.post(reverse("homecare:order_confirm", args=[completed.pk])).status_code == 302
    completed.refresh_from_db()
    assert completed.confirmed_at is not None
    page = text(client.get(order_url))
    assert completed.confirmation_code not in page
    # Stars are a labelled radio group inside a fieldset with a legend.
    assert re.search(r"<fieldset[^>]*>\s*<legend[^>]*>给这次服务打分</legend>", page)
    assert 'type="radio" name="stars" value="5"' in page
    assert "5 星：非常满意" in page
    assert unlabelled(page) == []

    response = client.post(reverse("homecare:order_rate", args=[completed.pk]), {"stars": "4", "comment": "很耐心"})
    assert response.status_code == 302
    rating = Rating.objects.get(order=completed)
    assert (rating.stars, rating.comment, rating.rated_by) == (4, "很耐心", world.family)
    completed.refresh_from_db()
    assert completed.status == OrderStatus.RATED
    assert "4 星" in text(client.get(order_url))


@pytest.mark.parametrize("stars", ["0", "6", "五"])
def test_stars_out_of_range_are_refused(client: Client, world: World, confirmed: Order, stars: str) -> None:
    as_user(client, world.family)
    response = client.post(reverse("homecare:order_rate", args=[confirmed.pk]), {"stars": stars})
    assert response.status_code == 400
    assert not Rating.objects.exists()


def test_family_complains_and_sees_the_due_date(client: Client, world: World, confirmed: Order) -> None:
    as_user(client, world.family)
    url = reverse("homecare:order_complain", args=[confirmed.pk])
    empty = client.post(url, {"text": ""})
    assert empty.status_code == 400
    response = client.post(url, {"text": "护理员迟到一小时"})
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.lodged_by == world.family
    page = text(client.get(reverse("homecare:order", args=[confirmed.pk])))
    assert "护理员迟到一小时" in page
    assert "处理中" in page
    assert f"{complaint.due_on:%Y-%m-%d}" in page


def test_a_request_not_yet_sent_out_cannot_be_complained_about(client: Client, world: World, booked: Order) -> None:
    as_user(client, world.family)
    response = client.post(reverse("homecare:order_complain", args=[booked.pk]), {"text": "太慢"})
    assert response.status_code == 400
    assert "还没有派单上门，不能投诉" in text(response)
    assert not Complaint.objects.exists()


# --- the caregiver ---------------------------------------------------------------------------------


def test_the_route_lists_the_scheduled_visit(client: Client, world: World, scheduled: Order) -> None:
    as_user(client, world.caregiver_user)
    response = client.get(reverse("homecare:route"), {"day": DAY.isoformat()})
    page = text(response)
    assert response.status_code == 200
    assert reverse("homecare:visit", args=[scheduled.pk]) in page
    assert "09:30" in page
    assert "助浴服务" in page
    assert world.elder.name in page
    assert world.account.address in page
    assert "已派单" in page
    assert scheduled.confirmation_code not in page
    assert unlabelled(page) == []


def test_the_route_opens_on_the_next_day_with_visits(
    client: Client, world: World, scheduled: Order, clock: Clock
) -> None:
    # Seen: the route opened on an empty today while the bath was planned for the day after tomorrow.
    as_user(client, world.caregiver_user)
    page = text(client.get(reverse("homecare:route")))
    assert reverse("homecare:visit", args=[scheduled.pk]) in page
    assert "今天没有安排上门服务，下面是接下来最近有安排的一天" in page
    assert f'value="{DAY.isoformat()}"' in page
    # On the day itself it is today's route; asked for another day, that day, even when empty.
    clock.now = at(DAY, 7)
    page = text(client.get(reverse("homecare:route")))
    assert reverse("homecare:visit", args=[scheduled.pk]) in page
    assert "今天没有安排" not in page
    assert "这一天没有安排上门服务" in text(client.get(reverse("homecare:route"), {"day": TODAY.isoformat()}))


def test_the_route_stays_on_an_empty_today_without_work(client: Client, world: World) -> None:
    as_user(client, world.caregiver_user)
    page = text(client.get(reverse("homecare:route")))
    assert "这一天没有安排上门服务" in page
    assert "今天没有安排上门服务，下面是" not in page


def test_a_bad_day_on_the_route_is_said_so(client: Client, world: World) -> None:
    as_user(client, world.caregiver_user)
    response = client.get(reverse("homecare:route"), {"day": "2026-13-40"})
    assert response.status_code == 400
    assert "输入一个有效的日期" in text(response)


def test_another_caregivers_route_does_not_list_the_visit(
    client: Client, world: World, other_caregiver: User, scheduled: Order
) -> None:
    as_user(client, other_caregiver)
    page = text(client.get(reverse("homecare:route"), {"day": DAY.isoformat()}))
    assert reverse("homecare:visit", args=[scheduled.pk]) not in page


def test_the_visit_page_says_what_to_do_and_offers_check_in(client: Client, world: World, scheduled: Order) -> None:
    as_user(client, world.caregiver_user)
    page = text(client.get(reverse("homecare:visit", args=[scheduled.pk])))
    assert "协助洗浴、更衣" in page  # the item's content, from the standard in force
    assert reverse("homecare:visit_check_in", args=[scheduled.pk]) in page
    assert reverse("homecare:visit_no_show", args=[scheduled.pk]) in page
    assert "homecare/geo.js" in page
    assert "data-geo" in page
    assert f"{int(standard.number('checkin_radius_m', on=TODAY))} 米以内" in page
    assert scheduled.confirmation_code not in page
    assert unlabelled(page) == []
    assert unique_ids(page)


# What geo.js sends when the phone's location filled the coordinates.
AT_HOME = {"latitude": str(ELDER_HOME[0]), "longitude": str(ELDER_HOME[1]), "located": "device", "accuracy": "12"}


def test_check_in_at_the_door(client: Client, world: World, scheduled: Order, clock: Clock) -> None:
    clock.now = at(DAY, 9, 32)
    as_user(client, world.caregiver_user)
    response = client.post(reverse("homecare:visit_check_in", args=[scheduled.pk]), AT_HOME)
    assert response.status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.status == OrderStatus.IN_SERVICE
    assert (scheduled.checkin_distance_m, scheduled.checkin_flagged) == (0, False)
    page = text(client.get(response["Location"]))
    assert "已签到" in page
    assert "约 0 米" in page
    assert "在范围内" in page


def test_check_in_far_away_needs_a_reason(client: Client, world: World, scheduled: Order, clock: Clock) -> None:
    clock.now = at(DAY, 9, 32)
    as_user(client, world.caregiver_user)
    url = reverse("homecare:visit_check_in", args=[scheduled.pk])
    far = {"latitude": str(FAR.latitude), "longitude": str(FAR.longitude), "located": "device"}
    refused = client.post(url, far)
    page = text(refused)
    assert refused.status_code == 400
    assert "请填写原因后再提交" in page
    assert re.search(r'<div class="hc-field has-error">\s*<label for="checkin_reason"', page)
    assert 'aria-invalid="true"' in page
    assert f'value="{FAR.latitude}"' in page  # kept, so only the reason needs typing
    scheduled.refresh_from_db()
    assert scheduled.status == OrderStatus.SCHEDULED

    response = client.post(url, {**far, "reason": "老人在女儿家接受服务"})
    assert response.status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.status == OrderStatus.IN_SERVICE
    assert scheduled.checkin_flagged
    assert scheduled.checkin_distance_m is not None
    assert scheduled.checkin_distance_m > 2000
    page = text(client.get(response["Location"]))
    assert "超出范围，已标记待核查" in page
    assert "老人在女儿家接受服务" in page
    assert f"约 {scheduled.checkin_distance_m} 米" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"latitude": "", "longitude": ""}, "这个字段是必填项"),
        ({"latitude": "95", "longitude": "121.42"}, "确保该值小于或等于90"),
        ({"latitude": "北纬28度", "longitude": "121.42"}, "输入一个数字"),
        ({"latitude": "NaN", "longitude": "121.42"}, "输入一个数字"),
    ],
)
def test_check_in_needs_a_position(
    client: Client, world: World, scheduled: Order, data: dict[str, str], message: str
) -> None:
    as_user(client, world.caregiver_user)
    response = client.post(reverse("homecare:visit_check_in", args=[scheduled.pk]), data)
    assert response.status_code == 400
    assert message in text(response)


def test_photos_good_and_bad(client: Client, world: World, in_service: Order, other_caregiver: User) -> None:
    as_user(client, world.caregiver_user)
    visit = text(client.get(reverse("homecare:visit", args=[in_service.pk])))
    assert 'accept="image/jpeg,image/png,image/webp"' in visit
    assert 'capture="environment"' in visit
    assert 'enctype="multipart/form-data"' in visit
    url = reverse("homecare:visit_photo", args=[in_service.pk])

    bad = client.post(url, {"photo": SimpleUploadedFile("note.jpg", "这不是照片".encode(), "image/jpeg")})
    assert bad.status_code == 400
    assert "note.jpg 不是 JPEG、PNG 或 WebP 图片" in text(bad)
    assert not ServicePhoto.objects.exists()

    good = client.post(url, {"photo": SimpleUploadedFile("bath.jpg", JPEG, "image/jpeg")})
    assert good.status_code == 302
    photo = ServicePhoto.objects.get()
    photo_url = reverse("homecare:photo", args=[in_service.pk, photo.pk])
    assert photo_url in text(client.get(reverse("homecare:visit", args=[in_service.pk])))

    served = client.get(photo_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    served_bytes = b"".join(served.streaming_content)  # type: ignore[attr-defined]
    with photo.image.open("rb") as kept:
        assert served_bytes == kept.read()
    assert served_bytes.startswith(b"\xff\xd8\xff")
    assert b"PhoneMaker" not in served_bytes

    as_user(client, world.family)
    assert client.get(photo_url).status_code == 200
    assert photo_url in text(client.get(reverse("homecare:order", args=[in_service.pk])))
    for outsider in (world.stranger, other_caregiver):
        as_user(client, outsider)
        assert client.get(photo_url).status_code == 404
    # The photo's id under another order the family may see is not found either.
    second = book_bath(world, key="bath-2", day=DAY + dt.timedelta(days=7))
    as_user(client, world.family)
    assert client.get(reverse("homecare:photo", args=[second.pk, photo.pk])).status_code == 404


def test_no_more_photos_than_the_limit(client: Client, world: World, in_service: Order, settings: Any) -> None:
    settings.FUWU_PHOTO_MAX_COUNT = 1
    as_user(client, world.caregiver_user)
    url = reverse("homecare:visit_photo", args=[in_service.pk])
    assert client.post(url, {"photo": SimpleUploadedFile("a.jpg", JPEG, "image/jpeg")}).status_code == 302
    page = text(client.get(reverse("homecare:visit", args=[in_service.pk])))
    assert url not in page
    assert "已经传满" in page
    refused = client.post(url, {"photo": SimpleUploadedFile("b.jpg", JPEG, "image/jpeg")})
    assert refused.status_code == 400
    assert "最多上传1张照片" in text(refused)


def test_check_out_with_the_record(client: Client, world: World, in_service: Order, clock: Clock) -> None:
    clock.now = at(DAY, 10, 45)
    as_user(client, world.caregiver_user)
    url = reverse("homecare:visit_check_out", args=[in_service.pk])
    home = AT_HOME
    empty = client.post(url, {**home, "tasks": " \n "})
    assert empty.status_code == 400
    assert "请至少填写一项已完成的服务内容" in text(empty)

    response = client.post(url, {**home, "tasks": "协助洗浴\n\n更换衣物\n", "notes": "老人左膝有淤青"})
    assert response.status_code == 302
    in_service.refresh_from_db()
    assert in_service.status == OrderStatus.COMPLETED
    assert in_service.tasks_done == ["协助洗浴", "更换衣物"]
    assert in_service.notes == "老人左膝有淤青"
    page = text(client.get(response["Location"]))
    assert "更换衣物" in page
    assert reverse("homecare:visit_confirm", args=[in_service.pk]) in page
    assert in_service.confirmation_code not in page


def test_confirm_with_the_code_at_the_door(client: Client, world: World, completed: Order) -> None:
    as_user(client, world.caregiver_user)
    url = reverse("homecare:visit_confirm", args=[completed.pk])
    wrong = "0000" if completed.confirmation_code != "0000" else "1111"
    refused = client.post(url, {"code": wrong})
    assert refused.status_code == 400
    assert "确认码不正确" in text(refused)
    completed.refresh_from_db()
    assert completed.confirmed_at is None

    response = client.post(url, {"code": completed.confirmation_code})
    assert response.status_code == 302
    completed.refresh_from_db()
    assert completed.confirmed_at is not None
    assert completed.confirmed_by == world.caregiver_user
    month = AccountMonth.objects.get()
    assert (month.held, month.spent) == (Decimal(0), completed.subsidy)
    page = text(client.get(response["Location"]))
    assert "这次服务已确认完成" in page
    assert url not in page


def test_no_show_with_a_reason(client: Client, world: World, scheduled: Order) -> None:
    as_user(client, world.caregiver_user)
    url = reverse("homecare:visit_no_show", args=[scheduled.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(
        url, {"reason": "老人不在家，电话无人接听", "latitude": str(ELDER_HOME[0]), "longitude": str(ELDER_HOME[1])}
    )
    assert response.status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.status == OrderStatus.NO_SHOW
    assert scheduled.end_reason == "老人不在家，电话无人接听"
    assert AccountMonth.objects.get().held == 0


def test_no_show_keeps_where_the_caregiver_was(client: Client, world: World, scheduled: Order) -> None:
    as_user(client, world.caregiver_user)
    client.post(
        reverse("homecare:visit_no_show", args=[scheduled.pk]),
        {"reason": "老人不在家", "latitude": str(ELDER_HOME[0]), "longitude": str(ELDER_HOME[1])},
    )
    scheduled.refresh_from_db()
    assert scheduled.status == OrderStatus.NO_SHOW
    assert (scheduled.checkin_latitude, scheduled.checkin_distance_m) == (ELDER_HOME[0], 0)


# --- who gets in -----------------------------------------------------------------------------------

WHO = ["anonymous", "family", "stranger", "caregiver_user", "other_caregiver", "provider_admin", "officer"]
# Status for each page and person; anyone not named gets a 404 (the anonymous are sent to log in).
ALLOWED: dict[str, dict[str, int]] = {
    "family_home": {"family": 200, "stranger": 200, "caregiver_user": 302, "other_caregiver": 302},
    "book": {"family": 200, "officer": 200},
    "order": {"family": 200},
    "photo": {"family": 200, "caregiver_user": 200, "provider_admin": 200, "officer": 200},
    "route": {"caregiver_user": 200, "other_caregiver": 200},
    "visit": {"caregiver_user": 200},
}
# POSTs with an empty form: the right person gets the form back with what is missing (400).
POSTS: dict[str, str] = {
    "order_cancel": "family",
    "order_confirm": "family",
    "order_rate": "family",
    "order_complain": "family",
    "visit_check_in": "caregiver_user",
    "visit_check_out": "caregiver_user",
    "visit_photo": "caregiver_user",
    "visit_confirm": "caregiver_user",
    "visit_no_show": "caregiver_user",
}


@pytest.fixture
def door(world: World, in_service: Order, other_caregiver: User) -> dict[str, Any]:
    photo = photo_add(
        actor=world.caregiver_user, order=in_service, upload=SimpleUploadedFile("a.jpg", JPEG, "image/jpeg")
    )
    return {
        "users": {name: other_caregiver if name == "other_caregiver" else world.user(name) for name in WHO[1:]},
        "urls": {
            "family_home": reverse("homecare:family_home"),
            "book": reverse("homecare:book", args=[world.elder.pk]),
            "order": reverse("homecare:order", args=[in_service.pk]),
            "photo": reverse("homecare:photo", args=[in_service.pk, photo.pk]),
            "route": reverse("homecare:route"),
            "visit": reverse("homecare:visit", args=[in_service.pk]),
        },
        "order": in_service,
    }


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("page", list(ALLOWED))
def test_permission_matrix_pages(client: Client, door: dict[str, Any], page: str, who: str) -> None:
    url = door["urls"][page]
    if who != "anonymous":
        as_user(client, door["users"][who])
    response = client.get(url)
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN}?next=")
        return
    expected = ALLOWED[page].get(who, 404)
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == reverse("homecare:route")


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("endpoint", list(POSTS))
def test_permission_matrix_posts(client: Client, door: dict[str, Any], endpoint: str, who: str) -> None:
    order: Order = door["order"]
    url = reverse(f"homecare:{endpoint}", args=[order.pk])
    if who != "anonymous":
        as_user(client, door["users"][who])
    response = client.post(url, {})
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN}?next=")
    else:
        assert response.status_code == (400 if POSTS[endpoint] == who else 404)
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_SERVICE  # nobody changed anything


@pytest.mark.parametrize("endpoint", list(POSTS))
def test_actions_take_post_only(client: Client, world: World, door: dict[str, Any], endpoint: str) -> None:
    as_user(client, door["users"][POSTS[endpoint]])
    assert client.get(reverse(f"homecare:{endpoint}", args=[door["order"].pk])).status_code == 405


def test_actions_need_the_csrf_token(world: World, booked: Order) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.family)
    response = client.post(reverse("homecare:order_cancel", args=[booked.pk]), {"reason": "不要了"})
    assert response.status_code == 403
    booked.refresh_from_db()
    assert booked.status == OrderStatus.REQUESTED


@pytest.mark.parametrize("state", ["booked", "scheduled", "in_service", "completed", "confirmed"])
def test_markup_at_every_step(client: Client, world: World, request: pytest.FixtureRequest, state: str) -> None:
    """Every control labelled, ids unique, headings in order, on each page a step shows."""
    order: Order = request.getfixturevalue(state)
    pages = []
    as_user(client, world.family)
    pages += [client.get(reverse("homecare:family_home")), client.get(reverse("homecare:order", args=[order.pk]))]
    pages.append(client.get(reverse("homecare:book", args=[world.elder.pk])))
    if order.caregiver_id:
        as_user(client, world.caregiver_user)
        pages.append(client.get(reverse("homecare:visit", args=[order.pk])))
        pages.append(client.get(reverse("homecare:route"), {"day": DAY.isoformat()}))
    for response in pages:
        page = text(response)
        assert response.status_code == 200
        assert unlabelled(page) == [], response.request["PATH_INFO"]
        assert unique_ids(page), response.request["PATH_INFO"]
        assert headings_in_order(page), response.request["PATH_INFO"]
