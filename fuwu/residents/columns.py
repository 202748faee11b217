"""The columns a resident list may have, the headers and values clerks write, and turning cells into facts.

The column set is fixed by the facts vocabulary (``fuwu.eligibility.facts``):
``name``, ``id_number`` and every base fact (``household_id`` among them), and
the contact details (``CONTACT_COLUMNS``: phone, emergency contact), which are
not facts.
Each column is recognised by its English name, its Chinese label in
``facts.py`` (with or without the part in brackets) or a common alias
(``身份证号``, ``户籍地`` …). Values may be the vocabulary's codes or the Chinese
words clerks use (``男``, ``低保``, ``是``).

An empty cell is *unknown* (NULL), which the rules treat differently from
``none``/``0``/``否``; see the facts module.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from fuwu.eligibility.facts import BASE_FACTS, Fact, FactType
from fuwu.residents import phones
from fuwu.residents.phones import EXAMPLES

NAME_MAX = 64
HOUSEHOLD_ID_MAX = 32
INCOME_MAX = Decimal("9999999999.99")
INTEGER_RANGES = {"disability_grade": (0, 4)}  # facts.py: 1 most severe … 4; 0 without a certificate


class CellError(ValueError):
    def __init__(self, problem: str, fix: str) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}; {fix}")


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    en: str
    type: FactType
    fact: Fact | None  # None for name and id_number, which are not facts


# Contact details: not facts (no rule reads them), encrypted at rest like the identity number.
CONTACT_COLUMNS: tuple[Column, ...] = (
    Column("contact_phone", "联系电话", "Contact phone", FactType.TEXT, None),
    Column("emergency_contact_name", "紧急联系人", "Emergency contact", FactType.TEXT, None),
    Column("emergency_contact_relation", "紧急联系人关系", "Emergency contact's relation", FactType.TEXT, None),
    Column("emergency_contact_phone", "紧急联系人电话", "Emergency contact's phone", FactType.TEXT, None),
)
CONTACT_NAMES: tuple[str, ...] = tuple(c.name for c in CONTACT_COLUMNS)
PHONE_COLUMNS = frozenset({"contact_phone", "emergency_contact_phone"})
RELATION_MAX = 16  # 女儿, 侄子, 邻居, 村网格员 …: free text, short
_CONTACT_HEADERS: dict[str, tuple[str, ...]] = {
    "contact_phone": (
        "手机号",
        "手机号码",
        "手机",
        "电话",
        "电话号码",
        "联系方式",
        "本人电话",
        "本人手机",
        "联系电话号码",
    ),
    "emergency_contact_name": ("紧急联系人姓名", "紧急联系人名字"),
    "emergency_contact_relation": ("与紧急联系人关系", "紧急联系人与本人关系", "紧急联系人与老人关系"),
    "emergency_contact_phone": (
        "紧急联系电话",
        "紧急联系人手机",
        "紧急联系人手机号",
        "紧急联系人联系电话",
        "紧急联系人电话号码",
    ),
}


def _columns() -> tuple[Column, ...]:
    own = (
        Column("name", "姓名", "Name", FactType.TEXT, None),
        Column("id_number", "身份证号", "Identity number", FactType.TEXT, None),
    )
    return own + tuple(Column(f.name, f.zh, f.en, f.type, f) for f in BASE_FACTS) + CONTACT_COLUMNS


COLUMNS: tuple[Column, ...] = _columns()
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
FACT_NAMES: tuple[str, ...] = tuple(f.name for f in BASE_FACTS)
# Without these a row cannot be registered: no identity, no household, or no area to scope access by.
REQUIRED: tuple[str, ...] = ("name", "id_number", "household_id", "hukou_area")
# Columns clerks' sheets commonly carry that mean nothing to the registry.
IGNORED_HEADERS = frozenset({"序号", "编号", "备注", "no", "no."})

_EXTRA_HEADERS: dict[str, tuple[str, ...]] = {
    "id_number": ("身份证号码", "公民身份号码", "身份证", "证件号码"),
    "birth_date": ("出生年月日", "生日"),
    "hukou_area": ("户籍地", "户籍地代码", "户籍区划代码"),
    "hukou_type": ("户口类型", "户籍性质"),
    "residence_area": ("居住地代码", "现居住地"),
    "lives_in_village": ("是否住在农村", "居住在农村", "住在村里"),
    "lives_alone": ("是否独居",),
    "care_need": ("能力等级",),
    "school_stage": ("学段",),
    "boarding": ("是否寄宿",),
    "house_grade": ("房屋安全等级",),
    "income": ("年收入", "个人年收入（元）"),
    "veteran_category": ("优抚对象类别", "退役军人类别"),
    "employment_status": ("就业状态", "就业情况"),
    "pension_insurance": ("养老保险", "养老保险参保"),
    "medical_insurance": ("医疗保险", "医保", "医保参保"),
    "orphan_status": ("孤儿", "困境儿童类别"),
}


def normalise_header(text: str) -> str:
    # NFKC folds full-width brackets and letters; a trailing * is the usual "required" marker.
    folded = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s", "", folded).rstrip("*").lower()


def _header_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for column in COLUMNS:
        extra = _EXTRA_HEADERS.get(column.name, ()) + _CONTACT_HEADERS.get(column.name, ())
        names = [column.name, column.zh, column.zh.split("（")[0], *extra]
        for alias in names:
            aliases[normalise_header(alias)] = column.name
    return aliases


HEADER_ALIASES: dict[str, str] = _header_aliases()

# The Chinese word shown for each code, and accepted on import. Every allowed value in facts.py
# must have one (a test checks), so a new code cannot reach the screen without a label.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "sex": {"male": "男", "female": "女"},
    "hukou_type": {"rural": "农村", "urban": "城镇"},
    "relation": {
        "head": "户主",
        "spouse": "配偶",
        "child": "子女",
        "parent": "父母",
        "grandchild": "孙子女",
        "grandparent": "祖父母",
        "sibling": "兄弟姐妹",
        "other": "其他",
    },
    "disability_kind": {
        "none": "无",
        "visual": "视力残疾",
        "hearing": "听力残疾",
        "speech": "言语残疾",
        "physical": "肢体残疾",
        "intellectual": "智力残疾",
        "mental": "精神残疾",
        "multiple": "多重残疾",
    },
    "care_need": {"able": "能力完好", "mild": "轻度失能", "moderate": "中度失能", "severe": "重度失能"},
    "low_income_status": {"none": "无", "destitute": "特困", "minimum_allowance": "低保", "marginal": "低边"},
    "veteran_category": {
        "none": "无",
        "retired_soldier": "退役士兵",
        "retired_officer": "退役军官",
        "disabled_serviceman": "残疾军人",
        "martyr_survivor": "烈士遗属",
        "duty_death_survivor": "因公牺牲军人遗属",
    },
    "school_stage": {
        "none": "未在读",
        "nursery": "托育",
        "preschool": "学前",
        "primary": "小学",
        "junior_secondary": "初中",
        "senior_secondary": "高中",
        "secondary_vocational": "中职",
        "higher": "高等教育",
    },
    "house_grade": {"none": "无自有农房", "A": "A级", "B": "B级", "C": "C级", "D": "D级"},
    "employment_status": {
        "none": "不在业",
        "employed": "单位就业",
        "self_employed": "个体经营",
        "flexible": "灵活就业",
        "unemployed_registered": "登记失业",
        "unemployed": "失业未登记",
        "retired": "已退休",
    },
    "pension_insurance": {"none": "未参保", "employee": "职工养老保险", "resident": "城乡居民养老保险"},
    "medical_insurance": {"none": "未参保", "employee": "职工医保", "resident": "城乡居民医保"},
    "orphan_status": {"none": "无", "orphan": "孤儿", "de_facto_unsupported": "事实无人抚养儿童"},
}
_EXTRA_VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    "hukou_type": {"rural": ("农业", "农业户口", "农村户口"), "urban": ("非农业", "非农业户口", "城镇户口")},
    "relation": {
        "head": ("本人",),
        "spouse": ("妻", "夫", "妻子", "丈夫"),
        "child": ("子", "女", "儿子", "女儿", "长子", "长女", "次子", "次女"),
        "parent": ("父", "母", "父亲", "母亲"),
        "grandchild": ("孙子", "孙女", "外孙子", "外孙女", "外孙子女"),
        "grandparent": ("祖父", "祖母", "外祖父", "外祖母", "外祖父母"),
        "sibling": ("兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹"),
    },
    "disability_kind": {
        "visual": ("视力",),
        "hearing": ("听力",),
        "speech": ("言语",),
        "physical": ("肢体",),
        "intellectual": ("智力",),
        "mental": ("精神",),
        "multiple": ("多重",),
    },
    "care_need": {"mild": ("轻度",), "moderate": ("中度",), "severe": ("重度",)},
    "low_income_status": {
        "none": ("非低收入",),
        "destitute": ("特困人员", "特困供养"),
        "minimum_allowance": ("低保对象", "低保户", "最低生活保障"),
        "marginal": ("低保边缘", "低边户"),
    },
    "school_stage": {
        "none": ("无", "不在读"),
        "preschool": ("幼儿园",),
        "senior_secondary": ("普通高中",),
        "secondary_vocational": ("中等职业学校", "中专", "职高"),
        "higher": ("大学", "大专", "本科", "高等"),
    },
    "house_grade": {"none": ("无",)},
    "employment_status": {
        "none": ("无", "在校", "学生"),
        "employed": ("在职", "职工", "受雇"),
        "self_employed": ("个体", "个体工商户", "自主创业"),
        "flexible": ("灵活就业人员",),
        "unemployed_registered": ("已登记失业", "失业登记", "登记失业人员"),
        "unemployed": ("未登记失业",),
        "retired": ("退休",),
    },
    "pension_insurance": {
        "none": ("无", "未参加"),
        "employee": ("职工", "职工基本养老保险", "企业职工养老保险", "机关事业单位养老保险"),
        "resident": ("城乡居民", "城乡居民基本养老保险", "居民养老保险"),
    },
    "medical_insurance": {
        "none": ("无", "未参加"),
        "employee": ("职工", "职工基本医疗保险", "职工医疗保险"),
        "resident": ("城乡居民", "城乡居民基本医疗保险", "居民医保"),
    },
    "orphan_status": {"none": ("否", "不是"), "de_facto_unsupported": ("事实无人抚养",)},
}
BOOLEAN_WORDS: dict[str, bool] = {
    **dict.fromkeys(("是", "有", "y", "yes", "true", "1", "√", "✓"), True),
    **dict.fromkeys(("否", "无", "n", "no", "false", "0", "×"), False),
}
GRADE_WORDS = {"无": 0, "无证": 0, "一级": 1, "二级": 2, "三级": 3, "四级": 4}
BOOLEAN_LABELS = {True: "是", False: "否"}


def _value_key(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).lower()


def _value_aliases() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for fact in BASE_FACTS:
        if fact.type != FactType.TEXT or not fact.allowed:
            continue
        aliases: dict[str, str] = {}
        for code in fact.allowed:
            words = [
                code,
                VALUE_LABELS.get(fact.name, {}).get(code, code),
                *_EXTRA_VALUES.get(fact.name, {}).get(code, ()),
            ]
            for word in words:
                aliases[_value_key(word)] = code
        table[fact.name] = aliases
    return table


VALUE_ALIASES: dict[str, dict[str, str]] = _value_aliases()


def label(column: str, value: Any) -> str:
    """A stored value as a clerk reads it (Chinese word, or the value itself)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return BOOLEAN_LABELS[value]
    return VALUE_LABELS.get(column, {}).get(str(value), str(value))


def _is_integral(value: float) -> bool:
    return value == int(value)


def _text(raw: Any) -> str:
    if isinstance(raw, float) and _is_integral(raw):
        raw = int(raw)  # Excel stores "12345" typed into a number cell as 12345.0
    return unicodedata.normalize("NFKC", str(raw)).strip()


def _code(raw: Any, digits: int, what: str) -> str:
    if isinstance(raw, float) and not _is_integral(raw):
        raise CellError(f"{raw} is not a code", f"write the {digits}-digit {what} code")
    text = re.sub(r"\s", "", _text(raw))
    if not (text.isascii() and text.isdigit() and len(text) == digits):
        raise CellError(
            f"{text!r} is not a {digits}-digit code", f"write the {digits}-digit {what} code (统计用区划代码)"
        )
    return text


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def _date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, float):
        raise CellError(
            f"{raw} is a number, not a date", "format the cell as a date, or write it as text like 1950-03-12"
        )
    text = _text(raw)
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    raise CellError(f"{text!r} is not a date", "write it as year-month-day, like 1950-03-12")


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = _value_key(_text(raw))
    if word not in BOOLEAN_WORDS:
        raise CellError(f"{_text(raw)!r} is not yes or no", "write 是 or 否 (or leave it empty if unknown)")
    return BOOLEAN_WORDS[word]


def _integer(raw: Any, name: str) -> int:
    if isinstance(raw, bool):
        raise CellError(f"{raw} is not a number", "write a whole number")
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float) and _is_integral(raw):
        number = int(raw)
    else:
        text = _text(raw)
        if text in GRADE_WORDS and name == "disability_grade":
            number = GRADE_WORDS[text]
        else:
            try:
                number = int(text)
            except ValueError as exc:
                raise CellError(f"{text!r} is not a whole number", "write a whole number") from exc
    low, high = INTEGER_RANGES.get(name, (0, 2**31 - 1))
    if not low <= number <= high:
        extra = " (0 when the person holds no disability certificate)" if name == "disability_grade" else ""
        raise CellError(f"{number} is out of range", f"write a whole number from {low} to {high}{extra}")
    return number


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise CellError(f"{raw} is not an amount", "write an amount in yuan, like 12000.50")
    if isinstance(raw, Decimal):
        amount = raw
    else:
        # repr() of a float is its shortest exact decimal, so 12000.5 stays 12000.5, never 12000.499999…
        text = repr(raw) if isinstance(raw, float) else _text(raw).replace(",", "").removesuffix("元")
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise CellError(f"{text!r} is not an amount", "write an amount in yuan, like 12000.50") from exc
    if not amount.is_finite() or amount < 0 or amount > INCOME_MAX:
        raise CellError(f"{amount} is out of range", f"write an amount from 0 to {INCOME_MAX} yuan")
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError(f"{amount} has more than two decimal places", "round it to the fen (two decimal places)")
    return amount.quantize(Decimal("0.01"))


_ALLOWED: dict[str, frozenset[str]] = {f.name: frozenset(f.allowed) for f in BASE_FACTS if f.allowed}
_AREA = re.compile(r"[0-9]{12}")


def _fast_path(spec: Column) -> Callable[[Any], Any] | None:
    """For values that already have the right type and are valid (Parquet): return them as they are.

    A synthetic population has millions of cells; skipping the general path's
    normalising for them halves the load time. Anything unusual returns
    ``None`` and takes the general path, which explains what is wrong.
    """
    if spec.type == FactType.TEXT and spec.fact is not None and spec.fact.allowed:
        allowed = frozenset(spec.fact.allowed)
        return lambda raw: raw if raw.__class__ is str and raw in allowed else None
    if spec.type == FactType.BOOLEAN:
        return lambda raw: raw if raw.__class__ is bool else None
    if spec.type == FactType.DATE:
        return lambda raw: raw if raw.__class__ is dt.date else None
    if spec.type == FactType.AREA:
        area = re.compile(r"[0-9]{12}")
        return lambda raw: raw if raw.__class__ is str and area.fullmatch(raw) else None
    if spec.type == FactType.INTEGER:
        low, high = INTEGER_RANGES.get(spec.name, (0, 2**31 - 1))
        return lambda raw: raw if raw.__class__ is int and low <= raw <= high else None
    if spec.type == FactType.DECIMAL:
        # Exactly to the fen already (Parquet's decimal(12, 2)): what _decimal would return, the same Decimal.
        return lambda raw: (
            raw if raw.__class__ is Decimal and raw.as_tuple().exponent == -2 and 0 <= raw <= INCOME_MAX else None
        )
    if spec.name == "name":
        space = re.compile(r"\s")
        return lambda raw: (
            raw
            if raw.__class__ is str
            and len(raw) <= NAME_MAX
            and not space.search(raw)
            and unicodedata.is_normalized("NFKC", raw)
            else None
        )
    if spec.name == "household_id":
        household = re.compile(rf"[0-9A-Za-z-]{{1,{HOUSEHOLD_ID_MAX}}}")
        return lambda raw: raw if raw.__class__ is str and household.fullmatch(raw) else None
    return None


_FAST: dict[str, Callable[[Any], Any]] = {c.name: f for c in COLUMNS if (f := _fast_path(c)) is not None}


_EXCEL_DIGITS = "the number is stored as a number, and Excel keeps only 15 digits, so the last ones are lost"


def _contact(column: str, raw: Any) -> str:
    if column in PHONE_COLUMNS:
        if isinstance(raw, float | int) and not isinstance(raw, bool):
            if isinstance(raw, float) and not _is_integral(raw):
                raise CellError(f"{raw} is not a telephone number", f"write the number in digits, like {EXAMPLES}")
            if not str(int(raw)).startswith("1"):
                # 0576 88123456 typed into a number cell comes back as 57688123456.
                raise CellError(
                    "the number is stored as a number, and Excel has dropped its leading 0",
                    "format the column as Text (文本) and type the number again with its area code",
                )
        try:
            return phones.parse(_text(raw))
        except phones.PhoneError as exc:
            raise CellError(exc.problem, exc.fix) from None
    text = re.sub(r"\s+", " ", _text(raw))
    limit = NAME_MAX if column == "emergency_contact_name" else RELATION_MAX
    if len(text) > limit:
        raise CellError(f"{len(text)} characters is too long", f"write at most {limit}")
    return text


def coerce(column: str, raw: Any) -> Any:
    """One cell to its typed value; ``None`` for an empty cell; ``CellError`` when it cannot be read.

    ``id_number`` comes back as a string still to be parsed (``idnumber.parse``),
    after refusing numbers that Excel has already rounded.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    fast = _FAST.get(column)
    if fast is not None and (value := fast(raw)) is not None:
        return value
    spec = BY_NAME[column]
    if column in CONTACT_NAMES:
        return _contact(column, raw)
    if column == "id_number":
        if isinstance(raw, float | int) and not isinstance(raw, bool):
            digits = len(str(int(raw)))
            if isinstance(raw, float) or digits > 15:
                raise CellError(_EXCEL_DIGITS, "format the column as Text (文本) and type the number again")
            return str(raw)
        # Not NFKC-folded like other text: a superscript or full-width digit is not a digit of a number,
        # and idnumber.parse says so by name rather than silently reading it as one.
        return str(raw).strip()
    if column == "name":
        text = re.sub(r"\s+", " ", _text(raw))
        if len(text) > NAME_MAX:
            raise CellError(f"the name has {len(text)} characters", f"names have at most {NAME_MAX}")
        return text
    if column == "household_id":
        if isinstance(raw, float) and not _is_integral(raw):
            raise CellError(f"{raw} is not a household number", "format the column as Text and type the 户号 again")
        if isinstance(raw, float | int) and not isinstance(raw, bool) and len(str(int(raw))) > 15:
            raise CellError(_EXCEL_DIGITS, "format the column as Text (文本) and type the 户号 again")
        text = re.sub(r"\s", "", _text(raw))
        if len(text) > HOUSEHOLD_ID_MAX:
            raise CellError(f"{text!r} is too long", f"a household number has at most {HOUSEHOLD_ID_MAX} characters")
        return text
    if spec.type == FactType.DATE:
        return _date(raw)
    if spec.type == FactType.AREA:
        return _code(raw, 12, "village or community")
    if spec.type == FactType.BOOLEAN:
        return _boolean(raw)
    if spec.type == FactType.INTEGER:
        return _integer(raw, column)
    if spec.type == FactType.DECIMAL:
        return _decimal(raw)
    # TEXT with allowed values
    aliases = VALUE_ALIASES[column]
    text = _text(raw)
    try:
        return aliases[_value_key(text)]
    except KeyError:
        words = "、".join(label(column, code) for code in BY_NAME[column].fact.allowed)  # type: ignore[union-attr]
        raise CellError(f"{text!r} is not one of the allowed values", f"write one of: {words}") from None
