from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class TextOut(Schema):
    zh: str
    en: str


class StandardOut(Schema):
    key: str
    version: int
    code: str
    title: TextOut
    scope: str
    status: str
    issued_on: dt.date
    effective_on: dt.date
    review_due_on: dt.date
    modeled: bool


class ClauseOut(Schema):
    number: str
    parent: str | None
    kind: str
    subject: str | None
    title: TextOut
    text: TextOut
    modeled: bool


class ItemSummaryOut(Schema):
    key: str
    name: TextOut
    life_area: str
    category: TextOut
    standard: str
    standard_code: str


class ItemOut(ItemSummaryOut):
    target_group: TextOut
    content: TextOut
    lead_department: TextOut
    document: dict[str, Any]


class IndicatorOut(Schema):
    key: str
    name: TextOut
    formula: TextOut
    target: str | None
    comparison: str
    unit: str
    clause: str


class ParameterValueOut(Schema):
    effective_from: dt.date
    value: str | dict[str, str]


class ParameterOut(Schema):
    key: str
    name: TextOut
    unit: str
    clause: str
    values: list[ParameterValueOut]


class StandardDetailOut(StandardOut):
    issuing_body: TextOut
    versions: list[int]
    superseded_by: int | None
    source: dict[str, Any]
    clauses: list[ClauseOut]
    items: list[ItemSummaryOut]
    indicators: list[IndicatorOut]
    parameters: list[ParameterOut]


class AreaOut(Schema):
    code: str
    name: TextOut
    level: str
    kind: str
    parent: str | None
    generated: bool
    modeled: bool


class SearchOut(Schema):
    query: str
    standards: list[StandardOut]
    items: list[ItemSummaryOut]
    clauses: list[dict[str, str]]


class ErrorOut(Schema):
    detail: str
