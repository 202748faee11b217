"""Coverage: for each standard, the share of townships and villages where it is implemented, village → city.

An area (a village, or a township) is *covered* by a standard when at least one institution of a kind the
standard governs sits in it or below it, and every such institution's latest published department result
against the standard (``Standing``) is a pass. Institutions above the area (a county centre) do not count for
it. A level is *measured* only where the standard governs a kind at or below it: villages when it governs a
village-level kind, townships when it governs a township- or village-level kind; otherwise the page shows a
dash, not a misleading zero.

The roll-up reads three narrow queries (areas, institutions, standings) once for every standard, and counts
in memory: for a city of 3,000 villages, 16 standards and 20,000 institutions it takes well under a second
(``benchmarks/compliance.py``). A much larger registry would move it to the background queue, nightly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils.translation import get_language

from fuwu.areas.models import Area, AreaLevel
from fuwu.compliance.checklists import declared_kinds
from fuwu.compliance.models import Institution, Pilot, Standing
from fuwu.standards.models import IN_FORCE, StandardVersion

LEVELS = (AreaLevel.CITY, AreaLevel.COUNTY, AreaLevel.TOWNSHIP, AreaLevel.VILLAGE)
ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True)
class Share:
    covered: int
    total: int

    @property
    def percent(self) -> Decimal | None:
        if not self.total:
            return None
        return (Decimal(100) * self.covered / self.total).quantize(ONE_DECIMAL, ROUND_HALF_UP)


@dataclass
class Row:
    area_id: int
    code: str
    name_zh: str
    name_en: str
    level: str
    parent_id: int | None
    institutions: int = 0
    passing: int = 0
    covered: bool | None = None  # for a township or village: is this area covered? None when not measured
    townships: Share | None = None  # below this area (counties, the city)
    villages: Share | None = None  # below this area (townships, counties, the city)
    pilot: str = ""  # the pilot's status here, if the area pilots the standard

    @property
    def name(self) -> str:
        english = (get_language() or "zh-hans").startswith("en")
        return self.name_en if english and self.name_en else self.name_zh


@dataclass
class StandardCoverage:
    key: str
    code: str
    title_zh: str
    title_en: str
    kinds: dict[str, str]  # kind id → level
    townships_measured: bool
    villages_measured: bool
    rows: list[Row] = field(default_factory=list)  # city, then each county followed by its townships and villages

    def by_level(self, level: str) -> list[Row]:
        return [r for r in self.rows if r.level == level]

    @property
    def title(self) -> str:
        english = (get_language() or "zh-hans").startswith("en")
        return self.title_en if english and self.title_en else self.title_zh

    @property
    def city(self) -> Row | None:
        return next((r for r in self.rows if r.level == AreaLevel.CITY), None)


@dataclass(frozen=True)
class AreaTree:
    rows: Sequence[tuple[int, str, str, str, str, int | None]]  # pk, code, name_zh, name_en, level, parent
    ancestors: dict[int, tuple[int, ...]]  # area → itself and every area above it
    level: dict[int, str]
    below: dict[int, tuple[int, int]]  # area → (townships, villages) at or below it

    @classmethod
    def load(cls) -> AreaTree:
        rows = list(Area.objects.order_by("code").values_list("pk", "code", "name_zh", "name_en", "level", "parent_id"))
        parent = {r[0]: r[5] for r in rows}
        level = {r[0]: r[4] for r in rows}
        ancestors: dict[int, tuple[int, ...]] = {}
        townships: dict[int, int] = defaultdict(int)
        villages: dict[int, int] = defaultdict(int)
        for pk, *_rest in rows:
            chain = []
            node: int | None = pk
            while node is not None:
                chain.append(node)
                node = parent.get(node)
            ancestors[pk] = tuple(chain)
            tally = (
                townships if level[pk] == AreaLevel.TOWNSHIP else villages if level[pk] == AreaLevel.VILLAGE else None
            )
            if tally is not None:
                for node in chain:
                    tally[node] += 1
        below = {pk: (townships[pk], villages[pk]) for pk in level}
        return cls(rows, ancestors, level, below)


def standards_with_kinds() -> list[StandardVersion]:
    """The versions in force that govern at least one kind of institution."""
    versions = StandardVersion.objects.filter(status__in=IN_FORCE).select_related("standard").defer("document")
    return [v for v in versions.order_by("standard__key") if declared_kinds(v)]


def rollup(versions: Iterable[StandardVersion], *, tree: AreaTree | None = None) -> list[StandardCoverage]:
    """Coverage of each version's standard, from one read of the areas, the institutions and the standings."""
    versions = list(versions)
    tree = tree or AreaTree.load()
    kinds_of = {v.standard_id: {k.id: k.level for k in declared_kinds(v)} for v in versions}
    wanted = {k for kinds in kinds_of.values() for k in kinds}
    institutions = list(Institution.objects.filter(active=True, kind__in=wanted).values_list("pk", "kind", "area_id"))
    passed = {
        (institution, standard): ok
        for institution, standard, ok in Standing.objects.filter(
            standard_id__in=list(kinds_of), institution__active=True
        ).values_list("institution_id", "standard_id", "passed")
    }
    pilots = {
        (standard, area): status
        for standard, area, status in Pilot.objects.filter(Q(standard_id__in=list(kinds_of))).values_list(
            "standard_id", "area_id", "status"
        )
    }
    by_kind: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for pk, kind, area in institutions:
        by_kind[kind].append((pk, area))
    return [_one(v, kinds_of[v.standard_id], by_kind, passed, pilots, tree) for v in versions]


def _one(
    version: StandardVersion,
    kinds: Mapping[str, str],
    by_kind: dict[str, list[tuple[int, int]]],
    passed: dict[tuple[int, int], bool],
    pilots: dict[tuple[int, int], str],
    tree: AreaTree,
) -> StandardCoverage:
    standard = version.standard_id
    levels = set(kinds.values())
    villages_measured = AreaLevel.VILLAGE in levels
    townships_measured = villages_measured or AreaLevel.TOWNSHIP in levels
    measured = {AreaLevel.VILLAGE} if villages_measured else set()
    if townships_measured:
        measured.add(AreaLevel.TOWNSHIP)
    # Institutions and passes in each area or below it: only the areas that have some are touched.
    total: dict[int, int] = defaultdict(int)
    ok: dict[int, int] = defaultdict(int)
    for kind in kinds:
        for institution, area in by_kind.get(kind, ()):
            good = passed.get((institution, standard), False)
            for node in tree.ancestors.get(area, ()):
                total[node] += 1
                ok[node] += good
    covered = {node for node, n in total.items() if tree.level[node] in measured and ok[node] == n}
    # Covered townships and villages, counted into every area above them.
    covered_townships: dict[int, int] = defaultdict(int)
    covered_villages: dict[int, int] = defaultdict(int)
    for node in covered:
        tally = covered_townships if tree.level[node] == AreaLevel.TOWNSHIP else covered_villages
        for above in tree.ancestors[node][1:]:
            tally[above] += 1
    rows = []
    for pk, code, name_zh, name_en, level, parent in tree.rows:
        n_townships, n_villages = tree.below[pk]
        top = level in (AreaLevel.CITY, AreaLevel.COUNTY)
        rows.append(
            Row(
                pk,
                code,
                name_zh,
                name_en,
                level,
                parent,
                total.get(pk, 0),
                ok.get(pk, 0),
                (pk in covered) if level in measured else None,
                Share(covered_townships.get(pk, 0), n_townships) if top and townships_measured else None,
                Share(covered_villages.get(pk, 0), n_villages)
                if villages_measured and level != AreaLevel.VILLAGE
                else None,
                pilots.get((standard, pk), ""),
            )
        )
    return StandardCoverage(
        key=version.standard.key,
        code=version.code,
        title_zh=version.title_zh,
        title_en=version.title_en,
        kinds=dict(kinds),
        townships_measured=townships_measured,
        villages_measured=villages_measured,
        rows=rows,
    )


def map_value(row: Row) -> Decimal | None:
    """What the county map colours by: the lowest level measured (villages, else townships, else institutions)."""
    if row.villages is not None:
        return row.villages.percent
    if row.townships is not None:
        return row.townships.percent
    if row.institutions:
        return (Decimal(100) * row.passing / row.institutions).quantize(ONE_DECIMAL, ROUND_HALF_UP)
    return None
