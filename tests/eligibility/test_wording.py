"""Units, periods and sources in words: every unit the standards use has one, and none is shown as a key."""

from __future__ import annotations

from decimal import Decimal

import yaml
from django.utils.translation import override

from fuwu.eligibility.wording import PARAMETER_UNIT_WORDS, UNIT_WORDS, level_words, source_words
from fuwu.standards.parsing import expand_paths
from tests.conftest import REPO


def standards() -> list[dict]:  # type: ignore[type-arg]
    paths = expand_paths([REPO / "standards"])  # the standards, as the loader finds them (not search/synonyms)
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths]


def test_every_unit_of_a_rule_has_words() -> None:
    units = {
        item["target_group"]["rule"]["level"]["unit"]
        for doc in standards()
        for item in doc["items"]
        if (item["target_group"].get("rule") or {}).get("level", {}).get("unit")
    }
    assert units, "no rule levels with units found"
    assert sorted(units - set(UNIT_WORDS)) == []


def test_every_unit_of_a_parameter_has_words() -> None:
    units = {p["unit"] for doc in standards() for p in doc.get("parameters", [])}
    assert sorted(units - set(PARAMETER_UNIT_WORDS)) == []


def test_levels_in_words_in_both_languages() -> None:
    def words(**kwargs: object) -> list[str]:
        return level_words(**{"amount": None, "units": None, "unit": None, "period": "month", **kwargs})  # type: ignore[arg-type]

    with override("zh-hans"):
        assert words(amount=Decimal("500.00")) == ["每月 500 元"]
        assert words(amount=Decimal("100"), self_paid=True) == ["自费购买，价格每月 100 元"]
        assert words(units=Decimal("6"), unit="month_of_folic_acid", period="once") == ["一次性：6 个月的叶酸"]
        assert words(units=Decimal("80"), unit="percent_of_eligible_out_of_pocket_costs", period="year") == [
            "每年 合规自付费用的 80%"
        ]
        assert source_words("居家养老上门服务规范", "5.2") == "依据《居家养老上门服务规范》第 5.2 条"
    with override("en"):
        assert words(amount=Decimal("12.50"), period="year") == ["12.5 yuan a year"]
        assert words(amount=Decimal("100"), self_paid=True) == ["Bought at one's own cost, at 100 yuan a month"]
        assert words(units=Decimal("17"), unit="free_radio_channel") == ["17 free radio channels a month"]
        assert source_words("Home care", "5.2") == "Clause 5.2 of Home care"
