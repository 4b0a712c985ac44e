"""Issue 22 in Chromium: a new candidate and a QISP due for renewal each start at the dashboard and
reach their next task by following only links and buttons on the pages. Each dashboard is kept as a
screenshot (/tmp/guide-*.png) to be looked at; every page on the way passes axe."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD, enable_totp, make_person
from stormcert.accounts.models import Role
from stormcert.core.demo.training import load_demo_content
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.programs.rules import program_today
from tests.browser.conftest import assert_accessible, enter_totp
from tests.renewals.builders import holder_until, make_review, qisp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Where the dashboards are kept for a person to look at (the brief of issue 22 names /tmp).
SHOTS = Path("/tmp")  # noqa: S108


def sign_in(page: Page, email: str, *, with_totp: bool = False) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign In").click()
    if with_totp:
        enter_totp(page)
    expect(page).to_have_url("/dashboard/")


def test_a_new_candidate_follows_links_from_the_dashboard_to_the_training(
    page: Page, live_server: Any
) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    load_demo_content()
    make_person("rosa@example.com", first_name="Rosa", last_name="Diaz")
    sign_in(page, "rosa@example.com")

    expect(page.get_by_role("heading", name="Programs you may start")).to_be_visible()
    expect(page.get_by_role("heading", name="What you hold")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "guide-new-candidate.png"), full_page=True)
    assert_accessible(page)

    page.get_by_role("link", name="Qualified Industrial Stormwater Practitioner").click()
    expect(page.get_by_role("heading", name="Now: Read the IGP and the SMARTS guides")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("I have read the documents listed for this step.").check()
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("link", name="Start the questionnaire").click()
    for question in page.locator("fieldset").all():
        question.get_by_role("radio").first.check()
    page.get_by_role("button", name="See my estimate").click()
    page.get_by_role("button", name="Register: $505.00").click()
    page.get_by_role("button", name="Pay $505.00 by card (test mode)").click()
    page.get_by_role("button", name="Approve test payment").click()
    expect(page.get_by_text("Payment received.")).to_be_visible()
    # The paid order names what it opened and links there.
    next_step = page.get_by_role("region", name="Next")
    expect(next_step).to_contain_text("Your registration is paid: QISP Online Training is open.")
    assert_accessible(page)
    next_step.get_by_role("link", name="Start QISP Online Training").click()
    expect(page.get_by_role("heading", name="QISP Online Training")).to_be_visible()

    # Back on the dashboard, the training is what Rosa is working on.
    page.get_by_role("link", name="Dashboard", exact=True).first.click()
    working = page.get_by_role("region", name="What you are working on")
    expect(working).to_contain_text("Online training")
    page.screenshot(path=str(SHOTS / "guide-new-candidate-registered.png"), full_page=True)
    assert_accessible(page)
    # The card's button is the next task itself.
    working.get_by_role("link", name="Start QISP Online Training").click()
    expect(page.get_by_role("heading", name="QISP Online Training")).to_be_visible()
    assert_accessible(page)


def test_a_qisp_due_for_renewal_is_led_from_the_dashboard_to_the_renewal(
    page: Page, live_server: Any
) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    make_review(title="Module 5 – Sufficiently Sensitive Methods, TMDLs, and Compliance Options")
    quinn = make_person("quinn@example.com", first_name="Quinn", last_name="Ortega")
    certificate = holder_until(quinn, program_today(qisp()) + timedelta(days=45))
    sign_in(page, "quinn@example.com")

    held = page.get_by_role("region", name="What you hold")
    expect(held).to_contain_text(certificate.number)
    expect(held).to_contain_text("Renewal fee today")
    expect(held).to_contain_text("$220.00")
    expect(held).to_contain_text("Next: renew.")
    expect(page.get_by_text("Read the IGP and the SMARTS guides")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "guide-qisp-renewal.png"), full_page=True)
    assert_accessible(page)

    # The Qualification page does not start Quinn over either.
    page.get_by_role("link", name="Qualification", exact=True).first.click()
    expect(page.get_by_text(f"You are qualified: certificate {certificate.number}")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "guide-qisp-qualification.png"), full_page=True)
    assert_accessible(page)

    page.get_by_role("link", name="Dashboard", exact=True).first.click()
    held.get_by_role("link", name="Renew your QISP certificate").click()
    expect(page.get_by_role("heading", name="Renew your certificate")).to_be_visible()
    expect(page.get_by_role("link", name="Open the review module")).to_be_visible()

    # Help is one link away from any page: the FAQ and the program office's address.
    page.get_by_role("contentinfo").get_by_role("link", name="Help and FAQ").click()
    expect(page.get_by_role("heading", name="Contact the program office")).to_be_visible()
    expect(page.get_by_role("link", name="casqa@casqa.org").first).to_be_visible()
    page.get_by_text("How do I renew my QISP certificate?").click()
    expect(page.get_by_text("$220 on or before the expiration date")).to_be_visible()
    page.screenshot(path=str(SHOTS / "guide-help.png"), full_page=True)
    assert_accessible(page)


def test_staff_and_a_tor_dashboards(page: Page, live_server: Any) -> None:
    """A ToR sees their term and what is due before June 30; screenshots for review."""
    from django.utils import timezone

    from tests.trainers.builders import in_standing

    load_definition_file(DEFAULT_DEFINITION)
    tom = make_person("tom@example.com", first_name="Tom", last_name="Nguyen")
    in_standing(tom, timezone.now())
    sign_in(page, "tom@example.com")
    held = page.get_by_role("region", name="What you hold")
    expect(held).to_contain_text("Industrial General Permit Trainer of Record")
    expect(held).to_contain_text("Due by")
    page.screenshot(path=str(SHOTS / "guide-tor.png"), full_page=True)
    assert_accessible(page)
    held.get_by_role("link", name="Your IGP ToR page").click()
    expect(page).to_have_url("/tor/IGP-TOR/")


def test_staff_are_led_to_their_queues(page: Page, live_server: Any) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    sara = make_person(
        "sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara", last_name="Okafor"
    )
    enable_totp(sara)
    sign_in(page, "sara@example.com", with_totp=True)
    staff = page.get_by_role("region", name="Your staff work")
    expect(staff).to_be_visible()
    expect(page.get_by_text("Read the IGP and the SMARTS guides")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "guide-staff.png"), full_page=True)
    assert_accessible(page)
    staff.get_by_role("link", name="Open the staff queues").click()
    expect(page).to_have_url("/staff/")
