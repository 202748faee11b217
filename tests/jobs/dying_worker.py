"""A real `fuwu worker` that SIGKILLs itself in the middle of storing a screening's rows (before they commit).

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

from fuwu.eligibility import store  # noqa: E402

KILL_IN = os.environ["KILL_IN_MODEL"]
real = store.bulk_insert


def bulk_insert(model: Any, columns: Any, batches: Any, **constants: Any) -> int:
    def dying() -> Any:
        for batch in batches:
            yield batch
            # The batch is written inside the run's transaction; the process dies before it commits.
            os.kill(os.getpid(), signal.SIGKILL)

    return real(model, columns, dying() if model.__name__ == KILL_IN else batches, **constants)


store.bulk_insert = bulk_insert
call_command("worker", "--batch", "--no-startup-delay", verbosity=0)
