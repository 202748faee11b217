from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fuwu.eligibility.receipts import receipts_import
from fuwu.eligibility.services import screening_runs_purge
from fuwu.eligibility.vocabulary import facts_markdown
from fuwu.standards.selectors import items_in_force


class Command(BaseCommand):
    help = "The facts vocabulary and other eligibility reference material."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        facts = sub.add_parser("facts", help="Print the facts vocabulary as Markdown.")
        facts.add_argument("--out", type=Path)
        receipts = sub.add_parser("receipts", help="Import who already receives an item (CSV or .xlsx).")
        receipts.add_argument("path", type=Path)
        purge = sub.add_parser(
            "purge-runs", help="Delete old screening runs' Parquet files and person rows (FUWU_SCREENING_RETENTION)."
        )
        purge.add_argument("--dry-run", action="store_true", help="Only list the runs that would be purged")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "receipts":
            self.import_receipts(options["path"])
            return
        if options["action"] == "purge-runs":
            ids = screening_runs_purge(dry_run=options["dry_run"])
            verb = "would purge" if options["dry_run"] else "purged"
            self.stdout.write(f"{verb} {len(ids)} run(s){': ' + ', '.join(map(str, ids)) if ids else ''}")
            return
        text = facts_markdown()
        if options.get("out"):
            options["out"].write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")

    def import_receipts(self, path: Path) -> None:
        if not path.is_file():
            raise CommandError(f"file not found: {path}")
        known = set(items_in_force().values_list("key", flat=True))
        result = receipts_import(path=path, known_items=known, actor=None)
        for error in result.errors:
            self.stderr.write(error)
        if result.errors:
            raise CommandError(f"{len(result.errors)} problem(s); nothing was imported")
        self.stdout.write(f"{result.created} receipts created, {result.updated} updated")
