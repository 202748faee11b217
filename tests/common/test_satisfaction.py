"""The shared 好差评 scale: five levels, what counts as satisfied and as a 差评, a reason list per level; home care's
visit rating offers the same five words."""

from __future__ import annotations

import datetime as dt

from fuwu.common import satisfaction, workdays
from fuwu.common.satisfaction import Level


def test_the_five_levels_best_first() -> None:
    assert [str(level.label) for level in satisfaction.LEVELS] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]
    assert [int(level) for level in satisfaction.LEVELS] == [5, 4, 3, 2, 1]


def test_satisfied_and_poor() -> None:
    assert [level for level in Level.values if satisfaction.is_satisfied(level)] == [5, 4]
    assert sorted(level for level in Level.values if satisfaction.is_poor(level)) == [1, 2]
    assert not satisfaction.is_poor(3)
    assert not satisfaction.is_satisfied(3)


def test_every_level_has_its_reasons_and_every_reason_a_label() -> None:
    keys = [key for level in Level.values for key, _label in satisfaction.reasons_for(level)]
    assert all(satisfaction.reasons_for(level) for level in Level.values)
    assert set(keys) == set(satisfaction.REASON_LABELS)
    # A 差评's reasons are never offered for a good rating, and the other way round.
    good = {k for k, _ in satisfaction.reasons_for(Level.VERY_SATISFIED)}
    poor = {k for k, _ in satisfaction.reasons_for(Level.VERY_DISSATISFIED)}
    assert not good & poor
    assert satisfaction.reasons_for(0) == ()


def test_home_care_rates_visits_on_the_same_scale() -> None:
    from fuwu.homecare.forms_door import STARS
    from fuwu.homecare.supervision import SATISFIED_STARS

    assert [(value, str(label)) for value, label in STARS] == [
        (int(x), f"{int(x)} 星：{x.label}") for x in satisfaction.LEVELS
    ]
    assert SATISFIED_STARS == 4


def test_the_rectification_deadline_says_whether_the_holidays_are_known() -> None:
    # From Fri 25 Sep 2026: 28–30 Sep are 3 working days, then 1–7 Oct are holidays; 8, 9, the worked Saturday
    # 10 Oct, 12, 13, 14 and 15 Oct make 10.
    assert workdays.deadline(dt.date(2026, 9, 25), 10) == (dt.date(2026, 10, 15), True)
    due, known = workdays.deadline(dt.date(2099, 3, 2), 5)  # a year no notice covers: weekends only, flagged
    assert (due, known) == (dt.date(2099, 3, 9), False)
