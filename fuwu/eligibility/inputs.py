"""Turning submitted facts (JSON, a form) into typed values, with errors that name the fact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from fuwu.eligibility.facts import FACTS, FactType
from fuwu.eligibility.rules import Value


class FactError(ValueError):
    def __init__(self, fact: str, message: str) -> None:
        super().__init__(f"{fact}: {message}")
        self.fact = fact


def coerce(name: str, raw: Any) -> Value:
    """One submitted value as the fact's type; ``None`` stays unknown."""
    if name not in FACTS:
        raise FactError(name, "not a fact in the vocabulary (see /api/v1/facts)")
    fact = FACTS[name]
    if fact.derived and not fact.household:
        raise FactError(name, "is derived from other facts; submit those instead")
    if raw is None:
        return None
    if fact.type == FactType.BOOLEAN:
        if isinstance(raw, bool):
            return bool(raw)
        raise FactError(name, "must be true or false")
    if fact.type == FactType.INTEGER:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise FactError(name, "must be a whole number")
        return int(raw)
    if fact.type == FactType.DECIMAL:
        try:
            value = Decimal(str(raw))
        except InvalidOperation as exc:
            raise FactError(name, "must be a number") from exc
        if not value.is_finite():
            raise FactError(name, "must be a finite number")
        if value < 0:
            raise FactError(name, "cannot be negative")
        return value
    if fact.type == FactType.DATE:
        try:
            return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
        except ValueError as exc:
            raise FactError(name, "must be a date, YYYY-MM-DD") from exc
    text = str(raw)
    if fact.allowed and text not in fact.allowed:
        raise FactError(name, f"must be one of {', '.join(fact.allowed)}")
    if fact.type == FactType.AREA and not (text.isdigit() and len(text) in (6, 9, 12)):
        raise FactError(name, "must be an area code of 6, 9 or 12 digits")
    return text


def coerce_all(raw: Mapping[str, Any]) -> dict[str, Value]:
    return {name: coerce(name, value) for name, value in raw.items()}
