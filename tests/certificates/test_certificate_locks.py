"""What issuing a certificate and renaming a person lock (tests/lockcheck.py has the rule).

A person has one certified name, read off their current certificates. Issuing a certificate and
an approved name change both take the person's row, so a certificate issued during a rename is
either renamed with the others or issued under the new name, never left with the old one."""

from __future__ import annotations

from datetime import datetime

import pytest

from stormcert.accounts.models import User
from stormcert.certificates.names import decide_name_change, request_name_change
from tests import lockcheck
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-03-02T18:00:00+00:00")


def locked_by(seen: list[tuple[str, set[str]]]) -> dict[str, set[str]]:
    """Function name -> the tables its locking queries locked."""
    found: dict[str, set[str]] = {}
    for site, tables in seen:
        found.setdefault(site.rsplit(".", 1)[-1], set()).update(tables)
    return found


def test_issuing_locks_the_holder_and_the_counter_not_the_program(programs: None, alice: User) -> None:
    with lockcheck.watching() as seen:
        certify(alice)
    assert locked_by(seen) == {
        "issue_certificate": {"accounts_user"},
        "_next_number": {"certificates_numbercounter"},
    }


def test_a_name_change_locks_the_request_the_person_and_their_certificates(
    programs: None, alice: User, sara: User
) -> None:
    certify(alice)
    request = request_name_change(
        person=alice, first_name="Alice", last_name="Moreno", reason="I married in February.", now=T0
    )
    with lockcheck.watching() as seen:
        decide_name_change(request=request, approve=True, reason="Checked", actor=sara, staff=True, now=T0)
    assert locked_by(seen) == {
        "decide_name_change": {"certificates_namechangerequest", "accounts_user"},
        "_reissue": {"certificates_certificate"},
    }
