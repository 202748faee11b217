"""The pages benchmark reads a server's CPU time from /proc (no timing asserted here)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks.pages import server_cpu_seconds


def test_cpu_seconds_count_a_process_and_its_children() -> None:
    busy = [sys.executable, "-c", "sum(range(50_000_000)); input()"]  # works, then waits
    child = subprocess.Popen(busy, stdin=subprocess.PIPE)  # noqa: S603 - our own interpreter
    try:
        deadline = time.monotonic() + 60
        while server_cpu_seconds(child.pid) < 0.2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server_cpu_seconds(child.pid) >= 0.2
        # Ours includes the child's (the benchmark sums gunicorn's master and its workers).
        assert server_cpu_seconds(os.getpid()) >= server_cpu_seconds(child.pid)
    finally:
        child.kill()
        child.wait()
