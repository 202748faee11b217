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


def _view(name: str, zh: str, en: str, *, grain: str, dated_by: str, snapshot: bool, columns: list[Column]) -> View:
    area = Column("area", FactType.AREA, "户籍所在村（社区）代码", "Hukou village or community code")
    return View(name, zh, en, grain, dated_by, snapshot, {c.name: c for c in [area, *columns]})


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
