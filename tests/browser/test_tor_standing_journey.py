"""In Chromium (issue 16 §4): staff end a Trainer of Record's term with a reason; the ToR
certificate verifies as ended, the trainer's upcoming session lands in the staff queue, staff
cancel it there and its registrant is told by email."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Browser, expect

from conftest import enable_totp, make_person
from stormcert.accounts.models import Role
from stormcert.courses.models import CourseSession, Mode, SessionStatus
from stormcert.courses.services import publish_session, register_for_session
from stormcert.emails.models import OutboundEmail
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.programs.models import Program
from stormcert.trainers.applications import issue_term_certificate
from stormcert.trainers.models import TrainerTerm
from tests.browser.conftest import assert_accessible, signed_in
from tests.courses.conftest import ready_for_course
from tests.trainers.builders import in_standing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_term_ended_early_sends_the_session_to_staff_who_cancel_it(
    browser: Browser, live_server: object
) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    load_definition_file(DEFAULT_DEFINITION)
    now = timezone.now()
    staff = make_person(
        "sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara", last_name="Okafor"
    )
    enable_totp(staff)
    tom = in_standing(
        make_person("tom@example.com", roles=(Role.TRAINER,), first_name="Tom", last_name="Nguyen"), now
    )
    # As its callers do (approval, yearly renewal): it locks the term row, which PostgreSQL allows
    # only inside a transaction, and this browser test runs in autocommit.
    with transaction.atomic():
        certificate = issue_term_certificate(term=TrainerTerm.objects.get(user=tom), actor=None, now=now)
    alice = make_person("alice@example.com", first_name="Alice", last_name="Alvarez")
    ready_for_course(alice, now)
    program = Program.objects.get(code="QISP")
    day = timezone.localtime(now, program.zone).date() + timedelta(days=20)
    zone = program.zone
    session = publish_session(
        trainer=tom,
        program=program,
        fields={
            "title": "QISP one-day training course",
            "starts_at": datetime.combine(day, time(8), tzinfo=zone),
            "ends_at": datetime.combine(day, time(17), tzinfo=zone),
            "time_zone": "America/Los_Angeles",
            "mode": Mode.IN_PERSON,
            "venue": "Fresno Water Hall",
            "address": "1 Main St",
            "city": "Fresno",
            "meeting_details": "",
            "capacity": 10,
            "registration_deadline": datetime.combine(day - timedelta(days=3), time(0), tzinfo=zone),
            "price": None,
            "contact": "tom@example.com",
            "notes": "",
        },
        now=now,
    )
    register_for_session(user=alice, session=session, now=now)

    # Staff end Tom's term from the Trainers of Record page, giving a reason.
    sara = signed_in(browser, base, "sara@example.com", with_totp=True)
    sara.goto("/staff/tor/")
    sara.get_by_role("link", name="End term of Tom Nguyen").click()
    assert_accessible(sara)
    sara.get_by_role("button", name="End the term").click()
    expect(sara.get_by_text("Please correct the 1 field marked below.")).to_be_visible()
    sara.get_by_label("Reason").fill("Did not keep the Compliance Agreement.")
    sara.get_by_role("button", name="End the term").click()

    # His session is now in the staff queue, with why.
    expect(sara.get_by_text("Tom Nguyen's term ended")).to_be_visible()
    expect(sara.get_by_role("heading", name="Sessions without a trainer in standing")).to_be_visible()
    expect(sara.get_by_text("Did not keep the Compliance Agreement").first).to_be_visible()
    assert_accessible(sara)
    sara.goto("/staff/")
    expect(sara.get_by_role("link", name="1 sessions whose trainer lost standing")).to_be_visible()
    sara.get_by_role("link", name="1 sessions whose trainer lost standing").click()
    sara.get_by_role("link", name=f"Reassign or cancel the session of {session.day_text}").click()
    assert_accessible(sara)
    expect(sara.get_by_text("No other Trainer of Record is in standing today.")).to_be_visible()
    sara.get_by_label("Reason").fill("The trainer can no longer teach this course.")
    sara.get_by_role("button", name="Cancel the session").click()
    expect(sara.get_by_text("The session is cancelled and its registrants have been told.")).to_be_visible()
    expect(sara.get_by_text("None: every upcoming session has a trainer in standing.")).to_be_visible()

    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    email = OutboundEmail.objects.get(template="courses/email/session_cancelled")
    assert (
        email.to == "alice@example.com" and "The trainer can no longer teach this course." in email.body_text
    )

    # Anyone verifying the ToR certificate sees that it ended, when and why.
    visitor = browser.new_context(base_url=base).new_page()
    visitor.goto(f"/verify/{certificate.number}/")
    expect(visitor.get_by_role("status")).to_contain_text("Ended")
    expect(visitor.get_by_role("status")).to_contain_text("Did not keep the Compliance Agreement.")
    assert_accessible(visitor)
    # Tom is told why he cannot manage his sessions any more.
    tom_page = signed_in(browser, base, "tom@example.com")
    tom_page.goto("/teach/")
    expect(tom_page.get_by_text("Did not keep the Compliance Agreement").first).to_be_visible()
    assert not CourseSession.objects.filter(trainer=tom, status=SessionStatus.SCHEDULED).exists()
