"""The registry's bulk load: a batch per transaction, killed and carried on, on the queue with progress,
problems reported by row and column, and the daily screening still finding whom a load changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fuwu.accounts.models import Role
from fuwu.jobs.models import Job, JobStatus
from fuwu.jobs.worker import run_queue
from fuwu.residents import crypto, indexes, loading
from fuwu.residents.loading import LoadError, persons_load, persons_load_queue
from fuwu.residents.models import Household, Person, PersonImport
from tests.residents.test_parquet import person, write

pytestmark = pytest.mark.django_db

SIZE = 20


class Killed(BaseException):
    """What a killed process looks like from inside: not an Exception, nothing after it runs."""


def population() -> list[dict[str, Any]]:
    # Households of two (head and child) that batches of 3 cut in half, so heads cross batch borders.
    rows = [person(n, household=n // 2, head=n % 2 == 0) for n in range(1, SIZE + 1)]
    rows[4]["care_need"] = "severe"
    return rows


def registry() -> list[tuple[Any, ...]]:
    """The registry as people read it: every person's facts and number, households; no ids or times."""
    people = []
    for p in Person.objects.order_by("source_id"):
        number = crypto.decrypt(p.id_number_encrypted, lookup=p.id_number_hash).value
        people.append(
            (p.source_id, p.name, number, p.household_id, p.relation, p.birth_date, p.care_need, p.income, p.sex)
        )
    households = list(Household.objects.order_by("household_id").values_list("household_id", "hukou_area"))
    return [*people, *households]


def kill_in_batch(monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    """Kill the load inside the ``batch``-th batch's transaction, after its rows were written."""
    calls = {"n": 0}
    real = loading._apply

    def apply(*args: Any, **kwargs: Any) -> Any:
        counts = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == batch:
            raise Killed
        return counts

    monkeypatch.setattr(loading, "_apply", apply)


def test_killed_mid_batch_then_carried_on_equals_one_clean_run(
    tmp_path: Path, areas: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "p.parquet", population())
    kill_in_batch(monkeypatch, batch=3)
    with pytest.raises(Killed):
        persons_load(path=path, actor=None, batch_size=3)
    # The third batch was written, then rolled back whole with its checkpoint: two batches are there.
    record = PersonImport.objects.get()
    assert (record.outcome, record.rows_done, record.created, record.finished_at) == ("loading", 6, 6, None)
    assert Person.objects.count() == 6
    assert set(Person.objects.values_list("source_id", flat=True)) == {str(n) for n in range(1, 7)}

    monkeypatch.undo()
    report = persons_load(path=path, actor=None, batch_size=3)
    assert report.record.pk == record.pk
    assert report.resumed_from == 6
    assert (report.record.outcome, report.record.rows, report.record.created) == ("imported", SIZE, SIZE)
    resumed = registry()
    assert Person.objects.count() == SIZE  # nothing twice

    Person.objects.all().delete()
    Household.objects.all().delete()
    clean = persons_load(path=path, actor=None, batch_size=7, resume=False)
    assert clean.record.pk != record.pk
    assert clean.resumed_from == 0
    assert registry() == resumed


def test_a_second_run_of_a_finished_load_updates_and_adds_nothing(tmp_path: Path, areas: object) -> None:
    path = write(tmp_path / "p.parquet", population())
    persons_load(path=path, actor=None, batch_size=3)
    again = persons_load(path=path, actor=None, batch_size=3)  # finished: not resumed, a new load
    assert (again.resumed_from, again.record.created, again.record.unchanged) == (0, 0, SIZE)
    assert Person.objects.count() == SIZE


def test_progress_is_reported_per_batch_up_to_the_total(tmp_path: Path, areas: object) -> None:
    heard: list[tuple[int, int | None, str]] = []
    persons_load(
        path=write(tmp_path / "p.parquet", population()),
        actor=None,
        batch_size=6,
        progress=lambda done, total, message="": heard.append((done, total, message)),
    )
    # A first load on PostgreSQL then builds the indexes it put aside, one message each (ADR 0026).
    built = [(d, m) for d, _, m in heard if m == "建立居民档案的索引"]
    batches = heard[: len(heard) - len(built)]
    assert [d for d, _, _ in batches] == [0, 6, 12, 18, 20]
    assert {t for _, t, _ in heard} == {SIZE}
    assert {m for _, _, m in batches} == {"分批写入居民档案"}
    assert built == ([(SIZE, "建立居民档案的索引")] * len(indexes.deferrable()) if indexes.supported() else [])


def test_a_queued_load_shows_progress_and_its_retry_carries_on(
    tmp_path: Path, areas: object, make_user: Any, client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.FUWU_JOBS = {**settings.FUWU_JOBS, "progress_every": 0}
    officer = make_user(Role.DEPARTMENT_OFFICER, "city")
    client.force_login(officer)
    path = write(tmp_path / "p.parquet", population())
    job = persons_load_queue(path=path, actor=None, batch_size=5)  # from the command line: no requester
    seen: dict[str, str] = {}
    real = loading._apply
    calls = {"n": 0}

    def apply(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            seen["panel"] = client.get(f"/jobs/{job.pk}/panel/").content.decode()
            raise SystemExit(1)  # the worker stopped mid-batch (a second Ctrl-C)
        return real(*args, **kwargs)

    monkeypatch.setattr(loading, "_apply", apply)
    assert run_queue() == 2  # the stopped attempt, then the retry it queued
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    assert "10" in seen["panel"]  # 10 of 20 rows, on the officer's page mid-way
    assert "20" in seen["panel"]
    assert job.result["resumed_from"] == 10
    assert (job.result["created"], job.result["rows"]) == (SIZE, SIZE)
    assert Person.objects.count() == SIZE
    record = PersonImport.objects.get()
    assert (record.job_id, record.outcome) == (job.pk, "imported")
    page = client.get(f"/jobs/{job.pk}/panel/").content.decode()
    assert "20" in page


def test_bad_rows_are_reported_by_row_column_and_fix_and_valid_only_writes_the_rest(
    tmp_path: Path, areas: object
) -> None:
    lines = ["name,id_number,household_id,hukou_area,relation"]
    rows = population()[:6]
    for r in rows:
        relation = "户主" if r["relation"] == "head" else "子女"
        lines.append(f"{r['name']},{r['id_number']},{r['household_id']},{r['hukou_area']},{relation}")
    lines[3] = lines[3].replace(rows[2]["hukou_area"], "33100200190")  # 11 digits
    lines.append(lines[1])  # the first resident again
    csv = tmp_path / "list.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        persons_load(path=csv, actor=None, valid_only=True, batch_size=2)
    found = {(e.row, e.column): e for e in info.value.errors}
    assert set(found) == {(4, "hukou_area"), (8, "id_number")}
    assert "12-digit" in found[(4, "hukou_area")].fix
    assert found[(8, "id_number")].problem == "the same number as an earlier row of this file"
    record = info.value.record
    assert record is not None
    assert (record.outcome, record.created, record.rejected, record.kind) == ("partial", 5, 2, "spreadsheet")
    assert Person.objects.count() == 5


def test_a_file_level_problem_writes_nothing(tmp_path: Path, areas: object) -> None:
    csv = tmp_path / "list.csv"
    csv.write_text("姓名,户号\n张三,1\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        persons_load(path=csv, actor=None)
    assert info.value.record is None
    assert any(e.column == "身份证号" and "missing" in e.problem for e in info.value.errors)
    assert PersonImport.objects.count() == 0
    assert Person.objects.count() == 0


def test_the_daily_screening_still_sees_whom_a_load_changed(tmp_path: Path, areas: object) -> None:
    """``fuwu.eligibility.incremental`` screens ``Person.updated_at >= previous run's facts_at``: a load must
    move it for the persons it changed, and only for them (or every daily run would screen everyone)."""
    rows = population()
    persons_load(path=write(tmp_path / "a.parquet", rows), actor=None, batch_size=4)
    facts_at = timezone.now()  # a registry screening exports the registry here
    Person.objects.update(updated_at=facts_at - dt.timedelta(seconds=1))
    rows[6]["care_need"] = "moderate"
    rows[13]["income"] = rows[13]["income"] + 1
    report = persons_load(path=write(tmp_path / "b.parquet", rows), actor=None, batch_size=4)
    assert (report.record.updated, report.record.unchanged) == (2, SIZE - 2)
    changed = set(Person.objects.filter(updated_at__gte=facts_at).values_list("source_id", flat=True))
    assert changed == {"7", "14"}


def test_a_run_whose_checkpoint_moved_under_it_stops(
    tmp_path: Path, areas: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "p.parquet", population())
    real = loading.check_row

    def another_run_went_on(*args: Any, **kwargs: Any) -> Any:
        PersonImport.objects.filter(outcome="loading").update(rows_done=5)  # another run committed a batch
        return real(*args, **kwargs)

    monkeypatch.setattr(loading, "check_row", another_run_went_on)
    with pytest.raises(loading.LoadBusy):
        # Checked in this thread, between the writes: the other run commits while this one checks its first batch.
        persons_load(path=path, actor=None, batch_size=5, workers=1, pipeline=False)
    # Refused before writing: the checkpoint is taken first in the batch's transaction.
    assert Person.objects.count() == 0
    assert Job.objects.count() == 0


def test_a_pipelined_run_whose_checkpoint_moved_under_it_stops(tmp_path: Path, areas: object) -> None:
    path = write(tmp_path / "p.parquet", population())

    def another_run_went_on(done: int, total: int | None, message: str = "") -> None:
        if done == 5:  # this run committed its first batch, then another run committed the next one
            PersonImport.objects.filter(outcome="loading").update(rows_done=10)

    with pytest.raises(loading.LoadBusy):
        persons_load(path=path, actor=None, batch_size=5, workers=1, pipeline=True, progress=another_run_went_on)
    # The batch checked ahead meanwhile was not written: only the first batch is there.
    assert Person.objects.count() == 5


def test_an_officer_starts_a_load_from_the_page_and_follows_it(
    tmp_path: Path, areas: object, make_user: Any, client: Client, settings: Any
) -> None:
    settings.FUWU_REGISTRY_DROP = tmp_path / "drop"
    settings.FUWU_REGISTRY_DROP.mkdir()
    write(settings.FUWU_REGISTRY_DROP / "registry.parquet", population())
    (settings.FUWU_REGISTRY_DROP / "notes.txt").write_text("not a registry", encoding="utf-8")
    officer = make_user(Role.DEPARTMENT_OFFICER, "331002")
    client.force_login(officer)
    page = client.get("/residents/load/").content.decode()
    assert "registry.parquet" in page
    assert "notes.txt" not in page
    # Only a file of the drop folder, by name: a path is not a choice.
    refused = client.post("/residents/load/", {"file": "../db.sqlite3"})
    assert refused.status_code == 200
    assert Job.objects.count() == 0
    response = client.post("/residents/load/", {"file": "registry.parquet", "valid_only": "on"})
    job = Job.objects.get()
    assert response.headers["Location"] == f"/jobs/{job.pk}/"
    assert run_queue() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    # The officer of 椒江 loads 椒江's residents only, as their import would (the same checks).
    assert job.result["created"] == SIZE
    panel = client.get(f"/jobs/{job.pk}/panel/").content.decode()
    assert f"共 {SIZE} 行" in panel or f"{SIZE} rows" in panel
    assert client.get("/residents/load/").content.decode().count(f"/jobs/{job.pk}/") == 1
