"""A year of demo history so the staff reports have something to draw after `make run`.

Fourteen past candidates go through the real services with explicit `now=` moments spread over
the last eleven months: they register and pay (test mode), finish the training, sit the midterm
(some fail once, one runs out of time), attend a past session of one of two Trainers of Record,
answer the survey and sit the final; those who finish get their certificate from the usual
completion hook. One withdraws and is refunded. Nothing here writes a figure the services would
not have written; answers are saved straight onto the attempt's answer rows (what `save_answer`
does one request at a time) so the load stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import Profile, Role, User
from stormcert.certificates.models import Source
from stormcert.certificates.services import issue_certificate
from stormcert.core.demo.exams import sit
from stormcert.core.demo.training import complete_by_studying
from stormcert.courses.models import CourseSession, Mode, QuestionKind, Seat, SurveyQuestion
from stormcert.courses.services import publish_session, record_attendance, register_for_session, submit_survey
from stormcert.enrollments.models import SelfAssessmentQuestion
from stormcert.enrollments.services import (
    acknowledge,
    get_enrollment,
    start_registration,
    start_resolution,
    submit_self_assessment,
)
from stormcert.exams.models import Exam
from stormcert.lib.dates import add_years
from stormcert.payments.models import Payment, PaymentState
from stormcert.payments.services import confirm_payment, refund_payment, start_payment
from stormcert.programs.models import Program
from stormcert.programs.rules import program_today
from stormcert.trainers.applications import agreement_in_force
from stormcert.trainers.models import AgreementSignature
from stormcert.trainers.services import grant_term
from stormcert.training.models import CourseKind, Lesson

DOMAIN = "history.example.org"


@dataclass(frozen=True)
class Candidate:
    first: str
    last: str
    city: str
    days_ago: int  # registered this many days before today
    midterm: tuple[float, ...]  # the share of questions answered right, per attempt
    final: tuple[float, ...] = ()
    attends: bool = True
    ratings: tuple[int, int, int, int] = (5, 5, 4, 4)
    withdraws: bool = False  # refunded a week after registering, goes no further
    timed_out: bool = False  # the first midterm attempt runs out of time
    training_days: int = 14  # from registering to finishing the online training


CANDIDATES = [
    Candidate("Rosa", "Martinez", "San Diego", 330, (0.83,), (0.81,), ratings=(5, 5, 5, 4), training_days=40),
    Candidate("Ethan", "Brooks", "Bakersfield", 318, (0.63, 0.77), (0.76,), ratings=(4, 4, 3, 4)),
    Candidate("Grace", "Kim", "Irvine", 296, (0.89,), (0.66, 0.79), training_days=75),
    Candidate("Omar", "Haddad", "Ontario", 270, (0.74,), (0.84,), ratings=(5, 4, 5, 5), training_days=6),
    Candidate("Hannah", "Schultz", "Modesto", 251, (0.71,), (0.73,), ratings=(4, 5, 4, 3)),
    Candidate("Luis", "Ortega", "Salinas", 224, (0.51, 0.71), (0.71,), timed_out=True),
    Candidate("Megan", "Price", "Santa Rosa", 203, (0.86,), (0.9,), ratings=(5, 5, 5, 5), training_days=50),
    Candidate("Derek", "Olsen", "Eureka", 189, (), withdraws=True),
    Candidate("Aisha", "Bello", "Hayward", 176, (0.77,), (0.6, 0.74), ratings=(3, 4, 4, 4)),
    Candidate("Victor", "Tran", "San Jose", 150, (0.8,), (0.8,), ratings=(5, 4, 4, 5), training_days=25),
    Candidate("Nora", "Fitzgerald", "Chico", 121, (0.66, 0.69)),
    Candidate("Sam", "Patel", "Fremont", 97, (0.91,), (0.87,), ratings=(5, 5, 4, 5)),
    Candidate("Julia", "Romero", "Visalia", 75, (0.72,), attends=False),
    Candidate("Ben", "Carter", "Merced", 40, (0.8,)),
]

# QISPs from the earlier system whose certificates come up for renewal in the next three months:
# (first, last, city, days until expiry).
EXPIRING = [
    ("Carlos", "Mendoza", "Pomona", 9),
    ("Helen", "Park", "Torrance", 23),
    ("Frank", "Lucero", "Yuba City", 24),
    ("Irene", "Walsh", "Napa", 47),
    ("Tariq", "Aziz", "Anaheim", 61),
    ("Paula", "Greene", "Vallejo", 83),
]

TRAINER = ("Dana", "Whitfield", "Whitfield Environmental", "Los Angeles")
# Past sessions: this many days before today, who teaches (0 Tom, 1 Dana), city.
SESSIONS = [
    (292, 0, "Sacramento"),
    (270, 1, "Los Angeles"),
    (240, 0, "Oakland"),
    (205, 1, "Long Beach"),
    (180, 0, "Sacramento"),
    (150, 1, "Los Angeles"),
    (118, 0, "Fresno"),
    (90, 1, "Irvine"),
    (60, 0, "Sacramento"),
    (30, 1, "Los Angeles"),
]


def _at(day: datetime, hour: int, program: Program) -> datetime:
    return datetime.combine(timezone.localtime(day, program.zone).date(), time(hour), tzinfo=program.zone)


def _person(first: str, last: str, city: str, password_hash: str, company: str = "") -> User:
    user = User.objects.create_user(
        f"{first}.{last}@{DOMAIN}".lower(), None, first_name=first, last_name=last
    )
    # One hash for everyone: hashing is slow on purpose, and twenty of them were most of the load time.
    User.objects.filter(pk=user.pk).update(password=password_hash)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    Profile.objects.filter(user=user).update(city=city, company=company or f"{last} Industries")
    return user


@transaction.atomic
def load_demo_history(password: str, now: datetime | None = None) -> int:
    """Idempotent: once the history's people exist, nothing is added. Returns the candidates made."""
    now = now or timezone.now()
    program = Program.objects.filter(code="QISP").first()
    tor_program = Program.objects.filter(code="IGP-TOR").first()
    tom = User.objects.filter(email="tom@example.com").first()
    staff = User.objects.filter(is_staff=True).order_by("pk").first()
    if program is None or tor_program is None or tom is None or staff is None:
        return 0
    if User.objects.filter(email__endswith=f"@{DOMAIN}").exists():
        return 0
    exams = {e.step_code: e for e in Exam.objects.filter(program=program)}
    if (
        not {"midterm", "final"} <= exams.keys()
        or not SurveyQuestion.objects.filter(program=program).exists()
    ):
        return 0

    password_hash = make_password(password)
    dana = _person(*TRAINER[:2], TRAINER[3], password_hash, company=TRAINER[2])
    dana.groups.add(*Group.objects.filter(name=Role.TRAINER.value))
    trainers = [tom, dana]
    # Terms covering the sessions' publication dates: last year's and this year's.
    for trainer in trainers:
        for days in (420, 0):
            grant_term(
                user=trainer,
                actor=None,
                reason="Demo data: a Trainer of Record over the past year.",
                source="demo",
                now=now - timedelta(days=days),
                program=tor_program,
            )
    # Standing to teach also needs a current QISP and the agreement in force signed: Dana's
    # QISP covers the whole year of history (Tom's comes from the certificates demo).
    issued = program_today(program, now) - timedelta(days=500)
    issue_certificate(
        holder=dana,
        program=program,
        issued_on=issued,
        expires_on=add_years(issued, 2),
        source=Source.LEGACY,
        notify=False,
    )
    agreement = agreement_in_force(tor_program, now)
    for trainer in trainers:
        if agreement is not None:
            AgreementSignature.objects.get_or_create(
                agreement=agreement,
                user=trainer,
                defaults={"typed_name": trainer.get_full_name(), "signed_at": now, "user_agent": "demo data"},
            )
    sessions: list[CourseSession] = []
    for days, who, city in SESSIONS:
        day = now - timedelta(days=days)
        published = day - timedelta(days=60)
        sessions.append(
            publish_session(
                trainer=trainers[who],
                program=program,
                now=published,
                fields={
                    "title": "QISP one-day training course",
                    "starts_at": _at(day, 8, program),
                    "ends_at": _at(day, 17, program),
                    "time_zone": program.time_zone,
                    "mode": Mode.IN_PERSON,
                    "venue": f"{city} Training Center",
                    "address": "100 Main Street",
                    "city": city,
                    "meeting_details": "",
                    "capacity": 20,
                    "registration_deadline": _at(day - timedelta(days=3), 0, program),
                    "price": Decimal("150.00"),
                    "contact": trainers[who].email,
                    "notes": "Demo history.",
                },
            )
        )

    lessons = list(
        Lesson.objects.filter(
            unit__course__program=program, unit__course__kind=CourseKind.TRAINING, required=True
        )
    )
    assessment = {q.pk: 0 for q in SelfAssessmentQuestion.objects.filter(program=program)}
    questions = list(SurveyQuestion.objects.filter(program=program, is_active=True))
    made = 0
    for c in CANDIDATES:
        user = _person(c.first, c.last, c.city, password_hash)
        user.groups.add(*Group.objects.filter(name=Role.CANDIDATE.value))
        made += 1
        start = _at(now - timedelta(days=c.days_ago), 10, program)
        enrollment = get_enrollment(user=user, program=program, now=start - timedelta(days=2))
        acknowledge(enrollment=enrollment, now=start - timedelta(days=2))
        submit_self_assessment(enrollment=enrollment, answers=assessment, now=start - timedelta(days=1))
        order = start_registration(enrollment=enrollment, now=start)
        started = start_payment(
            order=order, provider_code="testmode", actor=user, return_url="/", cancel_url="/", now=start
        )
        confirm_payment(payment_id=started.payment.pk, now=start)
        if c.withdraws:
            payment = Payment.objects.get(order=order, state=PaymentState.CONFIRMED)
            refund_payment(
                payment=payment,
                amount=payment.amount,
                actor=staff,
                reason="Demo data: withdrew within the first week; the office refunded in full.",
                override_nonrefundable=not order.is_refundable,
                now=start + timedelta(days=7),
            )
            continue
        for index, lesson in enumerate(lessons):
            step = timedelta(days=c.training_days) * (index + 1) / (len(lessons) + 1)
            complete_by_studying(user, lesson, now=start + step)
        moment = start + timedelta(days=c.training_days + 1)
        passed = False
        for number, share in enumerate(c.midterm, start=1):
            attempt = sit(user, exams["midterm"], share, moment, timed_out=c.timed_out and number == 1)
            passed = bool(attempt.passed)
            moment += timedelta(days=8)
        if not passed:
            # Two midterm failures: the rules ask for a re-registration fee, which this one pays.
            order = start_resolution(enrollment=enrollment, now=moment)
            started = start_payment(
                order=order, provider_code="testmode", actor=user, return_url="/", cancel_url="/", now=moment
            )
            confirm_payment(payment_id=started.payment.pk, now=moment)
            continue
        session = next((s for s in sessions if s.registration_deadline > moment), None)
        if session is None:
            continue
        seat = register_for_session(user=user, session=session, now=moment).seat
        record_attendance(
            session=session, actor=session.trainer, marks={seat.pk: c.attends}, now=session.ends_at
        )
        if not c.attends:
            continue
        seat = Seat.objects.get(pk=seat.pk)
        answers = {
            q.pk: {"rating": c.ratings[i % len(c.ratings)], "comment": ""}
            if q.kind == QuestionKind.RATING
            else {"rating": None, "comment": ""}
            for i, q in enumerate(questions)
        }
        submit_survey(seat=seat, user=user, answers=answers, now=session.ends_at + timedelta(hours=3))
        moment = session.ends_at + timedelta(days=9)
        for share in c.final:
            if moment > now:
                break
            sit(user, exams["final"], share, moment)
            moment += timedelta(days=8)
    today = program_today(program, now)
    for first, last, city, days in EXPIRING:
        holder = _person(first, last, city, password_hash)
        expires = today + timedelta(days=days)
        issue_certificate(
            holder=holder,
            program=program,
            issued_on=add_years(expires, -2),
            expires_on=expires,
            source=Source.LEGACY,
            notify=False,
        )
    return made
