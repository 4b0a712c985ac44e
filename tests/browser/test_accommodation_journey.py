"""In Chromium: a candidate asks for extra time with a PDF from the exam page, staff grant it,
and the exam page shows the new time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from conftest import enable_totp, make_person
from stormcert.accounts.models import Role
from stormcert.core.demo.exams import load_demo_exams
from stormcert.exams.models import AccommodationRequest, RequestStatus
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.browser.conftest import assert_accessible, signed_in
from tests.exams.conftest import ready_for_midterm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_a_candidate_asks_and_staff_grant(
    browser: Browser, live_server: Any, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    base = str(live_server.url)
    load_definition_file(DEFAULT_DEFINITION)
    load_demo_exams()
    ready_for_midterm(
        make_person("alice@example.com", first_name="Alice", last_name="Alvarez"), timezone.now()
    )
    enable_totp(make_person("sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara"))
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(PDF)

    alice = signed_in(browser, base, "alice@example.com")
    alice.goto("/exams/QISP/midterm/")
    expect(alice.get_by_text("120 minutes in one sitting")).to_be_visible()
    alice.get_by_role("link", name="Request an accommodation").click()
    expect(alice.get_by_role("heading", name="Extra exam time", level=1)).to_be_visible()
    assert_accessible(alice)
    alice.get_by_role("button", name="Send the request").click()  # nothing typed: told what is missing
    expect(alice.get_by_text("Explain what you need and why")).to_be_visible()
    alice.get_by_label("What do you need, and why?").fill(
        "Reading takes me longer (dyslexia); see the letter."
    )
    alice.get_by_label("Extra time you are asking for").select_option("1.50")
    alice.get_by_label("Supporting document (PDF)").set_input_files(str(letter))
    alice.get_by_role("button", name="Send the request").click()
    expect(alice.get_by_text("Your request was sent")).to_be_visible()
    expect(alice.get_by_text("Waiting for a decision", exact=True)).to_be_visible()
    assert_accessible(alice)
    alice.screenshot(path=str(tmp_path / "accommodation.png"), full_page=True)  # to look at
    request = AccommodationRequest.objects.get()

    sara = signed_in(browser, base, "sara@example.com", with_totp=True)
    sara.goto("/staff/exams/accommodations/")
    expect(sara.get_by_role("heading", name="Requests waiting (1)")).to_be_visible()
    expect(sara.get_by_text("Reading takes me longer (dyslexia); see the letter.")).to_be_visible()
    expect(sara.get_by_role("link", name="Supporting document: letter.pdf")).to_be_visible()
    assert_accessible(sara)
    sara.screenshot(path=str(tmp_path / "staff.png"), full_page=True)  # to look at
    expect(sara.get_by_label("Time factor to grant")).to_have_value("1.50")
    sara.get_by_label("Reason for the decision").fill("Letter from her doctor on file")
    sara.get_by_role("region", name="Requests waiting").get_by_role("button", name="Grant").click()
    expect(sara.get_by_text("Granted: alice@example.com now has 1.50× time on every exam")).to_be_visible()
    expect(sara.get_by_role("heading", name="Requests waiting (0)")).to_be_visible()
    assert_accessible(sara)
    request.refresh_from_db()
    assert request.status == RequestStatus.GRANTED

    alice.goto("/exams/QISP/midterm/")
    expect(alice.get_by_text("180 minutes in one sitting")).to_be_visible()
