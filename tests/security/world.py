"""Two counties with one of everything, built through the services, for the access matrix and the attack cases.

Side A is 椒江区 (331002), where every identity of the matrix works; side B is 黄岩区 (331003), whose objects
belong to other people (another family, provider, caregiver, institution, inspectors) and whose officer is the
matrix's "officer of another area". Every object kind a URL takes exists once on each side, so each object
URL is asked for A's object and for B's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fuwu.accounts.models import Department, Role, User
from fuwu.applications.models import Application, Provision
from fuwu.applications.ratings import rating_give
from fuwu.applications.services import MaterialInput, application_accept, application_decide, application_submit
from fuwu.areas.models import Area, AreaLevel
from fuwu.compliance.models import (
    ChecklistItem,
    Evidence,
    Inspection,
    InspectionStatus,
    Institution,
    InstitutionImport,
    RectificationOrder,
)
from fuwu.compliance.services.draws import draw_make
from fuwu.compliance.services.inspections import (
    answer_give,
    evidence_add,
    inspection_publish,
    inspection_sign,
    inspection_start,
    self_assessment_start,
)
from fuwu.compliance.services.institutions import inspector_enrol
from fuwu.compliance.services.pilots import pilot_designate
from fuwu.eligibility.models import ScreeningRun
from fuwu.homecare.complaints import complaint_lodge
from fuwu.homecare.door import Position, order_check_in, order_check_out, photo_add
from fuwu.homecare.models import (
    Callback,
    Caregiver,
    FamilyLink,
    LocationProposal,
    Order,
    Provider,
    TrainingRecord,
)
from fuwu.homecare.services import order_accept, order_book, order_confirm, order_rate, order_schedule
from fuwu.homecare.settlement import settlement_generate
from fuwu.jobs.models import Job
from fuwu.residents.models import Person, PersonImport
from fuwu.standards.models import ServiceItem, StandardVersion
from fuwu.standards.parsing import ParsedStandard, parse_many
from fuwu.standards.services import standards_load
from tests.common.test_uploads import jpeg
from tests.eligibility.stores import stored_run
from tests.homecare.conftest import at, open_account
from tests.residents.factories import PersonFactory

STANDARDS = Path(__file__).resolve().parents[2] / "standards" / "taizhou"
HOME_CARE, VETERANS = "taizhou-home-care", "taizhou-veterans-service-centre"
PASSWORD = "a-long-test-password-1"
BOOKED_ON = dt.date(2026, 11, 23)  # a Monday with no holiday near it
VISIT_DAY = dt.date(2026, 12, 1)
MONTH = dt.date(2026, 12, 1)
HOME = {"A": (Decimal("28.656000"), Decimal("121.420000")), "B": (Decimal("28.640000"), Decimal("121.260000"))}
COUNTY = {"A": "331002", "B": "331003"}
# Names and addresses found nowhere else, so a page can be searched for another county's elder (in full or masked).
ELDER = {"A": "欧阳甲乙", "B": "司马丙丁"}
ADDRESS = {"A": "椒江甲小区", "B": "黄岩乙小区"}

# The identities the matrix asks as, in its column order; all but officer_other work in county A.
ROLES = (
    "anonymous",
    "resident",
    "family",
    "caregiver",
    "provider",
    "officer",
    "officer_other",
    "stdoffice",
    "auditor",
    "institution",
    "inspector",
)


@cache
def _parsed() -> list[ParsedStandard]:
    return parse_many([STANDARDS / f"{HOME_CARE}.yaml", STANDARDS / f"{VETERANS}.yaml"])


@dataclass
class Side:
    """One county's objects, by the name the matrix's URL arguments use."""

    county: Area
    township: Area
    village: Area
    objects: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["objects"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc


@dataclass
class World:
    users: dict[str, User]
    sides: dict[str, Side]
    run: ScreeningRun
    version: StandardVersion
    owners: dict[str, dict[str, User]]  # side → role → the user who owns that side's objects

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else self.users[role]


def _user(username: str, role: Role, area: Area | None, **extra: Any) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, role=role, area=area, **extra)


def _areas() -> tuple[Area, dict[str, tuple[Area, Area, Area]]]:
    city = Area.objects.create(code="331000", name_zh="台州市", level=AreaLevel.CITY)
    out = {}
    for side, (code, name) in {"A": ("331002", "椒江区"), "B": ("331003", "黄岩区")}.items():
        county = Area.objects.create(code=code, name_zh=name, level=AreaLevel.COUNTY, parent=city)
        township = Area.objects.create(
            code=f"{code}001", name_zh=f"{name}街道", level=AreaLevel.TOWNSHIP, parent=county
        )
        village = Area.objects.create(
            code=f"{code}001901", name_zh=f"{name}社区", level=AreaLevel.VILLAGE, parent=township
        )
        out[side] = (county, township, village)
    return city, out


def _owners(side: str, county: Area, department: Department) -> dict[str, User]:
    s = side.lower()
    return {
        "officer": _user(f"officer-{s}", Role.DEPARTMENT_OFFICER, county, department=department),
        "family": _user(f"family-{s}", Role.RESIDENT, county),
        "provider": _user(f"provider-{s}", Role.PROVIDER_ADMIN, county),
        "caregiver": _user(f"caregiver-{s}", Role.CAREGIVER, county),
        "institution": _user(f"institution-{s}", Role.INSTITUTION_ADMIN, county),
        "inspector": _user(f"inspector-{s}", Role.INSPECTOR, county, department=department),
        "inspector2": _user(f"inspector2-{s}", Role.INSPECTOR, county, department=department),
    }


def _photo(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg(), content_type="image/jpeg")


def _homecare(side: Side, key: str, owners: dict[str, User], officer: User, stdoffice: User) -> None:
    o = side.objects
    lat, lon = HOME[key]
    provider = Provider.objects.create(
        name=f"{side.county.name_zh}安康居家养老服务中心",
        licence_number=f"SEC-{key}-001",
        licence_valid_until=dt.date(2028, 12, 31),
        address=side.county.name_zh,
        contact_name="王主任",
        contact_phone="0576-0000000",
    )
    provider.areas.add(side.county)
    provider.admins.add(owners["provider"])
    caregiver = Caregiver.objects.create(
        provider=provider,
        user=owners["caregiver"],
        name=f"护理员{key}",
        qualifications=["care-worker", "nurse-or-therapist", "hair-foot-care"],
        health_certificate_expires=dt.date(2027, 6, 30),
        home_latitude=lat,
        home_longitude=lon,
        shift_start=dt.time(8, 0),
        shift_end=dt.time(17, 0),
    )
    TrainingRecord.objects.create(
        caregiver=caregiver, kind="pre_job", completed_on=dt.date(2025, 3, 1), hours=Decimal(40), topic="岗前培训"
    )
    elder = PersonFactory(
        name=ELDER[key],
        birth_date=dt.date(1944, 3, 5),
        hukou_area=side.village.code,
        low_income_status="none",
        care_need="moderate",
        phone="13800000000",
    )
    FamilyLink.objects.create(user=owners["family"], person=elder, relation="daughter")
    # As the officer opens it from a registry screening that found her entitled (the home-care tests' helper).
    account = open_account(officer, elder, amount=Decimal("300.00"), items=["hc-meals", "hc-cleaning", "hc-bathing"])
    account.latitude, account.longitude, account.address = lat, lon, ADDRESS[key]
    account.save()
    home = Position(lat, lon)

    def book(item: str, day: dt.date, hour: int, name: str) -> Order:
        order, _ = order_book(
            actor=officer,
            person=elder,
            item=item,
            window_start=at(day, hour),
            window_end=at(day, hour + 3),
            idempotency_key=f"{key}-{name}",
            now=at(BOOKED_ON, 8),
        )
        return order

    def scheduled(order: Order, day: dt.date, hour: int) -> Order:
        order_accept(actor=owners["provider"], order=order, now=at(BOOKED_ON, 9))
        return order_schedule(actor=owners["provider"], order=order, caregiver=caregiver, planned_start=at(day, hour))

    done = scheduled(book("hc-meals", VISIT_DAY, 11, "done"), VISIT_DAY, 11)
    order_check_in(actor=owners["caregiver"], order=done, at=home, now=at(VISIT_DAY, 11))
    photo = photo_add(actor=owners["caregiver"], order=done, upload=_photo())
    order_check_out(actor=owners["caregiver"], order=done, at=home, tasks_done=["完成"], now=at(VISIT_DAY, 12, 30))
    order_confirm(actor=officer, order=done, now=at(VISIT_DAY, 12, 31))
    order_rate(actor=owners["family"], order=done, stars=4, comment="好", now=at(VISIT_DAY, 18))
    complaint = complaint_lodge(actor=owners["family"], order=done, text="迟到了", now=at(VISIT_DAY, 19))
    # A visit held for the officer's review (as a check-out far from home would hold it).
    held = scheduled(book("hc-cleaning", dt.date(2026, 12, 2), 9, "held"), dt.date(2026, 12, 2), 9)
    order_check_in(actor=owners["caregiver"], order=held, at=home, now=at(dt.date(2026, 12, 2), 9))
    order_check_out(
        actor=owners["caregiver"], order=held, at=home, tasks_done=["完成"], now=at(dt.date(2026, 12, 2), 11, 30)
    )
    Order.objects.filter(pk=held.pk).update(review="pending", payable=None)
    visit = scheduled(book("hc-meals", dt.date(2026, 12, 3), 11, "visit"), dt.date(2026, 12, 3), 11)
    booked = book("hc-meals", dt.date(2026, 12, 4), 11, "booked")
    # Checking in proposes the phone's position as the home's (one pending proposal per account).
    proposal = LocationProposal.objects.filter(account=account).first() or LocationProposal.objects.create(
        account=account, order=done, caregiver=caregiver, latitude=lat, longitude=lon, proposed_at=at(VISIT_DAY, 11)
    )
    callback = Callback.objects.create(order=done, sampled_on=dt.date(2026, 12, 5), due_on=dt.date(2026, 12, 10))
    settlement = settlement_generate(actor=officer, provider=provider, month=MONTH, now=at(dt.date(2027, 1, 5), 10))
    # Two decided applications for meals (before the open one): one still to rate, one rated 不满意 with its
    # rectification open for the civil affairs department.
    decided, rated = (_decided_application(elder, owners["family"], officer, n) for n in (1, 2))
    rectification_app = rating_give(
        actor=owners["family"], application=rated, level=2, reasons=["slow"], text="太慢", now=at(BOOKED_ON, 7)
    ).rectification
    # An application for the elder, by her daughter, handled by the civil affairs officer of her county.
    application = application_submit(
        actor=owners["family"],
        item=ServiceItem.objects.get(key="hc-meals"),
        person=elder,
        materials={
            1: MaterialInput(Provision.UPLOAD, _photo("户口簿.jpg")),
            4: MaterialInput(Provision.COUNTER),
            5: MaterialInput(Provision.COUNTER),
        },
        now=at(BOOKED_ON, 8),
    )
    o.update(
        provider=provider,
        caregiver=caregiver,
        elder=elder,
        account=account,
        order=done,
        photo=photo,
        complaint=complaint,
        held=held,
        visit=visit,
        booked=booked,
        proposal=proposal,
        callback=callback,
        settlement=settlement,
        application=application,
        decided=decided,
        rectification_app=rectification_app,
        person_import=PersonImport.objects.create(
            kind="spreadsheet", filename="people.xlsx", sha256="0" * 64, actor=officer, outcome="rejected"
        ),
        job=Job.objects.create(
            kind="eligibility.registry_screen", requested_by=officer, status="succeeded", finished_at=timezone.now()
        ),
    )


def _decided_application(elder: Person, family: User, officer: User, n: int) -> Application:
    made = application_submit(
        actor=family,
        item=ServiceItem.objects.get(key="hc-meals"),
        person=elder,
        materials={
            1: MaterialInput(Provision.COUNTER),
            4: MaterialInput(Provision.COUNTER),
            5: MaterialInput(Provision.COUNTER),
        },
        now=at(BOOKED_ON - dt.timedelta(days=7), 8 + n),
    )
    made = application_accept(actor=officer, application=made, now=at(BOOKED_ON - dt.timedelta(days=6), 8 + n))
    return application_decide(
        actor=officer, application=made, approve=True, reason="", now=at(BOOKED_ON - dt.timedelta(days=5), 8 + n)
    )


def _compliance(side: Side, owners: dict[str, User], officer: User, stdoffice: User, department: Department) -> None:
    from fuwu.standards.models import Standard

    veterans = Standard.objects.get(key=VETERANS)
    institution = Institution.objects.create(
        name=f"{side.county.name_zh}退役军人服务中心",
        kind="veterans-service-centre",
        code=f"VC-{side.county.code}",
        area=side.county,
        address=f"{side.county.name_zh}某路1号",
    )
    institution.admins.add(owners["institution"])
    for name in ("inspector", "inspector2"):
        inspector_enrol(actor=None, user=owners[name], department_id=department.pk, area=side.county)
    pair = [owners["inspector"], owners["inspector2"]]

    def planned() -> Inspection:
        inspection = Inspection.objects.create(
            institution=institution, standard=veterans, kind="official", planned_on=BOOKED_ON
        )
        inspection.inspectors.set(pair)
        return inspection

    published = inspection_start(actor=pair[0], inspection=planned(), today=BOOKED_ON)
    for n, item in enumerate(published.items.order_by("position")):
        result = "not" if n == 0 else "compliant"
        number = None
        if "number" in item.evidence:
            number = item.at_least if item.at_least is not None else (item.at_most or Decimal(1))
            if result != "compliant" and item.at_least is not None:
                number = item.at_least - 1
        answer_give(
            actor=pair[0], item=item, result=result, note="" if result == "compliant" else "未见", number=number
        )
        if "photo" in item.evidence or "file" in item.evidence:
            evidence_add(actor=pair[0], item=item, upload=_photo())
    inspection_sign(actor=pair[0], inspection=published, summary="")
    inspection_publish(actor=officer, inspection=published)
    working = inspection_start(actor=pair[0], inspection=planned(), today=BOOKED_ON)
    item = working.items.order_by("position").first()
    assert item is not None
    evidence = evidence_add(actor=pair[0], item=item, upload=_photo())
    draw = draw_make(
        actor=officer,
        area=side.county,
        period_start=dt.date(2026, 12, 1),
        period_end=dt.date(2026, 12, 31),
        ratios={"veterans-service-centre": Decimal(1)},
        seed=side.county.code,
    )
    pilot = pilot_designate(
        actor=stdoffice,
        standard=veterans,
        area=side.township,
        start_on=dt.date(2026, 12, 1),
        accept_by=dt.date(2027, 6, 30),
    )
    self_check = self_assessment_start(actor=owners["institution"], institution=institution, standard=veterans)
    side.objects.update(
        institution=institution,
        published=published,
        inspection=working,
        item=item,
        evidence=evidence,
        rectification=RectificationOrder.objects.filter(inspection=published).order_by("pk").first(),
        draw=draw,
        pilot=pilot,
        self_check=self_check,
        standard=veterans,
        institution_import=InstitutionImport.objects.create(
            filename="list.xlsx", sha256="0" * 64, actor=officer, outcome="rejected"
        ),
    )
    assert side.rectification is not None
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert ChecklistItem.objects.filter(inspection=working).exists()
    assert Inspection.objects.get(pk=published.pk).status == InspectionStatus.PUBLISHED


def build_world(*, files: Path) -> World:
    """Everything the matrix asks about, on both sides (the run's answers in ``files``).

    Call inside a transaction that is rolled back.
    """
    standards_load(parsed=_parsed(), actor=None)
    city, areas = _areas()
    department = Department.objects.get_or_create(code="civil-affairs", defaults={"name_zh": "民政局"})[0]
    sides = {key: Side(*areas[key]) for key in ("A", "B")}
    owners = {key: _owners(key, sides[key].county, department) for key in sides}
    a = owners["A"]
    users = {
        "resident": _user("resident", Role.RESIDENT, sides["A"].county),
        "family": a["family"],
        "caregiver": a["caregiver"],
        "provider": a["provider"],
        "officer": a["officer"],
        "officer_other": owners["B"]["officer"],
        "stdoffice": _user("stdoffice", Role.STANDARDS_OFFICE, city, is_staff=True),
        "auditor": _user("auditor", Role.AUDITOR, city),
        "institution": a["institution"],
        "inspector": a["inspector"],
    }
    for key, side in sides.items():
        _homecare(side, key, owners[key], owners[key]["officer"], users["stdoffice"])
        _compliance(side, owners[key], owners[key]["officer"], users["stdoffice"], department)
    # The stdoffice's own import report is side A's; side B's belongs to B's officer.
    PersonImport.objects.filter(pk=sides["A"].person_import.pk).update(actor=users["stdoffice"])
    # The proactive list's run: the elders (served: opening an account records a receipt) and a newcomer per
    # side who is still to be called.
    for side in sides.values():
        side.objects["newcomer"] = PersonFactory(hukou_area=side.village.code, birth_date=dt.date(1950, 1, 1))
    # Stored as a real run is, so the newcomers are candidates on the list (the elders were served).
    people = [p for side in sides.values() for p in (side.elder, side.newcomer)]
    run = stored_run(
        files,
        [(p.pk, p.hukou_area, "hc-meals", "eligible", Decimal("300.00")) for p in people],
    )
    version = StandardVersion.objects.get(standard__key=HOME_CARE)
    assert Person.objects.count() == 4
    return World(users=users, sides=sides, run=run, version=version, owners=owners)
