from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.exams.models import Accommodation, Attempt, AttemptStatus, Exam
from stormcert.exams.services import start_attempt, submit_attempt
from tests.exams.conftest import T0, ready_for_midterm

pytestmark = pytest.mark.django_db


def test_item_statistics_and_pass_rate(alice: User, eve: User, midterm: Exam, sara_client: Client) -> None:
    for person in (alice, eve):
        ready_for_midterm(person)
        attempt = start_attempt(user=person, exam=midterm, now=T0 + timedelta(days=1))
        submit_attempt(attempt_id=attempt.pk, now=T0 + timedelta(days=1, minutes=5))
    page = sara_client.get(reverse("exams:staff_stats", args=[midterm.pk])).content.decode()
    assert "graded attempts" in page and "0%" in page and "Score distribution" in page
    assert "Facility" in page and "Minimum BMPs" in page


def test_staff_grant_and_end_an_accommodation(alice: User, sara: User, sara_client: Client) -> None:
    url = reverse("exams:staff_accommodation_grant")
    refused = sara_client.post(url, {"email": "alice@example.com", "factor": "1.5", "reason": ""})
    # Refused: the page again, with the message and what staff typed.
    assert refused.status_code == 200
    assert "Give the reason for the accommodation" in refused.content.decode()
    assert 'value="alice@example.com"' in refused.content.decode() and not Accommodation.objects.exists()
    bad = sara_client.post(url, {"email": "alice@example.com", "factor": "lots", "reason": "x"})
    assert "Give the time factor as a number" in bad.content.decode()
    done = sara_client.post(url, {"email": "alice@example.com", "factor": "1.5", "reason": "Dyslexia"})
    assert done.status_code == 302 and done["Location"] == reverse("exams:staff_accommodations")
    accommodation = Accommodation.objects.get(revoked_at__isnull=True)
    assert accommodation.factor == Decimal("1.50") and accommodation.granted_by == sara
    end = reverse("exams:staff_accommodation_end", args=[accommodation.pk])
    no_reason = sara_client.post(end, {"reason": " "}, follow=True)
    assert "Give the reason" in no_reason.content.decode()
    assert Accommodation.objects.filter(revoked_at__isnull=True).exists()
    sara_client.post(end, {"reason": "Granted in error"})
    assert not Accommodation.objects.filter(revoked_at__isnull=True).exists()
    again = sara_client.post(end, {"reason": "Granted in error"}, follow=True)
    assert "had already ended; nothing was changed" in again.content.decode()
    assert AuditEvent.objects.filter(verb__startswith="exam.accommodation").count() == 2
    # The page itself only shows: an old form posting to it changes nothing.
    assert sara_client.post(reverse("exams:staff_accommodations"), {"action": "grant"}).status_code == 405


def test_intro_shows_rules_and_accommodation(
    alice: User, sara: User, midterm: Exam, alice_client: Client
) -> None:
    from stormcert.exams.services import grant_accommodation

    ready_for_midterm(alice)
    grant_accommodation(user=alice, factor=Decimal("1.5"), reason="Documented", actor=sara)
    page = alice_client.get(reverse("exams:intro", args=["QISP", "midterm"])).content.decode()
    assert "180 minutes in one sitting (your accommodation: 1.50× the standard 120 minutes)" in page
    assert "2 of 2" in page


def test_tick_grades_overdue_attempts(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    start_attempt(user=alice, exam=midterm, now=T0 + timedelta(minutes=2))  # long over by now
    out = StringIO()
    call_command("tick", stdout=out)
    assert "graded 1 overdue attempt(s)" in out.getvalue()
    assert Attempt.objects.get().status == AttemptStatus.TIMED_OUT
