"""The registry's bulk load with the next batch checked in a thread while one is written (``pipeline``): the
same registry, record and problems as checking between the writes; a failure in the writing ends the load with
its own error, nothing of its batch written, and the thread gone. (A failure in the thread's checks, and a kill
mid-load: tests/residents/test_parallel_load.py, beside the pool's.)"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from fuwu.residents import loading
from fuwu.residents.loading import persons_load
from fuwu.residents.models import Person, PersonImport
from tests.residents.test_parallel_load import good_rows, outcome, population, registry
from tests.residents.test_parquet import person, write

pytestmark = pytest.mark.django_db


def threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "fuwu-ahead"]


@pytest.mark.parametrize("valid_only", [True, False])
def test_pipelined_equals_serial(tmp_path: Path, areas: object, valid_only: bool) -> None:
    path = write(tmp_path / "p.parquet", population())
    serial = outcome(path, batch_size=4, workers=1, pipeline=False, valid_only=valid_only)
    pipelined = outcome(path, batch_size=4, workers=1, pipeline=True, valid_only=valid_only)
    # Every stored column, the encrypted ones opened (their nonces differ), the record and every problem.
    assert pipelined == serial
    assert pipelined[1][0] == "partial"
    assert len(pipelined[3]) == 6
    assert threads() == []


def test_pipelined_updates_equal_serial(tmp_path: Path, areas: object) -> None:
    rows = good_rows()
    first = write(tmp_path / "a.parquet", rows)
    rows[2]["care_need"] = "moderate"
    rows[5]["income"] = rows[5]["income"] + 1
    # A head handed over within the file: the old head's row demoted, another member's promoted.
    head = next(r for r in rows[6:] if r["relation"] == "head")
    member = next(r for r in rows if r["household_id"] == head["household_id"] and r is not head)
    head["relation"], member["relation"] = "child", "head"
    second = write(tmp_path / "b.parquet", rows)
    results = []
    for pipeline in (False, True):
        outcome(first, batch_size=4, workers=1, pipeline=pipeline)
        report = persons_load(path=second, actor=None, batch_size=4, workers=1, pipeline=pipeline)
        results.append((registry(), report.record.created, report.record.updated, report.record.unchanged))
    assert results[0] == results[1]
    assert results[1][1:] == (0, 4, len(rows) - 4)


def test_a_failing_write_ends_the_load_with_its_error_and_nothing_of_its_batch(
    tmp_path: Path, areas: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [person(n) for n in range(1, 13)]
    path = write(tmp_path / "p.parquet", rows)
    real = loading._apply
    calls = {"n": 0}

    def apply(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        counts = real(*args, **kwargs)  # the batch's rows are written in its transaction ...
        if calls["n"] == 2:
            raise OperationalError("server closed the connection unexpectedly")  # ... then the server goes away
        return counts

    monkeypatch.setattr(loading, "_apply", apply)
    with pytest.raises(OperationalError, match="server closed the connection"):
        persons_load(path=path, actor=None, batch_size=3, workers=1, pipeline=True)
    assert threads() == []
    record = PersonImport.objects.get()
    assert (record.outcome, record.rows_done, record.created) == ("loading", 3, 3)
    assert set(Person.objects.values_list("source_id", flat=True)) == {"1", "2", "3"}

    monkeypatch.undo()
    report = persons_load(path=path, actor=None, batch_size=3, workers=1, pipeline=True)
    assert (report.resumed_from, report.record.created, Person.objects.count()) == (3, 12, 12)


def test_the_default_pipelines_on_postgresql_only(
    tmp_path: Path, areas: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection

    assert loading.default_pipeline() == (connection.vendor == "postgresql")
    seen: list[str] = []
    real = loading.check_row

    def where(values: Any, **kwargs: Any) -> Any:
        seen.append(threading.current_thread().name)
        return real(values, **kwargs)

    monkeypatch.setattr(loading, "check_row", where)
    persons_load(path=write(tmp_path / "p.parquet", [person(n) for n in range(1, 5)]), actor=None, workers=1)
    assert set(seen) == {"fuwu-ahead" if connection.vendor == "postgresql" else threading.main_thread().name}
