"""Loading, versioning, the lifecycle and review dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from fuwu.accounts.models import Role, User
from fuwu.common.models import AuditLog
from fuwu.standards.models import Clause, ServiceItem, Standard, StandardVersion, Status
from fuwu.standards.parsing import parse_many
from fuwu.standards.services import (
    TransitionError,
    add_years,
    review_due,
    standard_abolish,
    standard_begin_review,
    standard_confirm,
    standard_publish,
    standards_load,
)
from tests.conftest import MINI

pytestmark = pytest.mark.django_db


def load(*paths: Path) -> list[str]:
    return [r.outcome for r in standards_load(parsed=parse_many(list(paths)), actor=None)]


def test_load_creates_rows_for_clauses_items_indicators_and_parameters() -> None:
    assert load(MINI) == ["created"]
    version = StandardVersion.objects.get()
    assert (version.number, version.status, version.code) == (1, Status.PUBLISHED, "DB3310/T 999—2021")
    assert [c.number for c in version.clauses.all()] == ["1", "4", "5", "5.1", "5.2", "6"]
    assert Clause.objects.get(number="5.1").parent == Clause.objects.get(number="5")
    assert version.items.get().key == "test-visit"
    assert version.indicators.get().target == 90
    values = version.parameters.get().values.all()
    assert [v.value for v in values][1] == {"80-89": "60", "90-99": "120", "100+": "500"}


def test_loading_unchanged_content_is_a_no_op() -> None:
    load(MINI)
    audit_rows = AuditLog.objects.count()
    assert load(MINI) == ["unchanged"]
    assert StandardVersion.objects.count() == 1
    assert AuditLog.objects.count() == audit_rows


def test_changed_content_makes_a_new_version_and_retires_the_old(write_standard: Callable[..., Path]) -> None:
    load(MINI)
    changed = write_standard("服务人员应持有健康证明。", "服务人员应持有有效的健康证明。")
    assert load(changed) == ["new_version"]
    old, new = StandardVersion.objects.order_by("number")
    assert (old.status, old.superseded_by, new.status) == (Status.REVISED, new, Status.PUBLISHED)
    events = list(AuditLog.objects.order_by("id").values_list("event", flat=True))
    assert events[-3:] == ["standard.version_created", "standard.revised", "standard.published"]


def test_a_bad_file_among_good_ones_loads_nothing(write_standard: Callable[..., Path]) -> None:
    good = write_standard(name="good.yaml")
    bad = write_standard("id: test-home-visits", "id: other", name="bad.yaml")
    bad.write_text(bad.read_text(encoding="utf-8").replace("life_area: elderly", "life_area: x"), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("standards", "load", str(good), str(bad))
    assert not Standard.objects.exists()
    assert not AuditLog.objects.exists()


def test_a_database_failure_mid_load_rolls_everything_back(
    write_standard: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_standard(name="a.yaml")
    second = write_standard("id: test-home-visits", "id: second", name="b.yaml")
    second.write_text(second.read_text(encoding="utf-8").replace("test-visit", "test-visit-2"), encoding="utf-8")
    parsed = parse_many([first, second])
    original = ServiceItem.objects.bulk_create
    calls = 0

    def fail_on_second(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise IntegrityError("simulated failure")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ServiceItem.objects, "bulk_create", fail_on_second)
    with pytest.raises(IntegrityError):
        standards_load(parsed=parsed, actor=None)
    assert not Standard.objects.exists()


def test_the_command_reports_outcomes(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("standards", "load", str(MINI))
    call_command("standards", "load", str(MINI))
    out = capsys.readouterr().out
    assert "created    test-home-visits  v1" in out
    assert "unchanged  test-home-visits  v1" in out


def test_a_draft_waits_for_publication(write_standard: Callable[..., Path]) -> None:
    load(MINI)
    draft = write_standard("status: published", "status: draft")
    draft.write_text(draft.read_text(encoding="utf-8").replace("服务人员宜每年", "服务人员应每年"), encoding="utf-8")
    load(draft)
    v1, v2 = StandardVersion.objects.order_by("number")
    assert (v1.status, v2.status) == (Status.PUBLISHED, Status.DRAFT)
    officer = User.objects.create_user("std", password="x-very-long-1", role=Role.STANDARDS_OFFICE)
    standard_publish(version=v2, actor=officer)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v1.superseded_by, v2.status) == (Status.REVISED, v2, Status.PUBLISHED)
    row = AuditLog.objects.filter(event="standard.published").latest("id")
    assert (row.actor, row.before["status"], row.after["status"]) == (officer, "draft", "published")


@pytest.mark.parametrize(
    ("start", "transition", "allowed"),
    [
        (Status.DRAFT, "publish", True),
        (Status.PUBLISHED, "publish", False),
        (Status.PUBLISHED, "begin_review", True),
        (Status.DRAFT, "begin_review", False),
        (Status.UNDER_REVIEW, "begin_review", False),
        (Status.UNDER_REVIEW, "confirm", True),
        (Status.PUBLISHED, "confirm", False),
        (Status.PUBLISHED, "abolish", True),
        (Status.UNDER_REVIEW, "abolish", True),
        (Status.DRAFT, "abolish", False),
        (Status.ABOLISHED, "begin_review", False),
        (Status.ABOLISHED, "abolish", False),
    ],
)
def test_lifecycle_transitions(start: Status, transition: str, allowed: bool) -> None:
    load(MINI)
    version = StandardVersion.objects.get()
    StandardVersion.objects.filter(pk=version.pk).update(status=start)
    service = {
        "publish": lambda: standard_publish(version=version, actor=None),
        "begin_review": lambda: standard_begin_review(version=version, actor=None),
        "confirm": lambda: standard_confirm(version=version, actor=None, reviewed_on=dt.date(2026, 6, 1)),
        "abolish": lambda: standard_abolish(version=version, actor=None, note="replaced by a provincial standard"),
    }[transition]
    if allowed:
        service()
    else:
        with pytest.raises(TransitionError):
            service()
        version.refresh_from_db()
        assert version.status == start


def test_abolishing_needs_a_reason() -> None:
    load(MINI)
    with pytest.raises(TransitionError, match="needs a reason"):
        standard_abolish(version=StandardVersion.objects.get(), actor=None, note="  ")


def test_review_dates() -> None:
    load(MINI)
    version = StandardVersion.objects.get()
    # Effective 2021-11-29 with a five-year period: due 2026-11-29.
    assert version.review_due_on == dt.date(2026, 11, 29)
    standard_begin_review(version=version, actor=None)
    version = standard_confirm(version=version, actor=None, reviewed_on=dt.date(2026, 12, 15))
    assert (version.status, version.last_reviewed_on, version.review_due_on) == (
        Status.PUBLISHED,
        dt.date(2026, 12, 15),
        dt.date(2031, 12, 15),
    )


def test_add_years_on_29_february() -> None:
    assert add_years(dt.date(2024, 2, 29), 5) == dt.date(2029, 2, 28)
    assert add_years(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)
    assert review_due(effective_on=dt.date(2020, 1, 1), last_reviewed_on=None, period_years=3) == dt.date(2023, 1, 1)


def test_the_database_keeps_one_version_in_force() -> None:
    load(MINI)
    version = StandardVersion.objects.get()
    clone = StandardVersion.objects.get(pk=version.pk)
    clone.pk = None
    clone.number = 2
    clone.status = Status.UNDER_REVIEW
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


def test_the_database_refuses_a_review_period_beyond_five_years() -> None:
    load(MINI)
    with pytest.raises(IntegrityError), transaction.atomic():
        StandardVersion.objects.update(review_period_years=6)
