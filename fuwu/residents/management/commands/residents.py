"""``fuwu residents import|load-parquet``: the resident registry from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fuwu.residents.sources import documented_headers


class Command(BaseCommand):
    help = "Import a resident list (.xlsx or .csv) or load a synthetic population (Parquet)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "import",
            help="Import a resident list. Without --valid-only, any problem means nothing is imported.",
            description=f"Columns (English or Chinese headers): {documented_headers()}",
        )
        load.add_argument("path", type=Path)
        load.add_argument(
            "--valid-only", action="store_true", help="Import the rows without problems; report the rest."
        )
        parquet = sub.add_parser("load-parquet", help="Bulk-load a synthetic population in one transaction.")
        parquet.add_argument("path", type=Path)
        parquet.add_argument("--limit", type=int, help="Load only the first N persons.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if options["action"] == "import":
            self._import(path, valid_only=options["valid_only"])
        else:
            self._load(path, limit=options["limit"])

    def _import(self, path: Path, *, valid_only: bool) -> None:
        from fuwu.residents.services import persons_import

        report = persons_import(path=path, actor=None, valid_only=valid_only)
        for error in report.errors:
            self.stderr.write(str(error))
        self.stdout.write(f"{path}: {report.summary()}")
        if report.errors:
            # Non-zero whenever a row was not imported, so scripts notice even a partial import.
            raise CommandError(
                f"{len(report.errors)} problem(s) in {report.record.rejected or 'the file as a whole'} row(s)"
            )

    def _load(self, path: Path, *, limit: int | None) -> None:
        from fuwu.residents.services import LoadError, persons_load_parquet

        try:
            report = persons_load_parquet(path=path, actor=None, limit=limit)
        except LoadError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{exc.total} problem(s); nothing was loaded") from exc
        r = report.record
        self.stdout.write(
            f"{path}: {r.rows} persons: {r.created} created, {r.updated} updated, {r.unchanged} unchanged"
        )
        if report.ignored_columns:
            self.stdout.write(f"ignored columns not in the contract: {', '.join(report.ignored_columns)}")
