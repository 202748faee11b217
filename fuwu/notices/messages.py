"""The words of each kind of notice: translatable templates, filled with a notice's (masked) parameters.

A template may use ``%(person)s`` (a masked name, "林*"), ``%(item)s`` (the item's name), ``%(number)s`` (the
application's number), ``%(due)s``, ``%(promised_by)s`` and ``%(department)s``; the overdue job's escalations
(one notice per recipient per run) ``%(count)s`` and ``%(day)s``. Nothing else reaches them: no
identity number, no full name, no reason text an officer typed (the page behind the link shows that to those
who may read it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from fuwu.notices.models import Audience

SUBJECT = _("申请办理进度")

APPLICANT: dict[str, Promise] = {
    "submitted": _("已收到为%(person)s提交的“%(item)s”申请（编号 %(number)s），请等待受理。"),
    "accepted": _("%(person)s的“%(item)s”申请（编号 %(number)s）已受理。%(due_text)s"),
    "accepted_with_promise": _(
        "%(person)s的“%(item)s”申请（编号 %(number)s）已容缺受理，请于 %(promised_by)s 前补齐所缺材料。"
    ),
    "notice": _("%(person)s的“%(item)s”申请（编号 %(number)s）需要补正材料：请登录查看一次性告知，并一次补齐。"),
    "supplied": _("%(person)s的“%(item)s”申请（编号 %(number)s）已收到补正的材料。"),
    "advanced": _("%(person)s的“%(item)s”申请（编号 %(number)s）已进入下一办理环节。%(due_text)s"),
    "approved": _("%(person)s的“%(item)s”申请（编号 %(number)s）已批准。"),
    "refused": _("%(person)s的“%(item)s”申请（编号 %(number)s）未获批准，理由和依据请登录查看。"),
    "transferred": _("%(person)s的“%(item)s”申请（编号 %(number)s）已转由%(department)s办理。"),
    "withdrawn": _("%(person)s的“%(item)s”申请（编号 %(number)s）已撤回。"),
    "closed": _("%(person)s的“%(item)s”申请（编号 %(number)s）已终止办理，原因请登录查看。"),
    # 免申即享 (applications/proactive.py)
    "prefilled": _("根据登记信息，%(person)s可以享受“%(item)s”。系统已预填申请（编号 %(number)s），请登录确认或谢绝。"),
    "granted": _(
        "根据登记信息，%(person)s符合“%(item)s”的条件，已免于申请直接批准（编号 %(number)s），详情请登录查看。"
    ),
    "confirmed": _("已确认为%(person)s预填的“%(item)s”申请（编号 %(number)s），请等待受理。"),
    "declined": _("已谢绝为%(person)s预填的“%(item)s”申请（编号 %(number)s）。"),
}

OFFICER: dict[str, Promise] = {
    "submitted": _("新申请：%(person)s的“%(item)s”（编号 %(number)s）待受理。"),
    "supplied": _("申请人已为“%(item)s”申请（编号 %(number)s）补正材料，请继续办理。"),
    "transferred": _("“%(item)s”申请（编号 %(number)s）已转来本部门办理。"),
    "withdrawn": _("“%(item)s”申请（编号 %(number)s）已由申请人撤回。"),
    "confirmed": _("新申请：%(person)s已确认预填的“%(item)s”申请（编号 %(number)s），待受理。"),
    # The overdue job's run: to the department's supervisors of the area (督办负责人) ...
    "escalated": _(
        "超期督办：%(day)s，%(department)s本辖区有 %(count)s 件申请的当前环节超过办理时限，已督办；"
        "请在待办申请中查看“已超期”。"
    ),
    # ... or, where the department has none for the area, to its officers who handle them, saying so.
    "escalated_to_officers": _(
        "超期督办：%(day)s，%(department)s本辖区有 %(count)s 件申请的当前环节超过办理时限。本辖区未设督办负责人，"
        "督办通知发给办理人员；请尽快办理（待办申请中的“已超期”）。"
    ),
}

DUE_TEXT = _("本环节应于 %(due)s 前办结。")
UNKNOWN = _("申请办理进度有更新，请登录查看。")


def templates(audience: str) -> Mapping[str, Promise]:
    return OFFICER if audience == Audience.OFFICER else APPLICANT


def _pick(value: Any, english: bool) -> str:
    if isinstance(value, dict):
        return str((value.get("en") if english else None) or value.get("zh") or "")
    return "" if value is None else str(value)


def render(kind: str, audience: str, params: Mapping[str, Any], *, language: str | None = None) -> str:
    """The notice's words in ``language`` (the active one when ``None``)."""
    with translation.override(language) if language else translation.override(translation.get_language()):
        english = (translation.get_language() or "").startswith("en")
        values = {k: _pick(v, english) for k, v in params.items()}
        values["due_text"] = str(DUE_TEXT) % values if values.get("due") else ""
        template = templates(audience).get(kind)
        if template is None:
            return str(UNKNOWN)
        try:
            return str(template) % values
        except (KeyError, ValueError):
            return str(UNKNOWN)


def subject(*, language: str | None = None) -> str:
    with translation.override(language) if language else translation.override(translation.get_language()):
        return str(SUBJECT)
