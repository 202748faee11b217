"""Screening runs: crash-safe resume, refusal to mix runs, the command, and the database record."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from fuwu.eligibility import screening
from fuwu.eligibility.models import Candidate, RunStatus, ScreeningCount, ScreeningRun
from fuwu.eligibility.ruleset import rules_from_document
from fuwu.standards.models import StandardVersion
from fuwu.standards.parsing import parse_many, parse_standard_file
from fuwu.standards.services import standards_load
from tests.conftest import MINI, REPO
from tests.eligibility.population import random_population, write

AS_OF = dt.date(2026, 11, 29)
RULES = rules_from_document(parse_standard_file(MINI).document, version=1, content_hash="test")


def digest(out: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(pq.read_table(p).to_string().encode()).hexdigest() for p in sorted(out.glob("part-*"))
    }


class Crashing:
    """An engine that dies after a number of partitions, as a killed process would."""

    def __init__(self, inner: screening.Engine, after: int) -> None:
        self.inner, self.after, self.done = inner, after, 0

    def prepare(self) -> tuple[int, int]:
        return self.inner.prepare()

    def screen_partition(self, where: str, path: Path) -> int:
        if self.done == self.after:
            path.write_bytes(b"half-written")  # left behind in a temp file, never renamed
            raise KeyboardInterrupt
        self.done += 1
        return self.inner.screen_partition(where, path)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def population(tmp_path: Path) -> Path:
    return write(random_population(3_000, seed=11, as_of=AS_OF), tmp_path / "pop.parquet")


def plan(population: Path, out: Path, **changes: Any) -> screening.Plan:
    args = {"engine": "duckdb", "as_of": AS_OF, "population": population, "out": out, "partitions": 5, "rules": RULES}
    return screening.Plan(**{**args, **changes})


def test_a_killed_run_resumes_to_the_identical_result(population: Path, tmp_path: Path) -> None:
    whole = plan(population, tmp_path / "whole")
    screening.run(whole, screening.DuckDBEngine(whole))

    interrupted = plan(population, tmp_path / "interrupted")
    with pytest.raises(KeyboardInterrupt):
        screening.run(interrupted, Crashing(screening.DuckDBEngine(interrupted), after=2))
    assert len(list(interrupted.out.glob("part-*.parquet"))) == 2
    assert not list(interrupted.out.glob(".*tmp"))  # the half-written file was cleaned up
    outcome = screening.run(interrupted, screening.DuckDBEngine(interrupted))
    assert (outcome.partitions_skipped, outcome.partitions_run) == (2, 3)
    assert digest(interrupted.out) == digest(whole.out)
    # Running again finds everything done and changes nothing.
    again = screening.run(interrupted, screening.DuckDBEngine(interrupted))
    assert again.partitions_run == 0


def test_a_different_run_in_the_same_directory_is_refused(population: Path, tmp_path: Path) -> None:
    first = plan(population, tmp_path / "out")
    screening.run(first, screening.DuckDBEngine(first))
    other = plan(population, tmp_path / "out", as_of=dt.date(2027, 1, 1))
    with pytest.raises(screening.ScreeningError, match="different screening"):
        screening.run(other, screening.DuckDBEngine(other))
    screening.run(other, screening.DuckDBEngine(other), fresh=True)


@pytest.mark.django_db
def test_the_command_screens_records_the_run_and_loads_results(population: Path, tmp_path: Path) -> None:
    call_command("standards", "load", str(MINI))
    out = tmp_path / "screen"
    call_command("screen", "--population", str(population), "--out", str(out), "--as-of", "2026-11-29", "--quiet")
    # The same command again finds the finished run and does nothing.
    call_command("screen", "--population", str(population), "--out", str(out), "--as-of", "2026-11-29", "--quiet")
    run = ScreeningRun.objects.get()
    assert run.status == RunStatus.COMPLETED
    version = StandardVersion.objects.get()
    table = screening.read_results(out).to_pylist()
    assert run.result_rows == len(table) > 0
    eligible = [r for r in table if r["status"] == "eligible" and r["item"] == "test-visit"]
    assert run.counts["test-visit"]["eligible"] == len(eligible) > 0
    assert eligible[0]["rule_version"] == f"test-home-visits@v1:{version.content_hash[:12]}"
    # The database keeps counts by township and item; every answer stays in the files.
    by_township = ScreeningCount.objects.filter(run=run, item="test-visit")
    assert sum(c.eligible for c in by_township) == len(eligible)
    assert {c.township for c in by_township if c.eligible} == {r["hukou_area"][:9] for r in eligible}
    # The mini standard marks no item worth a call: nobody is a candidate for the proactive list.
    assert not Candidate.objects.exists()
    assert run.stored_rows == ScreeningCount.objects.filter(run=run).count() < run.result_rows


@pytest.mark.django_db
def test_the_command_explains_bad_input(tmp_path: Path) -> None:
    population = write(random_population(10, seed=1, as_of=AS_OF), tmp_path / "p.parquet")
    with pytest.raises(CommandError, match=r"no standard is in force.*run `fuwu migrate` and `fuwu standards load"):
        call_command("screen", "--population", str(population), "--out", str(tmp_path / "o"))
    standards_load(parsed=parse_many([MINI]), actor=None)
    with pytest.raises(CommandError, match="population file not found"):
        call_command("screen", "--population", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "o"))


def test_a_real_kill_mid_run_then_resume(tmp_path: Path) -> None:
    """SIGKILL the command between partitions; the rerun completes with the same files."""
    population = write(random_population(20_000, seed=3, as_of=AS_OF), tmp_path / "pop.parquet")
    env = {**os.environ, "FUWU_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    def fuwu(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "fuwu", *args], cwd=REPO, env=env, capture_output=True, text=True, check=True
        )

    fuwu("migrate", "-v", "0")
    fuwu("standards", "load", str(MINI))
    args = ["screen", "--population", str(population), "--as-of", "2026-11-29", "--partitions", "40", "--quiet"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "fuwu", *args, "--out", str(tmp_path / "killed")], cwd=REPO, env=env
    )
    manifest = tmp_path / "killed" / screening.MANIFEST
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if manifest.exists() and '"done": [\n    0' in manifest.read_text(encoding="utf-8"):
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished_before = len(list((tmp_path / "killed").glob("part-*.parquet")))
    assert 0 < finished_before < 40, finished_before
    fuwu(*args, "--out", str(tmp_path / "killed"))
    fuwu(*args, "--out", str(tmp_path / "whole"))
    assert digest(tmp_path / "killed") == digest(tmp_path / "whole")
