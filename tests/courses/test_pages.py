"""The calendar page, its JSON and iCal feeds, session pages, rosters and staff pages."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.courses.models import Mode, PlanStatus, Seat, SeatStatus, SurveyQuestion
from stormcert.courses.services import record_attendance, register_for_session, submit_virtual_plan
from tests.courses.conftest import T0, make_session, ready_for_course

pytestmark = pytest.mark.django_db

VIRTUAL: dict[str, Any] = {
    "mode": Mode.VIRTUAL,
    "venue": "",
    "city": "",
    "meeting_details": "https://meet.example/secret-room",
}


@pytest.fixture(autouse=True)
def _at_t0() -> object:
    with time_machine.travel(T0, tick=False):
        yield


def test_the_calendar_filters_by_city_month_mode_and_seats(
    client: Client, trainer: User, alice: User
) -> None:
    make_session(trainer, city="Sacramento")
    full = make_session(trainer, day_offset=45, city="Oakland", capacity=1)
    virtual = make_session(trainer, day_offset=60, **VIRTUAL)
    ready_for_course(alice)
    register_for_session(user=alice, session=full, now=T0)
    url = reverse("courses:calendar")
    page = client.get(url).content.decode()
    assert "Sacramento" in page and "Oakland" in page and "Full: waitlist open" in page
    assert "secret-room" not in page  # the virtual session is not listed before its plan is accepted
    assert "Oakland" not in client.get(url, {"city": "Sacramento"}).content.decode().split("<tbody>")[1]
    with_seats = client.get(url, {"seats": "on"}).content.decode().split("<tbody>")[1]
    assert "Sacramento" in with_seats and "Oakland" not in with_seats
    month = (T0 + timedelta(days=45)).strftime("%Y-%m")
    body = client.get(url, {"month": month}).content.decode().split("<tbody>")[1]
    assert "Oakland" in body and "Sacramento" not in body
    virtual.plan_status = PlanStatus.ACCEPTED
    virtual.save()
    body = client.get(url, {"mode": "virtual"}).content.decode().split("<tbody>")[1]
    assert "Virtual" in body and "Oakland" not in body
    bad = client.get(url, {"city": "Atlantis"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()


def test_the_calendar_list_shows_each_sessions_fee(client: Client, trainer: User) -> None:
    make_session(trainer, city="Sacramento", price="150.00")
    make_session(trainer, day_offset=45, city="Oakland", price=None)
    rows = client.get(reverse("courses:calendar")).content.decode().split("<tbody>")[1].split("</tr>")
    sacramento = next(r for r in rows if "Sacramento" in r)
    oakland = next(r for r in rows if "Oakland" in r)
    assert "$150.00" in sacramento and "paid to the trainer" in sacramento
    assert "ask the trainer" in oakland and "$" not in oakland


def test_the_json_endpoint_lists_upcoming_sessions(client: Client, trainer: User) -> None:
    make_session(trainer, capacity=12, price="150.00")
    data = client.get(reverse("courses:calendar_json")).json()
    [row] = data["sessions"]
    assert row["city"] == "Sacramento" and row["seats_left"] == 12 and row["price"] == "150.00"
    assert row["starts_at"].endswith("-08:00") and row["time_zone"] == "America/Los_Angeles"
    assert "meeting_details" not in row
    assert client.get(reverse("courses:calendar_json"), {"mode": "boat"}).status_code == 400


def test_the_ical_feed_parses_and_carries_time_zones(client: Client, trainer: User) -> None:
    make_session(trainer)
    make_session(trainer, day_offset=50, time_zone="America/New_York", city="Reno")
    response = client.get(reverse("courses:calendar_ics"))
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    zones = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    assert zones == {"America/Los_Angeles", "America/New_York"}
    events = cal.walk("VEVENT")
    assert len(events) == 2
    first = events[0]
    assert first["DTSTART"].params["TZID"] == "America/Los_Angeles"
    assert first.decoded("DTSTART").hour == 8
    assert "Sacramento" in str(first["LOCATION"])


def test_meeting_details_go_to_registrants_only(
    client: Client, trainer: User, alice: User, eve: User
) -> None:
    session = make_session(trainer, **VIRTUAL)
    session.plan_status = PlanStatus.ACCEPTED
    session.save()
    url = reverse("courses:session", args=[session.pk])
    assert "secret-room" not in client.get(url).content.decode()
    assert b"secret-room" not in client.get(reverse("courses:session_ics", args=[session.pk])).content
    assert b"secret-room" not in client.get(reverse("courses:calendar_ics")).content
    ready_for_course(alice)
    register_for_session(user=alice, session=session, now=T0)
    mine = client_for(alice)
    assert "secret-room" in mine.get(url).content.decode()
    assert b"secret-room" in mine.get(reverse("courses:session_ics", args=[session.pk])).content
    assert "secret-room" not in client_for(eve).get(url).content.decode()


def test_an_unlisted_session_is_not_found_by_the_public(client: Client, trainer: User) -> None:
    session = make_session(trainer, **VIRTUAL)
    assert client.get(reverse("courses:session", args=[session.pk])).status_code == 404
    assert client_for(trainer).get(reverse("courses:session", args=[session.pk])).status_code == 200


def test_the_session_page_says_why_someone_cannot_register(client: Client, trainer: User, eve: User) -> None:
    session = make_session(trainer)
    url = reverse("courses:session", args=[session.pk])
    assert "Sign in to register" in client.get(url).content.decode()
    eve_client = client_for(eve)
    assert "who have passed the Midterm exam" in eve_client.get(url).content.decode()
    response = eve_client.post(reverse("courses:register", args=[session.pk]), follow=True)
    assert "who have passed the Midterm exam" in response.content.decode()
    assert not Seat.objects.exists()


def test_register_waitlist_accept_and_cancel_through_the_pages(trainer: User, alice: User, eve: User) -> None:
    session = make_session(trainer, capacity=1)
    for person in (alice, eve):
        ready_for_course(person)
    a, e = client_for(alice), client_for(eve)
    register = reverse("courses:register", args=[session.pk])
    assert "You are registered" in a.post(register, follow=True).content.decode()
    assert "number 1 on the waitlist" in e.post(register, follow=True).content.decode()
    seat_a, seat_e = Seat.objects.get(user=alice), Seat.objects.get(user=eve)
    # Another person's seat is not found, not merely refused.
    assert e.post(reverse("courses:cancel_seat", args=[seat_a.pk])).status_code == 404
    a.post(reverse("courses:cancel_seat", args=[seat_a.pk]))
    page = e.get(reverse("courses:session", args=[session.pk])).content.decode()
    assert "Accept the seat" in page
    e.post(reverse("courses:accept_offer", args=[seat_e.pk]))
    seat_e.refresh_from_db()
    assert seat_e.status == SeatStatus.REGISTERED
    qualification = e.get(reverse("enrollments:qualification", args=["QISP"])).content.decode()
    assert "Registered" in qualification


def test_the_roster_is_for_the_trainer_and_staff(trainer: User, alice: User, eve: User, sara: User) -> None:
    session = make_session(trainer)
    ready_for_course(alice)
    register_for_session(user=alice, session=session, now=T0)
    roster = reverse("courses:roster", args=[session.pk])
    assert client_for(eve).get(roster).status_code == 403
    assert client_for(alice).get(reverse("courses:sign_in_pdf", args=[session.pk])).status_code == 403
    page = client_for(trainer).get(roster).content.decode()
    assert alice.email in page and "once the session starts" in page
    assert client_for(sara, mfa=True).get(roster).status_code == 200
    pdf = client_for(trainer).get(reverse("courses:sign_in_pdf", args=[session.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_attendance_and_survey_through_the_pages(
    trainer: User, alice: User, survey_questions: list[SurveyQuestion]
) -> None:
    session = make_session(trainer)
    ready_for_course(alice)
    seat = register_for_session(user=alice, session=session, now=T0).seat
    with time_machine.travel(session.starts_at + timedelta(hours=3), tick=False):
        t = client_for(trainer)
        t.post(reverse("courses:roster", args=[session.pk]), {f"seat_{seat.pk}": "present"})
        seat.refresh_from_db()
        assert seat.status == SeatStatus.ATTENDED
        a = client_for(alice)
        survey = reverse("courses:survey", args=[seat.pk])
        q1, q2, q3 = survey_questions
        kept = a.post(survey, {f"q{q1.pk}": "5", f"q{q3.pk}": "Great lunch"})
        assert kept.status_code == 200
        body = kept.content.decode()
        assert "This field is required" in body and "Great lunch" in body
        done = a.post(survey, {f"q{q1.pk}": "5", f"q{q2.pk}": "4"}, follow=True)
        # The next step is named from the program's data, and the page is that program's.
        final = session.program.steps.order_by("position").last()
        assert final is not None
        assert f"Thank you for the survey. Next: {final.title}." in done.content.decode()
        assert done.redirect_chain[-1][0] == reverse("enrollments:qualification", args=[session.program.code])


def test_staff_review_plans_and_see_survey_results(trainer: User, sara: User, alice: User) -> None:
    session = make_session(trainer, day_offset=40, **VIRTUAL)
    submit_virtual_plan(session=session, actor=trainer, plan="Zoom; camera checks", now=T0)
    staff = client_for(sara, mfa=True)
    home = staff.get(reverse("staff_home")).content.decode()
    assert re.search(r'stat-value">1</span><span class="stat-label">virtual training plans to review', home)
    assert (
        "Zoom; camera checks"
        in staff.get(reverse("courses:staff_decide", args=[session.pk])).content.decode()
    )
    missing = staff.post(
        reverse("courses:staff_decide", args=[session.pk]), {"decision": "accept", "reason": ""}
    )
    assert "This field is required" in missing.content.decode()
    staff.post(reverse("courses:staff_decide", args=[session.pk]), {"decision": "accept", "reason": "Fine."})
    session.refresh_from_db()
    assert session.plan_status == PlanStatus.ACCEPTED
    assert client_for(alice).get(reverse("courses:staff_plans")).status_code == 403
    assert staff.get(reverse("courses:staff_surveys")).status_code == 200


def test_survey_results_show_averages_per_trainer(
    trainer: User, sara: User, alice: User, survey_questions: list[SurveyQuestion]
) -> None:
    from stormcert.courses.services import submit_survey

    session = make_session(trainer)
    ready_for_course(alice)
    seat = register_for_session(user=alice, session=session, now=T0).seat
    after = session.ends_at
    record_attendance(session=session, actor=trainer, marks={seat.pk: True}, now=after)
    q1, q2, _ = survey_questions
    seat.refresh_from_db()
    submit_survey(seat=seat, user=alice, answers={q1.pk: {"rating": 5}, q2.pk: {"rating": 3}}, now=after)
    page = client_for(sara, mfa=True).get(reverse("courses:staff_surveys")).content.decode()
    assert "4.0" in page and "Objectives met?" in page and "5.0" in page
    assert 'role="img"' in page


def test_attended_and_absent_people_still_count_as_registered(trainer: User, alice: User, eve: User) -> None:
    """Recording attendance turns registered seats into attended or absent ones: the teach page,
    the session page and the calendar still count them as seats taken."""
    session = make_session(trainer, capacity=24)
    seats = []
    for person in (alice, eve):
        ready_for_course(person)
        seats.append(register_for_session(user=person, session=session, now=T0).seat)
    record_attendance(
        session=session, actor=trainer, marks={seats[0].pk: True, seats[1].pk: False}, now=session.ends_at
    )
    assert session.held_seats(session.ends_at) == 2 and session.seats_left(session.ends_at) == 22
    with time_machine.travel(session.ends_at, tick=False):
        teach = client_for(trainer).get(reverse("courses:mine")).content.decode()
    past = teach.split("<h2>Past</h2>")[1].split("</tbody>")[0]
    assert "<td>2</td>" in past, past
