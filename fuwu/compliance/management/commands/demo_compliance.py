from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fuwu.compliance.demo import DemoNotReady, demo_compliance_ensure


class Command(BaseCommand):
    help = (
        "Create (once) the compliance demo: institutions in every county, published random draws, inspections in "
        "every state, rectification, pilots. Run after `areas load`, `standards load`, `demo_accounts` and "
        "`demo_homecare`."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("demo data is never created in production")
        try:
            demo = demo_compliance_ensure()
        except DemoNotReady as exc:
            raise CommandError(str(exc)) from exc
        done = "created" if demo.created else "already there, unchanged"
        self.stdout.write(
            f"Compliance demo ({done}): {demo.institutions} institutions, {demo.draws} draws, {demo.pilots} pilots; "
            f"inspections {', '.join(f'{k} {v}' for k, v in demo.inspections.items() if v)}; "
            f"orders {', '.join(f'{k} {v}' for k, v in demo.orders.items() if v)}"
        )
