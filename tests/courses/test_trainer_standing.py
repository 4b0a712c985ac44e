"""Issue 16 §4: when a Trainer of Record loses standing their sessions follow.

Future sessions close to new registrations at once (derived, no job), go to a staff queue to be
reassigned or cancelled (registrants told by email), and the trainer can no longer change them,
read their rosters or record attendance. Attendance has a window: from the session's start until
a program-set number of days after its day, in the session's zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import Role, User
from stormcert.audit.models import AuditEvent
from stormcert.courses.models import CourseSession, Seat, SeatStatus, SessionStatus
from stormcert.courses.services import (
    TRAINER_CANNOT_TEACH,
    CourseError,
    cancel_session,
    check_can_register,
    process_waitlists,
    reassign_session,
    record_attendance,
    register_for_session,
    send_reminders,
    sessions_needing_a_trainer,
    update_session,
)
from stormcert.emails.models import OutboundEmail
from stormcert.programs.models import PolicyValue
from stormcert.trainers.models import TrainerTerm
from stormcert.trainers.services import end_term
from tests.courses.conftest import PT, T0, make_session, ready_for_course, session_fields
from tests.trainers.builders import in_standing, tor_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def tina(programs: None) -> User:
    """A second Trainer of Record in standing, to take sessions over."""
    user = make_person("tina@example.com", roles=(Role.TRAINER,), first_name="Tina", last_name="Ruiz")
    return in_standing(user, T0)


@pytest.fixture
def session(trainer: User) -> CourseSession:
    return make_session(trainer)


@pytest.fixture
def seat(session: CourseSession, alice: User) -> Seat:
    ready_for_course(alice)
    return register_for_session(user=alice, session=session, now=T0).seat


def _end(trainer: User, sara: User, now: datetime = T0) -> None:
    end_term(term=TrainerTerm.objects.get(user=trainer), actor=sara, reason="Term ended by staff.", now=now)


def _bob() -> User:
    bob = make_person("bob@example.com", roles=(Role.CANDIDATE,), first_name="Bob", last_name="Baker")
    ready_for_course(bob)
    return bob


# --- Registration closes at once --------------------------------------------------------------


def test_a_session_closes_to_registration_the_moment_its_trainer_loses_standing(
    trainer: User, sara: User, session: CourseSession
) -> None:
    """Issue 16: after a term ended the trainer's sessions stayed open for registration."""
    bob = _bob()
    check_can_register(user=bob, session=session, now=T0)
    _end(trainer, sara)
    # No job has run: the rule is derived from the dates.
    with pytest.raises(CourseError) as refused:
        register_for_session(user=bob, session=session, now=T0 + timedelta(minutes=1))
    assert str(refused.value) == TRAINER_CANNOT_TEACH
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        visitor = Client()
        assert session.day_text not in visitor.get(reverse("courses:calendar")).content.decode()
        assert visitor.get(reverse("courses:calendar_json")).json()["sessions"] == []
        assert b"BEGIN:VEVENT" not in visitor.get(reverse("courses:calendar_ics")).content
        detail = client_for(bob).get(reverse("courses:session", args=[session.pk])).content.decode()
    assert "its trainer cannot teach it at the moment" in detail


def test_a_waitlist_offer_is_neither_made_nor_taken_while_the_trainer_lacks_standing(
    trainer: User, sara: User, alice: User
) -> None:
    session = make_session(trainer, capacity=1)
    ready_for_course(alice)
    held = register_for_session(user=alice, session=session, now=T0).seat
    bob = _bob()
    waiting = register_for_session(user=bob, session=session, now=T0).seat
    assert waiting.status == SeatStatus.WAITING
    _end(trainer, sara)
    Seat.objects.filter(pk=held.pk).update(status=SeatStatus.CANCELLED)  # a seat frees up
    assert process_waitlists(now=T0 + timedelta(hours=1)) == 0
    waiting.refresh_from_db()
    assert waiting.status == SeatStatus.WAITING


def test_no_reminder_goes_out_for_a_session_waiting_in_the_queue(
    trainer: User, sara: User, tina: User, seat: Seat
) -> None:
    day_before = seat.session.starts_at - timedelta(hours=24)
    _end(trainer, sara)
    assert send_reminders(now=day_before) == 0
    reassign_session(session=seat.session, trainer=tina, actor=sara, reason="Tina covers.", now=T0)
    assert send_reminders(now=day_before) == 1


# --- The trainer can no longer manage the session ---------------------------------------------


def test_a_trainer_without_standing_cannot_change_or_cancel_their_session(
    trainer: User, sara: User, session: CourseSession
) -> None:
    """Issue 16: after a term ended the sessions could still be changed."""
    _end(trainer, sara)
    fields = session_fields(capacity=12)
    with pytest.raises(CourseError, match="not in good standing"):
        update_session(session=session, actor=trainer, fields=fields, reason="More seats", now=T0)
    with pytest.raises(CourseError, match="Term ended by staff"):
        cancel_session(session=session, actor=trainer, reason="Sorry", now=T0)
    session.refresh_from_db()
    assert session.capacity == 10 and session.status == SessionStatus.SCHEDULED


def test_a_trainer_without_standing_cannot_record_attendance_but_staff_can(
    trainer: User, sara: User, seat: Seat
) -> None:
    """Issue 16: after a term ended attendance could still be recorded."""
    _end(trainer, sara)
    during = seat.session.starts_at + timedelta(hours=1)
    with pytest.raises(CourseError, match="not in good standing"):
        record_attendance(session=seat.session, actor=trainer, marks={seat.pk: True}, now=during)
    assert record_attendance(session=seat.session, actor=sara, marks={seat.pk: True}, now=during) == []
    seat.refresh_from_db()
    assert seat.status == SeatStatus.ATTENDED and seat.attendance_recorded_by == sara


def test_the_roster_page_tells_a_trainer_without_standing_why(trainer: User, sara: User, seat: Seat) -> None:
    _end(trainer, sara)
    roster = reverse("courses:roster", args=[seat.session_id])
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        refused = client_for(trainer).get(roster)
        assert refused.status_code == 403
        assert "Your IGP ToR term ended on November 21, 2026" in refused.content.decode()
        assert client_for(sara, mfa=True).get(roster).status_code == 200
        mine = client_for(trainer).get(reverse("courses:mine")).content.decode()
    assert "not in good standing" in mine and "Term ended by staff." in mine


# --- Attendance window --------------------------------------------------------------------------


def test_attendance_closes_at_the_end_of_the_program_set_day(trainer: User, seat: Seat) -> None:
    # Session on December 21 (Pacific); the program allows 14 days: through January 4.
    closes = datetime(2027, 1, 5, 0, 0, tzinfo=PT)
    record_attendance(
        session=seat.session, actor=trainer, marks={seat.pk: False}, now=closes - timedelta(seconds=1)
    )
    with pytest.raises(CourseError, match="until January 4, 2027"):
        record_attendance(session=seat.session, actor=trainer, marks={seat.pk: True}, now=closes)
    seat.refresh_from_db()
    assert seat.status == SeatStatus.ABSENT


def test_the_attendance_window_ends_at_local_midnight_across_a_dst_change(trainer: User, alice: User) -> None:
    # March 1, 2027 (PST) + 14 days: open through March 15, which is already daylight time.
    session = make_session(trainer, day_offset=100)
    assert session.start_day().isoformat() == "2027-03-01"
    ready_for_course(alice)
    seat = register_for_session(user=alice, session=session, now=T0).seat
    closes = datetime(2027, 3, 16, 0, 0, tzinfo=PT)
    assert closes.utcoffset() == timedelta(hours=-7)
    record_attendance(
        session=session, actor=trainer, marks={seat.pk: True}, now=closes - timedelta(seconds=1)
    )
    with pytest.raises(CourseError, match="until March 15, 2027"):
        record_attendance(session=session, actor=trainer, marks={seat.pk: False}, now=closes)


def test_the_attendance_window_is_the_programs_figure(trainer: User, seat: Seat) -> None:
    PolicyValue.objects.filter(version__program__code="QISP", key="course.attendance_days_after").update(
        value=2
    )
    with pytest.raises(CourseError, match="until December 23, 2026"):
        record_attendance(
            session=seat.session,
            actor=trainer,
            marks={seat.pk: True},
            now=datetime(2026, 12, 24, 9, tzinfo=PT),
        )


def test_the_attendance_window_follows_the_sessions_own_zone(trainer: User, alice: User) -> None:
    east = ZoneInfo("America/New_York")
    start = datetime(2026, 12, 21, 9, 0, tzinfo=east)
    session = make_session(
        trainer,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        registration_deadline=start - timedelta(days=3),
        time_zone="America/New_York",
    )
    ready_for_course(alice)
    seat = register_for_session(user=alice, session=session, now=T0).seat
    # 8:59 Eastern is 5:59 Pacific, the same day: still before the start.
    with pytest.raises(CourseError, match="once the session starts"):
        record_attendance(
            session=session, actor=trainer, marks={seat.pk: True}, now=start - timedelta(minutes=1)
        )
    # Midnight Eastern after January 4 is 9 p.m. Pacific on January 4: already closed.
    with time_machine.travel(datetime(2027, 1, 4, 21, 0, tzinfo=PT), tick=False):
        with pytest.raises(CourseError, match="until January 4, 2027"):
            record_attendance(session=session, actor=trainer, marks={seat.pk: True})
        page = client_for(trainer).get(reverse("courses:roster", args=[session.pk])).content.decode()
    assert "Save attendance" not in page and "until January 4, 2027" in page


# --- The staff queue: reassign or cancel --------------------------------------------------------


def test_the_queue_holds_future_sessions_of_trainers_without_standing(
    trainer: User, sara: User, tina: User, session: CourseSession
) -> None:
    theirs = make_session(tina)
    past = make_session(trainer, day_offset=2, registration_deadline=T0 + timedelta(days=1))
    assert sessions_needing_a_trainer(T0) == []
    _end(trainer, sara)
    assert sessions_needing_a_trainer(T0) == [past, session]
    # Once a session has started it keeps its records and leaves the queue.
    assert sessions_needing_a_trainer(past.starts_at) == [session]
    assert theirs not in sessions_needing_a_trainer(T0)


def test_staff_reassign_a_session_and_registrants_are_told(
    trainer: User, sara: User, tina: User, seat: Seat
) -> None:
    session = seat.session
    _end(trainer, sara)
    reassign_session(session=session, trainer=tina, actor=sara, reason="Tina takes over.", now=T0)
    session.refresh_from_db()
    assert session.trainer == tina and session.contact == tina.email and session.revision == 1
    assert sessions_needing_a_trainer(T0) == []
    email = OutboundEmail.objects.get(template="courses/email/session_reassigned")
    assert (
        email.to == seat.user.email
        and "Tina Ruiz" in email.body_text
        and "Tina takes over." in email.body_text
    )
    event = AuditEvent.objects.get(verb="course.session_reassigned")
    assert event.actor == sara and event.reason == "Tina takes over."
    # Registration is open again.
    check_can_register(user=_bob(), session=session, now=T0)


def test_reassigning_is_refused_with_a_reason(
    trainer: User, sara: User, tina: User, session: CourseSession
) -> None:
    _end(trainer, sara)
    with pytest.raises(CourseError, match="Give a reason"):
        reassign_session(session=session, trainer=tina, actor=sara, reason=" ", now=T0)
    with pytest.raises(CourseError, match="Rob Ng cannot take this session: .*term ended"):
        reassign_session(session=session, trainer=_without_standing(), actor=sara, reason="r", now=T0)
    with pytest.raises(CourseError, match="already teaches"):
        reassign_session(session=session, trainer=trainer, actor=sara, reason="r", now=T0)
    with pytest.raises(CourseError, match="has started"):
        reassign_session(session=session, trainer=tina, actor=sara, reason="r", now=session.starts_at)
    cancel_session(session=session, actor=sara, reason="No trainer.", now=T0)
    with pytest.raises(CourseError, match="was cancelled"):
        reassign_session(session=session, trainer=tina, actor=sara, reason="r", now=T0)
    assert not AuditEvent.objects.filter(verb="course.session_reassigned").exists()


def _without_standing() -> User:
    """Had a term, ended today; no QISP, nothing signed: not in standing."""
    from stormcert.trainers.services import grant_term

    user = make_person("rob@example.com", roles=(Role.TRAINER,), first_name="Rob", last_name="Ng")
    term = grant_term(user=user, program=tor_program(), actor=None, reason="test", now=T0)
    TrainerTerm.objects.filter(pk=term.pk).update(ended_on=T0.date(), end_reason="term ended")
    return user


def test_staff_work_the_queue_through_the_pages(
    trainer: User, sara: User, sara_client: Client, tina: User, seat: Seat
) -> None:
    session = seat.session
    queue = reverse("courses:staff_queue")
    page_url = reverse("courses:staff_queue_session", args=[session.pk])
    reassign = reverse("courses:staff_queue_reassign", args=[session.pk])
    cancel = reverse("courses:staff_queue_cancel", args=[session.pk])
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        _end(trainer, sara, now=T0 + timedelta(minutes=5))
        home = sara_client.get(reverse("staff_home")).content.decode()
        assert 'href="/staff/courses/trainer-queue/"' in home
        listing = sara_client.get(queue).content.decode()
        assert session.when in listing and "Term ended by staff." in listing
        assert client_for(trainer).get(queue).status_code == 403
        assert client_for(trainer).post(cancel, {"cancel-reason": "x"}).status_code == 403
        page = sara_client.get(page_url).content.decode()
        assert f'<option value="{tina.pk}"' in page
        assert f'<option value="{trainer.pk}"' not in page  # not offered back
        # A trainer not in the list of choices, and a cancel without a reason, are refused.
        bad = sara_client.post(reassign, {"reassign-trainer": trainer.pk, "reassign-reason": "x"})
        assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
        empty = sara_client.post(cancel, {"cancel-reason": ""})
        assert empty.status_code == 200
        session.refresh_from_db()
        assert session.status == SessionStatus.SCHEDULED and session.trainer == trainer
        done = sara_client.post(cancel, {"cancel-reason": "The trainer can no longer teach."})
        assert done.status_code == 302 and done["Location"] == queue
    session.refresh_from_db()
    seat.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED and seat.status == SeatStatus.CANCELLED
    email = OutboundEmail.objects.get(template="courses/email/session_cancelled")
    assert email.to == seat.user.email and "The trainer can no longer teach." in email.body_text
    assert AuditEvent.objects.get(verb="course.session_cancelled").actor == sara
    assert sessions_needing_a_trainer(T0 + timedelta(minutes=6)) == []


def test_staff_reassign_through_the_page(
    trainer: User, sara: User, sara_client: Client, tina: User, seat: Seat
) -> None:
    act = reverse("courses:staff_queue_reassign", args=[seat.session_id])
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        _end(trainer, sara, now=T0 + timedelta(minutes=5))
        done = sara_client.post(act, {"reassign-trainer": tina.pk, "reassign-reason": "Tina covers."})
    assert done.status_code == 302
    seat.session.refresh_from_db()
    assert seat.session.trainer == tina
    assert OutboundEmail.objects.filter(
        template="courses/email/session_reassigned", to=seat.user.email
    ).exists()
