"""``fuwu worker``: run the background queue and, beside it, the scheduler and the watchdog."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from fuwu.jobs.worker import Worker


class Command(db_worker.Command):
    help = (
        "Run background jobs from the queue, queue scheduled work when it is due (FUWU_SCHEDULE), and retry "
        "or report jobs whose worker died. Run one or more beside the web server."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", reload=False)
        parser.add_argument(
            "--tick", type=float, default=10.0, help="Seconds between heartbeats, watchdog and scheduler rounds."
        )
        parser.add_argument(
            "--no-scheduler", action="store_false", dest="scheduler", help="Run jobs only; do not queue scheduled work."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        if options["tick"] < 0:
            raise CommandError("--tick must be zero or more")
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
            # In --batch mode the run ends when the queue is empty; the clock has nothing to add.
            tick=0 if options["batch"] else options["tick"],
            scheduler=options["scheduler"],
        )
        if options["reload"] and not options["batch"]:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
