"""``fuwu.common.batches``: items made ahead in a thread, and look-ups of many keys at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import closing

import pytest
from django.db import connection

from fuwu.common.batches import IN_CHUNK, ahead, among
from fuwu.residents.models import Household


def running() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "fuwu-ahead"]


def test_ahead_gives_every_item_in_order_and_ends_its_thread() -> None:
    assert list(ahead(iter(range(50)), depth=2)) == list(range(50))
    assert running() == []


def test_ahead_makes_at_most_depth_items_beyond_the_one_taken() -> None:
    made: list[int] = []

    def items() -> Iterator[int]:
        for n in range(100):
            made.append(n)
            yield n

    with closing(ahead(items(), depth=2)) as it:
        assert next(it) == 0
        time.sleep(0.3)  # time enough for the thread to run ahead as far as it may
        # 0 taken, 1 and 2 waiting in the queue, 3 made and waiting for room.
        assert len(made) <= 4
    assert running() == []
    assert len(made) <= 5


def test_ahead_raises_the_makers_error_in_its_place() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("the third one is broken")

    got: list[int] = []
    with pytest.raises(ValueError, match="the third one is broken"), closing(ahead(items())) as it:
        got.extend(it)
    assert got == [1, 2]
    assert running() == []


def test_ahead_closed_early_stops_its_thread() -> None:
    def endless() -> Iterator[int]:
        n = 0
        while True:
            n += 1
            yield n

    with closing(ahead(endless())) as it:
        for n in it:
            if n == 3:
                break
    assert running() == []


@pytest.mark.django_db
def test_among_finds_the_rows_of_many_keys() -> None:
    keys = [f"h{n:06d}" for n in range(IN_CHUNK + 10)]
    Household.objects.bulk_create(Household(household_id=k, hukou_area="331002001901") for k in keys[::7])
    queries = list(among(Household.objects.all(), "household_id", keys))
    # PostgreSQL: one query, the keys one array; elsewhere IN lists of IN_CHUNK.
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)
    found = sorted(h for q in queries for h in q.values_list("household_id", flat=True))
    assert found == keys[::7]
    pks = list(Household.objects.values_list("pk", flat=True)[:3])
    assert sorted(h.pk for q in among(Household.objects.all(), "pk", pks) for h in q) == sorted(pks)
    assert list(among(Household.objects.all(), "household_id", [])) == []
