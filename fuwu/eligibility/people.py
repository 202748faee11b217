"""Eligibility of a registered resident, read through the registry's access rules, audited, and limited.

A registered person's answers must not tell a caller what the registry would not show them. The masked
identity number hides exactly the eight birth-date digits, and an answer about age, asked on chosen dates,
finds the birthday in about fifteen calls. So:

* **The date.** Only a user who may see the person's birth date (an officer of the person's area, who may
  reveal the number on an audited click) may ask about another day than today; anyone else (an auditor)
  is asked about today only (``AsOfRestricted``).
* **The birth date itself.** For a user who may not see it, answers are worked out from the birth *year*
  alone (which lists show): each item is evaluated for the first and the last possible birthday of that
  year, and a criterion, status or amount on which the two disagree is reported as unknown, the birth
  date named as missing. Nothing in the answer then depends on the month and day. (A rule's age only takes
  two values within a year, and date comparisons are monotonic, so the two ends stand for every day.)
* **Limits and an alarm.** At most ``FUWU_PERSON_CHECKS_PER_HOUR`` checks of one person (by anyone) and
  ``FUWU_USER_PERSON_CHECKS_PER_HOUR`` by one user (of anyone) in a rolling hour; past either, or when one
  user asks about one person on three or more dates within the hour, the check is a suspected sweep: an
  ``person.eligibility_sweep`` audit row and a warning in the log. Past a limit the check is refused
  (``TooManyChecks``).
* **Audit.** Every check is a read of the person's data: a ``person.viewed`` row (as the detail page writes)
  and a ``person.eligibility_checked`` row with the date asked about and the items, in one transaction
  with the answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fuwu.common.audit import audit
from fuwu.common.models import AuditLog
from fuwu.eligibility.explain import ELIGIBLE, NOT_ELIGIBLE, UNKNOWN, CriterionResult, ItemResult, explain
from fuwu.eligibility.facts import BASE
from fuwu.eligibility.rules import Value
from fuwu.eligibility.ruleset import ItemRule
from fuwu.residents.models import Person
from fuwu.residents.permissions import sees_identity
from fuwu.residents.selectors import person_for_user, persons_for_user

logger = logging.getLogger(__name__)

CHECKED = "person.eligibility_checked"
SWEEP = "person.eligibility_sweep"
WINDOW = dt.timedelta(hours=1)
# One user asking about one person on this many different dates within the window looks like a search.
SWEEP_DATES = 3
BIRTH_DATE = "birth_date"


class CheckRefused(Exception):
    """A check that is not answered; ``status`` for the API, the message names the field and the fix."""

    status = 422


class AsOfRestricted(CheckRefused):
    status = 422


class TooManyChecks(CheckRefused):
    status = 429


@dataclass(frozen=True)
class PersonAnswer:
    as_of: dt.date
    results: list[ItemResult]
    birth_year_only: bool  # the answers use the birth year alone (the caller may not see the birth date)


def _facts(person: Person) -> dict[str, Value]:
    return {name: getattr(person, name) for name in BASE}


def registered_person_facts(*, user: Any, person_id: int) -> tuple[Person, dict[str, Value], list[dict[str, Value]]]:
    """A resident, their base facts and their household's, if ``user`` may see them (not audited: callers do).

    Raises ``Person.DoesNotExist`` outside the user's scope, as for a person who does not exist.
    """
    person = person_for_user(user=user, pk=person_id)
    members = [_facts(m) for m in persons_for_user(user=user).filter(household_id=person.household_id)]
    return person, _facts(person), members


def may_see_birth_date(user: Any, person: Person) -> bool:
    """The birth date is the middle of the identity number: whoever may reveal the number may see it."""
    return sees_identity(user, person.hukou_area)


# --- answers from the birth year alone -------------------------------------------------------------------------


def _merge_criterion(a: CriterionResult, b: CriterionResult) -> CriterionResult:
    if a.passed == b.passed:
        return a
    return replace(a, passed=None, missing=tuple(sorted({*a.missing, BIRTH_DATE})))


def _status(criteria: Sequence[CriterionResult]) -> str:
    if any(c.passed is False for c in criteria):
        return NOT_ELIGIBLE
    if all(c.passed is True for c in criteria):
        return ELIGIBLE
    return UNKNOWN


def _merge_item(a: ItemResult, b: ItemResult) -> ItemResult:
    criteria = tuple(_merge_criterion(x, y) for x, y in zip(a.criteria, b.criteria, strict=True))
    status = a.status if a.status == b.status else _status(criteria)
    same_level = (a.amount, a.units) == (b.amount, b.units)
    return replace(
        a,
        status=status,
        criteria=criteria,
        amount=a.amount if status == ELIGIBLE and same_level else None,
        units=a.units if status == ELIGIBLE and same_level else None,
    )


def explain_by_birth_year(
    facts: dict[str, Value],
    *,
    rules: Sequence[ItemRule],
    as_of: dt.date,
    household: Sequence[dict[str, Value]],
    birth_date: dt.date | None,
) -> list[ItemResult]:
    """``explain`` with nothing in the answer depending on the month and day of birth (see the module doc)."""
    if birth_date is None:
        return explain(facts, rules=rules, as_of=as_of, household=household)

    def on(day: dt.date) -> list[ItemResult]:
        swap = {**facts, BIRTH_DATE: day}
        members = [{**m, BIRTH_DATE: day} if m.get(BIRTH_DATE) == birth_date else m for m in household]
        return explain(swap, rules=rules, as_of=as_of, household=members)

    first = on(dt.date(birth_date.year, 1, 1))
    last = on(dt.date(birth_date.year, 12, 31))
    return [_merge_item(a, b) for a, b in zip(first, last, strict=True)]


# --- limits ----------------------------------------------------------------------------------------------------


def _recent_checks(*, since: dt.datetime) -> Any:
    return AuditLog.objects.filter(event=CHECKED, occurred_at__gte=since)


def _sweep(*, user: Any, person: Person, reason: str, counts: dict[str, int]) -> None:
    audit(actor=user, event=SWEEP, obj=person, after={"reason": reason, **counts})
    logger.warning(
        "possible sweep of a registered person's eligibility: user=%s person=%s reason=%s counts=%s",
        getattr(user, "pk", None),
        person.pk,
        reason,
        counts,
    )


def _check_limits(*, user: Any, person: Person, as_of: dt.date, now: dt.datetime) -> str:
    """``""`` to go on; otherwise why the check is refused (the alarm is raised by the caller, and kept)."""
    recent = _recent_checks(since=now - WINDOW)
    label = person._meta.label_lower
    of_person = recent.filter(object_type=label, object_id=str(person.pk))
    by_user = recent.filter(actor=user)
    counts = {"person_checks": of_person.count(), "user_checks": by_user.count()}
    per_person: int = settings.FUWU_PERSON_CHECKS_PER_HOUR
    per_user: int = settings.FUWU_USER_PERSON_CHECKS_PER_HOUR
    if counts["person_checks"] >= per_person or counts["user_checks"] >= per_user:
        _sweep(user=user, person=person, reason="limit", counts=counts)
        return (
            f"person_id: too many eligibility checks in the last hour (at most {per_person} of one person and "
            f"{per_user} by one user); try again later"
        )
    asked = {
        (row or {}).get("as_of")
        for row in of_person.filter(actor=user).values_list("after", flat=True)
        if isinstance(row, dict)
    }
    asked.add(as_of.isoformat())
    if len(asked) >= SWEEP_DATES:
        _sweep(user=user, person=person, reason="dates", counts={**counts, "dates": len(asked)})
    return ""


# --- the check -------------------------------------------------------------------------------------------------


def person_eligibility_check(
    *, user: Any, person_id: int, rules: Sequence[ItemRule], as_of: dt.date | None = None
) -> PersonAnswer:
    """Every rule's answer for a registered person, as ``user`` may be told it; audited as a read.

    Raises ``Person.DoesNotExist`` (outside the user's scope, or no such person), ``AsOfRestricted`` and
    ``TooManyChecks``.
    """
    person, facts, household = registered_person_facts(user=user, person_id=person_id)
    today = timezone.localdate()
    day = as_of or today
    sees_birth = may_see_birth_date(user, person)
    if day != today and not sees_birth:
        raise AsOfRestricted(
            f"as_of: for a registered person you may ask about today ({today.isoformat()}) only; leave it out, "
            "or ask an officer of the person's area"
        )
    with transaction.atomic():  # the alarm is kept even when the check is refused
        refused = _check_limits(user=user, person=person, as_of=day, now=timezone.now())
    if refused:
        raise TooManyChecks(refused)
    if sees_birth:
        results = explain(facts, rules=rules, as_of=day, household=household)
    else:
        results = explain_by_birth_year(
            facts, rules=rules, as_of=day, household=household, birth_date=person.birth_date
        )
    detail = {"as_of": day.isoformat(), "items": sorted(r.item for r in results), "birth_year_only": not sees_birth}
    with transaction.atomic():
        audit(actor=user, event="person.viewed", obj=person, note="eligibility check", after={"as_of": day.isoformat()})
        audit(actor=user, event=CHECKED, obj=person, after=detail)
    return PersonAnswer(as_of=day, results=results, birth_year_only=not sees_birth)
