"""A real `fuwu worker` that holds a registry screening just before storing its results until the test says go.

Run by tests/jobs/test_worker_process.py as a subprocess, so that people's sessions overlap the screening
however loaded the machine is: the worker screens, writes ``$GATE_DIR/reached`` and waits (outside any
transaction, holding no lock) until ``$GATE_DIR/open`` exists; then it stores the results as it always does,
while the sessions go on, and writes how long that took to ``$GATE_DIR/stored``. The production code is not
changed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fuwu.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from fuwu.eligibility import services  # noqa: E402

GATE = Path(os.environ["GATE_DIR"])
# Never hang a test run: a test that never opens the gate fails the job, and the test sees the error.
PATIENCE = float(os.environ.get("GATE_PATIENCE", "600"))
real = services.screening_run_complete


def held(**kwargs: Any) -> Any:
    (GATE / "reached").touch()
    deadline = time.monotonic() + PATIENCE
    while not (GATE / "open").exists():
        if time.monotonic() > deadline:
            sys.stderr.write("gated_worker: the gate was never opened\n")
            os._exit(3)
        time.sleep(0.05)
    started = time.monotonic()
    try:
        return real(**kwargs)
    finally:
        # How long the results took to store (one transaction): the test names it when someone waited too long.
        (GATE / "stored").write_text(f"{time.monotonic() - started:.2f}")


services.screening_run_complete = held
call_command("worker", "--batch", "--no-startup-delay", verbosity=0)
