"""Trainers publish, change and cancel sessions; virtual sessions need an accepted plan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from conftest import make_person
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.courses.models import CourseSession, Mode, PlanStatus, Seat, SeatStatus
from stormcert.courses.services import (
    CourseError,
    cancel_session,
    decide_virtual_plan,
    live_seat,
    register_for_session,
    submit_virtual_plan,
    update_session,
)
from stormcert.emails.models import OutboundEmail
from stormcert.enrollments.services import journey_for
from tests.courses.conftest import T0, make_session, ready_for_course, session_fields

pytestmark = pytest.mark.django_db

VIRTUAL: dict[str, Any] = {
    "mode": Mode.VIRTUAL,
    "venue": "",
    "city": "",
    "meeting_details": "https://meet.example/qisp",
}


def test_only_a_trainer_with_a_current_term_publishes(programs: None, alice: User, trainer: User) -> None:
    with pytest.raises(CourseError, match="Only a Trainer of Record in good standing"):
        make_session(alice)
    session = make_session(trainer)
    assert session.is_listed
    assert CourseSession.objects.public().count() == 1
    assert AuditEvent.objects.filter(verb="course.session_published").count() == 1
    # The term ends June 30 (policy: terms start July 1); after it, no new sessions.
    with pytest.raises(CourseError, match="term ended on June 30, 2027"):
        make_session(trainer, now=T0.replace(year=2027, month=7, day=1))


def test_session_fields_are_checked(trainer: User) -> None:
    with pytest.raises(CourseError, match="end after it starts"):
        make_session(trainer, ends_at=session_fields()["starts_at"])
    with pytest.raises(CourseError, match="close before the session starts"):
        make_session(trainer, registration_deadline=session_fields()["starts_at"] + timedelta(hours=1))
    with pytest.raises(CourseError, match="start in the future"):
        make_session(trainer, day_offset=-1, registration_deadline=T0 - timedelta(days=5))
    with pytest.raises(CourseError, match="venue and a city"):
        make_session(trainer, city="")


def test_a_virtual_session_needs_staff_contact_lead_time(trainer: User) -> None:
    # Policy: virtual sessions are set up with staff at least 30 days before the class.
    with pytest.raises(CourseError, match="at least 30 days before"):
        make_session(trainer, day_offset=29, **VIRTUAL)
    session = make_session(trainer, day_offset=30, **VIRTUAL)
    assert session.plan_status == PlanStatus.AWAITING
    assert not session.is_listed


def test_the_plan_is_due_15_days_before_and_staff_accept_it(trainer: User, sara: User) -> None:
    session = make_session(trainer, day_offset=40, **VIRTUAL)
    with pytest.raises(CourseError, match="at least 15 days before the class"):
        submit_virtual_plan(session=session, actor=trainer, plan="Zoom", now=T0 + timedelta(days=40 - 14))
    on_time = T0 + timedelta(days=40 - 15)
    submit_virtual_plan(session=session, actor=trainer, plan="Zoom with camera checks", now=on_time)
    with pytest.raises(CourseError, match="Give a reason"):
        decide_virtual_plan(session=session, actor=sara, accept=True, reason=" ", now=on_time)
    decide_virtual_plan(
        session=session, actor=sara, accept=False, reason="Say how attendance is checked.", now=on_time
    )
    session.refresh_from_db()
    assert session.plan_status == PlanStatus.REJECTED and not session.is_listed
    submit_virtual_plan(
        session=session, actor=trainer, plan="Zoom; attendance by camera at 4 points", now=on_time
    )
    decide_virtual_plan(session=session, actor=sara, accept=True, reason="Meets the guidance.", now=on_time)
    session.refresh_from_db()
    assert session.is_listed
    assert OutboundEmail.objects.filter(template="courses/email/plan_decided", to=trainer.email).count() == 2
    assert AuditEvent.objects.filter(verb="course.plan_accepted", reason="Meets the guidance.").exists()


def test_changes_need_a_reason_and_registrants_are_told(trainer: User, alice: User) -> None:
    session = make_session(trainer)
    ready_for_course(alice)
    register_for_session(user=alice, session=session, now=T0)
    fields = session_fields(venue="Room 5, Training Center")
    with pytest.raises(CourseError, match="Give a reason"):
        update_session(session=session, actor=trainer, fields=fields, reason="", now=T0)
    with pytest.raises(CourseError, match="Nothing changed"):
        update_session(session=session, actor=trainer, fields=session_fields(), reason="typo", now=T0)
    update_session(session=session, actor=trainer, fields=fields, reason="Bigger room.", now=T0)
    mail = OutboundEmail.objects.get(template="courses/email/session_changed")
    assert mail.to == alice.email and "Bigger room." in mail.body_text and "venue" in mail.body_text
    assert "SEQUENCE:1" in mail.attachments[0]["content"]
    event = AuditEvent.objects.get(verb="course.session_changed")
    assert event.reason == "Bigger room." and event.data["changes"]["venue"][1] == "Room 5, Training Center"


def test_capacity_cannot_drop_below_seats_taken(trainer: User, alice: User, eve: User) -> None:
    session = make_session(trainer, capacity=3)
    for person in (alice, eve):
        ready_for_course(person)
        register_for_session(user=person, session=session, now=T0)
    with pytest.raises(CourseError, match="2 seats are already taken"):
        update_session(
            session=session, actor=trainer, fields=session_fields(capacity=1), reason="smaller room", now=T0
        )


def test_a_bigger_room_offers_seats_to_the_waitlist(trainer: User, alice: User, eve: User) -> None:
    session = make_session(trainer, capacity=1)
    for person in (alice, eve):
        ready_for_course(person)
        register_for_session(user=person, session=session, now=T0)
    update_session(
        session=session, actor=trainer, fields=session_fields(capacity=2), reason="more chairs", now=T0
    )
    assert Seat.objects.get(user=eve).status == SeatStatus.OFFERED


def test_cancelling_a_session_sends_everyone_back_to_choose_a_session(
    trainer: User, alice: User, eve: User
) -> None:
    session = make_session(trainer, capacity=1)
    for person in (alice, eve):
        ready_for_course(person)
        register_for_session(user=person, session=session, now=T0)
    with pytest.raises(CourseError, match="Give a reason"):
        cancel_session(session=session, actor=trainer, reason="", now=T0)
    cancel_session(session=session, actor=trainer, reason="Trainer unwell.", now=T0)
    assert set(Seat.objects.values_list("status", flat=True)) == {SeatStatus.CANCELLED}
    assert OutboundEmail.objects.filter(template="courses/email/session_cancelled").count() == 2
    assert live_seat(alice, session.program) is None
    journey = journey_for(alice.enrollments.get(), T0)
    assert journey.current is not None and journey.current.code == "course"
    assert not CourseSession.objects.public().exists()
    # A new session is open to them again.
    other = make_session(trainer, day_offset=45)
    assert register_for_session(user=alice, session=other, now=T0).seat.status == SeatStatus.REGISTERED


def test_a_started_session_cannot_be_changed_or_cancelled(trainer: User) -> None:
    session = make_session(trainer)
    with pytest.raises(CourseError, match="has started"):
        cancel_session(session=session, actor=trainer, reason="x", now=session.starts_at)


def test_someone_else_cannot_teach_it(trainer: User) -> None:
    from stormcert.courses.services import check_can_teach

    session = make_session(trainer)
    with pytest.raises(CourseError):
        check_can_teach(user=make_person("other@example.com"), session=session, staff=False)
