"""The resident self-check: plain questions whose answers become base facts (``fuwu.eligibility.facts``).

Every question may be left as 不清楚. An unanswered question leaves its fact out,
so the rules answer "unknown" for the items that need it and name the fact,
rather than guessing "no".

Place answers become 12-digit area codes padded with zeros, as the statistical
division codes are (a county is ``331002000000``, a township
``331002001000``): the rules look only at the county and city prefixes and
at Taizhou's code range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from fuwu.areas import selectors as area_selectors
from fuwu.areas.models import Area, AreaLevel
from fuwu.eligibility.derived import full_years, per_capita
from fuwu.eligibility.rules import Value

NOT_SURE = ""
OUTSIDE = "outside"
# A code below no Taizhou prefix, for a hukou or home outside Taizhou. Rules compare
# prefixes and ranges only, so it reads as "not Taizhou" without naming a real place.
OUTSIDE_CODE = "000000000000"
TAIZHOU_CITY_CODE = "331000000000"
OLDEST = 120
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"]
FD_GROUPS = ("fd_hypertension", "fd_diabetes", "fd_pregnant", "fd_severe_mental")
NONE_OF_THESE = "none"

# The facts each question gives (household facts are given directly), in the order the questions are asked.
FIELD_FACTS: dict[str, tuple[str, ...]] = {
    "birth_date": ("birth_date",),
    "age": ("birth_date",),
    "sex": ("sex",),
    "hukou_county": ("hukou_area",),
    "hukou_township": ("hukou_area",),
    "hukou_type": ("hukou_type",),
    "residence": ("residence_area",),
    "lives_in_village": ("lives_in_village",),
    "household_size": ("household_income_per_capita",),
    "household_income": ("household_income_per_capita",),
    "lives_alone": ("lives_alone",),
    "low_income_status": ("low_income_status",),
    "household_zero_employment": ("household_zero_employment",),
    "employment_status": ("employment_status",),
    "pension_insurance": ("pension_insurance",),
    "medical_insurance": ("medical_insurance",),
    "disability_grade": ("disability_grade", "disability_kind"),
    "disability_kind": ("disability_kind",),
    "care_need": ("care_need",),
    "fd_groups": FD_GROUPS,
    "veteran_category": ("veteran_category",),
    "orphan_status": ("orphan_status",),
    "school_stage": ("school_stage",),
    "boarding": ("boarding",),
    "house_grade": ("house_grade",),
}
# The facts the answers can give, in the order the questions are asked (for listing what is missing).
ASKED_FACTS = tuple(dict.fromkeys(f for facts in FIELD_FACTS.values() for f in facts))
# Asked first, alone: the answers that decide most items, from which the next questions are chosen.
BASIC_FIELDS = ("birth_date", "age", "hukou_county", "hukou_township", "residence")

YES_NO = [("yes", _("是")), ("no", _("否")), (NOT_SURE, _("不清楚"))]


def _radios(choices: list[tuple[str, Any]], label: Any, help_text: Any = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=choices, required=False, label=label, help_text=help_text, widget=forms.RadioSelect, initial=NOT_SURE
    )


def _pad(code: str) -> str:
    return code.ljust(12, "0")


def _area_name(area: Area) -> str:
    if (get_language() or "").startswith("en") and area.name_en:
        return area.name_en
    return area.name_zh


@dataclass(frozen=True)
class Group:
    """Questions shown together; with a legend they sit in one fieldset."""

    legend: Any
    fields: list[forms.BoundField]


@dataclass(frozen=True)
class Section:
    title: Any
    groups: list[Group]


class SelfCheckForm(forms.Form):
    birth_date = forms.DateField(
        label=_("出生日期"),
        required=False,
        input_formats=DATE_FORMATS,
        help_text=_("例如 1944-03-15。记不清的话，可以只填下面的年龄。"),
        error_messages={"invalid": _("请按“年-月-日”填写出生日期，例如 1944-03-15。")},
        widget=forms.TextInput(attrs={"autocomplete": "bday", "size": 14}),
    )
    age = forms.IntegerField(
        label=_("年龄（周岁）"),
        required=False,
        min_value=0,
        max_value=OLDEST,
        error_messages={
            "invalid": _("年龄请填一个整数，例如 82。"),
            "min_value": _("年龄不能小于 %(limit_value)s 岁。"),
            "max_value": _("年龄不能大于 %(limit_value)s 岁。"),
        },
        widget=forms.NumberInput(attrs={"size": 4}),
    )
    sex = _radios([("female", _("女")), ("male", _("男")), (NOT_SURE, _("不想说"))], _("性别"))
    hukou_county = forms.ChoiceField(label=_("户籍所在县（市、区）"), required=False)
    hukou_township = forms.ChoiceField(
        label=_("户籍所在乡镇（街道）"),
        required=False,
        help_text=_("不知道可以不选。"),
        error_messages={"invalid_choice": _("请选择所选县（市、区）内的乡镇（街道），或者不选。")},
    )
    hukou_type = _radios([("rural", _("农村户口")), ("urban", _("城镇户口")), (NOT_SURE, _("不清楚"))], _("户口性质"))
    residence = _radios(
        [
            ("same", _("住在户籍所在地")),
            ("taizhou", _("住在台州市的其他地方")),
            (OUTSIDE, _("住在台州市以外")),
            (NOT_SURE, _("不清楚")),
        ],
        _("现在住在哪里？"),
    )
    lives_in_village = _radios(
        [("yes", _("住在村里（农村）")), ("no", _("住在城镇的社区")), (NOT_SURE, _("不清楚"))],
        _("现在住在农村还是城镇？"),
    )
    household_size = forms.IntegerField(
        label=_("户口本上共有几人（含本人）"),
        required=False,
        min_value=1,
        max_value=30,
        error_messages={
            "invalid": _("人数请填一个整数，例如 3。"),
            "min_value": _("人数至少是 1（本人）。"),
            "max_value": _("人数不能超过 %(limit_value)s。"),
        },
        widget=forms.NumberInput(attrs={"size": 4}),
    )
    household_income = forms.DecimalField(
        label=_("全家一年的总收入（元）"),
        required=False,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        help_text=_("工资、养老金、种地和做生意的收入等加在一起，大约数就可以。"),
        error_messages={
            "invalid": _("收入请只填数字，例如 36000。"),
            "min_value": _("收入不能是负数。"),
            "max_digits": _("收入的数字太大了，请检查。"),
            "max_whole_digits": _("收入的数字太大了，请检查。"),
            "max_decimal_places": _("收入最多填到分（小数点后两位）。"),
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12}),
    )
    lives_alone = _radios(YES_NO, _("是否一个人住？"))
    low_income_status = _radios(
        [
            ("none", _("都不是")),
            ("destitute", _("特困人员")),
            ("minimum_allowance", _("低保对象")),
            ("marginal", _("低保边缘（低边）")),
            (NOT_SURE, _("不清楚")),
        ],
        _("是否已被认定为特困人员、低保对象或低保边缘？"),
    )
    household_zero_employment = _radios(
        YES_NO,
        _("家里有人想工作却找不到，而且没有一个人在工作（零就业家庭）？"),
    )
    employment_status = _radios(
        [
            ("employed", _("在单位上班")),
            ("self_employed", _("个体经营、自己开店或办企业")),
            ("flexible", _("打零工、灵活就业")),
            ("unemployed_registered", _("没有工作，已办理失业登记")),
            ("unemployed", _("没有工作、正在找工作，还没有登记")),
            ("retired", _("已退休")),
            ("none", _("不工作（上学、料理家务、身体原因等）")),
            (NOT_SURE, _("不清楚")),
        ],
        _("现在的工作情况"),
    )
    pension_insurance = _radios(
        [
            ("employee", _("职工基本养老保险")),
            ("resident", _("城乡居民基本养老保险")),
            ("none", _("都没有参加")),
            (NOT_SURE, _("不清楚")),
        ],
        _("参加了哪种养老保险（或领取哪种养老金）？"),
    )
    medical_insurance = _radios(
        [
            ("employee", _("职工基本医疗保险")),
            ("resident", _("城乡居民基本医疗保险")),
            ("none", _("都没有参加")),
            (NOT_SURE, _("不清楚")),
        ],
        _("参加了哪种医疗保险？"),
    )
    disability_grade = _radios(
        [
            ("0", _("没有残疾证")),
            ("1", _("一级")),
            ("2", _("二级")),
            ("3", _("三级")),
            ("4", _("四级")),
            (NOT_SURE, _("不清楚")),
        ],
        _("残疾证等级"),
    )
    disability_kind = forms.ChoiceField(
        label=_("残疾类别（有残疾证的填写）"),
        required=False,
        choices=[
            (NOT_SURE, _("不清楚")),
            ("visual", _("视力残疾")),
            ("hearing", _("听力残疾")),
            ("speech", _("言语残疾")),
            ("physical", _("肢体残疾")),
            ("intellectual", _("智力残疾")),
            ("mental", _("精神残疾")),
            ("multiple", _("多重残疾")),
        ],
    )
    care_need = _radios(
        [
            ("able", _("生活能自理（能力完好）")),
            ("mild", _("轻度失能")),
            ("moderate", _("中度失能")),
            ("severe", _("重度失能")),
            (NOT_SURE, _("不清楚，或没有做过评估")),
        ],
        _("老年人能力评估的结果"),
        _("能力评估由民政部门组织，评估后会告知结果。"),
    )
    fd_groups = forms.MultipleChoiceField(
        label=_("有没有下面这些情况？（可以多选）"),
        required=False,
        choices=[
            ("fd_hypertension", _("高血压")),
            ("fd_diabetes", _("2型糖尿病")),
            ("fd_pregnant", _("怀孕，或生孩子后 42 天内")),
            ("fd_severe_mental", _("严重精神障碍")),
            (NONE_OF_THESE, _("以上都没有")),
        ],
        help_text=_("都不勾，表示不清楚或不想说。"),
        widget=forms.CheckboxSelectMultiple,
    )
    veteran_category = _radios(
        [
            ("none", _("都不是")),
            ("retired_soldier", _("退役士兵")),
            ("retired_officer", _("退役军官")),
            ("disabled_serviceman", _("残疾军人")),
            ("martyr_survivor", _("烈士遗属")),
            ("duty_death_survivor", _("因公牺牲军人遗属")),
            (NOT_SURE, _("不清楚")),
        ],
        _("是否是退役军人，或烈士、因公牺牲军人的遗属？"),
    )
    orphan_status = _radios(
        [
            ("orphan", _("孤儿")),
            ("de_facto_unsupported", _("事实无人抚养儿童")),
            ("none", _("都不是")),
            (NOT_SURE, _("不清楚")),
        ],
        _("是否被认定为孤儿或事实无人抚养儿童？"),
        _("事实无人抚养儿童：父母双方都不能抚养，例如重残、重病、服刑或失联。"),
    )
    school_stage = forms.ChoiceField(
        label=_("正在上什么学？"),
        required=False,
        choices=[
            (NOT_SURE, _("不清楚")),
            ("none", _("没有上学")),
            ("nursery", _("托育机构（3 岁以下）")),
            ("preschool", _("幼儿园")),
            ("primary", _("小学")),
            ("junior_secondary", _("初中")),
            ("senior_secondary", _("普通高中")),
            ("secondary_vocational", _("中职（中专、职高、技校）")),
            ("higher", _("大学")),
        ],
    )
    boarding = _radios(YES_NO, _("是否住校？"))
    house_grade = _radios(
        [
            ("none", _("没有自己的农村住房")),
            ("A", _("A 级")),
            ("B", _("B 级")),
            ("C", _("C 级")),
            ("D", _("D 级")),
            (NOT_SURE, _("不清楚")),
        ],
        _("农村住房安全等级"),
        _("房屋安全鉴定的结果：A 级最安全，D 级是危房。不知道就选“不清楚”。"),
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.today = today
        # With JavaScript, choosing a county narrows the township list (progressive enhancement via htmx).
        self.fields["hukou_county"].widget.attrs.update(
            {"hx-get": reverse("eligibility:townships"), "hx-target": "#q-hukou_township", "hx-swap": "outerHTML"}
        )
        counties = list(area_selectors.areas(level=AreaLevel.COUNTY))
        self.fields["hukou_county"].choices = [  # type: ignore[attr-defined]
            (NOT_SURE, _("不清楚")),
            *((c.code, _area_name(c)) for c in counties),
            (OUTSIDE, _("不在台州市（外地户籍）")),
        ]
        county = self.data.get(self.add_prefix("hukou_county")) if self.is_bound else self.initial.get("hukou_county")
        by_county: dict[str, list[tuple[str, str]]] = {}
        for t in area_selectors.areas(level=AreaLevel.TOWNSHIP):
            if t.parent is not None:
                by_county.setdefault(t.parent.code, []).append((t.code, _area_name(t)))
        township_choices: list[tuple[str, Any]] = [(NOT_SURE, _("不清楚"))]
        if county in by_county:
            township_choices += by_county[county]
        elif county != OUTSIDE:
            # No county yet: every township, grouped under its county (without JavaScript the list is not narrowed).
            township_choices += [(_area_name(c), by_county[c.code]) for c in counties if c.code in by_county]
        self.fields["hukou_township"].choices = township_choices  # type: ignore[attr-defined]

    def clean_birth_date(self) -> dt.date | None:
        born: dt.date | None = self.cleaned_data.get("birth_date")
        if born is None:
            return None
        if born > self.today:
            raise forms.ValidationError(_("出生日期不能晚于今天，请检查年份。"), code="future")
        if full_years(born, self.today) > OLDEST:
            raise forms.ValidationError(_("出生日期太早了，请检查年份。"), code="too_old")
        return born

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        born, age = data.get("birth_date"), data.get("age")
        if born is not None and age is not None and full_years(born, self.today) != age:
            self.add_error(
                "age",
                forms.ValidationError(
                    _("按出生日期算，今天是 %(years)s 周岁，和填的年龄不一致。只填一项也可以。"),
                    code="mismatch",
                    params={"years": full_years(born, self.today)},
                ),
            )
        groups = set(data.get("fd_groups") or ())
        if NONE_OF_THESE in groups and len(groups) > 1:
            self.add_error("fd_groups", forms.ValidationError(_("选了“以上都没有”，就不能再选其他情况。")))
        return data

    # --- answers → facts ----------------------------------------------------------

    def _birth_date(self) -> dt.date | None:
        born: dt.date | None = self.cleaned_data.get("birth_date")
        age: int | None = self.cleaned_data.get("age")
        if born is not None or age is None:
            return born
        # Someone who is ``age`` today: born on today's date ``age`` years ago (28 Feb for 29 Feb).
        try:
            return self.today.replace(year=self.today.year - age)
        except ValueError:
            return self.today.replace(year=self.today.year - age, day=28)

    def _hukou_area(self) -> str | None:
        county, township = self.cleaned_data.get("hukou_county"), self.cleaned_data.get("hukou_township")
        if county == OUTSIDE:
            return OUTSIDE_CODE
        if township:
            return _pad(township)
        return _pad(county) if county else None

    def facts(self) -> dict[str, Value]:
        """The base facts the answers give (household facts given directly); unanswered ones are left out."""
        d = self.cleaned_data
        facts: dict[str, Value] = {
            "birth_date": self._birth_date(),
            "sex": d["sex"] or None,
            "hukou_type": d["hukou_type"] or None,
            "low_income_status": d["low_income_status"] or None,
            "care_need": d["care_need"] or None,
            "veteran_category": d["veteran_category"] or None,
            "house_grade": d["house_grade"] or None,
            "employment_status": d["employment_status"] or None,
            "pension_insurance": d["pension_insurance"] or None,
            "medical_insurance": d["medical_insurance"] or None,
            "orphan_status": d["orphan_status"] or None,
            "lives_alone": {"yes": True, "no": False}.get(d["lives_alone"]),
            "lives_in_village": {"yes": True, "no": False}.get(d["lives_in_village"]),
            "household_zero_employment": {"yes": True, "no": False}.get(d["household_zero_employment"]),
            "household_size": d["household_size"],
        }
        hukou = self._hukou_area()
        facts["hukou_area"] = hukou
        facts["residence_area"] = {"same": hukou, "taizhou": TAIZHOU_CITY_CODE, OUTSIDE: OUTSIDE_CODE}.get(
            d["residence"]
        )
        if d["household_size"] is not None and d["household_income"] is not None:
            facts["household_income_per_capita"] = per_capita(d["household_income"], d["household_size"])
        if d["disability_grade"] != NOT_SURE:
            grade = int(d["disability_grade"])
            facts["disability_grade"] = grade
            # Without a certificate there is no kind to record; with one, the kind may still be unknown.
            facts["disability_kind"] = "none" if grade == 0 else (d["disability_kind"] or None)
        elif d["disability_kind"]:
            facts["disability_kind"] = d["disability_kind"]
        stage = d["school_stage"] or None
        facts["school_stage"] = stage
        facts["boarding"] = False if stage == "none" else {"yes": True, "no": False}.get(d["boarding"])
        groups = set(d["fd_groups"] or ())
        if groups:
            for name in FD_GROUPS:
                facts[name] = name in groups
        return {name: value for name, value in facts.items() if value is not None}

    # --- layout ---------------------------------------------------------------------

    def answered_fields(self) -> set[str]:
        """The questions given an answer other than 不清楚."""
        if not self.is_bound:
            return set()
        return {name for name in self.fields if self.data.get(self.add_prefix(name)) not in (None, "", NOT_SURE)}

    def sections(self, only: Collection[str] | None = None) -> list[Section]:
        """The questions in the order asked, grouped under plain headings; with ``only``, just those questions."""

        def group(*names: str, legend: Any = None) -> Group:
            shown = [n for n in names if only is None or n in only]
            return Group(legend if len(shown) > 1 else None, [self[n] for n in shown])

        sections = [
            Section(
                _("关于您"),
                [group("birth_date", "age", legend=_("出生日期或年龄（填一项即可）")), group("sex")],
            ),
            Section(
                _("户口和住处"),
                [
                    group("hukou_county", "hukou_township", legend=_("户籍所在地")),
                    group("hukou_type"),
                    group("residence"),
                    group("lives_in_village"),
                ],
            ),
            Section(
                _("家庭和收入"),
                [
                    group("household_size", "household_income", legend=_("家庭人数和收入")),
                    group("lives_alone"),
                    group("low_income_status"),
                    group("household_zero_employment"),
                ],
            ),
            Section(
                _("工作和社会保险"),
                [group("employment_status"), group("pension_insurance"), group("medical_insurance")],
            ),
            Section(
                _("身体和照护"),
                [group("disability_grade"), group("disability_kind"), group("care_need"), group("fd_groups")],
            ),
            Section(_("优抚"), [group("veteran_category")]),
            Section(_("孩子和上学"), [group("orphan_status"), group("school_stage"), group("boarding")]),
            Section(_("住房"), [group("house_grade")]),
        ]
        kept = [Section(s.title, [g for g in s.groups if g.fields]) for s in sections]
        return [s for s in kept if s.groups]
