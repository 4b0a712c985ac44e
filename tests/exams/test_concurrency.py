"""Concurrent starts, saves and submits (run on SQLite and on PostgreSQL in CI)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from django.db import connections
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.exams.models import Answer, Attempt, Exam
from stormcert.exams.services import save_answer, start_attempt, submit_attempt
from tests.exams.conftest import ready_for_midterm

pytestmark = pytest.mark.django_db(transaction=True)
T = TypeVar("T")


def together(n: int, work: Callable[[int], T]) -> list[T]:
    barrier = threading.Barrier(n)

    def run(i: int) -> T:
        try:
            barrier.wait()
            return work(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_ten_concurrent_submits_grade_once(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice, timezone.now())
    attempt = start_attempt(user=alice, exam=midterm)
    results = together(10, lambda _: submit_attempt(attempt_id=attempt.pk).score_percent)
    assert len(set(results)) == 1
    assert AuditEvent.objects.filter(verb="exam.attempt_graded").count() == 1


def test_concurrent_saves_with_shuffled_sequence_numbers_keep_the_newest(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice, timezone.now())
    attempt = start_attempt(user=alice, exam=midterm)
    seqs = list(range(1, 21))
    random.shuffle(seqs)

    def save(i: int) -> Any:
        seq = seqs[i]
        return save_answer(attempt_id=attempt.pk, position=1, choice=seq % 4, flagged=False, seq=seq)

    together(20, save)
    answer = Answer.objects.get(attempt=attempt, item__position=1)
    assert answer.seq == 20
    assert answer.choice == 20 % 4


def test_a_synchronized_start_yields_one_attempt(alice: User, midterm: Exam) -> None:
    ready_for_midterm(alice, timezone.now())
    ids = together(8, lambda _: start_attempt(user=alice, exam=midterm).pk)
    assert len(set(ids)) == 1 and Attempt.objects.count() == 1


def test_concurrent_decisions_on_one_accommodation_request_decide_once(alice: User, sara: User) -> None:
    from decimal import Decimal

    from stormcert.emails.models import OutboundEmail
    from stormcert.exams.accommodations import decide_accommodation_request, request_accommodation
    from stormcert.exams.models import Accommodation
    from stormcert.exams.services import ExamError

    asked = request_accommodation(user=alice, explanation="Dyslexia", factor=Decimal("1.5"), document=None)

    def decide(i: int) -> str:
        try:
            decided = decide_accommodation_request(
                request=asked, grant=i % 2 == 0, factor=None, reason=f"click {i}", actor=sara, staff=True
            )
            return decided.status
        except ExamError:
            return "refused"

    results = together(8, decide)
    assert results.count("refused") == 7
    assert (
        AuditEvent.objects.filter(verb__startswith="exam.accommodation_request_")
        .exclude(verb="exam.accommodation_request_withdrawn")
        .count()
        == 1
    )
    assert Accommodation.objects.count() <= 1
    assert (
        OutboundEmail.objects.filter(
            template__in=["exams/email/accommodation_granted", "exams/email/accommodation_declined"]
        ).count()
        == 1
    )


def test_concurrent_requests_leave_one_waiting(alice: User) -> None:
    from stormcert.exams.accommodations import request_accommodation
    from stormcert.exams.models import AccommodationRequest
    from stormcert.exams.services import ExamError

    def ask(i: int) -> bool:
        try:
            request_accommodation(user=alice, explanation=f"ask {i}", factor=None, document=None)
            return True
        except ExamError:
            return False

    assert sum(together(6, ask)) == 1
    assert AccommodationRequest.objects.filter(user=alice).count() == 1


def test_a_synchronized_start_takes_the_prepared_paper_once(alice: User, midterm: Exam) -> None:
    from stormcert.exams.services import prepare_papers

    ready_for_midterm(alice, timezone.now())
    assert prepare_papers() == 1
    paper = Attempt.papers.get()
    ids = together(8, lambda _: start_attempt(user=alice, exam=midterm).pk)
    assert set(ids) == {paper.pk} and Attempt.objects.count() == 1 and not Attempt.papers.exists()
    assert AuditEvent.objects.filter(verb="exam.attempt_started").count() == 1


def test_a_save_waiting_behind_grading_changes_nothing(
    alice: User, midterm: Exam, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No save lands after grading has read the answers: grading closes the answer rows first,
    and a save that arrives meanwhile waits for the row, then finds it closed (a 409)."""
    from stormcert.exams import services
    from stormcert.exams.services import AttemptClosed

    ready_for_midterm(alice, timezone.now())
    attempt = start_attempt(user=alice, exam=midterm)
    closed = threading.Event()
    real_grade = services._grade

    def slow_grade(graded: Attempt) -> int:
        closed.set()  # the answers are closed (not yet committed): the save goes now
        time.sleep(0.5)
        return real_grade(graded)

    monkeypatch.setattr(services, "_grade", slow_grade)

    def work(i: int) -> str:
        if i == 0:
            submit_attempt(attempt_id=attempt.pk)
            return "graded"
        closed.wait(10)
        try:
            save_answer(attempt_id=attempt.pk, position=1, choice=1, flagged=False, seq=5)
        except AttemptClosed:
            return "closed"
        return "saved"

    assert sorted(together(2, work)) == ["closed", "graded"]
    answer = Answer.objects.get(attempt=attempt, position=1)
    assert answer.seq == 0 and answer.choice is None and not answer.open
