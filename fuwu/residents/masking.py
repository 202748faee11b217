"""What staff without a need to know see of a name or a phone (the identity number's mask is ``IdNumber.masked``)."""

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


def mask_phone(phone: str) -> str:
    """A stored number (``phones.parse``) with only its last 4 digits and its prefix shown.

    A mobile keeps its first 3 digits (the carrier's block, ``138****5678``); a landline its area code
    (``0576-****3456``); an extension is not shown.
    """
    if not phone:
        return ""
    if "-" not in phone:
        return f"{phone[:3]}****{phone[-4:]}"
    area, local = phone.split("-")[:2]
    return f"{area}-****{local[-4:]}"


def mask_email(address: str) -> str:
    """An e-mail address with its first character and its domain shown: ``z***@example.com``."""
    local, at, domain = address.rpartition("@")
    if not at:
        return mask_phone(address)
    return f"{local[:1]}***@{domain}"
