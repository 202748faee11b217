"""Writes to the resident registry: viewing (audited), revealing a number or contact details, importing lists,
loading a population.

Import and load are idempotent on the identity number's hash: a resident
already registered is *updated* from the row, never duplicated. A row's cells
replace the stored values of the columns the file has, an empty cell included
(it means "unknown" now); columns the file does not have are left as they are.
The same number under a different name is refused, not merged: it is far more
often a mistyped number than a renamed person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from fuwu.common.audit import audit, audit_persons_read
from fuwu.common.batches import among, copy_rows, update_rows
from fuwu.common.sheet_guard import COMMAND_LIMITS
from fuwu.jobs.models import Job
from fuwu.jobs.services import job_file, job_start
from fuwu.residents import contacts, crypto
from fuwu.residents.columns import REQUIRED
from fuwu.residents.models import Household, Person, PersonImport
from fuwu.residents.permissions import can_import_persons, may_reveal_contact, sees_identity
from fuwu.residents.selectors import Contact, PersonRecord, person_contact, person_record
from fuwu.residents.sources import SourceError, read_spreadsheet
from fuwu.residents.validation import (
    Candidate,
    Context,
    Existing,
    RowError,
    check_row,
    check_together,
    chunks,
    heads_against_registry,
)

BATCH_SIZE = 5000
# A report longer than this is cut when stored (the first problems are the ones to fix first).
MAX_STORED_ERRORS = 10_000


def _no_progress(done: int, total: int | None, message: str = "") -> None:
    return None


# --- Looking at a record ---------------------------------------------------------------------------------------


@transaction.atomic
def person_view(*, person: Person, actor: Any, reveal_contact: bool = False) -> PersonRecord:
    """The record as ``actor`` may see it (masked unless entitled), with the audit row every viewing leaves.

    ``reveal_contact`` shows the contact details in full, as ``person_contact_reveal`` does (and audits).
    """
    audit(actor=actor, event="person.viewed", obj=person)
    if reveal_contact:
        person_contact_reveal(person=person, actor=actor)
    record = person_record(person=person, user=actor, reveal_contact=reveal_contact)
    if record.members:  # the household's other members are shown too (masked)
        audit_persons_read(actor=actor, purpose="household members", persons=[m.pk for m in record.members])
    return record


@transaction.atomic
def person_reveal(*, person: Person, actor: Any) -> PersonRecord:
    """The record with the full identity number, for an officer of the resident's area; two audit rows."""
    if not sees_identity(actor, person.hukou_area):
        raise PermissionDenied("only an officer of the resident's area may see the full identity number")
    audit(actor=actor, event="person.viewed", obj=person, note="full identity number shown")
    audit(actor=actor, event="person.id_number_revealed", obj=person)
    return person_record(person=person, user=actor, reveal=True)


@transaction.atomic
def person_contact_reveal(*, person: Person, actor: Any, grant: str = "") -> Contact:
    """The contact details in full, with the audit row every reveal leaves.

    For an officer of the resident's area, or for a user another app vouches
    for through a registered ``grant`` (``permissions.register_contact_grant``:
    home care's caregiver on the day of a visit, for one). ``PermissionDenied``
    for anyone else.
    """
    if not may_reveal_contact(actor, person, grant=grant):
        raise PermissionDenied("only an officer of the resident's area may see the full contact details")
    audit(actor=actor, event="person.contact_revealed", obj=person, note=grant)
    contact = person_contact(person=person, viewer=actor, grant=grant, reveal=True)
    assert contact is not None  # noqa: S101 - may_reveal_contact implies the viewer may see it
    return contact


# --- Writing checked rows --------------------------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


def _attname(column: str) -> str:
    return "household_id" if column == "household_id" else column


def _field_name(column: str) -> str:
    return "household" if column == "household_id" else column


def _values(c: Candidate) -> dict[str, Any]:
    values = {"name": c.name, **c.facts, "id_area_differs": c.id_area_differs, "id_from_15_digits": c.id_from_15_digits}
    if c.source_id:
        values["source_id"] = c.source_id
    return values


def _apply(
    candidates: list[Candidate],
    *,
    existing: Mapping[str, Existing],
    households: Mapping[str, str],
    batch: PersonImport,
    sealed: Mapping[str, Mapping[str, bytes | None]] | None = None,
) -> Counts:
    """Write checked rows: new households, then updates (demoted heads first), then new residents.

    The order keeps the one-head-per-household constraint true after every
    statement: a head handed over within the file is first taken from the old
    head, then given to the new one. ``sealed`` holds ciphertexts made before
    the transaction (by lookup hash), so less work happens under its lock.
    """
    counts = Counts()
    new_households: dict[str, str] = {}
    for c in candidates:
        if c.household_id not in households:
            new_households.setdefault(c.household_id, c.hukou_area)
    copy_rows(
        Household,
        ({"household_id": k, "hukou_area": v} for k, v in new_households.items()),
        constants={"created_at": timezone.now()},
    )

    updates = [c for c in candidates if c.lookup in existing]
    # Compared first as read, without a lock: most rows of a registry's refresh are unchanged, and locking a row
    # writes it (PostgreSQL marks it, a whole registry's pages for nothing). Only the rows that differ are locked,
    # read whole and compared again below; the others are left as they are.
    differ = _differing(updates, existing)
    counts.unchanged = len(updates) - len(differ)
    stored: dict[int, Person] = {}
    # Locked: contact details are sealed against the row's id_number_hash as read here, and a key
    # rotation re-hashing the row meanwhile would leave them bound to a hash the row no longer has.
    locked = Person.objects.select_for_update().order_by("pk")
    for query in among(locked, "pk", [existing[c.lookup].pk for c in differ]):
        stored.update((p.pk, p) for p in query)
    now = timezone.now()
    changed: list[Person] = []
    demoted: list[Person] = []
    fields: set[str] = set()
    for c in differ:
        person = stored[existing[c.lookup].pk]
        diff = {k: v for k, v in _values(c).items() if getattr(person, _attname(k)) != v}
        contact = contacts.changed(person, c.contact)
        if not diff and not contact:
            counts.unchanged += 1
            continue
        if person.relation == "head" and "relation" in diff:
            demoted.append(person)
        for k, v in diff.items():
            setattr(person, _attname(k), v)
        for attname, blob in contact.items():
            setattr(person, attname, blob)
        fields.update(contact)
        person.source_import = batch
        person.updated_at = now
        fields.update(_field_name(k) for k in diff)
        changed.append(person)
    counts.updated = len(changed)
    update_rows(Person, demoted, ["relation"])
    update_rows(Person, changed, sorted(fields | {"source_import", "updated_at"}))

    new = [c for c in candidates if c.lookup not in existing]
    _insert_persons(new, batch=batch, now=now, sealed=sealed)
    counts.created = len(new)
    return counts


def _differing(candidates: list[Candidate], existing: Mapping[str, Existing]) -> list[Candidate]:
    """The ``candidates`` (registered residents) whose row would change: a column the file has holds another value,
    or a contact detail differs (compared in clear). Reads only those columns, as values, without a lock."""
    if not candidates:
        return []
    attnames = sorted({_attname(k) for c in candidates for k in _values(c)})
    sealed = sorted({name for c in candidates for name in c.contact})
    blobs = [contacts.ENCRYPTED[name].field for name in sealed]
    rows: dict[int, tuple[Any, ...]] = {}
    for query in among(Person.objects.all(), "pk", [existing[c.lookup].pk for c in candidates]):
        rows.update((row[0], row[1:]) for row in query.values_list("pk", "id_number_hash", *attnames, *blobs))
    position = {name: i for i, name in enumerate(["id_number_hash", *attnames, *sealed], start=0)}
    differ = []
    for c in candidates:
        row = rows.get(existing[c.lookup].pk)
        if (
            row is None  # gone meanwhile: the locked read below says so
            or any(row[position[_attname(k)]] != v for k, v in _values(c).items())
            or any(
                crypto.open_optional(contacts.ENCRYPTED[name], row[position[name]], row=row[0]) != value
                for name, value in c.contact.items()
            )
        ):
            differ.append(c)
    return differ


def _sealed(c: Candidate) -> dict[str, bytes | None]:
    """A new row's encrypted columns: the identity number and the contact details the file has."""
    number = crypto.encrypt(c.number, lookup=c.lookup)
    return {"id_number_encrypted": number, **contacts.sealed(c.contact, row=c.lookup)}


def _insert_persons(
    candidates: list[Candidate],
    *,
    batch: PersonImport,
    now: dt.datetime,
    sealed: Mapping[str, Mapping[str, bytes | None]] | None = None,
) -> None:
    """INSERT new residents in chunks: COPY on PostgreSQL, one prepared statement on SQLite (``copy_rows``)."""
    sealed = sealed or {}
    constant = {"created_at": now, "updated_at": now, "source_import_id": batch.pk}
    for part in chunks(candidates, BATCH_SIZE):
        copy_rows(
            Person,
            (
                {
                    "source_id": "",
                    **_values(c),  # column names are the attnames (household_id among them)
                    "id_number_hash": c.lookup,
                    **(sealed.get(c.lookup) or _sealed(c)),
                }
                for c in part
            ),
            constants=constant,
        )


# --- Importing a clerk's list (.xlsx or .csv) ----------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    record: PersonImport
    errors: list[RowError]

    @property
    def written(self) -> bool:
        return self.record.outcome != PersonImport.Outcome.REJECTED

    def summary(self) -> str:
        r = self.record
        if not self.written:
            return f"{r.rows} rows, {r.rejected} with problems: nothing was imported."
        text = f"{r.rows} rows: {r.created} created, {r.updated} updated, {r.unchanged} unchanged"
        return text + (f", {r.rejected} rejected." if r.rejected else ".")


def persons_import(
    *,
    path: Path | None = None,
    file: IO[bytes] | None = None,
    filename: str = "",
    actor: Any,
    valid_only: bool,
    progress: Callable[[int, int | None, str], None] | None = None,
) -> ImportReport:
    """Import a resident list; see the module docstring for what an import changes.

    With any problem and ``valid_only`` false, no resident or household is
    written. With ``valid_only``, the rows without problems are imported and
    the rest reported. A problem with the file itself (unreadable, a column
    missing or unknown) stops everything either way. The attempt is recorded
    (``PersonImport`` and an audit row) in both cases.

    Not atomic itself: reading and checking a large spreadsheet happens before
    the transaction, so it does not hold the database's write lock (SQLite
    takes it at BEGIN). Everything that reads the registry to decide, and every
    write, happens in ``_import_checked``, in one transaction. ``progress(done,
    total, message)`` hears how far it has got (the background job's page).
    """
    progress = progress or _no_progress
    if (path is None) == (file is None):
        raise TypeError("give either path or file")
    data = path.read_bytes() if path is not None else file.read()  # type: ignore[union-attr]
    filename = filename or (path.name if path is not None else str(getattr(file, "name", "upload")))
    ctx = Context.load(actor=actor)
    errors: list[RowError] = []
    candidates: list[Candidate] = []
    headers: dict[str, str] = {}
    rows = 0
    file_level = False
    progress(0, None, gettext_noop("读取文件"))
    try:
        # A file on the server (the command line) may be bigger than an upload; both are bounded.
        sheet = read_spreadsheet(data, filename, COMMAND_LIMITS if path is not None else None)
    except SourceError as exc:
        errors.append(RowError(exc.row, exc.column, exc.problem, exc.fix))
        file_level = True
    else:
        headers, rows = sheet.headers, len(sheet.rows)
        errors.extend(RowError(p.row, p.column, p.problem, p.fix) for p in sheet.problems)
        file_level = bool(sheet.problems)
        if all(name in headers for name in REQUIRED):
            for checked, (number, cells) in enumerate(sheet.rows, start=1):
                values = {name: (cells[pos] if pos < len(cells) else None) for name, pos in sheet.positions.items()}
                candidate, row_errors = check_row(values, row=number, headers=headers, ctx=ctx)
                errors.extend(row_errors)
                if candidate is not None:
                    candidates.append(candidate)
                if checked % 500 == 0:
                    progress(checked, rows, gettext_noop("逐行检查"))
    # Encrypting 100,000 rows takes seconds: done here, not under the write transaction's lock.
    sealed = {c.lookup: _sealed(c) for c in candidates}
    progress(rows, rows, gettext_noop("对照居民档案检查并写入"))
    return _import_checked(
        sealed=sealed,
        data=data,
        filename=filename,
        actor=actor,
        valid_only=valid_only,
        ctx=ctx,
        headers=headers,
        rows=rows,
        candidates=candidates,
        errors=errors,
        file_level=file_level,
    )


@transaction.atomic
def _import_checked(
    *,
    data: bytes,
    filename: str,
    actor: Any,
    valid_only: bool,
    ctx: Context,
    headers: dict[str, str],
    rows: int,
    candidates: list[Candidate],
    errors: list[RowError],
    file_level: bool,
    sealed: Mapping[str, Mapping[str, bytes | None]],
) -> ImportReport:
    record = PersonImport.objects.create(
        kind=PersonImport.Kind.SPREADSHEET,
        filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        valid_only=valid_only,
        outcome=PersonImport.Outcome.REJECTED,
        rows=rows,
    )
    counts = Counts()
    if candidates:
        together, existing, households = check_together(candidates, headers=headers, ctx=ctx)
        errors.extend(together)
        bad_rows = {e.row for e in errors}
        accepted = [c for c in candidates if c.row not in bad_rows]
        if valid_only and not file_level and accepted:
            # Rejecting rows can leave a new head without the row that demoted the old one: check again.
            late = heads_against_registry(accepted, headers=headers, existing=existing)
            errors.extend(late)
            accepted = [c for c in accepted if c.row not in {e.row for e in late}]
        if not file_level and (valid_only or not errors) and accepted:
            counts = _apply(accepted, existing=existing, households=households, batch=record, sealed=sealed)
    errors.sort(key=lambda e: (e.row, e.column))
    record.rejected = len({e.row for e in errors if e.row >= 2})
    written = counts.created + counts.updated + counts.unchanged
    if written and record.rejected:
        record.outcome = PersonImport.Outcome.PARTIAL
    elif written:
        record.outcome = PersonImport.Outcome.IMPORTED
    record.created, record.updated, record.unchanged = counts.created, counts.updated, counts.unchanged
    record.errors = [e.as_dict() for e in errors[:MAX_STORED_ERRORS]]
    record.save()
    audit(
        actor=actor,
        event="persons.import_rejected" if record.outcome == PersonImport.Outcome.REJECTED else "persons.imported",
        obj=record,
        after=_summary(record),
        note=filename[:255],
    )
    return ImportReport(record, errors)


# The kind of background job that imports an uploaded list (fuwu/residents/tasks.py).
IMPORT_JOB = "residents.import"
# An upload waits for its job sealed with the PII key: it holds identity numbers in clear.
UPLOAD_PURPOSE = "upload"


def persons_import_queue(*, data: bytes, filename: str, actor: Any, valid_only: bool) -> Job:
    """Put an uploaded list on the queue for ``persons_import``; the file waits sealed, in the database.

    The request that uploads it only stores it: reading and checking a list of 100,000 rows takes longer
    than a request should, and its page follows the job instead.
    """
    if not can_import_persons(actor):
        raise PermissionDenied("only a department officer with an area imports residents")
    token = secrets.token_hex(16)
    return job_start(
        kind=IMPORT_JOB,
        actor=actor,
        params={"filename": filename[:255], "valid_only": valid_only, "token": token},
        files={UPLOAD_PURPOSE: crypto.seal_bytes(data, purpose=UPLOAD_PURPOSE, aad=token)},
    )


def persons_import_upload(job: Job) -> bytes:
    """The list a queued import was given, opened (for its job)."""
    return crypto.open_bytes(job_file(job, UPLOAD_PURPOSE), purpose=UPLOAD_PURPOSE, aad=str(job.params["token"]))


def _summary(record: PersonImport) -> dict[str, Any]:
    return {
        "outcome": record.outcome,
        "rows": record.rows,
        "created": record.created,
        "updated": record.updated,
        "unchanged": record.unchanged,
        "rejected": record.rejected,
        "sha256": record.sha256,
    }


__all__ = [
    "ImportReport",
    "person_contact_reveal",
    "person_reveal",
    "person_view",
    "persons_import",
    "persons_import_queue",
    "persons_import_upload",
]
