"""The evaluation of a standard due for review (标准实施评估), its suggested decision, and the office's decision.

``evaluation_report`` gathers, for a version in force and the last ``FUWU_REVIEW_RULES["months"]`` whole months,
read-only from the apps that hold the data:

* **implementation** — pilot coverage of townships and villages (``fuwu.compliance.coverage``), the pilots and
  their acceptance, and the department inspections signed in the period (count, passed, average score);
* **effect** — each computed indicator at the city over the period (the sums of its monthly numerators and
  denominators, so a weighted ratio), against its target, with its monthly trend (``IndicatorValue``);
  the indicators entered by hand with their reason;
* **the users' voice** — home-care ratings and 差评 (at most ``poor_rating_stars``), complaints, applications'
  好差评 of their handling, and the public feedback by clause (``feedback.py``);
* **by clause** — failed inspection items (partly or not compliant; also listed under implementation),
  complaints and 差评 traced to clauses, and feedback: a complaint or a rating counts against the clause it
  names (chosen by whoever recorded it, or set by the office handling it: ``fuwu.standards.clause_choice``);
  one that names none is traced through its service item to the clause that describes the item (the item's
  ``content.clause``), and the report says how many of each were named (``*_named``); an inspection item is
  one clause already;
* **cost** — confirmed home-care settlements of the standard's items (gross, deductions, net); application
  grants' payment lines in the period (``fuwu.applications.grants.payment_lines``);
* **suggestion** — ``suggest``: documented rules of thumb over those figures (docs/evaluation.md).

``evaluation_decide`` is the standards office's decision (the suggestion or another, with reasons): it renders
the report to PDF, stores it, and drives the registry's lifecycle through ``fuwu.standards.services``
(published → under review first, then continue → confirmed, revise → a new draft, abolish → abolished), all
audited, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fuwu.accounts.models import Role
from fuwu.accounts.permissions import has_role
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.audit import audit
from fuwu.evaluation import feedback
from fuwu.evaluation.models import Decision, IndicatorValue, StandardEvaluation
from fuwu.standards import services as lifecycle
from fuwu.standards.models import IN_FORCE, StandardVersion, Status

ONE_DECIMAL = Decimal("0.1")
DECIDERS = {Role.STANDARDS_OFFICE}
READERS = {Role.STANDARDS_OFFICE, Role.AUDITOR}


class ReviewError(ValueError):
    """A decision that cannot be taken; the message names the field and the fix."""


class NotAllowed(PermissionError):
    """Only the standards office decides."""


def can_read(user: Any) -> bool:
    return has_role(user, READERS)


def can_decide(user: Any) -> bool:
    return has_role(user, DECIDERS)


def _rules() -> dict[str, Any]:
    return dict(settings.FUWU_REVIEW_RULES)


def _month_back(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def period_for(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last ``months`` whole months before ``today``'s month: (first day, last day)."""
    this_month = today.replace(day=1)
    first = _month_back(this_month, int(_rules()["months"]))
    return first, this_month - dt.timedelta(days=1)


def _percent(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(100) * part / whole).quantize(ONE_DECIMAL, ROUND_HALF_UP))


def _money(value: Decimal | None) -> str:
    return str((value or Decimal(0)).quantize(Decimal("0.01")))


# --- implementation ---------------------------------------------------------------------------------------------


def _implementation(version: StandardVersion, first: dt.date, last: dt.date) -> dict[str, Any]:
    from fuwu.compliance.coverage import rollup
    from fuwu.compliance.models import DONE, Inspection, InspectionKind, Pilot

    coverage: dict[str, Any] | None = None
    stats = rollup([version])[0]
    city = next((r for r in stats.rows if r.level == AreaLevel.CITY), None)
    if stats.kinds and city is not None:
        coverage = {
            "townships": _share(city.townships) if stats.townships_measured else None,
            "villages": _share(city.villages) if stats.villages_measured else None,
            "institutions": city.institutions,
            "passing": city.passing,
        }
    pilots = list(Pilot.objects.filter(standard=version.standard).select_related("area").order_by("area__code"))
    inspections = Inspection.objects.filter(
        standard=version.standard,
        kind__in=[InspectionKind.OFFICIAL, InspectionKind.REINSPECTION],
        status__in=DONE,
        inspected_on__gte=first,
        inspected_on__lte=last,
    )
    totals = inspections.aggregate(n=Count("pk"), passed=Count("pk", filter=Q(passed=True)), score=Avg("score"))
    score = totals["score"]
    failed = {number: counts for number, counts in failed_clauses(version, first, last).items() if counts[0]}
    titles = {
        c.number: (c.title or c.text[:30], c.position) for c in version.clauses.filter(number__in=failed).order_by()
    }
    return {
        # Each clause an inspection in the period found partly or not compliant: (failed, judged), document order.
        "failed_clauses": [
            {
                "number": number,
                "title": titles.get(number, ("", 0))[0],
                "failed": failed[number][0],
                "judged": failed[number][1],
                "failure_percent": _percent(*failed[number]),
            }
            for number in sorted(failed, key=lambda n: (titles.get(n, ("", 10**9))[1], n))
        ],
        "coverage": coverage,
        "pilots": [
            {"area": p.area.name_zh, "area_code": p.area.code, "status": p.status, "label": str(p.get_status_display())}
            for p in pilots
        ],
        "pilots_by_status": dict(Counter(p.status for p in pilots)),
        "inspections": {
            "count": totals["n"],
            "passed": totals["passed"],
            "passed_percent": _percent(totals["passed"], totals["n"]),
            "average_score": None if score is None else str(Decimal(score).quantize(ONE_DECIMAL, ROUND_HALF_UP)),
        },
    }


def _share(share: Any) -> dict[str, Any] | None:
    if share is None:
        return None
    return {"covered": share.covered, "total": share.total, "percent": _percent(share.covered, share.total)}


def failed_clauses(version: StandardVersion, first: dt.date, last: dt.date) -> dict[str, tuple[int, int]]:
    """Per clause number: (department inspections that failed it, inspections that judged it) in the period."""
    from fuwu.compliance.models import DONE, FAILED, ChecklistItem, InspectionKind, Result

    items = ChecklistItem.objects.filter(
        inspection__standard=version.standard,
        inspection__kind__in=[InspectionKind.OFFICIAL, InspectionKind.REINSPECTION],
        inspection__status__in=DONE,
        inspection__inspected_on__gte=first,
        inspection__inspected_on__lte=last,
        answer__isnull=False,
    ).exclude(answer__result=Result.NOT_APPLICABLE)
    rows = items.values("clause_number").annotate(
        judged=Count("pk"), failed=Count("pk", filter=Q(answer__result__in=list(FAILED)))
    )
    return {r["clause_number"]: (r["failed"], r["judged"]) for r in rows}


# --- effect -----------------------------------------------------------------------------------------------------


def _met(numerator: int, denominator: int, target: Decimal | None, comparison: str, unit: str) -> bool | None:
    """On the exact ratio, as the dashboard's cards judge it."""
    if not denominator or target is None:
        return None
    share = Decimal(numerator) * (100 if unit == "percent" else 1)
    goal = target * denominator
    if comparison == "at_most":
        return share <= goal
    if comparison == "equal":
        return share == goal
    return share >= goal


def _value(numerator: int, denominator: int, unit: str) -> str | None:
    if not denominator:
        return None
    value = Decimal(numerator) * (100 if unit == "percent" else 1) / denominator
    return str(value.quantize(ONE_DECIMAL, ROUND_HALF_UP))


def _effect(version: StandardVersion, first: dt.date, last: dt.date) -> dict[str, Any]:
    documented = {i["id"]: i for i in version.document.get("indicators", [])}
    city = Area.objects.filter(level=AreaLevel.CITY).order_by("code").first()
    months = [_month_back(last.replace(day=1), n) for n in range(int(_rules()["months"]) - 1, -1, -1)]
    months = [m for m in months if m >= first]
    indicators, uncomputed = [], []
    for indicator in version.indicators.order_by("pk"):
        data = documented.get(indicator.key, {})
        if not data.get("computation"):
            reason = data.get("not_computable_reason") or {}
            uncomputed.append({"key": indicator.key, "name": indicator.name, "reason": reason.get("zh", "")})
            continue
        unit = data.get("unit") or ""
        points: dict[dt.date, tuple[int, int]] = {}
        if city is not None:
            rows = IndicatorValue.objects.filter(
                indicator=indicator, area=city, period_kind="month", period_start__gte=first, period_start__lte=last
            ).values_list("period_start", "numerator", "denominator")
            points = {start: (n, d) for start, n, d in rows}
        numerator = sum(n for n, _d in points.values())
        denominator = sum(d for _n, d in points.values())
        trend = [{"month": f"{m:%Y-%m}", "value": _value(*points.get(m, (0, 0)), unit)} for m in months]
        with_data = [t["value"] for t in trend if t["value"] is not None]
        direction = ""
        if len(with_data) >= 2:
            a, b = Decimal(with_data[0]), Decimal(with_data[-1])
            direction = "up" if b > a else "down" if b < a else "flat"
        met = _met(numerator, denominator, indicator.target, indicator.comparison, unit)
        indicators.append(
            {
                "key": indicator.key,
                "name": indicator.name,
                "clause": indicator.clause,
                "unit": unit,
                "target": None if indicator.target is None else format(indicator.target.normalize(), "f"),
                "comparison": indicator.comparison,
                "numerator": numerator,
                "denominator": denominator,
                "value": _value(numerator, denominator, unit),
                "met": met,
                "direction": direction,
                "trend": trend,
            }
        )
    judged = [i for i in indicators if i["met"] is not None]
    return {
        "indicators": indicators,
        "uncomputed": uncomputed,
        "judged": len(judged),
        "met": sum(1 for i in judged if i["met"]),
    }


# --- the users' voice and tracing -------------------------------------------------------------------------------


def _item_clauses(version: StandardVersion) -> dict[str, str]:
    """Each service item's key → the clause that describes it (``content.clause``), where the standard says."""
    out = {}
    for key, data in version.items.values_list("key", "data"):
        clause = ((data or {}).get("content") or {}).get("clause")
        if clause:
            out[key] = str(clause)
    return out


TRACED = ("complaints", "complaints_named", "poor_ratings", "poor_ratings_named")


def traced_orders(version: StandardVersion, first: dt.date, last: dt.date) -> dict[str, dict[str, int]]:
    """Per clause: complaints lodged and 差评 given in the period, each at the clause it names, else its item's.

    A complaint or a rating may name the clause it concerns (``fuwu.standards.clause_choice``: the rater, or the
    office when handling it); where it names one of this standard, it is counted there and in ``*_named``.
    Otherwise it is traced through its service item to the clause that describes the item. Home care's
    complaints and ratings (at most ``poor_rating_stars``) of the version's items, and applications' 差评
    (``satisfaction.POOR``) of applications under this standard.
    """
    from fuwu.applications.models import Rating as ApplicationRating
    from fuwu.common import satisfaction
    from fuwu.homecare.models import Complaint, Rating

    clauses = _item_clauses(version)
    items = list(version.items.values_list("key", flat=True))
    start, end = _bounds(first, last)
    complaints = Complaint.objects.filter(order__item__in=items, lodged_at__gte=start, lodged_at__lt=end)
    poor = Rating.objects.filter(
        order__item__in=items, rated_at__gte=start, rated_at__lt=end, stars__lte=int(_rules()["poor_rating_stars"])
    )
    handled = ApplicationRating.objects.filter(
        application__version__standard=version.standard,
        rated_at__gte=start,
        rated_at__lt=end,
        level__in=sorted(satisfaction.POOR),
    )
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TRACED, 0))
    sources: list[tuple[Any, str, str]] = [
        (complaints, "order__item", "complaints"),
        (poor, "order__item", "poor_ratings"),
        (handled, "application__item_key", "poor_ratings"),
    ]
    for rows, item_field, what in sources:
        named = ("clause__version__standard", "clause__number")
        for row in rows.values(item_field, *named).annotate(n=Count("pk")).order_by():
            if row["clause__version__standard"] == version.standard_id and row["clause__number"]:
                number = row["clause__number"]  # named, and of this standard
                out[number][f"{what}_named"] += row["n"]
            elif row[item_field] in clauses:
                number = clauses[row[item_field]]  # the clause describing its item
            else:
                continue  # an item the standard describes in no clause: not traced
            out[number][what] += row["n"]
    return {number: counts for number, counts in out.items() if counts["complaints"] or counts["poor_ratings"]}


def _bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period as aware datetimes in the site's time zone: [first 00:00, the day after last 00:00)."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def _voice(version: StandardVersion, first: dt.date, last: dt.date) -> dict[str, Any]:
    from fuwu.applications.models import Rating as ApplicationRating
    from fuwu.common import satisfaction
    from fuwu.homecare.models import Complaint, ComplaintStatus, Rating

    items = list(version.items.values_list("key", flat=True))
    start, end = _bounds(first, last)
    ratings = Rating.objects.filter(order__item__in=items, rated_at__gte=start, rated_at__lt=end).aggregate(
        n=Count("pk"),
        average=Avg("stars"),
        poor=Count("pk", filter=Q(stars__lte=int(_rules()["poor_rating_stars"]))),
    )
    complaints = Complaint.objects.filter(order__item__in=items, lodged_at__gte=start, lodged_at__lt=end)
    by_status = dict(complaints.values_list("status").annotate(n=Count("pk")).order_by())
    counts = feedback.counts_by_clause(version, public=False)
    average = ratings["average"]
    handling = ApplicationRating.objects.filter(
        application__version__standard=version.standard, rated_at__gte=start, rated_at__lt=end
    ).aggregate(n=Count("pk"), poor=Count("pk", filter=Q(level__in=sorted(satisfaction.POOR))))
    return {
        # Applications' 好差评 of their handling (the national five levels; 差评 = 不满意 or 非常不满意).
        "handling": {"count": handling["n"], "poor": handling["poor"]},
        "ratings": {
            "count": ratings["n"],
            "average": None if average is None else str(Decimal(average).quantize(ONE_DECIMAL, ROUND_HALF_UP)),
            "poor": ratings["poor"],
        },
        "complaints": {
            "count": sum(by_status.values()),
            "upheld": by_status.get(ComplaintStatus.UPHELD, 0),
            "dismissed": by_status.get(ComplaintStatus.DISMISSED, 0),
            "open": by_status.get(ComplaintStatus.OPEN, 0),
        },
        "feedback": {
            "total": sum(c.total for c in counts),
            "approved": sum(c.approved for c in counts),
            "pending": sum(c.pending for c in counts),
            "rejected": sum(c.rejected for c in counts),
        },
    }


def _by_clause(version: StandardVersion, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    failed = failed_clauses(version, first, last)
    traced = traced_orders(version, first, last)
    comments = {c.number: c for c in feedback.counts_by_clause(version, public=False)}
    numbers = set(failed) | set(traced) | set(comments)
    titles = {
        c.number: (c.title or c.text[:30], c.position) for c in version.clauses.filter(number__in=numbers).order_by()
    }
    rows = []
    for number in numbers:
        title, position = titles.get(number, ("", 10**9))
        fails, judged = failed.get(number, (0, 0))
        row = {
            "number": number,
            "title": title,
            "position": position,
            "failed": fails,
            "judged": judged,
            "failure_percent": _percent(fails, judged),
            # Of which named by whoever recorded them or the office; the rest traced through the item.
            **{key: traced.get(number, {}).get(key, 0) for key in TRACED},
            "feedback": comments[number].total if number in comments else 0,
            "feedback_approved": comments[number].approved if number in comments else 0,
        }
        if row["failed"] or row["complaints"] or row["poor_ratings"] or row["feedback"]:
            rows.append(row)
    rows.sort(key=lambda r: (r["position"], r["number"]))
    for r in rows:
        del r["position"]
    return rows


# --- cost -------------------------------------------------------------------------------------------------------


def _cost(version: StandardVersion, first: dt.date, last: dt.date) -> dict[str, Any]:
    from fuwu.homecare.models import SettlementLine, SettlementStatus

    items = list(version.items.values_list("key", flat=True))
    lines = SettlementLine.objects.filter(
        item__in=items,
        settlement__status=SettlementStatus.CONFIRMED,
        settlement__month__gte=first,
        settlement__month__lte=last,
    )
    totals = lines.aggregate(n=Count("pk"), gross=Sum("price"), deductions=Sum("deduction"))
    settlements = None
    if totals["n"]:
        gross, deductions = totals["gross"] or Decimal(0), totals["deductions"] or Decimal(0)
        settlements = {
            "visits": totals["n"],
            "gross": _money(gross),
            "deductions": _money(deductions),
            "net": _money(gross - deductions),
        }
    return {"settlements": settlements, "grants": _grants_paid(items, first, last)}


def _grants_paid(items: list[str], first: dt.date, last: dt.date) -> dict[str, Any]:
    """What approved applications for the standard's items paid out in the period: their payment lines."""
    from fuwu.applications.grants import payment_lines
    from fuwu.applications.models import Grant

    grants = Grant.objects.filter(item_key__in=items, start_on__lte=last).exclude(end_on__lt=first)
    lines = [line for grant in grants.iterator() for line in payment_lines(grant, first=first, last=last)]
    if not lines:
        return {"available": False, "note": _("期内没有申请补助的发放记录。")}
    known = [line.amount for line in lines if line.amount is not None]
    return {
        "available": True,
        "grants": len({line.grant.pk for line in lines}),
        "payments": len(lines),
        "amount": _money(sum(known, Decimal(0))),
        "unknown_amounts": len(lines) - len(known),
    }


# --- the suggestion ---------------------------------------------------------------------------------------------


NO_SUGGESTION = ""  # fuwu holds nothing to judge the standard by: the office decides, with its reasons


def suggest(report: dict[str, Any]) -> tuple[str, list[str]]:
    """The suggested decision and its reasons, by the rules of thumb in ``settings.FUWU_REVIEW_RULES``:

    0. **none** (``NO_SUGGESTION``) when fuwu holds no record of the standard's implementation at all — no
       indicator it computes, and no inspection, pilot, rating, complaint or settlement: an absence of data
       here says nothing about the standard, so no decision is suggested and the office's needs reasons;
    1. **abolish** when fuwu computes indicators of the standard but nothing shows it is implemented in the
       period: no indicator with data, no department inspection, no pilot, no rating, complaint or settlement;
    2. **revise** when any of: fewer than ``revise_if_indicators_met_below`` of the judged indicators meet their
       target; a clause failed in at least ``revise_if_clause_failure_rate`` of at least
       ``min_inspections_for_failure_rate`` inspections; a clause with at least ``revise_if_clause_feedback``
       approved public comments; a clause with at least ``revise_if_clause_complaints`` complaints and 差评;
    3. **continue** otherwise.
    """
    rules = _rules()
    effect, implementation, voice, cost = (
        report["effect"],
        report["implementation"],
        report["voice"],
        report["cost"],
    )
    activity = (
        any(i["denominator"] for i in effect["indicators"])
        or implementation["inspections"]["count"]
        or implementation["pilots"]
        or voice["ratings"]["count"]
        or voice["complaints"]["count"]
        or cost["settlements"]
    )
    if not activity and not effect["indicators"]:
        return NO_SUGGESTION, [
            _(
                "本平台没有这项标准的实施记录：没有可由数据计算的指标，也没有部门检查、试点、评价、投诉或结算。"
                "没有数据不能说明标准未实施，因此不作建议；请依据其他证据作出结论并写明理由。"
            ),
        ]
    if not activity:
        return Decision.ABOLISH, [
            _("评估期内没有任何实施记录：没有指标数据、部门检查、试点、评价、投诉或结算。"),
        ]
    reasons = []
    threshold = Decimal(str(rules["revise_if_indicators_met_below"]))
    if effect["judged"] and Decimal(effect["met"]) / effect["judged"] < threshold:
        reasons.append(
            _("达标的指标只有 %(met)d 个（共 %(judged)d 个可判断），不足 %(share)s。")
            % {"met": effect["met"], "judged": effect["judged"], "share": f"{threshold * 100:.0f}%"}
        )
    rate = Decimal(str(rules["revise_if_clause_failure_rate"]))
    least = int(rules["min_inspections_for_failure_rate"])
    for row in report["clauses"]:
        if row["judged"] >= least and Decimal(row["failed"]) / row["judged"] >= rate:
            reasons.append(
                _("第 %(n)s 条在 %(judged)d 次检查中 %(failed)d 次不符合或部分符合。")
                % {"n": row["number"], "judged": row["judged"], "failed": row["failed"]}
            )
        if row["feedback_approved"] >= int(rules["revise_if_clause_feedback"]):
            reasons.append(
                _("第 %(n)s 条收到 %(count)d 条公开意见。") % {"n": row["number"], "count": row["feedback_approved"]}
            )
        voiced = row["complaints"] + row["poor_ratings"]
        if voiced >= int(rules["revise_if_clause_complaints"]):
            reasons.append(_("第 %(n)s 条涉及 %(count)d 件投诉和差评。") % {"n": row["number"], "count": voiced})
    if reasons:
        return Decision.REVISE, reasons
    return Decision.CONTINUE, [_("指标基本达标，检查、投诉和公众意见没有集中指向某一条款。")]


# --- the report -------------------------------------------------------------------------------------------------


def evaluation_report(version: StandardVersion, *, today: dt.date | None = None) -> dict[str, Any]:
    """Every section of the evaluation of ``version`` (JSON-ready: stored as it was with the decision)."""
    first, last = period_for(today or timezone.localdate())
    report: dict[str, Any] = {
        "standard": version.standard.key,
        "version": version.pk,
        "number": version.number,
        "code": version.code,
        "title": version.title,
        "status": version.status,
        "review_due_on": version.review_due_on.isoformat(),
        "period": {"first": first.isoformat(), "last": last.isoformat()},
        "implementation": _implementation(version, first, last),
        "effect": _effect(version, first, last),
        "voice": _voice(version, first, last),
        "clauses": _by_clause(version, first, last),
        "cost": _cost(version, first, last),
    }
    decision, reasons = suggest(report)
    report["suggestion"] = {"decision": str(decision), "reasons": reasons}
    return report


# --- the decision -----------------------------------------------------------------------------------------------


def evaluation_decide(
    *, actor: Any, version: StandardVersion, decision: str, reasons: str, today: dt.date | None = None
) -> StandardEvaluation:
    """The office's decision on ``version``'s evaluation; drives the lifecycle and keeps the report's PDF.

    Raises ``NotAllowed`` (not the standards office) and ``ReviewError`` (bad input, a version not in force,
    a transition the registry refuses). Nothing is written, and no file is kept, unless all of it succeeds.
    """
    from fuwu.evaluation.report import report_pdf

    if not can_decide(actor):
        raise NotAllowed("only the standards office decides on a standard's review")
    if decision not in Decision.values:
        raise ReviewError(_("结论：请选择继续有效、修订或废止。"))
    reasons = (reasons or "").replace("\x00", "").strip()
    if len(reasons) > 2000:
        raise ReviewError(_("理由：最多 2000 个字。"))
    if version.status not in IN_FORCE:
        raise ReviewError(
            _("标准：%(code)s 现在是“%(status)s”，只能对现行或复审中的标准作出复审结论。")
            % {"code": version.code, "status": version.get_status_display()}
        )
    today = today or timezone.localdate()
    report = evaluation_report(version, today=today)
    suggested = report["suggestion"]["decision"]
    if suggested == NO_SUGGESTION and not reasons:
        raise ReviewError(_("理由：评估没有建议（本平台没有这项标准的实施记录），请写明作出这一结论的依据。"))
    if decision != suggested and not reasons:
        raise ReviewError(
            _("理由：结论（%(chosen)s）与评估建议（%(suggested)s）不同，请写明理由。")
            % {"chosen": Decision(decision).label, "suggested": Decision(suggested).label}
        )
    note = reasons or "；".join(report["suggestion"]["reasons"])
    decided_at = timezone.now()
    pdf = report_pdf(
        report,
        decision={
            "decision": decision,
            "label": str(Decision(decision).label),
            "reasons": reasons,
            "by": actor.get_full_name() or actor.get_username(),
            "at": decided_at,
        },
    )
    name = default_storage.save(
        f"evaluation/reports/{version.standard.key}-v{version.number}-{decided_at:%Y%m%d%H%M%S}.pdf", ContentFile(pdf)
    )
    try:
        return _decide(
            actor=actor,
            version=version,
            decision=decision,
            suggested=suggested,
            reasons=reasons,
            note=note,
            report=report,
            file_name=name,
            digest=hashlib.sha256(pdf).hexdigest(),
            decided_at=decided_at,
            today=today,
        )
    except BaseException:
        default_storage.delete(name)
        raise


@transaction.atomic
def _decide(
    *,
    actor: Any,
    version: StandardVersion,
    decision: str,
    suggested: str,
    reasons: str,
    note: str,
    report: dict[str, Any],
    file_name: str,
    digest: str,
    decided_at: dt.datetime,
    today: dt.date,
) -> StandardEvaluation:
    first, last = period_for(today)
    draft = None
    try:
        current = StandardVersion.objects.select_for_update().get(pk=version.pk)
        if current.status == Status.PUBLISHED:
            current = lifecycle.standard_begin_review(version=current, actor=actor, note=_("标准实施评估"))
        if decision == Decision.CONTINUE:
            lifecycle.standard_confirm(version=current, actor=actor, reviewed_on=today, note=note)
        elif decision == Decision.REVISE:
            draft = lifecycle.standard_revise(version=current, actor=actor, note=note)
        else:
            lifecycle.standard_abolish(version=current, actor=actor, note=note)
    except lifecycle.TransitionError as exc:
        raise ReviewError(_("复审：登记簿拒绝了这一变更（%(why)s）。") % {"why": exc}) from exc
    evaluation = StandardEvaluation.objects.create(
        version=version,
        period_start=first,
        period_end=last,
        data=report,
        suggested=suggested,
        decision=decision,
        reasons=reasons,
        draft=draft,
        report=file_name,
        report_sha256=digest,
        decided_by=actor,
        decided_at=decided_at,
    )
    audit(
        actor=actor,
        event="evaluation.decided",
        obj=evaluation,
        after={"version": version.pk, "suggested": suggested, "decision": decision, "draft": draft and draft.pk},
        note=reasons,
    )
    # Kept with the version's history too: the registry's history page lists the version's audit rows.
    audit(
        actor=actor,
        event="standard.evaluated",
        obj=version,
        after={"evaluation": evaluation.pk, "suggested": suggested, "decision": decision},
        note=reasons,
    )
    return evaluation


def evaluations_of(version: StandardVersion) -> list[StandardEvaluation]:
    return list(version.evaluations.select_related("decided_by", "draft").order_by("-decided_at"))


def versions_due(*, today: dt.date) -> list[StandardVersion]:
    """Versions in force whose review is due within 180 days or overdue (the registry's list), under review too."""
    from fuwu.standards.selectors import reviews_due

    due = list(reviews_due(today=today).select_related("standard"))
    seen = {v.pk for v in due}
    under = StandardVersion.objects.filter(status=Status.UNDER_REVIEW).select_related("standard")
    return due + [v for v in under if v.pk not in seen]
