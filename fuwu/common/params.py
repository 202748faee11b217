"""Parsing what arrives in a URL, a query string or a JSON body: ids, days and months, within range.

One place, so that every page and the API refuse the same out-of-range input the same way — with a message
naming the field and what to send (a 400 on a page, a 422 or 400 in the API), never a 500 from deep inside
a query or a date sum. The ranges are wide enough for any real record and narrow enough that the
arithmetic done on them (the day after, the next month, a window either side) stays within Python's
``datetime`` and a database's 64-bit integers.

* ``parse_id``, ``parse_day``, ``parse_month``: a raw string → a value, or ``ParamError``;
* ``DayField``, ``MonthField``: the same for Django forms;
* ``safe_next``: a posted or queried ``next`` address, used only if it stays on this site;
* ``Id``, ``Offset``, ``Day``, ``Moment``, ``Month``: the same as types for django-ninja (pydantic) parameters
  and bodies (``Moment``: a date and time with its UTC offset, on a day within range).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django import forms
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy
from pydantic import AfterValidator, AwareDatetime, Field

# Every day a page or the API accepts: the oldest birth dates in a registry to well past any plan.
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)
# A primary key fits a signed 64-bit integer (PostgreSQL bigint, SQLite INTEGER).
MAX_ID = 2**63 - 1
# How far into a list a page may start; far beyond any list, and far from overflowing offset + limit.
MAX_OFFSET = 10**9

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


class ParamError(ValueError):
    """An input that cannot be used: ``field`` names it, the message says what to send instead."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _range_text() -> str:
    return f"between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"


def day_in_range(value: dt.date, *, field: str = "day") -> dt.date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ParamError(field, f"{value.isoformat()} is out of range; give a date {_range_text()}")
    return value


def parse_day(raw: str, *, field: str = "day") -> dt.date:
    """``YYYY-MM-DD`` within range."""
    try:
        value = dt.date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ParamError(field, f"{raw[:20]!r} is not a date; give YYYY-MM-DD, e.g. 2026-11-23") from exc
    return day_in_range(value, field=field)


def parse_month(raw: str, *, field: str = "month") -> dt.date:
    """``YYYY-MM`` within range → the first day of that month."""
    text = raw.strip()
    if not _MONTH.match(text):
        raise ParamError(field, f"{raw[:20]!r} is not a month; give YYYY-MM, e.g. 2026-11")
    year, month = int(text[:4]), int(text[5:7])
    if not EARLIEST_DAY.year <= year <= LATEST_DAY.year:
        raise ParamError(field, f"{text} is out of range; give a month {_range_text()}")
    return dt.date(year, month, 1)


def parse_id(raw: Any, *, field: str = "id") -> int:
    """A positive whole number that fits a database id."""
    try:
        value = int(str(raw).strip())
    except ValueError as exc:
        raise ParamError(field, f"{str(raw)[:20]!r} is not a whole number") from exc
    if not 1 <= value <= MAX_ID:
        raise ParamError(field, f"must be between 1 and {MAX_ID}")
    return value


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Where to go after a form: the request's ``next`` (POST, else GET) if it is a path on this site, else
    ``fallback``. A ``next`` naming another host or scheme (``https://evil.example/``, ``//evil``,
    ``javascript:``) is ignored, so no page of fuwu can be made to send a user elsewhere."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- Django forms ----------------------------------------------------------------------------------------------


class DayField(forms.DateField):
    """A date a page accepts: ``YYYY-MM-DD`` between ``EARLIEST_DAY`` and ``LATEST_DAY``."""

    default_error_messages = {
        "out_of_range": gettext_lazy("日期超出范围，请填写 %(earliest)s 到 %(latest)s 之间的日期。"),
    }

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not EARLIEST_DAY <= value <= LATEST_DAY:
            raise forms.ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()},
            )


class MonthField(forms.Field):
    """A month a page accepts: ``YYYY-MM`` within range, cleaned to its first day."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid": gettext_lazy("请按“年-月”填写月份，例如 2026-11（%(earliest)s 到 %(latest)s 之间）。"),
    }

    def to_python(self, value: Any) -> dt.date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.date):
            return value.replace(day=1)
        try:
            return parse_month(str(value)[:20])
        except ParamError as exc:
            raise forms.ValidationError(
                self.error_messages["invalid"],
                code="invalid",
                params={"earliest": f"{EARLIEST_DAY:%Y-%m}", "latest": f"{LATEST_DAY:%Y-%m}"},
            ) from exc

    def prepare_value(self, value: Any) -> Any:
        return f"{value:%Y-%m}" if isinstance(value, dt.date) else value


def month_or_none(raw: str | None) -> dt.date | None:
    """A query parameter's month, or ``None`` when it is absent or unusable (the page shows its default)."""
    try:
        return parse_month(raw or "")
    except ParamError:
        return None


# --- django-ninja / pydantic -----------------------------------------------------------------------------------


def _day(value: dt.date) -> dt.date:
    try:
        return day_in_range(value, field="date")
    except ParamError as exc:
        raise ValueError(exc.message) from exc


def _moment(value: dt.datetime) -> dt.datetime:
    # The date as written (before any conversion, which could itself overflow at the ends of the calendar).
    _day(value.date())
    return value


def _month(value: str) -> str:
    try:
        parse_month(value, field="month")
    except ParamError as exc:
        raise ValueError(exc.message) from exc
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID, description="A record's id: a whole number from 1.")]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
Day = Annotated[dt.date, AfterValidator(_day)]
Moment = Annotated[AwareDatetime, AfterValidator(_moment)]
Month = Annotated[str, Field(pattern=MONTH_PATTERN, description="YYYY-MM, e.g. 2026-11"), AfterValidator(_month)]
