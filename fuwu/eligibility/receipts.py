"""Importing who already receives an item (a department's roll), so the proactive list leaves them out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from fuwu.common.audit import audit
from fuwu.common.clerk_sheets import SheetError, read_table
from fuwu.eligibility.models import Receipt

COLUMNS = {"person_id": ("person_id", "人员编号"), "item": ("item", "服务项目代码"), "since": ("since", "起始日期")}


@dataclass
class ReceiptImport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number as in Excel, cells by header), read through the upload guard like every clerk's list."""
    table = read_table(path.read_bytes(), path.name)
    return [(number, dict(zip(table.header, cells, strict=False))) for number, cells in table.rows]


def _column(row: dict[str, Any], name: str) -> Any:
    for alias in COLUMNS[name]:
        if alias in row:
            return row[alias]
    return None


@transaction.atomic
def receipts_import(*, path: Path, known_items: set[str], actor: Any) -> ReceiptImport:
    """Create or update receipts from a CSV or Excel file; with any error, nothing is written."""
    result = ReceiptImport()
    try:
        rows = _rows(path)
    except SheetError as exc:
        result.errors.append(f"{path.name}: {exc.problem}; {exc.fix}")
        return result
    if rows and not all(any(a in rows[0][1] for a in aliases) for key, aliases in COLUMNS.items() if key != "since"):
        result.errors.append("row 1: the header needs person_id (人员编号) and item (服务项目代码) columns")
        return result
    parsed: list[tuple[int, str, dt.date | None]] = []
    for number, row in rows:
        raw_person, item, since = (
            _column(row, "person_id"),
            str(_column(row, "item") or "").strip(),
            _column(row, "since"),
        )
        try:
            person_id = int(str(raw_person).strip())
        except ValueError:
            result.errors.append(f"row {number}, person_id: {raw_person!r} is not a whole number")
            continue
        if item not in known_items:
            result.errors.append(f"row {number}, item: {item!r} is not a service item in force; check the item code")
            continue
        if since in (None, ""):
            day = None
        elif isinstance(since, dt.datetime):
            day = since.date()
        elif isinstance(since, dt.date):
            day = since
        else:
            try:
                day = dt.date.fromisoformat(str(since).strip())
            except ValueError:
                result.errors.append(f"row {number}, since: {since!r} is not a date; write YYYY-MM-DD")
                continue
        parsed.append((person_id, item, day))
    if result.errors:
        return result
    for person_id, item, day in parsed:
        _, created = Receipt.objects.update_or_create(
            person_id=person_id, item=item, defaults={"since": day, "source": "import"}
        )
        result.created += created
        result.updated += not created
    if parsed:
        audit(
            actor=actor,
            event="receipts.imported",
            obj=Receipt.objects.get(person_id=parsed[0][0], item=parsed[0][1]),
            after={"file": path.name, "created": result.created, "updated": result.updated},
        )
    return result
