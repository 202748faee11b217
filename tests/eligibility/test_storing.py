"""Storing a screening run's results in short transactions (issue 14, "City scale").

While a run's candidates, changes and counts go in, another connection can write (an officer's short write
waits for one batch at most, never for the whole run); no reader sees a half-stored run; a run interrupted
between batches leaves rows nothing shows, which a re-run (or the retention job) removes, and a re-run
stores what an uninterrupted run stores.

The writes and reads that must not wait run in another thread, on a connection of their own, against a
file copy of the test database on SQLite (``file_database``: WAL and ``BEGIN IMMEDIATE``, as the site
runs it). Small batches (``store.FETCH``, ``store.TRANSACTION_ROWS``) give every run several batches.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from fuwu.accounts.models import Department, Role, User
from fuwu.areas.models import Area, AreaLevel
from fuwu.eligibility import proactive, services, store
from fuwu.eligibility.incremental import base_run
from fuwu.eligibility.models import Candidate, EntitlementChange, RunStatus, ScreeningCount, ScreeningRun
from fuwu.eligibility.registry import latest_registry_run
from fuwu.eligibility.screening import Outcome
from fuwu.eligibility.selectors import rules_in_force
from fuwu.eligibility.services import screening_registry_run, screening_run_complete
from fuwu.evaluation.datasets import screening_results
from fuwu.residents.models import Person
from tests.jobs.conftest import populate

pytestmark = pytest.mark.django_db(transaction=True)
DAY0 = dt.date(2026, 11, 29)
DAY1 = dt.date(2026, 11, 30)
WAIT = 1.0  # seconds another connection's write may wait for the lock before it fails


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return Path(settings.VAR_DIR)


@pytest.fixture
def city(file_database: str, tmp_path: Path, var_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Areas, standards, 300 residents; storing in batches of 40 rows."""
    populate(tmp_path, 300)
    monkeypatch.setattr(store, "FETCH", 40)
    monkeypatch.setattr(store, "TRANSACTION_ROWS", 40, raising=False)


def in_another_connection(work: Callable[[], Any]) -> Any:
    """``work()`` in a thread of its own (so on a connection of its own), waiting at most ``WAIT`` s for a lock;
    its value, or the exception it raised."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            with connection.cursor() as cursor:
                if connection.vendor == "sqlite":
                    cursor.execute(f"PRAGMA busy_timeout = {int(WAIT * 1000)}")
                else:
                    cursor.execute(f"SET lock_timeout = '{int(WAIT * 1000)}ms'")
            outcome["value"] = work()
        except Exception as exc:  # handed to the test, which names it
            outcome["value"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    return outcome["value"]


def between_batches(monkeypatch: pytest.MonkeyPatch, hook: Callable[[int], None]) -> list[int]:
    """Call ``hook(n)`` before the storing asks for the n-th batch of candidates (n ≥ 1): mid-storing."""
    real = store.candidates
    seen: list[int] = []

    def candidates(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for n, batch in enumerate(real(*args, **kwargs)):
            if n:
                seen.append(n)
                hook(n)
            yield batch

    monkeypatch.setattr(store, "candidates", candidates)
    return seen


def written_so_far(run: ScreeningRun) -> int:
    """The candidates a half-stored run has written and committed: on PostgreSQL in its own table, not yet
    attached to the candidates table (ADR 28), so not even there; elsewhere in the candidates table."""
    if not store.partitioned(Candidate):
        return Candidate.objects.filter(run=run).count()
    assert not Candidate.objects.filter(run=run).exists()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {store.partition_name(Candidate, run.pk)}")  # noqa: S608 - our name
        return int(cursor.fetchone()[0])


def copying(run: ScreeningRun) -> bool:
    """Whether the run's candidates are being written now: on PostgreSQL its table is held by the one transaction
    that copies them (ADR 29), whose rows no other session sees until it commits; elsewhere, some rows are
    already committed (short transactions)."""
    if not store.partitioned(Candidate):
        return written_so_far(run) > 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = to_regclass(%s) AND mode = 'AccessExclusiveLock' "
            "AND granted AND pid <> pg_backend_pid())",
            [f"{Candidate._meta.db_table}_run{run.pk}"],
        )
        return bool(cursor.fetchone()[0])


def left_half_stored(run: ScreeningRun, whole: int | None = None) -> bool:
    """What storing killed mid-way left of the run's candidates: on SQLite the batches committed before
    (some, fewer than ``whole``); on PostgreSQL none, the copy being one transaction (ADR 29), but the run's own
    table, detached, for a re-run or retention to drop."""
    if store.partitioned(Candidate):
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{Candidate._meta.db_table}_run{run.pk}"])
            return bool(cursor.fetchone()[0]) and written_so_far(run) == 0
    return 0 < written_so_far(run) < (whole or written_so_far(run) + 1)


def stored(run: ScreeningRun) -> dict[str, set[tuple[Any, ...]]]:
    return {
        "candidates": set(
            Candidate.objects.filter(run=run).values_list(
                "person_id", "hukou_area", "item", "rule_version", "amount", "units"
            )
        ),
        "changes": set(
            EntitlementChange.objects.filter(run=run).values_list("person_id", "hukou_area", "item", "change", "amount")
        ),
        "counts": set(
            ScreeningCount.objects.filter(run=run).values_list("township", "item", "eligible", "unknown", "amount")
        ),
    }


def test_an_officer_writes_while_a_run_is_being_stored(city: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked against the code before this change: there the write waited for the whole storing and failed
    with "database is locked" on SQLite."""
    writes: list[Any] = []

    def officer_writes(n: int) -> None:
        def write() -> float:
            started = time.perf_counter()
            Department.objects.create(code=f"office-{n}", name_zh="民政办")
            return time.perf_counter() - started

        writes.append(in_another_connection(write))

    seen = between_batches(monkeypatch, officer_writes)
    run = screening_registry_run(actor=None, as_of=DAY0)
    assert run.status == RunStatus.COMPLETED
    assert len(seen) >= 3  # the write was tried mid-storing, several times
    failed = [w for w in writes if isinstance(w, Exception)]
    assert not failed, failed[0]
    assert max(writes) < WAIT
    assert Department.objects.filter(code__startswith="office-").count() == len(seen)


def test_no_reader_sees_a_half_stored_run(city: None, monkeypatch: pytest.MonkeyPatch) -> None:
    first = screening_registry_run(actor=None, as_of=DAY0)
    city_area = Area.objects.filter(level=AreaLevel.CITY).order_by("code").first()
    officer = User.objects.create(
        username="officer",
        role=Role.DEPARTMENT_OFFICER,
        area=city_area,
        department=Department.objects.create(code="civil-affairs", name_zh="民政局"),
    )
    rows_before = screening_results(DAY0, DAY1 + dt.timedelta(days=1), DAY1)
    candidates_before = Candidate.objects.filter(run=first).count()
    assert candidates_before > 0
    views: list[Any] = []

    def read(n: int) -> None:
        running = ScreeningRun.objects.get(status=RunStatus.RUNNING)

        def look() -> dict[str, Any]:
            client = Client()
            client.force_login(officer)
            return {
                "running stored some": copying(running),
                "latest": proactive.latest_run(),
                "latest registry": latest_registry_run(),
                "previous": services.previous_run(running),
                "base": base_run(rules_in_force(), DAY1),
                "rows": screening_results(DAY0, DAY1 + dt.timedelta(days=1), DAY1),
                "list": [
                    c.pk
                    for c in proactive.newly_entitled(run=proactive.latest_run(), user=officer)  # type: ignore[arg-type]
                ],
                "page of the running run": client.get(f"/proactive/{running.pk}/").status_code,
            }

        views.append(in_another_connection(look))

    between_batches(monkeypatch, read)
    second = screening_registry_run(actor=None, as_of=DAY1)
    assert len(views) >= 3
    for view in views:
        assert not isinstance(view, Exception), view
        assert view["running stored some"]  # really mid-storing
        assert view["latest"] == view["latest registry"] == view["previous"] == view["base"] == first
        assert view["rows"] == rows_before
        assert len(view["list"]) == candidates_before
        assert view["page of the running run"] == 404
    assert proactive.latest_run() == second


def test_a_run_killed_mid_storing_leaves_nothing_shown_and_a_rerun_stores_the_same(
    city: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``fuwu screen --population`` path: the run record stays running (a killed process cleans nothing
    up); the same command resumes it, and what it stores equals an uninterrupted run's."""
    reference = screening_registry_run(actor=None, as_of=DAY0)
    # The next day 40 residents are 85: entitlements gained, so the runs below store changes too.
    aged = list(Person.objects.order_by("pk").values_list("pk", flat=True)[:40])
    Person.objects.filter(pk__in=aged).update(birth_date=dt.date(1941, 1, 1))
    day1 = screening_registry_run(actor=None, as_of=DAY1)
    results = Path(day1.output)
    day1.delete()  # only its files serve below; the runs compare with the reference

    def complete(name: str, run: ScreeningRun | None = None) -> ScreeningRun:
        out = tmp_path / name
        if run is None:
            shutil.copytree(results, out)
            run = ScreeningRun.objects.create(
                engine="duckdb", as_of=DAY1, population="registry", output=str(out), rules_digest="d"
            )
        return screening_run_complete(run=run, outcome=Outcome(out, 1, 0, 0, 0.0), actor=None, load_results=True)

    whole = complete("whole")
    expected = stored(whole)
    assert whole.previous == reference
    assert expected["candidates"]
    assert expected["changes"]
    assert expected["counts"]
    whole.delete()

    def killed(n: int) -> None:
        if n == 3:
            raise KeyboardInterrupt  # as the process dies: no handler of ours cleans up

    seen = between_batches(monkeypatch, killed)
    with pytest.raises(KeyboardInterrupt):
        complete("interrupted")
    assert seen == [1, 2, 3]
    interrupted = ScreeningRun.objects.get(status=RunStatus.RUNNING)
    assert left_half_stored(interrupted, len(expected["candidates"]))
    assert proactive.latest_run() == reference  # the half-stored run is shown nowhere

    monkeypatch.undo()
    monkeypatch.setattr(store, "FETCH", 40)
    monkeypatch.setattr(store, "TRANSACTION_ROWS", 40, raising=False)
    again = complete("interrupted", interrupted)
    assert again.status == RunStatus.COMPLETED
    assert again.store_attempt == 2
    assert again.previous == reference
    assert stored(again) == expected
    assert proactive.latest_run() == again


def test_a_registry_run_failing_mid_storing_is_abandoned_and_the_next_run_stores_the_same(
    city: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = screening_registry_run(actor=None, as_of=DAY0)

    def fails(n: int) -> None:
        if n == 2:
            raise RuntimeError("disk full")

    between_batches(monkeypatch, fails)
    with pytest.raises(RuntimeError, match="disk full"):
        screening_registry_run(actor=None, as_of=DAY0)
    failed = ScreeningRun.objects.get(status=RunStatus.FAILED)
    assert stored(failed) == {"candidates": set(), "changes": set(), "counts": set()}
    monkeypatch.undo()
    again = screening_registry_run(actor=None, as_of=DAY0)
    assert stored(again)["candidates"] == stored(reference)["candidates"]
    assert stored(again)["counts"] == stored(reference)["counts"]
    assert again.previous == reference
    assert again.stored_rows == reference.stored_rows


def test_an_abandoned_run_stops_storing_at_its_next_batch(city: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run closed from elsewhere (its job's retry, the retention job) while its process still stores: the
    process stops at its next batch and writes nothing more. On PostgreSQL the candidates are one transaction
    (ADR 29): the abandon waits for it, and the process stops at the next (its table's attaching)."""
    abandoning: list[threading.Thread] = []
    abandoned: list[Any] = []

    def abandon(n: int) -> None:
        if n != 2:
            return
        running = ScreeningRun.objects.get(status=RunStatus.RUNNING)
        if not store.partitioned(Candidate):
            abandoned.append(in_another_connection(lambda: services.screening_registry_abandon(run_id=running.pk)))
            return

        def later() -> None:
            try:
                abandoned.append(services.screening_registry_abandon(run_id=running.pk))
            except Exception as exc:  # handed to the test, which names it
                abandoned.append(exc)
            finally:
                connection.close()

        abandoning.append(threading.Thread(target=later))
        abandoning[0].start()
        time.sleep(WAIT)  # it waits for the copy's transaction, which holds the run

    between_batches(monkeypatch, abandon)
    with pytest.raises(services.RunNotStoring):
        screening_registry_run(actor=None, as_of=DAY0)
    for thread in abandoning:
        thread.join(30)
    assert abandoned == [True]
    run = ScreeningRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert stored(run) == {"candidates": set(), "changes": set(), "counts": set()}


def test_retention_removes_runs_left_running_longer_than_the_limit(
    city: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.FUWU_SCREENING_RETENTION = {"keep_runs": 2, "keep_days": 30, "running_hours": 12}

    def killed(n: int) -> None:
        if n == 2:
            raise KeyboardInterrupt

    between_batches(monkeypatch, killed)
    # The process dies first: no abandon, no directory removed.
    monkeypatch.setattr(services, "screening_registry_abandon", lambda **kwargs: False)
    monkeypatch.setattr(services, "shutil", SimpleNamespace(rmtree=lambda *args, **kwargs: None))
    with pytest.raises(KeyboardInterrupt):
        screening_registry_run(actor=None, as_of=DAY0)
    monkeypatch.undo()
    left = ScreeningRun.objects.get()
    assert left.status == RunStatus.RUNNING
    assert left_half_stored(left)
    folder = Path(left.output).parent
    assert folder.is_dir()

    assert services.screening_runs_purge() == []  # not old enough: it may still be storing
    assert left_half_stored(left)

    ScreeningRun.objects.filter(pk=left.pk).update(started_at=timezone.now() - dt.timedelta(hours=13))
    assert services.screening_runs_purge() == [left.pk]
    left.refresh_from_db()
    assert left.status == RunStatus.FAILED
    assert stored(left) == {"candidates": set(), "changes": set(), "counts": set()}
    assert not folder.exists()
    assert Person.objects.count() == 300
