"""A submit carries the form's answers, and the server keeps those it never received.

The exam page saves every answer as it is given, but only once its script runs. A page whose
script never ran (blocked, failed to load) showed every answer chosen and saved none; its submit
posts the form, answers included (`q<position>` = the index shown). Those fill the questions
that have no saved answer at all; a saved answer (even a cleared one) is never overwritten by a
form, which may be a stale tab's. Within the deadline and grace only, as any save."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import client_for, make_person
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.exams.models import Answer, Attempt, AttemptStatus, Exam
from stormcert.exams.services import save_answer, start_attempt, submit_attempt
from tests.exams.conftest import ready_for_midterm
from tests.exams.test_hot_path_queries import count, show

pytestmark = pytest.mark.django_db


def _shown(attempt: Attempt) -> dict[int, tuple[int, int]]:
    """Each position's (correct, wrong) index as shown."""
    shown = {}
    for item in attempt.items.select_related("question"):
        right = item.choice_order.index(item.question.correct)
        shown[item.position] = (right, (right + 1) % len(item.choice_order))
    return shown


def _started(alice: User, midterm: Exam) -> Attempt:
    ready_for_midterm(alice, timezone.now())
    return start_attempt(user=alice, exam=midterm)


def test_a_submit_keeps_the_answers_its_form_carried(alice: User, midterm: Exam) -> None:
    attempt = _started(alice, midterm)
    shown = _shown(attempt)
    form = {f"q{p}": str(right) for p, (right, _) in shown.items()}
    response = client_for(alice).post(reverse("exams:submit", args=[attempt.pk]), form)
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.correct_count == attempt.question_count and attempt.passed
    assert not Answer.objects.filter(attempt=attempt, seq=0).exists()
    graded = AuditEvent.objects.get(verb="exam.attempt_graded", object_id=str(attempt.pk))
    assert graded.data["carried_by_submit"] == attempt.question_count


def test_a_saved_answer_is_never_overwritten_by_a_form(alice: User, midterm: Exam) -> None:
    attempt = _started(alice, midterm)
    shown = _shown(attempt)
    now = timezone.now()
    # Saved before the submit: question 1 right, question 2 answered and then cleared.
    save_answer(attempt_id=attempt.pk, position=1, choice=shown[1][0], flagged=False, seq=5, now=now)
    save_answer(attempt_id=attempt.pk, position=2, choice=shown[2][0], flagged=False, seq=6, now=now)
    save_answer(attempt_id=attempt.pk, position=2, choice=None, flagged=False, seq=7, now=now)
    # A stale tab's form says otherwise for both, and answers question 3, which was never saved.
    form = {"q1": str(shown[1][1]), "q2": str(shown[2][0]), "q3": str(shown[3][0])}
    client_for(alice).post(reverse("exams:submit", args=[attempt.pk]), form)
    answers = {a.position: a.choice for a in Answer.objects.filter(attempt=attempt, position__in=[1, 2, 3])}
    assert answers == {1: shown[1][0], 2: None, 3: shown[3][0]}
    attempt.refresh_from_db()
    assert attempt.correct_count == 2


def test_what_a_form_cannot_carry_is_ignored(alice: User, midterm: Exam) -> None:
    attempt = _started(alice, midterm)
    shown = _shown(attempt)
    n = attempt.question_count
    form = {
        "q1": "99",  # no such choice
        "q2": "-1",
        "q3": "two",
        f"q{n + 1}": "0",  # no such question
        "q0": "0",
        "q00004": str(shown[4][0]),  # leading zeros name question 4 (as int() reads them)
        "q5x": "0",
        "answer": "0",
        "q999999999": "0",
        "q²": "0",  # a digit to str.isdigit, not to int()
        "q٣": "0",
    }
    response = client_for(alice).post(reverse("exams:submit", args=[attempt.pk]), form)
    assert response.status_code == 302
    saved = dict(Answer.objects.filter(attempt=attempt, seq__gt=0).values_list("position", "choice"))
    assert saved == {4: shown[4][0]}


def test_a_form_after_the_deadline_and_grace_carries_nothing(alice: User, midterm: Exam) -> None:
    attempt = _started(alice, midterm)
    shown = _shown(attempt)
    late = attempt.deadline + timedelta(seconds=midterm.grace_seconds + 1)
    graded = submit_attempt(
        attempt_id=attempt.pk, user_id=alice.pk, now=late, carried={p: r for p, (r, _) in shown.items()}
    )
    assert graded.status == AttemptStatus.TIMED_OUT and graded.correct_count == 0
    assert not Answer.objects.filter(attempt=attempt, seq__gt=0).exists()
    # Within the grace, a form still counts (as a save would).
    other = make_person("bea@example.com")
    attempt = _started(other, midterm)
    shown = _shown(attempt)
    in_grace = attempt.deadline + timedelta(seconds=midterm.grace_seconds)
    graded = submit_attempt(attempt_id=attempt.pk, user_id=other.pk, now=in_grace, carried={1: shown[1][0]})
    assert graded.correct_count == 1


def test_another_persons_form_changes_nothing(alice: User, midterm: Exam) -> None:
    attempt = _started(alice, midterm)
    mallory = User.objects.create_user(email="mallory@example.com", password="x" * 12)
    response = client_for(mallory).post(reverse("exams:submit", args=[attempt.pk]), {"q1": "0"})
    assert response.status_code == 404
    assert not Answer.objects.filter(attempt=attempt, seq__gt=0).exists()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS


def test_carrying_costs_one_statement(alice: User, midterm: Exam) -> None:
    attempt = _started(alice, midterm)
    shown = _shown(attempt)
    client = client_for(alice)
    form = {f"q{p}": str(right) for p, (right, _) in shown.items()}
    sql, response = count(lambda: client.post(reverse("exams:submit", args=[attempt.pk]), form))
    assert response.status_code == 302
    assert len(sql) == 13, show(sql)  # test_hot_path_queries' 12, and the one UPDATE
