"""Seats, the waitlist and offers: who may register, in what order seats go, what people are told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import make_person
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.courses.models import Seat, SeatStatus
from stormcert.courses.services import (
    CourseError,
    accept_offer,
    cancel_seat,
    process_waitlists,
    register_for_session,
)
from stormcert.emails.models import OutboundEmail
from tests.courses.conftest import T0, make_session, ready_for_course
from tests.exams.conftest import ready_for_midterm

pytestmark = pytest.mark.django_db


def test_a_candidate_before_the_midterm_is_told_why(trainer: User, alice: User) -> None:
    session = make_session(trainer)
    ready_for_midterm(alice)
    with pytest.raises(
        CourseError, match=r"opens once you have done the steps before it \(passing the Midterm exam\)"
    ):
        register_for_session(user=alice, session=session, now=T0 + timedelta(hours=1))
    with pytest.raises(CourseError, match="is for candidates of QISP who have passed the Midterm exam"):
        register_for_session(user=make_person("new@example.com"), session=session, now=T0)


def test_registering_takes_a_seat_and_sends_an_invitation(trainer: User, alice: User) -> None:
    session = make_session(trainer)
    ready_for_course(alice)
    result = register_for_session(user=alice, session=session, now=T0 + timedelta(hours=1))
    assert not result.waitlisted
    assert result.seat.status == SeatStatus.REGISTERED
    assert session.seats_left(T0) == 9
    mail = OutboundEmail.objects.get(template="courses/email/registered")
    assert mail.to == alice.email
    assert mail.attachments[0]["mimetype"] == "text/calendar"
    assert "BEGIN:VTIMEZONE" in mail.attachments[0]["content"]
    assert AuditEvent.objects.filter(verb="course.registered").count() == 1


def test_one_live_place_per_program(trainer: User, alice: User) -> None:
    first, second = make_session(trainer), make_session(trainer, day_offset=40)
    ready_for_course(alice)
    register_for_session(user=alice, session=first, now=T0 + timedelta(hours=1))
    with pytest.raises(CourseError, match="already have a place on the session"):
        register_for_session(user=alice, session=second, now=T0 + timedelta(hours=2))
    with pytest.raises(CourseError, match="already have a place on this session"):
        register_for_session(user=alice, session=first, now=T0 + timedelta(hours=2))
    # After cancelling, another session is open to them.
    cancel_seat(seat=Seat.objects.get(user=alice), actor=alice, now=T0 + timedelta(hours=3))
    assert (
        register_for_session(user=alice, session=second, now=T0 + timedelta(hours=4)).seat.status
        == "registered"
    )


def _people(n: int) -> list[User]:
    people = [make_person(f"p{i}@example.com", first_name=f"P{i}") for i in range(n)]
    for person in people:
        ready_for_course(person)
    return people


def test_a_full_session_offers_the_waitlist_and_a_freed_seat_goes_to_the_first_waiting(trainer: User) -> None:
    session = make_session(trainer, capacity=1)
    first, second, third = _people(3)
    now = T0 + timedelta(hours=1)
    register_for_session(user=first, session=session, now=now)
    waiting2 = register_for_session(user=second, session=session, now=now + timedelta(minutes=1))
    waiting3 = register_for_session(user=third, session=session, now=now + timedelta(minutes=2))
    assert (waiting2.waitlisted, waiting2.position) == (True, 1)
    assert waiting3.position == 2
    assert OutboundEmail.objects.filter(template="courses/email/waitlisted").count() == 2

    cancel_seat(seat=Seat.objects.get(user=first), actor=first, now=now + timedelta(hours=1))
    offered = Seat.objects.get(user=second)
    assert offered.status == SeatStatus.OFFERED
    # The offer lasts the policy's hours (48) and the seat is held meanwhile.
    assert offered.offer_expires_at == now + timedelta(hours=49)
    assert session.seats_left(now + timedelta(hours=2)) == 0
    assert OutboundEmail.objects.filter(template="courses/email/offer", to=second.email).exists()

    accept_offer(seat=offered, user=second, now=now + timedelta(hours=5))
    offered.refresh_from_db()
    assert offered.status == SeatStatus.REGISTERED
    assert Seat.objects.get(user=third).status == SeatStatus.WAITING


def test_an_unclaimed_offer_passes_to_the_next_person(trainer: User) -> None:
    session = make_session(trainer, capacity=1)
    first, second, third = _people(3)
    now = T0 + timedelta(hours=1)
    for person in (first, second, third):
        register_for_session(user=person, session=session, now=now)
    cancel_seat(seat=Seat.objects.get(user=first), actor=first, now=now)
    # The seat is free again the moment the offer runs out (availability is computed from dates)...
    assert session.seats_left(now + timedelta(hours=48, seconds=1)) == 1
    with pytest.raises(CourseError, match="offer ran out"):
        accept_offer(seat=Seat.objects.get(user=second), user=second, now=now + timedelta(hours=49))
    # ...and the periodic job tells the person and offers it to the next one, once.
    assert process_waitlists(now=now + timedelta(hours=49)) == 1
    assert process_waitlists(now=now + timedelta(hours=49)) == 0
    assert Seat.objects.get(user=second).status == SeatStatus.LAPSED
    assert Seat.objects.get(user=third).status == SeatStatus.OFFERED
    assert OutboundEmail.objects.filter(template="courses/email/offer_lapsed", to=second.email).count() == 1


def test_an_offer_never_outlives_registration(trainer: User) -> None:
    session = make_session(trainer, capacity=1)
    first, second = _people(2)
    register_for_session(user=first, session=session, now=T0)
    register_for_session(user=second, session=session, now=T0)
    late = session.registration_deadline - timedelta(hours=5)
    cancel_seat(seat=Seat.objects.get(user=first), actor=first, now=late)
    assert Seat.objects.get(user=second).offer_expires_at == session.registration_deadline


def test_newcomers_queue_behind_people_already_waiting(trainer: User) -> None:
    session = make_session(trainer, capacity=1)
    first, second, third = _people(3)
    register_for_session(user=first, session=session, now=T0)
    register_for_session(user=second, session=session, now=T0)
    cancel_seat(seat=Seat.objects.get(user=first), actor=first, now=T0)
    # The free seat is on offer to `second`; `third` waits even though nobody is registered.
    assert register_for_session(user=third, session=session, now=T0).seat.status == SeatStatus.WAITING


def test_cancelling_closes_with_registration(trainer: User, alice: User) -> None:
    session = make_session(trainer)
    ready_for_course(alice)
    seat = register_for_session(user=alice, session=session, now=T0).seat
    with pytest.raises(CourseError, match="Cancellations closed"):
        cancel_seat(seat=seat, actor=alice, now=session.registration_deadline)
    with pytest.raises(CourseError, match="Registration closed"):
        register_for_session(
            user=make_person("late@example.com"), session=session, now=session.registration_deadline
        )


def test_registration_closing_releases_the_waitlist(trainer: User) -> None:
    session = make_session(trainer, capacity=1)
    first, second = _people(2)
    register_for_session(user=first, session=session, now=T0)
    register_for_session(user=second, session=session, now=T0)
    process_waitlists(now=session.registration_deadline)
    assert Seat.objects.get(user=second).status == SeatStatus.LAPSED
    assert OutboundEmail.objects.filter(template="courses/email/waitlist_closed").count() == 1


def test_the_trainer_cannot_take_a_seat_on_their_own_session(trainer: User) -> None:
    session = make_session(trainer)
    with pytest.raises(CourseError, match="You teach this session"):
        register_for_session(user=trainer, session=session, now=T0)


def test_a_waitlist_place_is_traded_for_a_free_seat_in_one_step(trainer: User, alice: User) -> None:
    """Waiting for a full session does not trap anyone: a session with a free seat offers it
    directly, and taking it leaves the waitlist in the same step."""
    from django.test import Client
    from django.urls import reverse

    from conftest import client_for
    from stormcert.courses.services import switch_to_free_seat, switchable_waitlist_seat

    full = make_session(trainer, capacity=1)
    free = make_session(trainer, day_offset=40, capacity=2)
    [first] = _people(1)
    register_for_session(user=first, session=full, now=T0 + timedelta(minutes=30))
    ready_for_course(alice)
    waiting = register_for_session(user=alice, session=full, now=T0 + timedelta(hours=1)).seat
    assert waiting.status == SeatStatus.WAITING
    now = T0 + timedelta(hours=2)
    # Plain registration still says why not; the page offers the trade instead.
    with pytest.raises(CourseError, match="Cancel it first"):
        register_for_session(user=alice, session=free, now=now)
    assert switchable_waitlist_seat(user=alice, session=free, now=now) == waiting
    assert switchable_waitlist_seat(user=alice, session=full, now=now) is None
    page: Client = client_for(alice)
    import time_machine

    with time_machine.travel(now, tick=False):
        html = page.get(reverse("courses:session", args=[free.pk])).content.decode()
        assert "Take this seat and leave the waitlist" in html and "Cancel it first" not in html
        response = page.post(reverse("courses:switch", args=[free.pk]), follow=True)
    assert "You are registered and have left the other session" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == SeatStatus.CANCELLED
    assert Seat.objects.get(user=alice, session=free).status == SeatStatus.REGISTERED
    # One email: registered. No "your place was cancelled" for a move the person asked for.
    assert not OutboundEmail.objects.filter(to=alice.email, template="courses/email/seat_cancelled").exists()
    assert OutboundEmail.objects.filter(to=alice.email, template="courses/email/registered").count() == 1
    # Nothing to trade any more.
    with pytest.raises(CourseError, match="no place on another session's waitlist"):
        switch_to_free_seat(user=alice, session=full, now=now)


def test_when_the_free_seat_is_gone_the_waitlist_place_is_kept(trainer: User, alice: User) -> None:
    from stormcert.courses.services import switch_to_free_seat

    full = make_session(trainer, capacity=1)
    other = make_session(trainer, day_offset=40, capacity=1)
    first, second = _people(2)
    register_for_session(user=first, session=full, now=T0 + timedelta(minutes=30))
    ready_for_course(alice)
    waiting = register_for_session(user=alice, session=full, now=T0 + timedelta(hours=1)).seat
    register_for_session(user=second, session=other, now=T0 + timedelta(hours=2))  # the last seat goes
    with pytest.raises(CourseError):
        switch_to_free_seat(user=alice, session=other, now=T0 + timedelta(hours=3))
    waiting.refresh_from_db()
    assert waiting.status == SeatStatus.WAITING
    assert not Seat.objects.filter(user=alice, session=other).exists()
