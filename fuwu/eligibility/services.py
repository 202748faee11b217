"""Writes for entitlements: recording a screening run and its results, and screening the registry."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from fuwu.accounts.permissions import can_screen_registry
from fuwu.common.audit import audit
from fuwu.eligibility import screening
from fuwu.eligibility.models import Receipt, ResultStatus, RunStatus, ScreeningResult, ScreeningRun
from fuwu.eligibility.registry import REGISTRY, export_registry
from fuwu.eligibility.screening import Outcome, Plan, read_results, rules_digest
from fuwu.eligibility.selectors import rules_in_force

BATCH = 5_000
# Persons per partition of a registry screening; a demo registry is one partition.
REGISTRY_PARTITION_PERSONS = 200_000


@transaction.atomic
def screening_run_start(*, plan: Plan, actor: Any, draft: bool = False, population: str | None = None) -> ScreeningRun:
    """The run record for this plan: a new one, or the unfinished one a resumed command continues.

    ``population`` names the input on the record when the plan's file stands for something else
    (``"registry"`` for an export of the resident registry); by default it is the file's path.
    """
    run, created = ScreeningRun.objects.select_for_update().get_or_create(
        engine=plan.engine,
        as_of=plan.as_of,
        population=population or str(plan.population),
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


def receipt_record(*, person_id: int, item: str, since: dt.date, source: str) -> bool:
    """Note that a person now receives ``item`` (the first time only), so the proactive list stops showing them.

    Called from delivery (e.g. a home-care visit confirmed) inside its own transaction; returns whether it was new.
    """
    _, created = Receipt.objects.get_or_create(
        person_id=person_id, item=item, defaults={"since": since, "source": source}
    )
    return created


@transaction.atomic
def screening_registry_run(*, actor: Any, as_of: dt.date, out_dir: Path | None = None) -> ScreeningRun:
    """Screen every registered person against the rules in force on ``as_of``, with DuckDB; load the results.

    The registry is exported to ``out_dir`` (default: a new time-stamped directory under
    ``VAR_DIR/registry-screens``) as ``registry.parquet``, screened into ``results/``, and the results
    loaded as ``ScreeningResult`` rows whose ``person_id`` is the Person's primary key. The run records
    ``population="registry"``. One transaction: if anything fails, no run, result or audit row remains
    (and a directory this call created is removed). ``actor`` is a user allowed to screen the registry,
    or ``None`` for the command line.
    """
    if actor is not None and not can_screen_registry(actor):
        raise PermissionDenied("only department officers and the standards office screen the registry")
    rules = rules_in_force()
    if not rules:
        raise screening.ScreeningError("no rules in force: load the standards first (fuwu standards load standards/)")
    created = out_dir is None
    if out_dir is None:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S-%f")
        out_dir = Path(settings.VAR_DIR) / "registry-screens" / stamp
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=not created)
    try:
        population = out_dir / "registry.parquet"
        persons = export_registry(population)
        plan = Plan(
            engine="duckdb",
            as_of=as_of,
            population=population,
            out=out_dir / "results",
            partitions=max(1, min(16, -(-persons // REGISTRY_PARTITION_PERSONS))),
            rules=rules,
        )
        run = screening_run_start(plan=plan, actor=actor, population=REGISTRY)
        # fresh: the directory is this run's own, so nothing in it is to be resumed.
        outcome = screening.run(plan, screening.DuckDBEngine(plan), fresh=True)
        return screening_run_complete(run=run, outcome=outcome, actor=actor, load_results=True)
    except BaseException:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


__all__ = ["ResultStatus", "screening_registry_run", "screening_run_complete", "screening_run_start"]
