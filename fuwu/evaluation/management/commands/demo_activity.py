"""``fuwu demo_activity [--months 12] [--seed 1]``: a year of demo activity, then the indicators computed."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from fuwu.common.readiness import NeedsStandards


class Command(NeedsStandards):
    help = (
        "Write (once per seed and length) months of demo home-care visits, applications and inspections in "
        "椒江区, then compute the indicators for those months."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--months", type=int, default=12, help="How many months, ending with this one (1-36).")
        parser.add_argument("--seed", type=int, default=1, help="The random seed: the same seed, the same activity.")

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("demo data is never created in production")
        from fuwu.evaluation.demo import demo_activity_ensure, months_back
        from fuwu.evaluation.engine import indicators_compute

        months, seed = options["months"], options["seed"]
        if not 1 <= months <= 36:
            raise CommandError("--months: give a number of months from 1 to 36")
        result = demo_activity_ensure(months=months, seed=seed)
        if result.created:
            counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
            self.stdout.write(f"Demo activity, {months} months (seed {seed}): {counts}")
        else:
            self.stdout.write(f"Demo activity for seed {seed} and {months} months is already there; nothing added")
        today = timezone.localdate()
        first = result.months[0] if result.months else months_back(today, months)[0]
        summary = indicators_compute(first=first, last=timezone.localdate()).as_dict()
        self.stdout.write(
            f"Indicators: {summary['periods_computed']} period(s) computed, {summary['periods_unchanged']} "
            f"unchanged, {summary['values_written']} value(s) written"
        )
