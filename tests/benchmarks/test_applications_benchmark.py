"""The applications benchmark builds what it says and measures the real page and job (no timing asserted here)."""

from __future__ import annotations

import pytest

from benchmarks.applications import build, measure_inbox, measure_overdue, percentile
from fuwu.applications.models import Application, ApplicationEvent, EventKind


def test_percentile() -> None:
    assert percentile([float(n) for n in range(1, 101)], 95) == 95.0
    assert percentile([3.0], 95) == 3.0


@pytest.mark.django_db
def test_the_benchmark_builds_open_applications_and_measures_them() -> None:
    built = build(203, seed=2)
    assert Application.objects.count() == 203
    assert set(Application.objects.values_list("status", flat=True)) == {
        "submitted",
        "in_progress",
        "awaiting_applicant",
    }
    inbox = measure_inbox(built["officer"], 2)
    assert set(inbox) >= {"baseline: GET /healthz", "inbox, first page", "inbox, overdue only"}
    result = measure_overdue(1)
    overdue = Application.objects.filter(status="in_progress", due_on__lt=built["today"]).count()
    assert result["flagged"] == overdue > 0
    assert ApplicationEvent.objects.filter(kind=EventKind.ESCALATED).count() == overdue
