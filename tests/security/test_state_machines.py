"""Hypothesis state machines over the real services: exam attempts, orders, enrollments.

Each machine makes random sequences of the operations people (and retries, replays and the clock)
really perform, and checks the invariants after every step. machines.py holds the savepoint
plumbing and the CI-sized settings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule, run_state_machine_as_test

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import journey_for
from stormcert.exams.models import Answer, Attempt, AttemptStatus, Exam
from stormcert.exams.services import (
    AttemptClosed,
    ExamError,
    close_overdue,
    exam_values,
    save_answer,
    start_attempt,
    submit_attempt,
)
from stormcert.training.models import Course
from tests.enrollments.builders import finish_training, resolve
from tests.exams.conftest import T0, ready_for_midterm
from tests.security.machines import MACHINE_SETTINGS, SavepointMachine

pytestmark = pytest.mark.django_db

# --- Exam attempts ----------------------------------------------------------------------------------


def graded_snapshot(attempt: Attempt) -> tuple[Any, ...]:
    return (
        attempt.status,
        attempt.correct_count,
        attempt.score_percent,
        attempt.passed,
        attempt.submitted_at,
    )


class AttemptMachine(SavepointMachine):
    """alice sits the midterm: starts, resumes, saves (fresh, stale, replayed, late), submits,
    lets time run out, `tick` closes overdue attempts, and she re-registers after failing out."""

    user: User
    exam: Exam
    enrollment: Enrollment

    def __init__(self) -> None:
        super().__init__()
        self.now = T0 + timedelta(days=1)
        # (attempt, position) -> the highest seq the server accepted: what the row must hold.
        self.seq: dict[tuple[int, int], int] = {}
        self.graded: dict[int, tuple[Any, ...]] = {}
        self.deadlines: dict[int, datetime] = {}

    def _open(self) -> Attempt | None:
        return Attempt.objects.filter(
            user=self.user, exam=self.exam, status=AttemptStatus.IN_PROGRESS
        ).first()

    def _latest(self) -> Attempt | None:
        return Attempt.objects.filter(user=self.user, exam=self.exam).order_by("-pk").first()

    @rule(minutes=st.sampled_from([0, 1, 30, 119, 121, 200, 60 * 24]))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule(seconds=st.integers(-3, 3))
    def time_reaches_the_grace_edge(self, seconds: int) -> None:
        """Jump to a few seconds around deadline + grace of the open attempt (never backwards)."""
        attempt = self._open()
        if attempt is None:
            return
        edge = attempt.deadline + timedelta(seconds=self.exam.grace_seconds + seconds)
        self.now = max(self.now, edge)

    @rule()
    def start_or_resume(self) -> None:
        before = self._open()
        try:
            attempt = start_attempt(user=self.user, exam=self.exam, now=self.now)
        except ExamError:
            assert before is None or before.is_overdue(self.now)
            return
        if before is not None and not before.is_overdue(self.now):
            # Resuming returns the same attempt, never with more time.
            assert attempt.pk == before.pk and attempt.deadline == before.deadline
        self.deadlines.setdefault(attempt.pk, attempt.deadline)
        assert attempt.deadline == self.deadlines[attempt.pk]

    @rule(
        position=st.integers(1, 36),
        choice=st.one_of(st.none(), st.integers(-1, 4)),
        seq=st.integers(0, 12),
        which=st.sampled_from(["open", "latest"]),
    )
    def save(self, position: int, choice: int | None, seq: int, which: str) -> None:
        attempt = self._open() if which == "open" else self._latest()
        if attempt is None:
            return
        stored = self.seq.get((attempt.pk, position), 0)
        try:
            result = save_answer(
                attempt_id=attempt.pk,
                position=position,
                choice=choice,
                flagged=False,
                seq=seq,
                user_id=self.user.pk,
                now=self.now,
            )
        except AttemptClosed:
            assert not attempt.accepts_saves(self.now)
            return
        except ExamError:
            # No such question or choice: refused without changing anything.
            return
        # Accepted exactly when it is newer than what is stored and the attempt is still open.
        assert attempt.accepts_saves(self.now)
        assert result.accepted == (seq > stored), (seq, stored, result)
        if result.accepted:
            self.seq[(attempt.pk, position)] = seq
        else:
            assert result.seq == stored

    @initialize()
    def first_start(self) -> None:
        # Every example sits at least one attempt: an example that never starts tests nothing.
        self.start_or_resume()

    @rule(count=st.sampled_from([1, 24, 25, 35]))
    def answer_correctly(self, count: int) -> None:
        """Save the right choice for the first `count` questions: 25 of 35 passes, 24 does not."""
        attempt = self._open()
        if attempt is None or not attempt.accepts_saves(self.now):
            return
        for item in attempt.items.select_related("question").order_by("position")[:count]:
            seq = self.seq.get((attempt.pk, item.position), 0) + 1
            result = save_answer(
                attempt_id=attempt.pk,
                position=item.position,
                choice=item.choice_order.index(item.question.correct),
                flagged=False,
                seq=seq,
                now=self.now,
            )
            assert result.accepted
            self.seq[(attempt.pk, item.position)] = seq

    @rule(which=st.sampled_from(["open", "latest"]))
    def submit(self, which: str) -> None:
        attempt = self._open() if which == "open" else self._latest()
        if attempt is None:
            return
        graded = submit_attempt(attempt_id=attempt.pk, now=self.now)
        assert graded.status != AttemptStatus.IN_PROGRESS
        if attempt.pk in self.graded:
            # A second submit (double click, two tabs, tick racing the page) changes nothing.
            assert graded_snapshot(graded) == self.graded[attempt.pk]
        self.graded.setdefault(attempt.pk, graded_snapshot(graded))

    @rule()
    def tick(self) -> None:
        close_overdue(now=self.now)

    @rule()
    def reregister_after_failing_out(self) -> None:
        """CASQA: two failed midterms mean paying to re-register and retaking the training."""
        journey = journey_for(self.enrollment, self.now)
        if journey.overall != "failed_out":
            return
        resolve(self.enrollment, self.now)
        finish_training(self.user, Course.objects.get(program=self.exam.program), self.now)
        self.enrollment.refresh_from_db()

    @invariant()
    def at_most_one_attempt_in_progress(self) -> None:
        assert (
            Attempt.objects.filter(user=self.user, exam=self.exam, status=AttemptStatus.IN_PROGRESS).count()
            <= 1
        )

    @invariant()
    def answers_never_go_back(self) -> None:
        rows = Answer.objects.filter(attempt__user=self.user).values_list("attempt_id", "position", "seq")
        for attempt_id, position, seq in rows:
            assert seq == self.seq.get((attempt_id, position), 0), (attempt_id, position, seq)

    @invariant()
    def nothing_saved_after_deadline_and_grace(self) -> None:
        grace = timedelta(seconds=self.exam.grace_seconds)
        for answer in Answer.objects.filter(attempt__user=self.user, seq__gt=0).select_related("attempt"):
            assert answer.saved_at <= answer.attempt.deadline + grace

    @invariant()
    def graded_once_and_never_changed(self) -> None:
        for attempt in Attempt.objects.filter(user=self.user).exclude(status=AttemptStatus.IN_PROGRESS):
            self.graded.setdefault(attempt.pk, graded_snapshot(attempt))
            assert graded_snapshot(attempt) == self.graded[attempt.pk]
            assert attempt.submitted_at is not None and attempt.submitted_at <= attempt.deadline + timedelta(
                seconds=self.exam.grace_seconds
            )
            events = AuditEvent.objects.filter(verb="exam.attempt_graded", object_id=str(attempt.pk))
            assert events.count() == 1, f"attempt {attempt.pk} graded {events.count()} times"

    @invariant()
    def attempts_within_the_limit_per_cycle(self) -> None:
        self.enrollment.refresh_from_db()
        limit = exam_values(self.enrollment, self.exam, self.now)["attempts"]
        for cycle in {a.cycle for a in Attempt.objects.filter(user=self.user, exam=self.exam)}:
            in_cycle = Attempt.objects.filter(user=self.user, exam=self.exam, cycle=cycle)
            assert in_cycle.count() <= limit
            assert sorted(in_cycle.values_list("number", flat=True)) == list(range(1, in_cycle.count() + 1))


def test_attempt_lifecycle(alice: User, midterm: Exam) -> None:
    enrollment = ready_for_midterm(alice)

    class Machine(AttemptMachine):
        pass

    Machine.user, Machine.exam, Machine.enrollment = alice, midterm, enrollment
    run_state_machine_as_test(Machine, settings=MACHINE_SETTINGS)
