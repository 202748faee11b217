"""Demo data for home care: a provider, its caregivers, and an elder of 82 in the registry with a daughter's account.

The elder has no home-care account: in the demo, as in life, the officer's screening finds her entitled
and opens it. Qualification ids come from the standard, so the demo caregiver can make every visit.
Idempotent: running it again changes nothing that is already there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from fuwu.accounts.models import User
from fuwu.areas.models import Area
from fuwu.common.audit import audit
from fuwu.homecare import standard
from fuwu.homecare.models import Caregiver, FamilyLink, Provider, TrainingKind, TrainingRecord
from fuwu.residents import crypto, idnumber
from fuwu.residents.models import Household, Person

COUNTY = "331002"  # 椒江区, where the demo accounts work
VILLAGE = "331002001901"  # a generated village of 海门街道
ELDER_AGE = 82
DEMO_SOURCE = "demo-homecare-elder"


@dataclass(frozen=True)
class DemoHomeCare:
    provider: Provider
    caregivers: list[Caregiver]
    elder: Person


def _elder_birth_date(today: dt.date) -> dt.date:
    # Old enough on any day the demo runs: 82 years and a few weeks.
    return today.replace(year=today.year - ELDER_AGE) - dt.timedelta(days=40)


@transaction.atomic
def demo_homecare_ensure(*, today: dt.date | None = None) -> DemoHomeCare:
    today = today or timezone.localdate()
    county = Area.objects.get(code=COUNTY)
    provider, created = Provider.objects.get_or_create(
        licence_number="DEMO-JJ-0001",
        defaults={
            "name": "椒江区安康居家养老服务中心（演示）",
            "licence_valid_until": today.replace(year=today.year + 3),
            "address": "椒江区海门街道（演示地址）",
            "contact_name": "演示联系人",
            "contact_phone": "0576-00000000",
        },
    )
    if created:
        provider.areas.add(county)
        audit(actor=None, event="homecare.demo_provider_created", obj=provider)
    provider.admins.add(*User.objects.filter(username="provider"))
    every_qualification = sorted(standard.qualification_names())
    caregivers = [
        _caregiver(provider, "陈护理员（演示）", every_qualification, (28.6600, 121.4200), "caregiver", today),
        # The bath needs two (delivery.staff: 2): the second demo caregiver can join it.
        _caregiver(provider, "周护理员（演示）", every_qualification[:1], (28.6900, 121.4500), "caregiver2", today),
    ]
    elder = _elder(today)
    family = User.objects.filter(username="family").first()
    if family is not None:
        FamilyLink.objects.get_or_create(user=family, person=elder, defaults={"relation": "女儿"})
    return DemoHomeCare(provider, caregivers, elder)


def _caregiver(
    provider: Provider,
    name: str,
    qualifications: list[str],
    home: tuple[float, float],
    username: str | None,
    today: dt.date,
) -> Caregiver:
    user = User.objects.filter(username=username).first() if username else None
    caregiver, created = Caregiver.objects.get_or_create(
        provider=provider,
        name=name,
        defaults={
            "user": user,
            "qualifications": qualifications,
            "health_certificate_expires": today + dt.timedelta(days=300),
            "home_latitude": Decimal(str(home[0])),
            "home_longitude": Decimal(str(home[1])),
            "shift_start": dt.time(8, 0),
            "shift_end": dt.time(17, 30),
        },
    )
    if not created and caregiver.user is None and user is not None:
        caregiver.user = user
        caregiver.save(update_fields=["user"])
    if created:
        hours = standard.number("pre_job_training_hours", on=today)
        TrainingRecord.objects.create(
            caregiver=caregiver,
            kind=TrainingKind.PRE_JOB,
            completed_on=today - dt.timedelta(days=200),
            hours=hours,
            topic="岗前培训（演示）",
        )
        audit(actor=None, event="homecare.demo_caregiver_created", obj=caregiver)
    return caregiver


def _elder(today: dt.date) -> Person:
    existing = Person.objects.filter(source_id=DEMO_SOURCE).first()
    if existing is not None:
        return existing
    birth = _elder_birth_date(today)
    number = idnumber.make(VILLAGE[:6], birth, 2 * 101 + 2)  # an even sequence: a woman
    lookup = crypto.lookup_hash(number)
    household, _ = Household.objects.get_or_create(household_id=f"{VILLAGE}D00001", defaults={"hukou_area": VILLAGE})
    elder = Person.objects.create(
        name="王秀英",
        id_number_encrypted=crypto.encrypt(number, lookup=lookup),
        id_number_hash=lookup,
        source_id=DEMO_SOURCE,
        birth_date=birth,
        sex=number.sex,
        hukou_area=VILLAGE,
        hukou_type="rural",
        residence_area=VILLAGE,
        household=household,
        relation="head",
        lives_alone=True,
        disability_kind="none",
        disability_grade=0,
        care_need="moderate",
        low_income_status="none",
        veteran_category="none",
        school_stage="none",
        boarding=False,
        fd_hypertension=True,
        fd_diabetes=False,
        fd_pregnant=False,
        fd_severe_mental=False,
        house_grade="none",
        income=Decimal("18000.00"),
    )
    audit(actor=None, event="residents.demo_person_created", obj=elder)
    return elder
