"""How many statements the three exam-day hot paths send to the database, counted over HTTP.

Counted through the test client, so the whole request is in the count: the session and user
reads (by middleware or the view), every query, and the transaction's own statements. The tests
run inside pytest-django's transaction, so a request's transaction shows as SAVEPOINT / RELEASE
SAVEPOINT where production sends BEGIN / COMMIT: one statement each either way, and the figure
is what PostgreSQL receives per request (on SQLite as on PostgreSQL). A save outside any
transaction (autocommit) is its statements alone.

Bars (issue 20): start ≤ 8, save ≤ 4, submit ≤ 15. Measured today: start 8 (session, user, exam
with its program, the paper with its checks, BEGIN, the UPDATE that takes it, the audit INSERT,
COMMIT); save 1 with the page's token (the answer's UPDATE), 4 without (session, user, the
exam's grace, the UPDATE); submit 12 (session, user, BEGIN, the attempt's lock, closing its
answers, the grade's COUNT, the attempt's UPDATE, the enrollment's lock with the decision's
inputs, the step record, its audit event, the grading's audit event, COMMIT). A change that adds
a statement to these paths fails here: raise the expected figure only with a reason."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.enrollments.models import StepRecord
from stormcert.exams.models import Attempt, AttemptStatus, Exam
from tests.exams.conftest import ready_for_midterm
from tests.exams.test_attempts import answer_all

pytestmark = pytest.mark.django_db

START_MAX, SAVE_MAX, SUBMIT_MAX = 8, 4, 15
# The exam page every candidate of a sitting opens right after the start (not a bar of the issue,
# but half of what a start costs): session, user, the attempt with its exam and enrollment, the
# questions with their answers in one query, the ToR navigation's term, the exam's program.
PAGE_MAX = 6


def count(call: Callable[[], Any]) -> tuple[list[str], Any]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return [q["sql"] for q in captured.captured_queries], result


def show(sql: list[str]) -> str:
    return f"{len(sql)} statements:\n" + "\n".join(f"  {s[:160]}" for s in sql)


def _ready(alice: User, midterm: Exam) -> tuple[Client, str]:
    ready_for_midterm(alice, timezone.now())
    client = client_for(alice)
    intro = client.get(reverse("exams:intro", args=[midterm.program.code, midterm.step_code]))
    assert intro.status_code == 200
    # Opening the exam's page prepared the paper: the start only takes it.
    assert Attempt.papers.filter(user=alice, exam=midterm).count() == 1
    return client, reverse("exams:start", args=[midterm.program.code, midterm.step_code])


def _token(client: Client, attempt: Attempt) -> str:
    sql, response = count(lambda: client.get(reverse("exams:attempt", args=[attempt.pk])))
    assert response.status_code == 200 and len(sql) <= PAGE_MAX, show(sql)
    assert sum('FROM "exams_attemptquestion"' in s for s in sql) == 1, "one read of the paper, answers joined"
    page = response.content.decode()
    found = re.search(r'data-save-token="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_start_save_and_submit_stay_within_their_statement_counts(alice: User, midterm: Exam) -> None:
    client, start_url = _ready(alice, midterm)
    sql, response = count(lambda: client.post(start_url))
    attempt = Attempt.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exams:attempt", args=[attempt.pk])
    assert len(sql) == START_MAX, show(sql)
    # Only the EXISTS that checks for a retired question joins the bank; no draw reads it.
    assert not any('FROM "exams_question"' in s for s in sql), "the start must not draw"

    url = reverse("exams:save", args=[attempt.pk])
    body = json.dumps({"position": 1, "choice": 0, "flagged": False, "seq": 1})
    token = _token(client, attempt)
    sql, response = count(
        lambda: client.post(url, data=body, content_type="application/json", headers={"X-Exam-Token": token})
    )
    assert response.status_code == 200 and response.json()["accepted"]
    assert len(sql) == 1, show(sql)  # the answer's UPDATE: no session, no user, no transaction

    body = json.dumps({"position": 2, "choice": 0, "flagged": False, "seq": 2})
    sql, response = count(lambda: client.post(url, data=body, content_type="application/json"))
    assert response.status_code == 200 and response.json()["accepted"]
    assert len(sql) == SAVE_MAX, show(sql)  # without the token: session, user, grace, UPDATE

    sql, response = count(lambda: client.post(reverse("exams:submit", args=[attempt.pk])))
    assert response.status_code == 302
    assert len(sql) == 12 <= SUBMIT_MAX, show(sql)
    assert not any("SAVEPOINT" in s for s in sql[3:-1]), "no savepoint inside the grading"
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED and attempt.passed is False
    assert StepRecord.objects.filter(step_code="midterm", outcome="failed").count() == 1


def test_a_passing_submit_is_credited_within_the_same_count(alice: User, midterm: Exam) -> None:
    client, start_url = _ready(alice, midterm)
    client.post(start_url)
    attempt = Attempt.objects.get()
    answer_all(attempt, right=35, when=timezone.now())
    sql, response = count(lambda: client.post(reverse("exams:submit", args=[attempt.pk])))
    assert response.status_code == 302 and len(sql) == 12 <= SUBMIT_MAX, show(sql)
    attempt.refresh_from_db()
    assert attempt.passed and attempt.correct_count == 35
    assert StepRecord.objects.filter(step_code="midterm", outcome="done").count() == 1


def test_a_late_save_with_the_token_is_refused_without_a_query(alice: User, midterm: Exam) -> None:
    client, start_url = _ready(alice, midterm)
    client.post(start_url)
    attempt = Attempt.objects.get()
    token = _token(client, attempt)
    from django.core import signing

    from stormcert.exams.views import SAVE_SALT

    data = signing.loads(token, salt=SAVE_SALT)
    late = signing.dumps({**data, "x": 1}, salt=SAVE_SALT)  # a token whose time ran out in 1970
    body = json.dumps({"position": 1, "choice": 0, "flagged": False, "seq": 1})
    url = reverse("exams:save", args=[attempt.pk])
    sql, response = count(
        lambda: client.post(url, data=body, content_type="application/json", headers={"X-Exam-Token": late})
    )
    assert response.status_code == 409 and response.json()["closed"] and sql == []
