"""Reads from the resident registry, scoped by who is asking. Views read only through these.

Nothing here decrypts an identity number for display except ``person_record``
with ``reveal=True``, which only ``services.person_reveal`` calls after checking
the right to see it and writing the audit row. Contact details likewise: masked
here, in full only with ``reveal=True`` from ``services.person_contact_reveal``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import translation

from fuwu.areas.selectors import area_names, code_within
from fuwu.eligibility.facts import FactType
from fuwu.residents import contacts, crypto, idnumber
from fuwu.residents.columns import COLUMNS, CONTACT_NAMES, label
from fuwu.residents.masking import mask_name, mask_phone
from fuwu.residents.models import Person, PersonImport
from fuwu.residents.permissions import (
    can_list_persons,
    may_reveal_contact,
    may_see_contact,
    officer_prefix,
    sees_identity,
)

# Shown separately (identity and contact blocks) or not at all (household_id is the household link).
_NOT_IN_FACT_LIST = {"name", "id_number", "birth_date", "sex", "hukou_area", "household_id", *CONTACT_NAMES}


def persons_for_user(*, user: Any) -> QuerySet[Person]:
    """The residents ``user`` may look up: officers their area, auditors everyone, others no one."""
    if not can_list_persons(user):
        return Person.objects.none()
    prefix = officer_prefix(user)
    persons = Person.objects.select_related("household")
    if prefix is not None:
        return persons.filter(code_within("hukou_area", prefix))
    return persons  # auditors: all, shown masked


def person_for_user(*, user: Any, pk: int) -> Person:
    """One resident within ``user``'s scope; ``Person.DoesNotExist`` otherwise (the view's 404)."""
    return persons_for_user(user=user).get(pk=pk)


@dataclass(frozen=True)
class Search:
    persons: QuerySet[Person]
    by: str  # "id_number", "name" or "" (nothing asked)
    problem: str = ""  # why an ID-like query could not be used


def persons_search(*, user: Any, query: str) -> Search:
    """Exact identity number (through its hash, so the number is never compared in clear) or part of a name."""
    query = query.strip()
    persons = persons_for_user(user=user)
    if not query:
        return Search(persons, "")
    compact = idnumber.normalise(query)
    if compact[:1].isdigit() and len(compact) >= 15:
        try:
            number = idnumber.parse(compact)
        except idnumber.IdNumberError as exc:
            return Search(persons.none(), "id_number", str(exc))
        # Every configured key's hash: during a key rotation a resident may still be under the old one.
        return Search(persons.filter(id_number_hash__in=crypto.lookup_hashes(number)), "id_number")
    return Search(persons.filter(name__icontains=query), "name")


@dataclass(frozen=True)
class Fact:
    name: str
    label: str
    value: str


@dataclass(frozen=True)
class PersonRow:
    """What a list shows of one resident."""

    pk: int
    name: str
    id_number: str  # always masked in lists
    sex: str
    birth_year: int
    hukou_area: str
    area_name: str
    household_id: str
    relation: str
    id_area_differs: bool


@dataclass(frozen=True)
class Contact:
    """A resident's contact details as one viewer may see them ("" where nothing is recorded)."""

    person_id: int
    phone: str  # 138****5678 unless revealed
    emergency_name: str  # 王* unless revealed
    emergency_relation: str
    emergency_phone: str
    revealed: bool
    can_reveal: bool  # the viewer may ask for the full details (an audited reveal)

    @property
    def recorded(self) -> bool:
        return bool(self.phone or self.emergency_name or self.emergency_phone)


def person_contact(*, person: Person, viewer: Any, grant: str = "", reveal: bool = False) -> Contact | None:
    """The contact details of ``person`` as ``viewer`` may see them; ``None`` if they may see none.

    The call for other apps: masked for whoever may see the person, or whom a
    registered ``grant`` vouches for (``permissions.register_contact_grant``).
    ``reveal`` is for ``services.person_contact_reveal`` only, which audits it;
    to show the full details, call that service.
    """
    if not may_see_contact(viewer, person, grant=grant):
        return None
    can_reveal = may_reveal_contact(viewer, person, grant=grant)
    full = reveal and can_reveal
    clear = contacts.stored(person)

    def phone(value: str | None) -> str:
        return (value if full else mask_phone(value)) if value else ""

    name = clear["emergency_contact_name"] or ""
    return Contact(
        person_id=person.pk,
        phone=phone(clear["contact_phone"]),
        emergency_name=name if full else mask_name(name),
        emergency_relation=clear["emergency_contact_relation"] or "",
        emergency_phone=phone(clear["emergency_contact_phone"]),
        revealed=full,
        can_reveal=can_reveal,
    )


@dataclass(frozen=True)
class PersonRecord:
    row: PersonRow
    full_identity: bool  # the viewer sees the full name and may reveal the number
    revealed: bool
    # The full date only once the number is revealed: the masked number shows its first 6 and last 4
    # characters, and the birth date is the 8 in between, so the two together would be the whole number.
    birth_date: dt.date | None
    facts: list[Fact]
    flags: list[str]
    members: list[PersonRow]
    contact: Contact | None = None


def _row(person: Person, *, user: Any, areas: dict[str, str], id_number: str | None = None) -> PersonRow:
    full = sees_identity(user, person.hukou_area)
    number = id_number or crypto.decrypt(person.id_number_encrypted, lookup=person.id_number_hash).masked()
    return PersonRow(
        pk=person.pk,
        name=person.name if full else mask_name(person.name),
        id_number=number,
        sex=label("sex", person.sex),
        birth_year=person.birth_date.year,
        hukou_area=person.hukou_area,
        area_name=areas.get(person.hukou_area, ""),
        household_id=person.household_id,
        relation=label("relation", person.relation),
        id_area_differs=person.id_area_differs,
    )


def person_rows(*, user: Any, persons: list[Person]) -> list[PersonRow]:
    areas = area_names({p.hukou_area for p in persons})
    return [_row(p, user=user, areas=areas) for p in persons]


def person_record(*, person: Person, user: Any, reveal: bool = False, reveal_contact: bool = False) -> PersonRecord:
    """A resident's record as ``user`` may see it; ``reveal`` and ``reveal_contact`` are for the services only."""
    full = sees_identity(user, person.hukou_area)
    revealed = reveal and full
    number = crypto.decrypt(person.id_number_encrypted, lookup=person.id_number_hash)
    members = list(
        persons_for_user(user=user)
        .filter(household_id=person.household_id)
        .exclude(pk=person.pk)
        .order_by("birth_date")
    )
    areas = area_names({person.hukou_area, person.residence_area or "", *(m.hukou_area for m in members)})
    english = translation.get_language() == "en"
    facts = []
    for c in COLUMNS:
        if c.name in _NOT_IN_FACT_LIST:
            continue
        value = label(c.name, getattr(person, c.name))
        if c.type == FactType.AREA and value:
            value = f"{value} {areas.get(value, '')}".strip()
        facts.append(Fact(c.name, c.en if english else c.zh, value))
    flags = []
    if person.id_area_differs:
        flags.append("id_area_differs")
    if person.id_from_15_digits:
        flags.append("id_from_15_digits")
    return PersonRecord(
        row=_row(person, user=user, areas=areas, id_number=number.value if revealed else number.masked()),
        full_identity=full,
        revealed=revealed,
        birth_date=person.birth_date if revealed else None,
        facts=facts,
        flags=flags,
        members=[_row(m, user=user, areas=areas) for m in members],
        contact=person_contact(person=person, viewer=user, reveal=reveal_contact),
    )


def imports_for_user(*, user: Any) -> QuerySet[PersonImport]:
    """An importer sees the reports of their own imports (they list row problems of the residents they sent)."""
    if not getattr(user, "is_authenticated", False):
        return PersonImport.objects.none()
    return PersonImport.objects.filter(actor=user)
