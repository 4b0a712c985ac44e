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
    url = reverse("exams:staff_accommodations")
    refused = sara_client.post(
        url, {"action": "grant", "email": "alice@example.com", "factor": "1.5", "reason": ""}, follow=True
    )
    assert "Give the reason for the accommodation" in refused.content.decode()
    assert 'value="alice@example.com"' in refused.content.decode() or not Accommodation.objects.exists()
    bad = sara_client.post(
        url, {"action": "grant", "email": "alice@example.com", "factor": "lots", "reason": "x"}, follow=True
    )
    assert "Give the time factor as a number" in bad.content.decode()
    sara_client.post(
        url, {"action": "grant", "email": "alice@example.com", "factor": "1.5", "reason": "Dyslexia"}
    )
    accommodation = Accommodation.objects.get(revoked_at__isnull=True)
    assert accommodation.factor == Decimal("1.50") and accommodation.granted_by == sara
    sara_client.post(url, {"action": "revoke", "id": accommodation.pk, "reason": "Granted in error"})
    assert not Accommodation.objects.filter(revoked_at__isnull=True).exists()
    assert AuditEvent.objects.filter(verb__startswith="exam.accommodation").count() == 2


def test_intro_shows_rules_and_accommodation(
    alice: User, sara: User, midterm: Exam, alice_client: Client
) -> None:
    from stormcert.exams.services import grant_accommodation

    ready_for_midterm(alice)
    grant_accommodation(user=alice, factor=Decimal("1.5"), reason="Documented", actor=sara)
    page = alice_client.get(reverse("exams:intro", args=["midterm"])).content.decode()
    assert "180 minutes in one sitting (your accommodation: 1.50× the standard 120 minutes)" in page
    assert "2 of 2" in page


def test_tick_grades_overdue_attempts(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    start_attempt(user=alice, exam=midterm, now=T0 + timedelta(minutes=2))  # long over by now
    out = StringIO()
    call_command("tick", stdout=out)
    assert "graded 1 overdue attempt(s)" in out.getvalue()
    assert Attempt.objects.get().status == AttemptStatus.TIMED_OUT
