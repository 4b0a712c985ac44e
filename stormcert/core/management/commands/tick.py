from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from stormcert.courses.services import process_waitlists, send_reminders
from stormcert.exams.services import close_overdue
from stormcert.renewals.services import send_renewal_reminders
from stormcert.trainers.applications import send_notices


class Command(BaseCommand):
    help = (
        "Periodic work, safe to run twice or late: grade exam attempts whose time ran out, pass "
        "unclaimed waitlist offers on, remind registrants of their course session, send ToR "
        "selection notices on the notice date and the renewal reminders that are due."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", type=int, default=0, help="Run every N seconds instead of once.")

    def handle(self, *args: Any, loop: int, **options: Any) -> None:
        while True:
            closed = close_overdue()
            offered = process_waitlists()
            reminded = send_reminders()
            notices = send_notices()
            renewals = send_renewal_reminders()
            if options["verbosity"]:
                self.stdout.write(
                    f"graded {closed} overdue attempt(s); offered {offered} seat(s); "
                    f"sent {reminded} course reminder(s), {notices} ToR selection notice(s), "
                    f"{renewals} renewal reminder(s)"
                )
            if not loop:
                return
            time.sleep(loop)
