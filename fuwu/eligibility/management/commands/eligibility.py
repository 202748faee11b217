from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from fuwu.eligibility.vocabulary import facts_markdown


class Command(BaseCommand):
    help = "The facts vocabulary and other eligibility reference material."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        facts = sub.add_parser("facts", help="Print the facts vocabulary as Markdown.")
        facts.add_argument("--out", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        text = facts_markdown()
        if options.get("out"):
            options["out"].write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
