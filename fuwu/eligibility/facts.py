"""The facts vocabulary: what the rules may ask about a resident.

This is the contract between three parties that must agree exactly:
the resident registry (``fuwu.residents``), the synthetic population
(``fuwu population generate``) and the eligibility rules in the standard
files. A rule may name only facts declared here, and each engine (Python for
one resident; DuckDB, PostgreSQL and Spark in bulk) computes the derived
facts from the one definition below.

A fact that is absent (NULL) is *unknown*, never "none": every fact has an
explicit value for "does not apply" (``none``, ``0``, ``false``). That is what
lets the rules use SQL's three-valued logic for the answer itself: a criterion
over a missing fact is NULL, and the person's status for the item is
"unknown", with the missing facts named, rather than a silent "no".

Base facts are stored per person (a column each of ``residents_person``; a new or changed one also
needs a migration replacing the view ``eligibility_person_facts`` that screening in place reads, ADR 18).
Derived facts are defined once, as SQL
expressions over base facts, the as-of date (``:as_of``) and, for household
facts, the person's household (aggregates skip members whose fact is unknown,
as SQL's do). Three internal functions, not available to rules, keep every
engine exact: ``full_years`` (age in 周岁), ``area_prefix`` and ``per_capita``
(a household total divided by its members, rounded half-up to the fen, in
integer arithmetic). See ``fuwu.eligibility.derived``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FactType(StrEnum):
    BOOLEAN = "boolean"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    TEXT = "text"  # one of ``allowed``
    AREA = "area"  # a 12-digit statistical area code (village level)


@dataclass(frozen=True)
class Fact:
    name: str
    type: FactType
    zh: str
    en: str
    allowed: tuple[str, ...] = ()
    # For derived facts: an SQL expression over base facts (see module docstring).
    derived: str | None = None
    household: bool = False
    unit: str | None = None
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)


SEXES = ("male", "female")
RELATIONS = ("head", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "other")
HUKOU_TYPES = ("rural", "urban")
DISABILITY_KINDS = ("none", "visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")
LOW_INCOME = ("none", "destitute", "minimum_allowance", "marginal")  # 无, 特困, 低保, 低边
VETERAN_CATEGORIES = (
    "none",
    "retired_soldier",  # 退役士兵
    "retired_officer",  # 退役军官
    "disabled_serviceman",  # 残疾军人
    "martyr_survivor",  # 烈士遗属
    "duty_death_survivor",  # 因公牺牲军人遗属
)
SCHOOL_STAGES = (
    "none",  # not enrolled
    "nursery",  # 托育 (0–3)
    "preschool",  # 学前
    "primary",
    "junior_secondary",
    "senior_secondary",
    "secondary_vocational",
    "higher",
)
CARE_NEEDS = ("able", "mild", "moderate", "severe")  # 老年人能力评估: 能力完好 / 轻度 / 中度 / 重度失能
HOUSE_GRADES = ("none", "A", "B", "C", "D")  # 农村房屋安全等级; none: no rural house of one's own
EMPLOYMENT_STATUSES = (
    "none",  # 不在业: at school, keeping house, unable to work, or a child — not working and not seeking work
    "employed",  # 单位就业: an employee of an employer (职工)
    "self_employed",  # 个体经营: a sole proprietor or running a small business
    "flexible",  # 灵活就业: part-time, platform or casual work
    "unemployed_registered",  # 登记失业: without work, seeking it, registered with the employment office
    "unemployed",  # 失业未登记: without work and seeking it, not (yet) registered
    "retired",  # 已退休
)
# Basic pension and medical insurance: which scheme one is enrolled in (or draws a pension from).
INSURANCE_SCHEMES = ("none", "employee", "resident")  # 未参保, 职工, 城乡居民
ORPHAN_STATUSES = ("none", "orphan", "de_facto_unsupported")  # 孤儿, 事实无人抚养儿童

BASE_FACTS: tuple[Fact, ...] = (
    Fact("birth_date", FactType.DATE, "出生日期", "Date of birth"),
    Fact("sex", FactType.TEXT, "性别", "Sex", SEXES),
    Fact("hukou_area", FactType.AREA, "户籍所在地（村、社区）", "Hukou (registered residence), village level"),
    Fact("hukou_type", FactType.TEXT, "户口性质", "Hukou type", HUKOU_TYPES),
    Fact("residence_area", FactType.AREA, "居住地（村、社区）", "Place of residence, village level"),
    Fact(
        "lives_in_village",
        FactType.BOOLEAN,
        "住在农村（村）",
        "Lives in a village (a villagers' committee), not in a town or city community",
        notes="false for a residents' committee (社区) in a town or city",
    ),
    Fact("household_id", FactType.TEXT, "户号", "Hukou household"),
    Fact("relation", FactType.TEXT, "与户主关系", "Relation to the household head", RELATIONS),
    Fact("lives_alone", FactType.BOOLEAN, "独居", "Lives alone"),
    Fact("disability_kind", FactType.TEXT, "残疾类别", "Kind of disability", DISABILITY_KINDS),
    Fact(
        "disability_grade",
        FactType.INTEGER,
        "残疾等级",
        "Disability grade (1 most severe … 4; 0 without a certificate)",
        notes="0 when the person holds no disability certificate",
    ),
    Fact("care_need", FactType.TEXT, "失能等级（能力评估）", "Care need from the ability assessment", CARE_NEEDS),
    Fact("low_income_status", FactType.TEXT, "低收入类别", "Low-income status", LOW_INCOME),
    Fact(
        "veteran_category",
        FactType.TEXT,
        "退役军人和优抚对象类别",
        "Veteran or survivor category",
        VETERAN_CATEGORIES,
    ),
    Fact("school_stage", FactType.TEXT, "在读学段", "School stage enrolled in", SCHOOL_STAGES),
    Fact("boarding", FactType.BOOLEAN, "寄宿", "Boards at school (false when not enrolled)"),
    Fact("fd_hypertension", FactType.BOOLEAN, "高血压患者", "Has hypertension (family-doctor key group)"),
    Fact("fd_diabetes", FactType.BOOLEAN, "2型糖尿病患者", "Has type 2 diabetes (family-doctor key group)"),
    Fact("fd_pregnant", FactType.BOOLEAN, "孕产妇", "Pregnant or within 42 days after birth"),
    Fact("fd_severe_mental", FactType.BOOLEAN, "严重精神障碍患者", "Has a severe mental disorder"),
    Fact("house_grade", FactType.TEXT, "农村房屋安全等级", "Rural house safety grade", HOUSE_GRADES),
    Fact("income", FactType.DECIMAL, "个人年收入", "Personal annual income", unit="yuan"),
    Fact(
        "employment_status",
        FactType.TEXT,
        "就业状况",
        "Employment status (registered unemployed: registered with the public employment office)",
        EMPLOYMENT_STATUSES,
    ),
    Fact(
        "pension_insurance",
        FactType.TEXT,
        "基本养老保险",
        "Basic pension insurance: the scheme one is enrolled in or draws a pension from",
        INSURANCE_SCHEMES,
    ),
    Fact(
        "medical_insurance",
        FactType.TEXT,
        "基本医疗保险",
        "Basic medical insurance: the scheme one is enrolled in",
        INSURANCE_SCHEMES,
    ),
    Fact(
        "orphan_status",
        FactType.TEXT,
        "孤儿或事实无人抚养儿童",
        "Recognised as an orphan or as a child without anyone actually caring for them (事实无人抚养儿童)",
        ORPHAN_STATUSES,
    ),
)

# ``:as_of`` is the date the question is asked for. Age is in full years (周岁):
# one more on each birthday; a 29 February birthday counts from 1 March in
# years without one.
DERIVED_FACTS: tuple[Fact, ...] = (
    Fact(
        "age",
        FactType.INTEGER,
        "周岁年龄",
        "Age in full years on the as-of date",
        derived="full_years(birth_date, :as_of)",
        unit="years",
    ),
    Fact("hukou_county", FactType.AREA, "户籍所在县（市、区）", "Hukou county", derived="area_prefix(hukou_area, 6)"),
    Fact(
        "hukou_city",
        FactType.AREA,
        "户籍所在市（代码前4位）",
        "Hukou city: the first 4 digits of the area code ('3310' is Taizhou)",
        derived="area_prefix(hukou_area, 4)",
    ),
    Fact(
        "residence_county",
        FactType.AREA,
        "居住地所在县（市、区）",
        "County of residence",
        derived="area_prefix(residence_area, 6)",
    ),
    Fact(
        "residence_city",
        FactType.AREA,
        "居住地所在市（代码前4位）",
        "City of residence: the first 4 digits of the area code ('3310' is Taizhou)",
        derived="area_prefix(residence_area, 4)",
    ),
    Fact(
        "is_veteran",
        FactType.BOOLEAN,
        "退役军人或优抚对象",
        "Is a veteran or a survivor of a serviceman",
        derived="veteran_category <> 'none'",
    ),
    Fact(
        "is_disabled",
        FactType.BOOLEAN,
        "持证残疾人",
        "Holds a disability certificate",
        derived="disability_grade > 0",
    ),
    Fact(
        "household_size",
        FactType.INTEGER,
        "户内人数",
        "Members of the hukou household",
        derived="count(*)",
        household=True,
    ),
    Fact(
        "household_income_per_capita",
        FactType.DECIMAL,
        "家庭人均年收入",
        "Household annual income per member",
        derived="per_capita(sum(income), count(*))",
        household=True,
        unit="yuan",
    ),
    Fact(
        "household_has_disabled",
        FactType.BOOLEAN,
        "户内有持证残疾人",
        "Someone in the household holds a disability certificate",
        derived="max(CASE WHEN disability_grade > 0 THEN 1 WHEN disability_grade = 0 THEN 0 END) = 1",
        household=True,
    ),
    # 零就业家庭: someone in the household is without work and seeking it, and nobody works. Unknown
    # while any member's employment status is unknown, since that member might be the one who works.
    Fact(
        "household_zero_employment",
        FactType.BOOLEAN,
        "零就业家庭",
        "Zero-employment household: a member is unemployed and seeking work, and no member works",
        derived=(
            "CASE WHEN max(CASE WHEN employment_status IS NULL THEN 1 ELSE 0 END) = 0 THEN "
            "max(CASE WHEN employment_status IN ('employed', 'self_employed', 'flexible') THEN 1 ELSE 0 END) = 0 "
            "AND max(CASE WHEN employment_status IN ('unemployed_registered', 'unemployed') THEN 1 ELSE 0 END) = 1 "
            "END"
        ),
        household=True,
    ),
)

FACTS: dict[str, Fact] = {f.name: f for f in (*BASE_FACTS, *DERIVED_FACTS)}
BASE: dict[str, Fact] = {f.name: f for f in BASE_FACTS}
