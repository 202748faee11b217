"""双随机、一公开: the department draws, each period, institutions to inspect and a pair of inspectors for each.

``draw_make`` reads the frame (the institutions of the kinds drawn in the officer's area, split by kind and
county; the department's pool; the declared conflicts), draws with a recorded seed (``fuwu.compliance.draw``)
and plans one inspection per standard governing each institution drawn. The frame and the seed are kept, so
``draw_verify`` can redo the draw and show it gives the same picks. A period has one live draw: drawing again
needs ``draw_redo``, which asks why, keeps the old draw (superseded, shown on the public page with the
reason) and uses a new seed; it is refused once any inspection of the old draw has started.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from fuwu.accounts.permissions import can_draw_inspections
from fuwu.areas.models import Area
from fuwu.areas.selectors import descendant_codes_prefix
from fuwu.common.audit import audit
from fuwu.compliance import checklists
from fuwu.compliance.draw import METHOD, Frame, PoolMember, draw
from fuwu.compliance.models import (
    Conflict,
    Draw,
    DrawPick,
    DrawStatus,
    Inspection,
    InspectionKind,
    InspectionStatus,
    Inspector,
    Institution,
)
from fuwu.compliance.services import ComplianceError, local_now
from fuwu.compliance.services.inspections import inspection_cancel

SEED_PATTERN = re.compile(r"^[0-9]{1,30}$")
SHOWN_SHORTAGES = 10  # a refusal names the first institutions without a pair, and how many there are


def parse_ratios(raw: dict[str, str], kinds: dict[str, checklists.Kind]) -> dict[str, Decimal]:
    """Percentages from the form, per kind; a blank or zero leaves the kind out."""
    ratios: dict[str, Decimal] = {}
    for kind, text in raw.items():
        text = (text or "").strip()
        if not text:
            continue
        if kind not in kinds:
            raise ComplianceError(_("“%(kind)s”不是现行标准中的机构类型。") % {"kind": kind}, code="unknown_kind")
        try:
            percent = Decimal(text)
        except InvalidOperation:
            percent = Decimal(-1)
        if not (percent.is_finite() and 0 <= percent <= 100):
            raise ComplianceError(
                _("%(kind)s的抽查比例应为 0～100 之间的百分数。") % {"kind": kinds[kind].name}, code="bad_ratio"
            )
        if percent > 0:
            ratios[kind] = (percent / 100).normalize()
    if not ratios:
        raise ComplianceError(_("请至少为一类机构填写抽查比例。"), code="bad_ratio")
    return ratios


def draw_frame(*, department_id: int, area: Area, ratios: dict[str, Decimal]) -> Frame:
    prefix = descendant_codes_prefix(area)
    strata: dict[str, list[int]] = defaultdict(list)
    rows = Institution.objects.filter(active=True, kind__in=list(ratios), area__code__startswith=prefix).values_list(
        "pk", "kind", "area__code"
    )
    for pk, kind, code in rows:
        strata[f"{kind}|{code[:6]}"].append(pk)
    pool = [
        PoolMember(pk, descendant_codes_prefix(Area(code=code, level=level)), employer)
        for pk, code, level, employer in Inspector.objects.filter(
            department_id=department_id, active=True, user__is_active=True
        ).values_list("pk", "area__code", "area__level", "employer_id")
    ]
    members = {pk for ids in strata.values() for pk in ids}
    conflicts = frozenset(
        (a, b)
        for a, b in Conflict.objects.filter(inspector__in=[m.id for m in pool], institution__in=members).values_list(
            "inspector_id", "institution_id"
        )
    )
    return Frame(strata=dict(strata), ratios=ratios, pool=pool, conflicts=conflicts)


def _seed(given: str | None) -> str:
    if given is None or not given.strip():
        return str(secrets.randbits(63))
    given = given.strip()
    if not SEED_PATTERN.match(given):
        raise ComplianceError(_("随机种子应为 1～30 位数字（如公开摇号的号码），或留空自动生成。"), code="bad_seed")
    return given


def _make(
    *,
    actor: Any,
    department_id: int,
    area: Area,
    period_start: dt.date,
    period_end: dt.date,
    ratios: dict[str, Decimal],
    seed: str,
    supersedes: Draw | None,
    reason: str,
    now: dt.datetime,
) -> Draw:
    frame = draw_frame(department_id=department_id, area=area, ratios=ratios)
    picks, shortages = draw(frame, seed)
    if shortages:
        shown = shortages[:SHOWN_SHORTAGES]
        names = dict(Institution.objects.filter(pk__in=[s.institution for s in shown]).values_list("pk", "name"))
        listed = _("；").join(
            _("%(name)s（可派 %(n)s 人）") % {"name": names[s.institution], "n": s.eligible} for s in shown
        )
        if len(shortages) > len(shown):
            listed += _("……共 %(n)s 个机构") % {"n": len(shortages)}
        raise ComplianceError(
            _(
                "以下机构抽中后找不到两名可派的检查人员（同单位或已申报回避的人员不能派）：%(list)s。请先补充检查人员库。"
            )
            % {"list": listed},
            code="pool_too_small",
        )
    if not picks:
        raise ComplianceError(_("按所选比例，本区域没有抽中任何机构；请核对机构类型和比例。"), code="nothing_drawn")
    created = Draw.objects.create(
        department_id=department_id,
        area=area,
        period_start=period_start,
        period_end=period_end,
        ratios=frame.as_json()["ratios"],
        seed=seed,
        method=METHOD,
        frame=frame.as_json(),
        frame_sha256=frame.sha256(),
        supersedes=supersedes,
        reason=reason,
        created_at=now,
        created_by=actor,
    )
    inspectors = {i.pk: i for i in Inspector.objects.filter(pk__in={i for p in picks for i in p.inspectors})}
    institutions = {i.pk: i for i in Institution.objects.filter(pk__in=[p.institution for p in picks])}
    planned = 0
    governing: dict[str, list[Any]] = {}
    for p in picks:
        first, second = (inspectors[i] for i in p.inspectors)
        pick = DrawPick.objects.create(
            draw=created,
            institution_id=p.institution,
            stratum=p.stratum,
            first_inspector=first,
            second_inspector=second,
        )
        kind = institutions[p.institution].kind
        if kind not in governing:
            governing[kind] = checklists.versions_for_kind(kind, day=period_start)
        for version in governing[kind]:
            inspection = Inspection.objects.create(
                institution_id=p.institution,
                standard_id=version.standard_id,
                kind=InspectionKind.OFFICIAL,
                pick=pick,
                planned_on=period_start,
            )
            inspection.inspectors.set([first.user_id, second.user_id])
            planned += 1
    audit(
        actor=actor,
        event="compliance.draw_made",
        obj=created,
        after={
            "seed": seed,
            "method": METHOD,
            "frame_sha256": created.frame_sha256,
            "picks": len(picks),
            "inspections": planned,
            "supersedes": supersedes.pk if supersedes else None,
        },
        note=reason,
    )
    return created


@transaction.atomic
def draw_make(
    *,
    actor: Any,
    area: Area,
    period_start: dt.date,
    period_end: dt.date,
    ratios: dict[str, Decimal],
    seed: str | None = None,
    now: dt.datetime | None = None,
) -> Draw:
    """Draw institutions and inspectors for the officer's department in ``area`` for one period."""
    if not can_draw_inspections(actor):
        raise PermissionDenied("only a department officer draws inspections")
    if not area.code.startswith(descendant_codes_prefix(actor.area)):
        raise PermissionDenied("an officer draws only within their own area")
    if period_end < period_start:
        raise ComplianceError(_("抽查期间的结束日期不能早于开始日期。"), code="bad_period")
    live = (
        Draw.objects.select_for_update()
        .filter(department_id=actor.department_id, area=area, period_start=period_start)
        .exclude(status=DrawStatus.SUPERSEDED)
        .first()
    )
    if live is not None:
        raise ComplianceError(
            _("这一期已经抽取过（第 %(draw)s 号抽取）。抽取结果不能悄悄重来：如确需重新抽取，请在该抽取页面说明原因。")
            % {"draw": live.pk},
            code="already_drawn",
        )
    return _make(
        actor=actor,
        department_id=actor.department_id,
        area=area,
        period_start=period_start,
        period_end=period_end,
        ratios=ratios,
        seed=_seed(seed),
        supersedes=None,
        reason="",
        now=now or local_now(),
    )


def _own(actor: Any, draw_row: Draw) -> Draw:
    if not can_draw_inspections(actor) or draw_row.department_id != actor.department_id:
        raise PermissionDenied("only an officer of the department that drew may act on a draw")
    if not draw_row.area.code.startswith(descendant_codes_prefix(actor.area)):
        raise PermissionDenied("an officer acts only within their own area")
    return draw_row


@transaction.atomic
def draw_publish(*, actor: Any, draw: Draw, now: dt.datetime | None = None) -> Draw:
    """drawn → published: the picks, the seed and the method go on the public page."""
    row = _own(actor, Draw.objects.select_for_update().select_related("area").get(pk=draw.pk))
    if row.status != DrawStatus.DRAWN:
        raise ComplianceError(
            _("抽取当前为“%(status)s”，不能再公开。") % {"status": row.get_status_display()}, code="wrong_state"
        )
    row.status, row.published_at = DrawStatus.PUBLISHED, now or local_now()
    row.save(update_fields=["status", "published_at"])
    audit(
        actor=actor,
        event="compliance.draw_published",
        obj=row,
        before={"status": "drawn"},
        after={"status": row.status},
    )
    return row


@transaction.atomic
def draw_redo(*, actor: Any, draw: Draw, reason: str, seed: str | None = None, now: dt.datetime | None = None) -> Draw:
    """A new draw for the same period, with a new seed, replacing ``draw`` — never silently: with a reason."""
    row = _own(actor, Draw.objects.select_for_update().select_related("area").get(pk=draw.pk))
    if row.status == DrawStatus.SUPERSEDED:
        raise ComplianceError(_("这次抽取已经作废，请在最新的抽取上操作。"), code="wrong_state")
    if not reason.strip():
        raise ComplianceError(_("重新抽取必须说明原因，原因会和两次抽取一起公开。"), code="reason_required")
    inspections = Inspection.objects.filter(pick__draw=row)
    if inspections.exclude(status=InspectionStatus.PLANNED).exists():
        raise ComplianceError(
            _("这次抽取的检查已经开始，不能重新抽取；未开始的机构可以单独调整。"), code="inspections_started"
        )
    for inspection in inspections:
        inspection_cancel(actor=actor, inspection=inspection, reason=_("重新抽取：%(reason)s") % {"reason": reason})
    before = row.status
    row.status = DrawStatus.SUPERSEDED
    row.save(update_fields=["status"])
    audit(
        actor=actor,
        event="compliance.draw_superseded",
        obj=row,
        before={"status": before},
        after={"status": row.status},
        note=reason,
    )
    ratios = {k: Decimal(v) for k, v in row.ratios.items()}
    new_seed = _seed(seed)
    if new_seed == row.seed:
        raise ComplianceError(_("重新抽取要用新的随机种子。"), code="same_seed")
    return _make(
        actor=actor,
        department_id=row.department_id,
        area=row.area,
        period_start=row.period_start,
        period_end=row.period_end,
        ratios=ratios,
        seed=new_seed,
        supersedes=row,
        reason=reason.strip(),
        now=now or local_now(),
    )


def draw_verify(draw_row: Draw) -> bool:
    """Redo the draw from its recorded frame and seed: the same picks and inspectors, and the frame untouched?"""
    frame = Frame.from_json(draw_row.frame)
    if frame.sha256() != draw_row.frame_sha256:
        return False
    picks, shortages = draw(frame, draw_row.seed)
    recorded = {
        (p.institution_id, p.stratum, p.first_inspector_id, p.second_inspector_id) for p in draw_row.picks.all()
    }
    return not shortages and recorded == {(p.institution, p.stratum, *p.inspectors) for p in picks}
