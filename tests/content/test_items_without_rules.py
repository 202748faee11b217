"""The list of items without a rule in docs/rules.md is exactly the items of standards/ that have no rule."""

from __future__ import annotations

import re

from fuwu.standards.parsing import parse_many
from tests.conftest import REPO

SECTION = "## Items without a rule"


def documented() -> dict[str, str]:
    """Item id → standard id, from the table under SECTION in docs/rules.md."""
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert SECTION in text, f"docs/rules.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1]
    section = re.split(r"^#{1,2} ", section, maxsplit=1, flags=re.MULTILINE)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header[:2] == ["Standard", "Item id"], header
    assert set(rows[1].replace("|", "").replace(" ", "")) <= {"-", ":"}, rows[1]
    out: dict[str, str] = {}
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        assert len(cells) == len(header), row
        assert all(cells), f"empty cell in {row!r}"
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
