"""A person who got the password wrong too often is told password sign-in is paused, takes the
one-time code the page offers from their email, and is in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import make_person
from stormcert.emails.models import OutboundEmail
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_paused_password_sign_in_offers_a_code_that_signs_in(page: Page) -> None:
    make_person("maria@example.com", first_name="Maria", last_name="Lopez")
    page.goto("/accounts/login/")
    main = page.locator("main")
    for attempt in range(5):
        page.get_by_label("Email").fill("maria@example.com")
        page.get_by_label("Password").fill(f"not-my-password-{attempt}")
        main.get_by_role("button", name="Sign In").click()
        expect(
            page.get_by_text("The email address and/or password you specified are not correct.")
        ).to_be_visible()

    page.get_by_label("Password").fill("not-my-password-5")
    main.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("Signing in with a password is paused for a while.", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in with a one-time code")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Email me a sign-in code").click()
    expect(page.get_by_role("heading", name="Enter Sign-In Code")).to_be_visible()
    expect(page.get_by_text("A sign-in code has been sent to maria@example.com.")).to_be_visible()
    assert_accessible(page)

    message = OutboundEmail.objects.get(to="maria@example.com")
    code = re.search(r"sign in to stormcert:\s+(\S+)", message.body_text)
    assert code is not None
    page.get_by_label("Code").fill(code.group(1))
    main.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Welcome, Maria")).to_be_visible()
