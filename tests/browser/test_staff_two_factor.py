"""A staff account whose session never gave its authenticator code has no staff powers: in a real
browser it sees no Staff link, and the staff pages ask for the code, then open."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, expect

from conftest import client_for, enable_totp, make_person, totp_code
from stormcert.accounts.models import Role
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_session_without_the_code_is_asked_for_it_on_staff_pages(
    browser: Browser, live_server: Any
) -> None:
    staff = make_person("stan@example.com", roles=(Role.STAFF,), staff=True, first_name="Stan")
    enable_totp(staff)
    # A session opened without the code (the sign-in form would have asked for it).
    session_id = client_for(staff).cookies[settings.SESSION_COOKIE_NAME].value
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto("/dashboard/")
        expect(page.get_by_role("link", name="Staff", exact=True)).to_have_count(0)

        page.goto("/staff/audit/")
        expect(page).to_have_url(f"{live_server.url}/accounts/2fa/reauthenticate/?next=%2Fstaff%2Faudit%2F")
        expect(page.get_by_text("Enter the code from your authenticator app")).to_be_visible()
        assert_accessible(page)
        page.locator("main").get_by_role("textbox").fill(totp_code())
        page.locator("main").get_by_role("button", name="Confirm").click()
        expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
        expect(page.get_by_role("link", name="Staff", exact=True)).to_be_visible()
    finally:
        context.close()
