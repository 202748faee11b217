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
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_noop

from fuwu.accounts.permissions import can_screen_registry
from fuwu.common.audit import audit
from fuwu.eligibility import inplace, screening, store
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

    def rows(self, model: type[Any], columns: Sequence[str], batches: Iterable[Any], *, into: str | None = None) -> int:
        """Insert ``batches`` (``store.bulk_insert``'s) for this run, ``self.batch_rows`` a transaction (fitted to
        the time each takes: ``store.Pace.fit``); ``into``: the run's own table (``store.partition_create``)."""
        written = 0
        for part in store.parts(batches, self):
            with self.transaction():
                written += store.bulk_insert(model, columns, [part], into=into, run_id=self.run.pk)
            self.fit(len(part))
        return written


def run_rows_remove(run_id: int, *, pace: store.Pace | None = None, counts: bool = True) -> int:
    """Delete a run's candidates, changes and (with ``counts``) counts, ``store.TRANSACTION_ROWS`` at a time,
    each batch in a transaction of ``pace`` (a ``Storing`` checks the run is still its own). Returns the rows
    deleted."""
    pace = pace or store.Pace()
    removed = 0
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


def _candidates_carry(*, storing: Storing, source: ScreeningRun, replaced: pa.Table) -> int:
    """Copy ``source``'s candidates not served since to the run being stored, less the ``replaced`` persons
    (in SQL), a range of persons (about ``storing.batch_rows`` candidates) per transaction."""
    from fuwu.applications.grants import receiving_sql

    table = connection.ops.quote_name(Candidate._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in store.CANDIDATE_COLUMNS)
    copied = 0
    low: int | None = None
    while True:
        after = Candidate.objects.filter(run=source)
        if low is not None:
            after = after.filter(person_id__gt=low)
        ends = after.order_by("person_id").values_list("person_id", flat=True)
        first = next(iter(ends[:1]), None)
        if first is None:
            break
        high = next(iter(ends[storing.batch_rows - 1 : storing.batch_rows]), None)
        receiving, params = receiving_sql("c.person_id", "c.item", today=timezone.localdate())
        bounds, values = "c.person_id > %s" if low is not None else "TRUE", [low] if low is not None else []
        if high is not None:
            bounds, values = f"{bounds} AND c.person_id <= %s", [*values, high]
        with storing.transaction(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (run_id, {columns}) SELECT %s, {columns} FROM {table} c "  # noqa: S608 - our names
                f"WHERE c.run_id = %s AND {bounds} AND NOT {receiving}",
                [storing.run.pk, source.pk, *values, *params],
            )
            written = int(max(cursor.rowcount, 0))
        copied += written
        storing.fit(written)
        if high is None:
            break
        low = high
    ids = replaced.column("person_id").to_pylist()
    removed = 0
    for start in range(0, len(ids), 5_000):
        with storing.transaction():
            removed += Candidate.objects.filter(run=storing.run, person_id__in=ids[start : start + 5_000]).delete()[0]
    return copied - removed


def _candidates_copy(storing: Storing, batches: Iterable[Any]) -> int:
    """A full run's candidates: on PostgreSQL into the run's own table, bare (``run_open(bare=True)``), then
    its indexes built, one pass each, outside the run's lock, and the table attached (ADR 28); elsewhere
    into the candidates table, as every other row."""
    if not store.partitioned(Candidate):
        return storing.rows(Candidate, store.CANDIDATE_COLUMNS, batches)
    written = storing.rows(
        Candidate, store.CANDIDATE_COLUMNS, batches, into=store.partition_name(Candidate, storing.run.pk)
    )
    with transaction.atomic():  # a table nobody reads yet: only this attempt writes it
        store.partition_index(Candidate, storing.run.pk)
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
    carry_from: ScreeningRun | None = None,
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
    ``changed_persons`` (a ``person_id`` column) limits the comparison to them (an incremental run);
    with ``carry_from`` (the run it builds on) everyone else's candidates are copied from that run inside
    the database rather than read from the files again.
    """
    progress = progress or _no_progress
    progress(0, None, gettext_noop("汇总筛查结果"))
    counts = store.count(outcome.out)
    previous = previous_run(run) if load_results else None
    outreach = _outreach_items() if load_results else []
    served = served_table() if load_results else None
    progress(0, None, gettext_noop("载入筛查结果"))
    carry = load_results and carry_from is not None and changed_persons is not None
    storing, stored = run_open(run, counts=counts, bare=load_results and not carry)
    changes = 0
    if load_results:
        only = None
        if carry_from is not None and changed_persons is not None:
            stored += _candidates_carry(storing=storing, source=carry_from, replaced=changed_persons)
            only = changed_persons
        batches = store.candidates(outcome.out, items=outreach, served=served, persons=only)
        if carry:
            stored += storing.rows(Candidate, store.CANDIDATE_COLUMNS, batches)
        else:
            stored += _candidates_copy(storing, batches)
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
    unfinished = ScreeningRun.objects.filter(purged_at__isnull=False).filter(
        Exists(Candidate.objects.filter(run=OuterRef("pk")))
        | Exists(EntitlementChange.objects.filter(run=OuterRef("pk")))
    )
    return [run for run in old.order_by("started_at") if run.pk not in newest] + list(unfinished.order_by("pk"))


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
        run_rows_remove(run.pk, counts=False)
        _remove_files(run, keep)
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
