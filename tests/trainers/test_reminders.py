"""ToR reminders: the yearly fee and renewal steps before the due day (term.reminder_days_before),
a new agreement version to sign; each once, from `tick`; staff may send the fee notice now."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.core.management import call_command
from django.urls import reverse

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.emails.models import OutboundEmail
from stormcert.trainers.models import TermRenewal, TrainerTerm
from stormcert.trainers.reminders import send_fee_notice_now, send_term_reminders
from stormcert.trainers.services import TrainerError
from tests.trainers.builders import PT, agreement, tor_program

pytestmark = pytest.mark.django_db

MONTH_BEFORE = datetime(2027, 5, 31, 9, 0, tzinfo=PT)  # 30 days before June 30
WEEK_BEFORE = datetime(2027, 6, 23, 9, 0, tzinfo=PT)


def _fee_mails(user: User) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(to=user.email, subject__contains="yearly fee"))


def test_the_fee_reminder_goes_out_once_at_each_lead_time(tor: User) -> None:
    assert send_term_reminders(now=datetime(2027, 5, 1, tzinfo=PT)) == 0
    assert send_term_reminders(now=MONTH_BEFORE) == 1
    assert send_term_reminders(now=MONTH_BEFORE) == 0
    mail = _fee_mails(tor)[0]
    assert "June 30, 2027" in mail.subject
    assert "$65.00" in mail.body_text and "renewal meeting" in mail.body_text
    # A missed day is caught up; then the week-before reminder, once.
    assert send_term_reminders(now=datetime(2027, 6, 25, tzinfo=PT)) == 1
    assert send_term_reminders(now=datetime(2027, 6, 26, tzinfo=PT)) == 0
    assert len(_fee_mails(tor)) == 2
    assert AuditEvent.objects.filter(verb="trainers.reminder_sent").count() == 2


def test_no_fee_reminder_once_paid(tor: User) -> None:
    TermRenewal.objects.create(
        user=tor, program=tor_program(), term_start=date(2027, 7, 1), paid_at=datetime(2027, 5, 1, tzinfo=PT)
    )
    assert send_term_reminders(now=WEEK_BEFORE) == 0


def test_a_new_agreement_version_is_reminded_once_to_who_has_not_signed(tor: User) -> None:
    agreement(version="2", effective_from=date(2027, 1, 15))
    january = datetime(2027, 1, 20, tzinfo=PT)
    assert send_term_reminders(now=january) == 1
    assert send_term_reminders(now=january) == 0
    mail = OutboundEmail.objects.get(to=tor.email, subject__contains="Compliance Agreement")
    assert "v2" in mail.body_text
    # Not before it is in force.
    agreement(version="3", effective_from=date(2027, 3, 1))
    assert send_term_reminders(now=datetime(2027, 2, 1, tzinfo=PT)) == 0


def test_tick_runs_the_reminders(tor: User) -> None:
    import time_machine

    with time_machine.travel(MONTH_BEFORE):
        call_command("tick", verbosity=0)
    assert len(_fee_mails(tor)) == 1


def test_staff_send_the_fee_notice_now_with_a_reason(tor: User, sara: User) -> None:
    with pytest.raises(TrainerError, match="reason"):
        send_fee_notice_now(user=tor, program=tor_program(), actor=sara, reason="", now=MONTH_BEFORE)
    term = TrainerTerm.objects.get(user=tor)
    staff = client_for(sara, mfa=True)
    url = reverse("trainers:staff_send_fee_notice", args=[term.pk])
    assert staff.post(url, {"reason": ""}).status_code == 302
    assert _fee_mails(tor) == []
    response = staff.post(url, {"reason": "Asked by phone"}, follow=True)
    assert "fee notice is on its way" in response.content.decode()
    assert len(_fee_mails(tor)) == 1
    assert AuditEvent.objects.filter(verb="trainers.fee_notice_sent", reason="Asked by phone").exists()
    assert client_for(tor).post(url, {"reason": "x"}).status_code in (302, 403)
    assert len(_fee_mails(tor)) == 1


def test_staff_home_counts_tor_queues(tor: User, sara: User) -> None:
    TermRenewal.objects.create(
        user=tor, program=tor_program(), term_start=date(2027, 7, 1), paid_at=datetime(2027, 5, 1, tzinfo=PT)
    )
    page = client_for(sara, mfa=True).get(reverse("staff_home")).content.decode()
    assert "ToR renewals to confirm" in page and "ToR candidates to approve" in page
    row = next(r for r in page.split("<li") if "ToR renewals to confirm" in r)
    assert ">1<" in row and "#renewals" in row
