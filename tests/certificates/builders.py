"""Builders: a candidate who has passed everything, and certificates made directly."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from stormcert.accounts.models import User
from stormcert.certificates.models import Certificate, Source
from stormcert.certificates.services import issue_certificate
from stormcert.enrollments.models import Enrollment
from stormcert.lib.dates import add_years
from stormcert.programs.models import Program
from tests.enrollments.builders import done
from tests.exams.conftest import T0, ready_for_midterm

STEPS_AFTER_TRAINING = ("midterm", "course", "survey", "final")


def qualify(user: User, when: datetime = T0) -> Enrollment:
    """Through every QISP step; the last one (the final) completes the enrollment."""
    enrollment = ready_for_midterm(user, when)
    for i, code in enumerate(STEPS_AFTER_TRAINING):
        done(enrollment, code, when + timedelta(hours=1 + i))
    enrollment.refresh_from_db()
    return enrollment


def certify(
    user: User,
    *,
    program: str = "QISP",
    issued_on: date = date(2026, 1, 15),
    years: int = 2,
    number: str | None = None,
) -> Certificate:
    return issue_certificate(
        holder=user,
        program=Program.objects.get(code=program),
        issued_on=issued_on,
        expires_on=add_years(issued_on, years),
        source=Source.LEGACY if number else Source.COMPLETION,
        number=number,
        notify=False,
    )
