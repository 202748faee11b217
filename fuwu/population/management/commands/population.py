"""``fuwu population generate``: the synthetic population from the command line.

One command with subcommands, so later tools on the population file (load, describe…) sit beside
``generate`` as further subparsers.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from fuwu.population.generate import PopulationError, generate
from fuwu.population.parameters import DEFAULT_AS_OF


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ArgumentTypeError(f"{value!r} is not a date like 2025-01-01") from exc


class Command(BaseCommand):
    help = "Work with the synthetic resident population of Taizhou."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        gen = sub.add_parser(
            "generate",
            help="Write a synthetic population as Parquet (reproducible from --size and --seed).",
        )
        gen.add_argument("--size", type=int, required=True, help="Number of persons (the census is 6622888).")
        gen.add_argument("--seed", type=int, default=1, help="Random seed; the same seed gives the same file.")
        gen.add_argument("--out", type=Path, required=True, help="Parquet file to write (replaced when complete).")
        gen.add_argument(
            "--as-of",
            type=_date,
            default=DEFAULT_AS_OF,
            help=f"Date on which the census age structure holds (default {DEFAULT_AS_OF}).",
        )
        gen.add_argument(
            "--areas",
            type=Path,
            default=None,
            help="Areas file with the counties and townships (default: taizhou.yaml in FUWU_AREAS_DIR).",
        )
        gen.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "generate":
            self._generate(options)

    def _generate(self, options: dict[str, Any]) -> None:
        areas = options["areas"] or Path(settings.AREAS_DIR) / "taizhou.yaml"
        size = options["size"]
        # A terminal gets a progress bar; logs and pipes do not fill up with carriage returns.
        bar = tqdm(
            total=max(size, 0),
            unit=" persons",
            unit_scale=True,
            file=sys.stderr,
            disable=options["quiet"] or not sys.stderr.isatty(),
        )
        started = time.monotonic()
        try:
            with bar:
                row_groups = generate(
                    size=size,
                    seed=options["seed"],
                    out=options["out"],
                    areas_path=areas,
                    as_of=options["as_of"],
                    progress=bar.update,
                )
        except PopulationError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        if not options["quiet"]:
            self.stdout.write(
                f"{options['out']}: {size:,} persons in {row_groups} row groups, seed {options['seed']}, "
                f"ages as of {options['as_of']} ({elapsed:.1f} s)"
            )
