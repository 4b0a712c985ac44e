"""Demo trainer program data: a Compliance Agreement, trainers in standing, and an open application
cycle for the IGP ToR program (original text). `build_trainer_program` serves any trainer program."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.programs.models import Program
from stormcert.programs.rules import program_today, rules_in_force
from stormcert.trainers.applications import CriterionSpec, open_cycle
from stormcert.trainers.models import (
    AgreementSignature,
    AgreementVersion,
    ApplicationCycle,
    ContentKind,
    TrainerContent,
)
from stormcert.trainers.services import grant_term

AGREEMENT = """\
As an IGP Trainer of Record I agree to:

1. **Teach the approved course.** Use the current QISP one-day course materials without removing required content.
2. **Keep my qualifications current.** Hold an active QISP certificate, attend or view the yearly renewal meeting,
   and pay the yearly ToR fee.
3. **Record attendance truthfully.** Mark a candidate present only if they attended the whole session.
4. **Publish sessions accurately** on the QISP Training Course Calendar and tell registrants promptly of changes.
5. **Run virtual sessions under an accepted plan** submitted at least 15 days before the class.
6. **Protect candidates' information** and use it only to run the course.

This agreement renews each term while I remain a Trainer of Record; a new version asks for a new signature.
"""

RFQ = """\
The program invites Qualified Industrial Stormwater Practitioners to apply to become **IGP Trainers of Record**.

**Who may apply:** holders of an active QISP certificate with industrial stormwater experience.

**What to submit:** the Statement of Qualifications form (experience, teaching, where and how you would teach)
and your résumé as a PDF, with any sample training materials.

**How statements are scored:** by at least two reviewers against the criteria below, each reviewer independently.

**ToR course information:** selected candidates attend an orientation, review the course outline and trainer
guide, and sign the Compliance Agreement before their first session.
"""


COURSE_INFORMATION = """\
## The {course} training course

Trainers of Record of {program} teach the approved course as published: every unit, in order, with its
exercises. Read this outline and the trainer guide before your first session.

1. **Before the session:** publish it on the course calendar, check the room or the virtual platform,
   and send registrants the joining details.
2. **During the session:** take attendance at the start and after each break; a candidate is marked present
   only for the whole session.
3. **After the session:** record attendance within five days; candidates then see their result.
"""


def build_trainer_content(program: Program, now: datetime) -> bool:
    """The trainer program's content for this year (once): the course information to read, an
    orientation held last month (so a candidate can confirm it) and next spring's renewal
    meeting, each with a meeting link where it is a meeting."""
    if TrainerContent.objects.filter(program=program).exists():
        return False
    local = timezone.localtime(now, program.zone)
    year_start = date(local.year, 1, 1)
    taught = ", ".join(p.short_name for p in program.teaches.all()) or "the program's"
    TrainerContent.objects.create(
        program=program,
        kind=ContentKind.COURSE_INFORMATION,
        title=f"{taught} course outline and trainer guide",
        body=COURSE_INFORMATION.format(course=taught, program=program.short_name),
        effective_from=year_start,
    )
    TrainerContent.objects.create(
        program=program,
        kind=ContentKind.ORIENTATION,
        title=f"{local.year} {program.short_name} orientation",
        body="A two-hour video call: the Trainer of Record's duties, the course calendar, attendance and "
        "the Compliance Agreement. The recording is posted at the same link afterwards.",
        meeting_at=(local - timedelta(days=30)).replace(hour=10, minute=0, second=0, microsecond=0),
        meeting_link="https://meet.example.org/tor-orientation",
        effective_from=year_start,
    )
    TrainerContent.objects.create(
        program=program,
        kind=ContentKind.RENEWAL_MEETING,
        title=f"{(local + timedelta(days=60)).year} {program.short_name} renewal meeting",
        body="The yearly meeting for every Trainer of Record: changes to the course and the permit, "
        "questions from the year's sessions.",
        meeting_at=(local + timedelta(days=60)).replace(hour=10, minute=0, second=0, microsecond=0),
        meeting_link="https://meet.example.org/tor-renewal",
        effective_from=year_start,
    )
    return True


def build_trainer_program(
    program: Program,
    *,
    agreement_version: str,
    agreement_text: str,
    effective_from: date,
    trainers: list[User],
    now: datetime,
) -> bool:
    """Any trainer program's demo standing: its Compliance Agreement (once), and for each of
    `trainers` the term in force and a signature. Returns True when the agreement was created."""
    created = False
    if not AgreementVersion.objects.filter(program=program).exists():
        AgreementVersion.objects.create(
            program=program, version=agreement_version, body=agreement_text, effective_from=effective_from
        )
        created = True
    agreement = AgreementVersion.objects.filter(program=program).first()
    build_trainer_content(program, now)
    for trainer in trainers:
        grant_term(
            user=trainer,
            actor=None,
            reason=f"Demo data: {trainer.get_full_name()} is a Trainer of Record.",
            source="demo",
            now=now,
            program=program,
        )
        if agreement is not None and not agreement.signatures.filter(user=trainer).exists():
            AgreementSignature.objects.create(
                agreement=agreement,
                user=trainer,
                typed_name=trainer.get_full_name(),
                signed_at=now,
                user_agent="demo data",
            )
    return created


@transaction.atomic
def load_demo_trainer_program(now: datetime | None = None) -> bool:
    """The IGP ToR program's agreement, Tom's standing and an open application cycle."""
    now = now or timezone.now()
    program = Program.objects.filter(code="IGP-TOR").first()
    if program is None:
        return False
    tom = User.objects.filter(email="tom@example.com").first()
    created = build_trainer_program(
        program,
        agreement_version="2023.1",
        agreement_text=AGREEMENT,
        effective_from=date(2023, 1, 1),
        trainers=[tom] if tom is not None else [],
        now=now,
    )
    if not ApplicationCycle.objects.filter(program=program).exists():
        fees = rules_in_force(program, program_today(program, now)).fees
        open_cycle(
            program=program,
            actor=None,
            title=f"{timezone.localtime(now, program.zone).year + 1} Trainer of Record RFQ (demo)",
            rfq_text=RFQ,
            opens_at=now - timedelta(days=7),
            closes_at=now + timedelta(days=30),
            notice_on=(timezone.localtime(now, program.zone) + timedelta(days=45)).date(),
            criteria=[
                CriterionSpec("Industrial stormwater experience", 3, 5),
                CriterionSpec("Training and teaching experience", 3, 5),
                CriterionSpec("Knowledge of the IGP", 2, 5),
                CriterionSpec("Availability and reach", 1, 5),
            ],
            # The program's fees in force: the demo cycle changes no figures.
            soq_fee=fees["soq"].amount,
            resubmittal_fee=fees["soq_resubmittal"].amount,
            now=now,
        )
        created = True
    return created
