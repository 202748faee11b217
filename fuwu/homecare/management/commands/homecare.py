"""``fuwu homecare flag-overdue|plan|open-accounts``: the home-care jobs a scheduler (or an officer) runs."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError
from django.utils import timezone

from fuwu.common.readiness import NeedsStandards


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not an ISO date-time such as 2026-11-23T18:00+08:00") from None
    # A bare wall-clock time is read in Asia/Shanghai, like every other time the app shows.
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a date such as 2026-11-23") from None


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0
    if not seconds > 0:
        raise ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return seconds


class Command(NeedsStandards):
    help = "Home-care jobs: flag overdue orders, plan a provider's day, open accounts from a screening run."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        overdue = sub.add_parser(
            "flag-overdue",
            help="Mark orders past the response time or past their window so the lists show them (run every hour).",
        )
        overdue.add_argument("--now", type=_moment, help="Check as of this moment (ISO; default: now).")
        plan = sub.add_parser("plan", help="Plan (or re-plan) one provider's visits on one day.")
        plan.add_argument("--provider", type=int, required=True, help="The provider's id.")
        plan.add_argument("--day", type=_day, required=True, help="YYYY-MM-DD, today or later.")
        plan.add_argument("--time-limit", type=_seconds, default=5.0, help="Seconds the solver may search (default 5).")
        accounts = sub.add_parser(
            "open-accounts", help="Open or update the accounts of the elders a registry screening found entitled."
        )
        accounts.add_argument("--run", type=int, required=True, help="The screening run's id.")
        accounts.add_argument(
            "--officer", required=True, help="Username of the department officer who opens them (their area)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from fuwu.homecare.services import HomeCareError
        from fuwu.homecare.standard import StandardNotLoaded

        try:
            if options["action"] == "flag-overdue":
                self._flag_overdue(options["now"])
            elif options["action"] == "plan":
                self._plan(options["provider"], options["day"], options["time_limit"])
            else:
                self._open_accounts(options["run"], options["officer"])
        except HomeCareError as exc:
            raise CommandError(str(exc)) from exc
        except StandardNotLoaded as exc:
            raise CommandError(f"{exc} (load it with: fuwu standards load)") from exc

    def _flag_overdue(self, now: dt.datetime | None) -> None:
        from fuwu.homecare.services import orders_flag_overdue

        flagged = orders_flag_overdue(now=now)
        self.stdout.write(f"{flagged} order(s) newly flagged overdue")

    def _plan(self, provider_id: int, day: dt.date, time_limit: float) -> None:
        from fuwu.homecare.models import Provider
        from fuwu.homecare.planning import dispatch_day

        provider = Provider.objects.filter(pk=provider_id).first()
        if provider is None:
            known = ", ".join(f"{p.pk} {p.name}" for p in Provider.objects.filter(active=True)[:20]) or "none"
            raise CommandError(f"--provider {provider_id}: no such provider; active providers: {known}")
        run = dispatch_day(actor=None, provider=provider, day=day, time_limit_s=time_limit)
        self.stdout.write(
            f"{provider.name} {day}: {run.assigned} of {run.visits} visit(s) assigned "
            f"({run.solver}, {run.travel_minutes} min travel), {len(run.unassigned)} unassigned"
        )
        for left in run.unassigned:
            self.stdout.write(f"  order {left['order']} unassigned: {left['reason']}")
        for out in run.excluded_caregivers:
            self.stdout.write(f"  caregiver {out['caregiver']} not planned: {out['reason']}")

    def _open_accounts(self, run_id: int, username: str) -> None:
        from fuwu.accounts.models import User
        from fuwu.eligibility.models import ScreeningRun
        from fuwu.homecare.accounts import accounts_open_from_run

        run = ScreeningRun.objects.filter(pk=run_id).first()
        if run is None:
            raise CommandError(
                f"--run {run_id}: no such screening run; screen the registry first with: fuwu screen --registry"
            )
        officer = User.objects.filter(username=username).first()
        if officer is None:
            raise CommandError(f"--officer {username!r}: no such user; give the username of a department officer")
        try:
            report = accounts_open_from_run(actor=officer, run=run)
        except PermissionDenied as exc:
            raise CommandError(
                f"--officer {username!r} may not open accounts: only an active department officer with an area "
                "may; give such an officer's username"
            ) from exc
        self.stdout.write(
            f"run {run.pk}: {report.opened} opened, {report.updated} updated, {report.unchanged} unchanged, "
            f"{sum(report.skipped.values())} skipped"
        )
        for reason, count in sorted(report.skipped.items()):
            self.stdout.write(f"  skipped {count}: {reason}")
