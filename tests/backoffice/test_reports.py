"""The staff reports' figures from a small hand-built dataset, with the edges that bite:
a registration late on the last evening of a month in California (already the next month in
UTC), a refund, a timed-out attempt, an attempt drawn from a second bank, revoked and renewed
certificates beside the expiring ones."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from conftest import make_person
from stormcert.accounts.models import User
from stormcert.backoffice import reports
from stormcert.backoffice.reports import Period
from stormcert.certificates.models import Certificate, Source
from stormcert.courses.models import (
    CourseSession,
    QuestionKind,
    Seat,
    SeatStatus,
    SessionStatus,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from stormcert.enrollments.models import Enrollment, Route
from stormcert.exams.models import Attempt, AttemptQuestion, AttemptStatus, Exam, Question, QuestionBank
from stormcert.payments.models import (
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentState,
    Refund,
    RefundState,
)
from stormcert.programs.models import Fee, Program

PT = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=PT)
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))


def pt(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PT)


@pytest.fixture
def qisp(programs: None) -> Program:
    return Program.objects.get(code="QISP")


def enrollment(
    program: Program,
    email: str,
    start: datetime | None,
    done: datetime | None = None,
    route: str = Route.STANDARD,
) -> Enrollment:
    user = make_person(email)
    return Enrollment.objects.create(
        user=user,
        program=program,
        window_start=start,
        window_end=start + timedelta(days=730) if start else None,
        completed_at=done,
        route=route,
    )


def certificate(program: Program, holder: User, number: str, expires: date, **extra: Any) -> Certificate:
    return Certificate.objects.create(
        number=number,
        holder=holder,
        program=program,
        issued_on=expires - timedelta(days=730),
        expires_on=expires,
        source=extra.pop("source", Source.LEGACY),
        holder_name=holder.get_full_name(),
        sort_name=holder.last_name,
        search_text=number,
        **extra,
    )


# 1. Enrollments and completions ----------------------------------------------------------------


@pytest.mark.django_db
def test_enrollments_count_in_the_pacific_month(qisp: Program) -> None:
    # 11:30 pm on January 31 in California is February 1 in UTC: it is a January registration.
    late = enrollment(qisp, "late@example.com", pt(2026, 1, 31, 23, 30), done=pt(2026, 3, 2, 9))
    enrollment(qisp, "early@example.com", pt(2026, 2, 1, 0, 30))
    enrollment(qisp, "unpaid@example.com", None)
    enrollment(qisp, "before@example.com", pt(2025, 12, 31, 23, 59), done=pt(2026, 1, 10, 9))
    certificate(qisp, late.user, "Q-1", date(2028, 3, 2), source=Source.COMPLETION, enrollment=late, cycle=1)

    rows = {r.month: r for r in reports.enrollment_activity(Period(date(2026, 1, 1), date(2026, 3, 31)))}

    assert list(rows) == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert (rows[date(2026, 1, 1)].registrations, rows[date(2026, 1, 1)].completions) == (1, 1)
    assert (rows[date(2026, 2, 1)].registrations, rows[date(2026, 2, 1)].completions) == (1, 0)
    assert (rows[date(2026, 3, 1)].registrations, rows[date(2026, 3, 1)].completions) == (0, 1)
    # The certificate is dated by its issue day (2026-03-02 minus two years plus 730 days).
    issued = Certificate.objects.get(number="Q-1").issued_on
    assert rows[issued.replace(day=1)].new_certificates == 1


# 2. Pass rates -------------------------------------------------------------------------------


def _exam(program: Program, step: str, bank: QuestionBank) -> Exam:
    return Exam.objects.create(program=program, step_code=step, title=f"{step.title()} exam", bank=bank)


def _attempt(
    exam: Exam, enr: Enrollment, number: int, passed: bool | None, status: str, at: datetime
) -> Attempt:
    return Attempt.objects.create(
        exam=exam,
        enrollment=enr,
        user=enr.user,
        cycle=1,
        number=number,
        status=status,
        started_at=at - timedelta(hours=1),
        duration_minutes=120,
        deadline=at + timedelta(hours=1),
        pass_percent=70,
        question_count=35,
        submitted_at=None if status == AttemptStatus.IN_PROGRESS else at,
        passed=passed,
    )


@pytest.mark.django_db
def test_pass_rates_by_exam_form_and_attempt(qisp: Program) -> None:
    bank_a = QuestionBank.objects.create(program=qisp, code="a", title="Form A")
    bank_b = QuestionBank.objects.create(program=qisp, code="b", title="Form B")
    midterm, final = _exam(qisp, "midterm", bank_a), _exam(qisp, "final", bank_a)
    people = [enrollment(qisp, f"p{i}@example.com", pt(2026, 1, 5)) for i in range(4)]
    at = pt(2026, 3, 3, 10)
    _attempt(midterm, people[0], 1, True, AttemptStatus.SUBMITTED, at)
    _attempt(midterm, people[1], 1, False, AttemptStatus.TIMED_OUT, at)  # counts, as a failure
    _attempt(midterm, people[1], 2, True, AttemptStatus.SUBMITTED, at + timedelta(days=7))
    _attempt(midterm, people[2], 1, False, AttemptStatus.SUBMITTED, at)
    _attempt(midterm, people[3], 1, None, AttemptStatus.IN_PROGRESS, at)  # not graded: left out
    _attempt(final, people[0], 1, True, AttemptStatus.SUBMITTED, pt(2025, 12, 1, 10))  # before the period
    # Drawn from Form B (an earlier bank of the same exam): reported under its own form.
    on_b = _attempt(final, people[1], 1, False, AttemptStatus.SUBMITTED, at)
    question = Question.objects.create(bank=bank_b, topic="t", text="?", choices=["x", "y"], correct=0)
    AttemptQuestion.objects.create(attempt=on_b, position=1, question=question, choice_order=[0, 1])

    rows = reports.pass_rates(YEAR)

    assert [(r.exam, r.form, r.attempt, r.taken, r.passed, r.timed_out, r.rate) for r in rows] == [
        ("midterm", "Form A", 1, 3, 1, 1, Decimal("33.3")),
        ("midterm", "Form A", 2, 1, 1, 0, Decimal("100.0")),
        ("final", "Form B", 1, 1, 0, 0, Decimal("0.0")),
    ]


# 3. Time to qualify -------------------------------------------------------------------------


@pytest.mark.django_db
def test_time_to_qualify_median_quartiles_and_buckets(qisp: Program) -> None:
    start = pt(2026, 1, 5, 10)
    for i, days in enumerate([10, 40, 45, 100]):
        enrollment(qisp, f"q{i}@example.com", start, done=start + timedelta(days=days, hours=3))
    # Self-directed QISPs have no training to time; unfinished ones have no time yet.
    enrollment(qisp, "pe@example.com", start, done=start + timedelta(days=1), route=Route.SELF_DIRECTED)
    enrollment(qisp, "going@example.com", start)

    result = reports.time_to_qualify(YEAR)

    assert result.count == 4
    assert result.median == Decimal("42.5")
    assert (result.p25, result.p75) == (Decimal("32.5"), Decimal("58.8"))
    assert [(b.label, b.count) for b in result.buckets] == [
        ("0–29", 1),
        ("30–59", 2),
        ("60–89", 0),
        ("90–119", 1),
    ]
    assert reports.time_to_qualify(Period(date(2025, 1, 1), date(2025, 12, 31))).count == 0


# 4. Revenue ---------------------------------------------------------------------------------


def _paid_order(program: Program, user: User, fee_code: str, paid: datetime) -> Order:
    fee = Fee.objects.filter(program=program, code=fee_code).order_by("-effective_from").first()
    assert fee is not None
    order = Order.objects.create(
        user=user, total=fee.amount, status=OrderStatus.PAID, created_at=paid, paid_at=paid
    )
    OrderLine.objects.create(
        order=order,
        program=program,
        fee=fee,
        fee_code=fee.code,
        description=fee.name,
        amount=fee.amount,
        purpose="test",
    )
    Payment.objects.create(
        order=order, provider="testmode", state=PaymentState.CONFIRMED, amount=fee.amount, confirmed_at=paid
    )
    return order


@pytest.mark.django_db
def test_revenue_by_fee_and_month_nets_refunds(qisp: Program, sara: User) -> None:
    user = make_person("buyer@example.com")
    registration = Fee.objects.filter(program=qisp, code="registration").latest("effective_from").amount
    re_registration = Fee.objects.filter(program=qisp, code="re_registration").latest("effective_from").amount
    # Paid at 11 pm on January 31, Pacific time (February in UTC): January revenue.
    first = _paid_order(qisp, user, "registration", pt(2026, 1, 31, 23))
    _paid_order(qisp, user, "re_registration", pt(2026, 2, 10, 9))
    pending = Order.objects.create(user=user, total=Decimal("505.00"), created_at=pt(2026, 2, 11, 9))
    OrderLine.objects.create(
        order=pending,
        program=qisp,
        fee=Fee.objects.filter(program=qisp, code="registration").latest("effective_from"),
        fee_code="registration",
        description="unpaid",
        amount=Decimal("505.00"),
        purpose="test",
    )
    Refund.objects.create(
        order=first,
        payment=first.payments.get(),
        amount=Decimal("100.00"),
        state=RefundState.DONE,
        reason="t",
        created_by=sara,
        done_at=pt(2026, 2, 20, 9),
    )
    Refund.objects.create(
        order=first,
        payment=first.payments.get(),
        amount=Decimal("5.00"),
        state=RefundState.FAILED,
        reason="t",
        created_by=sara,
    )

    result = reports.revenue(Period(date(2026, 1, 1), date(2026, 2, 28)))

    assert {f.key for f in result.fees} == {"QISP/registration", "QISP/re_registration"}
    january, february = result.months
    assert january.by_fee == {"QISP/registration": registration} and january.refunds == Decimal("0.00")
    assert february.by_fee == {"QISP/re_registration": re_registration}
    assert february.refunds == Decimal("100.00")
    assert february.net == re_registration - Decimal("100.00")
    assert result.net == registration + re_registration - Decimal("100.00")
    assert all(isinstance(v, Decimal) for m in result.months for v in m.by_fee.values())


# 5. ToR activity ----------------------------------------------------------------------------


def _session(program: Program, trainer: User, day: datetime, **extra: Any) -> CourseSession:
    return CourseSession.objects.create(
        program=program,
        trainer=trainer,
        starts_at=day,
        ends_at=day + timedelta(hours=8),
        capacity=10,
        registration_deadline=day - timedelta(days=3),
        contact=trainer.email,
        **extra,
    )


@pytest.mark.django_db
def test_trainer_activity_and_ratings(qisp: Program, tom: User) -> None:
    held = _session(qisp, tom, pt(2026, 3, 10, 8))
    _session(qisp, tom, pt(2026, 4, 10, 8), status=SessionStatus.CANCELLED)
    _session(qisp, tom, pt(2026, 12, 10, 8))  # in the period but after `now`: scheduled, not held
    rating_q = SurveyQuestion.objects.create(program=qisp, position=1, text="Good?")
    comment_q = SurveyQuestion.objects.create(
        program=qisp, position=2, text="Why?", kind=QuestionKind.COMMENT
    )
    statuses = [SeatStatus.ATTENDED, SeatStatus.ATTENDED, SeatStatus.ABSENT, SeatStatus.CANCELLED]
    for i, status in enumerate(statuses):
        enr = enrollment(qisp, f"s{i}@example.com", pt(2026, 1, 5))
        seat = Seat.objects.create(session=held, program=qisp, user=enr.user, enrollment=enr, status=status)
        if status == SeatStatus.ATTENDED:
            response = SurveyResponse.objects.create(seat=seat, session=held)
            SurveyAnswer.objects.create(response=response, question=rating_q, rating=4 + i)
            SurveyAnswer.objects.create(response=response, question=comment_q, comment="fine")

    [row] = reports.trainer_activity(YEAR, NOW)

    assert (row.name, row.sessions, row.held, row.cancelled) == ("Tom Nguyen", 2, 1, 1)
    assert (row.registered, row.attended, row.surveys) == (3, 2, 2)
    assert (row.rating, row.ratings) == (Decimal("4.50"), 2)


# 6. Expiring certificates --------------------------------------------------------------------


@pytest.mark.django_db
def test_expiring_in_the_next_90_days_from_today(qisp: Program) -> None:
    holder = make_person("h@example.com", first_name="Hana", last_name="Holder")
    today = date(2026, 11, 22)
    certificate(qisp, holder, "TODAY", today)
    certificate(qisp, holder, "DAY90", today + timedelta(days=90))
    certificate(qisp, holder, "DAY91", today + timedelta(days=91))
    certificate(qisp, holder, "YESTERDAY", today - timedelta(days=1))
    certificate(qisp, holder, "REVOKED", today + timedelta(days=5), revoked_at=NOW)
    certificate(qisp, holder, "RENEWED", today + timedelta(days=6), superseded_at=NOW)

    result = reports.expiring_certificates(NOW)

    assert [c.number for c in result.certificates] == ["TODAY", "DAY90"]
    assert result.weeks[0].week == date(2026, 11, 16)  # the Monday of today's week
    assert sum(w.count for w in result.weeks) == 2
    assert result.weeks[0].count == 1 and result.weeks[-1].count == 1
