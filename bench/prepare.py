"""Load N candidates who are ready for the final exam, with signed-in sessions, for the benchmarks.

Sessions are created directly (as a login would) so the run measures exam-day traffic, not
password hashing. Writes bench/.run/sessions.json. Run with the same DATABASE_URL as the server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stormcert.settings")

import django

django.setup()

from allauth.account.models import EmailAddress
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import Profile, User
from stormcert.enrollments.journey import window_end_for
from stormcert.enrollments.models import Enrollment, StepRecord
from stormcert.exams.models import Attempt
from stormcert.programs.models import Program
from stormcert.programs.rules import version_in_force

CSRF = "benchcsrftoken0123456789abcdefgh"  # a 32-character secret, sent as cookie and header


def prepare(count: int) -> list[dict[str, str]]:
    call_command("migrate", verbosity=0)
    call_command("demo_data", verbosity=0)
    program = Program.objects.get(code="QISP")
    version = version_in_force(program, timezone.localdate())
    steps = [s.code for s in program.steps.all()]
    before_final = steps[: steps.index("final")]
    now = timezone.now()
    sessions = []
    with transaction.atomic():
        existing = User.objects.filter(email__startswith="bench-")
        Attempt.objects.filter(user__in=existing).delete()
        for n in range(count):
            email = f"bench-{n:05d}@example.com"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User(email=email, first_name="Bench", last_name=f"{n:05d}")
                user.set_unusable_password()
                user.save()
                Profile.objects.create(user=user)
                EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            enrollment, _ = Enrollment.objects.update_or_create(
                user=user,
                program=program,
                defaults={
                    "policy_version": version,
                    "window_start": now - timedelta(days=30),
                    "window_end": window_end_for(now, 2, program.zone),
                    "cycle": 1,
                },
            )
            StepRecord.objects.filter(enrollment=enrollment).delete()
            StepRecord.objects.bulk_create(
                StepRecord(
                    enrollment=enrollment, step_code=code, outcome="done", cycle=1, at=now, source="bench"
                )
                for code in before_final
                if code != "account"
            )
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.create()
            sessions.append({"user": str(user.pk), "session": store.session_key or "", "csrf": CSRF})
    return sessions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=int, default=1000)
    args = parser.parse_args()
    sessions = prepare(args.candidates)
    out = ROOT / "bench" / ".run"
    out.mkdir(exist_ok=True)
    (out / "sessions.json").write_text(json.dumps(sessions))
    print(f"prepared {len(sessions)} candidates ready for the final")


if __name__ == "__main__":
    main()
