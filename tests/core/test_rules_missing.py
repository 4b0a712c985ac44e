"""A program whose rules in force lack a key: every page that needs it says so (503, the rule
named), never a 500, and staff see the program flagged with a link to fix it.

Found in use: a version saved with only `term.fee_due` made every ToR's /tor/ page a 500
(RuleMissing 'term.start'). The editor refuses such a version now; this is the net for rules
that arrive another way (a data migration, the shell, an older database)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.programs.models import PolicyValue, PolicyVersion
from stormcert.programs.rules import program_today
from tests.trainers.builders import in_standing, tor_program

pytestmark = pytest.mark.django_db


def test_an_incomplete_version_in_force_answers_503_naming_the_rule(
    programs: None, tom: User, sara: User
) -> None:
    now = timezone.now()
    program = tor_program()
    in_standing(tom, now - timedelta(days=2), program)
    # What the raw admin allowed: a new version holding one key, in force from today.
    version = PolicyVersion.objects.create(
        program=program, name="one key", effective_from=program_today(program, now)
    )
    PolicyValue.objects.create(version=version, key="term.fee_due", value="06-30")

    page = client_for(tom).get(f"/tor/{program.code}/")
    assert page.status_code == 503
    body = page.content.decode()
    assert "term.start" in body and "rules are incomplete" in body

    api = client_for(tom).get(f"/tor/{program.code}/", HTTP_ACCEPT="application/json")
    assert api.status_code == 503 and "term.start" in api.json()["detail"]

    staff = client_for(sara, mfa=True).get("/staff/")
    assert staff.status_code == 200
    text = staff.content.decode()
    flagged = text[text.index("The rules in force lack") :].split("</p>")[0]
    assert "term.start" in flagged and "certificate.number_format" in flagged
    assert f"/staff/programs/{program.code}/rules/new/" in text


def test_complete_rules_raise_no_flag(programs: None, sara: User) -> None:
    text = client_for(sara, mfa=True).get("/staff/").content.decode()
    assert "The rules in force lack" not in text
