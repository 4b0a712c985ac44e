"""Small builders for journey tests: content, payments and step results at a given time."""

from __future__ import annotations

from datetime import datetime

from stormcert.accounts.models import User
from stormcert.core.demo.training import complete_by_studying
from stormcert.enrollments.models import Enrollment, SelfAssessmentQuestion
from stormcert.enrollments.services import (
    acknowledge,
    get_enrollment,
    record_step_done,
    start_registration,
    start_resolution,
    submit_self_assessment,
)
from stormcert.payments.models import Order
from stormcert.payments.services import confirm_payment, start_payment
from stormcert.programs.models import Program
from stormcert.training.models import Course, CourseKind, Lesson, Unit


def make_course(program: Program, lessons: int = 2) -> Course:
    course = Course.objects.create(
        program=program, code=f"{program.code.lower()}-training", title="Training", kind=CourseKind.TRAINING
    )
    unit = Unit.objects.create(course=course, position=1, title="Unit 1")
    for i in range(lessons):
        Lesson.objects.create(unit=unit, position=i, title=f"Lesson {i + 1}", kind="reading", body="Read me.")
    Lesson.objects.create(unit=unit, position=99, title="Optional extra", kind="reading", required=False)
    SelfAssessmentQuestion.objects.create(
        program=program,
        position=1,
        text="Familiar with the IGP?",
        choices=[{"label": "Yes", "hours": -4}, {"label": "No", "hours": 8}],
    )
    return course


def pay(order: Order, now: datetime) -> None:
    started = start_payment(
        order=order, provider_code="testmode", actor=order.user, return_url="/", cancel_url="/", now=now
    )
    confirm_payment(payment_id=started.payment.pk, now=now)


def enroll_and_register(user: User, program: Program, now: datetime) -> Enrollment:
    enrollment = get_enrollment(user=user, program=program, now=now)
    if program.steps.filter(kind="acknowledge").exists():
        acknowledge(enrollment=enrollment, now=now)
    if program.steps.filter(kind="questionnaire").exists():
        question = SelfAssessmentQuestion.objects.filter(program=program).first()
        submit_self_assessment(enrollment=enrollment, answers={question.pk: 1} if question else {}, now=now)
    pay(start_registration(enrollment=enrollment, now=now), now)
    enrollment.refresh_from_db()
    return enrollment


def finish_training(user: User, course: Course, now: datetime) -> None:
    for lesson in Lesson.objects.filter(unit__course=course, required=True):
        complete_by_studying(user, lesson, now=now)


def done(enrollment: Enrollment, code: str, now: datetime) -> None:
    record_step_done(enrollment=enrollment, step_code=code, source="test", now=now)


def resolve(enrollment: Enrollment, now: datetime) -> Order:
    order = start_resolution(enrollment=enrollment, now=now)
    pay(order, now)
    enrollment.refresh_from_db()
    order.refresh_from_db()
    return order
