"""Screening the registry in place on PostgreSQL stores what the DuckDB path stores (ADR 18).

The engine-agreement tests (``test_engines.py``) hold every engine to the one-resident answers over a
population file; here the PostgreSQL engine screens the registry itself, through the facts view, and the
two registry paths are compared on the same registry and day: every (person, item) answer, the counts by
township and item, the proactive list and the changes since the previous run. On SQLite, in place is
refused with the reason.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from fuwu.eligibility import inplace, screening, store
from fuwu.eligibility.facts import BASE_FACTS
from fuwu.eligibility.incremental import screening_registry_incremental
from fuwu.eligibility.models import Candidate, EntitlementChange, Receipt, RunStatus, ScreeningCount, ScreeningRun
from fuwu.eligibility.services import screening_registry_run, screening_runs_purge
from fuwu.residents.models import Person
from tests.jobs.conftest import populate
from tests.residents.factories import PersonFactory

pytestmark = pytest.mark.django_db
DAY0 = dt.date(2026, 11, 29)
DAY1 = dt.date(2026, 11, 30)
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="screening in place needs PostgreSQL")
on_sqlite = pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal is for other databases")


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return Path(settings.VAR_DIR)


def file_answers(run: ScreeningRun) -> list[tuple[Any, ...]]:
    rows = screening.read_results(Path(run.output)).to_pylist()
    return [(r["person_id"], r["item"], r["rule_version"], r["status"], r["amount"], r["units"]) for r in rows]


def stored(run: ScreeningRun) -> dict[str, Any]:
    """Everything a run stores, as sets of rows (without the run's own id)."""
    return {
        "counts": set(
            ScreeningCount.objects.filter(run=run).values_list("township", "item", "eligible", "unknown", "amount")
        ),
        "candidates": set(Candidate.objects.filter(run=run).values_list(*store.CANDIDATE_COLUMNS)),
        "changes": set(EntitlementChange.objects.filter(run=run).values_list(*store.CHANGE_COLUMNS)),
        "record": (run.counts, run.persons, run.result_rows, run.stored_rows, run.screened, run.status),
    }


@on_postgres
def test_the_facts_view_holds_the_base_facts_and_nothing_else(db: None) -> None:
    inplace.check_available()  # the migration made it, and it matches facts.py
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {inplace.VIEW} LIMIT 0")  # noqa: S608 - a constant
        columns = [d[0] for d in cursor.description]
    assert set(columns) == {"person_id", *(f.name for f in BASE_FACTS)}
    assert not [c for c in columns if "name" in c or "encrypted" in c or "id_number" in c or "phone" in c]


@on_postgres
def test_a_stale_or_missing_view_is_refused_with_the_fix(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP VIEW {inplace.VIEW}")
        cursor.execute(
            f"CREATE VIEW {inplace.VIEW} AS SELECT id AS person_id, household_id, sex FROM residents_person"  # noqa: S608
        )
    with pytest.raises(inplace.InPlaceUnavailable, match=r"missing: .*birth_date.*needs a migration"):
        inplace.check_available()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP VIEW {inplace.VIEW}")
    with pytest.raises(inplace.InPlaceUnavailable, match=r"run `fuwu migrate`"):
        inplace.check_available()


@on_postgres
def test_in_place_stores_what_the_duckdb_path_stores(var_dir: Path, tmp_path: Path) -> None:
    populate(tmp_path, 600)
    # Some people already receive an item worth a call: neither path may list them.
    served = list(Person.objects.order_by("pk").values_list("pk", flat=True)[:300:7])
    for pk in served:
        Receipt.objects.create(person_id=pk, item="hc-bathing")
        Receipt.objects.create(person_id=pk, item="sr-minimum-living-allowance")
    # A birthday on day 1 (80: the home-care allowance) and a change of facts, for the changes below.
    elder = Person.objects.filter(birth_date__lte=dt.date(1950, 1, 1), low_income_status="none").order_by("pk").first()
    assert elder is not None
    Person.objects.filter(pk=elder.pk).update(birth_date=dt.date(1946, 11, 30))

    files0 = screening_registry_run(actor=None, as_of=DAY0)
    table0 = screening_registry_run(actor=None, as_of=DAY0, in_place=True)
    assert table0.engine == "postgres"
    assert inplace.answers_table(table0) is not None
    # Every (person, item) answer: status, rule version, amount, units.
    answers = file_answers(files0)
    assert answers, "the generated registry has entitlements"
    assert inplace.long_answers(table0) == answers
    # What is stored: counts by township and item, the proactive list, the run's record.
    want, got = stored(files0), stored(table0)
    assert want["counts"]
    assert want["candidates"]
    assert got["counts"] == want["counts"]
    assert got["candidates"] == want["candidates"]
    assert not [
        c for c in got["candidates"] if c[0] in served and c[2] in {"hc-bathing", "sr-minimum-living-allowance"}
    ]
    assert got["record"][:3] == want["record"][:3]
    # Compared with the files of the run before it, on the same day: no change at all.
    assert table0.previous == files0
    assert got["changes"] == set()
    # Home-care accounts read one item's entitled people from either store.
    items = {"hc-bathing", "hc-meals"}
    assert inplace.eligible(table0, items=items) == store.eligible(Path(files0.output), items=items)

    # Day 1: facts change, someone dies, someone is born.
    changed = Person.objects.exclude(pk=elder.pk).filter(birth_date__lte=dt.date(1960, 1, 1)).order_by("-pk").first()
    assert changed is not None
    changed.low_income_status = "minimum_allowance"
    changed.save()
    Person.objects.exclude(pk__in=[elder.pk, changed.pk]).order_by("pk").last().delete()  # type: ignore[union-attr]
    PersonFactory(household=changed.household, relation="grandchild", birth_date=dt.date(2026, 11, 1))

    table1 = screening_registry_run(actor=None, as_of=DAY1, in_place=True)  # against table0, in the database
    files1 = screening_registry_run(actor=None, as_of=DAY1)  # against files0 (day 0's answers, the same)
    assert (table1.previous, files1.previous) == (table0, files0)
    assert inplace.long_answers(table1) == file_answers(files1)
    want, got = stored(files1), stored(table1)
    assert got["counts"] == want["counts"]
    assert got["candidates"] == want["candidates"]
    assert got["changes"] == want["changes"]
    assert got["record"] == want["record"]
    assert ("hc-bathing", "gained") in {(i, c) for p, _, i, c, _ in got["changes"] if p == elder.pk}


@on_postgres
def test_a_failed_run_and_retention_drop_the_answers_table(
    var_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(tmp_path, 40)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(inplace, "complete", broken)
    with pytest.raises(RuntimeError):
        screening_registry_run(actor=None, as_of=DAY0, in_place=True)
    failed = ScreeningRun.objects.get()
    assert failed.status == RunStatus.FAILED
    assert not inplace.has_answers(failed)
    monkeypatch.undo()

    runs = [screening_registry_run(actor=None, as_of=DAY0, in_place=True) for _ in range(3)]
    assert all(inplace.has_answers(run) for run in runs)
    old = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ScreeningRun.objects.update(started_at=old)
    purged = screening_runs_purge(now=old + dt.timedelta(days=60))
    assert runs[0].pk in purged
    runs[0].refresh_from_db()
    assert not inplace.has_answers(runs[0])
    assert all(inplace.has_answers(run) for run in runs[1:])  # the newest two are kept
    with pytest.raises(store.MissingResults):
        inplace.eligible(runs[0], items={"hc-bathing"})


@on_postgres
def test_the_setting_makes_every_registry_run_in_place(var_dir: Path, tmp_path: Path, settings: Any) -> None:
    populate(tmp_path, 40)
    settings.FUWU_SCREEN_IN_PLACE = True
    run = screening_registry_run(actor=None, as_of=DAY0)
    assert inplace.answers_table(run) is not None
    daily = screening_registry_incremental(actor=None, as_of=DAY1)  # in place is always a full run
    assert inplace.answers_table(daily) is not None
    assert not daily.incremental
    assert daily.previous == run
    with pytest.raises(inplace.InPlaceUnavailable, match="in place only"):
        screening_registry_run(actor=None, as_of=DAY0, in_place=False)
    out = io.StringIO()
    call_command("screen", "--registry", "--as-of", DAY1.isoformat(), "--quiet", stdout=out)
    assert "postgresql:eligibility_answers_" in out.getvalue()
    assert not (var_dir / "registry-screens").exists()  # nothing was exported


@on_sqlite
def test_in_place_is_refused_with_the_reason_elsewhere(var_dir: Path, tmp_path: Path, settings: Any) -> None:
    populate(tmp_path, 20)
    with pytest.raises(inplace.InPlaceUnavailable, match="needs PostgreSQL"):
        screening_registry_run(actor=None, as_of=DAY0, in_place=True)
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("screen", "--registry", "--in-place", "--as-of", DAY0.isoformat(), "--quiet")
    settings.FUWU_SCREEN_IN_PLACE = True
    with pytest.raises(inplace.InPlaceUnavailable, match="needs PostgreSQL"):
        screening_registry_incremental(actor=None, as_of=DAY0)
    assert not ScreeningRun.objects.exists()  # refused before anything started
    assert not (var_dir / "registry-screens").exists()


def test_in_place_asks_for_the_registry(mini_version: Any) -> None:
    with pytest.raises(CommandError, match="add --registry"):
        call_command("screen", "--population", "x.parquet", "--out", "y", "--in-place")


def test_the_daily_job_explains_a_refusal(var_dir: Path, tmp_path: Path, settings: Any) -> None:
    from fuwu.jobs.models import Job, JobStatus
    from fuwu.jobs.services import job_start
    from fuwu.jobs.worker import run_queue

    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL screens in place")
    populate(tmp_path, 10)
    settings.FUWU_SCREEN_IN_PLACE = True
    job_start(kind="eligibility.registry_daily", actor=None, params={"as_of": DAY0.isoformat()})
    run_queue()
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED
    assert "FUWU_SCREEN_IN_PLACE" in str(job.error)


def test_the_system_check_names_a_setting_the_database_cannot_keep(settings: Any) -> None:
    from fuwu.eligibility.checks import in_place_needs_postgresql

    settings.FUWU_SCREEN_IN_PLACE = False
    assert in_place_needs_postgresql() == []
    settings.FUWU_SCREEN_IN_PLACE = True
    errors = in_place_needs_postgresql()
    assert [e.id for e in errors] == ([] if connection.vendor == "postgresql" else ["eligibility.E001"])
