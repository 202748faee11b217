"""``fuwu whatif``: cost a draft revision of a standard before it is published."""

from __future__ import annotations

import datetime as dt
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from fuwu.areas.models import Area
from fuwu.common.readiness import NeedsStandards
from fuwu.eligibility.reports import whatif_workbook
from fuwu.eligibility.ruleset import rules_from_document
from fuwu.eligibility.selectors import rules_in_force
from fuwu.eligibility.services import served_table
from fuwu.eligibility.whatif import what_if
from fuwu.standards.parsing import StandardFileError, parse_standard_file


class Command(NeedsStandards):
    help = "Screen a draft standard file against a population; report coverage and yearly cost change by county."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--draft", type=Path, required=True, help="The draft standard file (YAML)")
        parser.add_argument("--population", type=Path, required=True)
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
        parser.add_argument("--xlsx", type=Path, help="Also write the report as an Excel workbook")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            parsed = parse_standard_file(options["draft"])
        except StandardFileError as exc:
            raise CommandError(str(exc)) from exc
        draft = rules_from_document(parsed.document, content_hash=parsed.content_hash)
        if not draft:
            raise CommandError(f"{options['draft']} has no rules to screen")
        if not options["population"].is_file():
            raise CommandError(f"population file not found: {options['population']}")
        as_of = options["as_of"] or timezone.localdate()
        with tempfile.TemporaryDirectory(prefix="fuwu-whatif-") as work:
            report = what_if(
                in_force=rules_in_force(),
                draft=draft,
                population=options["population"],
                as_of=as_of,
                work=Path(work),
                served=served_table(),  # grants, else receipts: who already receives
            )
        names = dict(Area.objects.filter(code__in={r.county for r in report.rows}).values_list("code", "name_zh"))
        self.stdout.write(f"What-if for {report.standard} on {as_of}: people eligible and yearly cost (yuan)")
        self.stdout.write(
            f"{'county':<10} {'item':<28} {'before':>9} {'after':>9} {'change':>8} {'cost change':>16} {'receiving':>9}"
        )
        for r in [*report.rows, report.totals()]:
            county = names.get(r.county, r.county)
            item = r.label or r.item
            self.stdout.write(
                f"{county:<10} {item:<28} {r.before_people:>9} {r.after_people:>9} {r.people_change:>+8} "
                f"{r.cost_change:>+16,.2f} {r.after_receiving:>9}"
            )
        if options["xlsx"]:
            whatif_workbook(report, names).save(options["xlsx"])
            self.stdout.write(f"written {options['xlsx']}")
