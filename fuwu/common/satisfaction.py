"""The national 好差评 scale: five levels, and the fixed reasons a rater may pick at each.

One scale for every capability that asks a resident how they were served (home care's visits, applications'
handling), so that "satisfied" means the same in every figure: 满意 or better (level 4 or 5); a 差评 is
不满意 or 非常不满意 (level 2 or 1). The levels follow the State Council's 好差评 system (国办发〔2019〕51号);
the reasons are this platform's list, grouped by level (a rater picks from the list of the level they gave).
Reason keys are stable (stored); their words are translatable labels.
"""

from __future__ import annotations

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASIC = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


# Best first, as a form lists them.
LEVELS = (Level.VERY_SATISFIED, Level.SATISFIED, Level.BASIC, Level.DISSATISFIED, Level.VERY_DISSATISFIED)
SATISFIED_AT_LEAST = Level.SATISFIED
POOR = frozenset({Level.DISSATISFIED, Level.VERY_DISSATISFIED})

_GOOD: tuple[tuple[str, Promise], ...] = (
    ("guide_clear", _("办事指南清楚准确")),
    ("one_visit", _("一次办成，没有多跑")),
    ("fast", _("办理速度快")),
    ("courteous", _("工作人员态度好")),
    ("few_materials", _("材料简便")),
)
_BASIC: tuple[tuple[str, Promise], ...] = (
    ("done_but_slow", _("能办成，但用时较长")),
    ("guide_partly", _("办事指南不够清楚")),
    ("online_awkward", _("网上办理不够方便")),
    ("progress_unclear", _("办理进度不够清楚")),
)
_POOR: tuple[tuple[str, Promise], ...] = (
    ("guide_wrong", _("办事指南不清楚或与实际不符")),
    ("many_trips", _("多次跑腿或多次补正")),
    ("slow", _("超过承诺时限或办理太慢")),
    ("rude", _("工作人员态度差")),
    ("extra_materials", _("要求提交指南以外的材料")),
    ("not_told_at_once", _("缺什么没有一次性告知")),
    ("decision_unexplained", _("决定的理由没有说清楚")),
)
REASONS: dict[int, tuple[tuple[str, Promise], ...]] = {
    Level.VERY_SATISFIED: _GOOD,
    Level.SATISFIED: _GOOD,
    Level.BASIC: _BASIC,
    Level.DISSATISFIED: _POOR,
    Level.VERY_DISSATISFIED: _POOR,
}
REASON_LABELS: dict[str, Promise] = {key: label for group in (_GOOD, _BASIC, _POOR) for key, label in group}


def is_poor(level: int) -> bool:
    """A 差评: 不满意 or 非常不满意."""
    return level in POOR


def is_satisfied(level: int) -> bool:
    """满意 or 非常满意: what a satisfaction rate counts."""
    return level >= SATISFIED_AT_LEAST


def reasons_for(level: int) -> tuple[tuple[str, Promise], ...]:
    return REASONS.get(level, ())
