"""Every day, only what changed: an incremental screening of the registry equals a full one on the same day."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from fuwu.eligibility import incremental, screening, store
from fuwu.eligibility.incremental import age_thresholds, birthday_crossings, screening_registry_incremental
from fuwu.eligibility.models import (
    Candidate,
    EntitlementChange,
    Receipt,
    RunStatus,
    ScreeningCount,
    ScreeningRun,
)
from fuwu.eligibility.selectors import candidates_of, rules_in_force
from fuwu.eligibility.services import screening_registry_abandon, screening_registry_run, screening_runs_purge
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
    # Over a long gap the dates are not listed one by one (a range per age): the same persons.
    since = DAY1 - dt.timedelta(days=incremental.BIRTH_DATES + 1)
    ranged = set(Person.objects.filter(birthday_crossings(since, DAY1, {80})).values_list("pk", flat=True))
    assert ranged == {reaching.pk, past.pk}


def test_same_rules_tells_a_dated_parameter_taking_effect_as_binding_does(db: None) -> None:
    call_command("standards", "load", str(Path(__file__).resolve().parents[2] / "standards"), stdout=io.StringIO())
    rules = rules_in_force()

    def bound(day: dt.date) -> list[Any]:
        return [
            (
                [c.sql() for c in b.criteria],
                b.amount.sql() if b.amount is not None else None,
                b.units.sql() if b.units is not None else None,
            )
            for b in (rule.bound(day) for rule in rules)
        ]

    effective = sorted({day for rule in rules for values in rule.parameters.values() for day, _ in values})
    assert effective  # the standards have dated parameters: the comparison below means something
    days = sorted({d + dt.timedelta(days=k) for d in effective for k in (-1, 0)})
    changed = 0
    for before, now in itertools.pairwise(days):
        same = bound(before) == bound(now)
        changed += not same
        assert incremental._same_rules(rules, before, now) is same, (before, now)
    assert changed  # some parameter changes a rule between two of these days


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


DAY2 = dt.date(2026, 12, 1)


def _change_one(skip: set[int]) -> Person:
    person = Person.objects.exclude(pk__in=skip).filter(birth_date__lte=dt.date(1965, 1, 1)).order_by("pk").first()
    assert person is not None
    person.low_income_status = "minimum_allowance"
    person.save()
    return person


def test_daily_runs_in_a_row_store_only_what_changed_and_equal_full_runs(var_dir: Path, tmp_path: Path) -> None:
    populate(tmp_path, 400)
    first = screening_registry_run(actor=None, as_of=DAY0)
    listed = list(candidates_of(first).order_by("person_id", "item")[:2])
    assert len(listed) == 2
    stops, starts = listed  # stops receiving before day 2 (receives from day 1); starts receiving before day 2
    Receipt.objects.create(person_id=stops.person_id, item=stops.item, source="import")
    one = _change_one({stops.person_id, starts.person_id})
    day1 = screening_registry_incremental(actor=None, as_of=DAY1)
    assert (day1.incremental, day1.base, day1.lineage, day1.generation) == (True, first, first, 1)
    assert (stops.person_id, stops.item) not in {(p, i) for p, _, i, _ in candidates(day1)}
    # Nothing about the unchanged persons was copied: the files are links, the rows the full run's.
    results = Path(day1.output)
    assert os.path.samefile(results / "base-00000.parquet", Path(first.output) / "part-00000.parquet")
    assert not list(results.glob("part-*.parquet"))
    own = Candidate.objects.filter(run=day1).count()
    assert 0 < own < candidates_of(day1).count() / 4
    assert candidates_of(day1).filter(run=first).count() == candidates_of(day1).count() - own
    day1_list = candidates(day1)

    Receipt.objects.filter(person_id=stops.person_id).delete()  # stops receiving: on the list again
    Receipt.objects.create(person_id=starts.person_id, item=starts.item, source="import")
    _change_one({one.pk, stops.person_id, starts.person_id})
    gone = Person.objects.exclude(pk__in=[one.pk, stops.person_id, starts.person_id]).order_by("pk").last()
    assert gone is not None
    gone_id = gone.pk
    gone.delete()
    day2 = screening_registry_incremental(actor=None, as_of=DAY2)
    assert (day2.base, day2.lineage, day2.generation) == (day1, first, 2)
    assert os.path.samefile(Path(day2.output) / "base-00000.parquet", Path(first.output) / "part-00000.parquet")
    full = screening_registry_run(actor=None, as_of=DAY2)

    assert answers(day2.output) == answers(full.output)
    assert candidates(day2) == candidates(full)
    assert (stops.person_id, stops.item) in {(p, i) for p, _, i, _ in candidates(day2)}
    assert (starts.person_id, starts.item) not in {(p, i) for p, _, i, _ in candidates(day2)}
    assert day2.counts == full.counts
    assert counts(day2) == counts(full)
    assert (day2.persons, day2.result_rows) == (full.persons, full.result_rows)
    expected = {row for batch in store.changes(Path(full.output), Path(day1.output)) for row in batch}
    assert set(EntitlementChange.objects.filter(run=day2).values_list(*store.CHANGE_COLUMNS)) == expected
    assert gone_id in {p for p, *_ in expected}
    # The runs before read as they did: day 2's ends are not theirs.
    assert candidates(day1) == day1_list
    assert {a["person_id"] for a in answers(day1.output)} >= {gone_id}


def test_a_move_between_households_screens_both_households_as_a_full_run_would(var_dir: Path, tmp_path: Path) -> None:
    populate(tmp_path, 300)
    first = screening_registry_run(actor=None, as_of=DAY0)
    # A well-paid member leaves a household (its income per member falls) for another (whose rises).
    mover = Person.objects.exclude(relation="head").filter(income__gt=0).order_by("-income", "pk").first()
    assert mover is not None
    left = mover.household_id
    stayed = set(Person.objects.filter(household_id=left).exclude(pk=mover.pk).values_list("pk", flat=True))
    joined = Person.objects.exclude(household_id=left).filter(relation="head").order_by("pk").first()
    assert stayed
    assert joined is not None
    mover.household_id = joined.household_id
    mover.save()

    daily = screening_registry_incremental(actor=None, as_of=DAY1)
    assert daily.incremental
    full = screening_registry_run(actor=None, as_of=DAY1)
    assert answers(daily.output) == answers(full.output)
    assert candidates(daily) == candidates(full)
    assert counts(daily) == counts(full)
    # Both households were screened again: the one left (from the export) and the one joined (the table's).
    affected = set(incremental.affected_persons(first, DAY1, rules_in_force())[0])
    assert stayed | {mover.pk, joined.pk} <= affected


def test_retention_keeps_what_a_later_daily_run_reads(var_dir: Path, tmp_path: Path, settings: Any) -> None:
    settings.FUWU_SCREENING_RETENTION = {"keep_runs": 1, "keep_days": 0}
    populate(tmp_path, 200)
    first = screening_registry_run(actor=None, as_of=DAY0)
    one = _change_one(set())
    day1 = screening_registry_incremental(actor=None, as_of=DAY1)
    want_list, want_answers = candidates(day1), answers(day1.output)
    assert Candidate.objects.filter(run=first, until=day1).exists()

    assert screening_runs_purge() == [first.pk]
    first.refresh_from_db()
    assert first.purged_at is not None
    assert not Path(first.output).exists()
    # The daily run still reads the full run's answers (its links) and the rows it did not end.
    assert candidates(day1) == want_list
    assert answers(day1.output) == want_answers
    assert not Candidate.objects.filter(run=first, until=day1).exists()  # what nothing reads is gone
    assert Candidate.objects.filter(run=first).exists()
    assert screening_runs_purge(dry_run=True) == []  # nothing left over to purge

    _change_one({one.pk})
    day2 = screening_registry_incremental(actor=None, as_of=DAY2)
    assert day2.base == day1
    want_list = candidates(day2)
    assert screening_runs_purge() == [day1.pk]
    assert candidates(day2) == want_list
    full = screening_registry_run(actor=None, as_of=DAY2)
    assert candidates(day2) == candidates(full)
    assert answers(day2.output) == answers(full.output)


def test_a_daily_run_killed_while_storing_shows_nothing_and_is_undone(
    var_dir: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    populate(tmp_path, 200)
    first = screening_registry_run(actor=None, as_of=DAY0)
    _change_one(set())
    want = candidates(first)

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt  # after the ends were marked and the new candidates stored

    monkeypatch.setattr(store, "changes", killed)
    monkeypatch.setattr(incremental, "screening_registry_abandon", lambda **kwargs: False)  # killed: no clean-up
    with pytest.raises(KeyboardInterrupt):
        screening_registry_incremental(actor=None, as_of=DAY1)
    monkeypatch.undo()
    dead = ScreeningRun.objects.get(incremental=True)
    assert dead.status == RunStatus.RUNNING
    assert Candidate.objects.filter(until=dead).exists()
    assert Candidate.objects.filter(run=dead).exists()
    assert candidates(first) == want  # the marks name a run that readers of the full run do not read

    # While it holds the next generation, another daily run screens everyone instead of building on the same run.
    again = screening_registry_incremental(actor=None, as_of=DAY1)
    assert not again.incremental
    # Its job (or retention, for a command) abandons it: its rows and marks go, the full run is as it was.
    assert screening_registry_abandon(run_id=dead.pk)
    assert not Candidate.objects.filter(until=dead).exists()
    assert not Candidate.objects.filter(run=dead).exists()
    assert candidates(first) == want
