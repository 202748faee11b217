"""``fuwu population generate``: a synthetic, reproducible resident population of Taizhou as Parquet.

Contract:

- Columns are ``person_id``, ``household_id``, ``name``, ``id_number``, then every base fact of
  ``fuwu.eligibility.facts.BASE_FACTS`` in its order (``household_id`` once, in front). ``schema()``
  is the one definition of names and Arrow types; a base fact without a column here is an error.
- As facts.py says, null means *unknown*, never "none": "does not apply" is the vocabulary's
  ``none`` (no certificate, not enrolled, not low-income, no rural house), a grade of 0, or false.
  The one unknown is ``care_need`` of people never assessed (most people under 60).
- The same size, seed and as-of date give the same rows in the same order, and with the same
  pyarrow the same bytes. Randomness comes from one PCG64 stream per county spawned from the seed.
- Streaming: households are drawn and written in batches of at most ``BATCH_PERSONS`` persons, one
  Parquet row group each, so memory does not grow with the size.
- Counties get their census share of the size (largest remainder). Each batch's ages are an exact
  draw from the county's pyramid, matched rank for rank to the ages the household structure suggests,
  so the age shares hold at any size while heads stay older than their children.
- The file appears only when complete: it is written under a temporary name and renamed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from fuwu.eligibility import facts
from fuwu.population import PopulationError, names
from fuwu.population import parameters as P
from fuwu.population.areas import County, load_counties
from fuwu.population.columns import (
    DAY0,
    EPOCH,
    Vocabularies,
    codes,
    date_parts,
    decimal_from_fen,
    fixed_width_strings,
    full_years,
    id_numbers,
    take,
)
from fuwu.population.draws import Ints
from fuwu.population.households import ROLE_RELATION, Batch, assign_ages, draw_households
from fuwu.population.persons import (
    People,
    care_need,
    disability,
    family_doctor,
    house_grade,
    income_fen,
    low_income,
    orphan_status,
    residence,
    school,
    veteran_category,
    work_and_insurance,
)

__all__ = ["BATCH_PERSONS", "MAX_SIZE", "PopulationError", "generate", "schema"]

BATCH_PERSONS = 200_000
# The 3-digit sequence of an identity number allows 499 people of one sex born on one day in one
# county; far above the census density, but a size many times the census would run out.
MAX_SIZE = 30_000_000
METADATA_KEY = b"fuwu.population"

ARROW_TYPES: dict[facts.FactType, Any] = {
    facts.FactType.BOOLEAN: pa.bool_(),
    facts.FactType.INTEGER: pa.int64(),
    facts.FactType.DECIMAL: pa.decimal128(12, 2),
    facts.FactType.DATE: pa.date32(),
    facts.FactType.TEXT: pa.string(),
    facts.FactType.AREA: pa.string(),
}
# A grade 1–4 fits in a byte; keeps the 6.6-million-row file and its readers' memory smaller.
NARROWED_TYPES: dict[str, Any] = {"disability_grade": pa.int8()}
IDENTITY_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("person_id", pa.int64()),
    ("household_id", pa.string()),
    ("name", pa.string()),
    ("id_number", pa.string()),
)
UNIQUE_STRINGS = frozenset({"household_id", "name", "id_number"})
# Unknown for people without an ability assessment; every other column always has a value.
NULLABLE = frozenset({"care_need"})


def schema() -> Any:
    fields = [pa.field(name, type_, nullable=False) for name, type_ in IDENTITY_COLUMNS]
    for fact in facts.BASE_FACTS:
        if fact.name == "household_id":
            continue
        type_ = NARROWED_TYPES.get(fact.name, ARROW_TYPES[fact.type])
        fields.append(pa.field(fact.name, type_, nullable=fact.name in NULLABLE))
    return pa.schema(fields)


@dataclass
class _CountyState:
    """What must carry over between a county's batches to keep identifiers unique."""

    id_counters: npt.NDArray[np.int16]
    household_serials: Ints


def _batch_table(
    rng: np.random.Generator,
    county: County,
    persons: int,
    first_id: int,
    as_of: dt.date,
    state: _CountyState,
    vocab: Vocabularies,
) -> Any:
    b = draw_households(rng, county, persons, vocab.surname_p)
    m = len(b.hh)
    age_years = assign_ages(rng, b.age_guess, county.age_cdf)
    birth = (as_of - EPOCH).days - np.floor(age_years * 365.2425).astype(np.int64)
    p = People(batch=b, county=county, birth=birth, age=full_years(birth, as_of))

    # The order of these calls is part of the seed's meaning: each draws from the same stream.
    d = disability(rng, p)
    care = care_need(rng, p, d)
    s = school(rng, p, as_of)
    low = low_income(rng, p, d, care)
    inc = income_fen(rng, p, s, d, low)
    house = house_grade(rng, p, low)
    fd = family_doctor(rng, p, s, d)
    veteran = veteran_category(rng, p)
    home = residence(rng, p)
    name = _names(rng, b, birth, vocab)
    # Drawn after everything above, so that adding them left the earlier columns of a seed unchanged.
    work = work_and_insurance(rng, p, s, d, low, inc)
    orphan = orphan_status(rng, p)

    villages = pa.array(county.villages)
    columns: dict[str, Any] = {
        "person_id": pa.array(np.arange(first_id, first_id + m, dtype=np.int64)),
        "household_id": _household_ids(b, county, state),
        "name": name,
        "id_number": id_numbers(county.params.code, birth, b.female, state.id_counters, vocab.id_digits),
        "birth_date": pa.Array.from_buffers(pa.date32(), m, [None, pa.py_buffer(birth.astype(np.int32))]),
        "sex": vocab.text(facts.SEXES, codes(facts.SEXES, ("male", "female"))[b.female.astype(np.int64)]),
        "hukou_area": take(villages, p.village),
        "hukou_type": vocab.text(
            facts.HUKOU_TYPES, codes(facts.HUKOU_TYPES, ("rural", "urban"))[p.urban.astype(np.int64)]
        ),
        "residence_area": take(villages, home.village),
        # A village under a town or township (镇, 乡) is a villagers' committee; under a street (街道), a community.
        "lives_in_village": pa.array(np.array([k != "街道" for k in county.village_kind])[home.village]),
        "relation": vocab.text(facts.RELATIONS, codes(facts.RELATIONS, ROLE_RELATION)[b.role]),
        "lives_alone": pa.array(home.lives_alone),
        "disability_kind": vocab.text(facts.DISABILITY_KINDS, d.kind),
        "disability_grade": pa.array(d.grade.astype(np.int8), type=pa.int8()),
        "care_need": vocab.text(facts.CARE_NEEDS, care.code),
        "low_income_status": vocab.text(facts.LOW_INCOME, low.code),
        "veteran_category": vocab.text(facts.VETERAN_CATEGORIES, veteran),
        "school_stage": vocab.text(facts.SCHOOL_STAGES, s.stage),
        "boarding": pa.array(s.boarding),
        "fd_hypertension": pa.array(fd.hypertension),
        "fd_diabetes": pa.array(fd.diabetes),
        "fd_pregnant": pa.array(fd.pregnant),
        "fd_severe_mental": pa.array(fd.severe_mental),
        "house_grade": vocab.text(facts.HOUSE_GRADES, house),
        "income": decimal_from_fen(inc.fen),
        "employment_status": vocab.text(facts.EMPLOYMENT_STATUSES, work.employment),
        "pension_insurance": vocab.text(facts.INSURANCE_SCHEMES, work.pension),
        "medical_insurance": vocab.text(facts.INSURANCE_SCHEMES, work.medical),
        "orphan_status": vocab.text(facts.ORPHAN_STATUSES, orphan),
    }
    target = schema()
    missing = [f.name for f in target if f.name not in columns]
    if missing:
        raise PopulationError(f"no generator for column(s) {', '.join(missing)}: add them to fuwu.population")
    return pa.Table.from_arrays([columns[f.name] for f in target], schema=target)


def _household_ids(b: Batch, county: County, state: _CountyState) -> Any:
    """户号: the 12-digit hukou village code and a 6-digit serial within the village, per member."""
    n_hh = len(b.hh_type)
    order = np.argsort(b.hh_village, kind="stable")
    sorted_village = b.hh_village[order]
    starts = np.flatnonzero(np.r_[True, sorted_village[1:] != sorted_village[:-1]])
    rank = np.arange(n_hh) - np.repeat(starts, np.diff(np.r_[starts, n_hh]))
    serial = np.empty(n_hh, dtype=np.int64)
    serial[order] = rank + state.household_serials[sorted_village] + 1
    state.household_serials += np.bincount(b.hh_village, minlength=len(county.villages))
    if n_hh and int(serial.max()) > 999_999:
        raise PopulationError("more than 999,999 households in one village: the size is too large")
    village_ascii = np.array([list(code.encode("ascii")) for code in county.villages], dtype=np.uint8)
    ascii_ = np.empty((n_hh, 18), dtype=np.uint8)
    ascii_[:, :12] = village_ascii[b.hh_village]
    for j in range(6):
        ascii_[:, 12 + j] = serial // 10 ** (5 - j) % 10 + ord("0")
    return fixed_width_strings(ascii_).take(pa.array(b.hh))


def _names(rng: np.random.Generator, b: Batch, birth: Ints, vocab: Vocabularies) -> Any:
    """Surname plus one or two characters from the pool for the person's sex and generation."""
    m = len(b.hh)
    younger = date_parts(birth)[0] >= names.BORN_YOUNGER_FROM
    pool = b.female * 2 + younger
    start = vocab.pool_start[pool]
    pool_size = vocab.pool_size[pool]
    first = start + (rng.random(m) * pool_size).astype(np.int64)
    two = rng.random(m) < np.where(younger, names.TWO_CHARACTER_GIVEN[1], names.TWO_CHARACTER_GIVEN[0])
    second = np.where(two, start + (rng.random(m) * pool_size).astype(np.int64), 0)
    return pc.binary_join_element_wise(
        take(vocab.surnames, b.surname), take(vocab.given, first), take(vocab.given, second), ""
    )


# --- Writing --------------------------------------------------------------------------------------


def generate(
    *,
    size: int,
    seed: int,
    out: Path,
    areas_path: Path,
    as_of: dt.date = P.DEFAULT_AS_OF,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Write ``size`` persons to ``out`` (Parquet); return the number of row groups.

    Raises PopulationError before writing anything for a bad size, as-of date or path; on any failure
    the partial temporary file is removed and an existing ``out`` is left as it was.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise PopulationError(f"--size must be a positive number of persons; got {size}")
    if size > MAX_SIZE:
        raise PopulationError(f"--size may be at most {MAX_SIZE:,} (identity-number sequences run out); got {size:,}")
    if seed < 0:
        raise PopulationError(f"--seed must be zero or positive; got {seed}")
    if as_of > dt.date.today():  # noqa: DTZ011 - a calendar date is enough; identity numbers refuse future births
        raise PopulationError(f"--as-of {as_of} is in the future")
    earliest = dt.date(DAY0.year + P.MAX_AGE + 1, 1, 1)
    if as_of < earliest:
        # The oldest would be born before 1900, which identity numbers cannot carry.
        raise PopulationError(f"--as-of must be {earliest} or later; got {as_of}")
    counties = load_counties(areas_path, size)
    out = Path(out)
    if out.is_dir():
        raise PopulationError(f"cannot write {out}: it is a directory")
    temporary = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        handle = temporary.open("wb")
    except OSError as exc:
        raise PopulationError(f"cannot write {out}: {exc.strerror or exc}") from exc

    metadata = {"seed": seed, "size": size, "as_of": as_of.isoformat(), "batch_persons": BATCH_PERSONS}
    target = schema().with_metadata({METADATA_KEY: json.dumps(metadata, sort_keys=True).encode()})
    # Dictionary encoding pays only for the columns with few distinct values (vocabularies and area
    # codes); on names and identity numbers it costs time and is then abandoned.
    few_values = [f.name for f in target if f.type == pa.string() and f.name not in UNIQUE_STRINGS]
    row_groups = 0
    try:
        with (
            handle,
            pq.ParquetWriter(
                handle, target, compression="zstd", compression_level=1, use_dictionary=few_values
            ) as writer,
            ThreadPoolExecutor(max_workers=1) as background,
        ):
            # Encoding and compressing one batch (outside the GIL) overlaps drawing the next. At most
            # one batch waits to be written, so memory stays bounded.
            pending: Future[None] | None = None
            pending_persons = 0
            for table in _tables(counties, seed=seed, as_of=as_of):
                if pending is not None:
                    pending.result()
                    if progress is not None:
                        progress(pending_persons)
                pending = background.submit(writer.write_table, table)
                pending_persons = table.num_rows
                row_groups += 1
            if pending is not None:
                pending.result()
                if progress is not None:
                    progress(pending_persons)
        os.replace(temporary, out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return row_groups


def _tables(counties: Sequence[County], *, seed: int, as_of: dt.date) -> Iterator[Any]:
    """The batches in file order: county by county, at most BATCH_PERSONS persons each."""
    vocab = Vocabularies(as_of)
    # One stream per county: a county's rows depend only on the seed and its own size.
    streams = np.random.SeedSequence(seed).spawn(len(counties))
    next_id = 1
    for county, stream in zip(counties, streams, strict=True):
        rng = np.random.Generator(np.random.PCG64(stream))
        state = _CountyState(
            id_counters=np.zeros(((as_of - DAY0).days + 1) * 2, dtype=np.int16),
            household_serials=np.zeros(len(county.villages), dtype=np.int64),
        )
        left = county.persons
        while left > 0:
            persons = min(BATCH_PERSONS, left)
            yield _batch_table(rng, county, persons, next_id, as_of, state, vocab)
            next_id += persons
            left -= persons
