"""Demo data for compliance: institutions in every county, published random draws, inspections in every state,
rectification under way and overdue, pilots, and so a coverage map.

Reproducible: every choice comes from ``random.Random`` seeded with fixed numbers (the draws' seeds too), and
dates are counted from the day it runs. Everything goes through the services, as a department would, so the
audit log reads like a real month. Idempotent: once the demo's institutions exist it changes nothing.

Accounts: the demo logins (``demo_accounts``) act in 椒江区 — ``officer`` draws there, ``inspector`` and
``inspector2`` are its pool, ``institution`` runs a micro fire station and a township veterans' station.
Every other county gets an officer and two inspectors who cannot log in (``demo-officer-<county>`` …).
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from fuwu.accounts.models import Department, Role, User
from fuwu.areas import outlines
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.uploads import Location
from fuwu.compliance.checklists import kinds_in_force
from fuwu.compliance.models import (
    Draw,
    Inspection,
    InspectionStatus,
    Institution,
    OrderStatus,
    Pilot,
    RectificationOrder,
)
from fuwu.compliance.services.draws import draw_make, draw_publish
from fuwu.compliance.services.inspections import (
    answer_give,
    evidence_add,
    inspection_assign,
    inspection_publish,
    inspection_sign,
    inspection_start,
    reinspection_open,
    self_assessment_start,
)
from fuwu.compliance.services.institutions import (
    conflict_declare,
    inspector_enrol,
    institutions_link_homecare_providers,
)
from fuwu.compliance.services.pilots import pilot_decide, pilot_designate, pilot_findings
from fuwu.compliance.services.rectification import (
    order_accept,
    order_answer,
    order_evidence_add,
    order_reinspect,
    orders_flag_overdue,
)
from fuwu.standards.models import Standard

SEED = 20261201
HOME = "331002"  # 椒江区, where the demo logins work
DEPARTMENT = "civil-affairs"
PREFIX = "DEMO-"
RATIOS = {
    "veterans-service-centre": Decimal(1),
    "veterans-station-township": Decimal("0.5"),
    "veterans-station-village": Decimal("0.5"),
    "micro-fire-station": Decimal("0.5"),
    "village-fire-safety": Decimal("0.5"),
    "sports-venue": Decimal(1),
    "fitness-centre": Decimal(1),
    "village-fitness-site": Decimal("0.5"),
    "home-care-provider": Decimal(1),
}
# Elsewhere a lighter draw, so the demo builds in reasonable time: home care is inspected in 椒江 only.
ELSEWHERE = {
    **RATIOS,
    "veterans-station-village": Decimal("0.25"),
    "village-fire-safety": Decimal("0.25"),
    "fitness-centre": Decimal(0),
    "home-care-provider": Decimal(0),
}
RICH = ("veterans-station-village", "micro-fire-station", "veterans-station-township")
INSPECTOR_NAMES = {"inspector": "陈立新（演示）", "inspector2": "周海燕（演示）"}


class DemoNotReady(Exception):
    """A step ``make demo`` runs before this one has not run (areas, standards, demo accounts)."""


@dataclass(frozen=True)
class DemoCompliance:
    institutions: int
    draws: int
    inspections: dict[str, int]
    orders: dict[str, int]
    pilots: int
    created: bool


def _summary(created: bool) -> DemoCompliance:
    inspections = {s: Inspection.objects.filter(status=s).count() for s in InspectionStatus.values}
    orders = {s: RectificationOrder.objects.filter(status=s).count() for s in OrderStatus.values}
    return DemoCompliance(
        Institution.objects.count(), Draw.objects.count(), inspections, orders, Pilot.objects.count(), created
    )


def demo_compliance_ensure(*, today: dt.date | None = None) -> DemoCompliance:
    if Institution.objects.filter(code__startswith=PREFIX).exists():
        return _summary(False)
    today = today or timezone.localdate()
    with transaction.atomic():
        _Builder(today).run()
    return _summary(True)


def _photo(rng: random.Random, label: str) -> SimpleUploadedFile:
    """A small, made-up photo: a coloured field with a few shapes (the stamp is added by the service)."""
    image = Image.new("RGB", (160, 120), (rng.randrange(120, 220), rng.randrange(120, 220), rng.randrange(120, 220)))
    canvas = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.randrange(0, 130), rng.randrange(0, 90)
        canvas.rectangle(
            (x, y, x + rng.randrange(10, 30), y + rng.randrange(10, 30)), fill=(rng.randrange(256), 90, 60)
        )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return SimpleUploadedFile(f"{label}.jpg", out.getvalue(), content_type="image/jpeg")


class _Builder:
    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.rng = random.Random(SEED)  # noqa: S311 - demo data, reproducible on purpose
        self.tz = timezone.get_current_timezone()
        self.kinds = kinds_in_force()
        self.points: dict[int, tuple[float, float]] = {}
        try:
            self.department = Department.objects.get(code=DEPARTMENT)
            self.users = {
                u.username: u
                for u in User.objects.filter(username__in=[*INSPECTOR_NAMES, "officer", "institution", "stdoffice"])
            }
        except Department.DoesNotExist as exc:
            raise DemoNotReady("run `fuwu demo_accounts` first") from exc
        missing = {"officer", "institution", "stdoffice", *INSPECTOR_NAMES} - set(self.users)
        if missing:
            raise DemoNotReady(f"demo accounts missing ({', '.join(sorted(missing))}); run `fuwu demo_accounts`")
        if not self.kinds:
            raise DemoNotReady("no standard declares institution kinds; run `fuwu standards load standards/`")
        self.counties = list(Area.objects.filter(level=AreaLevel.COUNTY).order_by("code"))
        if not self.counties:
            raise DemoNotReady("no areas; run `fuwu areas load`")

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)

    # --- who -------------------------------------------------------------------------------------------------

    def people(self) -> dict[str, tuple[User, list[User]]]:
        """Each county's officer and its inspectors (椒江: the demo logins; elsewhere three who cannot log in)."""
        for username, name in INSPECTOR_NAMES.items():
            user = self.users[username]
            user.first_name = name
            user.save(update_fields=["first_name"])
            inspector_enrol(actor=None, user=user, department_id=self.department.pk, area=self.counties[0])
        out = {HOME: (self.users["officer"], [self.users[u] for u in INSPECTOR_NAMES])}
        surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高"
        for i, county in enumerate(c for c in self.counties if c.code != HOME):
            officer = User.objects.create_user(
                username=f"demo-officer-{county.code}",
                role=Role.DEPARTMENT_OFFICER,
                area=county,
                department=self.department,
                first_name=f"{county.name_zh}民政科（演示）",
            )
            officer.set_unusable_password()
            officer.save()
            inspectors = []
            for n in (1, 2, 3):
                user = User.objects.create_user(
                    username=f"demo-inspector-{county.code}-{n}",
                    role=Role.INSPECTOR,
                    area=county,
                    department=self.department,
                    first_name=f"{surnames[(2 * i + n) % len(surnames)]}检查员（演示）",
                )
                user.set_unusable_password()
                user.save()
                inspector_enrol(actor=None, user=user, department_id=self.department.pk, area=county)
                inspectors.append(user)
            out[county.code] = (officer, inspectors)
        return out

    # --- what ------------------------------------------------------------------------------------------------

    def place(self, area: Area, county: Area) -> tuple[Decimal, Decimal]:
        """A point for an institution: near its township's point, inside the county's outline."""
        anchor = area if area.level != AreaLevel.VILLAGE else area.parent
        assert anchor is not None  # noqa: S101 - a village has a township
        if anchor.pk not in self.points:
            self.points[anchor.pk] = outlines.random_point(county.code, self.rng)
        lat, lon = self.points[anchor.pk]
        if area.level == AreaLevel.VILLAGE:
            for _ in range(20):
                jittered = (lat + self.rng.uniform(-0.01, 0.01), lon + self.rng.uniform(-0.01, 0.01))
                if outlines.contains(county.code, latitude=jittered[0], longitude=jittered[1]):
                    lat, lon = jittered
                    break
        return Decimal(f"{lat:.6f}"), Decimal(f"{lon:.6f}")

    def institution(self, kind: str, area: Area, county: Area, name: str) -> Institution | None:
        if kind not in self.kinds:
            return None
        lat, lon = self.place(area, county)
        return Institution.objects.create(
            name=name,
            kind=kind,
            code=f"{PREFIX}{kind}-{area.code}",
            area=area,
            address=f"{county.name_zh}{'' if area == county else area.name_zh}（演示地址）",
            latitude=lat,
            longitude=lon,
            contact_name="值班人员（演示）",
            contact_phone=f"0576-8{self.rng.randrange(1000000, 9999999)}",
        )

    def institutions(self) -> None:
        for county in self.counties:
            townships = list(Area.objects.filter(parent=county, level=AreaLevel.TOWNSHIP).order_by("code"))
            towns = [t for t in townships if t.kind_zh in ("镇", "乡")] or townships
            self.institution("veterans-service-centre", county, county, f"{county.name_zh}退役军人服务中心")
            self.institution("sports-venue", county, county, f"{county.name_zh}体育中心")
            self.institution("home-care-provider", county, county, f"{county.name_zh}颐康居家养老服务中心（演示）")
            for township in townships[:3]:
                self.institution("veterans-station-township", township, county, f"{township.name_zh}退役军人服务站")
                for village in township.children.order_by("code"):
                    self.institution(
                        "veterans-station-village",
                        village,
                        county,
                        f"{township.name_zh}{village.name_zh}退役军人服务站",
                    )
            if townships:
                self.institution("fitness-centre", townships[0], county, f"{townships[0].name_zh}全民健身中心")
            for town in towns[:2]:
                for village in town.children.order_by("code"):
                    label = f"{town.name_zh}{village.name_zh}"
                    self.institution("micro-fire-station", village, county, f"{label}微型消防站")
                    self.institution("village-fire-safety", village, county, f"{label}（村级消防安全）")
                    self.institution("village-fitness-site", village, county, f"{label}健身广场")
        institutions_link_homecare_providers()
        # The demo institution administrator runs a micro fire station and a township station in 椒江.
        admin = self.users["institution"]
        mine = Institution.objects.filter(area__code__startswith=HOME, code__startswith=PREFIX).order_by("code")
        for kind in ("micro-fire-station", "veterans-station-township"):
            first = mine.filter(kind=kind).first()
            if first is not None:
                first.admins.add(admin)

    # --- inspections -----------------------------------------------------------------------------------------

    def fill(
        self,
        inspection: Inspection,
        actor: User,
        *,
        day: dt.date,
        fail_rate: float,
        only: int | None = None,
        perfect: bool = False,
    ) -> None:
        items = list(inspection.items.select_related("answer").order_by("position"))
        for n, item in enumerate(items):
            if only is not None and n >= only:
                break
            if getattr(item, "answer", None) is not None:
                continue
            roll = self.rng.random()
            result = "compliant"
            if not perfect and roll < fail_rate:
                result = "not" if roll < fail_rate / 3 else "partly"
            elif not perfect and roll > 0.97:
                result = "na"
            number = None
            if "number" in item.evidence and result != "na":
                number = (
                    item.at_least if item.at_least is not None else (item.at_most or Decimal(self.rng.randrange(2, 9)))
                )
                if result != "compliant" and item.at_least is not None:
                    number = (item.at_least * Decimal("0.8")).quantize(Decimal(1))
                elif result != "compliant" and item.at_most is not None:
                    number = item.at_most + 2
            note = {"not": "现场未见相关设施或记录（演示）", "partly": "部分落实，记录不全（演示）"}.get(result, "")
            when = self.at(day, 9) + dt.timedelta(minutes=2 * n)
            answer_give(actor=actor, item=item, result=result, note=note, number=number, now=when)
            if result != "na" and ("photo" in item.evidence or "file" in item.evidence):
                lat, lon = inspection.institution.latitude, inspection.institution.longitude
                here = Location(lat, lon, Decimal(12)) if lat is not None and lon is not None else None
                evidence_add(actor=actor, item=item, upload=_photo(self.rng, f"IMG_{item.pk}"), at=here, now=when)

    def complete(
        self,
        inspection: Inspection,
        officer: User,
        *,
        day: dt.date,
        fail_rate: float = 0.12,
        publish: bool = True,
        perfect: bool = False,
    ) -> Inspection:
        actor = inspection.inspectors.order_by("pk").first()
        assert actor is not None  # noqa: S101 - drawn or assigned with two inspectors
        if inspection.status == InspectionStatus.PLANNED:
            inspection_start(actor=actor, inspection=inspection, today=day)
        self.fill(inspection, actor, day=day, fail_rate=fail_rate, perfect=perfect)
        signed = inspection_sign(actor=actor, inspection=inspection, summary="", now=self.at(day, 11))
        if publish:
            inspection_publish(actor=officer, inspection=signed, now=self.at(day, 16))
        return signed

    def month(self, day: dt.date) -> tuple[dt.date, dt.date]:
        start = day.replace(day=1)
        return start, (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)

    def draw(
        self,
        county: Area,
        officer: User,
        *,
        period: tuple[dt.date, dt.date],
        seed: str,
        when: dt.datetime,
        ratios: dict[str, Decimal] | None = None,
    ) -> Draw:
        kinds = {k: r for k, r in (ratios or RATIOS).items() if k in self.kinds and r > 0}
        made = draw_make(
            actor=officer, area=county, period_start=period[0], period_end=period[1], ratios=kinds, seed=seed, now=when
        )
        return draw_publish(actor=officer, draw=made, now=when + dt.timedelta(hours=2))

    def planned(self, draw: Draw) -> list[Inspection]:
        return list(Inspection.objects.filter(pick__draw=draw, status=InspectionStatus.PLANNED).order_by("pk"))

    def counties_elsewhere(self, people: dict[str, tuple[User, list[User]]]) -> None:
        """Each other county: this month's draw, most of it inspected and published."""
        period = self.month(self.today)
        start = min(self.today, period[0] + dt.timedelta(days=2))
        for county in self.counties:
            if county.code == HOME:
                continue
            officer, _inspectors = people[county.code]
            made = self.draw(
                county,
                officer,
                period=period,
                seed=f"{SEED}{county.code[-2:]}",
                when=self.at(period[0], 9),
                ratios=ELSEWHERE,
            )
            for n, inspection in enumerate(self.planned(made)):
                if n % 7 == 6:
                    continue  # still planned
                self.complete(inspection, officer, day=start, fail_rate=self.rng.choice([0.05, 0.1, 0.25]))

    def home_county(self, people: dict[str, tuple[User, list[User]]]) -> None:
        """椒江: last month's draw done (one order overdue), this month's in every state, a self-assessment."""
        officer, (first, _second) = people[HOME]
        jj = next(c for c in self.counties if c.code == HOME)
        admin = self.users["institution"]
        last = self.month(self.today.replace(day=1) - dt.timedelta(days=1))
        worked = last[0] + dt.timedelta(days=9)
        made = self.draw(
            jj,
            officer,
            period=last,
            seed=f"{SEED}01",
            when=self.at(last[0], 9),
            ratios={k: Decimal("0.5") for k in RATIOS},
        )
        done = [self.complete(i, officer, day=worked, fail_rate=0.1) for i in self.planned(made)]
        # Every order put right and accepted but one, which by now is past its deadline.
        orders = list(
            RectificationOrder.objects.filter(inspection__in=done, status=OrderStatus.OPEN).order_by("due_on", "pk")
        )
        for order in orders[1:]:
            self._answer(order, admin_for=order.institution, day=worked + dt.timedelta(days=5))
            order_accept(
                actor=first, order=order, note="整改材料齐全（演示）", now=self.at(worked + dt.timedelta(days=6), 10)
            )

        period = self.month(self.today)
        start = min(self.today, period[0] + dt.timedelta(days=1))
        current = self.draw(jj, officer, period=period, seed=f"{SEED}02", when=self.at(period[0], 9))
        # The states that need a failed requirement go to kinds with several requirements.
        plan = sorted(self.planned(current), key=lambda i: (i.institution.kind not in RICH, i.pk))
        states = ["reinspected", "answered", "open", "published", "signed", "in_progress"]
        for n, inspection in enumerate(plan):
            state = states[n] if n < len(states) else ("planned" if n % 3 == 0 else "published")
            if state == "planned":
                continue
            if state == "in_progress":
                actor = inspection.inspectors.order_by("pk").first()
                assert actor is not None  # noqa: S101 - drawn with two inspectors
                inspection_start(actor=actor, inspection=inspection, today=start)
                self.fill(inspection, actor, day=start, fail_rate=0.1, only=4)
                continue
            if state in ("reinspected", "answered", "open"):
                signed = self._with_a_failure(inspection, officer, day=start)
                if state == "open":
                    continue
                for order in signed.orders.all():
                    self._answer(order, admin_for=inspection.institution, day=start)
                if state == "reinspected":
                    actor = signed.inspectors.order_by("pk").first()
                    assert actor is not None  # noqa: S101
                    for order in signed.orders.all():
                        order_reinspect(actor=actor, order=order, note="需现场核实（演示）", now=self.at(start, 15))
                    again = reinspection_open(actor=actor, original=signed, today=start)
                    self.complete(again, officer, day=start, perfect=True)
                continue
            self.complete(inspection, officer, day=start, publish=state == "published")
        # The institution's own check of its micro fire station, half done.
        mine = Institution.objects.filter(admins=admin).order_by("kind").first()
        if mine is not None:
            standard = Standard.objects.filter(key__in=self.kinds[mine.kind].standards).first()
            if standard is not None:
                own = self_assessment_start(actor=admin, institution=mine, standard=standard, today=start)
                self.fill(own, admin, day=start, fail_rate=0.2, only=3)
        orders_flag_overdue(today=self.today)

    def _with_a_failure(self, inspection: Inspection, officer: User, *, day: dt.date) -> Inspection:
        """Signed and published with at least one failed requirement, so an order opens."""
        actor = inspection.inspectors.order_by("pk").first()
        assert actor is not None  # noqa: S101
        inspection_start(actor=actor, inspection=inspection, today=day)
        requirements = inspection.items.filter(clause_kind="requirement").order_by("critical", "position")
        target = requirements.first()
        if target is not None:
            answer_give(
                actor=actor,
                item=target,
                result="not",
                note="现场未见公示内容（演示）",
                number=_low(target),
                now=self.at(day, 9),
            )
            if "photo" in target.evidence or "file" in target.evidence:
                evidence_add(actor=actor, item=target, upload=_photo(self.rng, "IMG_fail"), now=self.at(day, 9))
        self.fill(inspection, actor, day=day, fail_rate=0.0)
        signed = inspection_sign(actor=actor, inspection=inspection, now=self.at(day, 11))
        return inspection_publish(actor=officer, inspection=signed, now=self.at(day, 16))

    def _answer(self, order: RectificationOrder, *, admin_for: Institution, day: dt.date) -> None:
        admin = admin_for.admins.first() or self._admin(admin_for)
        order_evidence_add(actor=admin, order=order, upload=_photo(self.rng, "整改后"), now=self.at(day, 14))
        order_answer(actor=admin, order=order, response="已按要求整改并拍照留存（演示）", now=self.at(day, 14, 30))

    def _admin(self, institution: Institution) -> User:
        user = User.objects.create_user(
            username=f"demo-admin-{institution.pk}",
            role=Role.INSTITUTION_ADMIN,
            area=institution.area,
            first_name="机构管理员（演示）",
        )
        user.set_unusable_password()
        user.save()
        institution.admins.add(user)
        return user

    # --- pilots ----------------------------------------------------------------------------------------------

    def pilots(self, people: dict[str, tuple[User, list[User]]]) -> None:
        """A veterans' pilot in a township of 椒江 inspected for acceptance and accepted; a fire pilot under way."""
        stdoffice = self.users["stdoffice"]
        officer, inspectors = people[HOME]
        veterans = self._standard("veterans-station-village")
        township = (
            Institution.objects.filter(kind="veterans-station-township", area__code__startswith=HOME)
            .order_by("area__code")
            .first()
        )
        start = self.today.replace(day=1) - dt.timedelta(days=40)
        if veterans is not None and township is not None:
            pilot = pilot_designate(
                actor=stdoffice,
                standard=veterans,
                area=township.area,
                start_on=start,
                accept_by=self.today + dt.timedelta(days=30),
                now=self.at(start, 9),
            )
            # Acceptance looks at each institution's latest inspection since the pilot began; where that one
            # failed (this month's round may have just failed it), a perfect re-check comes after it.
            day = self.today - dt.timedelta(days=1) if self.today.day > 1 else self.today
            for line in pilot_findings(pilot, today=self.today).lines:
                if line.passed:
                    continue
                on = max(day, dt.date.fromisoformat(line.inspected_on)) if line.inspected_on else day
                assigned = inspection_assign(
                    actor=officer,
                    institution=Institution.objects.get(pk=line.institution),
                    standard=veterans,
                    inspectors=inspectors,
                    planned_on=on,
                )
                self.complete(assigned, officer, day=on, perfect=True)
            pilot_decide(actor=stdoffice, pilot=pilot, today=self.today, now=self.at(self.today, 8))
        fire = self._standard("micro-fire-station")
        village = Institution.objects.filter(kind="micro-fire-station").order_by("area__code").last()
        if fire is not None and village is not None:
            pilot_designate(
                actor=stdoffice,
                standard=fire,
                area=village.area,
                start_on=self.today.replace(day=1),
                accept_by=self.today + dt.timedelta(days=90),
                now=self.at(self.today.replace(day=1), 9),
            )

    def _standard(self, kind: str) -> Standard | None:
        known = self.kinds.get(kind)
        return Standard.objects.filter(key__in=known.standards).first() if known else None

    def conflicts(self, people: dict[str, tuple[User, list[User]]]) -> None:
        """A declared conflict and an inspector who works at an institution, in 黄岩, for the draw to respect."""
        huangyan = people.get("331003")
        if huangyan is None:
            return
        _officer, (one, two, _three) = huangyan
        stations = Institution.objects.filter(area__code__startswith="331003", kind="veterans-station-village")
        first, last = stations.order_by("code").first(), stations.order_by("code").last()
        if first is not None:
            conflict_declare(actor=None, inspector=one.inspector, institution=first, reason="亲属在该站工作（演示）")
        if last is not None and last != first:
            two.inspector.employer = last
            two.inspector.save(update_fields=["employer"])

    def run(self) -> None:
        people = self.people()
        self.institutions()
        self.conflicts(people)
        self.counties_elsewhere(people)
        self.home_county(people)
        self.pilots(people)


def _low(item: Any) -> Decimal | None:
    if "number" not in item.evidence:
        return None
    if item.at_least is not None:
        return Decimal(item.at_least * Decimal("0.8")).quantize(Decimal(1))
    if item.at_most is not None:
        return Decimal(item.at_most + 2)
    return Decimal(1)
