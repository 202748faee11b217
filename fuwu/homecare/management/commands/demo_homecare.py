from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from fuwu.common.readiness import NeedsStandards
from fuwu.homecare.demo import demo_homecare_ensure


class Command(NeedsStandards):
    help = "Create (once) the home-care demo: a provider, two caregivers, and an elder of 82 linked to 'family'."

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("demo data is never created in production")
        demo = demo_homecare_ensure()
        self.stdout.write(
            f"Home care demo: {demo.provider.name}, {len(demo.caregivers)} caregivers, "
            f"elder person #{demo.elder.pk} (born {demo.elder.birth_date}) linked to 'family'"
        )
