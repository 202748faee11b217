"""``fuwu compliance flag-overdue | import FILE | link-homecare``: the compliance jobs from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compliance jobs: flag overdue rectification (run daily from cron), import institutions, link providers."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("flag-overdue", help="Flag orders past their deadline; escalate those long past it.")
        load = sub.add_parser("import", help="Import institutions (.xlsx or CSV UTF-8); any problem writes nothing.")
        load.add_argument("path", type=Path)
        load.add_argument("--valid-only", action="store_true", help="Import the rows without problems.")
        sub.add_parser("link-homecare", help="Make an institution of each home-care provider not yet linked.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "flag-overdue":
            from fuwu.compliance.services.rectification import orders_flag_overdue

            flagged, escalated = orders_flag_overdue()
            self.stdout.write(f"{flagged} order(s) newly overdue, {escalated} escalated to the city")
        elif action == "import":
            from fuwu.compliance.services.institutions import institutions_import

            path: Path = options["path"]
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            report = institutions_import(
                actor=None, data=path.read_bytes(), filename=path.name, valid_only=options["valid_only"]
            )
            for p in report.problems:
                where = "file" if p.row == 0 else f"row {p.row}"
                self.stderr.write(f"{path}: {where}, {p.column}: {p.problem}; {p.fix}")
            r = report.record
            self.stdout.write(f"{path}: {r.rows} rows: {r.created} created, {r.updated} updated, {r.rejected} rejected")
            if report.problems:
                raise CommandError(f"{len(report.problems)} problem(s)")
        else:
            from fuwu.compliance.services.institutions import institutions_link_homecare_providers

            for link in institutions_link_homecare_providers():
                state = f"institution {link.institution.pk}" if link.institution else f"not linked: {link.problem}"
                self.stdout.write(f"{link.provider.name}: {state}")
