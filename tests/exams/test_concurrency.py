"""Concurrent starts, saves and submits (run on SQLite and on PostgreSQL in CI)."""

from __future__ import annotations

import random
import threading
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
