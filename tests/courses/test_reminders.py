"""Reminders go once per seat, 48 hours ahead (policy), however often or late tick runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

from stormcert.accounts.models import User
from stormcert.courses.services import cancel_session, register_for_session, send_reminders
from stormcert.emails.models import OutboundEmail
from tests.courses.conftest import T0, make_session, ready_for_course

pytestmark = pytest.mark.django_db


def _reminders() -> int:
    return OutboundEmail.objects.filter(template="courses/email/reminder").count()


def test_one_reminder_48_hours_before(trainer: User, alice: User) -> None:
    session = make_session(trainer)
    ready_for_course(alice)
    register_for_session(user=alice, session=session, now=T0)
    assert send_reminders(now=session.starts_at - timedelta(hours=48, seconds=1)) == 0
    assert send_reminders(now=session.starts_at - timedelta(hours=48)) == 1
    assert send_reminders(now=session.starts_at - timedelta(hours=47)) == 0
    mail = OutboundEmail.objects.get(template="courses/email/reminder")
    assert mail.to == alice.email and mail.attachments


def test_a_late_tick_still_reminds_before_the_start_but_not_after(
    trainer: User, alice: User, eve: User
) -> None:
    early, late = make_session(trainer), make_session(trainer, day_offset=31)
    for person, session in ((alice, early), (eve, late)):
        ready_for_course(person)
        register_for_session(user=person, session=session, now=T0)
    # tick skipped three days: the early session has started (no reminder), the later one gets one.
    assert send_reminders(now=early.starts_at + timedelta(hours=1)) == 1
    assert OutboundEmail.objects.get(template="courses/email/reminder").to == eve.email


def test_tick_twice_sends_once_and_cancelled_sessions_are_skipped(
    trainer: User, alice: User, eve: User
) -> None:
    kept, dropped = make_session(trainer), make_session(trainer)
    for person, session in ((alice, kept), (eve, dropped)):
        ready_for_course(person)
        register_for_session(user=person, session=session, now=T0)
    cancel_session(session=dropped, actor=trainer, reason="Venue closed.", now=T0)
    import time_machine

    with time_machine.travel(kept.starts_at - timedelta(hours=24), tick=False):
        call_command("tick", verbosity=0)
        call_command("tick", verbosity=0)
    assert _reminders() == 1
