"""Loading the registry in bulk: millions of rows from Parquet, CSV or .xlsx, a batch per transaction, resumable.

Every row is checked exactly as a clerk's import checks it (``validation.check_row``, then
``check_together`` against the other rows and the registry) and written with the same encryption
(``services._apply``). What differs is the transaction: a clerk's list is written whole or not at all;
a registry of millions is written ``batch_size`` rows at a time, each batch in one transaction
together with its checkpoint on the ``PersonImport`` record (``rows_done``: how many rows of the file,
in file order, are handled). So

- a load that is killed (the worker's process, the machine) loses at most the batch it was writing,
  which its transaction rolls back whole: no half-written batch is ever seen;
- running it again on the same file (same SHA-256; the queue's retry does this by itself) carries on
  after the checkpoint, with the counts and problems found so far, and ends with the registry a single
  clean run would have written (nothing written twice: the rows before the checkpoint are not read again,
  and a row that is read again is an update of itself, which changes nothing);
- its progress (``progress(done, total, message)``) is visible at every batch, outside the transactions.

Checking a row on its own (``check_row``: reading the cells, parsing the number, its keyed hash) and
encrypting it need nothing from the database, and are most of a load's CPU. With ``workers`` > 1 they run
in a pool of processes, a few batches ahead; this process writes the batches in file order, as before (the
checks against the registry, the writes and the checkpoint stay in each batch's transaction). The pool ends
with the load, however it ends; a worker whose parent was killed exits by itself.

With one worker and ``pipeline`` (the default on PostgreSQL), the checks run in a thread of this process one
batch ahead (``batches.ahead``): while the loading thread waits for the server to take batch N (its look-ups,
``COPY`` and updates; the driver lets go of the interpreter while it waits), the other thread checks batch N+1.
Only the loading thread, on its one connection, reads or writes the registry, so the transactions, the
checkpoint, resuming and the problems are exactly as without it; an error on either side ends the load with
that error, nothing of the batch it was in written (the batch checked ahead never is), and the thread with it.

Problems: a row with a problem is reported (row, column as headed in the file, problem, fix), as for an
import. Without ``valid_only`` the first problem stops the writing: the batches committed before it stay
(they were whole and valid), nothing from its batch on is written, and the rest of the file is still
checked so that one run reports every problem (up to ``max_errors``); fix the file and load it again
(a load updates, so the rows already written come out unchanged). With ``valid_only`` the rows without
problems are written and the rest reported. A problem with the file itself (unreadable, a column missing)
stops everything before anything is written.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq  # type: ignore[import-untyped]
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from fuwu.common.audit import audit
from fuwu.common.batches import after_batch, ahead, among, write_batch
from fuwu.common.sheet_guard import COMMAND_LIMITS
from fuwu.jobs.models import Job
from fuwu.jobs.services import job_start
from fuwu.residents import indexes
from fuwu.residents.columns import CONTACT_NAMES, FACT_NAMES
from fuwu.residents.models import Person, PersonImport
from fuwu.residents.permissions import can_import_persons
from fuwu.residents.services import MAX_STORED_ERRORS, Counts, _apply, _sealed, _summary
from fuwu.residents.sources import SourceError, read_spreadsheet
from fuwu.residents.validation import (
    Candidate,
    Context,
    RowError,
    check_row,
    check_together,
    heads_against_registry,
)

logger = logging.getLogger(__name__)

# Rows per transaction. On SQLite ``write_batch`` caps it, so others get the write lock between batches.
BATCH_SIZE = 20_000
# Batches checked ahead of the writing by the loading process's thread (``pipeline``): besides the one being
# written and the one being checked. Each is a batch's rows in memory (≈ 40 MB at 20,000).
PIPELINE_DEPTH = 1
# The contract with `fuwu population generate` (and the civil affairs' Parquet export): these columns.
PARQUET_COLUMNS: tuple[str, ...] = ("person_id", "name", "id_number", *FACT_NAMES)

Progress = Callable[[int, int | None, str], None]


def _no_progress(done: int, total: int | None, message: str = "") -> None:
    return None


class LoadError(Exception):
    """The load found problems: with the file (nothing was written) or in rows (``record`` says what was)."""

    def __init__(self, errors: list[RowError], total: int | None = None, record: PersonImport | None = None) -> None:
        self.errors = errors
        self.total = total if total is not None else len(errors)
        self.record = record
        written = record.created + record.updated + record.unchanged if record is not None else 0
        what = f"{written} rows before the first problem were loaded" if written else "nothing was loaded"
        super().__init__(f"{self.total} problem(s); {what}. First: {errors[0]}" if errors else "")


class LoadBusy(Exception):
    """Another run is loading the same file's record (its checkpoint moved under this one)."""


@dataclass(frozen=True)
class LoadReport:
    record: PersonImport
    ignored_columns: list[str] = field(default_factory=list)
    resumed_from: int = 0  # rows a previous, interrupted run had already committed


# (position in the file from 1, row number as the user sees it, the row's cells by column name, person_id)
Row = tuple[int, int, dict[str, Any], str | None]


@dataclass(frozen=True)
class Chunk:
    """A batch as read from the file: ``start`` rows of the file come before it; ``data`` its rows, as an Arrow
    record batch (Parquet: made into Python rows by whoever checks it) or as ``Row``s (a spreadsheet, in memory)."""

    start: int
    data: Any  # pyarrow.RecordBatch | list[Row]

    def __len__(self) -> int:
        return len(self.data)

    @property
    def end(self) -> int:
        return self.start + len(self.data)

    def head(self, count: int) -> Chunk:
        if count >= len(self.data):
            return self
        return Chunk(self.start, self.data[:count] if isinstance(self.data, list) else self.data.slice(0, count))

    def rows(self) -> list[Row]:
        if isinstance(self.data, list):
            return self.data
        rows: list[Row] = []
        for position, values in enumerate(self.data.to_pylist(), start=self.start + 1):
            person_id = values.pop("person_id")
            source_id = None if person_id is None or not str(person_id).strip() else str(person_id)
            rows.append((position, position, values, source_id))
        return rows


@dataclass
class Source:
    kind: str
    headers: dict[str, str]  # column name → header as written in the file (person_id not among them)
    total: int
    ignored: list[str]
    batches: Callable[[int, int], Iterator[Chunk]]  # (batch size, rows to skip) → batches, in file order


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parquet(path: Path) -> Source:
    parquet = pq.ParquetFile(path)
    present = parquet.schema_arrow.names
    # Contact details are optional: a population with phones loads them, one without leaves them unknown.
    columns = [*PARQUET_COLUMNS, *(c for c in CONTACT_NAMES if c in present)]
    missing = [c for c in PARQUET_COLUMNS if c not in present]
    if missing:
        raise LoadError(
            [
                RowError(0, c, "the column is missing", "the generator must write every column of the contract")
                for c in missing
            ]
        )

    def batches(size: int, skip: int) -> Iterator[Chunk]:
        seen = 0
        for arrow_batch in parquet.iter_batches(batch_size=size, columns=columns):
            if seen + arrow_batch.num_rows <= skip:  # committed by an earlier run: not even converted
                seen += arrow_batch.num_rows
                continue
            start = max(seen, skip)
            # Still Arrow: turned into Python rows by whoever checks it (a worker process, when there are some).
            yield Chunk(start, arrow_batch.slice(start - seen))
            seen += arrow_batch.num_rows

    return Source(
        kind=PersonImport.Kind.PARQUET,
        headers={c: c for c in columns if c != "person_id"},
        total=parquet.metadata.num_rows,
        ignored=[c for c in present if c not in columns],
        batches=batches,
    )


def _spreadsheet(path: Path) -> Source:
    try:
        sheet = read_spreadsheet(path.read_bytes(), path.name, COMMAND_LIMITS)
    except SourceError as exc:
        raise LoadError([RowError(exc.row, exc.column, exc.problem, exc.fix)]) from exc
    if sheet.problems:
        raise LoadError([RowError(p.row, p.column, p.problem, p.fix) for p in sheet.problems])

    def batches(size: int, skip: int) -> Iterator[Chunk]:
        for start in range(skip, len(sheet.rows), size):
            part = sheet.rows[start : start + size]
            yield Chunk(
                start,
                [
                    (
                        start + k + 1,
                        number,
                        {name: (cells[pos] if pos < len(cells) else None) for name, pos in sheet.positions.items()},
                        "",
                    )
                    for k, (number, cells) in enumerate(part)
                ],
            )

    return Source(
        kind=PersonImport.Kind.SPREADSHEET, headers=sheet.headers, total=len(sheet.rows), ignored=[], batches=batches
    )


def open_source(path: Path) -> Source:
    """Parquet by its magic bytes; anything else is a spreadsheet (.xlsx or CSV, read as an import reads it)."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    return _parquet(path) if magic == b"PAR1" else _spreadsheet(path)


def _source_id_conflicts(candidates: list[Candidate]) -> list[RowError]:
    wanted = {c.source_id: c for c in candidates if c.source_id}
    errors = []
    # ``source_id <> ''`` repeats the unique index's condition (``person_source_id_unique`` is partial): without
    # it PostgreSQL cannot use that index for a list of more than 100 values and reads the whole table for each
    # batch, a first load's cost growing with the square of its size (docs/benchmarks.md, ADR 0026).
    for query in among(Person.objects.exclude(source_id="").order_by(), "source_id", wanted):
        for source_id, lookup in query.values_list("source_id", "id_number_hash"):
            if wanted[source_id].lookup != lookup:
                errors.append(
                    RowError(
                        wanted[source_id].row,
                        "person_id",
                        f"person_id {source_id} already belongs to another resident",
                        "this looks like a different population; load it into an empty registry",
                    )
                )
    return errors


def _record(
    *, source: Source, path: Path, sha256: str, actor: Any, valid_only: bool, job: Job | None, resume: bool
) -> PersonImport:
    """The unfinished load of this file to carry on (this job's, or the command line's), or a new one."""
    if resume:
        unfinished = PersonImport.objects.filter(
            outcome=PersonImport.Outcome.LOADING, sha256=sha256, kind=source.kind, valid_only=valid_only
        )
        found = unfinished.filter(job=job).order_by("-pk").first() if job is not None else None
        if found is None:
            found = unfinished.filter(job__isnull=True).order_by("-pk").first()
        if found is not None:
            if job is not None and found.job_id != job.pk:
                PersonImport.objects.filter(pk=found.pk).update(job=job)
                found.job = job
            return found
    return PersonImport.objects.create(
        kind=source.kind,
        filename=str(path)[:255],
        sha256=sha256,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        valid_only=valid_only,
        outcome=PersonImport.Outcome.LOADING,
        job=job,
    )


# --- Checking batches, here or in worker processes ------------------------------------------------------------


@dataclass
class Checked:
    """A batch after each row's own checks (``check_row``): the rows that passed and the problems, in row order;
    ``sealed``: the passed rows' ciphertexts by lookup hash, when a worker made them (else the write makes them)."""

    end: int  # the checkpoint once this batch is handled: rows of the file up to its last
    candidates: list[Candidate]
    errors: list[RowError]
    sealed: dict[str, dict[str, bytes | None]] | None = None


def check_chunk(chunk: Chunk, *, headers: dict[str, str], ctx: Context, seal: bool) -> Checked:
    """Everything a batch needs before its transaction that reads nothing from the database; ``seal``: encrypt too."""
    candidates: list[Candidate] = []
    errors: list[RowError] = []
    for _position, number, values, source_id in chunk.rows():
        if source_id is None:
            errors.append(RowError(number, "person_id", "empty", "every person has a person_id"))
            continue
        candidate, row_errors = check_row(values, row=number, headers=headers, ctx=ctx, source_id=source_id)
        errors.extend(row_errors)
        if candidate is not None:
            candidates.append(candidate)
    # Sealed for every row, though an existing person's row needs it only where a contact changed (that is
    # sealed in the transaction, against the stored hash): whether a row is new is known only there.
    sealed = {c.lookup: _sealed(c) for c in candidates} if seal else None
    return Checked(chunk.end, candidates, errors, sealed)


def default_workers() -> int:
    """One per CPU beyond the two the loading process and the database use (measured: on two cores a pool is
    slower than none; docs/benchmarks.md), where processes fork (the workers share the settings that way)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, (os.cpu_count() or 1) - 2)


def default_pipeline() -> bool:
    """Whether the loading process checks the next batch while it writes one: where the writing waits for a
    server (PostgreSQL); SQLite writes in this process, and pauses between batches for others (measured:
    docs/benchmarks.md)."""
    return connection.vendor == "postgresql"


def _checked(
    chunks: Iterable[Chunk], check: Callable[[Chunk], Checked], *, workers: int, pipeline: bool
) -> Generator[Checked]:
    """``check`` of each chunk, in file order: in this process (``workers`` 1) — in a thread a batch ahead of the
    writing (``pipeline``), or between the writes — or in a pool of ``workers`` processes kept a few batches
    ahead. Close it (``contextlib.closing``): that ends the thread or the pool, whatever stopped the load; a
    running check is waited for (a batch, a second or two), the ones made ahead are dropped."""
    if workers <= 1:
        if pipeline:
            with closing(ahead(map(check, chunks), depth=PIPELINE_DEPTH)) as checked:
                yield from checked
        else:
            yield from map(check, chunks)
        return
    pending: deque[Future[Checked]] = deque()
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_started, initargs=(os.getpid(),)
    )
    try:
        for chunk in chunks:
            pending.append(pool.submit(check, chunk))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# A worker's copies of the parent's database connections: kept (closing one would end the parent's session on
# the server), never used. A worker reads nothing from the database; if it did, it would open its own.
_inherited: list[Any] = []


def _worker_started(parent: int) -> None:
    """In each worker process, first: Ctrl-C is the parent's to handle (it stops the pool), the parent's
    connections are put aside, and the worker ends when the parent does (killed, it cannot stop the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for conn in connections.all(initialized_only=True):
        _inherited.append(conn.connection)
        conn.connection = None
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _until(chunks: Iterable[Chunk], total: int) -> Iterator[Chunk]:
    """The chunks up to row ``total`` of the file (a ``limit``)."""
    for chunk in chunks:
        if chunk.start >= total or not len(chunk):
            return
        yield chunk.head(total - chunk.start)


def _row_error(data: dict[str, Any]) -> RowError:
    return RowError(int(data["row"]), str(data["column"]), str(data["problem"]), str(data["fix"]))


def persons_load(
    *,
    path: Path,
    actor: Any,
    valid_only: bool = False,
    limit: int | None = None,
    batch_size: int = BATCH_SIZE,
    max_errors: int = 1000,
    progress: Progress | None = None,
    job: Job | None = None,
    resume: bool = True,
    workers: int | None = None,
    pipeline: bool | None = None,
) -> LoadReport:
    """Load ``path`` into the registry a batch per transaction; see the module docstring.

    ``actor`` ``None`` is the system (the command line): no area limit. An officer's load is limited to
    their area, as their import is. ``job``: the background job running it, whose retries carry on from
    its checkpoint. ``resume`` false starts over even if an unfinished load of the same file exists.
    ``workers``: processes that check and encrypt batches ahead of the writing (default: ``default_workers()``;
    1 checks in this process). The writing stays here, one batch after another in file order, so nothing else differs.
    ``pipeline`` (with one worker): check the next batch in a thread while this one is written (default:
    ``default_pipeline()``); false checks each batch after the previous one is written.
    Raises ``LoadError`` when the file or any row has a problem (after recording what was done).
    """
    progress = progress or _no_progress
    if batch_size < 1:
        raise ValueError("batch_size is at least 1")
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError("workers is at least 1")
    source = open_source(path)
    sha256 = file_sha256(path)
    total = source.total if limit is None else min(source.total, max(0, limit))
    record = _record(
        source=source, path=path, sha256=sha256, actor=actor, valid_only=valid_only, job=job, resume=resume
    )
    resumed_from = record.rows_done
    ctx = Context.load(actor=actor)
    errors = [_row_error(e) for e in record.errors]
    problems = len(errors)
    counts = Counts(record.created, record.updated, record.unchanged)
    done = record.rows_done
    message = gettext_noop("分批写入居民档案") if valid_only or not errors else gettext_noop("检查其余各行")
    progress(done, total, message)
    pipeline = workers == 1 and (default_pipeline() if pipeline is None else pipeline)
    # Sealing ahead (in the pool, or the thread) takes it off the writing's path, but is wasted on a row that
    # turns out to exist; the thread seals ahead while the batches written are mostly new residents.
    seal_ahead = [workers > 1 or pipeline]
    check: Callable[[Chunk], Checked]
    if workers > 1:
        check = partial(check_chunk, headers=source.headers, ctx=ctx, seal=True)
    else:
        check = lambda chunk: check_chunk(chunk, headers=source.headers, ctx=ctx, seal=seal_ahead[0])  # noqa: E731
    deferring = _defer_indexes(record, done=done, total=total, progress=progress)
    chunks = _until(source.batches(write_batch(batch_size), done), total)
    try:
        with closing(_checked(chunks, check, workers=workers, pipeline=pipeline)) as checked:
            for batch in checked:
                if problems >= max_errors:
                    break
                created = counts.created
                problems += _write_batch(
                    batch, record=record, headers=source.headers, ctx=ctx, valid_only=valid_only, before=done,
                    counts=counts, errors=errors,
                )  # fmt: skip
                if pipeline:
                    seal_ahead[0] = 2 * (counts.created - created) >= len(batch.candidates)
                done = batch.end
                after_batch()
                if errors and not valid_only:
                    message = gettext_noop("检查其余各行")
                progress(done, total, message)
    except LoadBusy:
        raise  # the other run is loading (and may be deferring): its indexes are its to build
    except Exception:  # an error, not a kill or Ctrl-C (then the next run builds them: ADR 0026)
        if deferring:
            _restore_indexes_after_error(done=done, total=total, progress=progress)
        raise
    if deferring:
        _restore_indexes(done=done, total=total, progress=progress)
    report = _finish(record, source=source, path=path, counts=counts, errors=errors, done=done, actor=actor,
                     resumed_from=resumed_from)  # fmt: skip
    if errors:
        raise LoadError(errors[:max_errors], total=problems, record=report.record)
    return report


def _defer_indexes(record: PersonImport, *, done: int, total: int, progress: Progress) -> bool:
    """Put the registry's secondary indexes aside when this load is the registry's first (every resident there is
    this load's: none on a fresh start, its own committed batches on a resume), and there is more to write;
    otherwise build any a killed first load left missing, so this load and its readers have them (ADR 0026)."""
    if not indexes.supported():
        return False
    first = done < total and not Person.objects.exclude(source_import=record).exists()
    if first:
        indexes.defer()
        return True
    _restore_indexes(done=done, total=total, progress=progress)
    return False


def _restore_indexes(*, done: int, total: int, progress: Progress) -> None:
    indexes.restore(lambda name: progress(done, total, gettext_noop("建立居民档案的索引")))


def _restore_indexes_after_error(*, done: int, total: int, progress: Progress) -> None:
    """After a load stopped by an error: build the indexes it put aside, unless the database is what failed (then
    the next load, or ``fuwu residents indexes``, builds them); the load's own error is the one raised."""
    try:
        _restore_indexes(done=done, total=total, progress=progress)
    except Exception:
        logger.warning("the registry's indexes were not built after the load stopped", exc_info=True)


@transaction.atomic
def _write_batch(
    batch: Checked,
    *,
    record: PersonImport,
    headers: dict[str, str],
    ctx: Context,
    valid_only: bool,
    before: int,
    counts: Counts,
    errors: list[RowError],
) -> int:
    """One batch's transaction: its checkpoint, its checks against the registry, its writes (unless a problem
    stops the writing), the counts and problems so far (``counts`` and ``errors`` grow). Returns its problems."""
    # The checkpoint first: it locks the record, so a second run of the same load waits, then finds
    # that the checkpoint moved and stops, instead of writing the batch again.
    moved = PersonImport.objects.filter(pk=record.pk, outcome=PersonImport.Outcome.LOADING, rows_done=before).update(
        rows_done=batch.end
    )
    if not moved:
        raise LoadBusy(f"import {record.pk} is being loaded by another run")
    candidates, batch_errors = batch.candidates, list(batch.errors)
    together, existing, households = check_together(candidates, headers=headers, ctx=ctx, load_id=record.pk)
    batch_errors.extend(together)
    batch_errors.extend(_source_id_conflicts(candidates))
    if valid_only or not (errors or batch_errors):
        bad_rows = {e.row for e in batch_errors}
        accepted = [c for c in candidates if c.row not in bad_rows]
        if batch_errors and accepted:
            # Rejecting rows can leave a new head without the row that demoted the old one: check again.
            late = heads_against_registry(accepted, headers=headers, existing=existing)
            batch_errors.extend(late)
            accepted = [c for c in accepted if c.row not in {e.row for e in late}]
        if accepted:
            counts.add(_apply(accepted, existing=existing, households=households, batch=record, sealed=batch.sealed))
    batch_errors.sort(key=lambda e: (e.row, e.column))
    errors.extend(batch_errors[: max(0, MAX_STORED_ERRORS - len(errors))])
    PersonImport.objects.filter(pk=record.pk).update(
        created=counts.created,
        updated=counts.updated,
        unchanged=counts.unchanged,
        rejected=len({e.row for e in errors if e.row >= 1}),
        errors=[e.as_dict() for e in errors],
    )
    return len(batch_errors)


@transaction.atomic
def _finish(
    record: PersonImport,
    *,
    source: Source,
    path: Path,
    counts: Counts,
    errors: list[RowError],
    done: int,
    actor: Any,
    resumed_from: int,
) -> LoadReport:
    record.refresh_from_db()
    written = counts.created + counts.updated + counts.unchanged
    rejected = {e.row for e in errors if e.row >= 1}
    if not errors:
        record.outcome = PersonImport.Outcome.IMPORTED
    elif written:
        record.outcome = PersonImport.Outcome.PARTIAL
    else:
        record.outcome = PersonImport.Outcome.REJECTED
    record.rows = done
    record.created, record.updated, record.unchanged = counts.created, counts.updated, counts.unchanged
    record.rejected = len(rejected)
    record.errors = [e.as_dict() for e in errors]
    record.finished_at = timezone.now()
    record.save()
    note = str(path)[:200] + (f" (resumed after row {resumed_from})" if resumed_from else "")
    audit(
        actor=actor,
        event="persons.loaded" if record.outcome != PersonImport.Outcome.REJECTED else "persons.load_rejected",
        obj=record,
        after=_summary(record),
        note=note[:255],
    )
    return LoadReport(record, source.ignored, resumed_from)


LOADABLE = (".parquet", ".csv", ".xlsx")


def drop_files() -> list[Path]:
    """The files in ``settings.FUWU_REGISTRY_DROP`` a bulk load can read, by name (the page's choices)."""
    folder = Path(settings.FUWU_REGISTRY_DROP)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in LOADABLE)


def drop_file(name: str) -> Path:
    """The drop folder's file called ``name`` (never a path outside it); ``FileNotFoundError`` otherwise."""
    for path in drop_files():
        if path.name == name:
            return path
    raise FileNotFoundError(name)


# The kind of background job that runs a bulk load (fuwu/residents/tasks.py).
LOAD_JOB = "residents.load"


def persons_load_queue(
    *,
    path: Path,
    actor: Any,
    valid_only: bool = False,
    limit: int | None = None,
    batch_size: int | None = None,
    resume: bool = True,
    workers: int | None = None,
    pipeline: bool | None = None,
) -> Job:
    """Put a bulk load of ``path`` (a file the workers can read) on the queue; its page shows the progress.

    The file stays where it is (a registry export is gigabytes; it is not copied into the database as an
    upload is). A retry after the worker died carries on from the load's checkpoint.
    """
    if actor is not None and not can_import_persons(actor):
        raise PermissionDenied("only a department officer with an area imports residents")
    if not path.is_file():
        raise FileNotFoundError(path)
    return job_start(
        kind=LOAD_JOB,
        actor=actor,
        params={
            "path": str(path.resolve()),
            "valid_only": valid_only,
            "limit": limit,
            "batch_size": batch_size or BATCH_SIZE,
            "resume": resume,
            "workers": workers,  # None: default_workers() of the machine that runs it
            "pipeline": pipeline,  # None: default_pipeline() of the database it writes to
        },
    )


__all__ = ["LOAD_JOB", "PARQUET_COLUMNS", "LoadBusy", "LoadError", "LoadReport", "persons_load", "persons_load_queue"]
