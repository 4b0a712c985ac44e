"""Exam workflows: start (draw by blueprint), save an answer, submit and grade exactly once,
close overdue attempts, grant accommodations (requests for them: `accommodations.py`)."""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.enrollments.journey import StepState
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import (
    JourneyError,
    journey_for,
    record_step_done,
    record_step_failure,
    version_for,
)
from stormcert.exams.models import (
    FACTOR_MAX,
    FACTOR_MIN,
    Accommodation,
    AccommodationRequest,
    Answer,
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Exam,
    Question,
    RequestStatus,
)
from stormcert.programs.models import Program

ONE = Decimal("1.00")


class ExamError(Exception):
    """The request cannot be carried out; the message says why in plain words."""


class AttemptClosed(ExamError):
    """Saves after the deadline (plus grace) or after submission are refused."""


def exam_values(enrollment: Enrollment, exam: Exam, now: datetime) -> dict[str, Any]:
    values = {v.key: v.value for v in version_for(enrollment, now).values.all()}
    code = exam.step_code
    try:
        return {
            "question_count": int(values[f"{code}.question_count"]),
            "pass_percent": int(values[f"{code}.pass_percent"]),
            "duration_minutes": int(values[f"{code}.duration_minutes"]),
            "attempts": int(values[f"{code}.attempts"]),
            "review": values.get("exam.review", "score_only"),
        }
    except KeyError as exc:
        raise ExamError(
            f"The rules have no {exc.args[0]}; staff must add it before this exam can run."
        ) from None


def active_factor(user: User) -> Decimal:
    accommodation = Accommodation.objects.filter(user=user, revoked_at__isnull=True).first()
    return accommodation.factor if accommodation else ONE


@dataclass
class ExamStatus:
    exam: Exam
    enrollment: Enrollment
    values: dict[str, Any]
    state: str
    note: str
    attempts_left: int | None
    factor: Decimal
    open_attempt: Attempt | None
    last_attempt: Attempt | None

    @property
    def can_start(self) -> bool:
        return self.open_attempt is None and self.state == StepState.CURRENT

    @property
    def minutes(self) -> int:
        return int(self.values["duration_minutes"] * self.factor)


def exam_status(*, user: User, exam: Exam, now: datetime | None = None) -> ExamStatus:
    now = now or timezone.now()
    enrollment = Enrollment.objects.select_related("program").get(user=user, program=exam.program)
    open_attempt = Attempt.objects.filter(user=user, exam=exam, status=AttemptStatus.IN_PROGRESS).first()
    if open_attempt is not None and open_attempt.is_overdue(now):
        submit_attempt(attempt_id=open_attempt.pk, now=now, timed_out=True)
        open_attempt = None
    step = journey_for(enrollment, now).step(exam.step_code)
    return ExamStatus(
        exam=exam,
        enrollment=enrollment,
        values=exam_values(enrollment, exam, now),
        state=step.state,
        note=step.note,
        attempts_left=step.attempts_left,
        factor=active_factor(user),
        open_attempt=open_attempt,
        last_attempt=Attempt.objects.filter(user=user, exam=exam)
        .exclude(status=AttemptStatus.IN_PROGRESS)
        .first(),
    )


def _draw(exam: Exam, user: User, count_expected: int) -> list[tuple[int, int]]:
    """Question ids and choice counts by the blueprint, unseen questions first, in random order."""
    blueprint = list(exam.blueprint.all())
    total = sum(item.count for item in blueprint)
    if total != count_expected:
        raise ExamError(
            f"This exam's blueprint draws {total} questions but the rules ask for {count_expected}; "
            "the program office has been told. Please try again later."
        )
    seen = set(
        AttemptQuestion.objects.filter(attempt__user=user, attempt__exam=exam).values_list(
            "question_id", flat=True
        )
    )
    rng = secrets.SystemRandom()
    drawn: list[tuple[int, int]] = []
    for item in blueprint:
        pool = [
            (pk, len(choices))
            for pk, choices in Question.objects.filter(
                bank=exam.bank, topic=item.topic, retired_at__isnull=True
            ).values_list("pk", "choices")
        ]
        fresh = [q for q in pool if q[0] not in seen]
        repeat = [q for q in pool if q[0] in seen]
        rng.shuffle(fresh)
        rng.shuffle(repeat)
        chosen = (fresh + repeat)[: item.count]
        if len(chosen) < item.count:
            raise ExamError(
                f"The question bank has only {len(pool)} active questions on “{item.topic}” "
                f"and the exam needs {item.count}; the program office must add questions."
            )
        drawn.extend(chosen)
    rng.shuffle(drawn)
    return drawn


def start_attempt(*, user: User, exam: Exam, now: datetime | None = None) -> Attempt:
    """Start (or resume) an attempt. Resuming never adds time; a second start returns the same attempt."""
    now = now or timezone.now()
    open_now = (
        Attempt.objects.select_related("exam")
        .filter(user=user, exam=exam, status=AttemptStatus.IN_PROGRESS)
        .first()
    )
    if open_now is not None:
        if not open_now.is_overdue(now):
            return open_now  # resuming: one query, no lock, and never more time
        submit_attempt(attempt_id=open_now.pk, now=now, timed_out=True)
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("program")
            .get(user=user, program=exam.program)
        )
        open_attempt = Attempt.objects.filter(user=user, exam=exam, status=AttemptStatus.IN_PROGRESS).first()
        if open_attempt is not None:
            return open_attempt
        step = journey_for(enrollment, now).step(exam.step_code)
        if step.state != StepState.CURRENT:
            raise ExamError(
                step.note if step.state != StepState.DONE else f"You have passed the {exam.title}."
            )
        values = exam_values(enrollment, exam, now)
        drawn = _draw(exam, user, values["question_count"])
        number = Attempt.objects.filter(enrollment=enrollment, exam=exam, cycle=enrollment.cycle).count() + 1
        factor = active_factor(user)
        attempt = Attempt.objects.create(
            exam=exam,
            enrollment=enrollment,
            user=user,
            cycle=enrollment.cycle,
            number=number,
            started_at=now,
            duration_minutes=values["duration_minutes"],
            factor=factor,
            deadline=Attempt.deadline_for(now, values["duration_minutes"], factor),
            pass_percent=values["pass_percent"],
            question_count=len(drawn),
        )
        rng = secrets.SystemRandom()
        items = []
        for position, (question_id, choice_count) in enumerate(drawn, start=1):
            order = list(range(choice_count))
            rng.shuffle(order)
            items.append(
                AttemptQuestion(
                    attempt=attempt, position=position, question_id=question_id, choice_order=order
                )
            )
        AttemptQuestion.objects.bulk_create(items)
        # One answer row per item from the start: every save is then a single conditional UPDATE.
        Answer.objects.bulk_create(
            [
                Answer(
                    item=item,
                    attempt=attempt,
                    position=item.position,
                    choice_count=len(item.choice_order),
                    seq=0,
                    saved_at=now,
                )
                for item in AttemptQuestion.objects.filter(attempt=attempt)
            ]
        )
        record(
            actor=user,
            verb="exam.attempt_started",
            obj=attempt,
            data={"exam": exam.step_code, "number": number, "factor": factor, "deadline": attempt.deadline},
            now=now,
        )
        return attempt


@dataclass
class SaveResult:
    accepted: bool
    seq: int
    saved_at: datetime


class AttemptNotFound(ExamError):
    pass


def save_answer(
    *,
    attempt_id: int,
    position: int,
    choice: int | None,
    flagged: bool,
    seq: int,
    user_id: int | None = None,
    now: datetime | None = None,
) -> SaveResult:
    """Save one answer (`choice` is the index as shown). A save with an older `seq` than the one
    stored changes nothing and reports the newer one. With `user_id`, only the owner may save.

    The hot path of exam day: one locking SELECT and one UPDATE in one short transaction."""
    now = now or timezone.now()
    if choice is not None and choice < 0:
        raise ExamError(f"Question {position} has no choice {choice + 1}.")
    with transaction.atomic():
        # The attempt's row lock orders saves against grading: once submit holds it, no save slips in.
        found = Attempt.objects.select_for_update(of=("self",)).select_related("exam").filter(pk=attempt_id)
        if user_id is not None:
            found = found.filter(user_id=user_id)
        attempt = found.first()
        if attempt is None:
            raise AttemptNotFound("No such attempt.")
        if attempt.status != AttemptStatus.IN_PROGRESS:
            raise AttemptClosed("This attempt has been submitted; answers can no longer change.")
        if not attempt.accepts_saves(now):
            raise AttemptClosed(
                f"Time ran out at {timezone.localtime(attempt.deadline):%H:%M:%S}; this answer arrived too late. "
                "Everything saved before then will be graded."
            )
        updated = Answer.objects.filter(
            attempt_id=attempt.pk,
            position=position,
            seq__lt=seq,
            choice_count__gt=-1 if choice is None else choice,
        ).update(choice=choice, flagged=flagged, seq=seq, saved_at=now)
        if updated:
            return SaveResult(True, seq, now)
        current = Answer.objects.filter(attempt_id=attempt.pk, position=position).first()
        if current is None:
            raise ExamError(f"There is no question {position} in this attempt.")
        if choice is not None and choice >= current.choice_count:
            raise ExamError(f"Question {position} has no choice {choice + 1}.")
        return SaveResult(False, current.seq, current.saved_at)


def _grade(attempt: Attempt) -> int:
    rows = Answer.objects.filter(attempt=attempt).select_related("item__question")
    return sum(1 for answer in rows if answer.is_correct())


def submit_attempt(*, attempt_id: int, now: datetime | None = None, timed_out: bool = False) -> Attempt:
    """Grade once, in one transaction; a second submit (two tabs, a double click, tick) returns the result."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = (
            Attempt.objects.select_for_update(of=("self", "enrollment"))
            .select_related("exam", "enrollment")
            .get(pk=attempt_id)
        )
        if attempt.status != AttemptStatus.IN_PROGRESS:
            return attempt
        correct = _grade(attempt)
        percent = (Decimal(100 * correct) / attempt.question_count).quantize(Decimal("0.01"), ROUND_HALF_UP)
        attempt.correct_count = correct
        attempt.score_percent = percent
        attempt.passed = percent >= attempt.pass_percent
        late = timed_out or now > attempt.deadline
        attempt.status = AttemptStatus.TIMED_OUT if late else AttemptStatus.SUBMITTED
        attempt.submitted_at = min(now, attempt.deadline) if late else now
        attempt.save()
        data = {"attempt": attempt.pk, "score": str(percent), "passed": attempt.passed}
        report = record_step_done if attempt.passed else record_step_failure
        try:
            report(
                enrollment=attempt.enrollment,
                step_code=attempt.exam.step_code,
                source="exam",
                data=data,
                now=now,
                as_of=attempt.started_at,
            )
        except JourneyError as exc:
            # The grade stands whatever the journey says; staff see why it was not credited.
            record(
                actor=None, verb="exam.journey_not_updated", obj=attempt, data={"error": str(exc)}, now=now
            )
        record(
            actor=None if late else attempt.user,
            verb="exam.attempt_graded",
            obj=attempt,
            data={**data, "correct": correct, "of": attempt.question_count, "timed_out": late},
            now=now,
        )
        return attempt


def close_overdue(*, now: datetime | None = None) -> int:
    """Grade every attempt whose time (and grace) ran out, from its saved answers. Safe to run twice."""
    now = now or timezone.now()
    closed = 0
    for attempt in Attempt.objects.filter(status=AttemptStatus.IN_PROGRESS).select_related("exam"):
        if attempt.is_overdue(now):
            submit_attempt(attempt_id=attempt.pk, now=now, timed_out=True)
            closed += 1
    return closed


@transaction.atomic
def close_overdue_for(*, user: User, program: Program | None = None, now: datetime | None = None) -> int:
    """Grade this person's attempts (in `program`, or in any) whose time (and grace) ran out: what
    the clock already decided, so a page about their programs never shows a finished attempt as open."""
    now = now or timezone.now()
    closed = 0
    found = Attempt.objects.filter(user=user, status=AttemptStatus.IN_PROGRESS).select_related("exam")
    if program is not None:
        found = found.filter(exam__program=program)
    for attempt in found:
        if attempt.is_overdue(now):
            submit_attempt(attempt_id=attempt.pk, now=now, timed_out=True)
            closed += 1
    return closed


def grant_accommodation(
    *, user: User, factor: Decimal, reason: str, actor: User, now: datetime | None = None
) -> Accommodation:
    now = now or timezone.now()
    if not reason.strip():
        raise ExamError("Give the reason for the accommodation: it is kept in the audit log.")
    if not FACTOR_MIN <= factor <= FACTOR_MAX:
        raise ExamError(
            f"The time factor must be between {FACTOR_MIN} and {FACTOR_MAX} (for example 1.5 for time and a half)."
        )
    Accommodation.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    accommodation = Accommodation.objects.create(
        user=user, factor=factor, reason=reason.strip(), granted_by=actor, granted_at=now
    )
    record(
        actor=actor,
        verb="exam.accommodation_granted",
        obj=user,
        data={"factor": factor},
        reason=reason,
        now=now,
    )
    return accommodation


@transaction.atomic
def revoke_accommodation(
    *, accommodation: Accommodation, actor: User, reason: str, now: datetime | None = None
) -> bool:
    """End an accommodation; True if it changed. Revoking one already ended (a second click,
    or a newer grant replaced it) changes nothing and so writes no audit event."""
    if not reason.strip():
        raise ExamError("Give the reason: it is kept in the audit log.")
    now = now or timezone.now()
    changed = Accommodation.objects.filter(pk=accommodation.pk, revoked_at__isnull=True).update(
        revoked_at=now
    )
    if changed:
        record(actor=actor, verb="exam.accommodation_revoked", obj=accommodation.user, reason=reason, now=now)
    return bool(changed)


def pending_accommodation_requests() -> int:
    """How many accommodation requests wait for staff (the staff home's queue count).

    The workflows for requests live in `stormcert.exams.accommodations`."""
    return AccommodationRequest.objects.filter(status=RequestStatus.PENDING).count()


def topic_breakdown(attempt: Attempt) -> list[tuple[str, int, int]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for answer in Answer.objects.filter(attempt=attempt).select_related("item__question"):
        question = answer.item.question
        totals[question.topic][1] += 1
        totals[question.topic][0] += int(answer.is_correct())
    return sorted((topic, right, total) for topic, (right, total) in totals.items())
