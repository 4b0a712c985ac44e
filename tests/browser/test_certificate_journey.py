"""In Chromium: a candidate passes the final, downloads the PDF certificate (rendered to PNG
and kept in test-artifacts/), scans its QR code, opens the verification page and finds
themselves in the public directory. Every page on the way passes axe."""

from __future__ import annotations

from typing import Any

import pypdfium2
import pytest
import zxingcpp
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import PASSWORD, make_person
from stormcert.certificates.models import Certificate
from stormcert.core.demo.exams import load_demo_exams
from stormcert.exams.models import Attempt
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.browser.conftest import ARTIFACTS, assert_accessible
from tests.enrollments.builders import done
from tests.exams.conftest import ready_for_midterm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pass_the_final_download_scan_verify_and_find_yourself(
    page: Page, live_server: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url  # the QR code must lead to this server
    load_definition_file(DEFAULT_DEFINITION)
    load_demo_exams()
    alice = make_person("alice@example.com", first_name="Alice", last_name="Alvarez")
    now = timezone.now()
    enrollment = ready_for_midterm(alice, now)
    for code in ("midterm", "course", "survey"):
        done(enrollment, code, now)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign In").click()
    page.goto("/qualification/")
    page.get_by_role("link", name="Go to the final exam").click()
    page.get_by_role("button", name="Start the final exam").click()
    attempt = Attempt.objects.get()
    for item in attempt.items.select_related("question"):
        page.locator(f"#q{item.position}-{item.choice_order.index(item.question.correct)}").check()
    expect(page.locator("#save-state")).to_contain_text("All answers saved at", timeout=20_000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Submit the exam").click()
    expect(page.get_by_role("heading", name="Your score: 100.00%")).to_be_visible()

    certificate = Certificate.objects.get(holder=alice)
    # Issue 22: the result page leads to the certificate: PDF, credential, directory entry, sharing.
    expect(page.get_by_role("heading", name=f"Your certificate {certificate.number}")).to_be_visible()
    expect(page.get_by_role("link", name="Your directory entry (public verification page)")).to_be_visible()
    assert_accessible(page)
    page.goto("/qualification/")
    expect(page.get_by_text(f"Your certificate number is {certificate.number}")).to_be_visible()
    page.get_by_role("link", name="Your certificate: PDF, digital credential and directory entry").click()
    expect(page.get_by_role("heading", name="Qualified Industrial Stormwater Practitioner")).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Download the certificate (PDF) {certificate.number}").click()
    pdf = download_info.value.path().read_bytes()
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=2).to_pil()
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / "certificate-page-1.png")
    scanned = [r.text for r in zxingcpp.read_barcodes(image)]
    assert scanned == [f"{live_server.url}/verify/{certificate.number}/"]

    page.goto(scanned[0])
    expect(page.get_by_role("status")).to_contain_text("Valid.")
    expect(page.get_by_role("status")).to_contain_text("Alice Alvarez holds a current QISP certificate")
    assert_accessible(page)

    page.get_by_role("link", name="Directory", exact=True).click()
    page.get_by_label("Name, certificate number, company or city").fill("alvarez")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row", name=certificate.number)
    expect(row).to_contain_text("Alice Alvarez")
    expect(row).to_contain_text("Active")
    assert_accessible(page)

    page.get_by_role("link", name="Verify", exact=True).click()
    assert_accessible(page)
    page.goto("/verify/batch/")
    assert_accessible(page)
