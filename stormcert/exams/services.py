"""Exam workflows: start (draw by blueprint), save an answer, submit and grade exactly once,
close overdue attempts, grant accommodations (requests for them: `accommodations.py`)."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    PositiveSmallIntegerField,
    Q,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.enrollments.journey import Journey, StepState
from stormcert.enrollments.models import Enrollment, StepRecord
from stormcert.enrollments.services import (
    JourneyError,
    journey_for,
    record_decided_exam_result,
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


def exam_status(*, user: User, exam: Exam, now: datetime | None = None, prepare: bool = True) -> ExamStatus:
    """What the exam's page shows. When the candidate may start, it also makes sure a paper is
    prepared for them (the draw done now, while they read the instructions), so the start is
    one write. `prepare=False` for the result page: every candidate of a sitting reads it in the
    same minute, right after submitting, and a retake's paper is drawn when they open the exam's
    page again (or by `tick` before that), not in that wave."""
    now = now or timezone.now()
    open_attempt = Attempt.objects.filter(user=user, exam=exam, status=AttemptStatus.IN_PROGRESS).first()
    if open_attempt is not None and open_attempt.is_overdue(now):
        submit_attempt(attempt_id=open_attempt.pk, now=now, timed_out=True)
        open_attempt = None
    # The key's inputs are read with the enrollment, before the journey reads the records: a
    # change in between makes the key older than the decision, so the start finds the key changed
    # and decides again (never the other way round).
    enrollment = (
        Enrollment.objects.select_related("program")
        .annotate(**_key_inputs("pk"))
        .get(user=user, program=exam.program)
    )
    key = enrollment_key(enrollment)
    journey = journey_for(enrollment, now)
    step = journey.step(exam.step_code)
    values = exam_values(enrollment, exam, now)
    status = ExamStatus(
        exam=exam,
        enrollment=enrollment,
        values=values,
        state=step.state,
        note=step.note,
        attempts_left=step.attempts_left,
        factor=active_factor(user),
        open_attempt=open_attempt,
        last_attempt=Attempt.objects.filter(user=user, exam=exam)
        .exclude(status=AttemptStatus.IN_PROGRESS)
        .first(),
    )
    if prepare and status.can_start:
        # A blueprint the bank cannot fill: the start says why; the page still shows.
        with suppress(ExamError):
            ensure_paper(
                user=user, exam=exam, enrollment=enrollment, key=key, journey=journey, values=values, now=now
            )
    return status


# --- Prepared papers -------------------------------------------------------------------------
#
# A paper is drawn ahead of the start (exam_status when the candidate opens the exam's page,
# `tick` for anyone whose exam step is open, and the start itself when none is
# ready) and kept as an Attempt in status PREPARED with its items and empty answer rows. It caches
# the journey's decision that the exam step is current, with the inputs that decision read:
# the enrollment's cycle, window, rules version, completion and route, its live step records
# (count and newest id: any record added or voided changes them) and whether the email is
# verified. `paper_key` renders them; the start reads the same inputs again in the one query
# that finds the paper and uses the paper only if the key is unchanged, the window still open
# and none of its questions retired since. So a failed attempt (a new record), staff granting
# an attempt back (a voided record), an extension (the window), a move to other rules (the
# version: question count, duration, pass mark), a re-registration (the cycle) each invalidate
# it: the start then decides afresh and draws a new paper inline (correct, just slower). An
# accommodation is read at the start, not cached. A paper is re-prepared after each attempt,
# so a retake's paper prefers questions unseen in every earlier attempt.


def _key_inputs(enrollment_ref: str) -> dict[str, Any]:
    """Annotations that read an enrollment's journey inputs (see above) in the same query."""
    live = StepRecord.objects.filter(enrollment=OuterRef(enrollment_ref), voided_at__isnull=True).order_by()
    return {
        "key_records": Subquery(live.values("enrollment").annotate(n=Count("pk")).values("n")[:1]),
        "key_newest": Subquery(live.values("enrollment").annotate(m=Max("pk")).values("m")[:1]),
        # Both the enrollment and the attempt (the two queries that use these) carry user_id.
        "key_verified": Exists(EmailAddress.objects.filter(user_id=OuterRef("user_id"), verified=True)),
    }


def paper_key(enrollment: Enrollment, records: int | None, newest: int | None, verified: bool) -> str:
    """The journey inputs a paper's decision read, as one comparable string."""
    return "|".join(
        str(part)
        for part in (
            enrollment.cycle,
            enrollment.window_start.isoformat() if enrollment.window_start else "",
            enrollment.window_end.isoformat() if enrollment.window_end else "",
            enrollment.policy_version_id,
            enrollment.completed_at is not None,
            enrollment.route,
            records or 0,
            newest or 0,
            verified,
        )
    )


def enrollment_key(enrollment: Enrollment) -> str:
    """The key of an enrollment read with `_key_inputs`."""
    return paper_key(enrollment, enrollment.key_records, enrollment.key_newest, enrollment.key_verified)  # type: ignore[attr-defined]


def _draw(exam: Exam, user: User, count_expected: int) -> list[tuple[int, int]]:
    """Question ids and choice counts by the blueprint, unseen questions first, in random order."""
    blueprint = list(exam.blueprint.all())
    total = sum(item.count for item in blueprint)
    if total != count_expected:
        raise ExamError(
            f"This exam's blueprint draws {total} questions but the rules ask for {count_expected}; "
            "the program office has been told. Please try again later."
        )
    # Seen: asked in an attempt the person started (a prepared paper was never shown).
    seen = set(
        AttemptQuestion.objects.filter(attempt__user=user, attempt__exam=exam)
        .exclude(attempt__status=AttemptStatus.PREPARED)
        .values_list("question_id", flat=True)
    )
    rng = secrets.SystemRandom()
    by_topic: dict[str, list[tuple[int, int]]] = defaultdict(list)
    # One read of the bank's active questions on the blueprint's topics (ids and choice counts).
    for pk, topic, choices in Question.objects.filter(
        bank_id=exam.bank_id, topic__in=[item.topic for item in blueprint], retired_at__isnull=True
    ).values_list("pk", "topic", "choices"):
        by_topic[topic].append((pk, len(choices)))
    drawn: list[tuple[int, int]] = []
    for item in blueprint:
        pool = by_topic[item.topic]
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


def _prepare(
    *,
    user: User,
    exam: Exam,
    enrollment: Enrollment,
    key: str,
    journey: Journey,
    values: dict[str, Any],
    now: datetime,
) -> Attempt:
    """Draw a paper for the step `journey` says is current, with its items and empty answers.
    `key` is the enrollment's key read no later than the journey's facts."""
    step = journey.step(exam.step_code)
    drawn = _draw(exam, user, values["question_count"])
    number = Attempt.objects.filter(enrollment=enrollment, exam=exam, cycle=enrollment.cycle).count() + 1
    others_done = all(s.state == StepState.DONE for s in journey.steps if s.code != exam.step_code)
    paper = Attempt.everything.create(
        exam=exam,
        enrollment=enrollment,
        user=user,
        cycle=enrollment.cycle,
        number=number,
        status=AttemptStatus.PREPARED,
        # Placeholders until the start sets the clock (the row must hold a time).
        started_at=now,
        deadline=now,
        duration_minutes=values["duration_minutes"],
        pass_percent=values["pass_percent"],
        question_count=len(drawn),
        decision={
            "key": key,
            "attempts_left": step.attempts_left,
            "completes": others_done,
            "prepared_at": now.isoformat(),
        },
    )
    rng = secrets.SystemRandom()
    items = []
    for position, (question_id, choice_count) in enumerate(drawn, start=1):
        order = list(range(choice_count))
        rng.shuffle(order)
        items.append(
            AttemptQuestion(attempt=paper, position=position, question_id=question_id, choice_order=order)
        )
    AttemptQuestion.objects.bulk_create(items)
    if not all(item.pk for item in items):  # backends that return no ids from a bulk insert
        items = list(AttemptQuestion.objects.filter(attempt=paper))
    # One answer row per item from the start: every save is then a single conditional UPDATE.
    Answer.objects.bulk_create(
        [
            Answer(
                item=item,
                attempt=paper,
                position=item.position,
                choice_count=len(item.choice_order),
                seq=0,
                saved_at=now,
            )
            for item in items
        ]
    )
    return paper


def ensure_paper(
    *,
    user: User,
    exam: Exam,
    enrollment: Enrollment,
    key: str,
    journey: Journey,
    values: dict[str, Any],
    now: datetime,
) -> Attempt | None:
    """A valid prepared paper for this person and exam, drawing one if there is none (or only a
    stale one). `journey` must say the exam step is current. Safe to run concurrently: the
    one-paper constraint keeps one, and the loser uses it."""
    if journey.step(exam.step_code).state != StepState.CURRENT:
        return None
    paper = _paper_for(user, exam)
    if paper is not None and _usable(paper, exam, now):
        return paper
    try:
        with transaction.atomic():
            Attempt.papers.filter(user=user, exam=exam).delete()
            return _prepare(
                user=user, exam=exam, enrollment=enrollment, key=key, journey=journey, values=values, now=now
            )
    except IntegrityError:
        return _paper_for(user, exam)  # prepared at the same moment by another request


def _paper_for(user: User, exam: Exam) -> Attempt | None:
    """The person's prepared paper (if any), with what it takes to check it is still usable."""
    return _with_checks(Attempt.papers.filter(user=user, exam=exam)).first()


def _with_checks(found: Any) -> Any:
    """Attempts read with their enrollment, the key's inputs, the accommodation in force and
    whether any of their questions was retired: all `_usable` and the start need, in one query."""
    active = Accommodation.objects.filter(user_id=OuterRef("user_id"), revoked_at__isnull=True)
    return found.select_related("enrollment").annotate(
        **_key_inputs("enrollment_id"),
        factor_now=Subquery(active.values("factor")[:1]),
        has_retired=Exists(
            AttemptQuestion.objects.filter(attempt_id=OuterRef("pk"), question__retired_at__isnull=False)
        ),
    )


def _usable(paper: Attempt, exam: Exam, now: datetime) -> bool:
    """Whether the paper's cached decision still holds now (see the note above `_key_inputs`).
    A retired question is checked here rather than by re-preparing a bank's papers when a question
    is retired: questions are retired in the admin, and the check is one EXISTS in the start's read."""
    enrollment = paper.enrollment
    # The paper's query read the key's inputs with the enrollment's row (see `_with_checks`).
    key = paper_key(enrollment, paper.key_records, paper.key_newest, paper.key_verified)  # type: ignore[attr-defined]
    return bool(
        paper.decision
        and paper.decision.get("key") == key
        and not paper.has_retired  # type: ignore[attr-defined]
        and enrollment.window_end is not None
        and now < enrollment.window_end
        and paper.exam_id == exam.pk
    )


def prepare_papers(*, now: datetime | None = None, limit: int = 200) -> int:
    """Tick: draw a paper for each candidate whose exam step is open and who has none (or a stale
    one), ahead of their sitting. Bounded per run; the next run goes on."""
    now = now or timezone.now()
    prepared = 0
    for exam in Exam.objects.select_related("program"):
        steps = list(exam.program.steps.all())
        codes = [s.code for s in steps]
        if exam.step_code not in codes:
            continue
        # The steps before it that leave a record (an account step is done by a verified email).
        before = [s.code for s in steps[: codes.index(exam.step_code)] if s.kind != "account"]
        live = StepRecord.objects.filter(enrollment=OuterRef("pk"), voided_at__isnull=True, outcome="done")
        # Only people at the exam step can need a paper: the step before it done, this one not,
        # no attempt open now. The journey decides the rest for each of them.
        waiting = (
            Enrollment.objects.filter(
                program=exam.program,
                completed_at__isnull=True,
                window_end__gt=now,
                window_start__isnull=False,
            )
            .filter(Exists(live.filter(step_code=before[-1])) if before else Q())
            .exclude(Exists(live.filter(step_code=exam.step_code)))
            .exclude(
                Exists(
                    Attempt.objects.filter(
                        enrollment=OuterRef("pk"), exam=exam, status=AttemptStatus.IN_PROGRESS
                    )
                )
            )
            .select_related("program", "user")
            .annotate(**_key_inputs("pk"))
            .order_by("pk")
        )
        for enrollment in waiting:
            if prepared >= limit:
                return prepared
            paper = _paper_for(enrollment.user, exam)
            if paper is not None and _usable(paper, exam, now):
                continue
            journey = journey_for(enrollment, now)
            if journey.step(exam.step_code).state != StepState.CURRENT:
                continue
            try:
                values = exam_values(enrollment, exam, now)
                if ensure_paper(
                    user=enrollment.user,
                    exam=exam,
                    enrollment=enrollment,
                    key=enrollment_key(enrollment),
                    journey=journey,
                    values=values,
                    now=now,
                ):
                    prepared += 1
            except ExamError:
                continue  # the start will say why; staff see the blueprint on their page
    return prepared


def start_attempt(*, user: User, exam: Exam, now: datetime | None = None) -> Attempt:
    """Start (or resume) an attempt. Resuming never adds time; a second start returns the same attempt.

    With a usable prepared paper: one read (the paper, its key inputs, the accommodation in
    force, the open attempt), then one transaction of two writes: the conditional UPDATE that
    turns the paper into the attempt (PREPARED → IN_PROGRESS, so of a herd of starts exactly one
    wins and the others return its attempt) and the audit event. Without one (or with a stale
    one), the journey decides under the enrollment's row lock and a paper is drawn inline."""
    now = now or timezone.now()
    rows = list(
        _with_checks(
            Attempt.everything.filter(
                user=user, exam=exam, status__in=[AttemptStatus.IN_PROGRESS, AttemptStatus.PREPARED]
            )
        )
    )
    for row in rows:
        row.exam = exam
        row.user = user
    open_now = next((r for r in rows if r.status == AttemptStatus.IN_PROGRESS), None)
    if open_now is not None:
        if not open_now.is_overdue(now):
            return open_now  # resuming: one query, no lock, and never more time
        submit_attempt(attempt_id=open_now.pk, now=now, timed_out=True)
        return _start_deciding(user=user, exam=exam, now=now)
    paper = next((r for r in rows if r.status == AttemptStatus.PREPARED), None)
    if paper is None or not _usable(paper, exam, now):
        return _start_deciding(user=user, exam=exam, now=now)
    factor = paper.factor_now or ONE
    try:
        with transaction.atomic():
            if not _take(paper, factor=factor, now=now):
                # Another start (a second tab, a double click) took it first: theirs is the attempt.
                taken = Attempt.objects.filter(user=user, exam=exam, status=AttemptStatus.IN_PROGRESS).first()
                if taken is None:
                    return _start_deciding(user=user, exam=exam, now=now)
                return taken
            _audit_start(paper, user=user, now=now)
    except IntegrityError:
        # The paper's number is taken (an attempt the journey never heard of): decide afresh.
        return _start_deciding(user=user, exam=exam, now=now)
    return paper


def _take(paper: Attempt, *, factor: Decimal, now: datetime) -> bool:
    """PREPARED → IN_PROGRESS, with the clock set now: one conditional UPDATE."""
    changes = {
        "status": AttemptStatus.IN_PROGRESS,
        "started_at": now,
        "factor": factor,
        "deadline": Attempt.deadline_for(now, paper.duration_minutes, factor),
    }
    if not Attempt.everything.filter(pk=paper.pk, status=AttemptStatus.PREPARED).update(**changes):
        return False
    for name, value in changes.items():
        setattr(paper, name, value)
    return True


def _audit_start(attempt: Attempt, *, user: User, now: datetime) -> None:
    record(
        actor=user,
        verb="exam.attempt_started",
        obj=attempt,
        data={
            "exam": attempt.exam.step_code,
            "number": attempt.number,
            "factor": attempt.factor,
            "deadline": attempt.deadline,
        },
        now=now,
    )


def _start_deciding(*, user: User, exam: Exam, now: datetime) -> Attempt:
    """The start without a usable paper: decide under the enrollment's lock, draw, take."""
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("program")
            .annotate(**_key_inputs("pk"))
            .get(user=user, program=exam.program)
        )
        open_attempt = Attempt.objects.filter(user=user, exam=exam, status=AttemptStatus.IN_PROGRESS).first()
        if open_attempt is not None:
            return open_attempt
        journey = journey_for(enrollment, now)
        step = journey.step(exam.step_code)
        if step.state != StepState.CURRENT:
            raise ExamError(
                step.note if step.state != StepState.DONE else f"You have passed the {exam.title}."
            )
        values = exam_values(enrollment, exam, now)
        Attempt.papers.filter(user=user, exam=exam).delete()
        paper = _prepare(
            user=user,
            exam=exam,
            enrollment=enrollment,
            key=enrollment_key(enrollment),
            journey=journey,
            values=values,
            now=now,
        )
        _take(paper, factor=active_factor(user), now=now)
        _audit_start(paper, user=user, now=now)
        return paper


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
    grace_seconds: int | None = None,
    now: datetime | None = None,
) -> SaveResult:
    """Save one answer (`choice` is the index as shown). A save with an older `seq` than the one
    stored changes nothing and reports the newer one. With `user_id`, only the owner may save.

    The hot path of exam day: one UPDATE of the answer row, in autocommit, that checks in its
    WHERE everything a save needs: the answer is still open (grading closes it first, see
    `Answer.open`), the sequence is newer, the choice exists, and the attempt is the owner's,
    in progress and within its deadline plus grace (an EXISTS on the attempt: those facts are
    fixed once the attempt starts). Only a refused save reads more, to say why.
    `grace_seconds` is the exam's (the exam page's signed token carries it); without it, it is read."""
    now = now or timezone.now()
    if choice is not None and choice < 0:
        raise ExamError(f"Question {position} has no choice {choice + 1}.")
    if grace_seconds is None:
        grace_seconds = (
            Exam.objects.filter(attempts__pk=attempt_id).values_list("grace_seconds", flat=True).first() or 0
        )
    taking = Attempt.objects.filter(
        pk=attempt_id, status=AttemptStatus.IN_PROGRESS, deadline__gte=now - timedelta(seconds=grace_seconds)
    )
    if user_id is not None:
        taking = taking.filter(user_id=user_id)
    updated = Answer.objects.filter(
        Exists(taking),
        attempt_id=attempt_id,
        position=position,
        open=True,
        seq__lt=seq,
        choice_count__gt=-1 if choice is None else choice,
    ).update(choice=choice, flagged=flagged, seq=seq, saved_at=now)
    if updated:
        return SaveResult(True, seq, now)
    return _refused(attempt_id, position, choice, user_id, now)


def too_late_message(deadline: datetime) -> str:
    return (
        f"Time ran out at {timezone.localtime(deadline):%H:%M:%S}; this answer arrived too late. "
        "Everything saved before then will be graded."
    )


def _refused(
    attempt_id: int, position: int, choice: int | None, user_id: int | None, now: datetime
) -> SaveResult:
    """Why a save changed nothing, in the order the page needs it: not theirs (404), closed (409),
    no such question or choice (400), or an older save than the one stored (not accepted)."""
    found = Attempt.objects.select_related("exam").filter(pk=attempt_id)
    if user_id is not None:
        found = found.filter(user_id=user_id)
    attempt = found.first()
    if attempt is None:
        raise AttemptNotFound("No such attempt.")
    current = Answer.objects.filter(attempt_id=attempt.pk, position=position).first()
    if attempt.status != AttemptStatus.IN_PROGRESS or (current is not None and not current.open):
        raise AttemptClosed("This attempt has been submitted; answers can no longer change.")
    if not attempt.accepts_saves(now):
        raise AttemptClosed(too_late_message(attempt.deadline))
    if current is None:
        raise ExamError(f"There is no question {position} in this attempt.")
    if choice is not None and choice >= current.choice_count:
        raise ExamError(f"Question {position} has no choice {choice + 1}.")
    return SaveResult(False, current.seq, current.saved_at)


class OriginalChoice(Func):
    """`choice_order[choice]`: the original index of the choice shown at `choice`, in SQL."""

    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        order_sql, order_params = compiler.compile(self.source_expressions[0])
        choice_sql, choice_params = compiler.compile(self.source_expressions[1])
        return (
            f"CAST(json_extract({order_sql}, '$[' || {choice_sql} || ']') AS INTEGER)",
            (*order_params, *choice_params),
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        order_sql, order_params = compiler.compile(self.source_expressions[0])
        choice_sql, choice_params = compiler.compile(self.source_expressions[1])
        return f"(({order_sql}) ->> ({choice_sql})::integer)::integer", (*order_params, *choice_params)


def _grade(attempt: Attempt) -> int:
    """Correct answers, counted by the database in one statement (the key never leaves it)."""
    return (
        Answer.objects.filter(attempt_id=attempt.pk, choice__isnull=False)
        .annotate(original=OriginalChoice(F("item__choice_order"), F("choice")))
        .filter(original=F("item__question__correct"))
        .count()
    )


def submit_attempt(
    *,
    attempt_id: int,
    now: datetime | None = None,
    timed_out: bool = False,
    user_id: int | None = None,
    carried: Mapping[int, int] | None = None,
) -> Attempt:
    """Grade once, in one transaction; a second submit (two tabs, a double click, tick) returns the result.

    With `user_id`, only the owner's attempt (else AttemptNotFound). Statements, in the usual
    case (the exam step's decision cached on the paper still holds, see above): lock the attempt,
    close its answers, count the correct ones, update the attempt, lock the enrollment (reading
    the decision's inputs), the step record, its audit event, the grading's audit event: 8, with
    BEGIN and COMMIT 10. A pass that completes the journey adds the completion's writes; when the
    inputs changed since the start (staff acted meanwhile), the journey decides afresh.

    `carried`: the answers the submit's own form carried ({position: choice as shown}), see
    `_carry`; one more statement when there are any."""
    now = now or timezone.now()
    with transaction.atomic():
        found = (
            Attempt.objects.select_for_update(of=("self",))
            .select_related("exam", "user")
            .filter(pk=attempt_id)
        )
        if user_id is not None:
            found = found.filter(user_id=user_id)
        attempt = found.first()
        if attempt is None:
            raise AttemptNotFound("No such attempt.")
        if attempt.status != AttemptStatus.IN_PROGRESS:
            return attempt
        kept = _carry(attempt, carried, now) if carried else 0
        # Close first, then read: a save still in flight either committed before this UPDATE (it
        # waited for it) and is counted, or finds its row closed and changes nothing.
        Answer.objects.filter(attempt_id=attempt.pk).update(open=False)
        correct = _grade(attempt)
        percent = (Decimal(100 * correct) / attempt.question_count).quantize(Decimal("0.01"), ROUND_HALF_UP)
        attempt.correct_count = correct
        attempt.score_percent = percent
        attempt.passed = percent >= attempt.pass_percent
        late = timed_out or now > attempt.deadline
        attempt.status = AttemptStatus.TIMED_OUT if late else AttemptStatus.SUBMITTED
        attempt.submitted_at = min(now, attempt.deadline) if late else now
        attempt.save(update_fields=["correct_count", "score_percent", "passed", "status", "submitted_at"])
        data = {"attempt": attempt.pk, "score": str(percent), "passed": attempt.passed}
        _credit(attempt, data, now)
        record(
            actor=None if late else attempt.user,
            verb="exam.attempt_graded",
            obj=attempt,
            data={
                **data,
                "correct": correct,
                "of": attempt.question_count,
                "timed_out": late,
                **({"carried_by_submit": kept} if kept else {}),
            },
            now=now,
        )
        return attempt


def _carry(attempt: Attempt, carried: Mapping[int, int], now: datetime) -> int:
    """Save the answers a submit carried for questions that have no saved answer at all, in one
    UPDATE; how many. The page saves every answer as it is given, but only once its script runs:
    a click before it arrived was caught up with (exam.js), and a page whose script never ran
    (blocked, failed to load) saved nothing while showing every answer chosen. Its submit posts
    the form, answers included, and those are the candidate's own. A question that has a saved
    answer (seq > 0, even a cleared one) keeps it: the form of a stale tab must not overwrite
    what the candidate saved later elsewhere. Within the deadline and grace only, as any save;
    a choice the question does not have is ignored. The page's script disables the answers when
    it submits (everything is saved by then), so its submits carry nothing."""
    if not attempt.accepts_saves(now):
        return 0
    fits = Q()
    choices = []
    for position, choice in carried.items():
        if not 1 <= position <= attempt.question_count:
            continue
        fits |= Q(position=position, choice_count__gt=choice)
        choices.append(When(position=position, then=Value(choice)))
    if not choices:
        return 0
    return Answer.objects.filter(fits, attempt_id=attempt.pk, seq=0, open=True).update(
        choice=Case(*choices, output_field=PositiveSmallIntegerField()),
        seq=int(now.timestamp() * 1000),
        saved_at=now,
    )


def _credit(attempt: Attempt, data: dict[str, Any], now: datetime) -> None:
    """Report the grade to the journey: by the decision cached on the paper when its inputs are
    unchanged (two statements, no journey evaluation), else by the journey's own checks."""
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("program", "user")
        .annotate(**_key_inputs("pk"))
        .get(pk=attempt.enrollment_id)
    )
    attempt.enrollment = enrollment
    decision = attempt.decision or {}
    key = enrollment_key(enrollment)
    step_code = attempt.exam.step_code
    if decision.get("key") == key and enrollment.window_end and attempt.started_at < enrollment.window_end:
        record_decided_exam_result(
            enrollment=enrollment,
            step_code=step_code,
            passed=bool(attempt.passed),
            attempts_left=decision.get("attempts_left"),
            completes=bool(decision.get("completes")),
            source="exam",
            data=data,
            actor=None,
            now=now,
        )
        return
    report = record_step_done if attempt.passed else record_step_failure
    try:
        report(
            enrollment=enrollment,
            step_code=step_code,
            source="exam",
            data=data,
            now=now,
            as_of=attempt.started_at,
        )
    except JourneyError as exc:
        # The grade stands whatever the journey says; staff see why it was not credited.
        record(actor=None, verb="exam.journey_not_updated", obj=attempt, data={"error": str(exc)}, now=now)


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
