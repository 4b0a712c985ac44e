"""In Chromium: staff upload a real-world GIFT file with questions of every kind, see the preview
(each question as candidates will see it, each rejection with its line and reason), import the
valid ones and read the report; every page passes axe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from conftest import enable_totp, make_person
from stormcert.accounts.models import Role
from stormcert.exams.models import Question, QuestionBank
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.programs.models import Program
from tests.browser.conftest import assert_accessible, signed_in
from tests.exams.test_bank_import_pages import MIXED_GIFT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_preview_and_import_the_valid_questions(
    browser: Browser, live_server: Any, tmp_path: Path
) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    QuestionBank.objects.create(program=Program.objects.get(code="QISP"), code="main", title="Main bank")
    enable_totp(make_person("sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara"))
    export = tmp_path / "export.gift"
    export.write_bytes(MIXED_GIFT.encode())

    sara = signed_in(browser, str(live_server.url), "sara@example.com", with_totp=True, timeout=30_000)
    sara.goto("/staff/exams/")
    expect(sara.get_by_role("heading", name="Import questions")).to_be_visible()
    assert_accessible(sara)
    sara.get_by_role("button", name="Preview the questions").click()  # nothing chosen: told what is missing
    expect(sara.get_by_text("Choose a GIFT, Aiken or Moodle XML file.")).to_be_visible()
    sara.get_by_label("Question bank", exact=True).select_option(label="Main bank (0 active questions)")
    sara.get_by_label("File", exact=True).set_input_files(str(export))
    sara.get_by_label("Reason", exact=True).fill("The provider's 2027 bank")
    sara.get_by_role("button", name="Preview the questions").click()

    expect(sara.get_by_role("heading", name="Preview: export.gift", level=1)).to_be_visible()
    expect(sara.get_by_text("Nothing has been written yet.")).to_be_visible()
    expect(sara.get_by_role("heading", name="Line 4: Sampling events")).to_be_visible()
    expect(sara.get_by_role("cell", name="Line 27", exact=True)).to_be_visible()
    expect(sara.get_by_text("The answer block opened on line 27 is never closed")).to_be_visible()
    assert_accessible(sara)
    assert not Question.objects.exists()
    sara.screenshot(path=str(tmp_path / "preview.png"), full_page=True)  # to look at

    sara.get_by_role("button", name="Import the 3 valid questions").click()
    expect(sara.get_by_text("Imported 3 questions into Main bank.")).to_be_visible()
    expect(sara.get_by_role("heading", name="Import report: export.gift", level=1)).to_be_visible()
    expect(sara.get_by_role("heading", name="Rejected (7)")).to_be_visible()
    assert_accessible(sara)
    assert Question.objects.count() == 3

    sara.get_by_role("link", name="← Exams and question banks").click()
    expect(sara.get_by_text("3 imported, 0 kept, 7 rejected")).to_be_visible()
    assert_accessible(sara)
