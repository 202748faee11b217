from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from fuwu.common.params import Day, Id, Moment


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
    suggestions: list[str] = Field(default=[], description="When nothing is found: close terms that find something.")


class ErrorOut(Schema):
    detail: str


class FactOut(Schema):
    name: str
    type: str
    zh: str
    en: str
    allowed: list[str]
    derived: str | None
    household: bool
    unit: str | None


class EligibilityIn(Schema):
    as_of: Day | None = None
    facts: dict[str, Any] | None = None
    person_id: Id | None = None
    items: list[str] | None = None


class CriterionOut(Schema):
    name: str
    passed: bool | None
    text: TextOut | None
    clause: str | None
    # The clause in words, naming its standard: "依据《…》第 5.2 条".
    source: TextOut | None = None
    expr: str
    missing: list[str]


class EligibilityItemOut(Schema):
    item: str
    name: TextOut
    standard: str
    version: int | None
    status: str
    amount: str | None
    units: str | None
    unit: str | None
    period: str
    missing: list[str]
    criteria: list[CriterionOut]
    # The same answer in words, as the self-check says it.
    level_text: TextOut | None = None
    missing_text: list[TextOut] = []
    self_paid: bool = False
    shared: str | None = None
    national_item: str | None = None
    implements_text: TextOut | None = None


class EligibilityOut(Schema):
    as_of: dt.date
    results: list[EligibilityItemOut]


# --- home care ------------------------------------------------------------------------------------


class HomeCareErrorOut(ErrorOut):
    """A refused home-care request: ``detail`` is the Chinese message for the person, ``code`` is stable."""

    code: str


class ProjectOut(Schema):
    key: str
    name: TextOut
    kind: str
    price: str
    minutes: int
    staff: int
    monthly_limit: int | None
    qualifications: list[str]


class BookingIn(Schema):
    person_id: Id
    item: str
    # With a UTC offset: a booking names a moment, never a wall-clock time in an unstated zone.
    window_start: Moment
    window_end: Moment


class CancelIn(Schema):
    reason: str


class ProviderRefOut(Schema):
    id: int
    name: str


class OrderOut(Schema):
    id: int
    person_id: int
    elder_name: str
    item: str
    kind: str
    status: str
    status_label: str
    window_start: dt.datetime
    window_end: dt.datetime
    minutes: int
    staff: int
    price: str
    subsidy: str
    self_pay: str
    provider: ProviderRefOut
    caregiver: str | None
    planned_start: dt.datetime | None
    channel: str
    requested_at: dt.datetime
    respond_by: dt.datetime
    accepted_at: dt.datetime | None
    checkin_at: dt.datetime | None
    checkout_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    ended_at: dt.datetime | None
    end_reason: str
    overdue_flagged_at: dt.datetime | None
    confirmation_code: str | None


class OrderPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[OrderOut]


class StatementLineOut(Schema):
    order: int
    item: str
    status: str
    window_start: dt.datetime
    price: str
    subsidy: str
    self_pay: str


class StatementOut(Schema):
    person_id: int
    month: str
    allowance: str
    held: str
    spent: str
    self_paid: str
    remaining: str
    lines: list[StatementLineOut]
