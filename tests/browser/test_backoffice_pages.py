"""In Chromium: staff find a person, read their record, give back an exam attempt with a reason,
merge a duplicate account after seeing what would move, and approve a claim from the queue on
staff home. Every page passes axe."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from conftest import enable_totp, make_person
from stormcert.accounts.claims import request_claim
from stormcert.accounts.models import Role, User
from stormcert.certificates.models import Certificate
from stormcert.enrollments.services import record_step_failure
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.backoffice.builders import import_file, legacy_csv
from tests.browser.conftest import assert_accessible, signed_in
from tests.certificates.builders import certify
from tests.exams.conftest import T0, ready_for_midterm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_work_a_candidate_record_and_the_claims_queue(browser: Browser, live_server: Any) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    sara = make_person("sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara")
    enable_totp(sara)
    alice = make_person("alice@example.com", first_name="Alice", last_name="Alvarez")
    enrollment = ready_for_midterm(alice, T0)
    for i in range(2):
        record_step_failure(
            enrollment=enrollment, step_code="midterm", source="test", now=T0 + timedelta(days=i + 1)
        )
    duplicate = make_person("alice.work@example.com", first_name="Alice", last_name="Alvarez")
    certify(duplicate, issued_on=date(2026, 1, 15))
    import_file(sara, legacy_csv("Lee Wong,lwong@old.example.org,OWP-7,QISP,2024-06-01,2026-06-01,expired,"))
    lee = make_person("lee@example.com", first_name="Lee", last_name="Wong")
    request_claim(
        requester=lee, certificate_number="OWP-7", email_on_file="", explanation="Old employer's address."
    )

    page = signed_in(browser, live_server.url, "sara@example.com", with_totp=True, timeout=15_000)
    page.goto("/staff/")
    queues = page.get_by_role("list", name="Queues: what needs a person")
    expect(queues.get_by_role("link", name=re.compile("1 claims of earlier records"))).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="People", exact=True).first.click()
    page.get_by_label("Name, email or certificate number").fill("alvarez")
    page.get_by_role("button", name="Search").click()
    assert_accessible(page)
    page.get_by_role("row").filter(has_text="alice@example.com").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Alice Alvarez", level=1)).to_be_visible()
    expect(page.get_by_text("Action needed")).to_be_visible()  # failed out of the midterm
    assert_accessible(page)

    page.get_by_text("Grant an exam attempt").click()
    form = page.locator("details", has_text="Grant an exam attempt")
    form.get_by_role("button", name="Give back one attempt").click()
    expect(
        page.locator("details[open]", has_text="Grant an exam attempt").get_by_text("This field is required.")
    ).to_be_visible()
    form = page.locator("details", has_text="Grant an exam attempt")
    form.get_by_label("Reason").fill("The test centre lost power.")
    form.get_by_role("button", name="Give back one attempt").click()
    expect(page.get_by_text("One attempt given back")).to_be_visible()
    expect(page.get_by_text("1 of 2 attempts left")).to_be_visible()

    page.get_by_text("Merge a duplicate account into this one").click()
    merge = page.locator("details", has_text="Merge a duplicate account")
    merge.get_by_label("Email of the duplicate account").fill("alice.work@example.com")
    merge.get_by_label("Reason").fill("Same person: work and home addresses.")
    merge.get_by_role("button", name="Show what would move").click()
    merge = page.locator("details", has_text="Merge a duplicate account")
    expect(merge.get_by_role("status")).to_contain_text("1 certificates")
    assert_accessible(page)
    merge.get_by_label("I have checked that both accounts are the same person.").check()
    merge.get_by_role("button", name="Merge").click()
    expect(page.get_by_text("alice.work@example.com is merged into this account")).to_be_visible()
    assert Certificate.objects.get(number__startswith="QISP").holder == alice
    assert not User.objects.get(email="alice.work@example.com").is_active

    page.goto("/staff/claims/")
    expect(page.get_by_text("Old employer's address.")).to_be_visible()
    assert_accessible(page)
    claim = page.get_by_role("region", name=re.compile("Lee Wong"))
    claim.get_by_label("Approve: join the record to the account").check()
    claim.get_by_label("Reason").fill("Checked his old certificate and ID.")
    claim.get_by_role("button", name="Decide").click()
    expect(page.get_by_text("Request by lee@example.com approved.")).to_be_visible()
    assert Certificate.objects.get(number="OWP-7").holder == lee
