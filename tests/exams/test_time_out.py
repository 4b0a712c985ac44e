"""The end of a timed exam, as the server sees it: a submit that arrives after the deadline is a
time-out that grades the saved answers and shows the result (never an error), and the save
endpoint answers with the status code the exam page decides by (409 final, 400 refused, 503 later)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.exams import views
from stormcert.exams.models import Attempt, AttemptStatus, Exam
from stormcert.exams.services import start_attempt
from tests.exams.conftest import ready_for_midterm
from tests.exams.test_attempts import answer_all

pytestmark = pytest.mark.django_db


def _running_out(alice: User, midterm: Exam, *, seconds_ago: int, client: Client | None = None) -> Attempt:
    """An attempt whose deadline passed `seconds_ago` seconds ago, with 30 of 35 answered right.
    With `client`, its exam page is opened first, while time is left (as the candidate had it open)."""
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    answer_all(attempt, right=30, when=timezone.now())
    if client is not None:
        assert client.get(reverse("exams:attempt", args=[attempt.pk])).status_code == 200
    deadline = timezone.now() - timedelta(seconds=seconds_ago)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=deadline, started_at=deadline - timedelta(hours=2))
    return attempt


@pytest.mark.parametrize("seconds_ago", [5, 3600], ids=["within-grace", "long-after"])
def test_a_submit_after_the_deadline_is_a_time_out_with_the_result(
    alice: User, midterm: Exam, seconds_ago: int
) -> None:
    # The page's own post at 0:00, CSRF checked as in production: its token goes with it.
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    attempt = _running_out(alice, midterm, seconds_ago=seconds_ago, client=client)
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("exams:submit", args=[attempt.pk]), {"csrfmiddlewaretoken": token}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("exams:result", args=[attempt.pk])
    body = response.content.decode()
    assert "Submitted when time ran out" in body and "Your score: 85.71%" in body
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.TIMED_OUT and attempt.correct_count == 30
    assert attempt.submitted_at == attempt.deadline
    assert AuditEvent.objects.filter(verb="exam.attempt_graded").count() == 1


def test_a_second_submit_after_time_out_shows_the_same_result(
    alice: User, midterm: Exam, alice_client: Client
) -> None:
    attempt = _running_out(alice, midterm, seconds_ago=30)
    url = reverse("exams:submit", args=[attempt.pk])
    first = alice_client.post(url)
    second = alice_client.post(url, follow=True)
    assert first.status_code == 302 and "Submitted when time ran out" in second.content.decode()
    assert AuditEvent.objects.filter(verb="exam.attempt_graded").count() == 1


def test_a_submit_in_time_says_nothing_about_time(alice: User, midterm: Exam, alice_client: Client) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    response = alice_client.post(reverse("exams:submit", args=[attempt.pk]), follow=True)
    assert "Submitted when time ran out" not in response.content.decode()
    assert Attempt.objects.get().status == AttemptStatus.SUBMITTED


def _save(client: Client, attempt: Attempt, **body: object) -> object:
    payload = {"position": 1, "choice": 0, "flagged": False, "seq": 10**12, **body}
    return client.post(
        reverse("exams:save", args=[attempt.pk]), data=json.dumps(payload), content_type="application/json"
    )


def test_a_save_after_the_deadline_and_grace_is_a_final_409(
    alice: User, midterm: Exam, alice_client: Client
) -> None:
    attempt = _running_out(alice, midterm, seconds_ago=60)
    response = _save(alice_client, attempt)
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert response.json()["closed"] and "Time ran out" in response.json()["error"]  # type: ignore[attr-defined]


def test_a_save_within_grace_is_still_taken(alice: User, midterm: Exam, alice_client: Client) -> None:
    attempt = _running_out(alice, midterm, seconds_ago=5)
    assert _save(alice_client, attempt).status_code == 200  # type: ignore[attr-defined]


def test_a_save_refused_as_sent_is_a_400_with_its_reason(
    alice: User, midterm: Exam, alice_client: Client
) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    response = _save(alice_client, attempt, choice=40)
    assert response.status_code == 400 and "has no choice 41" in response.json()["error"]  # type: ignore[attr-defined]


def test_a_busy_database_is_a_503_to_send_again_later(
    alice: User, midterm: Exam, alice_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)

    def busy(**kwargs: object) -> None:
        raise OperationalError("could not obtain lock")

    monkeypatch.setattr(views, "save_answer", busy)
    response = _save(alice_client, attempt)
    assert response.status_code == 503 and response["Retry-After"] == "3"  # type: ignore[attr-defined,index]
    assert response.json()["retry"]  # type: ignore[attr-defined]


def test_the_qualification_page_shows_an_attempt_in_progress_with_resume(
    alice: User, midterm: Exam, alice_client: Client
) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    page = alice_client.get(reverse("enrollments:qualification", args=["QISP"])).content.decode()
    assert "Attempt 1 is in progress: about 120 minutes left" in page
    assert f'href="{reverse("exams:attempt", args=[attempt.pk])}">Resume the midterm exam' in page
    assert "Go to the midterm exam" not in page


def test_the_qualification_page_grades_an_attempt_whose_time_ran_out(
    alice: User, midterm: Exam, alice_client: Client
) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    page = alice_client.get(reverse("enrollments:qualification", args=["QISP"])).content.decode()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.TIMED_OUT
    assert "Attempt 1 was submitted when time ran out: 0.00%, not passed" in page
    assert reverse("exams:result", args=[attempt.pk]) in page
    assert "<strong>1</strong> attempt left" in page and "in progress" not in page
    assert "Go to the midterm exam" in page
    alice_client.get(reverse("enrollments:qualification", args=["QISP"]))
    assert AuditEvent.objects.filter(verb="exam.attempt_graded").count() == 1


def test_the_dashboard_shows_an_attempt_in_progress_then_its_time_out(
    alice: User, midterm: Exam, alice_client: Client
) -> None:
    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    page = alice_client.get(reverse("dashboard")).content.decode()
    assert "attempt 1, is in progress: about 120 minutes left" in page
    assert f'href="{reverse("exams:attempt", args=[attempt.pk])}">Resume the' in page
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    page = alice_client.get(reverse("dashboard")).content.decode()
    assert "attempt 1, was submitted when time ran out: 0.00%, not passed" in page
    assert reverse("exams:result", args=[attempt.pk]) in page and "in progress" not in page
    assert Attempt.objects.get().status == AttemptStatus.TIMED_OUT
