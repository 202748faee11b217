"""The registry's generation: the database changes it with every change to a standard, however made, so the
state public pages are keyed by is read again exactly when it may have changed (fuwu.standards.cache)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fuwu.standards import cache
from fuwu.standards.models import Standard, StandardVersion

pytestmark = pytest.mark.django_db


def statuses() -> dict[int, str]:
    return {v.id: v.status for v in cache.snapshot().versions}


def test_every_kind_of_change_gives_a_new_generation(mini_version: StandardVersion) -> None:
    seen = [cache.generation()]
    assert seen[0] is not None
    StandardVersion.objects.filter(pk=mini_version.pk).update(review_due_on="2031-01-01")  # outside the services
    seen.append(cache.generation())
    Standard.objects.filter(pk=mini_version.standard_id).update(key="renamed")  # the key is in the state too
    seen.append(cache.generation())
    table = connection.ops.quote_name(StandardVersion._meta.db_table)
    with connection.cursor() as cursor:  # raw SQL, as a shell or a database console would
        cursor.execute(f"UPDATE {table} SET status = %s WHERE id = %s", ["abolished", mini_version.pk])  # noqa: S608
    seen.append(cache.generation())
    mini_version.refresh_from_db()
    mini_version.items.all().delete()
    mini_version.delete()
    seen.append(cache.generation())
    assert len(set(seen)) == len(seen), seen


def test_the_state_is_read_again_only_after_a_change(mini_version: StandardVersion) -> None:
    first = cache.snapshot()
    with CaptureQueriesContext(connection) as queries:
        assert cache.snapshot() is first
    # Nothing changed: the one question was the generation's (run outside Django's query log on PostgreSQL).
    assert len(queries) <= 1
    StandardVersion.objects.filter(pk=mini_version.pk).update(status="abolished")
    assert cache.snapshot() is not first
    assert statuses()[mini_version.pk] == "abolished"


def test_a_rolled_back_change_is_not_shown(client: Client, mini_version: StandardVersion) -> None:
    assert client.get("/items/test-visit/").status_code == 200

    class Undo(Exception):
        pass

    def change_then_undo() -> None:
        with transaction.atomic():
            StandardVersion.objects.filter(pk=mini_version.pk).update(status="abolished")
            assert client.get("/items/test-visit/").status_code == 404  # inside the transaction, as it stands
            raise Undo

    with pytest.raises(Undo):
        change_then_undo()
    # The generation is back to what it was before; the state read inside the transaction must not be kept.
    assert statuses()[mini_version.pk] == "published"
    assert client.get("/items/test-visit/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_is_seen_by_the_next_request(
    file_database: str, mini_version: StandardVersion
) -> None:
    client = Client()
    assert client.get("/items/test-visit/").status_code == 200
    assert client.get("/items/test-visit/").status_code == 200  # served from the state this thread keeps

    def admin() -> None:  # another connection: the admin, a shell, another worker process
        try:
            StandardVersion.objects.filter(pk=mini_version.pk).update(status="abolished")
        finally:
            connections.close_all()

    other = threading.Thread(target=admin)
    other.start()
    other.join()
    assert client.get("/items/test-visit/").status_code == 404
