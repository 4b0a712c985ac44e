"""In Chromium: staff open a cycle, an applicant submits an SOQ with a PDF, two reviewers score
it, staff select, the applicant signs the agreement, staff approve, and the new ToR publishes a
session."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Browser, expect

from conftest import enable_totp, make_person
from stormcert.accounts.models import Role
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.trainers.applications import send_notices
from stormcert.trainers.models import Application, ApplicationStatus
from tests.browser.conftest import assert_accessible, signed_in
from tests.trainers.builders import PDF, agreement, qisp, reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_from_rfq_to_a_published_session(browser: Browser, live_server: object, tmp_path: Path) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    load_definition_file(DEFAULT_DEFINITION)
    agreement()
    staff = make_person(
        "sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara", last_name="Okafor"
    )
    enable_totp(staff)
    qisp(make_person("ana@example.com", first_name="Ana", last_name="Reyes"))
    for email in ("rev1@example.com", "rev2@example.com"):
        reviewer(make_person(email, first_name=email[:4].title(), last_name="Reviewer"))
    now = timezone.now()

    # Staff open the cycle.
    sara = signed_in(browser, base, "sara@example.com", with_totp=True)
    sara.goto("/staff/tor/")
    sara.get_by_role("link", name="Open an application cycle").click()
    assert_accessible(sara)
    sara.get_by_label("Request for Qualifications").fill(
        "QISPs with teaching experience are invited to apply."
    )
    sara.get_by_label("Opens").fill(local(now - timedelta(hours=1)))
    sara.get_by_label("Closes (deadline)").fill(local(now + timedelta(days=2)))
    sara.get_by_label("Selection notice date").fill(
        (timezone.localtime(now) + timedelta(days=5)).date().isoformat()
    )
    sara.get_by_role("button", name="Open the cycle").click()
    expect(sara.get_by_text("The application cycle is set up.")).to_be_visible()

    # The applicant pays, uploads a PDF, answers and submits.
    ana = signed_in(browser, base, "ana@example.com")
    ana.goto("/tor/")
    assert_accessible(ana)
    ana.get_by_role("button", name="Apply: start my Statement of Qualifications").click()
    ana.get_by_role("button", name="Pay $300.00").click()
    ana.get_by_role("button", name="Pay $300.00 by card (test mode)").click()
    ana.get_by_role("button", name="Approve test payment").click()
    expect(ana.get_by_text("Payment received. Thank you!")).to_be_visible()
    ana.goto("/tor/IGP-TOR/application/")
    resume = tmp_path / "ana-resume.pdf"
    resume.write_bytes(PDF)
    ana.get_by_label("What it is").fill("Résumé")
    ana.get_by_label("PDF file").set_input_files(str(resume))
    ana.get_by_role("button", name="Upload").click()
    expect(ana.get_by_text("Document added.")).to_be_visible()
    ana.get_by_label("Industrial stormwater experience").fill("Ten years of SWPPP work at recyclers.")
    ana.get_by_label("Training and teaching experience").fill("Community college stormwater course.")
    ana.get_by_label("Where you would teach").fill("Fresno, Bakersfield")
    ana.get_by_label("In person and virtual").check()
    assert_accessible(ana)
    ana.get_by_role("button", name="Submit my statement").click()
    expect(ana.get_by_text("Your Statement of Qualifications is submitted.")).to_be_visible()
    application = Application.objects.get()

    # Sessions last 12 hours: after each jump in time, people sign in again.
    sara.context.close()
    ana.context.close()
    with time_machine.travel(now + timedelta(days=2, hours=1), tick=True):
        # Staff assign two reviewers; each declares no conflict and scores.
        sara = signed_in(browser, base, "sara@example.com", with_totp=True)
        sara.goto(f"/staff/tor/applications/{application.pk}/")
        for name, email in (("Rev1 Reviewer", "rev1@example.com"), ("Rev2 Reviewer", "rev2@example.com")):
            sara.get_by_label("Reviewer").select_option(label=f"{name} ({email})")
            sara.get_by_role("button", name="Assign").click()
            expect(sara.get_by_text(f"{name} will review this statement.")).to_be_visible()
        for email, marks in (("rev1@example.com", "5"), ("rev2@example.com", "3")):
            rev = signed_in(browser, base, email)
            rev.get_by_role("link", name="Reviews").click()
            rev.get_by_role("link", name="Ana Reyes").click()
            rev.get_by_label("No", exact=True).check()
            rev.get_by_role("button", name="Continue").click()
            assert_accessible(rev)
            for field in rev.get_by_role("spinbutton").all():
                field.fill(marks)
            rev.get_by_role("button", name="Submit my scores").click()
            expect(rev.get_by_text("Scores submitted. Thank you.")).to_be_visible()
            rev.context.close()
        # Staff see the scores side by side and select.
        sara.goto(f"/staff/tor/cycles/{application.cycle_id}/")
        expect(sara.locator("tbody")).to_contain_text("80.0")
        assert_accessible(sara)
        sara.get_by_role("link", name="Ana Reyes").click()
        sara.get_by_label("Select", exact=True).check()
        sara.get_by_label("Reason").first.fill("Highest average score.")
        sara.get_by_role("button", name="Save the decision").click()
        expect(sara.get_by_text("Decision saved.")).to_be_visible()

        sara.context.close()
    with time_machine.travel(now + timedelta(days=5, hours=1), tick=True):
        send_notices()  # what `manage.py tick` does on the notice date
        application.refresh_from_db()
        assert application.status == ApplicationStatus.SELECTED and application.notified_at
        ana = signed_in(browser, base, "ana@example.com")
        ana.goto("/tor/")
        expect(ana.get_by_role("heading", name="You were selected: your next steps")).to_be_visible()
        ana.get_by_label("I viewed the recording").check()
        ana.get_by_role("button", name="Record").click()
        ana.get_by_role("button", name="Confirm I have read it").click()
        ana.get_by_role("link", name=re.compile("read and sign")).click()
        assert_accessible(ana)
        ana.get_by_label("Type your full name to sign").fill("Ana Reyes")
        ana.get_by_label("I have read the Compliance Agreement and agree to it.").check()
        ana.get_by_role("button", name="Sign the agreement").click()
        expect(ana.get_by_text("All done: program staff will approve you")).to_be_visible()

        sara = signed_in(browser, base, "sara@example.com", with_totp=True)
        sara.goto(f"/staff/tor/applications/{application.pk}/")
        sara.get_by_label("Reason").fill("Orientation, course information and agreement done.")
        sara.get_by_role("button", name="Approve and issue the ToR certificate").click()
        expect(sara.get_by_text("Approved: the ToR certificate is issued")).to_be_visible()

        # The new ToR is listed publicly and publishes a session.
        ana.goto("/trainers/")
        expect(ana.locator("tbody")).to_contain_text("Ana Reyes")
        assert_accessible(ana)
        ana.get_by_role("link", name="Teach").click()
        ana.get_by_role("link", name="Publish a session").click()
        day = timezone.localtime(timezone.now()).date() + timedelta(days=20)
        ana.get_by_label("Date").fill(day.isoformat())
        ana.get_by_label("Starts at").fill("08:00")
        ana.get_by_label("Ends at").fill("17:00")
        ana.get_by_label("Venue").fill("Fresno Water Hall")
        ana.get_by_label("City").fill("Fresno")
        ana.get_by_label("Seats").fill("20")
        ana.get_by_label("Registration closes").fill((day - timedelta(days=3)).isoformat())
        ana.get_by_role("button", name="Publish").click()
        expect(ana.get_by_text("Published on the course calendar.")).to_be_visible()
