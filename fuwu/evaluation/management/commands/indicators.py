"""``fuwu indicators compute [--from YYYY-MM] [--to YYYY-MM] [--standard KEY] [--path sql|python]`` and
``fuwu indicators list``."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


def _month(text: str, *, option: str) -> dt.date:
    from fuwu.common.params import ParamError, parse_month

    try:
        return parse_month(text, field=option)
    except ParamError as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = "Materialise the standards' indicators per area and period (docs/evaluation.md), or list them."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("compute", help="Compute every indicator with a computation; unchanged periods skip.")
        run.add_argument("--from", dest="first", help="First month, YYYY-MM (default: 23 months before --to).")
        run.add_argument("--to", dest="last", help="Last month, YYYY-MM (default: this month).")
        run.add_argument("--standard", action="append", help="Only this standard's key (may repeat).")
        run.add_argument(
            "--path",
            choices=("sql", "python"),
            default="sql",
            help="sql: count in the database (the default, the scheduled job's); python: row by row, the reference.",
        )
        sub.add_parser("list", help="Every indicator in force: computed from which view, or why not.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self._list()
            return
        from fuwu.evaluation.engine import indicators_compute
        from fuwu.evaluation.tasks import months_back

        today = timezone.localdate()
        last_month = _month(options["last"], option="--to") if options["last"] else today.replace(day=1)
        first = _month(options["first"], option="--from") if options["first"] else months_back(last_month, 24)
        if first > last_month:
            raise CommandError(f"--from {first:%Y-%m} is after --to {last_month:%Y-%m}")
        index = last_month.year * 12 + last_month.month  # the last day of the last month
        last = dt.date(index // 12, index % 12 + 1, 1) - dt.timedelta(days=1)
        summary = indicators_compute(first=first, last=last, standards=options["standard"], path=options["path"])
        s = summary.as_dict()
        self.stdout.write(
            f"{s['indicators']} indicator(s), {first:%Y-%m} to {last:%Y-%m}: {s['periods_computed']} period(s) "
            f"computed, {s['periods_unchanged']} unchanged; {s['values_written']} value(s) written, "
            f"{s['values_deleted']} deleted"
        )
        for name in s["skipped"]:
            self.stderr.write(f"{name}: its computation cannot be read by this version of fuwu; not computed")
        if s["rows_without_area"]:
            self.stderr.write(f"{s['rows_without_area']} row(s) name an area code not in the area list; not counted")

    def _list(self) -> None:
        from fuwu.standards.models import IN_FORCE, StandardVersion

        for version in StandardVersion.objects.filter(status__in=IN_FORCE).select_related("standard"):
            for indicator in version.document.get("indicators", []):
                if indicator.get("computation"):
                    how = f"computed from {indicator['computation']['view']}"
                elif indicator.get("not_computable_reason"):
                    how = f"entered by hand: {indicator['not_computable_reason'].get('en') or ''}".rstrip()
                else:
                    how = "no computation or reason yet"
                self.stdout.write(f"{version.standard.key}  {indicator['id']}  {how}")
