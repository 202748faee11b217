"""A first load into an empty registry puts the secondary indexes aside and builds them before it ends (ADR 0026):
the same rows as a load with every index, every index there afterwards (also after a kill and a resume, or a
kill and another load), the unique ones never dropped, so a duplicate across batches is still refused by row;
a refresh of a registry keeps its indexes. On SQLite nothing is dropped."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from fuwu.residents import indexes, loading
from fuwu.residents.loading import LoadError, persons_load
from fuwu.residents.models import Household, Person, PersonImport
from tests.residents.test_bulk_load import SIZE, Killed, kill_in_batch, population, registry
from tests.residents.test_parquet import person, write

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="indexes are put aside on PostgreSQL")

# What the load must never drop: the primary key and the unique indexes (its look-ups and the constraints).
KEPT = {
    "residents_person_pkey",
    "residents_person_id_number_hash_key",
    "person_one_head_per_household",
    "person_source_id_unique",
}


def index_names() -> set[str]:
    return indexes.present()


def watch_batches(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The Person table's indexes as each batch's writes see them."""
    seen: list[set[str]] = []
    real = loading._apply

    def apply(*args: Any, **kwargs: Any) -> Any:
        seen.append(index_names())
        return real(*args, **kwargs)

    monkeypatch.setattr(loading, "_apply", apply)
    return seen


def killed_first_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, batch: int) -> Path:
    """A first load of ``population()`` in batches of 3 killed in its ``batch``-th batch: its file. Killed, nothing
    ran after it: the indexes are still aside."""
    path = write(tmp_path / "p.parquet", population())
    kill_in_batch(monkeypatch, batch=batch)
    with pytest.raises(Killed):
        persons_load(path=path, actor=None, batch_size=3)
    monkeypatch.undo()
    assert index_names() == KEPT
    return path


def every_batch_saw(seen: list[set[str]], names: set[str]) -> bool:
    return bool(seen) and all(batch == names for batch in seen)


@postgresql_only
def test_the_model_declares_the_indexes_the_database_has() -> None:
    deferrable = {i.name for i in indexes.deferrable()}
    assert "person_name_idx" in deferrable
    assert deferrable <= index_names()  # named exactly as the migrations made them
    assert not deferrable & KEPT
    assert index_names() == deferrable | KEPT


@postgresql_only
def test_a_first_load_writes_without_the_secondary_indexes_and_ends_with_all_of_them(
    tmp_path: Path, areas: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = index_names()
    path = write(tmp_path / "p.parquet", population())
    seen = watch_batches(monkeypatch)
    heard: list[str] = []
    report = persons_load(path=path, actor=None, batch_size=3, progress=lambda d, t, m="": heard.append(m))
    assert report.record.outcome == "imported"
    assert len(seen) == 7
    assert every_batch_saw(seen, KEPT)
    assert index_names() == everything
    assert "建立居民档案的索引" in heard
    deferred = registry()

    # The same file into an empty registry with every index kept: the same rows.
    monkeypatch.undo()
    Person.objects.all().delete()
    Household.objects.all().delete()
    monkeypatch.setattr(indexes, "defer", list)
    seen = watch_batches(monkeypatch)
    persons_load(path=path, actor=None, batch_size=3, resume=False)
    assert every_batch_saw(seen, everything)
    assert registry() == deferred


@postgresql_only
def test_a_refresh_of_a_registry_keeps_its_indexes(
    tmp_path: Path, areas: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = index_names()
    rows = population()
    persons_load(path=write(tmp_path / "a.parquet", rows), actor=None, batch_size=3)
    rows.append(person(SIZE + 1, household=SIZE + 1))
    rows[3]["income"] += 1
    seen = watch_batches(monkeypatch)
    report = persons_load(path=write(tmp_path / "b.parquet", rows), actor=None, batch_size=3)
    assert (report.record.created, report.record.updated) == (1, 1)
    assert every_batch_saw(seen, everything)


@postgresql_only
def test_killed_mid_load_the_resume_ends_with_every_index_and_the_same_rows(
    tmp_path: Path, areas: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = index_names()
    path = killed_first_load(tmp_path, monkeypatch, batch=3)
    # The registry reads (without them) what is committed.
    assert Person.objects.filter(hukou_area="331002001901").count() == 6

    seen = watch_batches(monkeypatch)
    report = persons_load(path=path, actor=None, batch_size=3)
    assert report.resumed_from == 6
    assert report.record.outcome == "imported"
    assert every_batch_saw(seen, KEPT)  # the resume is still the registry's first load
    assert index_names() == everything
    resumed = registry()

    Person.objects.all().delete()
    Household.objects.all().delete()
    persons_load(path=path, actor=None, batch_size=7, resume=False)
    assert registry() == resumed


@postgresql_only
def test_a_killed_first_load_left_alone_is_mended_by_the_next_load_or_the_command(
    tmp_path: Path, areas: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = index_names()
    killed_first_load(tmp_path, monkeypatch, batch=2)

    out = StringIO()
    call_command("residents", "indexes", stdout=out)
    assert index_names() == everything
    assert f"{len(everything - KEPT)} index(es) built" in out.getvalue()

    # Killed again, then another file loaded from the start (not a resume): it builds them before its first batch.
    indexes.defer()
    other = write(tmp_path / "other.parquet", [person(n, household=n) for n in range(101, 105)])
    seen = watch_batches(monkeypatch)
    persons_load(path=other, actor=None, batch_size=3, resume=False)
    assert every_batch_saw(seen, everything)
    assert PersonImport.objects.filter(outcome="loading").count() == 1  # the first load, still to resume


@postgresql_only
def test_an_error_mid_load_builds_the_indexes_before_it_is_raised(
    tmp_path: Path, areas: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = index_names()
    path = write(tmp_path / "p.parquet", population())
    calls = {"n": 0}
    real = loading._apply

    def apply(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(loading, "_apply", apply)
    with pytest.raises(RuntimeError, match="the disk is full"):
        persons_load(path=path, actor=None, batch_size=3)
    assert index_names() == everything
    assert Person.objects.count() == 3


def test_a_duplicate_in_a_later_batch_of_a_first_load_is_refused_by_row(tmp_path: Path, areas: object) -> None:
    rows = population()
    rows[10]["id_number"] = rows[1]["id_number"]  # row 11 repeats row 2's number, three batches later
    rows[10]["birth_date"] = rows[1]["birth_date"]
    everything = index_names() if indexes.supported() else None
    with pytest.raises(LoadError) as caught:
        persons_load(path=write(tmp_path / "p.parquet", rows), actor=None, batch_size=3)
    errors = caught.value.errors
    assert [(e.row, e.column) for e in errors] == [(11, "id_number")]
    assert "same number as an earlier row" in errors[0].problem
    assert len(set(Person.objects.values_list("id_number_hash", flat=True))) == Person.objects.count()
    if everything is not None:
        assert index_names() == everything


def test_nothing_is_put_aside_elsewhere_than_on_postgresql() -> None:
    if connection.vendor == "postgresql":
        assert indexes.deferrable()
    else:
        assert (indexes.deferrable(), indexes.defer(), indexes.restore()) == ([], [], [])


@postgresql_only
def test_the_source_id_check_uses_its_unique_index_for_a_whole_batch(areas: object) -> None:
    """``person_source_id_unique`` is partial (``source_id <> ''``): the batch's look-up must say so, or PostgreSQL
    reads the whole table for every batch (a list of more than 100 values is not proved to fall in the index)."""
    candidates = [type("C", (), {"source_id": str(n), "row": n, "lookup": ""})() for n in range(1, 2001)]
    captured: list[str] = []
    real = Person.objects.exclude(source_id="").__class__.__iter__

    def explain(query: Any) -> Any:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        captured.append(query.explain())
        return real(query)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(Person.objects.all()), "__iter__", explain)
        assert loading._source_id_conflicts(candidates) == []  # type: ignore[arg-type]
    assert captured
    assert all("person_source_id_unique" in plan for plan in captured), captured
