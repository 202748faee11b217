"""Rotating ``FUWU_PII_KEY``: re-encrypt and re-hash every encrypted column under the current key.

Run by ``fuwu residents rotate-key`` after the new key is ``FUWU_PII_KEY`` and the old one is in
``FUWU_PII_OLD_KEYS`` (``fuwu.residents.crypto`` explains the key ring; ``docs/deploy.md`` the drill).
Rows are read in primary-key order and rewritten a batch per transaction; a row already under the current
key is skipped, so the command can be interrupted and run again, and the site keeps working meanwhile
(old rows decrypt and are found through the ring). A row is only rewritten if its hash is still the one
read, so a concurrent change is never overwritten with stale data.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import transaction

from fuwu.common.batches import after_batch, write_batch
from fuwu.residents.crypto import ENCRYPTED_COLUMNS, EncryptedColumn, key_state

logger = logging.getLogger(__name__)


@dataclass
class ColumnReport:
    column: str
    rows: int = 0
    rotated: int = 0
    already: int = 0


def _rotate_column(
    column: EncryptedColumn, *, batch_size: int, progress: Callable[[ColumnReport], None] | None
) -> ColumnReport:
    model = apps.get_model(column.model)
    report = ColumnReport(f"{column.model}.{column.encrypted}")
    last = 0
    size = write_batch(batch_size)
    while True:
        rows = list(
            model.objects.filter(pk__gt=last).order_by("pk").values_list("pk", column.hashed, column.encrypted)[:size]
        )
        if not rows:
            break
        last = rows[-1][0]
        changes = []
        for pk, lookup, blob in rows:
            new = column.reseal(blob, lookup)
            if new is None:
                report.already += 1
            else:
                changes.append((pk, lookup, *new))
        if changes:
            with transaction.atomic():
                for pk, lookup, new_lookup, new_blob in changes:
                    report.rotated += model.objects.filter(pk=pk, **{column.hashed: lookup}).update(
                        **{column.hashed: new_lookup, column.encrypted: new_blob}
                    )
            after_batch()
        report.rows += len(rows)
        if progress is not None:
            progress(report)
    logger.warning(
        "PII key rotation: %s: %s rotated, %s already current", report.column, report.rotated, report.already
    )
    return report


def pii_key_rotate(
    *, batch_size: int = 2_000, progress: Callable[[ColumnReport], None] | None = None
) -> list[ColumnReport]:
    """Bring every encrypted column under the current key; what was done, per column."""
    return [_rotate_column(c, batch_size=batch_size, progress=progress) for c in ENCRYPTED_COLUMNS]


def pii_rows_by_key() -> dict[str, Counter[str]]:
    """Per column, how many rows are under the current key, an old one, a key not configured, or version 1."""
    states = {}
    for column in ENCRYPTED_COLUMNS:
        model = apps.get_model(column.model)
        states[f"{column.model}.{column.encrypted}"] = Counter(
            key_state(blob) for blob in model.objects.values_list(column.encrypted, flat=True).iterator()
        )
    return states


def pii_rows_under_old_keys() -> dict[str, int]:
    """Per column, how many rows are not yet under the current key (0 everywhere: the old key can go)."""
    return {column: sum(n for state, n in c.items() if state != "current") for column, c in pii_rows_by_key().items()}
