"""Telephone numbers in the registry: a resident's contact phone and their emergency contact's.

Accepted, after folding full-width characters (``１３８``) and dropping spaces, dots and brackets:

* a mobile number: 11 digits starting 13–19 (``138 1234 5678``, ``138-1234-5678``), optionally after
  ``+86``, ``0086`` or ``86``;
* a landline: the area code (``0`` and 2 or 3 digits: ``010``, ``02x``, then ``0xxx`` such as Taizhou's
  ``0576``) and a local number of 7 or 8 digits that does not start with 0 or 1 (``0576-8812 3456``,
  ``(0576)88123456``, ``+86 576 88123456``), optionally with an extension after ``转``, ``分机``, ``ext``,
  ``x``, ``#`` or a second dash (``0576-88123456-801``).

Stored in one form, so equal numbers compare equal: ``13812345678``, ``0576-88123456``,
``0576-88123456-801``. A number without its area code is refused rather than guessed: the registry is
not only Taizhou's. Messages never repeat the number: import reports are stored and downloaded.
Pure (no Django), like ``idnumber``.
"""

from __future__ import annotations

import re
import unicodedata

EXAMPLES = "13812345678 or 0576-88123456"
_EXTENSION = re.compile(r"(.+?)(?:转|分机|ext\.?|x|#)([0-9]{1,6})", re.IGNORECASE)
_DASH_EXTENSION = re.compile(r"(0[0-9]{2,3}-?[2-9][0-9]{6,7})-([0-9]{1,6})")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS = re.compile(r"[\s().（）]")


class PhoneError(ValueError):
    """Why a cell is not a telephone number: ``problem`` and ``fix``, as ``IdNumberError`` has them."""

    def __init__(self, problem: str, fix: str) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}; {fix}")


def _area_code_length(digits: str) -> int:
    # 010 (Beijing) and 02x (the other large cities) have three digits, every other area code four.
    return 3 if digits.startswith(("010", "02")) else 4


def parse(raw: str) -> str:
    """The stored form of a mobile or landline number; ``PhoneError`` naming the problem otherwise."""
    written = unicodedata.normalize("NFKC", str(raw)).strip()
    text = _SEPARATORS.sub("", written)
    extension = ""
    if (match := _EXTENSION.fullmatch(text)) or (match := _DASH_EXTENSION.fullmatch(text)):
        text, extension = match.group(1), match.group(2)
    international = False
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text, international = text[len(prefix) :].lstrip("-"), True
    digits = text.replace("-", "")
    if not (digits.isascii() and digits.isdigit()):
        raise PhoneError(
            "not a telephone number: it has characters other than digits",
            f"write the number in digits, like {EXAMPLES}",
        )
    if len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        digits = digits[2:]
    if international and not digits.startswith(("0", "1")):
        digits = "0" + digits  # +86 576 … drops the trunk 0 of the area code
    if digits.startswith("1"):
        if extension:
            raise PhoneError("a mobile number has no extension", f"write the 11 digits, like {EXAMPLES}")
        if len(digits) != 11:
            raise PhoneError(
                f"the number has {len(digits)} digits; a mobile number has 11",
                "check the number against the person's phone",
            )
        if not _MOBILE.fullmatch(digits):
            raise PhoneError("not a mobile number (they start 13–19)", "check the first digits")
        return digits
    if not digits.startswith("0"):
        if 7 <= len(digits) <= 8:
            raise PhoneError("the number has no area code", "write the area code before the number, like 0576-88123456")
        raise PhoneError("not a telephone number", f"write a mobile or landline number, like {EXAMPLES}")
    split = _area_code_length(digits)
    area, local = digits[:split], digits[split:]
    if not (7 <= len(local) <= 8) or local[0] in "01":
        raise PhoneError(
            f"not a landline number: after the area code {area} there should be 7 or 8 digits, "
            "the first of them not 0 or 1",
            "check the number, like 0576-88123456",
        )
    return f"{area}-{local}" + (f"-{extension}" if extension else "")
