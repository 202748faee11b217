"""Facts of a registered resident, read through the registry's access rules."""

from __future__ import annotations

from typing import Any

from fuwu.common.audit import audit
from fuwu.eligibility.facts import BASE
from fuwu.eligibility.rules import Value
from fuwu.residents.models import Person
from fuwu.residents.selectors import person_for_user, persons_for_user


def _facts(person: Person) -> dict[str, Value]:
    return {name: getattr(person, name) for name in BASE}


def registered_person_facts(*, user: Any, person_id: int) -> tuple[dict[str, Value], list[dict[str, Value]]]:
    """A resident's base facts and their household's, if ``user`` may see them; the look-up is audited.

    Raises ``Person.DoesNotExist`` outside the user's scope, as for a person who does not exist.
    """
    person = person_for_user(user=user, pk=person_id)
    members = [_facts(m) for m in persons_for_user(user=user).filter(household_id=person.household_id)]
    audit(actor=user, event="person.eligibility_checked", obj=person)
    return _facts(person), members
