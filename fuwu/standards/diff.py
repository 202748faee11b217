"""Clause-level differences between two versions of a standard."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from fuwu.standards.models import Clause, ServiceItem, StandardVersion

Change = Literal["added", "removed", "changed"]
CLAUSE_FIELDS = ("title_zh", "title_en", "text_zh", "text_en", "kind", "subject")


@dataclass(frozen=True)
class ClauseChange:
    number: str
    change: Change
    old: Clause | None
    new: Clause | None
    fields: tuple[str, ...] = ()

    @property
    def text_diff(self) -> SafeString:
        """The Chinese text with deletions and insertions marked, character by character."""
        return inline_diff(self.old.text_zh if self.old else "", self.new.text_zh if self.new else "")


@dataclass(frozen=True)
class ItemChange:
    key: str
    change: Change
    old: ServiceItem | None
    new: ServiceItem | None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class VersionDiff:
    old: StandardVersion
    new: StandardVersion
    clauses: list[ClauseChange]
    items: list[ItemChange]

    @property
    def unchanged(self) -> bool:
        return not self.clauses and not self.items


def inline_diff(old: str, new: str) -> SafeString:
    parts: list[str] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape(old[i1:i2]))
            continue
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(old[i1:i2])}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(new[j1:j2])}</ins>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped


def _number_key(number: str) -> tuple[tuple[int, str], ...]:
    # "10.2" sorts after "9.1"; annex letters sort after chapters.
    return tuple((int(p), "") if p.isdigit() else (10_000, p) for p in number.split("."))


def version_diff(old: StandardVersion, new: StandardVersion) -> VersionDiff:
    """What changed from ``old`` to ``new``, clause by clause (matched by number) and item by item."""
    old_clauses = {c.number: c for c in old.clauses.all()}
    new_clauses = {c.number: c for c in new.clauses.all()}
    clauses: list[ClauseChange] = []
    for number in sorted(old_clauses.keys() | new_clauses.keys(), key=_number_key):
        a, b = old_clauses.get(number), new_clauses.get(number)
        if a is None:
            clauses.append(ClauseChange(number, "added", None, b))
        elif b is None:
            clauses.append(ClauseChange(number, "removed", a, None))
        else:
            changed = tuple(f for f in CLAUSE_FIELDS if getattr(a, f) != getattr(b, f))
            if changed:
                clauses.append(ClauseChange(number, "changed", a, b, changed))
    old_items = {i.key: i for i in old.items.all()}
    new_items = {i.key: i for i in new.items.all()}
    items: list[ItemChange] = []
    for key in sorted(old_items.keys() | new_items.keys()):
        x, y = old_items.get(key), new_items.get(key)
        if x is None:
            items.append(ItemChange(key, "added", None, y))
        elif y is None:
            items.append(ItemChange(key, "removed", x, None))
        elif x.data != y.data:
            changed = tuple(sorted(k for k in x.data.keys() | y.data.keys() if x.data.get(k) != y.data.get(k)))
            items.append(ItemChange(key, "changed", x, y, changed))
    return VersionDiff(old, new, clauses, items)
