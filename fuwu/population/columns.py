"""Turning arrays into Arrow columns: vocabularies, identity numbers, fixed-width codes, money."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]

from fuwu.population import PopulationError, names
from fuwu.population.draws import Bools, Floats, Ints
from fuwu.residents.idnumber import CHECK_CHARS, WEIGHTS

DAY0 = dt.date(1900, 1, 1)  # the earliest birth date an identity number may carry
EPOCH = dt.date(1970, 1, 1)  # Arrow's date32 counts days from here


def full_years(birth: Ints, on: dt.date) -> Ints:
    """Age in full years (周岁) on ``on`` for epoch-day birth dates; 29 February counts from 1 March."""
    year, month, day = date_parts(birth)
    before = (month > on.month) | ((month == on.month) & (day > on.day))
    years: Ints = on.year - year - before.astype(np.int64)
    return years


class IdDigits:
    """Digits of dates and sequence numbers with their share of the GB 11643 weighted sum, made once.

    ``idnumber.make`` costs about 14 µs a call, some 90 s for the census size; looking digits up
    by date and sequence does the same arithmetic for a whole batch at once (tests compare the two).
    """

    def __init__(self, as_of: dt.date) -> None:
        days = np.arange((as_of - DAY0).days + 1) + (DAY0 - EPOCH).days
        year, month, day = date_parts(days)
        self.date_ascii, self.date_sum = self._table(year * 10_000 + month * 100 + day, width=8, at=6)
        self.sequence_ascii, self.sequence_sum = self._table(np.arange(1000), width=3, at=14)

    @staticmethod
    def _table(values: Ints, *, width: int, at: int) -> tuple[npt.NDArray[np.uint8], Ints]:
        digits = np.stack([values // 10 ** (width - 1 - j) % 10 for j in range(width)], axis=1)
        weighted: Ints = (digits * np.asarray(WEIGHTS[at : at + width])).sum(axis=1)
        return (digits + ord("0")).astype(np.uint8), weighted


def date_parts(days: Ints) -> tuple[Ints, Ints, Ints]:
    """Year, month and day of epoch-day dates."""
    dates = days.astype("datetime64[D]")
    month_start = dates.astype("datetime64[M]")
    year: Ints = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month: Ints = month_start.astype(np.int64) % 12 + 1
    day: Ints = (dates - month_start).astype(np.int64) + 1
    return year, month, day


def id_numbers(county_code: str, birth: Ints, female: Bools, counters: npt.NDArray[np.int16], tables: IdDigits) -> Any:
    """GB 11643 numbers: the same characters ``idnumber.make`` builds, one distinct per person.

    The k-th person of a sex born on a day in the county gets the k-th sequence number of that day.
    """
    n = len(birth)
    day_index = birth - (DAY0 - EPOCH).days
    key = day_index * 2 + female
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    k = np.empty(n, dtype=np.int64)
    k[order] = rank + counters[sorted_key]
    counters += np.bincount(key, minlength=len(counters)).astype(np.int16)
    if n and int(k.max()) >= 499:
        raise PopulationError("too many people born on one day in one county for 3-digit sequence numbers")
    # Spread the numbers over 0–498 rather than counting up from 1, as real ones look.
    slot = (k * 263 + day_index * 7919 + int(county_code)) % 499
    sequence = 2 * slot + np.where(female, 2, 1)  # odd for men (1–997), even for women (2–998)
    area_digits = np.array([int(c) for c in county_code])
    area_sum = int((area_digits * np.asarray(WEIGHTS[:6])).sum())
    check = (area_sum + tables.date_sum[day_index] + tables.sequence_sum[sequence]) % 11
    ascii_ = np.empty((n, 18), dtype=np.uint8)
    ascii_[:, :6] = area_digits + ord("0")
    ascii_[:, 6:14] = tables.date_ascii[day_index]
    ascii_[:, 14:17] = tables.sequence_ascii[sequence]
    ascii_[:, 17] = np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)[check]
    return fixed_width_strings(ascii_)


def fixed_width_strings(ascii_: npt.NDArray[np.uint8]) -> Any:
    n, width = ascii_.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(ascii_).ravel())]
    )


def decimal_from_fen(fen: Ints) -> Any:
    """decimal128(12, 2) from integer fen, exactly: the 16-byte little-endian two's complement of each value."""
    words = np.empty((len(fen), 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = fen >> 63
    return pa.Array.from_buffers(pa.decimal128(12, 2), len(fen), [None, pa.py_buffer(words)])


def take(vocabulary: Any, index: Ints, missing: Bools | None = None) -> Any:
    """Strings from a small vocabulary by index; null where ``missing``."""
    indices = pa.array(index, mask=missing) if missing is not None else pa.array(index)
    return vocabulary.take(indices)


class Vocabularies:
    """Lookup tables shared by every batch."""

    def __init__(self, as_of: dt.date) -> None:
        self.id_digits = IdDigits(as_of)
        self.surnames = pa.array([s for s, _ in names.SURNAMES])
        weights = np.array([w for _, w in names.SURNAMES])
        self.surname_p: Floats = weights / weights.sum()
        pools = (names.MALE_OLDER, names.MALE_YOUNGER, names.FEMALE_OLDER, names.FEMALE_YOUNGER)
        chars = ["", *"".join(pools)]
        self.given = pa.array(chars)
        starts = np.cumsum([1, *[len(p) for p in pools]])
        self.pool_start: Ints = starts[:-1]
        self.pool_size: Ints = np.array([len(p) for p in pools])
        self._text: dict[tuple[str, ...], Any] = {}

    def text(self, vocabulary: tuple[str, ...], codes: Ints) -> Any:
        """Strings from a facts vocabulary; code -1 (does not apply) is its ``none``, or null without one."""
        if vocabulary not in self._text:
            self._text[vocabulary] = pa.array(vocabulary)
        absent = codes < 0
        if "none" in vocabulary:
            return take(self._text[vocabulary], np.where(absent, vocabulary.index("none"), codes))
        return take(self._text[vocabulary], np.maximum(codes, 0), absent if absent.any() else None)


def codes(vocabulary: tuple[str, ...], values: Sequence[str]) -> Ints:
    """Positions of ``values`` in a facts vocabulary (so parameters name values, not positions)."""
    return np.array([vocabulary.index(v) for v in values], dtype=np.int64)
