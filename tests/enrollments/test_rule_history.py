"""The OWP rules as history: one program, two dated rule versions.

A candidate who registered while the Office of Water Programs ran the program (2021) keeps its
rules after CASQA's took effect (2023): the journey OWP described (no acknowledgement,
questionnaire or survey), failing an exam twice costs the re-registration and every step again,
and the end of the two years means re-registering too. A candidate who starts in 2026 gets
CASQA's: nine steps, failing the midterm twice means the training and the midterm again, and
the end of the window is an extension that keeps what was done. Everything goes through the
services, with the clock moved to each moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from stormcert.accounts.models import User
from stormcert.enrollments.journey import Overall
from stormcert.enrollments.models import Enrollment, StepRecord
from stormcert.enrollments.services import (
    get_enrollment,
    journey_for,
    record_step_failure,
    start_registration,
)
from stormcert.programs.models import Program
from stormcert.training.models import Course, LessonProgress
from tests.enrollments.builders import (
    done,
    enroll_and_register,
    finish_training,
    make_course,
    pay,
    resolve,
)

pytestmark = pytest.mark.django_db
PT = ZoneInfo("America/Los_Angeles")
ALL_STEPS = [
    "account",
    "read_guides",
    "self_assessment",
    "registration",
    "training",
    "midterm",
    "course",
    "survey",
    "final",
]
# The OWP page's five steps (account, online training, midterm, one-day course, final), with the
# registration payment as a step of its own.
OWP_STEPS = ["account", "registration", "training", "midterm", "course", "final"]


@pytest.fixture
def qisp(programs: None) -> Program:
    program = Program.objects.get(code="QISP")
    make_course(program)
    return program


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=PT)


def codes(enrollment: Enrollment, now: datetime) -> list[str]:
    return [step.code for step in journey_for(enrollment, now).steps]


def fail_twice(enrollment: Enrollment, code: str, now: datetime) -> None:
    for attempt in range(2):
        record_step_failure(
            enrollment=enrollment, step_code=code, source="test", now=now + timedelta(days=attempt)
        )


def live(enrollment: Enrollment) -> set[str]:
    return set(enrollment.records.filter(voided_at__isnull=True).values_list("step_code", flat=True))


def test_an_enrollment_started_under_owp_keeps_the_owp_rules_after_casqa_took_over(
    qisp: Program, alice: User
) -> None:
    course = Course.objects.get(program=qisp)
    start = at(2021, 6, 1)
    with time_machine.travel(start, tick=False):
        enrollment = get_enrollment(user=alice, program=qisp, now=start)
        # Before registering, the version in force decides: OWP's journey, without the
        # acknowledgement, the questionnaire or the survey.
        assert codes(enrollment, start) == OWP_STEPS
        order = start_registration(enrollment=enrollment, now=start)
        assert order.total == Decimal("505.00")
        pay(order, start)
        enrollment.refresh_from_db()
        assert enrollment.policy_version is not None and enrollment.policy_version.name == "OWP 2019"

    # 2023: CASQA's rules are in force for newcomers; this enrollment keeps OWP's.
    later = at(2023, 2, 1)
    with time_machine.travel(later, tick=False):
        assert codes(enrollment, later) == OWP_STEPS
        finish_training(alice, course, later)
        assert journey_for(enrollment, later).current.code == "midterm"  # type: ignore[union-attr]
        fail_twice(enrollment, "midterm", later)
        journey = journey_for(enrollment, later + timedelta(days=2))
        assert journey.overall == Overall.FAILED_OUT
        assert journey.action is not None and journey.action.fee is not None
        assert journey.action.fee.code == "re_registration" and journey.action.fee.amount == Decimal("70.00")
        assert "redo every step" in journey.action.text

    # Paying the $70 re-registration: a new cycle, a fresh two years, and every step after
    # registration again, the online training included.
    paid = at(2023, 2, 10)
    with time_machine.travel(paid, tick=False):
        order = resolve(enrollment, paid)
        assert order.total == Decimal("70.00")
        assert enrollment.cycle == 2
        assert live(enrollment) == {"registration"}
        assert not LessonProgress.objects.filter(user=alice, voided_at__isnull=True).exists()
        journey = journey_for(enrollment, paid)
        assert journey.current is not None and journey.current.code == "training"
        assert journey.access_until is not None and journey.access_until.year == 2025
        assert [s.code for s in journey.steps] == OWP_STEPS
        finish_training(alice, course, paid)
        done(enrollment, "midterm", paid + timedelta(days=5))

    # The two years run out before the course: under OWP that is the re-registration again, and
    # every step again, not an extension.
    lapsed = at(2025, 3, 1)
    with time_machine.travel(lapsed, tick=False):
        journey = journey_for(enrollment, lapsed)
        assert journey.overall == Overall.WINDOW_EXPIRED
        assert journey.action is not None and journey.action.consequence == "consequence.window_expired"
        assert journey.action.fee is not None and journey.action.fee.code == "re_registration"
        assert journey.action.fee.amount == Decimal("70.00")
        resolve(enrollment, lapsed)
        assert enrollment.cycle == 3 and live(enrollment) == {"registration"}
        assert journey_for(enrollment, lapsed).current.code == "training"  # type: ignore[union-attr]
        assert enrollment.policy_version.name == "OWP 2019"


def test_an_enrollment_started_in_2026_gets_the_casqa_rules(qisp: Program, alice: User) -> None:
    course = Course.objects.get(program=qisp)
    start = at(2026, 3, 2)
    with time_machine.travel(start, tick=False):
        enrollment = enroll_and_register(alice, qisp, start)
        assert enrollment.policy_version is not None and enrollment.policy_version.name == "CASQA"
        assert codes(enrollment, start) == ALL_STEPS
        finish_training(alice, course, start + timedelta(days=10))
        fail_twice(enrollment, "midterm", start + timedelta(days=11))
        journey = journey_for(enrollment, start + timedelta(days=13))
        assert journey.overall == Overall.FAILED_OUT
        assert journey.action is not None and journey.action.fee is not None
        assert journey.action.fee.code == "re_registration" and journey.action.fee.amount == Decimal("70.00")

    # Re-registering means the online training and the midterm again; the acknowledgement and
    # the questionnaire stay done.
    paid = at(2026, 3, 20)
    with time_machine.travel(paid, tick=False):
        resolve(enrollment, paid)
        assert live(enrollment) == {"read_guides", "self_assessment", "registration"}
        assert (
            StepRecord.objects.filter(enrollment=enrollment, step_code="training")
            .exclude(voided_at=None)
            .exists()
        )
        assert journey_for(enrollment, paid).current.code == "training"  # type: ignore[union-attr]
        finish_training(alice, course, paid)
        done(enrollment, "midterm", paid + timedelta(days=3))
        window_end = enrollment.window_end
        cycle = enrollment.cycle

    # The window ends before the course: CASQA's rule is the $70 extension, which keeps every
    # step done and adds two years.
    assert window_end is not None
    lapsed = window_end + timedelta(days=1)
    with time_machine.travel(lapsed, tick=False):
        journey = journey_for(enrollment, lapsed)
        assert journey.overall == Overall.WINDOW_EXPIRED
        assert journey.action is not None and journey.action.fee is not None
        assert journey.action.fee.code == "extension" and journey.action.fee.amount == Decimal("70.00")
        order = resolve(enrollment, lapsed)
        assert order.total == Decimal("70.00")
        assert enrollment.cycle == cycle
        assert enrollment.window_end is not None and enrollment.window_end > lapsed + timedelta(days=700)
        assert {"training", "midterm"} <= live(enrollment)
        assert journey_for(enrollment, lapsed).current.code == "course"  # type: ignore[union-attr]
