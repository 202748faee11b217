from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fuwu.accounts.services import demo_accounts_ensure


class Command(BaseCommand):
    help = "Create (or reset) one demo account per role and print the logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("demo accounts are never created in production")
        self.stdout.write("Demo logins (username / password / role):")
        for a in demo_accounts_ensure():
            self.stdout.write(f"  {a.username:<10} {a.password:<22} {a.role.label}")
