"""The department inbox as a spreadsheet: the officer's own scope (department × area) and the page's filters,
streamed as it is written (``fuwu.common.spreadsheets.stream_xlsx``, as the proactive list's export does), so a
file of any length starts at once and holds one chunk in memory.

A file travels further than a screen: applicants' names and identity numbers are masked
(``mask_name``, ``IdNumber.masked``); the export is audited (``persons.exported``, with the count and the
filters) before the first byte leaves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db import transaction

from fuwu.applications import selectors, standard
from fuwu.applications.models import OPEN, Capacity, Status
from fuwu.areas.selectors import area_names
from fuwu.common.audit import audit_persons_read
from fuwu.common.batches import chunks
from fuwu.common.spreadsheets import stream_xlsx
from fuwu.residents import crypto
from fuwu.residents.masking import mask_name

CHUNK = 2000

HEADER = [
    "申请编号",
    "事项",
    "事项代码",
    "申请人",
    "身份证号",
    "户籍地",
    "户籍地代码",
    "提交方式",
    "状态",
    "当前环节",
    "提交时间",
    "本环节时限",
    "是否超期",
    "超期督办",
]

_FIELDS = (
    "pk",
    "item_id",
    "item_key",
    "person__name",
    "person__id_number_encrypted",
    "person__id_number_hash",
    "area_code",
    "capacity",
    "status",
    "step",
    "submitted_at",
    "due_on",
    "overdue__since",
    "overdue__escalated_step",
)


def _rows(rows: Any, *, today: dt.date) -> Iterator[list[Any]]:
    capacities = {value: str(label) for value, label in Capacity.choices}
    statuses = {value: str(label) for value, label in Status.choices}
    items: dict[int, tuple[str, list[str]]] = {}
    names: dict[str, str] = {}

    def item(item_id: int) -> tuple[str, list[str]]:
        if item_id not in items:
            from fuwu.standards.models import ServiceItem

            found = ServiceItem.objects.get(pk=item_id)
            items[item_id] = (found.name, [s.name for s in standard.steps(found)])
        return items[item_id]

    def chunk(part: list[tuple[Any, ...]]) -> Iterator[list[Any]]:
        names.update(area_names({r[6] for r in part} - names.keys(), language="zh-hans"))
        for pk, item_id, key, name, blob, lookup, area, capacity, status, step, at, due, since, escalated in part:
            item_name, steps = item(item_id)
            late = status in OPEN and status != Status.AWAITING_APPLICANT and due is not None and due < today
            yield [
                pk,
                item_name,
                key,
                mask_name(name),
                crypto.decrypt(blob, lookup=lookup).masked(),
                names.get(area, ""),
                area,
                capacities.get(capacity, capacity),
                statuses.get(status, status),
                steps[step] if step < len(steps) else str(step),
                at,
                due,
                "是" if late else "",
                "已督办" if since is not None and escalated == step else "",
            ]

    for part in chunks(rows.values_list(*_FIELDS).iterator(chunk_size=CHUNK), CHUNK):
        yield from chunk(part)


@transaction.atomic
def inbox_export(*, actor: Any, filters: selectors.InboxFilters, today: dt.date) -> Iterator[bytes]:
    """The officer's inbox with ``filters`` as .xlsx bytes; audited before the first byte (nothing for others)."""
    rows = selectors.inbox_for(user=actor, filters=filters, today=today)
    audit_persons_read(
        actor=actor,
        purpose="applications inbox",
        count=rows.order_by().values("person_id").distinct().count(),
        obj=None,
        exported=True,
        details={
            "applications": rows.count(),
            "filters": {
                "item": filters.item,
                "step": filters.step,
                "overdue": filters.overdue,
                "open_only": filters.open_only,
                "due_by": filters.due_by.isoformat() if filters.due_by else None,
            },
            "department": getattr(actor, "department_id", None),
        },
    )
    return stream_xlsx("待办申请", HEADER, _rows(rows, today=today))
