"""Reminder emails from `tick`: each one once per certificate, whether the job runs twice, misses
days, or runs concurrently; an overtaken or long-past reminder is not sent; renewing stops them."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.core.management import call_command

from stormcert.accounts.models import User
from stormcert.emails.models import OutboundEmail
from stormcert.renewals.models import ReminderSent
from stormcert.renewals.services import send_renewal_reminders
from tests.renewals.builders import at, finish_review, holder_until, make_review, renew

pytestmark = pytest.mark.django_db
EXPIRY = date(2028, 1, 15)  # reminders due 2027-10-17 (90), 2027-12-25 (21), 2028-01-15 (0), 2028-02-14 (-30)
TEMPLATE = "renewals/email/renewal_reminder"


def reminders(user: User) -> list[str]:
    return list(
        OutboundEmail.objects.filter(to=user.email, template=TEMPLATE)
        .order_by("id")
        .values_list("subject", flat=True)
    )


def tick_at(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        call_command("tick", verbosity=0)


def test_tick_twice_the_same_day_sends_one_email(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    tick_at(at(2027, 10, 17, 6))
    tick_at(at(2027, 10, 17, 18))
    assert reminders(alice) == ["Your QISP certificate QISP-2026-00001 expires in 90 days"]
    assert list(ReminderSent.objects.values_list("offset_days", "due_on")) == [(90, date(2027, 10, 17))]


def test_a_reminder_is_not_sent_the_day_before(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    tick_at(at(2027, 10, 16, 23, 59, 59))
    assert reminders(alice) == []
    tick_at(at(2027, 10, 17, 0, 0, 1))
    assert len(reminders(alice)) == 1


def test_tick_skipped_three_days_still_sends_once(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    tick_at(at(2027, 12, 24))  # nothing due yet (the 90-day one is long overtaken... and stale)
    assert reminders(alice) == []
    # tick did not run on the 25th, 26th and 27th
    tick_at(at(2027, 12, 28))
    tick_at(at(2027, 12, 29))
    assert reminders(alice) == ["Your QISP certificate QISP-2026-00001 expires in 18 days"]
    assert list(ReminderSent.objects.values_list("offset_days", flat=True)) == [21]


def test_every_reminder_over_a_daily_run(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    day = at(2027, 10, 1, 3)
    while day < at(2028, 3, 31):
        tick_at(day)
        day = day + (at(2027, 1, 2) - at(2027, 1, 1))
    assert reminders(alice) == [
        "Your QISP certificate QISP-2026-00001 expires in 90 days",
        "Your QISP certificate QISP-2026-00001 expires in 21 days",
        "Your QISP certificate QISP-2026-00001 expires today",
        "Your QISP certificate QISP-2026-00001 has expired",
    ]


def test_the_expiry_day_reminder_turns_at_pacific_midnight(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    # 2028-01-15 00:30 UTC is still the 14th in California: not yet.
    send_renewal_reminders(now=datetime.fromisoformat("2028-01-15T00:30:00+00:00"))
    assert reminders(alice) == []
    send_renewal_reminders(now=at(2028, 1, 15, 0, 0, 1))
    assert reminders(alice) == ["Your QISP certificate QISP-2026-00001 expires today"]


def test_leap_day_expiry(alice: User, programs: None) -> None:
    holder_until(alice, date(2028, 2, 29))
    tick_at(at(2027, 12, 1))  # 90 days before 2028-02-29
    tick_at(at(2028, 2, 8))  # 21 days before
    tick_at(at(2028, 2, 29))
    tick_at(at(2028, 3, 30))  # 30 days after
    assert reminders(alice) == [
        "Your QISP certificate QISP-2026-00001 expires in 90 days",
        "Your QISP certificate QISP-2026-00001 expires in 21 days",
        "Your QISP certificate QISP-2026-00001 expires today",
        "Your QISP certificate QISP-2026-00001 has expired",
    ]


def test_an_overtaken_reminder_is_skipped(alice: User, programs: None) -> None:
    # A certificate imported 10 days before its expiry gets no "90 days" message.
    holder_until(alice, EXPIRY)
    tick_at(at(2028, 1, 5))
    assert reminders(alice) == []
    tick_at(at(2028, 1, 15))
    assert reminders(alice) == ["Your QISP certificate QISP-2026-00001 expires today"]


def test_long_expired_certificates_get_no_reminder(alice: User, programs: None) -> None:
    holder_until(alice, date(2020, 1, 15))
    tick_at(at(2028, 1, 15))
    assert reminders(alice) == []


def test_renewing_stops_further_reminders(alice: User, programs: None) -> None:
    old = holder_until(alice, EXPIRY)
    module = make_review()
    tick_at(at(2027, 10, 17))
    finish_review(alice, module, at(2027, 11, 1))
    renew(alice, old, started=at(2027, 11, 1))  # new expiry 2030-01-15
    for day in (at(2027, 12, 25), at(2028, 1, 15), at(2028, 2, 14)):
        tick_at(day)
    assert reminders(alice) == ["Your QISP certificate QISP-2026-00001 expires in 90 days"]


def test_revoked_certificates_get_no_reminder(alice: User, sara: User, programs: None) -> None:
    from stormcert.certificates.services import revoke_certificate

    certificate = holder_until(alice, EXPIRY)
    revoke_certificate(certificate=certificate, actor=sara, reason="Complaint upheld", now=at(2027, 9, 1))
    tick_at(at(2027, 10, 17))
    assert reminders(alice) == []


def test_no_reminder_past_the_requalification_limit(alice: User, programs: None) -> None:
    from stormcert.programs.models import PolicyValue

    PolicyValue.objects.filter(key="renewal.requalify_after_days", version__program__code="QISP").update(
        value=20
    )
    holder_until(alice, EXPIRY)
    tick_at(at(2028, 2, 14))  # the 30-days-after reminder, but renewal closed on 2028-02-04
    assert reminders(alice) == []


def test_the_reminder_says_what_renewal_needs(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    make_review(title="Module 5 – Sufficiently Sensitive Methods")
    tick_at(at(2027, 12, 25))
    message = OutboundEmail.objects.get(template=TEMPLATE)
    assert "expires on January 15, 2028, in 21 days" in message.body_text
    assert "Module 5 – Sufficiently Sensitive Methods" in message.body_text
    assert (
        "$220.00 today" in message.body_text
        and "From January 16, 2028 the fee is $240.00" in message.body_text
    )
    assert "/qualification/renewal/" in message.body_text
    tick_at(at(2028, 2, 14))
    late = OutboundEmail.objects.filter(template=TEMPLATE).latest("id")
    assert "expired on January 15, 2028" in late.body_text and "$240.00 today" in late.body_text


def test_the_trainer_program_is_left_to_its_own_app(tom: User, programs: None) -> None:
    from stormcert.certificates.models import Source
    from stormcert.certificates.services import issue_certificate
    from stormcert.programs.models import Program

    issue_certificate(
        holder=tom,
        program=Program.objects.get(code="IGP-TOR"),
        issued_on=date(2027, 7, 1),
        expires_on=date(2028, 6, 30),
        source=Source.TRAINER_TERM,
        notify=False,
    )
    tick_at(at(2028, 6, 30))
    assert reminders(tom) == []
