"""Seats never oversell: many people pressing "Register" at once for the last seats."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connections

from conftest import make_person
from stormcert.accounts.models import User
from stormcert.courses.models import Seat, SeatStatus
from stormcert.courses.services import CourseError, register_for_session
from tests.courses.conftest import T0, make_session, ready_for_course

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_people_for_the_last_three_seats(trainer: User) -> None:
    session = make_session(trainer, capacity=10)
    holders = [make_person(f"holder{i}@example.com") for i in range(7)]
    racers = [make_person(f"racer{i}@example.com") for i in range(50)]
    for person in holders + racers:
        ready_for_course(person)
    for person in holders:
        register_for_session(user=person, session=session, now=T0)
    assert session.seats_left(T0) == 3
    now = T0 + timedelta(hours=1)
    barrier = threading.Barrier(len(racers))

    def race(person: User) -> str:
        try:
            barrier.wait()
            return register_for_session(user=person, session=session, now=now).seat.status
        except CourseError as exc:  # pragma: no cover - would show in the assertion below
            return f"refused: {exc}"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(racers)) as pool:
        outcomes = list(pool.map(race, racers))
    assert outcomes.count(SeatStatus.REGISTERED) == 3
    assert outcomes.count(SeatStatus.WAITING) == 47
    assert Seat.objects.filter(session=session, status=SeatStatus.REGISTERED).count() == 10
    assert session.seats_left(now) == 0
    # The waitlist order is the order the locks were granted, with no gaps or repeats.
    positions = sorted(s.waitlist_position() or 0 for s in Seat.objects.filter(status=SeatStatus.WAITING))
    assert positions == list(range(1, 48))


def test_one_person_pressing_twice_on_two_sessions_holds_one_place(trainer: User, alice: User) -> None:
    first, second = make_session(trainer), make_session(trainer, day_offset=40)
    ready_for_course(alice)
    barrier = threading.Barrier(2)

    def press(session_index: int) -> str:
        try:
            barrier.wait()
            session = (first, second)[session_index]
            return register_for_session(user=alice, session=session, now=T0).seat.status
        except CourseError as exc:
            return f"refused: {exc}"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(press, [0, 1]))
    assert sorted(o[:8] for o in outcomes) == ["refused:", "register"]
    assert Seat.objects.filter(user=alice).count() == 1
