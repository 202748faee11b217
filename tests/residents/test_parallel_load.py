"""The registry's bulk load with its checks in worker processes: the registry, the problems and the checkpoint
come out as they do when one process does everything, and the pool never outlives the load."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import models

from fuwu.residents import columns, contacts, crypto, loading
from fuwu.residents.loading import LoadError, persons_load
from fuwu.residents.models import Household, Person, PersonImport
from tests.residents.test_bulk_load import Killed, kill_in_batch
from tests.residents.test_parquet import person, write

pytestmark = pytest.mark.django_db

SIZE = 30


def population() -> list[dict[str, Any]]:
    rows = [person(n, household=n // 3, head=n % 3 == 0, income=Decimal(n * 101) / 4) for n in range(1, SIZE + 1)]
    rows[4]["care_need"] = "severe"
    rows[7]["hukou_area"] = "33100200190"  # 11 digits
    rows[11].update(id_number=rows[10]["id_number"], birth_date=rows[10]["birth_date"])  # the same person twice
    rows[16]["person_id"] = None
    rows[20]["disability_grade"] = 7  # out of range: the general path explains
    rows[23]["income"] = Decimal("-5.00")  # below zero
    return rows


def good_rows() -> list[dict[str, Any]]:
    return [r for n, r in enumerate(population(), start=1) if n not in {8, 11, 12, 17, 21, 24}]


def registry() -> list[Any]:
    """Everything stored about everyone, the encrypted columns opened; not ids, times or the load's record."""
    sealed = {f.attname for f in Person._meta.concrete_fields if isinstance(f, models.BinaryField)}
    skip = {"id", "created_at", "updated_at", "source_import_id", *sealed}
    people = []
    for p in Person.objects.order_by("id_number_hash"):
        facts = tuple((f.attname, getattr(p, f.attname)) for f in Person._meta.concrete_fields if f.attname not in skip)
        number = crypto.decrypt(p.id_number_encrypted, lookup=p.id_number_hash).value
        blobs = [bytes(b)[:5] for b in (getattr(p, f) for f in sorted(sealed)) if b is not None]  # version, key id
        people.append((facts, number, tuple(sorted(contacts.stored(p).items())), blobs))
    return [*people, *Household.objects.order_by("household_id").values_list("household_id", "hukou_area")]


def outcome(path: Path, **options: Any) -> tuple[Any, ...]:
    """Load ``path`` into an empty registry: what the registry, the record and the problems are afterwards."""
    Person.objects.all().delete()
    Household.objects.all().delete()
    try:
        report = persons_load(path=path, actor=None, resume=False, **options)
        record, errors = report.record, []
    except LoadError as exc:
        if exc.record is None:
            raise
        record, errors = exc.record, [e.as_dict() for e in exc.errors]
    summary = (record.outcome, record.rows, record.created, record.updated, record.unchanged, record.rejected)
    return registry(), summary, record.errors, errors


@pytest.mark.parametrize("valid_only", [True, False])
def test_parquet_in_workers_equals_in_process(tmp_path: Path, areas: object, valid_only: bool) -> None:
    path = write(tmp_path / "p.parquet", population())
    serial = outcome(path, batch_size=4, workers=1, valid_only=valid_only)
    parallel = outcome(path, batch_size=4, workers=3, valid_only=valid_only)
    assert parallel == serial
    _, summary, _, errors = parallel
    assert {(e["row"], e["column"]) for e in errors} == {
        (8, "hukou_area"),
        (11, "id_number"),
        (12, "id_number"),
        (17, "person_id"),
        (21, "disability_grade"),
        (24, "income"),
    }
    # Without valid_only the writing stops at the batch of row 8 (rows 5 to 8): one batch of 4 is written.
    assert summary[0] == "partial"
    assert summary[2] == (SIZE - 6 if valid_only else 4)


def test_updates_in_workers_equal_in_process(tmp_path: Path, areas: object) -> None:
    rows = good_rows()
    first = write(tmp_path / "a.parquet", rows)
    rows[2]["care_need"] = "moderate"
    rows[5]["income"] = rows[5]["income"] + 1
    second = write(tmp_path / "b.parquet", rows)
    results = []
    for workers in (1, 2):
        outcome(first, batch_size=4, workers=workers)
        report = persons_load(path=second, actor=None, batch_size=4, workers=workers)
        results.append((registry(), report.record.updated, report.record.unchanged))
    assert results[0] == results[1]
    assert results[1][1:] == (2, len(rows) - 2)


def test_a_spreadsheet_with_contacts_in_workers_equals_in_process(tmp_path: Path, areas: object) -> None:
    lines = ["姓名,身份证号,户号,户籍地,与户主关系,联系电话,紧急联系人,紧急联系人电话"]
    for r in population()[:12]:
        relation = "户主" if r["relation"] == "head" else "子女"
        n = r["person_id"]
        lines.append(
            f"{r['name']},{r['id_number']},{r['household_id']},{r['hukou_area']},{relation},"
            f"1381234{n:04d},联系人{n},1391234{n:04d}"
        )
    lines[3] = lines[3].replace(",1391234", ",")  # an emergency contact without a phone
    lines[5] = lines[5].replace(",1381234", ",12")  # not a phone number
    path = tmp_path / "list.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    serial = outcome(path, batch_size=3, workers=1, valid_only=True)
    parallel = outcome(path, batch_size=3, workers=2, valid_only=True)
    assert parallel == serial
    people, _, _, errors = parallel
    assert {(e["row"], e["column"]) for e in errors} >= {(4, "紧急联系人电话"), (6, "联系电话"), (9, "户籍地")}
    assert any(dict(contact)["contact_phone"] == "13812340001" for _, _, contact, _ in people[:-4])


@pytest.mark.parametrize("options", [{"workers": 2}, {"workers": 1, "pipeline": True}], ids=["pool", "thread"])
def test_killed_with_checks_ahead_then_carried_on_equals_one_clean_run(
    tmp_path: Path, areas: object, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    rows = good_rows()
    path = write(tmp_path / "p.parquet", rows)
    kill_in_batch(monkeypatch, batch=3)
    with pytest.raises(Killed):
        persons_load(path=path, actor=None, batch_size=4, **options)
    assert multiprocessing.active_children() == []  # the pool ended with the load
    assert [t for t in threading.enumerate() if t.name == "fuwu-ahead"] == []  # so did the checking thread
    # The third batch was written, then rolled back whole with its checkpoint; those checked ahead were not written.
    record = PersonImport.objects.get()
    assert (record.outcome, record.rows_done, record.created) == ("loading", 8, 8)
    assert Person.objects.count() == 8

    monkeypatch.undo()
    report = persons_load(path=path, actor=None, batch_size=4, **options)
    assert (report.record.pk, report.resumed_from, report.record.created) == (record.pk, 8, len(rows))
    resumed = registry()
    assert outcome(path, batch_size=5, workers=1)[0] == resumed


def test_ctrl_c_ends_the_pool_and_keeps_the_committed_batches(tmp_path: Path, areas: object) -> None:
    path = write(tmp_path / "p.parquet", [person(n) for n in range(1, 13)])

    def interrupted(done: int, total: int | None, message: str = "") -> None:
        if done == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        persons_load(path=path, actor=None, batch_size=3, workers=2, progress=interrupted)
    assert multiprocessing.active_children() == []
    assert PersonImport.objects.get().rows_done == 6
    assert Person.objects.count() == 6


@pytest.mark.parametrize("options", [{"workers": 2}, {"workers": 1, "pipeline": True}], ids=["pool", "thread"])
def test_a_failing_check_ahead_stops_the_load_before_its_batch(
    tmp_path: Path, areas: object, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    path = write(tmp_path / "p.parquet", [person(n) for n in range(1, 13)])
    real = loading.check_row

    def broken(values: Any, **kwargs: Any) -> Any:
        if kwargs["row"] == 8:
            raise RuntimeError("a bug in the checks")
        return real(values, **kwargs)

    monkeypatch.setattr(loading, "check_row", broken)  # the workers are forked: they have it too
    with pytest.raises(RuntimeError, match="a bug in the checks"):
        persons_load(path=path, actor=None, batch_size=3, **options)
    assert multiprocessing.active_children() == []
    assert [t for t in threading.enumerate() if t.name == "fuwu-ahead"] == []  # the checking thread, if any
    # The batches before row 8's were written and committed; from row 8's batch on, nothing.
    assert (PersonImport.objects.get().rows_done, Person.objects.count()) == (6, 6)


def test_workers_must_be_positive(tmp_path: Path, areas: object) -> None:
    with pytest.raises(ValueError, match="workers"):
        persons_load(path=write(tmp_path / "p.parquet", [person(1)]), actor=None, workers=0)


ORPHAN = """
import os, sys, time
import django
django.setup()
from fuwu.residents import loading
parent = os.getpid()
child = os.fork()
if child == 0:
    loading._exit_with(parent)  # returns never: exits when its parent is gone
    os._exit(0)
print(child, flush=True)
time.sleep(0.2)
os._exit(0)  # the parent dies without stopping its child
"""


def test_a_worker_whose_parent_was_killed_exits() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.setdefault("DJANGO_SETTINGS_MODULE", "fuwu.settings")
    done = subprocess.run([sys.executable, "-c", ORPHAN], capture_output=True, text=True, env=env, timeout=60)  # noqa: S603
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.2)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in "ZX"  # a zombie has exited (nobody reaped it yet)


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("income", [Decimal("75549.32"), Decimal("0.00"), Decimal("0"), Decimal("1.5"), Decimal("9999999999.99")]),
        ("disability_grade", [0, 1, 4, 5, -1, True]),
        ("household_id", ["331002007901000001", "A-12", "x" * 33, "１２３", "12 3"]),
        ("name", ["林涛晨", "Maria Chen", "ｌｉｎ", "张" * 60, "王 五"]),
    ],
)
def test_fast_paths_answer_as_the_general_path(column: str, values: list[Any]) -> None:
    fast = columns._FAST[column]

    def general(value: Any) -> Any:
        columns._FAST.pop(column)
        try:
            return columns.coerce(column, value)
        except columns.CellError as exc:
            return (exc.problem, exc.fix)
        finally:
            columns._FAST[column] = fast

    for value in values:
        try:
            answer = columns.coerce(column, value)
        except columns.CellError as exc:
            answer = (exc.problem, exc.fix)
        expected = general(value)
        assert (answer, type(answer)) == (expected, type(expected)), value
        if isinstance(expected, Decimal):
            assert answer.as_tuple() == expected.as_tuple()


@pytest.mark.parametrize(("cpus", "workers"), [(1, 1), (2, 1), (3, 1), (8, 6), (None, 1)])
def test_by_default_the_pool_leaves_a_core_to_the_loader_and_one_to_the_database(
    monkeypatch: pytest.MonkeyPatch, cpus: int | None, workers: int
) -> None:
    monkeypatch.setattr(loading.os, "cpu_count", lambda: cpus)
    assert loading.default_workers() == workers
