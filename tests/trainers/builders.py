"""Builders for the ToR program: a spring cycle, QISP holders, submitted statements."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile

from stormcert.accounts.models import Role, User
from stormcert.trainers.applications import (
    CriterionSpec,
    add_document,
    open_cycle,
    save_draft,
    start_application,
    start_fee_payment,
    submit_application,
)
from stormcert.trainers.models import AgreementVersion, Application, ApplicationCycle
from stormcert.trainers.services import trainer_program
from tests.certificates.builders import certify
from tests.enrollments.builders import pay

PT = ZoneInfo("America/Los_Angeles")
OPENS = datetime(2027, 4, 1, 9, 0, tzinfo=PT)
CLOSES = datetime(2027, 6, 1, 17, 0, tzinfo=PT)
NOTICE = date(2027, 6, 15)
DURING = OPENS + timedelta(days=10)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

ANSWERS = {
    "experience": "Twelve years of SWPPP work at metal recyclers.",
    "teaching": "Taught QISP refreshers for CASQA chapters.",
    "certifications": "PE, CPESC",
    "regions": "Central Valley",
    "delivery": "both",
}


def make_cycle(staff: User | None = None, **overrides: object) -> ApplicationCycle:
    values: dict[str, object] = {
        "actor": staff,
        "title": "2027 ToR RFQ",
        "rfq_text": "Apply by June 1.",
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "notice_on": NOTICE,
        "criteria": [CriterionSpec("Experience", 3, 5), CriterionSpec("Teaching", 1, 5)],
        "soq_fee": Decimal("300.00"),
        "resubmittal_fee": Decimal("150.00"),
        "now": OPENS - timedelta(days=30),
    }
    values.update(overrides)
    return open_cycle(**values)  # type: ignore[arg-type]


def qisp(user: User) -> User:
    certify(user, issued_on=date(2026, 1, 15))
    return user


def pdf(name: str = "resume.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def submitted(user: User, cycle: ApplicationCycle, when: datetime = DURING) -> Application:
    application = start_application(user=user, cycle=cycle, now=when)
    pay(start_fee_payment(application=application, now=when), when)
    save_draft(application=application, answers=ANSWERS, now=when)
    add_document(application=application, label="Résumé", upload=pdf(), now=when)
    return submit_application(application=application, now=when)


def reviewer(user: User) -> User:
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get_or_create(name=Role.REVIEWER.value)[0])
    return user


def agreement(version: str = "1", effective_from: date = date(2023, 1, 1)) -> AgreementVersion:
    program = trainer_program()
    assert program is not None
    return AgreementVersion.objects.create(
        program=program, version=version, body="I agree.", effective_from=effective_from
    )


def in_standing(user: User, now: datetime) -> User:
    """A Trainer of Record in standing to teach at `now`: a term in force, a current QISP and
    the agreement in force signed (trainers.standing)."""
    from stormcert.trainers.models import AgreementSignature
    from stormcert.trainers.services import grant_term

    grant_term(user=user, actor=None, reason="test", now=now)
    certify(user, issued_on=now.date() - timedelta(days=200))
    program = trainer_program()
    assert program is not None
    version = AgreementVersion.objects.filter(program=program).order_by("-effective_from").first()
    if version is None:
        version = agreement()
    AgreementSignature.objects.get_or_create(
        agreement=version, user=user, defaults={"typed_name": user.get_full_name() or "T", "signed_at": now}
    )
    return user
