"""In Chromium: staff upload the earlier system's records, watch the dry run's progress, see a
bad date rejected with its line, fix the file and import it; then a person with a new account
claims their certificate by number and the email on file, through the link sent there, and
finds it in their account and in the directory. Every page passes axe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from conftest import enable_totp, make_person
from stormcert.accounts.models import Role
from stormcert.certificates.models import Certificate
from stormcert.emails.models import OutboundEmail
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.backoffice.builders import HEADER, many_rows
from tests.browser.conftest import assert_accessible, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DANA = "Dana Reyes,dana.reyes@owp.example.org,OWP-2019-00042,QISP,2025-02-10,2027-02-10,active,"
BAD = "Bad Date,bad@owp.example.org,OWP-2019-00043,QISP,2025-02-30,2027-02-28,active,"


def write(tmp_path: Path, name: str, rows: list[str]) -> str:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return str(path)


def test_staff_import_then_a_holder_claims_by_email_link(
    browser: Browser, live_server: Any, tmp_path: Path
) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    sara = make_person("sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara")
    enable_totp(sara)
    make_person("dana@example.com", first_name="Dana", last_name="Reyes")

    staff = signed_in(browser, live_server.url, "sara@example.com", with_totp=True, timeout=20_000)
    staff.goto("/staff/")
    staff.get_by_role("link", name="Import earlier records").click()
    expect(staff.get_by_role("heading", name="Import records from the earlier system")).to_be_visible()
    assert_accessible(staff)

    # A file with a bad date: the dry run reports the line and the field; nothing can be imported.
    rows = [DANA, *many_rows(5000), BAD]
    staff.get_by_label("CSV file").set_input_files(write(tmp_path, "owp-bad.csv", rows))
    staff.get_by_role("button", name="Upload and check").click()
    # A file in the import's own shape: every column is pre-filled by its name.
    expect(staff.get_by_label("Certificate number")).to_have_value("2")
    staff.get_by_role("button", name="Use these columns and check the file").click()
    progress = staff.get_by_role("progressbar")
    expect(progress).to_be_visible()
    expect(staff.get_by_role("heading", name="Rejected")).to_be_visible()
    row = staff.get_by_role("row").filter(has_text="2025-02-30")
    expect(row).to_contain_text("5003")
    expect(row).to_contain_text("issued_on")
    expect(row).to_contain_text("not a date")
    expect(staff.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    assert_accessible(staff)
    assert Certificate.objects.count() == 0

    # The fixed file imports; the import page shows it worked.
    staff.goto("/staff/imports/")
    staff.get_by_label("CSV file").set_input_files(write(tmp_path, "owp.csv", [DANA, *many_rows(5000)]))
    staff.get_by_role("button", name="Upload and check").click()
    staff.get_by_role("button", name="Use these columns and check the file").click()
    staff.get_by_role("button", name="Import 5001 records").click()
    expect(staff.get_by_text("Imported in")).to_be_visible()
    expect(staff.get_by_role("list", name="Outcome")).to_contain_text("5001")
    assert_accessible(staff)
    assert Certificate.objects.filter(number="OWP-2019-00042").exists()

    # Dana, with a new account, claims her certificate.
    dana = signed_in(browser, live_server.url, "dana@example.com", timeout=20_000)
    dana.goto("/account/claim/")
    expect(dana.get_by_role("heading", name="Records from the earlier system")).to_be_visible()
    assert_accessible(dana)
    by_link = dana.get_by_role("region", name="Claim by certificate number")
    by_link.get_by_label("Certificate number", exact=True).fill("OWP-2019-00042")
    by_link.get_by_label("Email address the earlier system had").fill("dana.reyes@owp.example.org")
    by_link.get_by_role("button", name="Send me the link").click()
    expect(dana.get_by_text("a link is on its way to dana.reyes@owp.example.org")).to_be_visible()

    message = OutboundEmail.objects.get(to="dana.reyes@owp.example.org")
    link = re.search(r"https?://\S+/account/claim/confirm/\S+/", message.body_text)
    assert link is not None
    dana.goto(link.group(0)[link.group(0).index("/account/") :])
    expect(dana.get_by_text("OWP-2019-00042")).to_be_visible()
    assert_accessible(dana)
    dana.get_by_role("button", name="Yes, these are mine").click()
    expect(dana.get_by_text("Done: OWP-2019-00042 is now in your account.")).to_be_visible()
    expect(dana.get_by_role("region", name="Already in your account")).to_contain_text("OWP-2019-00042")

    dana.goto("/directory/?q=OWP-2019-00042")
    expect(dana.get_by_role("main")).to_contain_text("Dana Reyes")
    assert Certificate.objects.get(number="OWP-2019-00042").holder.email == "dana@example.com"
