"""PostgreSQL: a run's candidates are a partition of their own (ADR 28, migration eligibility 0008).

A full run copies its candidates into a bare table, builds its indexes and attaches it; a re-run, an abandoned
run and retention drop it; rows written for a run without a table of their own land in the default partition;
the migration moves existing rows to a partition per run and back.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from fuwu.eligibility import services, store
from fuwu.eligibility.models import Candidate, RunStatus, ScreeningRun
from fuwu.eligibility.services import screening_registry_run, screening_runs_purge
from tests.jobs.conftest import populate

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's"),
]
DAY0 = dt.date(2026, 11, 29)


def partitions() -> dict[str, str]:
    """The candidates table's partitions: name → bound."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c "
            "ON c.oid = i.inhrelid WHERE i.inhparent = 'eligibility_candidate'::regclass ORDER BY 1"
        )
        return dict(cursor.fetchall())


def indexes(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = to_regclass(%s)", [table])
        return sorted(row[0].split(" USING ", 1)[1] for row in cursor.fetchall())


def table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return bool(cursor.fetchone()[0])


@pytest.fixture
def city(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    populate(tmp_path, 300)


def test_a_full_run_stores_its_candidates_in_a_partition_of_its_own_with_every_index(city: None) -> None:
    run = screening_registry_run(actor=None, as_of=DAY0)
    own = f"eligibility_candidate_run{run.pk}"
    assert partitions()[own] == f"FOR VALUES IN ('{run.pk}')"
    assert Candidate.objects.filter(run=run).count() == run.stored_rows - run.area_counts.count() > 0
    # All the parent's indexes, built on the partition before it was attached: (run, person, item) still unique.
    assert indexes(own) == indexes("eligibility_candidate")
    # The primary key, the unique (run, person, item), the two list orders and the daily runs' ends (partial).
    assert len(indexes(own)) == 5
    assert any("(until_id) WHERE (until_id IS NOT NULL)" in definition for definition in indexes(own))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM eligibility_candidate_default")
        assert cursor.fetchone()[0] == 0


def test_a_rerun_an_abandoned_run_and_retention_drop_the_partition(city: None, settings: Any) -> None:
    first = screening_registry_run(actor=None, as_of=DAY0)
    rows = set(Candidate.objects.filter(run=first).values_list("person_id", "item", "amount", "units"))
    # A run left with a bare table (killed mid-copy) that its job abandons: the table goes.
    running = ScreeningRun.objects.create(
        engine="duckdb", as_of=DAY0, population="registry", output="o", rules_digest="d", status=RunStatus.RUNNING
    )
    store.partition_create(Candidate, running.pk)
    assert services.screening_run_abandon(run_id=running.pk)
    assert not table_exists(f"eligibility_candidate_run{running.pk}")
    second = screening_registry_run(actor=None, as_of=DAY0)
    assert set(Candidate.objects.filter(run=second).values_list("person_id", "item", "amount", "units")) == rows
    settings.FUWU_SCREENING_RETENTION = {"keep_runs": 1, "keep_days": 0}
    assert first.pk in screening_runs_purge(now=timezone.now() + dt.timedelta(days=1))
    assert f"eligibility_candidate_run{first.pk}" not in partitions()
    assert f"eligibility_candidate_run{second.pk}" in partitions()
    assert not Candidate.objects.filter(run=first).exists()


def test_rows_of_a_run_without_a_partition_land_in_the_default_one(city: None) -> None:
    run = ScreeningRun.objects.create(
        engine="duckdb", as_of=DAY0, population="p", output="o", rules_digest="d", status=RunStatus.COMPLETED,
        finished_at=timezone.now(),
    )  # fmt: skip
    Candidate.objects.create(run=run, person_id=1, item="hc-bathing", rule_version="v", amount=Decimal("50.00"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM eligibility_candidate_default WHERE run_id = %s", [run.pk])
        assert cursor.fetchone()[0] == 1
    assert services.run_rows_remove(run.pk) == 1


def test_the_migration_moves_rows_to_a_partition_per_run_and_back() -> None:
    before, after = (
        [("eligibility", "0006_screeningrun_store_attempt")],
        [("eligibility", "0008_candidates_partitioned_by_run")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    run = apps.get_model("eligibility", "ScreeningRun").objects.create(
        engine="duckdb", as_of="2026-11-29", population="registry", output="o", rules_digest="d"
    )
    candidate = apps.get_model("eligibility", "Candidate")
    for person in (1, 2):
        candidate.objects.create(run=run, person_id=person, item="hc-bathing", rule_version="v")
    assert partitions() == {}
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    assert partitions() == {
        "eligibility_candidate_default": "DEFAULT",
        f"eligibility_candidate_run{run.pk}": f"FOR VALUES IN ('{run.pk}')",
    }
    apps = executor.loader.project_state(after).apps
    candidate = apps.get_model("eligibility", "Candidate")
    assert sorted(candidate.objects.filter(run_id=run.pk).values_list("person_id", flat=True)) == [1, 2]
    new = candidate.objects.create(run_id=run.pk, person_id=3, item="hc-bathing", rule_version="v")
    assert new.pk > max(candidate.objects.exclude(pk=new.pk).values_list("pk", flat=True))  # one id sequence still
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(before)
    assert partitions() == {}
    assert sorted(
        executor.loader.project_state(before)
        .apps.get_model("eligibility", "Candidate")
        .objects.values_list("person_id", flat=True)
    ) == [1, 2, 3]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
