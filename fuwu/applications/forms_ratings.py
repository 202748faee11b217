"""Forms of the 好差评 and rectification pages: they parse; ``ratings.py`` decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from fuwu.common import satisfaction


def _text_max() -> int:
    return int(settings.FUWU_APPLICATIONS_RATINGS["text_max"])


def _reason_groups() -> list[tuple[Any, list[tuple[str, Any]]]]:
    groups = [
        (_("满意的方面（非常满意、满意时选）"), satisfaction.Level.SATISFIED),
        (_("不足之处（基本满意时选）"), satisfaction.Level.BASIC),
        (_("不满意的原因（不满意、非常不满意时必选）"), satisfaction.Level.DISSATISFIED),
    ]
    return [(title, list(satisfaction.reasons_for(level))) for title, level in groups]


def _clause_field(label: Any) -> forms.CharField:
    # The clauses of the application's version, by title (``clause_choice.choices``), set by the view;
    # ``ratings.named_clause`` checks the choice, so a stale page gets a message naming the field.
    return forms.CharField(label=label, required=False, widget=forms.Select(choices=[]))


class RatingForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("您对这次办理满意吗？"),
        choices=[(int(level), level.label) for level in satisfaction.LEVELS],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择评价等级。"),
            "invalid_choice": _("请选择评价等级：非常满意、满意、基本满意、不满意或非常不满意。"),
        },
    )
    reasons = forms.MultipleChoiceField(
        label=_("原因（可多选）"),
        required=False,
        choices=_reason_groups,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("请从列出的原因中选择。")},
    )
    text = forms.CharField(
        label=_("想说的话（可不填）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
    )
    clause = _clause_field(_("不满意的地方与办事标准的哪一条有关（可不选）"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The length is the service's to refuse (with the field named); the help says it first.
        self.fields["text"].help_text = _("最多 %(n)s 个字。") % {"n": _text_max()}


class RecordForm(forms.Form):
    action = forms.CharField(
        label=_("采取的整改措施"),
        help_text=_("写明针对评价中的问题做了什么，例如改正了办事指南、约谈了窗口人员。"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        error_messages={"required": _("请写明采取了哪些整改措施。")},
    )
    clause = _clause_field(_("差评所涉标准条款（可设置或更正）"))


CALLBACK_CHOICES = [("yes", _("申请人表示满意")), ("no", _("申请人仍不满意"))]


class CallbackForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("回访结果"),
        choices=CALLBACK_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择回访结果：满意或仍不满意。"), "invalid_choice": _("请选择回访结果。")},
    )
    note = forms.CharField(
        label=_("回访情况"),
        help_text=_("何时、以何种方式联系了申请人，对方怎么说。"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        error_messages={"required": _("请写明回访情况。")},
    )
