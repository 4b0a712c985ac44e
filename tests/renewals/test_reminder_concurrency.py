"""Two `tick` runs at the same moment send each reminder once (the unique claim row; on
PostgreSQL the second insert waits for the first and then fails)."""

from __future__ import annotations

from datetime import date

import pytest

from conftest import make_person
from stormcert.emails.models import OutboundEmail
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.renewals.models import ReminderSent
from stormcert.renewals.services import send_renewal_reminders
from tests.certificates.test_concurrency import together
from tests.renewals.builders import at, holder_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_ticks_send_each_reminder_once() -> None:
    load_definition_file(DEFAULT_DEFINITION)
    people = [make_person(f"qisp{i}@example.com") for i in range(3)]
    for person in people:
        holder_until(person, date(2028, 1, 15))

    results = together(4, lambda _: send_renewal_reminders(now=at(2028, 1, 15, 9)))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r for r in results if isinstance(r, int)) == 3
    assert ReminderSent.objects.count() == 3
    assert OutboundEmail.objects.filter(template="renewals/email/renewal_reminder").count() == 3
