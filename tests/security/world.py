"""One populated world for the access-control matrix: every kind of object a URL can point at,
each owned by a named persona, built through the real services at today's date.

alice owns everything a candidate can own (enrollment, an exam attempt, orders and payments, a
certificate, a course seat, a ToR application with a document, an accommodation request, a name
change request with a document); bob is another candidate with nothing of hers; tom is a Trainer
of Record with a session; rita reviews alice's statement; sara is staff with two-factor set up;
sam and stan are staff accounts without two-factor in their session (sam has no authenticator
app, stan has one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from conftest import enable_totp, make_person
from stormcert.accounts.models import ClaimRequest, Role, User
from stormcert.backoffice.models import ImportRun
from stormcert.certificates.names import request_name_change
from stormcert.core.demo.exams import load_demo_exams
from stormcert.core.demo.legacy import load_demo_legacy
from stormcert.core.demo.training import COURSE_CODE, load_demo_content
from stormcert.courses.models import Mode
from stormcert.courses.services import register_for_session, submit_virtual_plan
from stormcert.emails.models import OutboundEmail
from stormcert.enrollments.models import Enrollment, SelfAssessmentQuestion, SelfDirectedApplication
from stormcert.enrollments.services import (
    acknowledge,
    get_enrollment,
    start_registration,
    submit_self_assessment,
)
from stormcert.exams.accommodations import request_accommodation
from stormcert.exams.banks.services import preview_import
from stormcert.exams.models import Exam, QuestionBank
from stormcert.exams.services import grant_accommodation, start_attempt, submit_attempt
from stormcert.payments.fulfilment import register
from stormcert.payments.models import Order, OrderLine
from stormcert.payments.services import create_order, start_payment
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.programs.models import Program
from stormcert.trainers.applications import (
    add_document,
    assign_reviewer,
    declare_conflict,
    save_draft,
    start_application,
    start_fee_payment,
    submit_application,
)
from stormcert.trainers.models import ApplicationCycle
from stormcert.trainers.services import grant_term
from stormcert.trainers.yearly import term_renewal_status
from stormcert.training.models import Course, Lesson, LessonKind
from tests.certificates.builders import certify
from tests.courses.conftest import PT, make_session
from tests.enrollments.builders import done, finish_training, pay
from tests.trainers.builders import ANSWERS, PDF, pdf, tor_program


@dataclass
class World:
    users: dict[str, User]
    objects: dict[str, Any] = field(default_factory=dict)

    def pk(self, key: str) -> int:
        return int(self.objects[key].pk)

    def pk_of_user(self, persona: str) -> int:
        return int(self.users[persona].pk)


def build_world() -> World:
    now = timezone.now()
    load_definition_file(DEFAULT_DEFINITION)
    load_demo_content()
    load_demo_exams()
    qisp = Program.objects.get(code="QISP")

    alice = make_person("alice@example.com", roles=(Role.CANDIDATE,), first_name="Alice")
    bob = make_person("bob@example.com", roles=(Role.CANDIDATE,), first_name="Bob")
    tom = make_person("tom@example.com", roles=(Role.TRAINER,), first_name="Tom")
    rita = make_person("rita@example.com", roles=(Role.REVIEWER,), first_name="Rita")
    sara = make_person("sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara")
    # Staff powers need two-factor passed in the session (has_staff_powers): the matrix gives
    # sara's session the code, as at sign-in; sam never set up the app; stan has it but his
    # session never gave the code.
    enable_totp(sara)
    sam = make_person("sam@example.com", roles=(Role.STAFF,), staff=True, first_name="Sam")
    stan = make_person("stan@example.com", roles=(Role.STAFF,), staff=True, first_name="Stan")
    enable_totp(stan)

    # Tom: a current ToR term, a published in-person session and a virtual one with a plan.
    term = grant_term(user=tom, program=tor_program(), actor=None, reason="access matrix world", now=now)
    _trainer_program_data(tom, now)
    # Standing to teach also needs a current QISP (the agreement is signed just above).
    certify(tom, issued_on=(now - timedelta(days=60)).date())
    session = make_session(tom, now=now, **_dates(now, days=40))
    virtual = make_session(
        tom,
        now=now,
        **_dates(now, days=50),
        mode=Mode.VIRTUAL,
        venue="",
        address="",
        city="",
        meeting_details="Zoom link sent to registrants",
    )
    submit_virtual_plan(session=virtual, actor=tom, plan="Breakout rooms and a shared whiteboard.", now=now)
    term_renewal = term_renewal_status(tom, tor_program(), now=now)
    if term_renewal is not None:
        # The row staff confirm (reading the status saves none; the first action would).
        term_renewal.renewal.save()

    # Alice: registered and trained (her paid registration order), a graded midterm attempt,
    # credit for the midterm, a seat in Tom's session, a certificate, and a ToR application.
    enrollment = _registered_and_trained(alice, qisp, now - timedelta(hours=3))
    midterm = Exam.objects.get(step_code="midterm")
    attempt = start_attempt(user=alice, exam=midterm, now=now - timedelta(hours=2))
    submit_attempt(attempt_id=attempt.pk, now=now - timedelta(hours=2) + timedelta(minutes=30))
    done(enrollment, "midterm", now - timedelta(hours=1))
    seat = register_for_session(user=alice, session=session, now=now).seat
    certificate = certify(alice, issued_on=(now - timedelta(days=30)).date())

    cycle = ApplicationCycle.objects.get()
    application = start_application(user=alice, cycle=cycle, now=now)
    pay(start_fee_payment(application=application, now=now), now)
    save_draft(application=application, answers=ANSWERS, now=now)
    document = add_document(application=application, label="Résumé", upload=pdf(), now=now)
    application = submit_application(application=application, now=now)
    assignment = assign_reviewer(application=application, reviewer=rita, actor=sara, now=now)
    # Rita declared no conflict, so she may read alice's documents (a conflicted reviewer may not).
    declare_conflict(assignment=assignment, conflict=False, note="", now=now)
    cycle.rfq_document.save("rfq.pdf", ContentFile(PDF), save=True)

    # Bob's accommodation in force, granted by staff (what "end an accommodation" acts on).
    granted = grant_accommodation(
        user=bob, factor=Decimal("1.25"), reason="World: a granted one", actor=sara, now=now
    )
    accommodation = request_accommodation(
        user=alice,
        explanation="A documented reading disability; extra time as advised.",
        factor=Decimal("1.50"),
        document=SimpleUploadedFile("letter.pdf", pdf().read(), content_type="application/pdf"),
        now=now,
    )
    # Her application for the self-directed route, with its license PDF, waiting for staff. Made
    # as a row: the service refuses her (she is already qualified), the pages must still guard it.
    self_directed = SelfDirectedApplication(
        user=alice,
        program=qisp,
        license_type="PE-civil",
        license_label="Professional Engineer, civil",
        license_number="C 81234",
        license_state="California",
        document_name="license.pdf",
        document_sha256="0" * 64,
        applied_at=now,
    )
    self_directed.document.save("license.pdf", ContentFile(PDF), save=True)
    # Her request to change the name on her certificate, with a supporting PDF, waiting for staff.
    name_change = request_name_change(
        person=alice,
        first_name="Alice",
        last_name="Moreno",
        reason="Married in February.",
        document=SimpleUploadedFile("marriage.pdf", pdf().read(), content_type="application/pdf"),
        now=now,
    )
    # Her paid registration order (order page, receipts), and an order still open for payment
    # with a test-mode payment started on it (pay and checkout pages).
    registration_order = Order.objects.get(user=alice, lines__fee_code="registration")
    open_payment = start_payment(
        order=_open_order(alice, qisp),
        provider_code="testmode",
        actor=alice,
        return_url="/",
        cancel_url="/",
        now=now,
    ).payment

    # The earlier system: the sample import run and Lee's claim request waiting for staff.
    load_demo_legacy(sara, "correct-horse-battery-staple")
    bank_import = preview_import(
        bank=QuestionBank.objects.order_by("pk")[0],
        filename="bank.gift",
        content=b"Is this a question? {T}\n",
        actor=sara,
        reason="Access matrix",
    )

    lesson = Lesson.objects.filter(unit__course__code=COURSE_CODE).order_by("unit__position", "position")[0]
    # A document lesson (optional, so alice's finished training stays finished).
    handbook = Lesson(unit=lesson.unit, position=90, title="Handbook", kind=LessonKind.FILE, required=False)
    handbook.file.save("handbook.pdf", ContentFile(PDF), save=True)
    return World(
        users={"alice": alice, "bob": bob, "tom": tom, "rita": rita, "sara": sara, "sam": sam, "stan": stan},
        objects={
            "program": qisp,
            "enrollment": enrollment,
            "exam": midterm,
            "attempt": attempt,
            "order": registration_order,
            "payment": open_payment,
            "certificate": certificate,
            "session": session,
            "virtual_session": virtual,
            "seat": seat,
            "cycle": cycle,
            "application": application,
            "document": document,
            "assignment": assignment,
            "accommodation": accommodation,
            "granted_accommodation": granted,
            "self_directed": self_directed,
            "name_change": name_change,
            "term_renewal": term_renewal.renewal if term_renewal else None,
            "term": term,
            "tor_content": _tor_content(now),
            "import_run": ImportRun.objects.order_by("pk").first(),
            "bank_import": bank_import,
            "claim": ClaimRequest.objects.order_by("pk").first(),
            "email": OutboundEmail.objects.filter(to__icontains="alice").order_by("pk").first()
            or OutboundEmail.objects.order_by("pk").first(),
            "lesson": lesson,
            "document_lesson": handbook,
        },
    )


def _dates(now: datetime, *, days: int) -> dict[str, Any]:
    """A session `days` from today (the world is built at the real date, not a frozen one)."""
    day = timezone.localtime(now, PT).date() + timedelta(days=days)
    return {
        "starts_at": datetime.combine(day, time(8), tzinfo=PT),
        "ends_at": datetime.combine(day, time(17), tzinfo=PT),
        "registration_deadline": datetime.combine(day - timedelta(days=3), time(0), tzinfo=PT),
    }


def _registered_and_trained(user: User, program: Program, when: datetime) -> Enrollment:
    """Through the demo content's steps 1-5: acknowledged, self-assessed, paid, trained."""
    enrollment = get_enrollment(user=user, program=program, now=when)
    acknowledge(enrollment=enrollment, now=when)
    questions = SelfAssessmentQuestion.objects.filter(program=program)
    submit_self_assessment(enrollment=enrollment, answers={q.pk: 0 for q in questions}, now=when)
    pay(start_registration(enrollment=enrollment, now=when), when)
    finish_training(user, Course.objects.get(code=COURSE_CODE), when + timedelta(minutes=1))
    enrollment.refresh_from_db()
    return enrollment


@register("tests.access_matrix")
def _fulfil_nothing(line: OrderLine, now: datetime) -> None:
    # The matrix never pays this order; the purpose only has to exist for create_order.
    return None


def _open_order(user: User, program: Program) -> Order:
    """An order left unpaid, so the pay and test-mode checkout pages have something to show."""
    return create_order(user=user, program=program, fee_code="extension", purpose="tests.access_matrix")


def _tor_content(now: datetime) -> object:
    """The trainer program's course information, a page with its PDF (trainers.content)."""
    from django.core.files.base import ContentFile

    from stormcert.trainers.models import TrainerContent

    item = TrainerContent.objects.create(
        program=tor_program(),
        kind="course_information",
        title="Course outline",
        body="Eight units.",
        effective_from=(now - timedelta(days=30)).date(),
    )
    item.document.save("outline.pdf", ContentFile(PDF))
    return item


def _trainer_program_data(tom: User, now: datetime) -> None:
    """The trainer program's Compliance Agreement (signed by Tom) and an open application cycle."""
    from datetime import date

    from stormcert.trainers.applications import CriterionSpec, open_cycle
    from stormcert.trainers.models import AgreementSignature, AgreementVersion

    program = tor_program()
    agreement = AgreementVersion.objects.create(
        program=program, version="1", body="I agree.", effective_from=date(2023, 1, 1)
    )
    AgreementSignature.objects.create(
        agreement=agreement, user=tom, typed_name=tom.get_full_name() or "Tom", signed_at=now
    )
    zone = program.zone
    open_cycle(
        program=program,
        actor=None,
        title="Access matrix RFQ",
        rfq_text="Apply.",
        opens_at=now - timedelta(days=7),
        closes_at=now + timedelta(days=30),
        notice_on=(timezone.localtime(now, zone) + timedelta(days=45)).date(),
        criteria=[CriterionSpec("Experience", 1, 5)],
        soq_fee=Decimal("300.00"),
        resubmittal_fee=Decimal("150.00"),
        now=now,
    )
