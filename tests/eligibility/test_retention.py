"""Retention: old screening runs lose their Parquet files and person rows; counts and outreach records stay."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from fuwu.common.models import AuditLog
from fuwu.eligibility.models import Candidate, OutreachRecord, ScreeningCount, ScreeningRun
from fuwu.jobs import kinds, schedule
from tests.eligibility.stores import stored_run

pytestmark = pytest.mark.django_db
VILLAGE = "331002001901"


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    settings.FUWU_SCREENING_RETENTION = {"keep_runs": 2, "keep_days": 30}
    return Path(settings.VAR_DIR)


def run_aged(var_dir: Path, name: str, days: int, population: str = "registry") -> ScreeningRun:
    """A registry run as the service lays it out (its own folder under registry-screens), ``days`` old."""
    out = var_dir / "registry-screens" / name / "results"
    answers = [(7, VILLAGE, "test-visit", "eligible", Decimal("120.00")), (8, VILLAGE, "test-visit", "unknown", None)]
    (out.parent).mkdir(parents=True)
    (out.parent / "registry.parquet").write_bytes(b"personal facts")
    run = stored_run(out, answers, population=population)
    Candidate.objects.create(run=run, person_id=7, hukou_area=VILLAGE, item="test-visit", rule_version="v")
    started = timezone.now() - dt.timedelta(days=days)
    ScreeningRun.objects.filter(pk=run.pk).update(started_at=started, finished_at=started)
    return ScreeningRun.objects.get(pk=run.pk)


def test_old_runs_lose_their_files_and_person_rows_but_keep_their_counts(var_dir: Path, capsys: Any) -> None:
    oldest = run_aged(var_dir, "a", 50)
    older = run_aged(var_dir, "b", 40)  # old, but one of the two newest of the registry: kept
    newest = run_aged(var_dir, "c", 1)
    other = run_aged(var_dir, "d", 45, population="/data/pop.parquet")  # the newest of its population: kept
    OutreachRecord.objects.create(run=oldest, person_id=7, item="test-visit", status="contacted")

    call_command("eligibility", "purge-runs", "--dry-run")
    assert f"would purge 1 run(s): {oldest.pk}" in capsys.readouterr().out
    assert Candidate.objects.filter(run=oldest).exists()

    call_command("eligibility", "purge-runs")
    assert f"purged 1 run(s): {oldest.pk}" in capsys.readouterr().out
    oldest.refresh_from_db()
    assert oldest.purged_at is not None
    assert not Candidate.objects.filter(run=oldest).exists()
    assert not (var_dir / "registry-screens" / "a").exists()  # results and the registry export
    assert ScreeningCount.objects.filter(run=oldest).exists()  # how many, not who
    assert OutreachRecord.objects.filter(run=oldest).exists()  # the officers' work
    assert AuditLog.objects.filter(event="screening.purged", object_id=str(oldest.pk)).exists()
    for kept in (older, newest, other):
        kept.refresh_from_db()
        assert kept.purged_at is None
        assert Candidate.objects.filter(run=kept).exists()
        assert Path(kept.output, "part-00000.parquet").is_file()
    # Running it again finds nothing more to do.
    call_command("eligibility", "purge-runs")
    assert "purged 0 run(s)" in capsys.readouterr().out


def test_retention_runs_every_day_on_the_schedule(settings: Any) -> None:
    entry = schedule.parse("eligibility-runs-purge", settings.FUWU_SCHEDULE["eligibility-runs-purge"])
    assert entry.kind == "eligibility.runs_purge"
    assert kinds.get(entry.kind).label == "删除过期筛查结果"
