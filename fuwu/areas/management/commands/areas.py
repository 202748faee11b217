from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fuwu.areas.services import AreaFileError, areas_load


class Command(BaseCommand):
    help = "Load administrative areas (and generated demo villages) from YAML."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load")
        load.add_argument("paths", nargs="*", type=Path)
        load.add_argument("--villages-per-township", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        paths = options["paths"] or sorted(Path(settings.AREAS_DIR).glob("*.yaml"))
        for path in paths:
            try:
                result = areas_load(path=path, villages_per_township=options["villages_per_township"])
            except AreaFileError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"{path}: {result.created} created, {result.updated} updated, {result.generated} villages generated"
            )
