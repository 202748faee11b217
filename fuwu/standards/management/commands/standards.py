"""``fuwu standards validate|load|schema``: the standards registry from the command line."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fuwu.standards.parsing import StandardFileError, parse_many
from fuwu.standards.schema import json_schema


class Command(BaseCommand):
    help = "Validate, load or describe standard files (YAML)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        validate = sub.add_parser("validate", help="Check files against the schema; change nothing.")
        validate.add_argument("paths", nargs="+", type=Path)
        load = sub.add_parser("load", help="Validate, then load all files in one transaction.")
        load.add_argument("paths", nargs="+", type=Path)
        schema = sub.add_parser("schema", help="Print the JSON Schema of the standard format.")
        schema.add_argument("--out", type=Path, help="Write to this file instead of standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "schema":
            text = json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
            if options["out"]:
                options["out"].write_text(text, encoding="utf-8")
            else:
                self.stdout.write(text, ending="")
            return
        try:
            parsed = parse_many(options["paths"])
        except StandardFileError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(exc.errors)} problem(s) found; nothing was loaded.") from exc
        if action == "validate":
            for p in parsed:
                self.stdout.write(f"ok  {p.path}  {p.document.meta.number}  ({len(p.document.items)} items)")
            self._validate_synonyms(options["paths"])
            return
        from fuwu.standards.services import standards_load

        results = standards_load(parsed=parsed, actor=None)
        for result in results:
            self.stdout.write(f"{result.outcome:<10} {result.key}  v{result.version_number}  {result.path}")

    def _validate_synonyms(self, paths: list[Path]) -> None:
        """The search synonym list kept beside the standards (``<dir>/search/synonyms.yaml``), if there is one."""
        from fuwu.standards.search import SynonymFileError, load_synonyms

        for directory in (p for p in paths if p.is_dir()):
            path = directory / "search" / "synonyms.yaml"
            if not path.exists():
                continue
            try:
                synonyms = load_synonyms(path)
            except SynonymFileError as exc:
                for error in exc.errors:
                    self.stderr.write(str(error))
                raise CommandError(f"{len(exc.errors)} problem(s) found in {path}.") from exc
            self.stdout.write(f"ok  {path}  ({len(synonyms.means)} everyday words)")
