"""``fuwu serve``: the web server and a background worker beside it, started and stopped together.

Production (``make serve``): gunicorn runs the WSGI app with ``2 × CPUs + 1`` worker processes (or
``--workers`` / ``FUWU_WEB_WORKERS``), static files come from WhiteNoise, and ``fuwu worker`` runs the
queue and the scheduler. ``--dev`` (``make demo``) runs Django's development server instead, which
reloads on code changes. Either way Ctrl-C or SIGTERM stops both; if one of them dies, the other is
stopped too and the command exits with an error, so a supervisor (systemd, a container runtime)
restarts the pair rather than leaving a site without its worker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# One line per request: who, when (with the offset), what, the answer, its size and how long it took (µs).
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(D)sus "%(a)s"'
STOP_GRACE_SECONDS = 30


def web_workers() -> int:
    """gunicorn's rule of thumb: two per core, plus one."""
    configured = os.environ.get("FUWU_WEB_WORKERS", "")
    if configured:
        return max(1, int(configured))
    return 2 * (os.cpu_count() or 1) + 1


class Command(BaseCommand):
    help = "Run the web server (gunicorn; --dev: Django's development server) and a background worker beside it."
    requires_system_checks = []  # the children check; this process only supervises them

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="Address and port (default 127.0.0.1:8000).")
        parser.add_argument("--workers", type=int, default=None, help="Web worker processes (default 2 × CPUs + 1).")
        parser.add_argument("--dev", action="store_true", help="Django's development server, reloading on changes.")
        parser.add_argument("--no-worker", action="store_false", dest="worker", help="Web server only.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["dev"] and not settings.DEBUG:
            manifest = Path(str(settings.STATIC_ROOT or "")) / "staticfiles.json"
            if not manifest.is_file():
                raise CommandError(
                    f"no collected static files at {manifest.parent}: run `fuwu collectstatic --noinput` first"
                )
        python = sys.executable
        if options["dev"]:
            web = [python, "-m", "fuwu", "runserver", options["bind"]]
        else:
            workers = options["workers"] or web_workers()
            web = [
                python,
                "-m",
                "gunicorn",
                "fuwu.wsgi:application",
                f"--bind={options['bind']}",
                f"--workers={workers}",
                "--access-logfile=-",
                f"--access-logformat={ACCESS_LOG_FORMAT}",
                "--timeout=120",
                f"--graceful-timeout={STOP_GRACE_SECONDS}",
            ]
        # Each child in its own process group: a Ctrl-C reaches this process only, which passes on one
        # SIGTERM (the worker then finishes its job before it stops); a second Ctrl-C passes on another,
        # which stops the job too (the watchdog queues it again).
        children = {"web": subprocess.Popen(web, process_group=0)}  # noqa: S603 - our own interpreter and modules
        if options["worker"]:
            children["worker"] = subprocess.Popen([python, "-m", "fuwu", "worker"], process_group=0)  # noqa: S603
        self.stdout.write(
            f"fuwu: {'development server' if options['dev'] else 'gunicorn'} on http://{options['bind']}/"
            + (" with a background worker" if options["worker"] else "")
            + " (Ctrl-C stops everything)"
        )
        self._supervise(children)

    def _supervise(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            if stopping:  # asked again: pass it on, so a worker stops even in the middle of a job
                for child in children.values():
                    _terminate(child)
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        died = ""
        while not stopping and not died:
            for name, child in children.items():
                if child.poll() is not None:
                    died = name
            time.sleep(0.5)
        for child in children.values():
            _terminate(child)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _terminate(child, signal.SIGKILL)
                child.wait()
        if died:
            raise CommandError(f"the {died} process stopped (exit {children[died].returncode}); stopped the rest too")


def _terminate(child: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the child's whole process group (the development server's reloader runs the server in a child)."""
    if child.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, sig)
