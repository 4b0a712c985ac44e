"""Staff sign in with two-factor in a real browser; every page they and candidates use passes axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD, enable_totp, make_person, totp_code
from stormcert.accounts.models import Role
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.browser.conftest import assert_accessible, enter_totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign In").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def test_staff_sign_in_with_a_code_and_use_the_back_office(page: Page) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    staff = make_person("sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara")
    enable_totp(staff)
    make_person("alice@example.com", first_name="Alice")

    sign_in(page, "sara@example.com")
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Code").fill("000000" if totp_code() != "000000" else "111111")
    page.locator("main").get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    enter_totp(page)

    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page.get_by_role("heading", name="Staff home")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    page.get_by_label("What").select_option("programs.definition_loaded")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("1 event", exact=True)).to_be_visible()
    assert_accessible(page)
    page.goto("/staff/outbox/")
    expect(page.get_by_role("heading", name="Email outbox")).to_be_visible()
    assert_accessible(page)


def test_profile_errors_are_announced_and_pass_axe(page: Page) -> None:
    make_person("alice@example.com", first_name="Alice")
    sign_in(page, "alice@example.com")
    page.locator("summary", has_text="account menu").click()
    page.get_by_role("link", name="Profile", exact=True).click()
    page.get_by_role("textbox", name="Phone").fill("call me")
    page.get_by_role("textbox", name="Company").fill("Bayside Metal Finishing")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the 1 field marked below.")
    expect(page.get_by_role("textbox", name="Company")).to_have_value("Bayside Metal Finishing")
    expect(page.get_by_role("textbox", name="Phone")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    page.get_by_role("textbox", name="Phone").fill("(510) 555-0134")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()


def test_new_staff_member_is_made_to_set_up_two_factor(page: Page) -> None:
    make_person("new@example.com", roles=(Role.STAFF,), staff=True)
    sign_in(page, "new@example.com")
    page.goto("/staff/")
    expect(page.get_by_text("Staff accounts must use two-factor authentication.")).to_be_visible()
    # allauth asks for the password again before changing two-factor settings.
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    assert_accessible(page)
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.locator("main").get_by_role("button", name="Activate").click()
    page.goto("/staff/")
    expect(page.get_by_role("heading", name="Staff home")).to_be_visible()
