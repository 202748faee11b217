"""Every day, only what changed: an incremental screening of the registry equals a full one on the same day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from fuwu.eligibility import incremental, screening, store
from fuwu.eligibility.incremental import age_thresholds, birthday_crossings, screening_registry_incremental
from fuwu.eligibility.models import EntitlementChange, ScreeningCount
from fuwu.eligibility.selectors import candidates_of, rules_in_force
from fuwu.eligibility.services import screening_registry_run
from fuwu.residents.models import Person
from tests.jobs.conftest import populate
from tests.residents.factories import PersonFactory

pytestmark = pytest.mark.django_db
DAY0 = dt.date(2026, 11, 29)
DAY1 = dt.date(2026, 11, 30)
OLD_AGE = "hc-bathing"  # home care: 80 or over, or 60 or over with a low income


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return Path(settings.VAR_DIR)


def answers(out: str) -> list[dict[str, Any]]:
    return screening.read_results(Path(out)).to_pylist()


def candidates(run: Any) -> set[tuple[Any, ...]]:
    rows = list(candidates_of(run).values_list("person_id", "hukou_area", "item", "amount"))
    assert len(rows) == len(set(rows))  # no person and item twice: the ended rows are not read
    return set(rows)


def counts(run: Any) -> set[tuple[Any, ...]]:
    return set(ScreeningCount.objects.filter(run=run).values_list("township", "item", "eligible", "unknown", "amount"))


def test_the_daily_run_equals_a_full_run_on_the_same_day(var_dir: Path, tmp_path: Path) -> None:
    populate(tmp_path, 600)
    rules = rules_in_force()
    thresholds = age_thresholds(rules, DAY1)
    assert thresholds is not None
    assert {80, 60} <= thresholds
    # An elder who turns 80 on day 1 (79 on day 0), in an existing household.
    elder = Person.objects.filter(birth_date__lte=dt.date(1950, 1, 1), low_income_status="none").order_by("pk").first()
    assert elder is not None
    Person.objects.filter(pk=elder.pk).update(birth_date=dt.date(1946, 11, 30))
    # Who lives with them counts for the elder's own household facts (income per member): screened alone,
    # they would look as poor as their own income.
    Person.objects.filter(pk=elder.pk).update(income=0)
    housemate = PersonFactory(
        household=elder.household, relation="child", birth_date=dt.date(1975, 5, 5), income=900_000
    )
    first = screening_registry_run(actor=None, as_of=DAY0)
    # The birthday's household is screened with them, so their household facts are the whole household's.
    assert housemate.pk in incremental.affected_persons(first, DAY1, rules)[0]
    eighty = [a for a in answers(first.output) if a["person_id"] == elder.pk and a["status"] == "eligible"]

    # Day 1's news: one person's facts change, one person dies, one is born into a household.
    changed = Person.objects.exclude(pk=elder.pk).filter(birth_date__lte=dt.date(1960, 1, 1)).order_by("-pk").first()
    assert changed is not None
    changed.low_income_status = "minimum_allowance"
    changed.save()
    gone = Person.objects.exclude(pk__in=[elder.pk, changed.pk]).order_by("pk").last()
    assert gone is not None
    gone_id = gone.pk
    gone.delete()
    baby = PersonFactory(household=changed.household, relation="grandchild", birth_date=dt.date(2026, 11, 1))

    daily = screening_registry_incremental(actor=None, as_of=DAY1)
    assert daily.incremental
    assert 0 < daily.screened < Person.objects.count() / 4  # only what changed, not everyone
    assert daily.previous == first
    assert not (Path(daily.output).parent / "changed.parquet").exists()  # the changed persons' facts, gone
    full = screening_registry_run(actor=None, as_of=DAY1)
    assert not full.incremental

    # The same answers for everyone, the same proactive list, the same counts.
    assert answers(daily.output) == answers(full.output)
    assert candidates(daily) == candidates(full)
    assert daily.counts == full.counts
    assert counts(daily) == counts(full)
    assert (daily.persons, daily.result_rows) == (full.persons, full.result_rows)
    # The same changes as comparing the full run with day 0's, person by person.
    expected = {row for batch in store.changes(Path(full.output), Path(first.output)) for row in batch}
    emitted = set(EntitlementChange.objects.filter(run=daily).values_list(*store.CHANGE_COLUMNS))
    assert emitted == expected
    # The birthday: 80 today, newly entitled to the 80+ allowance (and was not yesterday).
    assert not any(a["item"] == OLD_AGE for a in eighty)
    assert (elder.pk, OLD_AGE, "gained") in {(p, i, c) for p, _, i, c, _ in emitted}
    assert (changed.pk, "gained") in {(p, c) for p, _, _, c, _ in emitted}  # the minimum allowance, at least
    assert baby.pk in {a["person_id"] for a in answers(daily.output)}
    assert gone_id not in {a["person_id"] for a in answers(daily.output)}


def test_birthday_crossings_find_exactly_the_thresholds_reached(db: None) -> None:
    reaching = PersonFactory(birth_date=dt.date(1946, 11, 30))  # 80 on 2026-11-30
    past = PersonFactory(birth_date=dt.date(1946, 11, 29))  # 80 the day before
    other_age = PersonFactory(birth_date=dt.date(1950, 11, 30))  # 76: no rule changes at 76
    leap = PersonFactory(birth_date=dt.date(1944, 2, 29))  # 80 from 2024-03-01 (full years)
    found = set(Person.objects.filter(birthday_crossings(DAY0, DAY1, {80})).values_list("pk", flat=True))
    assert found == {reaching.pk}
    every = set(Person.objects.filter(birthday_crossings(DAY0, DAY1, None)).values_list("pk", flat=True))
    assert every == {reaching.pk, other_age.pk}
    assert past.pk not in every
    leap_day = set(
        Person.objects.filter(birthday_crossings(dt.date(2024, 2, 28), dt.date(2024, 3, 1), {80})).values_list(
            "pk", flat=True
        )
    )
    assert leap.pk in leap_day


def test_without_a_previous_run_the_daily_run_screens_everyone(var_dir: Path, tmp_path: Path, capsys: Any) -> None:
    populate(tmp_path, 50)
    call_command("screen", "--registry", "--incremental", "--as-of", DAY1.isoformat(), "--quiet")
    assert "(full)" in capsys.readouterr().out
    call_command("screen", "--registry", "--incremental", "--as-of", DAY1.isoformat(), "--quiet")
    out = capsys.readouterr().out
    assert "(incremental, 0 persons screened)" in out
    assert "0 entitlement changes" in out
    assert incremental.base_run(rules_in_force(), DAY1) is not None


def test_the_daily_job_screens_what_changed_on_the_queue(var_dir: Path, tmp_path: Path, settings: Any) -> None:
    from fuwu.jobs.models import Job, JobStatus
    from fuwu.jobs.services import job_start
    from fuwu.jobs.worker import run_queue

    populate(tmp_path, 40)
    first = screening_registry_run(actor=None, as_of=DAY0)
    job_start(kind="eligibility.registry_daily", actor=None, params={"slot": "2026-11-30T02:30:00+08:00"})
    assert run_queue() == 1
    job = Job.objects.get()
    assert job.status == JobStatus.SUCCEEDED, job.error
    daily = first.__class__.objects.get(pk=job.result["run"])
    assert (daily.incremental, daily.as_of, daily.previous) == (True, DAY1, first)
