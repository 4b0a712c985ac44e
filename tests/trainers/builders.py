"""Builders for the ToR program: a spring cycle, QISP holders, submitted statements."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile

from stormcert.accounts.models import Role, User
from stormcert.programs.models import Program
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


def tor_program() -> Program:
    """The trainer program of casqa.toml (the `programs` fixture loads it)."""
    return Program.objects.get(code="IGP-TOR")


def make_cycle(staff: User | None = None, **overrides: object) -> ApplicationCycle:
    values: dict[str, object] = {
        "program": tor_program(),
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


def scored(application: Application, *, reviewers: int = 2, when: datetime = DURING) -> Application:
    """`reviewers` reviewers assigned, each declaring no conflict and scoring every criterion 4."""
    from conftest import make_person
    from stormcert.trainers.applications import assign_reviewer, declare_conflict, submit_scores

    staff = make_person(f"assigner{application.pk}@example.com")
    for n in range(reviewers):
        person = reviewer(make_person(f"rev{application.pk}-{n}@example.com"))
        assignment = assign_reviewer(application=application, reviewer=person, actor=staff, now=when)
        declare_conflict(assignment=assignment, conflict=False, note="", now=when)
        criteria = application.cycle.criteria.all()
        submit_scores(assignment=assignment, scores={c.pk: 4 for c in criteria}, comment="", now=when)
    return application


def agreement(
    version: str = "1", effective_from: date = date(2023, 1, 1), program: Program | None = None
) -> AgreementVersion:
    program = program or tor_program()
    return AgreementVersion.objects.create(
        program=program, version=version, body="I agree.", effective_from=effective_from
    )


def in_standing(user: User, now: datetime, program: Program | None = None) -> User:
    """A Trainer of Record of `program` (default: the casqa.toml one) in standing to teach at
    `now`: a term in force, a current certificate of each required program and the agreement in
    force signed (trainers.standing)."""
    from stormcert.certificates.services import issue_certificate
    from stormcert.trainers.applications import active_certificate
    from stormcert.trainers.models import AgreementSignature
    from stormcert.trainers.services import grant_term

    program = program or tor_program()
    grant_term(user=user, program=program, actor=None, reason="test", now=now)
    for required in program.requires.all():
        if active_certificate(user, required, now) is not None:
            continue
        if required.code == "QISP":
            certify(user, issued_on=now.date() - timedelta(days=200))
        else:
            issue_certificate(
                holder=user,
                program=required,
                issued_on=now.date() - timedelta(days=200),
                expires_on=now.date() + timedelta(days=500),
                source="legacy",
                notify=False,
                actor=None,
                now=now,
            )
    version = AgreementVersion.objects.filter(program=program).order_by("-effective_from").first()
    if version is None:
        version = agreement(program=program)
    AgreementSignature.objects.get_or_create(
        agreement=version, user=user, defaults={"typed_name": user.get_full_name() or "T", "signed_at": now}
    )
    return user


def qisp_program() -> Program:
    """The qualification program of casqa.toml that the trainer program teaches."""
    return Program.objects.get(code="QISP")
