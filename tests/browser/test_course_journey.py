"""In Chromium: a ToR publishes a session, one candidate registers, another is waitlisted and
promoted after a cancellation, the ToR records attendance, the candidate answers the survey and
sees the final exam unlocked."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import PASSWORD, make_person
from stormcert.core.demo.courses import QUESTIONS
from stormcert.core.demo.exams import load_demo_exams
from stormcert.courses.models import CourseSession, SeatStatus, SurveyQuestion
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.programs.models import Program
from tests.browser.conftest import assert_accessible
from tests.courses.conftest import ready_for_course
from tests.trainers.builders import in_standing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign In").click()
    expect(page.locator("summary .avatar")).to_be_visible()


def test_publish_register_waitlist_attend_and_survey(page: Page) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    load_demo_exams()
    program = Program.objects.get(code="QISP")
    for position, (text, kind, required) in enumerate(QUESTIONS, start=1):
        SurveyQuestion.objects.create(
            program=program, position=position, text=text, kind=kind, required=required
        )
    tom = make_person("tom@example.com", first_name="Tom", last_name="Nguyen")
    now = timezone.now()
    in_standing(tom, now)
    for email, name in (("bob@example.com", "Bob"), ("carol@example.com", "Carol")):
        ready_for_course(make_person(email, first_name=name, last_name="Candidate"), now)
    day = timezone.localtime(now, program.zone).date() + timedelta(days=10)

    # The trainer publishes a one-seat session; a mistake is shown and the typing kept.
    sign_in(page, "tom@example.com")
    page.get_by_role("link", name="Teach").click()
    page.get_by_role("link", name="Publish a session").click()
    assert_accessible(page)
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Starts at").fill("08:00")
    page.get_by_label("Ends at").fill("17:00")
    page.get_by_label("Venue").fill("Fresno Water Hall")
    page.get_by_label("Seats").fill("1")
    page.get_by_label("Registration closes").fill((day - timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#id_city_error")).to_have_text("Needed for an in-person session.")
    expect(page.get_by_label("Venue")).to_have_value("Fresno Water Hall")
    page.get_by_label("City").fill("Fresno")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published on the course calendar.")).to_be_visible()
    session = CourseSession.objects.get()

    # Bob registers from the calendar.
    sign_in(page, "bob@example.com")
    page.get_by_role("link", name="Course calendar").click()
    page.get_by_label("City").select_option("Fresno")
    page.get_by_role("button", name="Show sessions").click()
    assert_accessible(page)
    page.locator("tbody a").first.click()
    page.get_by_role("button", name="Register for this session").click()
    expect(page.get_by_text("You are registered.")).to_be_visible()
    assert_accessible(page)

    # Carol finds it full and joins the waitlist.
    sign_in(page, "carol@example.com")
    page.goto(f"/courses/{session.pk}/")
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.get_by_text("The session is full: you are number 1 on the waitlist")).to_be_visible()

    # Bob cancels; Carol is offered the seat and takes it.
    sign_in(page, "bob@example.com")
    page.goto(f"/courses/{session.pk}/")
    page.get_by_role("button", name="Cancel my place").click()
    expect(page.get_by_text("Your place is cancelled.")).to_be_visible()
    sign_in(page, "carol@example.com")
    page.goto("/qualification/")
    page.get_by_role("link", name="Accept the seat offered to you").click()
    page.get_by_role("button", name="Accept the seat").click()
    expect(page.get_by_text("The seat is yours.")).to_be_visible()
    assert session.seats.get(user__email="carol@example.com").status == SeatStatus.REGISTERED

    with time_machine.travel(session.starts_at + timedelta(hours=3), tick=True):
        # The trainer records attendance during the session.
        sign_in(page, "tom@example.com")
        page.goto(f"/teach/{session.pk}/roster/")
        assert_accessible(page)
        page.get_by_role("radio", name="Present").check()
        page.get_by_role("button", name="Save attendance").click()
        expect(page.get_by_text("Attendance saved.")).to_be_visible()

        # Carol answers the survey and the final exam opens.
        sign_in(page, "carol@example.com")
        page.goto("/qualification/")
        page.get_by_role("link", name="Answer the course survey").click()
        assert_accessible(page)
        for text, _kind, _required in QUESTIONS[:4]:
            page.get_by_role("group", name=text).get_by_label("5 Excellent").check()
        page.get_by_label(QUESTIONS[4][0]).fill("More case studies from the Central Valley, please.")
        page.get_by_role("button", name="Send my answers").click()
        expect(page.get_by_text("Thank you for the survey. Next: Final exam.")).to_be_visible()
        expect(page.get_by_role("heading", name="Now: Final exam")).to_be_visible()
        expect(page.get_by_role("link", name="Go to the final exam")).to_be_visible()
