"""``fuwu population generate`` from the command line: arguments, errors, no partial files, memory."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from fuwu.population import generate as generate_module
from tests.conftest import REPO


def run(*args: str) -> str:
    out = StringIO()
    call_command("population", "generate", *args, stdout=out)
    return out.getvalue()


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_generate_writes_the_file_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "pop.parquet"
    said = run("--size", "1000", "--seed", "5", "--out", str(out))
    assert pq.read_metadata(out).num_rows == 1000
    assert "1,000 persons" in said
    assert "seed 5" in said
    assert leftovers(tmp_path) == ["pop.parquet"]


def test_quiet_says_nothing(tmp_path: Path) -> None:
    assert run("--size", "10", "--out", str(tmp_path / "p.parquet"), "--quiet") == ""


@pytest.mark.parametrize("size", ["0", "-5"])
def test_size_must_be_positive(tmp_path: Path, size: str) -> None:
    with pytest.raises(CommandError, match="--size must be a positive number of persons"):
        run("--size", size, "--out", str(tmp_path / "p.parquet"))
    assert leftovers(tmp_path) == []


def test_size_has_a_ceiling(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--size may be at most"):
        run("--size", str(generate_module.MAX_SIZE + 1), "--out", str(tmp_path / "p.parquet"))


def test_unwritable_path_is_refused_before_any_work(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    with pytest.raises(CommandError, match=r"cannot write .*file/p\.parquet"):
        run("--size", "10", "--out", str(not_a_directory / "p.parquet"))
    with pytest.raises(CommandError, match="cannot write"):
        run("--size", "10", "--out", str(tmp_path / "missing" / "p.parquet"))
    with pytest.raises(CommandError, match="it is a directory"):
        run("--size", "10", "--out", str(tmp_path))
    assert leftovers(tmp_path) == ["file"]


def test_as_of_in_the_future_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="is in the future"):
        run("--size", "10", "--out", str(tmp_path / "p.parquet"), "--as-of", "2999-01-01")


def test_a_failure_midway_leaves_no_partial_file_and_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "pop.parquet"
    out.write_bytes(b"the previous population")
    real = generate_module._batch_table
    calls = 0

    def fail_on_the_third(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(generate_module, "_batch_table", fail_on_the_third)
    with pytest.raises(RuntimeError, match="disk full"):
        run("--size", "5000", "--out", str(out))
    assert out.read_bytes() == b"the previous population"
    assert leftovers(tmp_path) == ["pop.parquet"]


def test_a_subcommand_is_required() -> None:
    with pytest.raises(CommandError):
        call_command("population")


MEASURE = """
import sys
import django
django.setup()
from pathlib import Path
from django.conf import settings
from fuwu.population.generate import generate
generate(size=int(sys.argv[1]), seed=1, out=Path(sys.argv[2]), areas_path=Path(settings.AREAS_DIR) / "taizhou.yaml")
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child of a large
# test process would report the parent's peak.
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))  # kB
"""


def test_memory_stays_bounded_at_a_million(tmp_path: Path) -> None:
    # A million persons is five full batches in the largest county. Holding them all at once would
    # take well over a gigabyte; streaming keeps the peak at a few batches (about 300 MB measured).
    out = tmp_path / "million.parquet"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fuwu.settings"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", MEASURE, "1000000", str(out)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    peak_mb = int(done.stdout.split()[-1]) / 1024
    assert peak_mb < 700, f"peak RSS {peak_mb:.0f} MB"
    assert pq.read_metadata(out).num_rows == 1_000_000
