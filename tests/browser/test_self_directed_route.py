"""In Chromium: a licensed engineer finds the self-directed route on the Qualification page,
applies with a PDF (another state is refused with the rule's reason), staff approve it from the
queue counted on staff home, and the candidate's page shows them qualified with a certificate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from conftest import enable_totp, make_person
from stormcert.accounts.models import Role
from stormcert.certificates.models import Certificate
from stormcert.enrollments.models import ApplicationStatus, SelfDirectedApplication
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.browser.conftest import assert_accessible, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_a_licensed_engineer_applies_and_staff_approve(
    browser: Browser, live_server: Any, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    base = str(live_server.url)
    load_definition_file(DEFAULT_DEFINITION)
    make_person("alice@example.com", first_name="Alice", last_name="Alvarez")
    enable_totp(make_person("sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara"))
    license_pdf = tmp_path / "pe-license.pdf"
    license_pdf.write_bytes(PDF)

    alice = signed_in(browser, base, "alice@example.com")
    alice.goto("/qualification/QISP/")
    route = alice.get_by_role("region", name="Licensed engineer or geologist? The self-directed route")
    expect(route.get_by_text("Professional Geologist")).to_be_visible()
    assert_accessible(alice)
    route.get_by_role("link", name="Apply for the self-directed route").click()
    expect(
        alice.get_by_role("heading", name="The self-directed route for licensed professionals")
    ).to_be_visible()
    assert_accessible(alice)

    alice.get_by_label("Kind of license").select_option(label="Professional Engineer, chemical")
    alice.get_by_label("License number").fill("CH 6120")
    alice.get_by_label("Another state or country").check()
    alice.get_by_label("A document that shows your license (PDF)").set_input_files(str(license_pdf))
    alice.get_by_role("button", name="Send the application").click()
    expect(alice.get_by_text("open only to professionals registered in California").first).to_be_visible()
    expect(alice.get_by_label("License number")).to_have_value("CH 6120")  # kept
    assert_accessible(alice)
    assert not SelfDirectedApplication.objects.exists()

    alice.get_by_label("California", exact=True).check()
    alice.get_by_label("A document that shows your license (PDF)").set_input_files(str(license_pdf))
    alice.get_by_role("button", name="Send the application").click()
    expect(alice.get_by_text("Your application was sent")).to_be_visible()
    expect(alice.get_by_text("Waiting for a decision")).to_be_visible()
    assert_accessible(alice)

    sara = signed_in(browser, base, "sara@example.com", with_totp=True)
    sara.goto("/staff/")
    sara.get_by_role("link", name="1 self-directed route applications").click()
    expect(sara.get_by_role("heading", name="Waiting (1)")).to_be_visible()
    expect(sara.get_by_role("link", name="License document: pe-license.pdf")).to_be_visible()
    expect(sara.get_by_text("CH 6120")).to_be_visible()
    assert_accessible(sara)
    sara.get_by_label("Reason for the decision").fill("License current on the board's lookup")
    sara.get_by_role("button", name="Approve").click()
    expect(sara.get_by_text("Approved: alice@example.com is qualified in QISP")).to_be_visible()
    expect(sara.get_by_role("heading", name="Waiting (0)")).to_be_visible()
    assert_accessible(sara)
    assert SelfDirectedApplication.objects.get().status == ApplicationStatus.APPROVED

    certificate = Certificate.objects.get()
    alice.goto("/qualification/QISP/")
    expect(alice.get_by_role("heading", name="Qualified")).to_be_visible()
    expect(alice.get_by_text(certificate.number, exact=True)).to_be_visible()
    expect(alice.get_by_text("You are qualified by this route.")).to_be_visible()
    assert_accessible(alice)
    alice.screenshot(path=str(tmp_path / "qualified.png"), full_page=True)  # to look at
