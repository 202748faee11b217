"""Writes to the standards registry: loading files and moving versions through their lifecycle.

Each function is one transaction and writes its audit rows inside it, so a
failure leaves neither a half-loaded standard nor an unrecorded change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone

from fuwu.common.audit import audit
from fuwu.standards import schema
from fuwu.standards.models import (
    Clause,
    Indicator,
    Parameter,
    ParameterValue,
    ServiceItem,
    Standard,
    StandardVersion,
    Status,
)
from fuwu.standards.parsing import ParsedStandard


class TransitionError(Exception):
    """A lifecycle transition that is not allowed from the version's current status."""


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year + years, day=28)


def review_due(*, effective_on: dt.date, last_reviewed_on: dt.date | None, period_years: int) -> dt.date:
    """When the next review falls due: the period after effect, or after the last review."""
    return add_years(last_reviewed_on or effective_on, period_years)


@dataclass(frozen=True)
class LoadResult:
    key: str
    path: str
    outcome: Literal["created", "new_version", "unchanged"]
    version_number: int


def _snapshot(version: StandardVersion) -> dict[str, Any]:
    return {
        "status": version.status,
        "review_due_on": version.review_due_on.isoformat(),
        "last_reviewed_on": version.last_reviewed_on.isoformat() if version.last_reviewed_on else None,
        "superseded_by": version.superseded_by_id,
    }


def _text(text: schema.Text | None) -> tuple[str, str]:
    return (text.zh, text.en or "") if text else ("", "")


def _create_version(*, standard: Standard, parsed: ParsedStandard, number: int, actor: Any) -> StandardVersion:
    doc = parsed.document
    meta = doc.meta
    title_zh, title_en = _text(meta.title)
    body_zh, body_en = _text(meta.issuing_body)
    summary_zh, summary_en = _text(meta.summary)
    version = StandardVersion.objects.create(
        standard=standard,
        number=number,
        code=meta.number,
        title_zh=title_zh,
        title_en=title_en,
        scope=meta.scope,
        issuing_body_zh=body_zh,
        issuing_body_en=body_en,
        summary_zh=summary_zh,
        summary_en=summary_en,
        issued_on=meta.issued_on,
        effective_on=meta.effective_on,
        review_period_years=meta.review_period_years,
        review_due_on=review_due(
            effective_on=meta.effective_on, last_reviewed_on=None, period_years=meta.review_period_years
        ),
        status=Status.DRAFT,
        content_hash=parsed.content_hash,
        document=parsed.canonical,
        source_path=str(parsed.path),
        modeled=doc.source.modeled,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _create_clauses(version=version, clauses=doc.clauses)
    _create_items(version=version, items=doc.items)
    Indicator.objects.bulk_create(
        Indicator(
            version=version,
            key=ind.id,
            name_zh=ind.name.zh,
            name_en=ind.name.en or "",
            formula_zh=ind.formula.zh,
            formula_en=ind.formula.en or "",
            target=ind.target,
            comparison=ind.comparison,
            unit=ind.unit or "",
            clause=ind.clause or "",
            modeled=ind.modeled,
        )
        for ind in doc.indicators
    )
    for p in doc.parameters:
        parameter = Parameter.objects.create(
            version=version,
            key=p.id,
            name_zh=p.name.zh,
            name_en=p.name.en or "",
            unit=p.unit,
            clause=p.clause or "",
            modeled=p.modeled,
        )
        ParameterValue.objects.bulk_create(
            ParameterValue(
                parameter=parameter,
                effective_from=v.effective_from,
                value={k: str(x) for k, x in v.value.items()} if isinstance(v.value, dict) else str(v.value),
            )
            for v in p.values
        )
    audit(actor=actor, event="standard.version_created", obj=version, after=_snapshot(version), note=str(parsed.path))
    return version


def _create_clauses(*, version: StandardVersion, clauses: list[schema.Clause]) -> None:
    """The clause tree in document order, written a level at a time (a standard has hundreds of clauses)."""
    rows: list[Clause] = []

    def walk(clause: schema.Clause, depth: int, parent: Clause | None) -> None:
        title_zh, title_en = _text(clause.title)
        text_zh, text_en = _text(clause.text)
        row = Clause(
            version=version,
            parent=parent,
            number=clause.number,
            position=len(rows) + 1,
            depth=depth,
            kind=clause.kind,
            subject=clause.subject or "",
            title_zh=title_zh,
            title_en=title_en,
            text_zh=text_zh,
            text_en=text_en,
            modeled=clause.modeled,
        )
        rows.append(row)
        for child in clause.children:
            walk(child, depth + 1, row)

    for clause in clauses:
        walk(clause, 0, None)
    # A parent is written (and has its id) before its children: one INSERT per depth.
    for depth in range(max((row.depth for row in rows), default=-1) + 1):
        # bulk_create takes each parent's id from the parent object, written by the previous level's INSERT.
        Clause.objects.bulk_create([row for row in rows if row.depth == depth])


def _create_items(*, version: StandardVersion, items: list[schema.ServiceItem]) -> None:
    ServiceItem.objects.bulk_create(
        ServiceItem(
            version=version,
            key=item.id,
            position=position,
            name_zh=item.name.zh,
            name_en=item.name.en or "",
            life_area=item.life_area,
            category_zh=_text(item.category)[0],
            category_en=_text(item.category)[1],
            target_group_zh=item.target_group.text.zh,
            target_group_en=item.target_group.text.en or "",
            content_zh=item.content.text.zh,
            content_en=item.content.text.en or "",
            lead_department_zh=_text(item.lead_department)[0],
            lead_department_en=_text(item.lead_department)[1],
            data=item.model_dump(mode="json", exclude_none=True),
        )
        for position, item in enumerate(items, start=1)
    )


@transaction.atomic
def standards_load(*, parsed: list[ParsedStandard], actor: Any) -> list[LoadResult]:
    """Load validated files. Unchanged content is a no-op; changed content is a new version.

    A file that declares ``status: published`` is published on load, which
    retires the version in force; a draft waits for ``standard_publish``.
    """
    results: list[LoadResult] = []
    for p in parsed:
        standard, created = Standard.objects.get_or_create(key=p.document.id)
        latest = standard.versions.select_for_update().order_by("-number").first()
        if latest is not None and latest.content_hash == p.content_hash:
            results.append(LoadResult(standard.key, str(p.path), "unchanged", latest.number))
            continue
        version = _create_version(standard=standard, parsed=p, number=(latest.number + 1) if latest else 1, actor=actor)
        if p.document.meta.status == schema.Status.PUBLISHED:
            _publish(version=version, actor=actor)
        results.append(LoadResult(standard.key, str(p.path), "created" if created else "new_version", version.number))
    return results


def _publish(*, version: StandardVersion, actor: Any) -> None:
    current = (
        StandardVersion.objects.select_for_update()
        .filter(standard=version.standard, status__in=[Status.PUBLISHED, Status.UNDER_REVIEW])
        .exclude(pk=version.pk)
        .first()
    )
    if current is not None:
        before = _snapshot(current)
        current.status = Status.REVISED
        current.superseded_by = version
        current.save(update_fields=["status", "superseded_by"])
        audit(actor=actor, event="standard.revised", obj=current, before=before, after=_snapshot(current))
    before = _snapshot(version)
    version.status = Status.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    audit(actor=actor, event="standard.published", obj=version, before=before, after=_snapshot(version))


def _locked(version: StandardVersion, allowed: tuple[str, ...], action: str) -> StandardVersion:
    locked = StandardVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status not in allowed:
        raise TransitionError(
            f"cannot {action} {locked}: it is {locked.get_status_display()}; "
            f"allowed from: {', '.join(str(Status(s).label) for s in allowed)}"
        )
    return locked


@transaction.atomic
def standard_publish(*, version: StandardVersion, actor: Any) -> StandardVersion:
    """draft → published; the version in force, if any, becomes revised."""
    locked = _locked(version, (Status.DRAFT,), "publish")
    _publish(version=locked, actor=actor)
    return locked


@transaction.atomic
def standard_begin_review(*, version: StandardVersion, actor: Any, note: str = "") -> StandardVersion:
    """published → under_review. The standard stays in force while it is reviewed."""
    locked = _locked(version, (Status.PUBLISHED,), "begin the review of")
    before = _snapshot(locked)
    locked.status = Status.UNDER_REVIEW
    locked.save(update_fields=["status"])
    audit(actor=actor, event="standard.review_started", obj=locked, before=before, after=_snapshot(locked), note=note)
    return locked


@transaction.atomic
def standard_confirm(
    *, version: StandardVersion, actor: Any, reviewed_on: dt.date | None = None, note: str = ""
) -> StandardVersion:
    """under_review → published: the review found it still fit; the next review is due a period later."""
    locked = _locked(version, (Status.UNDER_REVIEW,), "confirm")
    before = _snapshot(locked)
    locked.status = Status.PUBLISHED
    locked.last_reviewed_on = reviewed_on or timezone.localdate()
    locked.review_due_on = review_due(
        effective_on=locked.effective_on,
        last_reviewed_on=locked.last_reviewed_on,
        period_years=locked.review_period_years,
    )
    locked.save(update_fields=["status", "last_reviewed_on", "review_due_on"])
    audit(actor=actor, event="standard.review_confirmed", obj=locked, before=before, after=_snapshot(locked), note=note)
    return locked


@transaction.atomic
def standard_abolish(*, version: StandardVersion, actor: Any, note: str) -> StandardVersion:
    """published or under_review → abolished. A reason is required."""
    if not note.strip():
        raise TransitionError("abolishing a standard needs a reason")
    locked = _locked(version, (Status.PUBLISHED, Status.UNDER_REVIEW), "abolish")
    before = _snapshot(locked)
    locked.status = Status.ABOLISHED
    locked.save(update_fields=["status"])
    audit(actor=actor, event="standard.abolished", obj=locked, before=before, after=_snapshot(locked), note=note)
    return locked


@transaction.atomic
def standard_revise(*, version: StandardVersion, actor: Any, note: str) -> StandardVersion:
    """under_review → a new draft (the next number, the same content) for the drafting group to edit.

    The version reviewed stays in force, under review, until the draft is published; publishing it then moves
    the reviewed version to "revised" (``_publish``). Returns the draft. A reason is required.
    """
    if not note.strip():
        raise TransitionError("revising a standard needs a reason")
    locked = _locked(version, (Status.UNDER_REVIEW,), "revise")
    latest = locked.standard.versions.select_for_update().order_by("-number").first()
    if latest is not None and latest.status == Status.DRAFT:
        raise TransitionError(f"{locked.standard.key} already has a draft (v{latest.number}); edit that one")
    parsed = ParsedStandard(
        path=Path(locked.source_path), document=schema.StandardDocument.model_validate(locked.document), lines={}
    )
    number = (latest.number if latest else locked.number) + 1
    draft = _create_version(standard=locked.standard, parsed=parsed, number=number, actor=actor)
    audit(
        actor=actor,
        event="standard.revision_started",
        obj=locked,
        before=_snapshot(locked),
        after={**_snapshot(locked), "draft": draft.pk, "draft_number": draft.number},
        note=note,
    )
    return draft
