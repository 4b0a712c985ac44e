"""In Chromium: staff open the rules editor from staff home, change the QISP late renewal fee from a
future date (preview first: old → new and how many renewals it touches; then save), and try a rule
version missing a key, which is refused with the key named and nothing saved. Every page passes axe."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from conftest import enable_totp, make_person
from stormcert.accounts.models import Role
from stormcert.backoffice.rules_forms import field_name
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.programs.models import Fee, PolicyVersion
from stormcert.programs.policy import shape_of
from stormcert.programs.rules import program_today
from tests.browser.conftest import assert_accessible, signed_in
from tests.renewals.builders import holder_until, qisp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_change_the_late_renewal_fee_and_an_incomplete_version_is_refused(
    browser: Browser, live_server: Any
) -> None:
    load_definition_file(DEFAULT_DEFINITION)
    program = qisp()
    sara = make_person("sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara")
    enable_totp(sara)
    effective = program_today(program) + timedelta(days=60)
    holder_until(make_person("holder@example.com"), effective + timedelta(days=10))

    page = signed_in(browser, live_server.url, "sara@example.com", with_totp=True, timeout=60_000)
    page.goto("/staff/")
    page.get_by_role("link", name="Rules and fees").click()
    expect(page.get_by_role("heading", name="Programs: rules and fees", level=1)).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="$240.00 from 2023-01-01")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=f"New fee amount for {program.short_name}").click()
    page.get_by_label("Fee").select_option("renewal_late")
    page.get_by_label("New amount (USD)").fill("260.00")
    page.get_by_label("In force from").fill(effective.isoformat())
    page.get_by_label("Reason").fill("Board vote: late renewals cost more from next year.")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("status")
    expect(preview).to_contain_text(f"from {effective:%Y-%m-%d}: ")
    expect(preview).to_contain_text("$240.00 → $260.00")
    expect(preview).to_contain_text("1 renewals due in that window")
    assert not Fee.objects.filter(code="renewal_late", amount=Decimal("260.00")).exists()
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile(r"is \$260\.00 from"))).to_be_visible()
    expect(
        page.get_by_role("listitem").filter(has_text=f"$260.00 from {effective:%Y-%m-%d}")
    ).to_contain_text("future")
    assert Fee.objects.get(code="renewal_late", effective_from=effective).amount == Decimal("260.00")

    page.get_by_role("link", name=f"New rule version of {program.short_name}").click()
    expect(page.get_by_role("heading", name=re.compile("New rule version"), level=1)).to_be_visible()
    assert_accessible(page)
    missing = f"{shape_of(program).exam_steps[-1]}.question_count"
    page.get_by_label("Name of the version").fill("Next year")
    page.get_by_label("In force from").fill(effective.isoformat())
    page.get_by_label("Reason").fill("Trying the editor.")
    page.locator(f"#id_{field_name(missing)}").fill("")
    page.locator(f"#id_{field_name('renewal.opens_days_before_expiry')}").fill("60")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text(f"missing {missing}")
    expect(page.locator(f"#id_{field_name('renewal.opens_days_before_expiry')}")).to_have_value("60")
    expect(page.get_by_label("Name of the version")).to_have_value("Next year")
    assert_accessible(page)
    assert not PolicyVersion.objects.filter(name="Next year").exists()
