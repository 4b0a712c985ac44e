"""In Chromium: a holder who changes their profile name finds their certificate unchanged, asks
for a name change with a PDF from their certificates page, staff approve it from the queue on the
staff home, and the certificate PDF, the public verification page and the signed credential then
show the new name (same number, same dates; the old credential is published as revoked). Every
new page passes axe."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from playwright.sync_api import Browser, Page, expect

from conftest import enable_totp, make_person
from stormcert.accounts.models import Role
from stormcert.certificates.credentials import jwks, verify_credential
from stormcert.certificates.models import NameChangeRequest, NameChangeStatus
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.browser.conftest import ARTIFACTS, assert_accessible, signed_in
from tests.certificates.builders import certify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def download(page: Page, link: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link).click()
    return info.value.path().read_bytes()


def pdf_text(pdf: bytes) -> str:
    return str(pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range())


def test_a_holder_asks_for_a_name_change_and_staff_approve_it(
    browser: Browser, live_server: Any, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    base = str(live_server.url)
    load_definition_file(DEFAULT_DEFINITION)
    certificate = certify(
        make_person("alice@example.com", first_name="Alice", last_name="Alvarez"), issued_on=date(2026, 1, 15)
    )
    enable_totp(make_person("sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara"))
    evidence = tmp_path / "marriage.pdf"
    evidence.write_bytes(PDF)
    pdf_link = f"Download the certificate (PDF) {certificate.number}"

    alice = signed_in(browser, base, "alice@example.com")
    # Editing the profile name does not reach the certificate.
    alice.goto("/account/profile/")
    alice.get_by_label("Last name").fill("Moreno")
    alice.get_by_role("button", name="Save profile").click()
    expect(alice.get_by_text("Your profile is saved.")).to_be_visible()
    alice.goto("/certificates/")
    assert "Alice Alvarez" in pdf_text(download(alice, pdf_link))
    credential_link = f"Download the signed credential {certificate.number}"
    old = verify_credential(download(alice, credential_link).decode(), jwks())
    assert old["credentialSubject"]["identifier"][0]["identityHash"] == "Alice Alvarez"
    expect(alice.get_by_text("Your certificates show the name they were issued under")).to_contain_text(
        "Alice Alvarez"
    )

    alice.get_by_role("link", name="ask for a name change").click()
    expect(alice.get_by_role("heading", name="The name on your certificates", level=1)).to_be_visible()
    assert_accessible(alice)
    alice.get_by_label("Last name").fill("Moreno")
    alice.get_by_role("button", name="Send the request").click()  # no reason: told what is missing
    expect(alice.get_by_text("Say why the name should change")).to_be_visible()
    assert_accessible(alice)
    alice.get_by_label("Why should the name change?").fill(
        "I married in February; the certificate is attached."
    )
    alice.get_by_label("Supporting document (PDF)").set_input_files(str(evidence))
    alice.get_by_role("button", name="Send the request").click()
    expect(alice.get_by_text("Your request was sent")).to_be_visible()
    expect(alice.get_by_text("is waiting for a decision")).to_be_visible()
    assert_accessible(alice)
    request = NameChangeRequest.objects.get()

    sara = signed_in(browser, base, "sara@example.com", with_totp=True)
    sara.goto("/staff/")
    sara.get_by_role("link", name="1 name changes to decide").click()
    expect(sara.get_by_role("heading", name="Name changes", level=1)).to_be_visible()
    expect(sara.get_by_role("heading", name="Alice Alvarez → Alice Moreno")).to_be_visible()
    assert_accessible(sara)
    # The document opens for staff (fetched with her session).
    href = sara.get_by_role("link", name="Supporting document: marriage.pdf").get_attribute("href")
    assert href is not None
    document = sara.request.get(href)
    assert document.status == 200 and document.body() == PDF
    sara.get_by_role("button", name="Approve the change to Alice Moreno").click()  # no reason yet
    expect(sara.get_by_text("Give the reason for the decision")).to_be_visible()
    assert_accessible(sara)
    sara.get_by_label("Reason for the decision").fill("Marriage certificate checked")
    sara.get_by_role("button", name="Approve the change to Alice Moreno").click()
    expect(sara.get_by_text("certificates now say Alice Moreno")).to_be_visible()
    request.refresh_from_db()
    assert request.status == NameChangeStatus.APPROVED

    alice.goto("/certificates/name/")
    expect(alice.get_by_text("Marriage certificate checked")).to_be_visible()
    alice.goto("/certificates/")
    pdf = download(alice, pdf_link)
    text = pdf_text(pdf)
    assert "Alice Moreno" in text and "Alice Alvarez" not in text
    assert certificate.number in text and "January 15, 2026" in text and "January 15, 2028" in text
    assert "Reissued" in text
    ARTIFACTS.mkdir(exist_ok=True)
    pypdfium2.PdfDocument(pdf)[0].render(scale=2).to_pil().save(ARTIFACTS / "certificate-reissued.png")
    claims = verify_credential(download(alice, credential_link).decode(), jwks())
    assert claims["credentialSubject"]["identifier"][0]["identityHash"] == "Alice Moreno"
    assert claims["sub"] == certificate.number
    # The old credential (naming Alice Alvarez) is now on the public revocation list.
    revoked = alice.request.get("/credentials/revocations/QISP.json").json()["revokedCredentials"]
    assert [r["id"] for r in revoked] == [old["jti"]] and claims["jti"] != old["jti"]

    visitor = browser.new_context(base_url=base).new_page()
    visitor.goto(f"/verify/{certificate.number}/")
    expect(visitor.get_by_role("status")).to_contain_text("Alice Moreno holds a current QISP certificate")
    expect(visitor.get_by_role("status")).not_to_contain_text("Alvarez")
    visitor.context.close()
