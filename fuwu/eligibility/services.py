"""Writes for entitlements: recording a screening run and its results."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from fuwu.common.audit import audit
from fuwu.eligibility.models import ResultStatus, RunStatus, ScreeningResult, ScreeningRun
from fuwu.eligibility.screening import Outcome, Plan, read_results, rules_digest

BATCH = 5_000


@transaction.atomic
def screening_run_start(*, plan: Plan, actor: Any, draft: bool = False) -> ScreeningRun:
    """The run record for this plan: a new one, or the unfinished one a resumed command continues."""
    run, created = ScreeningRun.objects.select_for_update().get_or_create(
        engine=plan.engine,
        as_of=plan.as_of,
        population=str(plan.population),
        output=str(plan.out),
        rules_digest=rules_digest(plan.rules),
        draft=draft,
        status=RunStatus.RUNNING,
        defaults={"created_by": actor if getattr(actor, "is_authenticated", False) else None},
    )
    if created:
        audit(actor=actor, event="screening.started", obj=run, after={"engine": plan.engine, "as_of": str(plan.as_of)})
    return run


@transaction.atomic
def screening_run_complete(*, run: ScreeningRun, outcome: Outcome, actor: Any, load_results: bool) -> ScreeningRun:
    """Count the results per item, optionally load them into the database, and close the run.

    Loading replaces any rows an interrupted earlier attempt left, so it can be repeated.
    """
    run = ScreeningRun.objects.select_for_update().get(pk=run.pk)
    counts: dict[str, dict[str, Any]] = {}
    persons: set[int] = set()
    if load_results:
        ScreeningResult.objects.filter(run=run).delete()
    for batch in read_results(outcome.out).to_batches(max_chunksize=BATCH):
        rows = batch.to_pylist()
        for row in rows:
            c = counts.setdefault(row["item"], {"eligible": 0, "unknown": 0, "amount": Decimal(0)})
            c[row["status"]] += 1
            if row["amount"] is not None:
                c["amount"] += row["amount"]
            persons.add(row["person_id"])
        if load_results:
            ScreeningResult.objects.bulk_create(
                # An unknown hukou area is stored as "" (the column is text, not null).
                [ScreeningResult(run=run, **{**row, "hukou_area": row["hukou_area"] or ""}) for row in rows],
                batch_size=BATCH,
            )
    run.counts = {item: {**c, "amount": str(c["amount"])} for item, c in sorted(counts.items())}
    run.persons = len(persons)
    run.status = RunStatus.COMPLETED
    run.finished_at = timezone.now()
    run.seconds = outcome.seconds
    run.save()
    audit(
        actor=actor,
        event="screening.completed",
        obj=run,
        after={"persons_with_results": run.persons, "items": len(counts), "loaded": load_results},
    )
    return run


__all__ = ["ResultStatus", "screening_run_complete", "screening_run_start"]
