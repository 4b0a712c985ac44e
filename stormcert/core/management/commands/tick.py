from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from stormcert.exams.services import close_overdue
from stormcert.renewals.services import send_renewal_reminders


class Command(BaseCommand):
    help = (
        "Periodic work, safe to run twice or late: grade exam attempts whose time ran out and "
        "send the renewal reminders that are due."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", type=int, default=0, help="Run every N seconds instead of once.")

    def handle(self, *args: Any, loop: int, **options: Any) -> None:
        while True:
            closed = close_overdue()
            reminded = send_renewal_reminders()
            if options["verbosity"]:
                self.stdout.write(f"graded {closed} overdue attempt(s)")
                self.stdout.write(f"sent {reminded} renewal reminder(s)")
            if not loop:
                return
            time.sleep(loop)
