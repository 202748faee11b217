"""Migration 0003: the per-person-per-item table's rows people act on become candidates and counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("eligibility", "0002_receipts_and_outreach")]
AFTER = [("eligibility", "0003_run_store_candidates_changes_counts")]


@pytest.mark.django_db(transaction=True)
def test_eligible_not_served_results_become_candidates_and_every_result_is_counted() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    run = apps.get_model("eligibility", "ScreeningRun").objects.create(
        engine="duckdb", as_of="2026-11-29", population="registry", output="o", rules_digest="d",
        status="completed", finished_at=timezone.now(),
    )  # fmt: skip
    result = apps.get_model("eligibility", "ScreeningResult")
    for person, item, status, amount in [
        (1, "hc-bathing", "eligible", Decimal("50.00")),
        (2, "hc-bathing", "eligible", Decimal("50.00")),  # served: no candidate
        (3, "hc-bathing", "unknown", None),
        (1, "gb-radio-listening", "eligible", None),
    ]:
        result.objects.create(
            run=run, person_id=person, hukou_area="331002001901", item=item, rule_version="v", status=status,
            amount=amount,
        )  # fmt: skip
    apps.get_model("eligibility", "Receipt").objects.create(person_id=2, item="hc-bathing")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    candidates = apps.get_model("eligibility", "Candidate").objects.filter(run_id=run.pk)
    assert sorted(candidates.values_list("person_id", "item", "amount")) == [
        (1, "gb-radio-listening", None),
        (1, "hc-bathing", Decimal("50.00")),
    ]
    counts = {
        c.item: (c.township, c.eligible, c.unknown, c.amount)
        for c in apps.get_model("eligibility", "ScreeningCount").objects.filter(run_id=run.pk)
    }
    assert counts["hc-bathing"] == ("331002001", 2, 1, Decimal("100.00"))
    assert counts["gb-radio-listening"][1:3] == (1, 0)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
