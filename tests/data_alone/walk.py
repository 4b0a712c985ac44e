"""The test program's content and the steps of its journey, built only with the project's own
models and services. Every code, figure and fee is read from the loaded definition (the programs'
steps and rules in force), never repeated here: the same walk runs for any program shaped like it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from stormcert.accounts.models import User
from stormcert.core.demo.training import complete_by_studying
from stormcert.courses.models import CourseSession, Mode, QuestionKind, Seat, SurveyQuestion
from stormcert.courses.services import publish_session, record_attendance, register_for_session, submit_survey
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import (
    acknowledge,
    get_enrollment,
    journey_for,
    rules_for,
    start_registration,
    start_resolution,
)
from stormcert.exams.models import Answer, Attempt, BlueprintItem, Exam, Question, QuestionBank
from stormcert.exams.services import save_answer, start_attempt, submit_attempt
from stormcert.payments.models import Order
from stormcert.programs.definitions import load_definition
from stormcert.programs.models import Program, Step
from stormcert.programs.rules import Rules, program_today, rules_in_force
from stormcert.training.models import Course, CourseKind, Lesson, Unit
from tests.enrollments.builders import pay

DEFINITION = Path(__file__).parent / "definition.toml"
QUALIFICATION, TRAINER = "ZW-PRAC", "ZW-TRN"
T = TypeVar("T")


def naming(program: Program, service: Callable[..., T], **kwargs: Any) -> T:
    """Call a service, naming the program when the service takes one (`program=`). Services that
    still pick "the" program of a kind take none today; once they do, the walk names its own
    without being edited."""
    if "program" in inspect.signature(service).parameters:
        kwargs["program"] = program
    return service(**kwargs)


def load() -> None:
    load_definition(DEFINITION.read_text(encoding="utf-8"), source=DEFINITION.name)


def qualification() -> Program:
    return Program.objects.get(code=QUALIFICATION)


def trainer_program_of_the_test() -> Program:
    return Program.objects.get(code=TRAINER)


def zone(program: Program) -> ZoneInfo:
    return ZoneInfo(program.time_zone)


def rules(program: Program, now: datetime) -> Rules:
    return rules_in_force(program, program_today(program, now))


def step_of_kind(program: Program, kind: str) -> Step:
    return program.steps.get(kind=kind)


def exam_steps(program: Program) -> list[Step]:
    return list(program.steps.filter(kind="exam").order_by("position"))


# --- Content the program needs (what staff would set up in the admin) ------------------------------


@dataclass
class Content:
    program: Program
    course: Course
    exams: dict[str, Exam]  # by step code
    survey: list[SurveyQuestion]


def build_content(program: Program, now: datetime) -> Content:
    """A training course with lessons, a question bank, one exam per exam step with a blueprint
    drawing the rules' question count, and the survey questions."""
    training = step_of_kind(program, "training")
    course = Course.objects.create(
        program=program,
        code=f"{program.code.lower()}-{training.code}",
        title=training.title,
        kind=CourseKind.TRAINING,
    )
    unit = Unit.objects.create(course=course, position=1, title=f"{training.title}, part 1")
    for position in range(1, 3):
        Lesson.objects.create(
            unit=unit, position=position, title=f"Reading {position}", kind="reading", body="Read this."
        )
    bank = QuestionBank.objects.create(program=program, code=f"{program.code.lower()}-bank", title="Bank")
    exams = {}
    in_force = rules(program, now)
    for step in exam_steps(program):
        exam = Exam.objects.create(program=program, step_code=step.code, title=step.title, bank=bank)
        count = int(in_force.value(f"{step.code}.question_count"))
        # Two topics, the count split between them, and one spare question per topic.
        halves = {f"{step.code} topic A": count - count // 2, f"{step.code} topic B": count // 2}
        for topic, n in halves.items():
            if n == 0:
                continue
            BlueprintItem.objects.create(exam=exam, topic=topic, count=n)
            for i in range(n + 1):
                Question.objects.create(
                    bank=bank,
                    topic=topic,
                    text=f"{topic}, question {i + 1}?",
                    choices=["right", "wrong", "also wrong"],
                    correct=0,
                )
        exams[step.code] = exam
    survey = [
        SurveyQuestion.objects.create(program=program, position=1, text="Was the workshop useful?"),
        SurveyQuestion.objects.create(
            program=program, position=2, text="Anything to add?", kind=QuestionKind.COMMENT, required=False
        ),
    ]
    return Content(program=program, course=course, exams=exams, survey=survey)


# --- The candidate's steps ----------------------------------------------------------------------------


def register(user: User, program: Program, now: datetime) -> tuple[Enrollment, Order]:
    """Acknowledge, then pay the payment step's order through the test-mode provider."""
    enrollment = get_enrollment(user=user, program=program, now=now)
    acknowledge(enrollment=enrollment, now=now)
    order = start_registration(enrollment=enrollment, now=now)
    pay(order, now)
    enrollment.refresh_from_db()
    order.refresh_from_db()
    return enrollment, order


def finish_training(user: User, course: Course, now: datetime) -> None:
    for lesson in Lesson.objects.filter(unit__course=course, required=True):
        complete_by_studying(user, lesson, now=now)


def sit(user: User, exam: Exam, *, right: int, now: datetime, minutes: int = 5) -> Attempt:
    """One attempt: `right` questions answered correctly, the rest wrongly, submitted in time."""
    attempt = start_attempt(user=user, exam=exam, now=now)
    answers = Answer.objects.filter(attempt=attempt).select_related("item__question").order_by("position")
    for index, answer in enumerate(answers):
        order = answer.item.choice_order
        correct_shown = order.index(answer.item.question.correct)
        shown = correct_shown if index < right else (correct_shown + 1) % len(order)
        save_answer(
            attempt_id=attempt.pk, position=answer.position, choice=shown, flagged=False, seq=1, now=now
        )
    return submit_attempt(attempt_id=attempt.pk, now=now + timedelta(minutes=minutes))


def needed_to_pass(program: Program, step_code: str, now: datetime) -> int:
    """The fewest right answers that pass, from the rules' count and pass mark."""
    in_force = rules(program, now)
    count = int(in_force.value(f"{step_code}.question_count"))
    percent = int(in_force.value(f"{step_code}.pass_percent"))
    return next(n for n in range(count + 1) if Decimal(100 * n) / count >= percent)


def resolve(enrollment: Enrollment, now: datetime) -> Order:
    order = start_resolution(enrollment=enrollment, now=now)
    pay(order, now)
    enrollment.refresh_from_db()
    order.refresh_from_db()
    return order


def consequence(enrollment: Enrollment, step_code: str, now: datetime) -> Any:
    return rules_for(enrollment, now).value(f"consequence.{step_code}_failed_out")


def current_code(enrollment: Enrollment, now: datetime) -> str | None:
    current = journey_for(enrollment, now).current
    return current.code if current else None


# --- Sessions ----------------------------------------------------------------------------------------


def session_fields(program: Program, day: date, capacity: int = 8) -> dict[str, Any]:
    here = zone(program)
    return {
        "title": step_of_kind(program, "course").title,
        "starts_at": datetime.combine(day, time(9), tzinfo=here),
        "ends_at": datetime.combine(day, time(16), tzinfo=here),
        "time_zone": program.time_zone,
        "mode": Mode.IN_PERSON,
        "venue": "Dyke house",
        "address": "1 Polder Road",
        "city": "Fenland",
        "meeting_details": "",
        "capacity": capacity,
        "registration_deadline": datetime.combine(day - timedelta(days=2), time(0), tzinfo=here),
        "price": None,
        "contact": "trainer@example.com",
        "notes": "",
    }


def attend_workshop(
    *, candidate: User, trainer: User, program: Program, content: Content, now: datetime
) -> tuple[CourseSession, Seat]:
    """Publish a session, take a seat, attend (the trainer records it), answer the survey."""
    day = (now + timedelta(days=10)).date()
    session = naming(program, publish_session, trainer=trainer, fields=session_fields(program, day), now=now)
    assert session.program == program, f"the session went to {session.program}, not {program}"
    seat = register_for_session(user=candidate, session=session, now=now).seat
    after = datetime.combine(day + timedelta(days=1), time(10), tzinfo=zone(program))
    problems = record_attendance(session=session, actor=trainer, marks={seat.pk: True}, now=after)
    assert problems == []
    seat.refresh_from_db()
    submit_survey(
        seat=seat,
        user=candidate,
        answers={content.survey[0].pk: {"rating": 5}, content.survey[1].pk: {"comment": "Muddy."}},
        now=after + timedelta(hours=1),
    )
    return session, seat


# --- Trainers ----------------------------------------------------------------------------------------


def holder_of(user: User, program: Program, issued_on: date) -> Any:
    """A current certificate of `program` for `user` (as if qualified earlier), numbered by its rules."""
    from stormcert.certificates.models import Source
    from stormcert.certificates.services import expiry_for, issue_certificate

    in_force = rules_in_force(program, issued_on)
    return issue_certificate(
        holder=user,
        program=program,
        issued_on=issued_on,
        expires_on=expiry_for(in_force, issued_on),
        source=Source.COMPLETION,
        notify=False,
    )


def agreement_for(program: Program, effective_from: date) -> Any:
    from stormcert.trainers.models import AgreementVersion

    return AgreementVersion.objects.create(
        program=program,
        version="1",
        title=f"{program.name} pledge",
        body="I pledge.",
        effective_from=effective_from,
    )


def trainer_in_standing(user: User, *, trainer: Program, teaches: Program, now: datetime) -> User:
    """A trainer of `trainer` in standing at `now`: a term, a current certificate of the program it
    teaches, the agreement in force signed — each made by the trainers' own services."""
    from stormcert.trainers.applications import sign_agreement
    from stormcert.trainers.services import grant_term

    term = naming(trainer, grant_term, user=user, actor=None, reason="set up for the walk", now=now)
    assert term.program == trainer, f"the term went to {term.program}, not {trainer}"
    holder_of(user, teaches, program_today(teaches, now) - timedelta(days=100))
    agreement_for(trainer, program_today(trainer, now) - timedelta(days=30))
    naming(
        trainer,
        sign_agreement,
        user=user,
        typed_name=user.get_full_name(),
        ip_address=None,
        user_agent="test",
        now=now,
    )
    return user


def open_cycle_for(program: Program, **fields: Any) -> Any:
    """A call for applications through the trainers' service."""
    from stormcert.trainers.applications import open_cycle

    return naming(program, open_cycle, rfq_text="Send your dossier.", **fields)
