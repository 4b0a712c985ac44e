"""Demo course data for `make run`: survey questions, a ToR term for Tom, and his sessions; and the
builders any program's demo uses (`build_survey`, `advance`, `publish_plans`).

Original sample content; staff edit survey questions in the admin and trainers publish real sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.core.demo.exams import sit
from stormcert.core.demo.training import complete_by_studying
from stormcert.courses.models import CourseSession, Mode, PlanStatus, QuestionKind, SurveyQuestion
from stormcert.courses.services import publish_session
from stormcert.enrollments.models import SelfAssessmentQuestion
from stormcert.enrollments.services import (
    acknowledge,
    get_enrollment,
    journey_for,
    record_step_done,
    start_registration,
    submit_self_assessment,
)
from stormcert.exams.models import Exam
from stormcert.payments.services import confirm_payment, start_payment
from stormcert.programs.models import Program
from stormcert.trainers.services import grant_term
from stormcert.training.models import CourseKind, Lesson

QUESTIONS = [
    ("The course met its stated objectives.", QuestionKind.RATING, True),
    ("The trainer explained the IGP requirements clearly.", QuestionKind.RATING, True),
    ("The case studies and exercises were useful for my work.", QuestionKind.RATING, True),
    ("The venue or virtual platform worked well.", QuestionKind.RATING, True),
    ("What would you change about the course?", QuestionKind.COMMENT, False),
]


# Tom's upcoming QISP sessions: days from today, mode, city, venue, address, capacity, price.
PLANS: list[tuple[int, str, str, str, str, int, Decimal | None]] = [
    (
        21,
        Mode.IN_PERSON,
        "Sacramento",
        "Capitol Training Center, Room 2",
        "1020 N Street",
        24,
        Decimal("150.00"),
    ),
    (35, Mode.IN_PERSON, "Oakland", "Port of Oakland Conference Room", "530 Water Street", 2, None),
    (49, Mode.VIRTUAL, "", "", "", 30, Decimal("125.00")),
    (63, Mode.IN_PERSON, "Los Angeles", "Metro Stormwater Hall", "700 Alameda Street", 30, Decimal("150.00")),
]


def _at(day: datetime, hour: int, zone_name: str = "America/Los_Angeles") -> datetime:
    return datetime.combine(day.date(), time(hour), tzinfo=ZoneInfo(zone_name))


def build_survey(program: Program, questions: Sequence[tuple[str, str, bool]]) -> bool:
    """The program's course survey questions, once: (text, kind, required)."""
    if SurveyQuestion.objects.filter(program=program).exists():
        return False
    for position, (text, kind, required) in enumerate(questions, start=1):
        SurveyQuestion.objects.create(
            program=program, position=position, text=text, kind=kind, required=required
        )
    return True


def advance(
    user: User, program: Program, *, through: str, now: datetime | None = None, days_ago: int = 30
) -> None:
    """Walk a demo candidate through `program`'s steps up to and including the step `through`,
    one step a day from `days_ago` days before `now`, with the real services: acknowledgement,
    questionnaire, registration (test-mode payment), the online training's lessons, exams sat
    and passed. A course or survey step is recorded as done by the demo (a session attended
    before the demo's records start). Any program; nothing happens once the step is done."""
    now = now or timezone.now()
    codes = list(program.steps.order_by("position").values_list("code", flat=True))
    target = codes.index(through)
    moment = now - timedelta(days=days_ago)
    enrollment = get_enrollment(user=user, program=program, now=moment)
    for _ in codes:
        if moment > now:
            return
        current = journey_for(enrollment, moment).current
        if current is None or codes.index(current.code) > target:
            return
        if current.kind == "account":
            return  # an unverified address: the person verifies it first
        if current.kind == "acknowledge":
            acknowledge(enrollment=enrollment, now=moment)
        elif current.kind == "questionnaire":
            answers = {q.pk: 0 for q in SelfAssessmentQuestion.objects.filter(program=program)}
            submit_self_assessment(enrollment=enrollment, answers=answers, now=moment)
        elif current.kind == "payment":
            order = start_registration(enrollment=enrollment, now=moment)
            started = start_payment(
                order=order, provider_code="testmode", actor=user, return_url="/", cancel_url="/", now=moment
            )
            confirm_payment(payment_id=started.payment.pk, now=moment)
        elif current.kind == "training":
            for lesson in Lesson.objects.filter(
                unit__course__program=program, unit__course__kind=CourseKind.TRAINING, required=True
            ):
                complete_by_studying(user, lesson, now=moment)
        elif current.kind == "exam":
            sit(user, Exam.objects.get(program=program, step_code=current.code), 0.9, moment)
        else:
            record_step_done(enrollment=enrollment, step_code=current.code, source="demo", now=moment)
        enrollment.refresh_from_db()
        moment += timedelta(days=1)


def publish_plans(
    trainer: User,
    program: Program,
    plans: list[tuple[int, str, str, str, str, int, Decimal | None]],
    *,
    title: str,
    notes: str,
    meeting_details: str = "",
    now: datetime,
) -> list[CourseSession]:
    """Publish `trainer`'s upcoming sessions of `program` (see PLANS), once per trainer and program."""
    if CourseSession.objects.filter(trainer=trainer, program=program).exists():
        return []
    base = timezone.localtime(now, program.zone)
    sessions = []
    for days, mode, city, venue, address, capacity, price in plans:
        day = base + timedelta(days=days)
        session = publish_session(
            trainer=trainer,
            program=program,
            now=now,
            fields={
                "title": title,
                "starts_at": _at(day, 8, program.time_zone),
                "ends_at": _at(day, 17, program.time_zone),
                "time_zone": program.time_zone,
                "mode": mode,
                "venue": venue,
                "address": address,
                "city": city,
                "meeting_details": meeting_details if mode == Mode.VIRTUAL else "",
                "capacity": capacity,
                "registration_deadline": _at(day - timedelta(days=6), 0, program.time_zone),
                "price": price,
                "contact": trainer.email,
                "notes": notes,
            },
        )
        if mode == Mode.VIRTUAL:
            # The demo's plan is already accepted so the virtual session shows on the calendar.
            CourseSession.objects.filter(pk=session.pk).update(
                plan_status=PlanStatus.ACCEPTED,
                virtual_plan="Zoom with breakout rooms; attendance checked by camera at four points in the day.",
                plan_submitted_at=now,
                plan_decided_at=now,
                plan_note="Demo data.",
            )
        sessions.append(session)
    return sessions


@transaction.atomic
def load_demo_courses(trainer: User, now: datetime | None = None) -> bool:
    """Create the QISP survey and Tom's QISP sessions once; returns whether anything was created."""
    now = now or timezone.now()
    program = Program.objects.filter(code="QISP").first()
    tor_program = Program.objects.filter(code="IGP-TOR").first()
    if program is None or tor_program is None:
        return False
    created = build_survey(program, QUESTIONS)
    grant_term(
        user=trainer,
        actor=None,
        reason="Demo data: Tom is a Trainer of Record.",
        source="demo",
        now=now,
        program=tor_program,
    )
    sessions = publish_plans(
        trainer,
        program,
        PLANS,
        title="QISP one-day training course",
        notes="Bring a laptop and a copy of the IGP. Lunch is on your own.",
        meeting_details="Zoom meeting 555 0100 2026, passcode QISP (camera on for attendance).",
        now=now,
    )
    return created or bool(sessions)
