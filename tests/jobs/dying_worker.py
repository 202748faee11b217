"""A real `fuwu worker` that SIGKILLs itself after committing N batches of screening results.

What a power cut, the OOM killer or `kill -9` does to a worker in the middle of a job: no Python code runs
after it (no except, no finally), so whatever the database holds at that moment is what the next worker
finds. Run by tests/jobs/test_worker_process.py as a subprocess; the production code is not changed.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fuwu.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from fuwu.eligibility import services  # noqa: E402

services.LOAD_BATCH = int(os.environ["LOAD_BATCH"])
KILL_AFTER = int(os.environ["KILL_AFTER_BATCHES"])
real = services.insert_rows
committed = 0


def insert_rows(model: Any, rows: Any) -> int:
    global committed
    if committed == KILL_AFTER:
        os.kill(os.getpid(), signal.SIGKILL)
    committed += 1
    return real(model, rows)


services.insert_rows = insert_rows
call_command("worker", "--batch", "--no-startup-delay", verbosity=0)
