"""Checking resident rows before anything is written: each row alone, then the rows together and against the registry.

Used by both the spreadsheet importer and the Parquet loader, so a synthetic
population passes exactly the checks a clerk's list does. Every problem is a
``RowError`` that names the row as the user sees it (header = row 1), the
column as it is headed in their file, what is wrong and how to fix it.
Identity numbers never appear in the messages: reports are stored and
downloaded.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.utils import timezone

from fuwu.areas.models import Area, AreaLevel
from fuwu.common.batches import among
from fuwu.residents import crypto, idnumber
from fuwu.residents.columns import CONTACT_NAMES, REQUIRED, CellError, coerce
from fuwu.residents.models import Household, Person
from fuwu.residents.permissions import officer_prefix

# PostgreSQL allows at most 65,535 parameters in one statement; lookups go in slices well below it.
LOOKUP_CHUNK = 5000
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class RowError:
    row: int  # as the user sees it: the header is row 1; 0 is the file as a whole
    column: str  # as headed in the user's file; "" for the row or file as a whole
    problem: str
    fix: str

    def __str__(self) -> str:
        where = "file" if self.row == 0 else f"row {self.row}"
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.problem}; {self.fix}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "problem": self.problem, "fix": self.fix}


@dataclass
class Candidate:
    """A row that passed its own checks, ready to be written."""

    row: int
    number: idnumber.IdNumber
    lookup: str  # crypto.lookup_hash(number)
    name: str
    facts: dict[str, Any]  # base facts given (or derived from the number); household_id among them
    id_area_differs: bool
    id_from_15_digits: bool
    source_id: str = ""
    # Contact details given in the row (``columns.CONTACT_NAMES``), in clear until written; None = empty cell.
    contact: dict[str, str | None] = field(default_factory=dict)

    @property
    def household_id(self) -> str:
        return str(self.facts["household_id"])

    @property
    def hukou_area(self) -> str:
        return str(self.facts["hukou_area"])


@dataclass(frozen=True)
class Context:
    """What the checks need from outside the row: the areas known, and the actor's scope."""

    city_prefixes: frozenset[str]
    known_counties: frozenset[str]
    officer_prefix: str | None  # None: not limited (the command line)
    today: dt.date

    @classmethod
    def load(cls, *, actor: Any) -> Context:
        cities = Area.objects.filter(level=AreaLevel.CITY).values_list("code", flat=True)
        counties = Area.objects.filter(level=AreaLevel.COUNTY).values_list("code", flat=True)
        return cls(
            city_prefixes=frozenset(c[:4] for c in cities),
            known_counties=frozenset(counties),
            officer_prefix=officer_prefix(actor),
            today=timezone.localdate(),
        )


_REQUIRED_FIX = {
    "name": "write the name as on the ID card",
    "id_number": "write the 18-character identity number (or the old 15-digit one)",
    "household_id": "write the household number (户号) from the hukou booklet",
    "hukou_area": "write the 12-digit code of the hukou village or community",
}


def check_row(
    values: Mapping[str, Any], *, row: int, headers: Mapping[str, str], ctx: Context, source_id: str = ""
) -> tuple[Candidate | None, list[RowError]]:
    """One row on its own. ``values`` maps column names to raw cells; only columns in the file are keys."""
    errors: list[RowError] = []
    typed: dict[str, Any] = {}
    for column, raw in values.items():
        try:
            typed[column] = coerce(column, raw)
        except CellError as exc:
            errors.append(RowError(row, headers[column], exc.problem, exc.fix))
            typed[column] = None
    bad = {e.column for e in errors}
    for column in REQUIRED:
        if typed.get(column) is None and headers.get(column, column) not in bad:
            errors.append(RowError(row, headers.get(column, column), "empty", _REQUIRED_FIX[column]))
    errors.extend(_emergency_contact_complete(typed, row=row, headers=headers, bad=bad))
    number: idnumber.IdNumber | None = None
    if typed.get("id_number") is not None:
        try:
            number = idnumber.parse(typed["id_number"], today=ctx.today)
        except idnumber.IdNumberError as exc:
            errors.append(RowError(row, headers["id_number"], exc.problem, exc.fix))
    hukou_area = typed.get("hukou_area")
    if hukou_area is not None:
        if ctx.officer_prefix is not None and not hukou_area.startswith(ctx.officer_prefix):
            errors.append(
                RowError(
                    row,
                    headers["hukou_area"],
                    f"{hukou_area} is outside your area ({ctx.officer_prefix}…)",
                    "you can import residents of your own area only; check the code or leave this row to that area",
                )
            )
        elif hukou_area[:4] in ctx.city_prefixes and hukou_area[:6] not in ctx.known_counties:
            errors.append(
                RowError(
                    row,
                    headers["hukou_area"],
                    f"{hukou_area} is not in any of this city's counties",
                    "the first 6 digits are the county; check the code",
                )
            )
    if number is None or errors:
        return None, errors
    check = idnumber.cross_check(
        number,
        birth_date=typed.get("birth_date"),
        sex=typed.get("sex"),
        hukou_area=hukou_area,
        city_prefixes=ctx.city_prefixes,
        known_counties=ctx.known_counties,
    )
    errors.extend(RowError(row, headers.get(f.field, f.field), f.problem, f.fix) for f in check.errors)
    if errors:
        return None, errors
    contact = {k: typed.pop(k) for k in CONTACT_NAMES if k in typed}
    facts = {k: v for k, v in typed.items() if k not in {"name", "id_number"}}
    # Left empty (or absent), date of birth and sex are taken from the number, which states them by law.
    facts["birth_date"] = number.birth_date
    facts["sex"] = number.sex
    candidate = Candidate(
        row=row,
        number=number,
        lookup=crypto.lookup_hash(number),
        name=typed["name"],
        facts=facts,
        id_area_differs=check.area_differs,
        id_from_15_digits=idnumber.is_legacy(typed["id_number"]),
        source_id=source_id,
        contact=contact,
    )
    return candidate, []


def _emergency_contact_complete(
    typed: Mapping[str, Any], *, row: int, headers: Mapping[str, str], bad: set[str]
) -> list[RowError]:
    """An emergency contact is someone to call: given at all, it needs a name and a phone (in files that have both)."""
    given = [
        k for k in ("emergency_contact_name", "emergency_contact_relation", "emergency_contact_phone") if typed.get(k)
    ]
    if not given:
        return []
    errors = []
    for column, fix in (
        ("emergency_contact_name", "write the emergency contact's name, or leave the emergency contact empty"),
        ("emergency_contact_phone", "write the emergency contact's phone, or leave the emergency contact empty"),
    ):
        if column in headers and typed.get(column) is None and headers[column] not in bad:
            errors.append(RowError(row, headers[column], "empty, but the row has an emergency contact", fix))
    return errors


@dataclass(frozen=True)
class Existing:
    pk: int
    name: str
    hukou_area: str
    household_id: str
    relation: str | None
    source_import_id: int | None
    source_id: str


def old_key_aliases(candidates: Iterable[Candidate]) -> dict[str, str]:
    """During a key rotation: each number's hash under an old key → its hash under the current one."""
    if not crypto.old_keys():
        return {}
    return {old: c.lookup for c in candidates for old in crypto.lookup_hashes(c.number)[1:]}


def existing_persons(lookups: Iterable[str], aliases: Mapping[str, str] | None = None) -> dict[str, Existing]:
    """Registered residents by (current-key) hash; ``aliases`` also finds those still under an old key."""
    aliases = dict(aliases or {})
    found: dict[str, Existing] = {}
    for query in among(Person.objects.all(), "id_number_hash", [*lookups, *aliases]):
        for h, pk, name, area, household, relation, load, source_id in query.values_list(
            "id_number_hash", "pk", "name", "hukou_area", "household_id", "relation", "source_import_id", "source_id"
        ):
            found[aliases.get(h, h)] = Existing(pk, name, area, str(household), relation, load, source_id)
    return found


def existing_households(ids: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for query in among(Household.objects.all(), "household_id", ids):
        found.update(query.values_list("household_id", "hukou_area"))
    return found


def check_together(
    candidates: list[Candidate], *, headers: Mapping[str, str], ctx: Context, load_id: int | None = None
) -> tuple[list[RowError], dict[str, Existing], dict[str, str]]:
    """Rows against each other and against the registry. Returns the errors and what was looked up.

    ``load_id`` is the ``PersonImport`` a batched load is writing: residents it
    has already written in earlier batches are then duplicates, not updates.
    Earlier batches are checked through the database rather than kept in
    memory, which would grow with a multi-million-person file.
    """
    errors: list[RowError] = []
    id_col = headers["id_number"]

    rows_by_hash: dict[str, list[int]] = defaultdict(list)
    for c in candidates:
        rows_by_hash[c.lookup].append(c.row)
    for c in candidates:
        others = [r for r in rows_by_hash[c.lookup] if r != c.row]
        if others:
            errors.append(
                RowError(
                    c.row,
                    id_col,
                    f"the same number as row {', '.join(map(str, others))}",
                    "each resident appears once; delete the duplicate or correct the number",
                )
            )

    existing = existing_persons(rows_by_hash, old_key_aliases(candidates))
    households = existing_households({c.household_id for c in candidates})
    for c in candidates:
        match = existing.get(c.lookup)
        if match is None:
            continue
        if load_id is not None and match.source_import_id == load_id:
            errors.append(
                RowError(
                    c.row,
                    id_col,
                    f"the same number as an earlier row (person_id {match.source_id})"
                    if match.source_id
                    else "the same number as an earlier row of this file",
                    "each resident appears once; delete the duplicate or correct the number",
                )
            )
        elif ctx.officer_prefix is not None and not match.hukou_area.startswith(ctx.officer_prefix):
            errors.append(
                RowError(
                    c.row,
                    id_col,
                    "this resident is registered in another area",
                    "a move between areas is not made by import; ask the registry office",
                )
            )
        elif match.name != c.name:
            errors.append(
                RowError(
                    c.row,
                    headers["name"],
                    "this identity number is already registered under another name",
                    "check the number and the name against the ID card",
                )
            )

    area_col = headers["hukou_area"]
    first_area: dict[str, tuple[str, int]] = {}
    for c in candidates:
        registered = households.get(c.household_id)
        if registered is not None and registered != c.hukou_area:
            errors.append(
                RowError(
                    c.row,
                    area_col,
                    f"household {c.household_id} is registered in {registered}, not {c.hukou_area}",
                    "check the 户号 and the hukou area; a household's move is not made by import",
                )
            )
            continue
        first = first_area.setdefault(c.household_id, (c.hukou_area, c.row))
        if first[0] != c.hukou_area:
            errors.append(
                RowError(
                    c.row,
                    area_col,
                    f"row {first[1]} puts household {c.household_id} in {first[0]}, this row in {c.hukou_area}",
                    "members of one household share its hukou address; correct one of them",
                )
            )

    if "relation" in headers:
        head_row: dict[str, int] = {}
        for c in candidates:
            if c.facts.get("relation") != "head":
                continue
            first_row = head_row.setdefault(c.household_id, c.row)
            if first_row != c.row:
                errors.append(
                    RowError(
                        c.row,
                        headers["relation"],
                        f"row {first_row} is already the head (户主) of household {c.household_id}",
                        "a household has one head; correct the relation",
                    )
                )
        errors.extend(heads_against_registry(candidates, headers=headers, existing=existing))
    return errors, existing, households


def heads_against_registry(
    candidates: list[Candidate], *, headers: Mapping[str, str], existing: Mapping[str, Existing]
) -> list[RowError]:
    """A new head where the registry has another one, unless these rows also demote the current head."""
    if "relation" not in headers:
        return []
    demoted = {existing[c.lookup].pk for c in candidates if c.lookup in existing and c.facts.get("relation") != "head"}
    heads = [c for c in candidates if c.facts.get("relation") == "head"]
    aliases = old_key_aliases(heads)
    current: dict[str, tuple[int, str]] = {}
    for query in among(Person.objects.filter(relation="head"), "household_id", [c.household_id for c in heads]):
        for household, pk, lookup in query.values_list("household_id", "pk", "id_number_hash"):
            current[str(household)] = (pk, aliases.get(lookup, lookup))
    errors = []
    for c in heads:
        now = current.get(c.household_id)
        if now is not None and now[1] != c.lookup and now[0] not in demoted:
            errors.append(
                RowError(
                    c.row,
                    headers["relation"],
                    f"household {c.household_id} already has a head (户主) in the registry",
                    "correct the relation, or include the current head's row with their new relation",
                )
            )
    return errors
