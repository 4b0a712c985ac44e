"""In Chromium: staff assign reviewers to a whole cycle (preview, then confirm with a reason), and
a Trainer of Record opens the program's course information, which records it as read; every page
on the way has zero axe violations, the public fees and renewal steps included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from conftest import enable_totp, make_person
from stormcert.accounts.models import Role
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.trainers.models import ContentCompletion, ReviewAssignment, TrainerContent
from tests.browser.conftest import assert_accessible, signed_in
from tests.trainers.builders import in_standing, make_cycle, qisp, reviewer, submitted, tor_program

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bulk_assignment_and_course_information(browser: Browser, live_server: object) -> None:
    base = str(live_server.url)  # type: ignore[attr-defined]
    load_definition_file(DEFAULT_DEFINITION)
    now = timezone.now()
    staff = make_person(
        "sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara", last_name="Okafor"
    )
    enable_totp(staff)
    cycle = make_cycle(
        staff,
        opens_at=now - timedelta(days=3),
        closes_at=now + timedelta(days=10),
        notice_on=(timezone.localtime(now) + timedelta(days=20)).date(),
        now=now - timedelta(days=4),
    )
    for name in ("Ana", "Ben"):
        person = qisp(make_person(f"{name.lower()}@example.com", first_name=name, last_name="Applicant"))
        submitted(person, cycle, when=now - timedelta(days=1))
    for n in range(3):
        reviewer(make_person(f"rev{n}@example.com", first_name=f"Rev{n}", last_name="Reviewer"))
    tom = make_person("tom@example.com", roles=(Role.TRAINER,), first_name="Tom", last_name="Nguyen")
    in_standing(tom, now)
    info = TrainerContent.objects.create(
        program=tor_program(),
        kind="course_information",
        title="QISP course outline and trainer guide",
        body="## The course\n\nEight units, in order.",
        effective_from=(now - timedelta(days=30)).date(),
    )

    # The public page states the fees and the yearly renewal steps.
    visitor = browser.new_context(base_url=base).new_page()
    visitor.goto("/tor/IGP-TOR/")
    expect(visitor.get_by_role("heading", name="Fees and the yearly renewal")).to_be_visible()
    expect(visitor.get_by_text("IGP Trainer of Record late fee")).to_be_visible()
    assert_accessible(visitor)

    # Staff preview a balanced assignment, then confirm it with a reason.
    sara = signed_in(browser, base, "sara@example.com", with_totp=True)
    sara.goto("/staff/")
    expect(sara.get_by_text("ToR renewals to confirm")).to_be_visible()
    assert_accessible(sara)
    sara.goto(f"/staff/tor/cycles/{cycle.pk}/")
    sara.get_by_role("link", name="Assign reviewers to every statement").click()
    assert_accessible(sara)
    sara.get_by_label("Balanced: reviewers with the fewest assignments in this cycle first").check()
    sara.get_by_label("Reason").fill("Spring round: two reviewers each")
    sara.get_by_role("button", name="Preview").click()
    expect(sara.get_by_role("heading", name="Preview")).to_be_visible()
    assert ReviewAssignment.objects.count() == 0
    assert_accessible(sara)
    sara.get_by_role("button", name="Confirm these 4 assignments").click()
    expect(sara.get_by_text("4 assignments made to 2 statements.")).to_be_visible()
    assert ReviewAssignment.objects.count() == 4
    assert_accessible(sara)
    sara.goto(f"/staff/tor/content/{info.pk}/")
    assert_accessible(sara)
    # The ToR list, with its send-the-fee-notice-now form opened.
    sara.goto("/staff/tor/")
    sara.get_by_text("Send the yearly fee notice now").click()
    sara.get_by_label("Reason").last.fill("Asked by phone")
    assert_accessible(sara)
    sara.get_by_role("button", name="Send the fee notice to Tom Nguyen").click()
    expect(sara.get_by_text("The yearly fee notice is on its way to Tom Nguyen")).to_be_visible()

    # The ToR opens the course information from their page: it is recorded as read.
    trainer = signed_in(browser, base, "tom@example.com")
    trainer.goto("/tor/IGP-TOR/")
    expect(trainer.get_by_role("heading", name="Program content")).to_be_visible()
    assert_accessible(trainer)
    trainer.get_by_role("link", name="QISP course outline and trainer guide").click()
    expect(trainer.get_by_text("Eight units, in order.")).to_be_visible()
    expect(trainer.get_by_text("Completed on")).to_be_visible()
    assert_accessible(trainer)
    assert ContentCompletion.objects.filter(user=tom, content=info, how="read").exists()
    trainer.goto("/tor/IGP-TOR/")
    expect(trainer.locator(".badge", has_text="completed")).to_be_visible()
