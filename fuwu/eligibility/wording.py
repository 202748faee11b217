"""Answers in residents' words: levels, units, periods, facts and sources, for the self-check and the API.

Every unit a rule's level may name has a word here (``tests/eligibility/test_wording.py`` checks the
standards), so a unit key never reaches a page. Texts are gettext messages in Chinese; ``in_both`` gives a
text in Chinese and English at once, for the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import get_language, gettext, gettext_noop, override

from fuwu.eligibility.facts import FACTS

if TYPE_CHECKING:
    from fuwu.eligibility.explain import ItemResult

# A service unit in words (``%(n)s`` is the number of units).
UNIT_WORDS = {
    "follow_up": gettext_noop("%(n)s 次随访"),
    "check": gettext_noop("%(n)s 次健康体检"),
    "antenatal_visit": gettext_noop("%(n)s 次孕期检查"),
    "visit": gettext_noop("%(n)s 次上门服务"),
    "contact": gettext_noop("%(n)s 次服务"),
    "contract": gettext_noop("%(n)s 份签约服务"),
    "session": gettext_noop("%(n)s 次活动"),
    "inspection": gettext_noop("%(n)s 次检查"),
    "test": gettext_noop("%(n)s 次测试"),
    "referral": gettext_noop("%(n)s 次推荐"),
    "job_referral": gettext_noop("%(n)s 次岗位推介"),
    "plaque": gettext_noop("%(n)s 块光荣牌"),
    "film_screening": gettext_noop("%(n)s 场电影"),
    "free_radio_channel": gettext_noop("%(n)s 套免费广播节目"),
    "free_satellite_tv_channel": gettext_noop("%(n)s 套免费电视节目"),
    "month_of_folic_acid": gettext_noop("%(n)s 个月的叶酸"),
    "percent_of_personal_premium": gettext_noop("个人缴费的 %(n)s%%"),
    "percent_of_eligible_out_of_pocket_costs": gettext_noop("合规自付费用的 %(n)s%%"),
}
# Units that are a share of money paid for the person: their items are help with money, like an amount.
MONEY_UNITS = frozenset({"percent_of_personal_premium", "percent_of_eligible_out_of_pocket_costs"})
# The units of the standards' dated parameters, in words (``%(n)s`` is the number).
PARAMETER_UNIT_WORDS = {
    "yuan": gettext_noop("%(n)s 元"),
    "yuan_per_month": gettext_noop("每月 %(n)s 元"),
    "yuan_per_year": gettext_noop("每年 %(n)s 元"),
    "yuan_per_household": gettext_noop("每户 %(n)s 元"),
    "yuan_per_household_per_year": gettext_noop("每户每年 %(n)s 元"),
    "yuan_per_person_per_month": gettext_noop("每人每月 %(n)s 元"),
    "yuan_per_person_per_year": gettext_noop("每人每年 %(n)s 元"),
    "yuan_per_student_per_year": gettext_noop("每生每年 %(n)s 元"),
    "percent": gettext_noop("%(n)s%%"),
    "month": gettext_noop("%(n)s 个月"),
    "minute": gettext_noop("%(n)s 分钟"),
    "hour": gettext_noop("%(n)s 小时"),
    "working_day": gettext_noop("%(n)s 个工作日"),
    "metre": gettext_noop("%(n)s 米"),
    # Indicators' units (an indicator's target is a number in one of these too).
    "hours_per_week": gettext_noop("每周 %(n)s 小时"),
    "places_per_1000_residents": gettext_noop("每千人 %(n)s 个"),
}
# An indicator's target against its value.
COMPARISON_WORDS = {
    "at_least": gettext_noop("不低于 %(what)s"),
    "at_most": gettext_noop("不高于 %(what)s"),
    "equal": gettext_noop("等于 %(what)s"),
}
MONEY = gettext_noop("%(n)s 元")
PERIOD_WORDS = {
    "once": gettext_noop("一次性：%(what)s"),
    "month": gettext_noop("每月 %(what)s"),
    "year": gettext_noop("每年 %(what)s"),
}
PRICE = gettext_noop("自费购买，价格%(what)s")
SOURCE = gettext_noop("依据《%(standard)s》第 %(clause)s 条")
IMPLEMENTS = gettext_noop("落实国家基本公共服务标准“%(item)s”")
SHARED = gettext_noop("一份额度，以下 %(n)s 项服务共用")


def number(value: Decimal) -> str:
    """A number as people write it: no trailing zeros, no exponent (12, 12.5, 0.75)."""
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value.normalize())


def english() -> bool:
    return (get_language() or "").startswith("en")


def fact_words(name: str) -> str:
    """A fact's name in the page's language (the vocabulary's own words)."""
    fact = FACTS.get(name)
    if fact is None:
        return name
    return fact.en if english() else fact.zh


def unit_words(unit: str | None, n: Decimal) -> str:
    template = UNIT_WORDS.get(unit or "")
    if template is None:
        # A unit without words is a missing entry above (the test fails); say the number rather than the key.
        return number(n)
    return gettext(template) % {"n": number(n)}


def quantity_words(unit: str | None, value: Decimal | str | int) -> str:
    """A number of a standard's unit (a parameter's, an indicator's) in words: 每人每月 500 元, 90%."""
    n = number(Decimal(str(value)))
    template = PARAMETER_UNIT_WORDS.get(unit or "")
    # A unit without words is a missing entry above (the tests fail); say the number rather than the key.
    return gettext(template) % {"n": n} if template else n


def target_words(comparison: str, unit: str | None, target: Decimal) -> str:
    """An indicator's target: 不低于 90%."""
    return gettext(COMPARISON_WORDS.get(comparison, "%(what)s")) % {"what": quantity_words(unit, target)}


def level_words(
    *, amount: Decimal | None, units: Decimal | None, unit: str | None, period: str, self_paid: bool = False
) -> list[str]:
    """What an eligible person gets (or, self-paid, what it costs), one line per amount and per unit count."""
    per = gettext(PERIOD_WORDS.get(period, "%(what)s"))
    out = []
    if amount is not None:
        money = per % {"what": gettext(MONEY) % {"n": number(amount)}}
        out.append(gettext(PRICE) % {"what": money} if self_paid else money)
    if units is not None:
        out.append(per % {"what": unit_words(unit, units)})
    return out


def source_words(standard: str, clause: str) -> str:
    return gettext(SOURCE) % {"standard": standard, "clause": clause}


def in_both(make: Callable[..., str], *args: Any, **kwargs: Any) -> dict[str, str]:
    """``make`` called in Chinese and in English: ``{"zh": ..., "en": ...}``."""
    out = {}
    for key, language in (("zh", "zh-hans"), ("en", "en")):
        with override(language):
            out[key] = make(*args, **kwargs)
    return out


def result_words(
    result: ItemResult,
    *,
    self_paid: bool,
    standard_title: Mapping[str, str],
    national_name: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The human wording of one answer, in Chinese and English (the API's text beside its codes).

    ``standard_title`` and ``national_name`` are ``{"zh": ..., "en": ...}``; the English falls back to the Chinese.
    """

    def title(text: Mapping[str, str]) -> str:
        return (text.get("en") or text["zh"]) if english() else text["zh"]

    def level() -> str:
        return "；".join(
            level_words(
                amount=result.amount, units=result.units, unit=result.unit, period=result.period, self_paid=self_paid
            )
        )

    texts = in_both(level)
    return {
        "level_text": texts if texts["zh"] else None,
        "missing_text": [in_both(fact_words, name) for name in result.missing],
        "implements_text": (
            in_both(lambda: gettext(IMPLEMENTS) % {"item": title(national_name)}) if national_name is not None else None
        ),
        "sources": [
            in_both(lambda c=c: source_words(title(standard_title), c.clause)) if c.clause else None
            for c in result.criteria
        ],
    }
