"""Writes for entitlements: recording a screening run and its results, and screening the registry."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from fuwu.accounts.permissions import can_screen_registry
from fuwu.common.audit import audit
from fuwu.common.batches import after_batch, insert_rows, write_batch
from fuwu.eligibility import screening
from fuwu.eligibility.models import Receipt, ResultStatus, RunStatus, ScreeningResult, ScreeningRun
from fuwu.eligibility.registry import REGISTRY, export_registry
from fuwu.eligibility.screening import Outcome, Plan, read_results, rules_digest
from fuwu.eligibility.selectors import rules_in_force

logger = logging.getLogger(__name__)


class NoRulesInForce(screening.ScreeningError):
    """Nothing to screen against: no standard with rules is in force."""


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


# Rows written per transaction when loading results (fewer on SQLite: fuwu.common.batches), so each
# commit is short and pages and logins keep writing while a screening loads.
LOAD_BATCH = 20_000

ProgressFn = Callable[[int, "int | None", str], None]


def _no_progress(done: int, total: int | None, message: str = "") -> None:
    return None


def _results_delete(run: ScreeningRun) -> None:
    """Remove a run's result rows, a batch per transaction."""
    while True:
        pks = list(ScreeningResult.objects.filter(run=run).values_list("pk", flat=True)[: write_batch(LOAD_BATCH)])
        if not pks:
            return
        with transaction.atomic():
            ScreeningResult.objects.filter(pk__in=pks).delete()
        after_batch()


def screening_run_complete(
    *, run: ScreeningRun, outcome: Outcome, actor: Any, load_results: bool, progress: ProgressFn | None = None
) -> ScreeningRun:
    """Count the results per item, optionally load them into the database, and close the run.

    Not one transaction: the rows go in ``LOAD_BATCH`` at a time (fewer on SQLite, with a pause after
    each: ``fuwu.common.batches``), each batch committed, while the run
    stays ``running``; only the last, short transaction marks it completed. Nothing reads a running
    run's results (the proactive list and the pages read completed runs only), so no one sees it half
    loaded. Loading first removes any rows an interrupted earlier attempt left, so it can be repeated.
    """
    progress = progress or _no_progress
    counts: dict[str, dict[str, Any]] = {}
    persons: set[int] = set()
    if load_results:
        _results_delete(run)
    table = read_results(outcome.out)
    loaded = 0
    progress(0, table.num_rows, gettext_noop("载入筛查结果"))
    for batch in table.to_batches(max_chunksize=write_batch(LOAD_BATCH)):
        rows = batch.to_pylist()
        for row in rows:
            c = counts.setdefault(row["item"], {"eligible": 0, "unknown": 0, "amount": Decimal(0)})
            c[row["status"]] += 1
            if row["amount"] is not None:
                c["amount"] += row["amount"]
            persons.add(row["person_id"])
        if load_results:
            # An unknown hukou area is stored as "" (the column is text, not null).
            insert_rows(
                ScreeningResult, [{**row, "run_id": run.pk, "hukou_area": row["hukou_area"] or ""} for row in rows]
            )
            after_batch()
        loaded += len(rows)
        progress(loaded, table.num_rows, gettext_noop("载入筛查结果"))
    with transaction.atomic():
        run = ScreeningRun.objects.select_for_update().get(pk=run.pk)
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


def screening_registry_run(
    *,
    actor: Any,
    as_of: dt.date,
    out_dir: Path | None = None,
    progress: ProgressFn | None = None,
    on_start: Callable[[ScreeningRun], None] | None = None,
) -> ScreeningRun:
    """Screen every registered person against the rules in force on ``as_of``, with DuckDB; load the results.

    The registry is exported to ``out_dir`` (default: a new time-stamped directory under
    ``VAR_DIR/registry-screens``) as ``registry.parquet``, screened into ``results/``, and the results
    loaded as ``ScreeningResult`` rows whose ``person_id`` is the Person's primary key; once they are loaded
    the export is deleted, and the whole directory when it is the default one (docs/deploy.md, "Personal
    data on disk"). The run records
    ``population="registry"``. ``actor`` is a user allowed to screen the registry, or ``None`` for the
    command line.

    Written in short transactions (``screening_run_complete``), never one long one: the run is
    ``running`` until its last step marks it completed, and only completed runs are read. If anything
    fails, ``screening_registry_abandon`` marks the run failed and removes its results (and the
    directory this call created) before the error goes on. A process killed outright leaves a running
    run; the job that ran it abandons it the same way (``on_start`` hands the run to the caller first).
    ``progress(done, total, message)`` hears how far it has got.
    """
    progress = progress or _no_progress
    if actor is not None and not can_screen_registry(actor):
        raise PermissionDenied("only department officers and the standards office screen the registry")
    rules = rules_in_force()
    if not rules:
        raise NoRulesInForce("no rules in force: load the standards first (fuwu standards load standards/)")
    created = out_dir is None
    if out_dir is None:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S-%f")
        out_dir = Path(settings.VAR_DIR) / "registry-screens" / stamp
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=not created)
    run = None
    try:
        progress(0, None, gettext_noop("导出居民档案"))
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
        if on_start is not None:
            on_start(run)
        progress(0, plan.partitions, gettext_noop("逐项判断是否符合条件"))
        # fresh: the directory is this run's own, so nothing in it is to be resumed.
        outcome = screening.run(
            plan,
            screening.DuckDBEngine(plan),
            fresh=True,
            progress=lambda done, total: progress(done, total, gettext_noop("逐项判断是否符合条件")),
        )
        run = screening_run_complete(run=run, outcome=outcome, actor=actor, load_results=True, progress=progress)
    except BaseException:
        if run is not None:
            try:
                screening_registry_abandon(run_id=run.pk, actor=actor)
            except Exception:  # the original error matters more; a job's retry abandons the run again
                logger.exception("could not close registry screening run %s after a failure", run.pk)
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    # Loaded: the files hold personal data the database now has. The registry's export goes always; the
    # results too when the directory is the service's own (a directory given on the command line keeps them).
    population.unlink(missing_ok=True)
    if created:
        shutil.rmtree(out_dir, ignore_errors=True)
    return run


def screening_registry_abandon(*, run_id: int, actor: Any = None) -> bool:
    """Close a registry run that did not finish: failed, its result rows removed; whether there was one.

    For a failure, and for a run whose process was killed (its job calls this before a retry or after
    the last attempt). A completed run is left alone. The directory is removed when it lies under
    ``VAR_DIR/registry-screens`` (the service's own); a directory the caller chose is theirs.
    """
    run = ScreeningRun.objects.filter(pk=run_id, population=REGISTRY).first()
    if run is None or run.status == RunStatus.COMPLETED:
        return False
    _results_delete(run)
    with transaction.atomic():
        updated = ScreeningRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=timezone.now()
        )
        if updated:
            audit(actor=actor, event="screening.failed", obj=run, after={"results_removed": True})
    folder = Path(run.output).parent
    own = (Path(settings.VAR_DIR) / "registry-screens").resolve()
    if folder.resolve().parent == own:
        shutil.rmtree(folder, ignore_errors=True)
    return True


__all__ = [
    "NoRulesInForce",
    "ResultStatus",
    "screening_registry_abandon",
    "screening_registry_run",
    "screening_run_complete",
    "screening_run_start",
]
