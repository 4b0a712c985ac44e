"""Demo ToR program data: the Compliance Agreement and an open application cycle (original text)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.programs.rules import program_today, rules_in_force
from stormcert.trainers.applications import CriterionSpec, open_cycle
from stormcert.trainers.models import AgreementSignature, AgreementVersion, ApplicationCycle
from stormcert.trainers.services import grant_term, trainer_program

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


@transaction.atomic
def load_demo_trainer_program(now: datetime | None = None) -> bool:
    now = now or timezone.now()
    program = trainer_program()
    if program is None:
        return False
    created = False
    if not AgreementVersion.objects.filter(program=program).exists():
        AgreementVersion.objects.create(
            program=program, version="2023.1", body=AGREEMENT, effective_from=date(2023, 1, 1)
        )
        created = True
    tom = User.objects.filter(email="tom@example.com").first()
    if tom is not None:
        grant_term(
            user=tom, actor=None, reason="Demo data: Tom is a Trainer of Record.", source="demo", now=now
        )
    agreement = AgreementVersion.objects.filter(program=program).first()
    if tom is not None and agreement is not None and not agreement.signatures.filter(user=tom).exists():
        AgreementSignature.objects.create(
            agreement=agreement,
            user=tom,
            typed_name=tom.get_full_name(),
            signed_at=now,
            user_agent="demo data",
        )
    if not ApplicationCycle.objects.exists():
        fees = rules_in_force(program, program_today(program, now)).fees
        open_cycle(
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
