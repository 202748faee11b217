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

    @classmethod
    def load(cls) -> AreaTree:
        rows = list(Area.objects.order_by("code").values_list("pk", "code", "name_zh", "name_en", "level", "parent_id"))
        parent = {r[0]: r[5] for r in rows}
        ancestors: dict[int, tuple[int, ...]] = {}
        for pk, *_rest in rows:
            chain = []
            node: int | None = pk
            while node is not None:
                chain.append(node)
                node = parent.get(node)
            ancestors[pk] = tuple(chain)
        return cls(rows, ancestors)


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
    total: dict[int, int] = defaultdict(int)
    ok: dict[int, int] = defaultdict(int)
    for kind in kinds:
        for institution, area in by_kind.get(kind, ()):
            good = passed.get((institution, standard), False)
            for node in tree.ancestors.get(area, ()):
                total[node] += 1
                ok[node] += good
    rows: dict[int, Row] = {}
    for pk, code, name_zh, name_en, level, parent in tree.rows:
        row = Row(pk, code, name_zh, name_en, level, parent, total[pk], ok[pk], pilot=pilots.get((standard, pk), ""))
        measured = (level == AreaLevel.VILLAGE and villages_measured) or (
            level == AreaLevel.TOWNSHIP and townships_measured
        )
        if measured:
            row.covered = total[pk] > 0 and ok[pk] == total[pk]
        rows[pk] = row
    # Roll the covered townships and villages up to their counties and the city.
    counts: dict[int, dict[str, list[int]]] = defaultdict(lambda: {"township": [0, 0], "village": [0, 0]})
    for row in rows.values():
        if row.covered is None:
            continue
        for node in tree.ancestors[row.area_id][1:]:
            tally = counts[node][row.level]
            tally[0] += row.covered
            tally[1] += 1
    for pk, row in rows.items():
        if row.level in (AreaLevel.CITY, AreaLevel.COUNTY) and townships_measured:
            row.townships = Share(*counts[pk]["township"])
        if row.level != AreaLevel.VILLAGE and villages_measured:
            row.villages = Share(*counts[pk]["village"])
    ordered = sorted(rows.values(), key=lambda r: r.code)
    return StandardCoverage(
        key=version.standard.key,
        code=version.code,
        title_zh=version.title_zh,
        title_en=version.title_en,
        kinds=dict(kinds),
        townships_measured=townships_measured,
        villages_measured=villages_measured,
        rows=ordered,
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
