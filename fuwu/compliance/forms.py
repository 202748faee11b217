"""Forms of the compliance pages: they parse input; the services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fuwu.compliance.checklists import Kind
from fuwu.compliance.models import Result

MAX_IMPORT_BYTES = 10 * 1024 * 1024


class FindForm(forms.Form):
    """What a resident searches by (GET): a kind, a county, words, and where they are (from the phone)."""

    q = forms.CharField(label=_("名称或地址"), required=False, max_length=50)
    kind = forms.ChoiceField(label=_("机构类型"), required=False)
    county = forms.ChoiceField(label=_("区县"), required=False)
    lat = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)

    def __init__(self, *args: Any, kinds: dict[str, Kind], counties: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("全部"))] + [(k.id, k.name) for k in kinds.values()]  # type: ignore[attr-defined]
        self.fields["county"].choices = [("", _("全市")), *counties]  # type: ignore[attr-defined]


class AnswerForm(forms.Form):
    result = forms.ChoiceField(label=_("判定"), choices=Result.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("发现的问题或说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    number = forms.DecimalField(label=_("数值"), required=False, max_digits=14, decimal_places=2)
    client_time = forms.DateTimeField(required=False, widget=forms.HiddenInput)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("照片或文件"))
    latitude = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    accuracy = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)


class SignForm(forms.Form):
    summary = forms.CharField(
        label=_("检查意见（可不填）"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DrawForm(forms.Form):
    period_start = forms.DateField(
        label=_("抽查期间自"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    period_end = forms.DateField(label=_("至"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    seed = forms.CharField(
        label=_("随机种子（可不填）"),
        required=False,
        max_length=30,
        help_text=_("留空则自动生成；也可以填写公开摇号的号码。抽取后连同方法一起公开，任何人都可以复核。"),
    )

    def __init__(self, *args: Any, kinds: dict[str, Kind], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind_fields = []
        for kind in kinds.values():
            name = f"ratio_{kind.id}"
            self.fields[name] = forms.CharField(
                label=_("%(kind)s 抽查比例（%%）") % {"kind": kind.name},
                required=False,
                max_length=6,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
            )
            self.kind_fields.append((kind.id, name))

    def ratios(self) -> dict[str, str]:
        return {kind: self.cleaned_data.get(name) or "" for kind, name in self.kind_fields}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
            self.add_error("period_end", _("结束日期不能早于开始日期。"))
        return data


class RedrawForm(forms.Form):
    reason = forms.CharField(
        label=_("重新抽取的原因（将公开）"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    seed = forms.CharField(label=_("新的随机种子（可不填）"), required=False, max_length=30)


class OrderAnswerForm(forms.Form):
    response = forms.CharField(label=_("采取的整改措施"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(forms.Form):
    DECISIONS = [
        ("accept", _("整改材料验收通过")),
        ("reinspect", _("需要现场复查")),
        ("return", _("退回补充")),
    ]
    decision = forms.ChoiceField(label=_("验收意见"), choices=DECISIONS, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("说明（退回时必填）"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PilotForm(forms.Form):
    standard = forms.ChoiceField(label=_("标准"))
    area = forms.RegexField(
        label=_("试点地区代码"),
        regex=r"^[0-9]{9}([0-9]{3})?$",
        help_text=_("9 位乡镇（街道）代码或 12 位村（社区）代码"),
        error_messages={"invalid": _("请填写 9 位乡镇（街道）代码或 12 位村（社区）代码。")},
    )
    start_on = forms.DateField(
        label=_("试点开始日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    accept_by = forms.DateField(
        label=_("计划验收日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )

    def __init__(self, *args: Any, standards: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["standard"].choices = standards  # type: ignore[attr-defined]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("机构名单（.xlsx 或 .csv）"))
    valid_only = forms.BooleanField(required=False, label=_("只导入没有问题的行，其余列入错误报告"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("文件超过 10 MB，请分批导入。"))
        return upload
