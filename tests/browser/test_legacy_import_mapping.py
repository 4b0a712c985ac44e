"""In Chromium: staff upload the earlier records as another system exports them (first and last
name apart, its own column names, "TOR" for the trainer program, dates month first), match the
one column the names do not give, run the dry run and import. Every page passes axe."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from conftest import enable_totp, make_person
from stormcert.accounts.models import LegacyRecord, Role
from stormcert.certificates.models import Certificate
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.browser.conftest import assert_accessible, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPORT = """\
"First Name","Last Name","Email","Cert #","Program","Issued","Expires","Standing"
Tomás,Ortega,tortega@old.example.org,TOR-2025-0031,TOR,07/01/2025,06/30/2027,active
Mary Ann,Smith Jones,msj@old.example.org,OWP-2024-0107,qisp,3/14/2024,3/14/2026,expired
"""


def test_staff_match_the_columns_of_another_systems_export_and_import_it(
    browser: Browser, live_server: Any, tmp_path: Path
) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    sara = make_person("sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara")
    enable_totp(sara)
    export = tmp_path / "old-system-export.csv"
    export.write_text(EXPORT, encoding="utf-8")

    page = signed_in(browser, live_server.url, "sara@example.com", with_totp=True, timeout=15_000)
    page.goto("/staff/imports/")
    assert_accessible(page)
    page.get_by_label("CSV file").set_input_files(str(export))
    page.get_by_role("button", name="Upload and check").click()

    # The matching page: the file's header and first rows, the choices pre-filled by name.
    expect(page.get_by_role("heading", name="Match the columns of old-system-export.csv")).to_be_visible()
    sample = page.get_by_role("table")
    expect(sample.get_by_role("columnheader", name="D: Cert #")).to_be_visible()
    expect(sample.get_by_role("cell", name="Smith Jones")).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("0")
    expect(page.get_by_label("Last name")).to_have_value("1")
    expect(page.get_by_label("Certificate number")).to_have_value("3")
    expect(page.get_by_label("Issue date")).to_have_value("5")
    expect(page.get_by_label("Status")).to_have_value("")  # "Standing" is not a name it knows
    assert_accessible(page)

    # Without the status the choice is refused, saying why, and the choices stay.
    page.get_by_role("button", name="Use these columns and check the file").click()
    expect(page.get_by_text("Required: choose the column with the status.")).to_be_visible()
    expect(page.get_by_label("Certificate number")).to_have_value("3")
    assert_accessible(page)

    page.get_by_label("Status").select_option(label="H: Standing")
    page.get_by_role("button", name="Use these columns and check the file").click()

    # The dry run runs chunk by chunk with its progress, then offers the import.
    expect(page.get_by_role("button", name="Import 2 records")).to_be_visible()
    created = page.get_by_role("list", name="Outcome of the dry run")
    expect(created.get_by_role("listitem").filter(has_text="to create")).to_have_text(
        re.compile(r"^\s*2\s*to create\s*$")
    )
    page.get_by_text("Columns read").click()
    expect(page.get_by_text("Status: column H (“Standing”)")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Import 2 records").click()
    expect(page.get_by_text("Imported in")).to_be_visible()
    assert_accessible(page)

    trainer = LegacyRecord.objects.select_related("program", "holder").get(certificate_number="TOR-2025-0031")
    assert trainer.program.code == "IGP-TOR" and trainer.name == "Tomás Ortega"
    assert (trainer.holder.first_name, trainer.holder.last_name) == ("Tomás", "Ortega")
    mary = Certificate.objects.get(number="OWP-2024-0107")
    assert (mary.issued_on, mary.expires_on) == (date(2024, 3, 14), date(2026, 3, 14))
    assert mary.holder_name == "Mary Ann Smith Jones"
