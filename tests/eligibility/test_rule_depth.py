"""A rule nested thousands deep is a problem at its file and line, not a crash of ``fuwu standards validate``."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fuwu.eligibility.rules import MAX_PARENTHESES, RuleError, parse

DEEP = {
    "parentheses": "(" * 3000 + "age >= 80" + ")" * 3000,
    "a chain of AND": " AND ".join(["age >= 80"] * 3000),
    "NOT upon NOT": "NOT " * 3000 + "lives_alone",
}


@pytest.mark.parametrize("expr", DEEP.values(), ids=DEEP.keys())
def test_validate_names_the_file_and_line_of_a_rule_nested_too_deep(
    write_standard: Callable[..., Path], expr: str
) -> None:
    path = write_standard('{expr: "age >= 80"', f'{{expr: "{expr}"')
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if expr[:40] in text)
    err = io.StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("standards", "validate", str(path), stdout=io.StringIO(), stderr=err)
    [problem] = [e for e in err.getvalue().splitlines() if "deep" in e]
    assert problem.startswith(f"{path}:{line}: ")
    assert "split the rule into named criteria or simplify it" in problem


def test_ordinary_nesting_is_fine() -> None:
    nested = "(" * MAX_PARENTHESES + "age >= 80" + ")" * MAX_PARENTHESES
    assert parse(nested, parameters={}).facts == frozenset({"age"})
    with pytest.raises(RuleError):
        parse("(" + nested + ")", parameters={})
    # A parenthesis inside a string is not nesting.
    assert parse("hukou_area <> '" + "(" * 100 + "'", parameters={}).facts == frozenset({"hukou_area"})
