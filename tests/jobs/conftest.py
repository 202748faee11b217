"""A registry big enough for a screening to take a few seconds, and real worker processes to run it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import REPO

AS_OF = "2026-11-29"


def populate(tmp_path: Path, size: int) -> None:
    """Areas, the standards and a generated registry of ``size`` residents, committed."""
    quiet = io.StringIO()
    call_command("areas", "load", stdout=quiet)
    call_command("standards", "load", str(REPO / "standards"), stdout=quiet)
    population = tmp_path / "population.parquet"
    call_command(
        "population", "generate", "--size", str(size), "--seed", "3", "--out", str(population), "--quiet", stdout=quiet
    )
    call_command("residents", "load-parquet", str(population), stdout=quiet)


def worker_process(
    database_url: str, tmp_path: Path, *, script: str | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """``fuwu worker --batch`` (or a test script) in its own process, on the test's database."""
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    command = (
        [sys.executable, script]
        if script
        else [sys.executable, "-m", "fuwu", "worker", "--batch", "--no-startup-delay"]
    )
    return subprocess.Popen(  # noqa: S603 - our own interpreter and our own scripts
        command,
        cwd=REPO,
        env={
            **base,
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(REPO),
            "FUWU_VAR_DIR": str(tmp_path / "worker-var"),
            **(env or {}),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def worker_var(tmp_path: Path) -> Path:
    return tmp_path / "worker-var"
