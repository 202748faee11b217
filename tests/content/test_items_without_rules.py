"""The list of items without a rule in docs/rules.md is exactly the items of standards/ that have no rule."""

from __future__ import annotations

import re

from fuwu.eligibility.facts import FACTS
from fuwu.standards.parsing import parse_many
from tests.conftest import REPO

SECTION = "## Items without a rule"
KINDS = ("Event", "Health information", "Status not held", "Facility", "Not offered here", "Not a resident service")


def rows() -> list[list[str]]:
    """The cells of each row of the table under SECTION in docs/rules.md (header first)."""
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert SECTION in text, f"docs/rules.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1]
    section = re.split(r"^#{1,2} ", section, maxsplit=1, flags=re.MULTILINE)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[:2] == ["Standard", "Item id"], header
    assert set(lines[1].replace("|", "").replace(" ", "")) <= {"-", ":"}, lines[1]
    table = [header]
    for row in lines[2:]:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        assert len(cells) == len(header), row
        assert all(cells), f"empty cell in {row!r}"
        table.append(cells)
    return table


def documented() -> dict[str, str]:
    """Item id → standard id, from the table."""
    out: dict[str, str] = {}
    for cells in rows()[1:]:
        item = cells[1].strip("`")
        assert item not in out, f"{item} is listed twice"
        out[item] = cells[0]
    return out


def without_rule() -> dict[str, str]:
    """Item id → standard id, for every item in standards/ without a rule."""
    return {
        item.id: parsed.document.id
        for parsed in parse_many([REPO / "standards"])
        for item in parsed.document.items
        if item.target_group.rule is None
    }


def test_docs_list_exactly_the_items_without_a_rule() -> None:
    listed, actual = documented(), without_rule()
    assert sorted(set(actual) - set(listed)) == [], "items without a rule missing from docs/rules.md"
    assert sorted(set(listed) - set(actual)) == [], "items listed in docs/rules.md that have a rule (or do not exist)"
    assert listed == actual, "the standard named in docs/rules.md differs from the item's own"


def test_every_reason_is_one_of_the_kinds_and_names_no_fact_the_vocabulary_has() -> None:
    for cells in rows()[1:]:
        item, why = cells[1], cells[3]
        kind = why.split(":", 1)[0]
        assert kind in KINDS, f"{item}: the reason starts with {kind!r}, not one of {KINDS}"
        named = re.findall(r"`([a-z_]+)`", why)
        if kind == "Status not held":
            assert named, f"{item}: name the fact that would be needed, in backticks"
        held = sorted(set(named) & set(FACTS))
        assert not held, f"{item}: {held} is in the facts vocabulary now; write the item's rule and remove the row"
