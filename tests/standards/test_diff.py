from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fuwu.standards.diff import inline_diff, version_diff
from fuwu.standards.models import StandardVersion
from fuwu.standards.parsing import parse_many
from fuwu.standards.services import standards_load
from tests.conftest import MINI

pytestmark = pytest.mark.django_db


def test_clause_level_diff(write_standard: Callable[..., Path]) -> None:
    standards_load(parsed=parse_many([MINI]), actor=None)
    text = MINI.read_text(encoding="utf-8")
    text = text.replace("服务人员应持有健康证明。", "服务人员应持有有效的健康证明。")  # 5.1 changed
    text = text.replace(
        '      - number: "5.2"\n        kind: recommendation', '      - number: "5.2"\n        kind: requirement'
    )
    text = text.replace(
        '  - number: "6"\n', '  - number: "7"\n    title: {zh: 评价, en: Evaluation}\n  - number: "6"\n'
    )  # 7 added
    text = text.replace(
        "    title: {zh: 服务对象, en: Service recipients}\n", "    title: {zh: 服务对象范围, en: Recipients}\n"
    )
    changed = write_standard()
    changed.write_text(text, encoding="utf-8")
    standards_load(parsed=parse_many([changed]), actor=None)
    old, new = StandardVersion.objects.order_by("number")
    diff = version_diff(old, new)
    changes = {(c.number, c.change) for c in diff.clauses}
    assert changes == {("4", "changed"), ("5.1", "changed"), ("5.2", "changed"), ("7", "added")}
    by_number = {c.number: c for c in diff.clauses}
    assert by_number["5.2"].fields == ("kind",)
    assert "<ins>有效的</ins>" in by_number["5.1"].text_diff
    assert not diff.items
    assert not version_diff(old, old).clauses


def test_inline_diff_escapes_html() -> None:
    assert inline_diff("a<b", "a<c") == "a&lt;<del>b</del><ins>c</ins>"
