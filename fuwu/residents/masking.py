"""What staff without a need to know see of a name (the identity number's mask is ``IdNumber.masked``)."""

from __future__ import annotations

# Two-character surnames (复姓) still in use; the rest of the name is hidden after them.
COMPOUND_SURNAMES = frozenset(
    "欧阳 上官 司马 东方 独孤 南宫 夏侯 诸葛 尉迟 皇甫 公孙 慕容 长孙 宇文 司徒 司空 令狐 轩辕 "  # noqa: SIM905 - a table
    "端木 百里 呼延 西门 东郭 钟离 澹台 公冶 宗政 濮阳 太史 申屠 闻人 赫连 万俟 拓跋 第五".split()
)


def mask_name(name: str) -> str:
    """The surname and one ``*``, whatever the given name's length (so its length is not shown either)."""
    name = name.strip()
    if not name:
        return ""
    if name[:2] in COMPOUND_SURNAMES and len(name) > 2:
        return name[:2] + "*"
    return name[0] + "*"
