"""Persona tests: people described from the standards' own words, and what each is entitled to.

The cases are data (``personas/*.yaml``), written from the standard texts; this runner checks every one
through the one-resident path.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from fuwu.eligibility.explain import explain
from fuwu.eligibility.ruleset import ItemRule, open_to_everyone, rules_from_document
from fuwu.standards.parsing import parse_many
from tests.conftest import REPO

PERSONAS = Path(__file__).parent / "personas"


def all_rules() -> dict[str, ItemRule]:
    rules: dict[str, ItemRule] = {}
    for parsed in parse_many([REPO / "standards"]):
        for rule in rules_from_document(parsed.document):
            rules[rule.item] = rule
    return rules


RULES = all_rules()


def cases() -> list[Any]:
    out = []
    for path in sorted(PERSONAS.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            out.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return out


@pytest.mark.parametrize("case", cases())
def test_persona(case: dict[str, Any]) -> None:
    as_of = case["as_of"] if isinstance(case["as_of"], dt.date) else dt.date.fromisoformat(case["as_of"])
    facts = {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in case["facts"].items()}
    expected = case["expect"]
    unknown_items = sorted(set(expected) - set(RULES))
    assert not unknown_items, f"no rule for {unknown_items}"
    results = {r.item: r for r in explain(facts, rules=[RULES[i] for i in expected], as_of=as_of)}
    for item, want in expected.items():
        want = want if isinstance(want, dict) else {"status": want}
        got = results[item]
        reasons = [(c.name, c.passed, c.missing) for c in got.criteria]
        assert got.status == want["status"], f"{item}: {got.status} ≠ {want['status']}; {reasons}"
        if "amount" in want:
            assert got.amount == Decimal(str(want["amount"])), f"{item}: amount {got.amount} ≠ {want['amount']}"


def test_every_rule_has_personas() -> None:
    covered: dict[str, set[str]] = {}
    for param in cases():
        case = param.values[0]
        for item, want in case["expect"].items():
            status = want["status"] if isinstance(want, dict) else want
            covered.setdefault(item, set()).add(status)
    # An item open to everyone is never "not eligible": its other answer is "unknown" (no birth date).
    missing = sorted(
        i
        for i, rule in RULES.items()
        if not ({"eligible", "unknown"} if open_to_everyone(rule) else {"eligible", "not_eligible"})
        <= covered.get(i, set())
    )
    assert not missing, f"items without both an eligible and a not-eligible (or unknown) persona: {missing}"


def test_items_open_to_everyone_are_only_the_ones_that_ask_for_nothing_but_an_age() -> None:
    everyone = sorted(i for i, rule in RULES.items() if open_to_everyone(rule))
    assert "gb-health-records" in everyone
    assert "pc-library-free-services" in everyone
    assert "sv-fitness-testing" not in everyone  # aged 3 or over
    assert "gb-elderly-health-management" not in everyone
