from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from fuwu.applications.demo import demo_applications_ensure
from fuwu.common.readiness import NeedsStandards


class Command(NeedsStandards):
    help = "Create (once) demo applications for the home-care demo's elder, in several states."

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("demo data is never created in production")
        made = demo_applications_ensure()
        states = ", ".join(f"{a.item_key}: {a.status}" for a in made) or "none (run demo_homecare first)"
        self.stdout.write(f"Applications demo: {states}")
