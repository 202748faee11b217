"""Forms of the application pages: they parse; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from fuwu.accounts.models import Department
from fuwu.applications import standard
from fuwu.applications.models import Provision
from fuwu.applications.services import MaterialInput
from fuwu.standards.models import ServiceItem

REASON_MAX = 500
HOW = [(Provision.UPLOAD.value, _("上传文件")), (Provision.COUNTER.value, _("到窗口提交"))]


class MaterialsForm(forms.Form):
    """One choice (upload / bring to the counter) and one file per material the applicant provides."""

    def __init__(self, *args: Any, materials: list[standard.Material], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.materials = [m for m in materials if not m.shared_data]
        for m in self.materials:
            self.fields[f"how-{m.index}"] = forms.ChoiceField(
                label=m.name, choices=HOW, initial=Provision.UPLOAD.value, widget=forms.RadioSelect
            )
            self.fields[f"file-{m.index}"] = forms.FileField(
                label=_("%(name)s：文件") % {"name": m.name},
                required=False,
                help_text=_("PDF、JPEG 或 PNG；手机可直接拍照。"),
                widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
            )

    def inputs(self) -> dict[int, MaterialInput]:
        return {
            m.index: MaterialInput(
                Provision(self.cleaned_data[f"how-{m.index}"]), self.cleaned_data.get(f"file-{m.index}")
            )
            for m in self.materials
        }


class ApplyForm(MaterialsForm):
    confirm = forms.BooleanField(
        label=_("我承诺所填信息和所交材料真实有效"),
        error_messages={"required": _("请勾选承诺后再提交。")},
    )


class IdNumberForm(forms.Form):
    id_number = forms.CharField(
        label=_("申请人身份证号"),
        max_length=18,
        min_length=15,
        help_text=_("代办员和窗口工作人员为本辖区居民申请时填写。"),
        error_messages={"required": _("请填写申请人的身份证号。")},
    )


class RevisionForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ReasonForm(RevisionForm):
    reason = forms.CharField(
        label=_("原因或意见"), max_length=REASON_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MaterialsChoiceForm(ReasonForm):
    materials = forms.TypedMultipleChoiceField(
        label=_("材料"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一项材料。")},
    )

    def __init__(self, *args: Any, item: ServiceItem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["materials"]).choices = [
            (m.index, m.name) for m in standard.materials(item) if not m.shared_data
        ]


class PromiseForm(MaterialsChoiceForm):
    days = forms.IntegerField(label=_("后补期限（工作日）"), min_value=1, max_value=60, initial=5)


class RefuseForm(ReasonForm):
    ground = forms.ChoiceField(label=_("未满足的条件或条款"))

    def __init__(self, *args: Any, grounds: list[tuple[str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["ground"]).choices = [(k, f"{w}（{c}）" if c else w) for k, w, c in grounds]


class TransferForm(ReasonForm):
    department = forms.ModelChoiceField(label=_("转至部门"), queryset=Department.objects.all())


class InboxFilterForm(forms.Form):
    item = forms.ChoiceField(label=_("事项"), required=False)
    step = forms.IntegerField(label=_("环节（序号）"), required=False, min_value=0, max_value=50)
    due_by = forms.DateField(label=_("时限不晚于"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    overdue = forms.BooleanField(label=_("只看已超期"), required=False)
    closed = forms.BooleanField(label=_("含已办结"), required=False)

    def __init__(self, *args: Any, items: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["item"]).choices = [("", _("全部事项")), *items]
