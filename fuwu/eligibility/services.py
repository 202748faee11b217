"""Writes for entitlements: recording a screening run and its results, and screening the registry."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from fuwu.accounts.permissions import can_screen_registry
from fuwu.common.audit import audit
from fuwu.eligibility import inplace, layers, screening, store
from fuwu.eligibility.models import (
    Candidate,
    EntitlementChange,
    Receipt,
    ResultStatus,
    RunStatus,
    ScreeningCount,
    ScreeningRun,
)
from fuwu.eligibility.registry import REGISTRY, export_registry
from fuwu.eligibility.ruleset import ItemRule
from fuwu.eligibility.screening import Outcome, Plan, rules_digest
from fuwu.eligibility.selectors import chain_ids, rules_in_force

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


ProgressFn = Callable[[int, "int | None", str], None]


def _no_progress(done: int, total: int | None, message: str = "") -> None:
    return None


def previous_run(run: ScreeningRun, *, readable: Callable[[ScreeningRun], bool] | None = None) -> ScreeningRun | None:
    """The run of the same population that ``run``'s changes are counted against: the newest completed one
    before it whose files are still there (a run that rewrote the same directory has none to compare).
    ``readable``: whether a run's answers can be compared, if not by its files (an in-place run's table)."""
    candidates = (
        ScreeningRun.objects.filter(
            population=run.population,
            status=RunStatus.COMPLETED,
            draft=False,
            purged_at__isnull=True,
            as_of__lte=run.as_of,
        )
        .exclude(pk=run.pk)
        .exclude(output=run.output)
        .order_by("-as_of", "-finished_at")
    )
    for earlier in candidates[:5]:
        if readable(earlier) if readable is not None else store.has_results(earlier.output):
            return earlier
    return None


def served_table() -> pa.Table:
    """Who receives what (a current grant, else a receipt: ``applications.grants``), for DuckDB to leave out of
    the candidates."""
    from fuwu.applications.grants import receiving_pairs

    ids, items = [], []
    for person_id, item in receiving_pairs(today=timezone.localdate()):
        ids.append(person_id)
        items.append(item)
    return pa.table({"person_id": pa.array(ids, pa.int64()), "item": pa.array(items, pa.string())})


def _outreach_items() -> list[str]:
    from fuwu.eligibility.proactive import items_info  # proactive reads runs; it never writes them

    return sorted(k for k, info in items_info().items() if info.outreach)


class RunNotStoring(screening.ScreeningError):
    """The run is no longer this attempt's to store: closed meanwhile (failed, abandoned by its job or by
    retention) or begun again by another attempt, which removes what this one stored."""


class Storing(store.Pace):
    """One attempt at storing a run's rows, in short transactions (``store.Pace``).

    Every transaction first locks the run's row and checks that the run is still running and that this is
    still its latest storing attempt (``ScreeningRun.store_attempt``); otherwise it writes nothing and
    raises ``RunNotStoring``. Readers select completed runs only, so none sees the rows before ``run_close``
    marks the run completed, in the last of these transactions.
    """

    def __init__(self, run: ScreeningRun, attempt: int) -> None:
        super().__init__()
        self.run = run
        self.attempt = attempt

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with super().transaction():
            now = (
                ScreeningRun.objects.select_for_update(no_key=True)
                .filter(pk=self.run.pk)
                .values_list("status", "store_attempt")
                .first()
            )
            if now != (RunStatus.RUNNING, self.attempt):
                raise RunNotStoring(
                    f"run {self.run.pk} is no longer being stored by this attempt ({self.attempt}): "
                    f"it is {now[0] if now else 'deleted'}, storing attempt {now[1] if now else '-'}"
                )
            yield

    def rows(self, model: type[Any], columns: Sequence[str], batches: Iterable[Any]) -> int:
        """Insert ``batches`` (``store.bulk_insert``'s) for this run, ``self.batch_rows`` a transaction (fitted to
        the time each takes: ``store.Pace.fit``)."""
        written = 0
        for part in store.parts(batches, self):
            with self.transaction():
                written += store.bulk_insert(model, columns, [part], run_id=self.run.pk)
            self.fit(len(part))
        return written


def candidate_marks_reset(run_id: int, *, pace: store.Pace) -> int:
    """Undo a daily run that did not complete: the rows of earlier runs it ended hold again (ADR 27)."""
    reset = 0
    while True:
        ids = list(Candidate.objects.filter(until_id=run_id).values_list("pk", flat=True)[: store.TRANSACTION_ROWS])
        if not ids:
            return reset
        with pace.transaction():
            reset += Candidate.objects.filter(pk__in=ids).update(until=None)


def run_rows_remove(run_id: int, *, pace: store.Pace | None = None, counts: bool = True) -> int:
    """Delete a run's candidates, changes and (with ``counts``) counts, and undo the ends a daily run marked on
    earlier runs' candidates, ``store.TRANSACTION_ROWS`` at a time, each batch in a transaction of ``pace`` (a
    ``Storing`` checks the run is still its own). Only for a run that is not completed (or a re-store); retention
    removes a completed run's candidates with ``candidates_purgeable``. Returns the rows deleted."""
    pace = pace or store.Pace()
    removed = 0
    candidate_marks_reset(run_id, pace=pace)
    if store.partitioned(Candidate):  # PostgreSQL: the run's own table of candidates goes at once (ADR 28)
        with pace.transaction():
            store.partition_drop(Candidate, run_id)
    for model in (Candidate, EntitlementChange):  # by the (run, person_id, item) constraint's index
        while True:
            rows = model.objects.filter(run_id=run_id)
            last = rows.order_by("person_id").values_list("person_id", flat=True)[
                store.TRANSACTION_ROWS - 1 : store.TRANSACTION_ROWS
            ]
            bound = next(iter(last), None)
            with pace.transaction():
                removed += (rows if bound is None else rows.filter(person_id__lte=bound)).delete()[0]
            if bound is None:
                break
    if counts:
        with pace.transaction():  # some thousands: townships × items
            removed += ScreeningCount.objects.filter(run_id=run_id).delete()[0]
    return removed


def _candidates_copy(storing: Storing, batches: Iterable[Any]) -> int:
    """A full run's candidates: on PostgreSQL into the run's own table, bare (``run_open(bare=True)``), all in one
    transaction that empties it first, so the rows are copied frozen (``store.bulk_insert(freeze=True)``) and a
    killed copy leaves it empty; then its indexes built, several at once, outside the run's lock, and the table
    attached (ADR 28, ADR 29). Elsewhere into the candidates table, as every other row, in short transactions."""
    if not store.partitioned(Candidate):
        return storing.rows(Candidate, store.CANDIDATE_COLUMNS, batches)
    with storing.transaction():  # the table nobody reads yet: only this attempt writes it
        store.partition_empty(Candidate, storing.run.pk)
        written = store.bulk_insert(
            Candidate,
            store.CANDIDATE_COLUMNS,
            batches,
            into=store.partition_name(Candidate, storing.run.pk),
            freeze=True,
            run_id=storing.run.pk,
        )
    try:
        store.partition_index(Candidate, storing.run.pk)
    except DatabaseError:
        with storing.transaction():  # the run abandoned meanwhile (its table dropped): RunNotStoring
            pass
        raise
    with storing.transaction():
        store.partition_attach(Candidate, storing.run.pk)
    return written


def run_open(run: ScreeningRun, *, counts: store.Counts, bare: bool = False) -> tuple[Storing, int]:
    """Begin storing ``run``'s results: a new storing attempt of the run (which must be running) — from now on
    an earlier attempt still writing stops at its next transaction — whatever an earlier attempt stored
    removed (a re-run replaces it), the counts by township and item inserted; all in short transactions
    (``Storing``). Returns the attempt (its ``run`` as read then) and the rows stored so far.

    On PostgreSQL the run gets a table of its own for its candidates (ADR 28): attached and indexed now, or
    with ``bare`` left detached and without indexes for ``_candidates_copy`` to fill and attach."""
    with transaction.atomic():
        locked = ScreeningRun.objects.select_for_update(no_key=True).get(pk=run.pk)
        if locked.status != RunStatus.RUNNING:
            raise RunNotStoring(f"run {run.pk} is {locked.status}: only a running run is stored")
        locked.store_attempt += 1
        ScreeningRun.objects.filter(pk=run.pk).update(store_attempt=locked.store_attempt)
    storing = Storing(locked, locked.store_attempt)
    run_rows_remove(run.pk, pace=storing)
    if store.partitioned(Candidate):
        with storing.transaction():
            store.partition_create(Candidate, run.pk)
            if not bare:
                store.partition_index(Candidate, run.pk)
                store.partition_attach(Candidate, run.pk)
    stored = storing.rows(ScreeningCount, ("township", "item", "eligible", "unknown", "amount"), [counts.townships])
    return storing, stored


def run_close(
    storing: Storing,
    *,
    counts: store.Counts,
    stored: int,
    changes: int,
    previous: ScreeningRun | None,
    seconds: float,
    screened: int,
    actor: Any,
    loaded: bool = True,
    **audited: Any,
) -> ScreeningRun:
    """Mark the run completed with what was stored, and audit it: the short transaction that shows it."""
    with storing.transaction():
        run = storing.run
        run.previous = previous
        run.counts = counts.items
        run.persons = counts.persons
        run.result_rows = counts.rows
        run.stored_rows = stored
        run.screened = screened
        run.status = RunStatus.COMPLETED
        run.finished_at = timezone.now()
        run.seconds = seconds
        run.save()
        audit(
            actor=actor,
            event="screening.completed",
            obj=run,
            after={
                "persons_with_results": run.persons,
                "items": len(counts.items),
                "loaded": loaded,
                "stored_rows": stored,
                "changes": changes,
                "previous": previous.pk if previous else None,
                "transactions": storing.transactions + 1,
                "longest_transaction_seconds": round(storing.longest, 3),
                **audited,
            },
        )
    return run


def screening_run_complete(
    *,
    run: ScreeningRun,
    outcome: Outcome,
    actor: Any,
    load_results: bool,
    progress: ProgressFn | None = None,
    changed_persons: pa.Table | None = None,
    screened: int | None = None,
) -> ScreeningRun:
    """Store what people act on from the run's Parquet files and close the run.

    The files keep every answer (``fuwu.eligibility.store``); the database gets the counts by township
    and item, and with ``load_results`` the candidates for the proactive list and the changes since
    the previous run of the same population (``previous_run``), all loaded in bulk (COPY on
    PostgreSQL), in short transactions (``Storing``: ``store.TRANSACTION_ROWS`` rows, fitted on SQLite to
    hold its write lock about ``store.TRANSACTION_SECONDS``), so that no
    officer's write waits for more than one of them. Readers select completed runs only, and the last
    transaction marks the run completed: until then nothing shows its rows. A process killed on the way
    leaves the run running with some rows that nothing shows; completing it again (the same command, which
    resumes the run) removes them first and stores it whole, and a job's abandon or the retention rule
    (``screening_runs_purge``) removes them with the run.
    ``changed_persons`` (a ``person_id`` column) limits the comparison to them. A registry run's folder also
    keeps who received what and the items listed (``layers.served_keep``), for the next daily run (ADR 27).
    """
    progress = progress or _no_progress
    progress(0, None, gettext_noop("汇总筛查结果"))
    counts = store.count(outcome.out)
    previous = previous_run(run) if load_results else None
    outreach = _outreach_items() if load_results else []
    served = served_table() if load_results else None
    progress(0, None, gettext_noop("载入筛查结果"))
    storing, stored = run_open(run, counts=counts, bare=load_results)
    changes = 0
    if load_results:
        assert served is not None  # noqa: S101 - load_results read it
        if run.population == REGISTRY:
            layers.served_keep(outcome.out, served, outreach)
        stored += _candidates_copy(storing, store.candidates(outcome.out, items=outreach, served=served))
        if previous is not None:
            changes = storing.rows(
                EntitlementChange,
                store.CHANGE_COLUMNS,
                store.changes(outcome.out, Path(previous.output), persons=changed_persons),
            )
            stored += changes
    run = run_close(
        storing,
        counts=counts,
        stored=stored,
        changes=changes,
        previous=previous,
        seconds=outcome.seconds,
        screened=counts.persons if screened is None else screened,
        actor=actor,
        loaded=load_results,
    )
    progress(1, 1, gettext_noop("载入筛查结果"))
    return run


def screening_daily_complete(
    *,
    run: ScreeningRun,
    base: ScreeningRun,
    counts: store.Counts,
    before: Path,
    after: Path,
    ended: pa.Table,
    served: pa.Table,
    outreach: list[str],
    seconds: float,
    screened: int,
    actor: Any,
    progress: ProgressFn | None = None,
) -> ScreeningRun:
    """Store a daily run (``incremental.py``, ADR 27) and close it: what changed only.

    ``ended`` (a ``person_id`` column) are the persons whose candidate rows are stored again: their rows that
    ``base`` reads are marked ended by this run (``Candidate.until``) and their rows from ``after`` inserted;
    ``after`` holds the answers now of every person screened again or whose receiving changed (none for a
    person who left) and ``before`` their answers in ``base``. The run's candidates are then
    ``base``'s rows less the ended ones plus those found in ``after`` (``selectors.candidates_of``); its
    changes are ``after`` against ``before``; ``counts`` are the run's counts, worked out by the caller.
    Short transactions, as ``screening_run_complete``; until the last one completes the run, readers of
    ``base`` still read the rows it marks (the mark names a run not in their chain), and abandoning the run
    removes its marks (``run_rows_remove``).
    """
    progress = progress or _no_progress
    progress(0, None, gettext_noop("载入筛查结果"))
    storing, stored = run_open(run, counts=counts)
    chain = chain_ids(base)
    ids = ended.column("person_id").to_pylist()
    marked = 0
    for start in range(0, len(ids), store.TRANSACTION_ROWS // 4):  # about two candidates a person
        part = ids[start : start + store.TRANSACTION_ROWS // 4]
        with storing.transaction():
            marked += (
                Candidate.objects.filter(run_id__in=chain, person_id__in=part)
                .exclude(until_id__in=chain)
                .update(until=storing.run)
            )
    stored += storing.rows(
        Candidate, store.CANDIDATE_COLUMNS, store.candidates(after, items=outreach, served=served, persons=ended)
    )
    changes = storing.rows(EntitlementChange, store.CHANGE_COLUMNS, store.changes(after, before))
    stored += changes
    run = run_close(
        storing,
        counts=counts,
        stored=stored,
        changes=changes,
        previous=base,
        seconds=seconds,
        screened=screened,
        actor=actor,
        candidates_ended=marked,
        base=base.pk,
    )
    progress(1, 1, gettext_noop("载入筛查结果"))
    return run


@dataclass(frozen=True)
class Retention:
    keep_runs: int
    keep_days: int
    running_hours: int = 24


def retention() -> Retention:
    setting = getattr(settings, "FUWU_SCREENING_RETENTION", {})
    return Retention(
        int(setting.get("keep_runs", 2)), int(setting.get("keep_days", 30)), int(setting.get("running_hours", 24))
    )


def runs_to_purge(*, now: dt.datetime | None = None) -> list[ScreeningRun]:
    """Runs whose files and person rows retention removes (``FUWU_SCREENING_RETENTION``).

    A completed run is kept while it is one of the newest ``keep_runs`` of its population (drafts apart)
    or younger than ``keep_days``; a failed one only while younger. Running runs are not purged here
    (``runs_left_running``). Also a purged run whose person rows a killed purge left behind.
    """
    rule = retention()
    cutoff = (now or timezone.now()) - dt.timedelta(days=rule.keep_days)
    old = ScreeningRun.objects.filter(purged_at__isnull=True, started_at__lt=cutoff).exclude(status=RunStatus.RUNNING)
    newest: set[int] = set()
    for population, draft in old.values_list("population", "draft").distinct():
        newest.update(
            ScreeningRun.objects.filter(population=population, draft=draft, status=RunStatus.COMPLETED)
            .order_by("-finished_at")
            .values_list("pk", flat=True)[: rule.keep_runs]
        )
    leftover = ScreeningRun.objects.filter(purged_at__isnull=False).filter(
        Exists(Candidate.objects.filter(run=OuterRef("pk")))
        | Exists(EntitlementChange.objects.filter(run=OuterRef("pk")))
    )
    unfinished = [
        run
        for run in leftover.order_by("pk")
        if EntitlementChange.objects.filter(run=run).exists() or candidates_purgeable(run).exists()
    ]
    return [run for run in old.order_by("started_at") if run.pk not in newest] + unfinished


def candidates_purgeable(run: ScreeningRun) -> QuerySet[Candidate]:
    """The candidate rows stored by ``run`` that no kept run reads: all of them, unless a later daily run of its
    lineage is kept (ADR 27); then those that the oldest such run, or a run before it, ended."""
    rows = Candidate.objects.filter(run=run)
    reader = _later_reader(run)
    return rows if reader is None else rows.filter(until_id__in=chain_ids(reader))


def _later_reader(run: ScreeningRun) -> ScreeningRun | None:
    """The oldest kept daily run of ``run``'s lineage after it, which reads some of its candidates (ADR 27)."""
    return (
        ScreeningRun.objects.filter(
            lineage_id=run.lineage_id or run.pk,
            generation__gt=run.generation,
            status=RunStatus.COMPLETED,
            purged_at__isnull=True,
        )
        .order_by("generation")
        .first()
    )


def run_rows_purge(run: ScreeningRun) -> int:
    """Delete what retention removes of a completed run: its changes, and its candidates no kept run reads
    (``candidates_purgeable``), in short transactions. Returns the rows deleted."""
    pace = store.Pace()
    removed = 0
    if store.partitioned(Candidate) and _later_reader(run) is None:  # none read: its table goes (ADR 28)
        with pace.transaction():
            store.partition_drop(Candidate, run.pk)
    for rows in (lambda: candidates_purgeable(run), lambda: EntitlementChange.objects.filter(run=run)):
        while ids := list(rows().values_list("pk", flat=True)[: store.TRANSACTION_ROWS]):
            with pace.transaction():
                removed += rows().filter(pk__in=ids).delete()[0]
    return removed


def runs_left_running(*, now: dt.datetime | None = None) -> list[ScreeningRun]:
    """Runs still running ``running_hours`` after they started: their process was killed and no job
    abandoned them (``fuwu screen`` on the command line), so retention does."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=retention().running_hours)
    return list(ScreeningRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=cutoff).order_by("started_at"))


def _remove_files(run: ScreeningRun, keep: set[str]) -> None:
    """The run's Parquet files, unless a run that is kept wrote the same directory; its own folder if it has one."""
    if inplace.answers_table(run) is not None:  # no files: its answers are a table (dropped by the caller)
        return
    out = Path(run.output)
    own = (Path(settings.VAR_DIR) / "registry-screens").resolve()
    if out.parent.resolve().parent == own and str(out) not in keep:
        shutil.rmtree(out.parent, ignore_errors=True)  # with the registry export beside the results
        return
    if str(out) in keep or not out.is_dir():
        return
    for part in out.glob("part-*.parquet"):
        part.unlink(missing_ok=True)
    (out / screening.MANIFEST).unlink(missing_ok=True)


def screening_runs_purge(*, actor: Any = None, now: dt.datetime | None = None, dry_run: bool = False) -> list[int]:
    """Apply the retention rule: remove old runs' Parquet files, candidates and changes; close runs left
    running longer than ``running_hours`` (``screening_run_abandon``); return the runs' ids.

    The run record, its counts by township and item (no person in them) and the officers' outreach
    records stay, so history pages still answer "how many"; who was entitled is gone. The run is marked
    purged first (readers then ignore its candidates), then its rows go in short transactions.
    """
    purged, stale = runs_to_purge(now=now), runs_left_running(now=now)
    if dry_run or not (purged or stale):
        return sorted(run.pk for run in (*purged, *stale))
    for run in stale:
        screening_run_abandon(run_id=run.pk, actor=actor, reason="left running")
    ids = {run.pk for run in purged}
    keep = set(ScreeningRun.objects.filter(purged_at__isnull=True).exclude(pk__in=ids).values_list("output", flat=True))
    for run in purged:
        if run.purged_at is None:
            with transaction.atomic():
                inplace.drop_answers(run)  # an in-place run's answers are a table, not files
                ScreeningRun.objects.filter(pk=run.pk).update(purged_at=timezone.now())
                audit(actor=actor, event="screening.purged", obj=run, after={"output": run.output})
        run_rows_purge(run)
        _remove_files(run, keep)  # a later daily run keeps the files it reads by hard links (ADR 27)
    return sorted(ids | {run.pk for run in stale})


def receipt_record(*, person_id: int, item: str, since: dt.date, source: str) -> bool:
    """Note that a person now receives ``item`` (the first time only), so the proactive list stops showing them.

    Called from delivery (e.g. a home-care visit confirmed) inside its own transaction; returns whether it was new.
    """
    _, created = Receipt.objects.get_or_create(
        person_id=person_id, item=item, defaults={"since": since, "source": source}
    )
    return created


def registry_rules_for(actor: Any) -> list[ItemRule]:
    """The rules in force, for ``actor`` (``None``: the command line) about to screen the registry."""
    if actor is not None and not can_screen_registry(actor):
        raise PermissionDenied("only department officers and the standards office screen the registry")
    rules = rules_in_force()
    if not rules:
        raise NoRulesInForce("no rules in force: load the standards first (fuwu standards load standards/)")
    return rules


def screening_registry_run(
    *,
    actor: Any,
    as_of: dt.date,
    out_dir: Path | None = None,
    progress: ProgressFn | None = None,
    on_start: Callable[[ScreeningRun], None] | None = None,
    in_place: bool | None = None,
) -> ScreeningRun:
    """Screen every registered person against the rules in force on ``as_of``, with DuckDB; load the results.

    ``in_place`` (default: the setting ``FUWU_SCREEN_IN_PLACE``): screen in PostgreSQL over the facts view
    instead, with no export (``fuwu.eligibility.inplace``, ADR 18); ``out_dir`` has no use then.

    The registry is exported to ``out_dir`` (default: a new time-stamped directory under
    ``VAR_DIR/registry-screens``) as ``registry.parquet``, screened into ``results/``, and what people act
    on stored (``screening_run_complete``), ``person_id`` being the Person's primary key. The run records
    ``population="registry"``. ``actor`` is a user allowed to screen the registry, or ``None`` for the
    command line.

    The rows people act on are stored in short transactions, the last of which marks the run completed
    (``screening_run_complete``); only completed runs are read. If anything
    fails, ``screening_registry_abandon`` marks the run failed and removes its results (and the
    directory this call created) before the error goes on. A process killed outright leaves a running
    run; the job that ran it abandons it the same way (``on_start`` hands the run to the caller first).
    ``progress(done, total, message)`` hears how far it has got.
    """
    progress = progress or _no_progress
    rules = registry_rules_for(actor)
    if inplace.wanted(in_place):
        if out_dir is not None:
            raise inplace.InPlaceUnavailable("screening in place writes no files: drop --out (or --in-place)")
        return inplace.screening_registry_in_place(
            actor=actor, as_of=as_of, rules=rules, progress=progress, on_start=on_start
        )
    created = out_dir is None
    if out_dir is None:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S-%f")
        out_dir = Path(settings.VAR_DIR) / "registry-screens" / stamp
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=not created)
    run = None
    try:
        progress(0, None, gettext_noop("导出居民档案"))
        facts_at = timezone.now()  # a fact changed after this may be missing from the export
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
        ScreeningRun.objects.filter(pk=run.pk).update(facts_at=facts_at)
        run.facts_at = facts_at
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
    # Stored: the registry's export (every person's facts, in clear) goes at once, but for who lives with
    # whom. The results stay beside it, answers by person number, for counts, what-if and the next daily
    # run, until the retention rule removes them (screening_runs_purge; docs/security-data.md).
    store.members_keep(population, out_dir / "members.parquet")
    return run


def screening_run_abandon(*, run_id: int, actor: Any = None, reason: str | None = None) -> bool:
    """Close a run that did not finish: failed, its result rows removed; whether there was one to close.

    For a failure, for a run whose process was killed (its job calls this before a retry or after the last
    attempt) and for one left running (retention). A completed run is left alone. The run is marked failed
    first, in a short transaction (a process still storing it stops at its next batch: ``Storing``), then its
    rows go in short transactions. The directory is removed when it lies under ``VAR_DIR/registry-screens``
    (a registry run's own); a directory the caller chose is theirs (a population run resumes from it).
    """
    run = ScreeningRun.objects.filter(pk=run_id).first()
    if run is None or run.status == RunStatus.COMPLETED:
        return False
    with transaction.atomic():
        updated = ScreeningRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=timezone.now()
        )
        if updated:
            after: dict[str, Any] = {"results_removed": True}
            if reason:
                after["reason"] = reason
            audit(actor=actor, event="screening.failed", obj=run, after=after)
    run_rows_remove(run.pk)
    inplace.drop_answers(run)  # an in-place run's answers table
    if inplace.answers_table(run) is not None:  # and no folder
        return True
    folder = Path(run.output).parent
    own = (Path(settings.VAR_DIR) / "registry-screens").resolve()
    if folder.resolve().parent == own:
        shutil.rmtree(folder, ignore_errors=True)
    return True


def screening_registry_abandon(*, run_id: int, actor: Any = None) -> bool:
    """``screening_run_abandon`` for a registry run (a job's run); False for any other."""
    if not ScreeningRun.objects.filter(pk=run_id, population=REGISTRY).exists():
        return False
    return screening_run_abandon(run_id=run_id, actor=actor)


__all__ = [
    "NoRulesInForce",
    "ResultStatus",
    "RunNotStoring",
    "screening_registry_abandon",
    "screening_registry_run",
    "screening_run_abandon",
    "screening_run_complete",
    "screening_run_start",
    "screening_runs_purge",
]
