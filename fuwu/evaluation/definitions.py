"""Indicator definitions, parsed and checked: the load-time half of the engine (no database).

``indicator_problems`` runs when a standard file is read (``fuwu standards validate``), so a definition
naming an unknown view or column, or an expression outside the rule language, is reported with the file
and line. ``definition_of`` gives the engine the same checked expressions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fuwu.eligibility.rules import Expression, ParameterTable, RuleError, Vocabulary, parse
from fuwu.evaluation.catalog import VIEWS, View
from fuwu.standards.schema import IndicatorComputation, StandardDocument

Path_ = tuple[str | int, ...]

PERIODS = ("month", "quarter", "year")
LEVELS = ("city", "county", "township", "village")


@dataclass(frozen=True)
class Definition:
    """One indicator's computation, checked: the view and the two expressions."""

    key: str
    view: View
    numerator: Expression
    denominator: Expression | None
    period: str
    area_level: str
    percent: bool

    @property
    def periods(self) -> tuple[str, ...]:
        """The indicator's period and every longer one."""
        return PERIODS[PERIODS.index(self.period) :]

    @property
    def levels(self) -> tuple[str, ...]:
        """The indicator's finest area level and every coarser one."""
        return LEVELS[: LEVELS.index(self.area_level) + 1]


def _vocabulary(view: View) -> Vocabulary:
    return Vocabulary(view.columns, what=f"column of {view.name}", where="docs/evaluation.md")


def definition_of(
    key: str, computation: IndicatorComputation, *, parameters: ParameterTable, unit: str | None
) -> Definition:
    """The checked definition; raises RuleError (with ``token``) or KeyError for an unknown view."""
    view = VIEWS[computation.view]
    vocabulary = _vocabulary(view)
    numerator = parse(computation.numerator, parameters=parameters, vocabulary=vocabulary)
    denominator = (
        parse(computation.denominator, parameters=parameters, vocabulary=vocabulary)
        if computation.denominator
        else None
    )
    return Definition(
        key, view, numerator, denominator, computation.period, computation.area_level, percent=unit == "percent"
    )


def indicator_problems(document: StandardDocument) -> list[tuple[Path_, str]]:
    """Every indicator computation in the document that cannot be accepted, as (path, message)."""
    from fuwu.eligibility.ruleset import parameter_table  # the rules' own reading of the parameters

    parameters = parameter_table(document)
    problems: list[tuple[Path_, str]] = []
    for i, indicator in enumerate(document.indicators):
        computation = indicator.computation
        if computation is None:
            continue
        base: Path_ = ("indicators", i, "computation")
        if computation.view not in VIEWS:
            problems.append(
                (
                    (*base, "view"),
                    f"indicator {indicator.id!r}: no data view {computation.view!r}; "
                    f"published views: {', '.join(sorted(VIEWS))} (docs/evaluation.md)",
                )
            )
            continue
        vocabulary = _vocabulary(VIEWS[computation.view])
        for part in ("numerator", "denominator"):
            text: Any = getattr(computation, part)
            if text is None:
                continue
            try:
                parse(text, parameters=parameters, vocabulary=vocabulary)
            except RuleError as error:
                problems.append(((*base, part), f"indicator {indicator.id!r}, {part}: {error} (at: {error.token!r})"))
    return problems
