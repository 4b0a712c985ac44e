"""Demo course data for `make run`: survey questions, a ToR term for Tom, and his sessions.

Original sample content; staff edit survey questions in the admin and trainers publish real sessions.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.courses.models import CourseSession, Mode, PlanStatus, QuestionKind, SurveyQuestion
from stormcert.courses.services import publish_session
from stormcert.enrollments.models import SelfAssessmentQuestion
from stormcert.enrollments.services import (
    acknowledge,
    get_enrollment,
    qualification_program,
    record_step_done,
    start_registration,
    submit_self_assessment,
)
from stormcert.payments.services import confirm_payment, start_payment
from stormcert.trainers.services import grant_term
from stormcert.training.models import Lesson
from stormcert.training.services import complete_lesson

QUESTIONS = [
    ("The course met its stated objectives.", QuestionKind.RATING, True),
    ("The trainer explained the IGP requirements clearly.", QuestionKind.RATING, True),
    ("The case studies and exercises were useful for my work.", QuestionKind.RATING, True),
    ("The venue or virtual platform worked well.", QuestionKind.RATING, True),
    ("What would you change about the course?", QuestionKind.COMMENT, False),
]


def _at(day: datetime, hour: int, zone_name: str = "America/Los_Angeles") -> datetime:
    return datetime.combine(day.date(), time(hour), tzinfo=ZoneInfo(zone_name))


def advance_past_midterm(user: User, now: datetime | None = None) -> None:
    """Walk a demo candidate through steps 2 to 6 with the real services (test-mode payment)."""
    now = now or timezone.now()
    program = qualification_program()
    if program is None:
        return
    enrollment = get_enrollment(user=user, program=program, now=now)
    done = set(enrollment.records.filter(voided_at__isnull=True).values_list("step_code", flat=True))
    if "midterm" in done or enrollment.completed_at:
        return
    if "read_guides" not in done:
        acknowledge(enrollment=enrollment, now=now)
    if "self_assessment" not in done:
        answers = {q.pk: 0 for q in SelfAssessmentQuestion.objects.filter(program=program)}
        submit_self_assessment(enrollment=enrollment, answers=answers, now=now)
    if not enrollment.is_registered():
        order = start_registration(enrollment=enrollment, now=now)
        started = start_payment(
            order=order, provider_code="testmode", actor=user, return_url="/", cancel_url="/", now=now
        )
        confirm_payment(payment_id=started.payment.pk, now=now)
    for lesson in Lesson.objects.filter(unit__course__program=program, required=True):
        complete_lesson(user=user, lesson=lesson, now=now)
    record_step_done(enrollment=enrollment, step_code="midterm", source="demo", actor=None, now=now)


@transaction.atomic
def load_demo_courses(trainer: User, now: datetime | None = None) -> bool:
    """Create the demo survey and sessions once; returns whether anything was created."""
    now = now or timezone.now()
    program = qualification_program()
    if program is None:
        return False
    created = False
    if not SurveyQuestion.objects.filter(program=program).exists():
        for position, (text, kind, required) in enumerate(QUESTIONS, start=1):
            SurveyQuestion.objects.create(
                program=program, position=position, text=text, kind=kind, required=required
            )
        created = True
    grant_term(
        user=trainer, actor=None, reason="Demo data: Tom is a Trainer of Record.", source="demo", now=now
    )
    if CourseSession.objects.filter(trainer=trainer).exists():
        return created
    base = timezone.localtime(now, program.zone)
    plans = [
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
        (
            63,
            Mode.IN_PERSON,
            "Los Angeles",
            "Metro Stormwater Hall",
            "700 Alameda Street",
            30,
            Decimal("150.00"),
        ),
    ]
    for days, mode, city, venue, address, capacity, price in plans:
        day = base + timedelta(days=days)
        session = publish_session(
            trainer=trainer,
            now=now,
            fields={
                "title": "QISP one-day training course",
                "starts_at": _at(day, 8),
                "ends_at": _at(day, 17),
                "time_zone": "America/Los_Angeles",
                "mode": mode,
                "venue": venue,
                "address": address,
                "city": city,
                "meeting_details": "Zoom meeting 555 0100 2026, passcode QISP (camera on for attendance)."
                if mode == Mode.VIRTUAL
                else "",
                "capacity": capacity,
                "registration_deadline": _at(day - timedelta(days=6), 0),
                "price": price,
                "contact": trainer.email,
                "notes": "Bring a laptop and a copy of the IGP. Lunch is on your own.",
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
    return True
