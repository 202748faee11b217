"""Resident identity numbers (公民身份号码), GB 11643—1999.

18 characters: a 6-digit area code, an 8-digit birth date, a 3-digit sequence
(odd for men, even for women) and a check character computed with ISO 7064
MOD 11-2 (``X`` stands for 10). Legacy 15-digit numbers have a 2-digit year
and no check character; they are converted by inserting "19" and computing it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# First two digits: the province-level division (GB/T 2260).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


class IdNumberError(ValueError):
    """Why a string is not a valid identity number, in words a clerk can act on."""


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class IdNumber:
    value: str  # always 18 characters, upper-case X

    @property
    def area_code(self) -> str:
        return self.value[:6]

    @property
    def birth_date(self) -> dt.date:
        return dt.datetime.strptime(self.value[6:14], "%Y%m%d").date()  # noqa: DTZ007 - a date, no time zone

    @property
    def sex(self) -> str:
        return "male" if int(self.value[16]) % 2 else "female"

    def masked(self) -> str:
        """At most the first 6 and last 4 characters visible (GB/T 35273 de-identification on screen)."""
        return self.value[:6] + "*" * 8 + self.value[14:]

    def __str__(self) -> str:
        return self.value


def parse(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and normalise; raise IdNumberError saying what is wrong."""
    value = re.sub(r"\s", "", str(raw)).upper()
    if len(value) == 15:
        if not value.isdigit():
            raise IdNumberError("a 15-digit number has digits only")
        value = value[:6] + "19" + value[6:]
        value += check_char(value)
    if len(value) != 18:
        raise IdNumberError(f"an identity number has 18 characters (or 15 for the old kind); this has {len(value)}")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise IdNumberError("the first 17 characters are digits and the last is a digit or X")
    if value[:2] not in PROVINCES:
        raise IdNumberError(f"area code {value[:6]} does not start with a province code")
    try:
        birth = dt.datetime.strptime(value[6:14], "%Y%m%d").date()  # noqa: DTZ007 - a date, no time zone
    except ValueError as exc:
        raise IdNumberError(f"{value[6:14]} is not a real date of birth") from exc
    if birth.year < 1900 or birth > (today or dt.date.today()):  # noqa: DTZ011 - a calendar date is enough here
        raise IdNumberError(f"date of birth {birth} is out of range")
    expected = check_char(value[:17])
    if value[17] != expected:
        raise IdNumberError(f"the check character is {value[17]} but should be {expected}; a digit was mistyped")
    return IdNumber(value)


def make(area_code: str, birth_date: dt.date, sequence: int) -> IdNumber:
    """Build a valid number (synthetic data and tests). ``sequence`` 0–999; odd for men."""
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return IdNumber(first17 + check_char(first17))
