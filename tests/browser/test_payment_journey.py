"""A candidate pays in test mode and sees the receipt; staff record a check and a refund."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD, enable_totp, make_person
from stormcert.accounts.models import Role
from stormcert.emails.models import OutboundEmail
from stormcert.payments.models import Order, OrderStatus
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.browser.conftest import assert_accessible, enter_totp
from tests.payments.conftest import make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, email: str, with_totp: bool = False) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign In").click()
    if with_totp:
        enter_totp(page)
    expect(page).not_to_have_url(re.compile(r"/accounts/(login|2fa)/"))


def test_candidate_pays_in_test_mode_and_staff_refund(page: Page) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    alice = make_person("alice@example.com", first_name="Alice", last_name="Alvarez")
    order = make_order(alice)

    sign_in(page, "alice@example.com")
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=order.number).click()
    assert_accessible(page)
    page.get_by_role("button", name="Pay $505.00 by card (test mode)").click()
    expect(page.get_by_text("TEST MODE")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Approve test payment").click()
    expect(page.get_by_text("Payment received. Thank you!")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_contain_text("Paid")
    page.get_by_role("link", name="View receipt").click()
    expect(page.get_by_role("heading", name="Receipt")).to_be_visible()
    expect(page.locator("article")).to_contain_text("$505.00")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"receipt-{order.number}.pdf"
    assert OutboundEmail.objects.filter(
        to="alice@example.com", subject=f"Payment received for order {order.number}"
    ).exists()

    # A second order, paid by check: staff record it, then refund part of the card payment.
    check_order = make_order(alice)
    page.goto(f"/orders/{check_order.number}/")
    page.get_by_role("button", name="Pay by check or purchase order").click()
    expect(page.get_by_text("Awaiting your check or purchase order.")).to_be_visible()

    staff = make_person("sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara")
    enable_totp(staff)
    page.context.clear_cookies()
    sign_in(page, "sara@example.com", with_totp=True)
    page.goto("/staff/orders/?status=pending")
    page.get_by_role("link", name=check_order.number).click()
    page.get_by_label("Check number or PO reference").fill("CHK-5521")
    page.get_by_label("Received on").fill("2026-11-20")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator(".error").first).to_contain_text("This field is required.")  # the reason
    expect(page.get_by_label("Check number or PO reference")).to_have_value("CHK-5521")
    page.get_by_label("Reason / note").fill("Check arrived by mail")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text("Payment CHK-5521 recorded.")).to_be_visible()
    assert_accessible(page)
    assert Order.objects.get(pk=check_order.pk).status == OrderStatus.PAID

    page.goto(f"/staff/orders/{order.number}/")
    page.get_by_label("Amount to refund ($)").fill("100.00")
    page.get_by_label("Reason", exact=True).fill("Goodwill after a scheduling problem")
    page.get_by_role("button", name="Refund").click()
    expect(page.get_by_text("Refunded $100.00.")).to_be_visible()
    assert Order.objects.get(pk=order.pk).net_paid() == 405
