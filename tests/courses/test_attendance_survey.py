"""Attendance completes the course step; the survey completes step 8 and opens the final."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stormcert.accounts.models import User
from stormcert.courses.models import Seat, SeatStatus, SurveyQuestion, SurveyResponse
from stormcert.courses.services import (
    CourseError,
    check_can_answer_survey,
    record_attendance,
    register_for_session,
    submit_survey,
)
from stormcert.emails.models import OutboundEmail
from stormcert.enrollments.journey import StepState
from stormcert.enrollments.services import journey_for
from tests.courses.conftest import T0, make_session, ready_for_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def seat(trainer: User, alice: User) -> Seat:
    session = make_session(trainer)
    ready_for_course(alice)
    return register_for_session(user=alice, session=session, now=T0).seat


def test_attendance_opens_when_the_session_starts_not_earlier_that_day(trainer: User, seat: Seat) -> None:
    # Issue 16: attendance was accepted hours before the session started (from local midnight).
    start = seat.session.starts_at
    with pytest.raises(CourseError, match="once the session starts"):
        record_attendance(
            session=seat.session, actor=trainer, marks={seat.pk: True}, now=start - timedelta(seconds=1)
        )
    assert record_attendance(session=seat.session, actor=trainer, marks={seat.pk: True}, now=start) == []


def test_present_completes_the_course_step_and_invites_to_the_survey(
    trainer: User, alice: User, seat: Seat
) -> None:
    during = seat.session.starts_at + timedelta(hours=2)
    assert record_attendance(session=seat.session, actor=trainer, marks={seat.pk: True}, now=during) == []
    seat.refresh_from_db()
    assert seat.status == SeatStatus.ATTENDED and seat.attendance_recorded_by == trainer
    journey = journey_for(seat.enrollment, during)
    assert journey.step("course").state == StepState.DONE
    assert journey.current is not None and journey.current.code == "survey"
    assert OutboundEmail.objects.filter(template="courses/email/survey_invite", to=alice.email).count() == 1
    # Saving the same marks again changes nothing and sends nothing.
    record_attendance(session=seat.session, actor=trainer, marks={seat.pk: True}, now=during)
    assert OutboundEmail.objects.filter(template="courses/email/survey_invite").count() == 1


def test_a_correction_to_absent_takes_the_credit_back(trainer: User, seat: Seat) -> None:
    during = seat.session.starts_at + timedelta(hours=2)
    record_attendance(session=seat.session, actor=trainer, marks={seat.pk: True}, now=during)
    record_attendance(session=seat.session, actor=trainer, marks={seat.pk: False}, now=during)
    seat.refresh_from_db()
    assert seat.status == SeatStatus.ABSENT
    assert journey_for(seat.enrollment, during).current.code == "course"  # type: ignore[union-attr]


def test_unknown_seats_are_reported(trainer: User, seat: Seat) -> None:
    during = seat.session.starts_at
    problems = record_attendance(session=seat.session, actor=trainer, marks={999999: True}, now=during)
    assert problems == ["Seat 999999 is not on this session's roster."]


def test_the_survey_needs_attendance_and_required_answers(
    trainer: User, alice: User, seat: Seat, survey_questions: list[SurveyQuestion]
) -> None:
    after = seat.session.ends_at + timedelta(hours=1)
    with pytest.raises(CourseError, match="once the trainer has recorded that you attended"):
        check_can_answer_survey(seat=seat, now=after)
    record_attendance(session=seat.session, actor=trainer, marks={seat.pk: True}, now=after)
    seat.refresh_from_db()
    q1, q2, q3 = survey_questions
    with pytest.raises(CourseError, match="“Trainer clear\\?” needs an answer"):
        submit_survey(seat=seat, user=alice, answers={q1.pk: {"rating": 5}}, now=after)
    with pytest.raises(CourseError, match="rating from 1 to 5"):
        submit_survey(seat=seat, user=alice, answers={q1.pk: {"rating": 9}, q2.pk: {"rating": 4}}, now=after)
    submit_survey(
        seat=seat,
        user=alice,
        answers={q1.pk: {"rating": 5}, q2.pk: {"rating": 4}, q3.pk: {"comment": "More case studies"}},
        now=after,
    )
    journey = journey_for(seat.enrollment, after)
    assert journey.step("survey").state == StepState.DONE
    assert journey.current is not None and journey.current.code == "final"
    response = SurveyResponse.objects.get()
    assert sorted(a.rating for a in response.answers.all() if a.rating) == [4, 5]
    with pytest.raises(CourseError, match="already answered"):
        check_can_answer_survey(seat=seat, now=after)
    # Once the survey is in, attendance cannot be silently taken back.
    problems = record_attendance(session=seat.session, actor=trainer, marks={seat.pk: False}, now=after)
    assert "already answered the course survey" in problems[0]
