"""Rotating ``FUWU_PII_KEY``: re-seal every row that has an encrypted column under the current key.

Run by ``fuwu residents rotate-key`` after the new key is ``FUWU_PII_KEY`` and the old one is in
``FUWU_PII_OLD_KEYS`` (``fuwu.residents.crypto`` explains the key ring; ``docs/deploy.md`` the drill).

A rotation works on *rows*, not columns: the columns of ``ENCRYPTED_COLUMNS`` are grouped by model, and a
row's identity number, its hash and every contact column bound to that hash are re-sealed together, in
one UPDATE (``crypto.reseal_row``). Re-hashing the number changes the associated data of the other
columns, so rotating them one at a time would leave rows that no longer open.

Rows are read in primary-key order, re-sealed outside any transaction (the cryptography is the slow part)
and written a batch per transaction. A row already entirely under the current key is skipped, so the
command can be interrupted and run again, and the site keeps working meanwhile (old rows open and are
found through the ring). The UPDATE only applies if the row's binding and every ciphertext are still
those read, so an import that changed a phone meanwhile is never overwritten with the stale value; such
a row is read again and re-sealed from what is there now.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models, transaction

from fuwu.common.batches import after_batch, write_batch
from fuwu.residents import crypto
from fuwu.residents.crypto import DecryptionError, EncryptedColumn

logger = logging.getLogger(__name__)

# A row changed by someone else between our read and our write is read again this many times; still
# changing after that, it is left for the next run (which ``--check`` reports).
RETRIES = 3
# Sealed files that wait for a job (``persons_import_queue``): not columns, but under the key all the same.
QUEUED_FILES = ("upload",)


@dataclass
class RotationReport:
    model: str
    rows: int = 0
    rotated: int = 0
    already: int = 0
    busy: int = 0  # changed by someone else on every try: left for the next run


@dataclass
class KeyCheck:
    """Where one model's rows stand: by column, the key each ciphertext names; by row, whether it is done."""

    model: str
    columns: dict[str, Counter[str]] = field(default_factory=dict)  # field → key_state → count (NULL not counted)
    current: int = 0  # every column under the current key, bound to the current hash
    left: int = 0  # opens, but something is under an old key, in version 1 or bound to an old hash
    unreadable: int = 0  # does not open with any configured key
    first_unreadable: Any = None  # a primary key, for the message


def _shape(columns: Sequence[EncryptedColumn]) -> tuple[type[models.Model], str, list[str]]:
    return apps.get_model(columns[0].model), columns[0].row_field, [c.field for c in columns]


def _rows(
    model: type[models.Model], row_field: str, fields: list[str], *, limit: int | None = None, **lookup: Any
) -> list[tuple[Any, ...]]:
    return list(model._default_manager.filter(**lookup).order_by("pk").values_list("pk", row_field, *fields)[:limit])


def _plan(
    columns: Sequence[EncryptedColumn], model: type[models.Model], fields: list[str], row: tuple[Any, ...]
) -> dict[str, Any] | None:
    pk, binding, *blobs = row
    stored = dict(zip(fields, blobs, strict=True))
    try:
        return crypto.reseal_row(columns, stored, row=binding)
    except DecryptionError as exc:
        raise DecryptionError(f"{model._meta.label} {pk}: {exc}") from exc


def _write(
    model: type[models.Model], row_field: str, fields: list[str], row: tuple[Any, ...], new: dict[str, Any]
) -> bool:
    """Compare and swap: write ``new`` only if the row still holds what was read."""
    pk, binding, *blobs = row
    match: dict[str, Any] = {"pk": pk, row_field: binding}
    for name, blob in zip(fields, blobs, strict=True):
        if blob is None:
            match[f"{name}__isnull"] = True
        else:
            match[name] = bytes(blob)
    return bool(model._default_manager.filter(**match).update(**new) == 1)


def _rotate_model(
    columns: Sequence[EncryptedColumn],
    *,
    batch_size: int,
    progress: Callable[[RotationReport], None] | None,
) -> RotationReport:
    model, row_field, fields = _shape(columns)
    report = RotationReport(model._meta.label)
    size = write_batch(batch_size)
    last = None
    while True:
        rows = _rows(model, row_field, fields, limit=size, **({} if last is None else {"pk__gt": last}))
        if not rows:
            break
        last = rows[-1][0]
        report.rows += len(rows)
        pending = rows
        for attempt in range(RETRIES + 1):
            planned = [(row, _plan(columns, model, fields, row)) for row in pending]
            if attempt == 0:
                report.already += sum(1 for _, new in planned if new is None)
            work = [(row, new) for row, new in planned if new is not None]
            if not work:
                break
            with transaction.atomic():
                missed = [row[0] for row, new in work if not _write(model, row_field, fields, row, new)]
            report.rotated += len(work) - len(missed)
            after_batch()
            if not missed:
                break
            if attempt == RETRIES:
                report.busy += len(missed)
                break
            pending = _rows(model, row_field, fields, pk__in=missed)
        if progress is not None:
            progress(report)
    logger.warning(
        "PII key rotation: %s: %s row(s) re-encrypted, %s already under the current key, %s changing meanwhile",
        report.model,
        report.rotated,
        report.already,
        report.busy,
    )
    return report


def pii_key_rotate(
    *, batch_size: int = 2_000, progress: Callable[[RotationReport], None] | None = None
) -> list[RotationReport]:
    """Bring every row with an encrypted column under the current key; what was done, per model."""
    return [
        _rotate_model(columns, batch_size=batch_size, progress=progress)
        for columns in crypto.columns_by_model().values()
    ]


def pii_key_check() -> list[KeyCheck]:
    """Per model, how its rows stand (every row is opened: a wrong key shows as unreadable, not as old)."""
    checks = []
    for columns in crypto.columns_by_model().values():
        model, row_field, fields = _shape(columns)
        check = KeyCheck(model._meta.label, {name: Counter() for name in fields})
        for row in model._default_manager.order_by("pk").values_list("pk", row_field, *fields).iterator():
            for name, blob in zip(fields, row[2:], strict=True):
                if blob is not None:
                    check.columns[name][crypto.key_state(blob)] += 1
            try:
                done = _plan(columns, model, fields, row) is None
            except DecryptionError:
                check.unreadable += 1
                check.first_unreadable = check.first_unreadable or row[0]
                continue
            check.current += done
            check.left += not done
        checks.append(check)
    return checks


def queued_files_under_old_keys() -> int:
    """Sealed files still waiting for their job under another key: the old key must stay until they are done."""
    from fuwu.jobs.models import JobFile

    blobs = JobFile.objects.filter(name__in=QUEUED_FILES).values_list("content", flat=True)
    return sum(1 for blob in blobs.iterator() if not crypto.under_current_key(blob))


def pii_rows_left() -> dict[str, int]:
    """Per model, the rows not yet entirely under the current key (0 everywhere: the old key can go)."""
    return {c.model: c.left + c.unreadable for c in pii_key_check()}
