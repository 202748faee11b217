"""The published data views indicators are written over: their names, grain and columns.

This module is pure data, read by ``fuwu standards validate`` (no database): an indicator's
``computation`` names one view and writes its numerator and denominator as boolean expressions over that
view's columns, in the rule language (``fuwu.eligibility.rules``). The rows themselves come from
``fuwu.evaluation.datasets``; docs/evaluation.md describes each view for the people writing standards.

Every view is read per period ``[start, end)``: an event view returns the events dated in the period, a
snapshot view the state at the period's end. Every row has an ``area`` (a 12-digit village code, or
``None`` for a row that belongs to no place below the city, counted at the city only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fuwu.eligibility.facts import FactType

ORDER_STATUSES = ("requested", "accepted", "scheduled", "in_service", "completed", "rated", "cancelled", "no_show")
ORDER_KINDS = ("subsidised", "package")
COMPLAINT_STATUSES = ("open", "upheld", "dismissed")
SCREENING_ANSWERS = ("screened", "eligible", "unknown")
APPLICATION_STATUSES = ("submitted", "in_progress", "awaiting_applicant", "approved", "refused", "withdrawn", "closed")
INSPECTION_KINDS = ("official", "self", "reinspection")
INSPECTION_STATUSES = ("planned", "in_progress", "signed", "published")
CLAUSE_RESULTS = ("compliant", "partly", "not", "na")
CLAUSE_KINDS = ("requirement", "recommendation")
RECTIFICATION_STATUSES = ("open", "answered", "accepted", "to_reinspect", "verified", "failed")
PILOT_STATUSES = ("designated", "accepted", "not_accepted")


@dataclass(frozen=True)
class Column:
    name: str
    type: FactType
    zh: str
    en: str
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class View:
    name: str
    zh: str
    en: str
    grain: str  # one row per …, in English (docs)
    dated_by: str  # how a row falls in a period, in English (docs)
    snapshot: bool
    columns: dict[str, Column] = field(default_factory=dict)
    # A view whose rows are counts (screening's township counts) names the column that says how many cases
    # a row stands for; the engine adds that many to the numerator and denominator instead of one.
    weight: str | None = None


def _view(
    name: str,
    zh: str,
    en: str,
    *,
    grain: str,
    dated_by: str,
    snapshot: bool,
    columns: list[Column],
    weight: str | None = None,
    area: Column | None = None,
) -> View:
    area = area or Column("area", FactType.AREA, "户籍所在村（社区）代码", "Hukou village or community code")
    return View(name, zh, en, grain, dated_by, snapshot, {c.name: c for c in [area, *columns]}, weight)


_PROVIDER = Column("provider_id", FactType.INTEGER, "服务机构编号", "Provider id")

VIEWS: dict[str, View] = {
    v.name: v
    for v in [
        _view(
            "homecare_visits",
            "居家养老服务工单",
            "Home-care service orders",
            grain="one row per service order",
            dated_by="the allowance month the order draws on falls in the period",
            snapshot=False,
            columns=[
                _PROVIDER,
                Column("kind", FactType.TEXT, "工单类型", "Order kind", ORDER_KINDS),
                Column("status", FactType.TEXT, "工单状态", "Order status", ORDER_STATUSES),
                Column("done", FactType.BOOLEAN, "已完成（含已评价）", "Completed or rated"),
                Column("confirmed", FactType.BOOLEAN, "老人或家属已确认", "Confirmed by the elder or family"),
                Column("checked_in", FactType.BOOLEAN, "已签到", "Checked in"),
                Column("planned", FactType.BOOLEAN, "已排定上门时间", "Has a planned start"),
                Column(
                    "arrival_offset_seconds",
                    FactType.DECIMAL,
                    "到场人员签到与约定时间的最大偏差（秒）",
                    "Largest gap between a caregiver's check-in and the planned start, in seconds",
                ),
                Column("checkin_distance_m", FactType.INTEGER, "签到距离（米）", "Check-in distance (m)"),
                Column("checkout_distance_m", FactType.INTEGER, "签退距离（米）", "Check-out distance (m)"),
                Column(
                    "located", FactType.BOOLEAN, "签到签退均由手机定位", "Check-in and check-out located by the phone"
                ),
                Column("duration_seconds", FactType.DECIMAL, "服务时长（秒）", "Visit duration (s)"),
                Column("agreed_minutes", FactType.INTEGER, "约定时长（分钟）", "Agreed length (min)"),
                Column("called_back", FactType.BOOLEAN, "电话回访已接通", "Callback reached the elder"),
            ],
        ),
        _view(
            "homecare_responses",
            "居家养老服务满意度反馈",
            "Home-care satisfaction responses",
            grain="one row per rating, and one per callback that reached the elder and recorded an answer",
            dated_by="the allowance month of the rated or called-back order falls in the period",
            snapshot=False,
            columns=[
                _PROVIDER,
                Column("stars", FactType.INTEGER, "评价星级（回访为空）", "Stars given (empty for a callback)"),
                Column(
                    "callback_satisfied",
                    FactType.BOOLEAN,
                    "回访时表示满意（评价为空）",
                    "Satisfied when called back (empty for a rating)",
                ),
            ],
        ),
        _view(
            "homecare_complaints",
            "居家养老服务投诉",
            "Home-care complaints",
            grain="one row per complaint",
            dated_by="lodged (Asia/Shanghai date) in the period",
            snapshot=False,
            columns=[
                _PROVIDER,
                Column("status", FactType.TEXT, "投诉状态", "Complaint status", COMPLAINT_STATUSES),
                Column("due_on", FactType.DATE, "应办结日期", "Due on"),
                Column("resolved_on", FactType.DATE, "办结日期", "Resolved on"),
                Column(
                    "pending",
                    FactType.BOOLEAN,
                    "计算当天仍在处理中且未到期",
                    "Still open and not yet due on the day of computing",
                ),
            ],
        ),
        _view(
            "homecare_new_accounts",
            "新增居家养老服务对象",
            "New home-care service objects",
            grain="one row per entitlement account",
            dated_by="opened in the period",
            snapshot=False,
            columns=[
                _PROVIDER,
                Column("opened_on", FactType.DATE, "开户（审批通过）日期", "Opened (approved) on"),
                Column("first_visit_due", FactType.DATE, "首次上门期限", "First visit due"),
                Column("first_visit_on", FactType.DATE, "首次完成上门服务日期", "First completed visit on"),
                Column(
                    "pending",
                    FactType.BOOLEAN,
                    "计算当天尚未上门且未到期",
                    "Not yet visited and not yet due on the day of computing",
                ),
            ],
        ),
        _view(
            "homecare_entitled",
            "享受居家养老服务补贴的对象",
            "Elders entitled to home-care subsidies",
            grain="one row per active entitlement account opened before the period's end",
            dated_by="snapshot at the period's end",
            snapshot=True,
            columns=[
                _PROVIDER,
                Column(
                    "served",
                    FactType.BOOLEAN,
                    "期内接受过已确认的补贴服务",
                    "Received a confirmed subsidised service drawn on the period's allowance",
                ),
            ],
        ),
        _view(
            "homecare_caregivers",
            "在岗居家养老服务人员",
            "Home-care staff in post",
            grain="one row per active caregiver (area empty: staff belong to no hukou area)",
            dated_by="snapshot: staff in post when computed, training counted from 1 January to the period's end",
            snapshot=True,
            columns=[
                _PROVIDER,
                Column(
                    "training_hours",
                    FactType.DECIMAL,
                    "本年度在岗继续培训学时",
                    "In-service training hours this year up to the period's end",
                ),
            ],
        ),
    ]
}

_STANDARD = Column("standard", FactType.TEXT, "标准编号（键）", "Standard key")
_INSTITUTION_KIND = Column("institution_kind", FactType.TEXT, "机构类型", "Institution kind")
_PLACE = Column("area", FactType.AREA, "机构所在地区代码", "Code of the area the institution sits in")
_APPLICATION_COLUMNS = [
    Column("item", FactType.TEXT, "服务事项（键）", "Service item key"),
    Column("status", FactType.TEXT, "申请状态", "Application status", APPLICATION_STATUSES),
    Column("submitted_on", FactType.DATE, "提交日期", "Submitted on"),
    Column("accepted", FactType.BOOLEAN, "已受理（办理时限已起算）", "Accepted (the clock started)"),
    Column("due_on", FactType.DATE, "当前（或最后）环节应办结日期", "Due on (the current or last step)"),
    Column("decided", FactType.BOOLEAN, "已办结（批准或不予批准）", "Decided (approved or refused)"),
    Column("decided_on", FactType.DATE, "办结日期", "Decided on"),
    Column(
        "on_time",
        FactType.BOOLEAN,
        "按时办结（未超过应办结日期；未受理即办结的视为按时）",
        "Decided by its due date (decided before any clock ran counts as on time)",
    ),
    Column(
        "overdue",
        FactType.BOOLEAN,
        "计算当天仍在办理且已超期",
        "Still open and past its due date on the day of computing",
    ),
    Column("days_to_decision", FactType.INTEGER, "从提交到办结的自然日数", "Calendar days from submission to decision"),
]

VIEWS.update(
    {
        v.name: v
        for v in [
            _view(
                "screening_results",
                "户籍筛查结果",
                "Screening results",
                grain=(
                    "one row per township, item and answer of the latest screening run in the period, with the "
                    "number of persons it stands for (persons); plus one row for the persons screened (city only)"
                ),
                dated_by="snapshot: the latest completed (not what-if) run whose as-of date falls in the period",
                snapshot=True,
                weight="persons",
                area=Column("area", FactType.AREA, "户籍所在乡镇（街道）代码", "Hukou township code"),
                columns=[
                    Column("item", FactType.TEXT, "服务事项（键；筛查人数行为空）", "Service item key"),
                    Column("answer", FactType.TEXT, "筛查结论", "Answer", SCREENING_ANSWERS),
                    Column(
                        "served",
                        FactType.BOOLEAN,
                        "已在享受（符合条件且不在主动服务名单上；无名单的事项为空）",
                        "Already receiving it (entitled and not on the proactive list; empty without a list)",
                    ),
                    Column("persons", FactType.INTEGER, "人数", "Persons this row stands for"),
                ],
            ),
            _view(
                "applications",
                "办事申请（按提交日期）",
                "Applications, by submission",
                grain="one row per application",
                dated_by="submitted (Asia/Shanghai date) in the period",
                snapshot=False,
                columns=_APPLICATION_COLUMNS,
            ),
            _view(
                "applications_decided",
                "办事申请（按办结日期）",
                "Applications, by decision",
                grain="one row per approved or refused application",
                dated_by="decided (Asia/Shanghai date) in the period",
                snapshot=False,
                columns=_APPLICATION_COLUMNS,
            ),
            _view(
                "compliance_inspections",
                "标准实施检查",
                "Compliance inspections",
                grain="one row per inspection not cancelled",
                dated_by="inspected in the period, or (not yet inspected) planned for a day in the period",
                snapshot=False,
                area=_PLACE,
                columns=[
                    _STANDARD,
                    _INSTITUTION_KIND,
                    Column("kind", FactType.TEXT, "检查类型", "Inspection kind", INSPECTION_KINDS),
                    Column("status", FactType.TEXT, "检查状态", "Inspection status", INSPECTION_STATUSES),
                    Column("done", FactType.BOOLEAN, "已签署或已公开", "Signed or published"),
                    Column("planned_on", FactType.DATE, "计划检查日期", "Planned for"),
                    Column("inspected_on", FactType.DATE, "检查日期", "Inspected on"),
                    Column(
                        "on_schedule",
                        FactType.BOOLEAN,
                        "在计划日期当天或之前完成（无计划日期为空）",
                        "Done on or before its planned day (empty without a plan)",
                    ),
                    Column("score", FactType.DECIMAL, "得分", "Score"),
                    Column("passed", FactType.BOOLEAN, "检查合格", "Passed"),
                    Column("critical_failed", FactType.BOOLEAN, "否决项不符合", "A critical clause failed"),
                    Column(
                        "failed_clauses", FactType.INTEGER, "不符合或部分符合的条款数", "Clauses failed or partly met"
                    ),
                ],
            ),
            _view(
                "compliance_clauses",
                "检查条款结果",
                "Inspection clause results",
                grain="one row per answered checklist clause of a signed or published inspection",
                dated_by="the inspection's date falls in the period",
                snapshot=False,
                area=_PLACE,
                columns=[
                    _STANDARD,
                    _INSTITUTION_KIND,
                    Column("inspection_kind", FactType.TEXT, "检查类型", "Inspection kind", INSPECTION_KINDS),
                    Column("clause", FactType.TEXT, "条款号", "Clause number"),
                    Column("clause_kind", FactType.TEXT, "条款性质", "Clause kind", CLAUSE_KINDS),
                    Column("critical", FactType.BOOLEAN, "否决项", "Critical"),
                    Column("result", FactType.TEXT, "检查结果", "Result", CLAUSE_RESULTS),
                ],
            ),
            _view(
                "compliance_rectifications",
                "整改通知",
                "Rectification orders",
                grain="one row per rectification order",
                dated_by="opened in the period",
                snapshot=False,
                area=_PLACE,
                columns=[
                    _STANDARD,
                    _INSTITUTION_KIND,
                    Column("status", FactType.TEXT, "整改状态", "Order status", RECTIFICATION_STATUSES),
                    Column("opened_on", FactType.DATE, "下达日期", "Opened on"),
                    Column("due_on", FactType.DATE, "整改期限", "Due on"),
                    Column("closed", FactType.BOOLEAN, "已验收或复查合格", "Accepted or verified"),
                    Column("closed_on", FactType.DATE, "验收或复查合格日期", "Accepted or verified on"),
                    Column(
                        "on_time",
                        FactType.BOOLEAN,
                        "在期限内整改到位",
                        "Put right by its due date (accepted or verified)",
                    ),
                    Column(
                        "overdue",
                        FactType.BOOLEAN,
                        "计算当天仍未整改到位且已超期",
                        "Not yet put right and past due on the day of computing",
                    ),
                ],
            ),
            _view(
                "compliance_coverage",
                "标准覆盖与试点",
                "Standard coverage and pilots",
                grain="one row per village and per township, for every standard in force that governs institutions",
                dated_by="snapshot: institutions and their latest published results when computed",
                snapshot=True,
                area=Column("area", FactType.AREA, "村（社区）或乡镇（街道）代码", "Village or township code"),
                columns=[
                    _STANDARD,
                    Column("level", FactType.TEXT, "地区层级", "Area level", ("township", "village")),
                    Column("institutions", FactType.INTEGER, "该地区的受管机构数", "Governed institutions in the area"),
                    Column(
                        "covered",
                        FactType.BOOLEAN,
                        "有受管机构且最新公开检查均合格（不按该层级衡量时为空）",
                        "Has governed institutions and all passed their latest published inspection (empty where "
                        "the level is not measured)",
                    ),
                    Column("pilot", FactType.BOOLEAN, "是该标准的试点地区", "A pilot area of the standard"),
                    Column("pilot_status", FactType.TEXT, "试点状态", "Pilot status", PILOT_STATUSES),
                ],
            ),
        ]
    }
)
