"""Load the people and data of an exam-day run, with signed-in sessions, for the benchmarks.

- candidates ready for the final (`bench-NNNNN`), the heart of the run;
- course registrants (`bench-reg-NNNNN`) past the midterm, and course sessions with few seats, so
  seats run out and the waitlist is used;
- payers (`bench-pay-NNNNN`) at the registration-fee step, who pay with the test-mode provider;
- floor clients (`bench-floor-N`), who only call the trivial signed-in view `/ping/`;
- certificate holders for the public directory and verification (bench/directory.py's loader),
  and a sample of their numbers (plus unknown ones) for the visitors.

Users, sessions and step records are bulk-inserted; sessions are created directly (as a login
would) so the run measures exam-day traffic, not password hashing. Writes bench/.run/sessions.json
(the candidates, as before) and bench/.run/pools.json (everything else). Run with the same
DATABASE_URL as the server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# BENCH_APP_DIR: the checkout of the app to prepare for (bench/protocol.py --app-dir), which may be
# an older commit without these scripts; the run's files stay under this checkout's bench/.run.
APP = Path(os.environ.get("BENCH_APP_DIR") or ROOT)
sys.path[:0] = [str(APP), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stormcert.settings")

import django

django.setup()

from allauth.account.models import EmailAddress
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import Profile, User
from stormcert.certificates.models import Certificate
from stormcert.courses.models import CourseSession, Seat
from stormcert.enrollments.journey import window_end_for
from stormcert.enrollments.models import Enrollment, StepRecord
from stormcert.exams.models import Attempt
from stormcert.payments.models import Order
from stormcert.programs.models import Program
from stormcert.programs.rules import version_in_force

CSRF = "benchcsrftoken0123456789abcdefgh"  # a 32-character secret, sent as cookie and header
BENCH_SESSION_TITLE = "QISP one-day course (bench)"


def _people(prefix: str, count: int, steps_done: list[str], registered: bool) -> list[dict[str, str]]:
    """`count` people named `prefix-NNNNN` with an enrollment whose `steps_done` are recorded,
    starting afresh each run (no attempts, seats, orders or certificates of an earlier run)."""
    program = Program.objects.get(code="QISP")
    version = version_in_force(program, timezone.localdate())
    now = timezone.now()
    emails = [f"{prefix}-{n:05d}@example.com" for n in range(count)]
    have = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    new = [
        User(email=e, first_name="Bench", last_name=e.split("@")[0], password="!")  # noqa: S106 - unusable
        for e in emails
        if e not in have
    ]
    User.objects.bulk_create(new, batch_size=2000)
    users = list(User.objects.filter(email__in=emails).order_by("email"))
    ids = [u.pk for u in users]
    Profile.objects.bulk_create([Profile(user=u) for u in users], ignore_conflicts=True)
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
        ignore_conflicts=True,
    )
    # What an earlier run left: gone, so each run starts from the same state.
    Certificate.objects.filter(holder_id__in=ids).delete()
    # Every attempt, prepared exam papers included (since issue 20 the default manager hides them).
    getattr(Attempt, "everything", Attempt.objects).filter(user_id__in=ids).delete()
    Seat.objects.filter(user_id__in=ids).delete()
    for order in Order.objects.filter(user_id__in=ids):
        order.refunds.all().delete()
        order.payments.all().delete()
        order.lines.all().delete()
        order.delete()
    StepRecord.objects.filter(enrollment__user_id__in=ids).delete()
    Enrollment.objects.filter(user_id__in=ids).delete()
    enrollments = Enrollment.objects.bulk_create(
        [
            Enrollment(
                user=u,
                program=program,
                policy_version=version if registered else None,
                window_start=now - timedelta(days=30) if registered else None,
                window_end=window_end_for(now, 2, program.zone) if registered else None,
                cycle=1,
            )
            for u in users
        ],
        batch_size=2000,
    )
    StepRecord.objects.bulk_create(
        [
            StepRecord(enrollment=e, step_code=code, outcome="done", cycle=1, at=now, source="bench")
            for e in enrollments
            for code in steps_done
            if code != "account"
        ],
        batch_size=5000,
    )
    sessions = []
    rows = []
    for user in users:
        store = SessionStore()
        key = store._get_new_session_key()
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=now + timedelta(days=1))
        )
        sessions.append({"user": str(user.pk), "session": key, "csrf": CSRF})
    Session.objects.bulk_create(rows, batch_size=2000)
    return sessions


def _course_sessions(count: int, capacity: int) -> list[int]:
    """Sessions of Tom's (the demo trainer) a month out, each with `capacity` seats."""
    program = Program.objects.get(code="QISP")
    tom = User.objects.get(email="tom@example.com")
    old = CourseSession.objects.filter(title=BENCH_SESSION_TITLE)
    Seat.objects.filter(session__in=old).delete()
    old.delete()
    start = (timezone.now() + timedelta(days=30)).replace(hour=16, minute=0, second=0, microsecond=0)
    created = CourseSession.objects.bulk_create(
        [
            CourseSession(
                program=program,
                trainer=tom,
                title=BENCH_SESSION_TITLE,
                starts_at=start + timedelta(days=n),
                ends_at=start + timedelta(days=n, hours=8),
                venue="Bench Hall",
                address=f"{100 + n} Main St",
                city=random.choice(["Sacramento", "Oakland", "Fresno", "San Diego"]),
                capacity=capacity,
                registration_deadline=start + timedelta(days=n - 7),
                contact="tom@example.com",
            )
            for n in range(count)
        ]
    )
    return [s.pk for s in created]


def _draw_papers(candidates: int) -> None:
    """Draw every candidate's exam paper ahead, as `tick` does before a sitting (issue 20): the
    start then takes a prepared paper instead of drawing 70 questions while everyone waits. An app
    checkout from before prepared papers (a "before" run of bench/protocol.py) has nothing to do."""
    from stormcert.exams import services

    prepare_papers = getattr(services, "prepare_papers", None)
    if prepare_papers is None:
        return
    started = time.perf_counter()
    drawn = 0
    while batch := prepare_papers(limit=500):
        drawn += batch
    print(f"drew {drawn} exam papers ahead (as tick does) in {time.perf_counter() - started:.1f} s")


def prepare(args: argparse.Namespace) -> dict[str, object]:
    if not args.people_only:
        call_command("migrate", verbosity=0)
        call_command("demo_data", verbosity=0)
    if args.holders:
        import directory  # the directory benchmark's bulk loader of certificate holders

        directory.load(args.holders)
    program = Program.objects.get(code="QISP")
    steps = [s.code for s in program.steps.all()]
    started = time.perf_counter()
    with transaction.atomic():
        candidates = _people("bench", args.candidates, steps[: steps.index("final")], registered=True)
        registrants = _people("bench-reg", args.registrants, steps[: steps.index("course")], registered=True)
        payers = _people("bench-pay", args.payers, steps[: steps.index("registration")], registered=False)
        floor = _people("bench-floor", args.floor, [], registered=False)
        sessions = _course_sessions(args.course_sessions, args.capacity)
    if args.papers:
        _draw_papers(args.candidates)
    numbers = list(
        Certificate.objects.filter(source="legacy").order_by("?").values_list("number", flat=True)[:2000]
    )
    # About one lookup in ten is for a number that does not exist (a typo, a forgery).
    numbers += [f"QISP-2019-9{n:04d}" for n in range(len(numbers) // 9)]
    print(f"prepared people and sessions in {time.perf_counter() - started:.1f} s")
    return {
        "candidates": candidates,
        "registrants": registrants,
        "payers": payers,
        "floor": floor,
        "course_sessions": sessions,
        "numbers": numbers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--registrants", type=int, default=0)
    parser.add_argument("--payers", type=int, default=0)
    parser.add_argument("--floor", type=int, default=2)
    parser.add_argument("--course-sessions", type=int, default=10)
    parser.add_argument("--capacity", type=int, default=12)
    parser.add_argument("--holders", type=int, default=0, help="certificate holders in the directory")
    parser.add_argument(
        "--people-only", action="store_true", help="skip migrate and demo_data (the database has them)"
    )
    parser.add_argument(
        "--no-papers",
        dest="papers",
        action="store_false",
        help="leave the exam papers undrawn (each start draws its own, as before tick prepared them)",
    )
    args = parser.parse_args()
    pools = prepare(args)
    out = ROOT / "bench" / ".run"
    out.mkdir(exist_ok=True)
    (out / "sessions.json").write_text(json.dumps(pools.pop("candidates")))
    (out / "pools.json").write_text(json.dumps(pools))
    print(
        f"prepared {args.candidates} candidates ready for the final, {args.registrants} course registrants "
        f"({args.course_sessions} sessions of {args.capacity} seats), {args.payers} payers, {args.floor} floor clients"
    )


if __name__ == "__main__":
    main()
