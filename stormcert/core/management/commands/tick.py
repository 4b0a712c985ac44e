from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from stormcert.core.health import TICK, beat
from stormcert.courses.services import process_waitlists, send_reminders
from stormcert.emails.services import retry_failed as retry_failed_emails
from stormcert.exams.services import close_overdue, prepare_papers
from stormcert.renewals.services import send_renewal_reminders
from stormcert.trainers.applications import send_notices
from stormcert.trainers.reminders import send_term_reminders

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Periodic work, safe to run twice or late: grade exam attempts whose time ran out, draw "
        "exam papers ahead for candidates whose exam is open, pass "
        "unclaimed waitlist offers on, remind registrants of their course session, send ToR "
        "selection notices on the notice date, the renewal reminders that are due and the ToR yearly fee and agreement reminders. A job that "
        "fails is logged and reported and the others still run; the exit status is 1 if any failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", type=int, default=0, help="Run every N seconds instead of once.")

    def handle(self, *args: Any, loop: int, **options: Any) -> None:
        while True:
            failed = self.run_once(verbose=bool(options["verbosity"]))
            if not loop:
                if failed:
                    raise CommandError(f"{len(failed)} job(s) failed: {', '.join(failed)}")
                return
            # In --loop the next round retries; the failures are already logged above.
            time.sleep(loop)

    def run_once(self, *, verbose: bool) -> list[str]:
        # Looked up at run time (not bound at import) so each job is the module's current one.
        jobs: list[tuple[str, str, Callable[[], int]]] = [
            ("close_overdue", "graded {} overdue attempt(s)", close_overdue),
            # After close_overdue: a retake's paper is drawn once the last attempt is graded.
            ("prepare_papers", "prepared {} exam paper(s)", prepare_papers),
            ("process_waitlists", "offered {} seat(s)", process_waitlists),
            ("send_reminders", "sent {} course reminder(s)", send_reminders),
            ("send_notices", "sent {} ToR selection notice(s)", send_notices),
            ("send_renewal_reminders", "sent {} renewal reminder(s)", send_renewal_reminders),
            ("send_term_reminders", "sent {} ToR fee or agreement reminder(s)", send_term_reminders),
            ("retry_failed_emails", "queued {} failed email(s) again", retry_failed_emails),
        ]
        done: list[str] = []
        failed: list[str] = []
        for name, summary, job in jobs:
            # Each job in its own try: one job's bug (or a bad row it trips on) must not stop
            # the attempts from being graded or the reminders from going out.
            try:
                done.append(summary.format(job()))
            except Exception as exc:
                logger.exception("tick: %s failed", name)
                self.stderr.write(f"{name} failed: {type(exc).__name__}: {exc}")
                failed.append(name)
        # The health check (/health/) reports how long ago this was, on every node.
        try:
            beat(TICK, ok=not failed, detail="failed: " + ", ".join(failed) if failed else "; ".join(done))
        except DatabaseError:
            logger.exception("tick: could not record the heartbeat")
            failed.append("heartbeat")
        if verbose and done:
            self.stdout.write("; ".join(done))
        return failed
