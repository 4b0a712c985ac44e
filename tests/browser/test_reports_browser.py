"""Staff open the reports over the demo data in Chromium: a chart in every section, no axe
violations, and a CSV that downloads."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from conftest import totp_code
from stormcert.core.management.commands.demo_data import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECTIONS = ["enrollments", "pass-rates", "time-to-qualify", "revenue", "trainers", "expiring"]


def sign_in_as_demo_staff(page: Page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("sara@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="Sign In").click()
    page.get_by_label("Code").fill(totp_code(DEMO_TOTP_SECRET))
    page.locator("main").get_by_role("button", name="Sign In").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/"))


def test_reports_over_the_demo_data(page: Page) -> None:
    call_command("demo_data", verbosity=0)
    sign_in_as_demo_staff(page)

    page.goto("/staff/reports/")
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    for section in SECTIONS:
        chart = page.locator(f"#{section} figure.report-chart svg[role=img]")
        expect(chart).to_have_count(1)
        expect(chart).to_be_visible()
        assert chart.bounding_box()["height"] > 150  # type: ignore[index]
    expect(page.get_by_text("No data in this period.")).to_have_count(0)
    assert_accessible(page)

    with page.expect_download() as info:
        page.locator("#revenue").get_by_role("link", name=re.compile("Download CSV")).click()
    download = info.value
    assert re.fullmatch(r"revenue-\d{4}-\d{2}-01-to-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    text = download.path().read_text(encoding="utf-8")
    assert text.startswith("month,program,fee_code,fee,amount") and ",refunds,Refunds,-505.00" in text

    # A period the wrong way round: the error is announced and what was typed stays.
    page.get_by_label("From", exact=True).fill("2026-06-01")
    page.get_by_label("To", exact=True).fill("2026-05-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The end date must be on or after the start date.")).to_be_visible()
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-06-01")
    assert_accessible(page)
