"""A person signs up, verifies the email from the outbox, signs in and sees the dashboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from stormcert.emails.models import OutboundEmail
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_verify_sign_in_and_see_the_dashboard(page: Page) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("link", name="Create your account").click()
    expect(page.get_by_role("heading", name="Sign Up")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("First name").fill("Maria")
    page.get_by_label("Last name").fill("Lopez")
    page.get_by_label("Email").fill("maria@example.com")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password (again)").fill("short")
    page.get_by_role("button", name="Sign Up").click()
    # A weak password is explained, and what was typed is still there.
    expect(page.get_by_text("This password is too short.")).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Maria")
    expect(page.get_by_label("Email")).to_have_value("maria@example.com")
    assert_accessible(page)

    page.get_by_label("Password", exact=True).fill("tidewater-basin-2026")
    page.get_by_label("Password (again)").fill("tidewater-basin-2026")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    message = OutboundEmail.objects.get(to="maria@example.com")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", message.body_text)
    assert link is not None
    page.goto(link.group(0))
    page.get_by_role("button", name="Confirm").click()

    # Confirmed in the browser that signed up: signed in at once, no second sign-in.
    expect(page.get_by_role("heading", name="Welcome, Maria")).to_be_visible()
    expect(page.get_by_text("verified", exact=True)).to_be_visible()
    assert_accessible(page)

    # Keyboard: the skip link is the first stop and moves focus to the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
