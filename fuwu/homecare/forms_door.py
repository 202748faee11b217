"""Forms for the pages at the door: families booking and following a visit, caregivers making it.

They only parse what people type; every rule (windows, limits, distances, states) is the services' to
check, and their refusals are put back on these forms by ``refuse``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fuwu.common import satisfaction
from fuwu.common.params import DayField
from fuwu.homecare.door import Position
from fuwu.homecare.models import OrderKind
from fuwu.homecare.services import HomeCareError
from fuwu.homecare.standard import Project

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # a dev-only package: for the type checker only

# Which field a service refusal is about, by its code; anything else is shown for the whole form.
REFUSAL_FIELDS = {
    "reason_required": "reason",
    "short_reason_required": "short_reason",
    "record_required": "tasks",
    "bad_location": "latitude",
    "bad_code": "code",
    "bad_rating": "stars",
    "bad_clause": "clause",
    "text_required": "text",
    "bad_photo": "photo",
    "too_many_photos": "photo",
    "monthly_limit": "project",
    "unknown_item": "project",
    "not_entitled": "project",
}


def refuse(form: forms.Form, error: HomeCareError) -> None:
    """Show a service's refusal on the form, on the field it concerns when there is one."""
    field = REFUSAL_FIELDS.get(error.code)
    form.add_error(field if field in form.fields else None, str(error))


class DoorForm(forms.Form):
    """Each form sets its own ``id_prefix`` for its ids, as several share a page. The templates switch off the
    browser's own validation bubbles (``novalidate``), so every message the person sees is ours."""

    id_prefix = "door"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        # The labels are whole phrases; a colon after each reads badly in Chinese.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _project_label(project: Project) -> str:
    if project.kind == OrderKind.PACKAGE:
        return _("%(name)s（个性化服务套餐，自费 %(price)s 元/月，每次约 %(minutes)s 分钟）") % {
            "name": project.name,
            "price": project.price,
            "minutes": project.minutes,
        }
    if project.monthly_limit is not None:
        return _("%(name)s（补贴项目，%(price)s 元/次，每次不少于 %(minutes)s 分钟，每月最多 %(limit)s 次）") % {
            "name": project.name,
            "price": project.price,
            "minutes": project.minutes,
            "limit": project.monthly_limit,
        }
    return _("%(name)s（补贴项目，%(price)s 元/次，每次不少于 %(minutes)s 分钟）") % {
        "name": project.name,
        "price": project.price,
        "minutes": project.minutes,
    }


class BookForm(DoorForm):
    project = forms.ChoiceField(
        label=gettext_lazy("服务项目"),
        widget=forms.RadioSelect,
        help_text=gettext_lazy("补贴项目的费用从老人每月的补贴额度中扣除；套餐由老人自费。"),
    )
    day = DayField(label=gettext_lazy("服务日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start = forms.TimeField(
        label=gettext_lazy("最早几点可以上门"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    end = forms.TimeField(
        label=gettext_lazy("最晚几点要服务完"),
        help_text=gettext_lazy("服务机构会在这段时间内安排护理员上门；时段要比服务时长宽一些。"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    # Made when the form is first shown: a double click or a browser retry sends the same key, and
    # the booking service answers it with the order it already made.
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={
            "required": gettext_lazy("页面已过期，请刷新后重新填写。"),
            "max_length": gettext_lazy("页面已过期，请刷新后重新填写。"),
        },
    )

    id_prefix = "book"

    def __init__(self, *args: Any, projects: Iterable[Project], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["project"]).choices = [(p.key, _project_label(p)) for p in projects]

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        day: dt.date = self.cleaned_data["day"]
        zone = timezone.get_current_timezone()
        return (
            dt.datetime.combine(day, self.cleaned_data["start"], tzinfo=zone),
            dt.datetime.combine(day, self.cleaned_data["end"], tzinfo=zone),
        )


class CancelForm(DoorForm):
    id_prefix = "cancel"
    reason = forms.CharField(
        label=gettext_lazy("取消原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 2, "cols": 40})
    )


class ConfirmForm(DoorForm):
    """The family's own confirmation: no fields, the button is the statement."""

    id_prefix = "confirm"


def _star_label(level: satisfaction.Level) -> str:
    return _("%(n)s 星：%(level)s") % {"n": int(level), "level": level.label}


# The national 好差评 scale (fuwu.common.satisfaction), the same five words applications use, as stars.
STARS = [(int(level), lazy(_star_label, str)(level)) for level in satisfaction.LEVELS]


class RateForm(DoorForm):
    stars = forms.TypedChoiceField(
        label=gettext_lazy("给这次服务打分"), choices=STARS, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=gettext_lazy("想说的话（可不填）"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
    )
    # The clauses of the version governing the order's item, by title (``clause_choice.choices``), set by the
    # view; the service checks the choice (``complaints.named_clause``), so a stale page gets our message.
    clause = forms.CharField(
        label=gettext_lazy("与标准的哪一条有关（可不选）"),
        required=False,
        widget=forms.Select(choices=[]),
        help_text=gettext_lazy("选出您认为没有做到的那一项；不确定就不选。"),
    )

    id_prefix = "rate"


class ComplainForm(DoorForm):
    text = forms.CharField(
        label=gettext_lazy("投诉内容"),
        help_text=gettext_lazy("请写明发生了什么；村（社区）工作人员会在规定期限内答复。"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
    )
    # The clauses of the version governing the order's item, by title (``clause_choice.choices``), set by the
    # view; the service checks the choice (``complaints.named_clause``), so a stale page gets our message.
    clause = forms.CharField(
        label=gettext_lazy("与标准的哪一条有关（可不选）"),
        required=False,
        widget=forms.Select(choices=[]),
        help_text=gettext_lazy("选出您认为没有做到的那一项；不确定就不选。"),
    )

    id_prefix = "complain"


# --- caregivers ------------------------------------------------------------------------------------

SIX_PLACES = Decimal("0.000001")


def _coordinate(label: StrOrPromise, *, low: int, high: int, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(low),
        max_value=Decimal(high),
        # Text, not number: some phone keyboards offer no minus sign for type=number.
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 12}),
    )


# Set by geo.js when the phone's location filled the coordinates, cleared when they are then edited by hand.
DEVICE = "device"


class LocationForm(DoorForm):
    """Where the caregiver is: filled by the phone's location when it allows (geo.js), or typed.

    Typed coordinates are accepted with a reason and flag the visit for review: the page says which it was
    (``located``). A determined person could forge that field; the phone's location is evidence, not proof.
    """

    latitude = _coordinate(gettext_lazy("纬度"), low=-90, high=90)
    longitude = _coordinate(gettext_lazy("经度"), low=-180, high=180)
    reason = forms.CharField(
        label=gettext_lazy("原因（离老人住址较远，或经纬度是手动填写的）"),
        help_text=gettext_lazy(
            "用手机定位且在老人住址附近时不用填写。例如“老人在女儿家接受服务”“手机定位失败，手动填写”。"
        ),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
    )
    located = forms.CharField(widget=forms.HiddenInput, required=False, max_length=16)
    accuracy = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0, max_value=100_000)

    def clean_latitude(self) -> Decimal:
        return Decimal(self.cleaned_data["latitude"]).quantize(SIX_PLACES, rounding=ROUND_HALF_UP)

    def clean_longitude(self) -> Decimal:
        return Decimal(self.cleaned_data["longitude"]).quantize(SIX_PLACES, rounding=ROUND_HALF_UP)

    def position(self) -> Position:
        device = self.cleaned_data.get("located") == DEVICE
        return Position(
            self.cleaned_data["latitude"],
            self.cleaned_data["longitude"],
            typed=not device,
            accuracy_m=self.cleaned_data.get("accuracy") if device else None,
        )


class CheckInForm(LocationForm):
    id_prefix = "checkin"


class CheckOutForm(LocationForm):
    tasks = forms.CharField(
        label=gettext_lazy("已完成的服务内容"),
        help_text=gettext_lazy("每行写一项，例如“协助洗浴”“更换衣物”。"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
    )
    notes = forms.CharField(
        label=gettext_lazy("备注（可不填）"),
        help_text=gettext_lazy("老人的身体、情绪或居家安全方面需要家属或机构注意的情况。"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
    )
    short_reason = forms.CharField(
        label=gettext_lazy("提前结束的原因"),
        help_text=gettext_lazy("服务时间不到这个项目规定的时长就签退时必须填写，例如“老人身体不适，要求停止”。"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
    )

    id_prefix = "checkout"
    field_order = ["tasks", "notes", "short_reason", "latitude", "longitude", "reason"]

    def task_lines(self) -> list[str]:
        return [line.strip() for line in str(self.cleaned_data["tasks"]).splitlines() if line.strip()]


class PhotoForm(DoorForm):
    photo = forms.FileField(
        label=gettext_lazy("服务照片"),
        help_text=gettext_lazy("JPEG、PNG 或 WebP 图片；可以直接用手机拍照。"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"}),
    )

    id_prefix = "photo"


class CodeForm(DoorForm):
    code = forms.CharField(
        label=gettext_lazy("确认码"),
        help_text=gettext_lazy("请老人或家属读出订单页上的 4 位数字确认码。"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 6}),
    )

    id_prefix = "code"


class NoShowForm(DoorForm):
    reason = forms.CharField(
        label=gettext_lazy("未能服务的原因"),
        help_text=gettext_lazy("例如“老人不在家，电话无人接听”。"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
    )
    latitude = _coordinate(gettext_lazy("纬度（可不填）"), low=-90, high=90, required=False)
    longitude = _coordinate(gettext_lazy("经度（可不填）"), low=-180, high=180, required=False)

    id_prefix = "noshow"

    def position(self) -> Position | None:
        lat, lon = self.cleaned_data.get("latitude"), self.cleaned_data.get("longitude")
        if lat is None or lon is None:
            return None
        return Position(
            lat.quantize(SIX_PLACES, rounding=ROUND_HALF_UP), lon.quantize(SIX_PLACES, rounding=ROUND_HALF_UP)
        )


class DayForm(DoorForm):
    day = DayField(label=gettext_lazy("查看哪一天"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    id_prefix = "route"
