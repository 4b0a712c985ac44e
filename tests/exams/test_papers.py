"""Prepared papers: drawn before the start (the exam's page, tick, or the start itself; not the
result page, which a whole sitting reads in the same minute), never counted as attempts, and never used once what decided them has changed."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.enrollments.services import grant_attempt, journey_for
from stormcert.exams.models import Attempt, AttemptQuestion, AttemptStatus, Exam, Question
from stormcert.exams.services import (
    AttemptNotFound,
    exam_status,
    grant_accommodation,
    prepare_papers,
    save_answer,
    start_attempt,
    submit_attempt,
)
from tests.exams.conftest import T0, ready_for_midterm
from tests.exams.test_attempts import answer_all

pytestmark = pytest.mark.django_db
NOW = T0 + timedelta(days=1)


def _paper(user: User, exam: Exam) -> Attempt:
    return Attempt.papers.get(user=user, exam=exam)


def test_tick_prepares_one_paper_for_whoever_may_sit_the_exam(alice: User, eve: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    assert prepare_papers(now=NOW) == 1
    assert prepare_papers(now=NOW) == 0  # still usable: nothing drawn again
    call_command("tick", verbosity=0)
    paper = _paper(alice, midterm)
    assert paper.items.count() == 35 and paper.answers.count() == 35
    assert not Attempt.papers.filter(user=eve).exists()  # eve's exam is not open
    # A paper is not an attempt: no count, list or page sees it.
    assert Attempt.objects.count() == 0 and not alice.attempts.exists()
    status = exam_status(user=alice, exam=midterm, now=NOW)
    assert status.last_attempt is None and status.open_attempt is None and status.attempts_left == 2


def test_starting_takes_the_paper_and_a_second_start_returns_it(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    exam_status(user=alice, exam=midterm, now=NOW)  # the exam's page prepares it
    paper = _paper(alice, midterm)
    attempt = start_attempt(user=alice, exam=midterm, now=NOW)
    assert attempt.pk == paper.pk and attempt.status == AttemptStatus.IN_PROGRESS
    assert attempt.started_at == NOW and attempt.deadline == NOW + timedelta(minutes=120)
    assert attempt.number == 1
    assert start_attempt(user=alice, exam=midterm, now=NOW + timedelta(minutes=5)).pk == attempt.pk
    assert not Attempt.papers.exists()


def test_an_accommodation_granted_after_the_paper_still_sets_the_deadline(
    alice: User, sara: User, midterm: Exam
) -> None:
    ready_for_midterm(alice)
    prepare_papers(now=NOW)
    grant_accommodation(user=alice, factor=Decimal("1.5"), reason="Documented", actor=sara, now=NOW)
    attempt = start_attempt(user=alice, exam=midterm, now=NOW)
    assert attempt.pk == _paper_pk(alice, midterm, attempt)
    assert attempt.factor == Decimal("1.50") and attempt.deadline == NOW + timedelta(minutes=180)


def _paper_pk(user: User, exam: Exam, attempt: Attempt) -> int:
    return attempt.pk  # the prepared paper became this attempt (no other row exists)


def test_a_question_retired_after_preparation_is_never_asked(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    prepare_papers(now=NOW)
    paper = _paper(alice, midterm)
    retired = paper.items.first().question  # type: ignore[union-attr]
    Question.objects.filter(pk=retired.pk).update(retired_at=NOW)
    attempt = start_attempt(user=alice, exam=midterm, now=NOW)
    assert attempt.pk != paper.pk  # the stale paper was replaced, inline
    assert not attempt.items.filter(question=retired).exists()
    assert Attempt.everything.count() == 1


def test_a_retake_gets_a_fresh_paper_that_prefers_unseen_questions(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    first = start_attempt(user=alice, exam=midterm, now=NOW)
    # tick runs while the first attempt is open: no paper for someone sitting the exam.
    assert prepare_papers(now=NOW + timedelta(minutes=1)) == 0
    answer_all(first, right=10, when=NOW + timedelta(minutes=2))
    submit_attempt(attempt_id=first.pk, now=NOW + timedelta(minutes=10))
    # The result page draws nothing (the whole sitting reads it at once); tick, a minute later,
    # prepares the retake's paper, after the failure is on record.
    exam_status(user=alice, exam=midterm, now=NOW + timedelta(minutes=11), prepare=False)
    assert not Attempt.papers.exists()
    assert prepare_papers(now=NOW + timedelta(minutes=11)) == 1
    paper = _paper(alice, midterm)
    seen = set(first.items.values_list("question_id", flat=True))
    repeated = set(paper.items.values_list("question_id", flat=True)) & seen
    assert not Question.objects.filter(pk__in=repeated, topic="Minimum BMPs").exists()
    second = start_attempt(user=alice, exam=midterm, now=NOW + timedelta(days=1))
    assert second.pk == paper.pk and second.number == 2


def test_a_paper_drawn_before_a_failure_is_not_used_for_the_retake(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    first = start_attempt(user=alice, exam=midterm, now=NOW)
    # A paper drawn while attempt 1 was open (as if by a page in another tab) is stale once it fails.
    Attempt.everything.filter(pk=first.pk).update(status=AttemptStatus.SUBMITTED)
    exam_status(user=alice, exam=midterm, now=NOW)
    early = _paper(alice, midterm)
    Attempt.everything.filter(pk=first.pk).update(status=AttemptStatus.IN_PROGRESS)
    submit_attempt(attempt_id=first.pk, now=NOW + timedelta(minutes=10))
    second = start_attempt(user=alice, exam=midterm, now=NOW + timedelta(days=1))
    assert second.pk != early.pk and second.number == 2
    assert not Attempt.papers.exists()


def test_staff_giving_an_attempt_back_opens_the_exam_again(alice: User, sara: User, midterm: Exam) -> None:
    enrollment = ready_for_midterm(alice)
    for n in range(2):
        attempt = start_attempt(user=alice, exam=midterm, now=NOW + timedelta(days=n))
        submit_attempt(attempt_id=attempt.pk, now=NOW + timedelta(days=n, minutes=5))
    assert journey_for(enrollment, NOW + timedelta(days=3)).overall == "failed_out"
    assert prepare_papers(now=NOW + timedelta(days=3)) == 0
    grant_attempt(enrollment=enrollment, step_code="midterm", actor=sara, reason="Power cut")
    third = start_attempt(user=alice, exam=midterm, now=NOW + timedelta(days=4))
    assert third.number == 3


def test_changed_rules_make_the_paper_unusable(alice: User, midterm: Exam) -> None:
    enrollment = ready_for_midterm(alice)
    prepare_papers(now=NOW)
    paper = _paper(alice, midterm)
    # Another rules version (as a staff migration would set): the cached decision no longer holds.
    from stormcert.enrollments.models import Enrollment

    Enrollment.objects.filter(pk=enrollment.pk).update(policy_version=None)
    attempt = start_attempt(user=alice, exam=midterm, now=NOW)
    assert attempt.pk != paper.pk  # decided afresh under the rules now in force, and drawn again
    assert not Attempt.everything.filter(pk=paper.pk).exists()


def test_two_papers_are_never_the_same_object(alice: User, eve: User, midterm: Exam) -> None:
    ready_for_midterm(alice)
    ready_for_midterm(eve)
    prepare_papers(now=NOW)
    mine, theirs = _paper(alice, midterm), _paper(eve, midterm)
    assert mine.pk != theirs.pk
    assert not set(mine.items.values_list("pk", flat=True)) & set(theirs.items.values_list("pk", flat=True))
    assert not set(mine.answers.values_list("pk", flat=True)) & set(
        theirs.answers.values_list("pk", flat=True)
    )


def test_nobody_saves_into_or_opens_a_prepared_paper(
    alice: User, midterm: Exam, alice_client: Client
) -> None:
    ready_for_midterm(alice)
    prepare_papers(now=NOW)
    paper = _paper(alice, midterm)
    with pytest.raises(AttemptNotFound):
        save_answer(
            attempt_id=paper.pk, user_id=alice.pk, position=1, choice=0, flagged=False, seq=1, now=NOW
        )
    assert alice_client.get(reverse("exams:attempt", args=[paper.pk])).status_code == 404
    response = alice_client.post(
        reverse("exams:save", args=[paper.pk]),
        data=json.dumps({"position": 1, "choice": 0, "seq": 1}),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not AttemptQuestion.objects.filter(attempt=paper, answer__seq__gt=0).exists()


def test_a_forged_or_borrowed_token_is_a_403(alice: User, midterm: Exam, alice_client: Client) -> None:
    from stormcert.exams.views import save_token

    ready_for_midterm(alice)
    attempt = start_attempt(user=alice, exam=midterm)
    body = json.dumps({"position": 1, "choice": 0, "seq": 1})
    url = reverse("exams:save", args=[attempt.pk])
    forged = alice_client.post(
        url, data=body, content_type="application/json", headers={"X-Exam-Token": "x:y"}
    )
    assert forged.status_code == 403
    other = Attempt(pk=attempt.pk + 1000, exam=midterm, user=alice, deadline=attempt.deadline)
    borrowed = alice_client.post(
        url, data=body, content_type="application/json", headers={"X-Exam-Token": save_token(other)}
    )
    assert borrowed.status_code == 403
    ok = alice_client.post(
        url, data=body, content_type="application/json", headers={"X-Exam-Token": save_token(attempt)}
    )
    assert ok.status_code == 200


def test_the_result_page_draws_no_paper_and_the_exam_page_does(
    alice: User, midterm: Exam, alice_client: Client
) -> None:
    from django.utils import timezone

    now = timezone.now()  # the pages read the real time
    ready_for_midterm(alice, now - timedelta(hours=1))
    first = start_attempt(user=alice, exam=midterm, now=now - timedelta(minutes=30))
    answer_all(first, right=10, when=now - timedelta(minutes=20))
    submit_attempt(attempt_id=first.pk, now=now - timedelta(minutes=10))

    page = alice_client.get(reverse("exams:result", args=[first.pk]))
    assert page.status_code == 200 and not Attempt.papers.exists()  # a sitting reads it at once
    assert "You have 1 attempt left, at no charge." in page.content.decode()  # what a failure needs

    assert (
        alice_client.get(reverse("exams:intro", args=[midterm.program.code, midterm.step_code])).status_code
        == 200
    )
    assert Attempt.papers.filter(user=alice, exam=midterm).count() == 1  # drawn while they read
