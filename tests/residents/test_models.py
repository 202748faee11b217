"""The registry follows the facts vocabulary exactly, and the database enforces it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, models, transaction

from fuwu.eligibility.facts import BASE_FACTS, FactType
from fuwu.residents.columns import HEADER_ALIASES, VALUE_ALIASES, VALUE_LABELS, coerce, normalise_header
from fuwu.residents.models import Household, Person
from tests.residents.factories import HouseholdFactory, PersonFactory

FIELD_TYPES: dict[FactType, tuple[type[models.Field[Any, Any]], ...]] = {
    FactType.BOOLEAN: (models.BooleanField,),
    FactType.INTEGER: (models.IntegerField, models.SmallIntegerField, models.PositiveSmallIntegerField),
    FactType.DECIMAL: (models.DecimalField,),
    FactType.DATE: (models.DateField,),
    FactType.TEXT: (models.CharField, models.ForeignKey),
    FactType.AREA: (models.CharField,),
}
ALWAYS_KNOWN = {"birth_date", "sex", "hukou_area", "household_id"}


@pytest.mark.parametrize("fact", BASE_FACTS, ids=[f.name for f in BASE_FACTS])
def test_every_base_fact_is_a_column_of_its_name_and_type(fact: Any) -> None:
    columns = {f.column: f for f in Person._meta.concrete_fields}
    assert fact.name in columns, f"Person has no column {fact.name}"
    field = columns[fact.name]
    assert isinstance(field, FIELD_TYPES[fact.type]), (fact.name, type(field))
    # NULL is "unknown"; only facts the registry always knows are NOT NULL.
    assert field.null == (fact.name not in ALWAYS_KNOWN)
    if fact.type == FactType.AREA:
        assert field.max_length == 12


def test_household_id_column_holds_the_household_number() -> None:
    field = Person._meta.get_field("household")
    assert isinstance(field, models.ForeignKey)
    assert (field.column, field.target_field.name) == ("household_id", "household_id")


def test_every_code_has_a_chinese_label_and_is_accepted_on_import() -> None:
    for fact in BASE_FACTS:
        for code in fact.allowed:
            assert code in VALUE_LABELS[fact.name], f"{fact.name}: no label for {code!r}"
            assert coerce(fact.name, code) == code
            assert coerce(fact.name, VALUE_LABELS[fact.name][code]) == code
        if fact.allowed:
            assert set(VALUE_ALIASES[fact.name].values()) == set(fact.allowed)
    for fact in BASE_FACTS:
        assert HEADER_ALIASES[normalise_header(fact.zh)] == fact.name
        assert HEADER_ALIASES[normalise_header(fact.name)] == fact.name


@pytest.mark.django_db
def test_models_match_the_migrations() -> None:
    # A change to facts.py (a new code, say) changes the constraints: it must come with a migration.
    call_command("makemigrations", "residents", "--check", "--dry-run", verbosity=0)


TEXT_FACTS = [f.name for f in BASE_FACTS if f.type == FactType.TEXT and f.allowed]
BAD_VALUES: list[tuple[str, Any]] = [
    *[(name, "bogus") for name in TEXT_FACTS],
    ("disability_grade", 5),
    ("income", -1),
    ("hukou_area", "33100200190"),
    ("hukou_area", "33100200190a"),
    ("residence_area", "abc"),
    ("name", ""),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), BAD_VALUES, ids=[f"{f}={v}" for f, v in BAD_VALUES])
def test_the_database_refuses_values_outside_the_vocabulary(field: str, value: Any, areas: object) -> None:
    person = PersonFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(**{field: value})


@pytest.mark.django_db
def test_the_database_accepts_unknown_and_every_allowed_value(areas: object) -> None:
    person = PersonFactory()
    for name in TEXT_FACTS:
        if name != "sex":
            Person.objects.filter(pk=person.pk).update(**{name: None})
        for code in next(f for f in BASE_FACTS if f.name == name).allowed:
            if name == "relation" and code == "head":
                continue
            Person.objects.filter(pk=person.pk).update(**{name: code})
    Person.objects.filter(pk=person.pk).update(disability_grade=0, income=0, residence_area="331002001902")


@pytest.mark.django_db
def test_one_head_per_household_and_one_row_per_number(areas: object) -> None:
    head = PersonFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory(household=head.household, relation="head")
    PersonFactory(household=head.household, relation="spouse", female=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(
            name="重复",
            id_number_hash=head.id_number_hash,
            id_number_encrypted=head.id_number_encrypted,
            birth_date=head.birth_date,
            sex=head.sex,
            hukou_area=head.hukou_area,
            household=HouseholdFactory(),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Household.objects.create(household_id="x", hukou_area="3310")


@pytest.mark.django_db
def test_str_never_shows_the_name(areas: object) -> None:
    person = PersonFactory(name="王大山")
    assert "王" not in str(person)
