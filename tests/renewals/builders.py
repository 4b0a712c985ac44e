"""Builders: a certificate holder with a chosen expiry, review modules, renewing at a moment."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from stormcert.accounts.models import User
from stormcert.certificates.models import Certificate, Source
from stormcert.certificates.services import issue_certificate
from stormcert.core.demo.training import complete_by_studying
from stormcert.lib.dates import add_years
from stormcert.payments.models import Order
from stormcert.programs.models import Program
from stormcert.renewals.services import start_renewal
from stormcert.training.models import Course, CourseKind, Lesson, Unit
from tests.enrollments.builders import pay

PT = ZoneInfo("America/Los_Angeles")


def qisp() -> Program:
    return Program.objects.get(code="QISP")


def holder_until(user: User, expires_on: date) -> Certificate:
    """A QISP certificate (as if completed two years earlier) expiring on `expires_on`."""
    return issue_certificate(
        holder=user,
        program=qisp(),
        issued_on=add_years(expires_on, -2),
        expires_on=expires_on,
        source=Source.COMPLETION,
        notify=False,
    )


def make_review(
    code: str = "module-5", effective_from: date = date(2024, 1, 1), title: str = "Module 5", lessons: int = 2
) -> Course:
    course = Course.objects.create(
        program=qisp(), code=code, title=title, kind=CourseKind.REVIEW, effective_from=effective_from
    )
    unit = Unit.objects.create(course=course, position=1, title="Review")
    for i in range(lessons):
        Lesson.objects.create(
            unit=unit, position=i, title=f"{title} lesson {i + 1}", kind="reading", body="Read."
        )
    return course


def finish_review(user: User, course: Course, now: datetime) -> None:
    for lesson in Lesson.objects.filter(unit__course=course, required=True):
        complete_by_studying(user, lesson, now=now)


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    """A moment in Pacific time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=PT)


def renew(user: User, certificate: Certificate, *, started: datetime, paid: datetime | None = None) -> Order:
    """Create the renewal order at `started` and pay it (test mode) at `paid` (default: same time)."""
    order = start_renewal(user=user, certificate=certificate, now=started)
    pay(order, paid or started)
    order.refresh_from_db()
    return order


def renewal_of(certificate: Certificate) -> Certificate:
    return Certificate.objects.get(renews=certificate)
