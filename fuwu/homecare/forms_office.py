"""Forms of the office pages (providers and officers). They parse input only; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fuwu.common.params import DayField
from fuwu.eligibility.models import ScreeningRun
from fuwu.homecare.models import ComplaintStatus, LocationSource


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("不受理的原因"),
        max_length=300,
        help_text=_("原因会告知老人或家属。"),
    )


class DayForm(forms.Form):
    day = DayField(
        label=_("日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class AbsenceForm(forms.Form):
    caregiver = forms.IntegerField(widget=forms.HiddenInput)
    day = DayField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("请假原因"), max_length=200)


class RunChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: ScreeningRun) -> str:
        finished = f"{timezone.localtime(obj.finished_at):%Y-%m-%d %H:%M}" if obj.finished_at else ""
        return str(_("按 {as_of} 筛查（完成于 {finished}，编号 {pk}）")).format(
            as_of=f"{obj.as_of:%Y-%m-%d}", finished=finished, pk=obj.pk
        )


class OpenAccountsForm(forms.Form):
    run = RunChoiceField(
        label=_("筛查结果"),
        queryset=ScreeningRun.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        help_text=_("为筛查中符合补贴条件、户籍在本辖区的老人开通服务账户；已开通的按新结果更新。"),
    )

    def __init__(self, *args: Any, runs: QuerySet[ScreeningRun], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["run"]
        assert isinstance(field, RunChoiceField)  # noqa: S101 - declared above
        field.queryset = runs


class HomeForm(forms.Form):
    """Where the visits happen: picked on the map (home-map.js sets ``source`` to "map"), or typed with a note.

    The range of the coordinates and the need for a note are the service's checks, so its message is shown.
    """

    address = forms.CharField(label=_("住址"), max_length=300)
    source = forms.ChoiceField(
        choices=[
            (LocationSource.MAP.value, LocationSource.MAP.label),
            (LocationSource.TYPED.value, LocationSource.TYPED.label),
        ],
        widget=forms.HiddenInput,
        initial=LocationSource.TYPED,
        required=False,
    )
    note = forms.CharField(
        label=_("说明（手动填写经纬度时必填）"),
        required=False,
        max_length=300,
        help_text=_("写明坐标从哪里得来，例如“在手机地图应用中长按老人住处读取”。在地图上选定的不用填写。"),
    )
    latitude = forms.DecimalField(
        label=_("纬度"),
        max_digits=9,
        decimal_places=6,
        help_text=_("例如 28.656000（北纬为正）"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    longitude = forms.DecimalField(
        label=_("经度"),
        max_digits=9,
        decimal_places=6,
        help_text=_("例如 121.420000（东经为正）"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The labels are whole words; a colon after each reads badly in Chinese.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_source(self) -> str:
        # Without the map's script nothing sets it: the coordinates were typed.
        return str(self.cleaned_data.get("source") or LocationSource.TYPED)


class ResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("处理结论"),
        choices=[
            (ComplaintStatus.UPHELD.value, ComplaintStatus.UPHELD.label),
            (ComplaintStatus.DISMISSED.value, ComplaintStatus.DISMISSED.label),
        ],
        widget=forms.RadioSelect,
        help_text=_("投诉成立：退还这次服务的补贴，机构不得结算这次服务。"),
    )
    outcome = forms.CharField(label=_("处理结果"), widget=forms.Textarea(attrs={"rows": 3}))
    # Set or correct the clause the complaint concerns: the view lists the clauses of the version governing the
    # order's item (``clause_choice.choices``); ``complaints.named_clause`` checks the choice.
    clause = forms.CharField(label=_("所涉标准条款"), required=False, widget=forms.Select(choices=[]))


def errors_text(form: forms.Form) -> str:
    """A form's errors as one sentence, for a message shown after the redirect."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = f"{field.label}：" if field is not None and field.label else ""
        parts.append(label + "".join(str(e) for e in errors))
    return "；".join(parts)


class FamilyLinkForm(forms.Form):
    username = forms.CharField(label=_("家属的用户名"), max_length=150)
    relation = forms.CharField(label=_("与老人的关系"), max_length=32, help_text=_("例如：女儿、儿子、配偶、本人。"))
