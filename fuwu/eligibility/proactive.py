"""The proactive list (免申即享): people a screening found entitled who do not yet receive the item.

The list reads the run's ``Candidate`` rows: entitled to an item worth a call and not served when the
run finished (``fuwu.eligibility.store``). Items not worth a call are shown as counts
(``ScreeningCount``); the people behind them stay in the run's Parquet files.

Which items are worth a call is the standard's to say (``proactive.outreach`` on each item): a
minimum-living allowance or a home-care subsidy is, the radio or a library card is not. The
overview leads with those items, township by township; the list shows each person as an officer
needs to act — masked name, age, village, masked phone, outreach status, a link to the record —
filtered by item, township and status.

Reads are scoped to the official's area. Every page of the list and every export is audited as a
read of the persons it shows (``persons.listed``, ``persons.exported``); outreach outcomes go
through ``outreach_record``, which audits them.

A run's ``person_id`` is the registry's ``Person.pk`` for a registry run, and the generated
population's id (kept as ``Person.source_id`` when that population was loaded into the registry)
otherwise; people the registry does not hold show their number only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.areas.selectors import area_names, code_within, descendant_codes_prefix
from fuwu.common.audit import audit, audit_persons_read
from fuwu.common.batches import chunks
from fuwu.common.spreadsheets import stream_csv, stream_xlsx
from fuwu.eligibility.derived import full_years
from fuwu.eligibility.models import (
    Candidate,
    OutreachRecord,
    OutreachStatus,
    RunStatus,
    ScreeningCount,
    ScreeningRun,
)
from fuwu.eligibility.registry import REGISTRY
from fuwu.eligibility.selectors import candidates_of
from fuwu.residents import crypto
from fuwu.residents.masking import mask_name, mask_phone
from fuwu.residents.models import Person
from fuwu.residents.selectors import Contact, person_contact, persons_for_user
from fuwu.standards.schema import Proactive
from fuwu.standards.selectors import items_in_force

READERS = {Role.DEPARTMENT_OFFICER, Role.AUDITOR}
TOWNSHIP_DIGITS = 9  # a 12-digit village code: 6 county, 3 township, 3 village
PAGE_SIZE = 50
EXPORT_CHUNK = 2000
ALL_ITEMS = "*"  # the item filter's value for every item, those not worth a call included


class OutreachError(Exception):
    pass


def area_prefix_for(user: Any) -> str | None:
    """The area codes this user may see start with this prefix; None if they may see none."""
    if not has_role(user, READERS):
        return None
    if user.role == Role.AUDITOR and user.area is None:
        return ""
    return descendant_codes_prefix(user.area) if user.area else None


def can_record(user: Any) -> bool:
    """Recording outcomes is an officer's work; auditors read."""
    return has_role(user, {Role.DEPARTMENT_OFFICER})


def latest_run() -> ScreeningRun | None:
    return ScreeningRun.objects.filter(status=RunStatus.COMPLETED, draft=False).order_by("-finished_at").first()


# --- What the standards say about each item ------------------------------------------------------------------


@dataclass(frozen=True)
class ItemInfo:
    key: str
    name: str  # in the page's language
    name_zh: str  # for exported files, which are Chinese work documents
    outreach: bool | None  # None: the standard does not say (filed with the items not worth a call)
    implemented_by: str = ""  # local items in force that implement this national item; they get the call


def items_info() -> dict[str, ItemInfo]:
    """Every item in force, with whether its standard asks officials to contact the entitled.

    A national item that local items implement (their ``national_item``) is not called about itself:
    the local items are, so nobody is called twice about one service.
    """
    items = list(items_in_force())

    def outreach(item: Any) -> bool | None:
        data = item.data.get("proactive")
        return Proactive.model_validate(data).outreach if data is not None else None

    implementers: dict[str, list[str]] = {}
    for item in items:
        national = item.data.get("national_item")
        if national and outreach(item):
            implementers.setdefault(national, []).append(item.name)
    info = {}
    for item in items:
        local = implementers.get(item.key, [])
        named = _("、").join(local[:3]) + ("…" if len(local) > 3 else "")  # 、 is ", " in English
        info[item.key] = ItemInfo(item.key, item.name, item.name_zh, False if local else outreach(item), named)
    return info


def _info(items: dict[str, ItemInfo], key: str) -> ItemInfo:
    return items.get(key) or ItemInfo(key, key, key, None)


# --- Selecting results -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the officer narrowed the list to. ``item`` empty: the items worth a call; ``ALL_ITEMS``: every item."""

    item: str = ""
    township: str = ""  # a 9-digit township code, or empty for the whole area
    status: str = ""  # an OutreachStatus value, or empty for any

    @classmethod
    def parse(cls, params: Any) -> Filters:
        """From a query string; anything malformed is dropped rather than refused (the list just widens)."""
        item = str(params.get("item", "")).strip()[:80]
        township = str(params.get("township", "")).strip()
        status = str(params.get("status", "")).strip()
        return cls(
            item=item,
            township=township if township.isascii() and township.isdigit() and len(township) <= 12 else "",
            status=status if status in OutreachStatus.values else "",
        )

    def query(self) -> str:
        """The filters as a query string, for links that keep them (export, pages)."""
        return urlencode({k: v for k, v in self.as_dict().items() if v})

    def as_dict(self) -> dict[str, str]:
        return {"item": self.item, "township": self.township, "status": self.status}


def newly_entitled(
    *, run: ScreeningRun, user: Any, item: str | None = None, township: str | None = None
) -> QuerySet[Candidate]:
    prefix = area_prefix_for(user)
    if prefix is None:
        return Candidate.objects.none()
    from fuwu.applications.grants import receiving_q

    # Candidates were not served when the run finished; someone may have been since (a grant, else a receipt).
    results = candidates_of(run).filter(code_within("hukou_area", prefix))
    if item:
        results = results.filter(item=item)
    if township:
        results = results.filter(code_within("hukou_area", township))
    return results.exclude(receiving_q(today=timezone.localdate())).order_by("hukou_area", "person_id", "item")


def _with_status(results: QuerySet[Candidate], run: ScreeningRun) -> QuerySet[Candidate]:
    """Each result with its outreach status in ``run``: the recorded one, else pending (a daily run's rows may
    have been stored by a run before it, ADR 27)."""
    recorded = OutreachRecord.objects.filter(run=run, person_id=OuterRef("person_id"), item=OuterRef("item")).values(
        "status"
    )[:1]
    return results.annotate(outreach_status=Coalesce(Subquery(recorded), Value(OutreachStatus.PENDING.value)))


def outreach_results(
    *, run: ScreeningRun, user: Any, filters: Filters, items: dict[str, ItemInfo]
) -> QuerySet[Candidate]:
    """The results on the list for ``filters``, in the order the list shows them (village, person, item)."""
    if filters.item and filters.item != ALL_ITEMS:
        results = newly_entitled(run=run, user=user, item=filters.item, township=filters.township or None)
    else:
        results = newly_entitled(run=run, user=user, township=filters.township or None)
        if not filters.item:
            results = results.filter(item__in=[k for k, i in items.items() if i.outreach])
    results = _with_status(results, run)
    if filters.status:
        results = results.filter(Q(outreach_status=filters.status))  # Q: the annotation is invisible to the stubs
    return results


# --- The overview: counts by township ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TownshipCount:
    township: str
    item: str
    people: int
    pending: int = 0


def counts_by_township(*, run: ScreeningRun, user: Any) -> list[TownshipCount]:
    rows = (
        _with_status(newly_entitled(run=run, user=user), run)
        .annotate(township=Substr("hukou_area", 1, TOWNSHIP_DIGITS))
        .order_by()
        .values("township", "item")
        .annotate(people=Count("id"), pending=Count("id", filter=Q(outreach_status=OutreachStatus.PENDING.value)))
        .order_by("township", "item")
    )
    return [TownshipCount(r["township"], r["item"], r["people"], r["pending"]) for r in rows]


@dataclass(frozen=True)
class ItemCount:
    item: ItemInfo
    township: str
    people: int
    pending: int


@dataclass
class TownshipGroup:
    code: str
    name: str
    items: list[ItemCount] = field(default_factory=list)

    @property
    def people(self) -> int:
        return sum(i.people for i in self.items)

    @property
    def pending(self) -> int:
        return sum(i.pending for i in self.items)


@dataclass(frozen=True)
class ItemTotal:
    item: ItemInfo
    people: int


@dataclass(frozen=True)
class Overview:
    """Items worth a call, township by township (most waiting first); the rest only as totals per item."""

    townships: list[TownshipGroup]
    others: list[ItemTotal]
    items: list[ItemInfo]  # every item on the run's list for this user (the items with candidates)
    township_names: dict[str, str]

    @property
    def people(self) -> int:
        return sum(t.people for t in self.townships)

    @property
    def pending(self) -> int:
        return sum(t.pending for t in self.townships)


def entitled_by_item(*, run: ScreeningRun, user: Any) -> dict[str, int]:
    """People the run found entitled, per item, in the user's area (the run's counts, served or not)."""
    prefix = area_prefix_for(user)
    if prefix is None or len(prefix) > TOWNSHIP_DIGITS:  # counts are kept by township, not by village
        return {}
    rows = (
        ScreeningCount.objects.filter(run=run, township__startswith=prefix, eligible__gt=0)
        .values("item")
        .annotate(people=Sum("eligible"))
        .order_by("item")
    )
    return {r["item"]: int(r["people"]) for r in rows}


def overview(*, run: ScreeningRun, user: Any, items: dict[str, ItemInfo]) -> Overview:
    """Candidates (items worth a call) by township from the database; other items as the run's counts."""
    counts = counts_by_township(run=run, user=user)
    names = area_names(c.township for c in counts)
    groups: dict[str, TownshipGroup] = {}
    for c in counts:
        info = _info(items, c.item)
        if info.outreach:  # only items worth a call have candidates; the standard may have changed since
            group = groups.setdefault(c.township, TownshipGroup(c.township, names.get(c.township, c.township)))
            group.items.append(ItemCount(info, c.township, c.people, c.pending))
    for group in groups.values():
        group.items.sort(key=lambda i: (-i.pending, -i.people, i.item.key))
    others = {k: n for k, n in entitled_by_item(run=run, user=user).items() if not _info(items, k).outreach}
    on_list = {c.item for c in counts}
    listed = sorted((_info(items, k) for k in on_list), key=lambda i: (not i.outreach, i.name))
    return Overview(
        townships=sorted(groups.values(), key=lambda g: g.code),
        others=sorted((ItemTotal(_info(items, k), n) for k, n in others.items()), key=lambda t: -t.people),
        items=listed,
        township_names=dict(sorted(names.items())),
    )


# --- Rows: each result as the officer sees it --------------------------------------------------------------------


@dataclass(frozen=True)
class OutreachRow:
    result_id: int
    person_id: int  # the run's person number (the registry's Person id for a registry run)
    item: ItemInfo
    amount: Decimal | None
    village: str
    village_code: str
    township: str
    status: str
    status_label: str
    note: str
    in_registry: bool
    name: str  # masked; "" when the registry does not hold the person
    age: int | None
    contact: Contact | None  # masked
    record_pk: int | None  # the resident's page, when the viewer may open it


def _registry_persons(
    *, run: ScreeningRun, user: Any, person_ids: Iterable[int], fields: Sequence[str] = ()
) -> dict[int, Person]:
    """The registry's persons behind these run numbers, within what ``user`` may see (only ``fields``, if given)."""
    ids = list(set(person_ids))
    visible = persons_for_user(user=user)
    if fields:
        visible = visible.select_related(None).only("pk", "source_id", *fields)
    if run.population == REGISTRY:
        return {p.pk: p for p in visible.filter(pk__in=ids)}
    # A generated population loaded into the registry keeps its ids as source_id.
    # The condition of its partial index repeated, so PostgreSQL uses it for a long list (ADR 26).
    return {int(p.source_id): p for p in visible.exclude(source_id="").filter(source_id__in=[str(i) for i in ids])}


def outreach_rows(
    *, run: ScreeningRun, user: Any, results: Sequence[Candidate], items: dict[str, ItemInfo]
) -> list[OutreachRow]:
    persons = _registry_persons(run=run, user=user, person_ids=(r.person_id for r in results))
    records = {
        (r.person_id, r.item): r
        for r in OutreachRecord.objects.filter(
            run=run, person_id__in={r.person_id for r in results}, item__in={r.item for r in results}
        )
    }
    names = area_names({code for r in results for code in (r.hukou_area, r.hukou_area[:TOWNSHIP_DIGITS])})
    labels = dict(OutreachStatus.choices)
    rows = []
    for r in results:
        person = persons.get(r.person_id)
        record = records.get((r.person_id, r.item))
        status = record.status if record else OutreachStatus.PENDING.value
        rows.append(
            OutreachRow(
                result_id=r.pk,
                person_id=r.person_id,
                item=_info(items, r.item),
                amount=r.amount,
                village=names.get(r.hukou_area, r.hukou_area),
                village_code=r.hukou_area,
                township=names.get(r.hukou_area[:TOWNSHIP_DIGITS], ""),
                status=status,
                status_label=str(labels.get(status, status)),
                note=record.note if record else "",
                in_registry=person is not None,
                name=mask_name(person.name) if person else "",
                age=full_years(person.birth_date, run.as_of) if person else None,
                contact=person_contact(person=person, viewer=user) if person else None,
                record_pk=person.pk if person else None,
            )
        )
    return rows


def _shown(rows: Iterable[OutreachRow]) -> list[int]:
    return sorted({r.record_pk for r in rows if r.record_pk is not None})


@dataclass(frozen=True)
class ListPage:
    rows: list[OutreachRow]
    page: Page[Candidate]


@transaction.atomic
def outreach_list_view(
    *, run: ScreeningRun, actor: Any, filters: Filters, items: dict[str, ItemInfo], page: Any = 1
) -> ListPage:
    """One page of the list, with the audit row that records whom it showed to ``actor``."""
    paginator = Paginator(outreach_results(run=run, user=actor, filters=filters, items=items), PAGE_SIZE)
    current = paginator.get_page(page)
    rows = outreach_rows(run=run, user=actor, results=list(current.object_list), items=items)
    shown = _shown(rows)
    audit_persons_read(
        actor=actor,
        purpose="proactive list",
        persons=shown,
        obj=run,
        details={"filters": filters.as_dict(), "page": current.number},
    )
    return ListPage(rows, current)


def outreach_row(*, run: ScreeningRun, user: Any, person_id: int, item: str) -> OutreachRow | None:
    """One row again, after its outcome was recorded (the person was shown, and acted on, already)."""
    items = items_info()
    results = list(_with_status(newly_entitled(run=run, user=user, item=item), run).filter(person_id=person_id))
    rows = outreach_rows(run=run, user=user, results=results, items=items)
    return rows[0] if rows else None


# --- Export: the same rows, streamed ---------------------------------------------------------------------------

EXPORT_HEADER = [
    "人员编号",
    "姓名",
    "年龄",
    "乡镇（街道）",
    "村（社区）",
    "村（社区）代码",
    "联系电话",
    "服务项目",
    "项目代码",
    "标准金额（元）",
    "联系情况",
    "备注",
]


_EXPORTED = ("name", "birth_date", "hukou_area", "id_number_hash", "contact_phone_encrypted")
_EXPORT_RESULT = ("person_id", "hukou_area", "item", "amount", "outreach_status")


def _export_rows(
    *, run: ScreeningRun, user: Any, results: QuerySet[Candidate], items: dict[str, ItemInfo]
) -> Iterator[list[Any]]:
    """The list's rows for a file, a chunk of results at a time (memory stays flat however long the list).

    Results are read as plain tuples, not model instances: on a long list that halves the time.
    """
    labels = {value: str(label) for value, label in OutreachStatus.choices}
    names: dict[str, str] = {}

    def rows(part: list[tuple[Any, ...]]) -> Iterator[list[Any]]:
        persons = _registry_persons(run=run, user=user, person_ids=(r[0] for r in part), fields=_EXPORTED)
        records = {
            (person_id, item): note
            for person_id, item, note in OutreachRecord.objects.filter(
                run=run, person_id__in={r[0] for r in part}, item__in={r[2] for r in part}
            ).values_list("person_id", "item", "note")
        }
        wanted = {code for r in part for code in (r[1], r[1][:TOWNSHIP_DIGITS])} - names.keys()
        names.update(area_names(wanted, language="zh-hans"))
        for person_id, area, item, amount, status in part:
            person = persons.get(person_id)
            phone = None
            if person is not None:
                phone = crypto.open_optional(
                    crypto.CONTACT_PHONE, person.contact_phone_encrypted, row=person.id_number_hash
                )
            yield [
                person_id,
                mask_name(person.name) if person else "",
                full_years(person.birth_date, run.as_of) if person else None,
                names.get(area[:TOWNSHIP_DIGITS], ""),
                names.get(area, ""),
                area,
                mask_phone(phone) if phone else "",
                _info(items, item).name_zh,
                item,
                amount,
                labels.get(status, status),
                records.get((person_id, item), ""),
            ]

    for part in chunks(results.values_list(*_EXPORT_RESULT).iterator(chunk_size=EXPORT_CHUNK), EXPORT_CHUNK):
        yield from rows(part)


@transaction.atomic
def outreach_export(
    *, run: ScreeningRun, actor: Any, filters: Filters, items: dict[str, ItemInfo], csv: bool = False
) -> Iterator[bytes]:
    """The list as a spreadsheet (.xlsx, or CSV), streamed; audited before the first byte leaves.

    Names and phones are masked as on the page: a file travels further than a screen.
    """
    results = outreach_results(run=run, user=actor, filters=filters, items=items)
    audit_persons_read(
        actor=actor,
        purpose="proactive list",
        count=results.order_by().values("person_id").distinct().count(),
        obj=run,
        exported=True,
        details={"results": results.count(), "filters": filters.as_dict(), "format": "csv" if csv else "xlsx"},
    )
    rows = _export_rows(run=run, user=actor, results=results, items=items)
    if csv:
        return stream_csv(EXPORT_HEADER, rows)
    return stream_xlsx("主动服务名单", EXPORT_HEADER, rows)


# --- Recording outcomes ----------------------------------------------------------------------------------------


@transaction.atomic
def outreach_record(
    *, run: ScreeningRun, person_id: int, item: str, status: str, note: str, actor: Any
) -> OutreachRecord:
    """Record the outcome of contacting a newly entitled person; only for people in the actor's area."""
    if status not in OutreachStatus.values:
        raise OutreachError(_("请选择联系情况。"))
    if not can_record(actor):
        raise OutreachError(_("只有业务部门工作人员可以记录联系情况。"))
    if not newly_entitled(run=run, user=actor, item=item).filter(person_id=person_id).exists():
        raise OutreachError(_("此人不在您的主动服务名单上（该服务项目），无法记录。"))
    record, _created = OutreachRecord.objects.select_for_update().get_or_create(run=run, person_id=person_id, item=item)
    before = {"status": record.status, "note": record.note}
    record.status, record.note, record.updated_by = status, note, actor
    record.save()
    audit(actor=actor, event="outreach.recorded", obj=record, before=before, after={"status": status, "note": note})
    return record
