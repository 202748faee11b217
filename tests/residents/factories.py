"""factory_boy factories for the registry. A person's number is built to agree with their record."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from fuwu.residents import crypto, idnumber
from fuwu.residents.models import Household, Person

IN_AREA_VILLAGE = "331002001901"  # 椒江区 海门街道 (a generated village)
OUT_OF_AREA_VILLAGE = "331003001901"  # 黄岩区


class HouseholdFactory(DjangoModelFactory[Household]):
    class Meta:
        model = Household
        django_get_or_create = ("household_id",)

    household_id = factory.Sequence(lambda n: f"{IN_AREA_VILLAGE}{n:06d}")
    hukou_area = IN_AREA_VILLAGE


class PersonFactory(DjangoModelFactory[Person]):
    class Meta:
        model = Person

    class Params:
        female = False
        # Contact details in clear (as phones.parse stores them); sealed into their encrypted columns below.
        phone: str | None = None
        emergency_name: str | None = None
        emergency_relation: str | None = None
        emergency_phone: str | None = None
        serial = factory.Sequence(lambda n: n % 490)
        number = factory.LazyAttribute(
            lambda o: idnumber.make(o.hukou_area[:6], o.birth_date, 2 * o.serial + (2 if o.female else 1))
        )

    name = factory.Faker("name", locale="zh_CN")
    birth_date = dt.date(1948, 5, 6)
    sex = factory.LazyAttribute(lambda o: o.number.sex)
    hukou_area = IN_AREA_VILLAGE
    household = factory.SubFactory(HouseholdFactory, hukou_area=factory.SelfAttribute("..hukou_area"))
    relation = "head"
    id_number_hash = factory.LazyAttribute(lambda o: crypto.lookup_hash(o.number))
    id_number_encrypted = factory.LazyAttribute(lambda o: crypto.encrypt(o.number, lookup=o.id_number_hash))
    contact_phone_encrypted = factory.LazyAttribute(
        lambda o: crypto.seal_optional(crypto.CONTACT_PHONE, o.phone, row=o.id_number_hash)
    )
    emergency_contact_name_encrypted = factory.LazyAttribute(
        lambda o: crypto.seal_optional(crypto.EMERGENCY_NAME, o.emergency_name, row=o.id_number_hash)
    )
    emergency_contact_relation_encrypted = factory.LazyAttribute(
        lambda o: crypto.seal_optional(crypto.EMERGENCY_RELATION, o.emergency_relation, row=o.id_number_hash)
    )
    emergency_contact_phone_encrypted = factory.LazyAttribute(
        lambda o: crypto.seal_optional(crypto.EMERGENCY_PHONE, o.emergency_phone, row=o.id_number_hash)
    )
