"""Demo data for `make run`: the programs and one person per role. Safe to run again."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from stormcert.accounts.models import Profile, Role, User
from stormcert.core.demo.certificates import load_demo_certificates
from stormcert.core.demo.cgp import load_demo_cgp_content, load_demo_cgp_trainer
from stormcert.core.demo.courses import advance, load_demo_courses
from stormcert.core.demo.exams import load_demo_exams
from stormcert.core.demo.history import load_demo_history
from stormcert.core.demo.legacy import load_demo_legacy
from stormcert.core.demo.renewals import load_demo_renewal
from stormcert.core.demo.trainers import load_demo_trainer_program
from stormcert.core.demo.training import load_demo_content
from stormcert.programs.models import Program

DEMO_PASSWORD = "stormcert-demo"  # noqa: S105 - documented demo login, never used in production
# Base32 secret of the demo staff member's authenticator; `manage.py demo_totp` prints codes.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPSTORMCERTDEMO234"  # noqa: S105

PEOPLE: list[dict[str, Any]] = [
    {
        "email": "alice@example.com",
        "first_name": "Alice",
        "last_name": "Alvarez",
        "roles": [Role.CANDIDATE],
        "profile": {"company": "Bayside Metal Finishing", "city": "Oakland", "phone": "(510) 555-0134"},
    },
    {
        "email": "tom@example.com",
        "first_name": "Tom",
        "last_name": "Nguyen",
        "roles": [Role.TRAINER],
        "profile": {
            "company": "Nguyen Stormwater Consulting",
            "city": "Sacramento",
            "phone": "(916) 555-0188",
            "show_contact_in_directory": True,
        },
    },
    {
        "email": "carol@example.com",
        "first_name": "Carol",
        "last_name": "Chen",
        "roles": [Role.CANDIDATE],
        "profile": {"company": "Valley Recycling", "city": "Fresno"},
        "advance": ("QISP", "midterm"),
    },
    {
        "email": "rita@example.com",
        "first_name": "Rita",
        "last_name": "Salazar",
        "roles": [Role.CANDIDATE],
        "profile": {"company": "Salazar Civil Engineering", "city": "San Diego"},
        # A QSD candidate part-way: registered, modules, course and survey done, the exam next.
        "advance": ("QSD", "survey"),
    },
    {
        "email": "hank@example.com",
        "first_name": "Hank",
        "last_name": "Ito",
        "roles": [Role.CANDIDATE],
        "profile": {
            "company": "Ito Grading & Paving",
            "city": "Stockton",
            "show_contact_in_directory": True,
        },
        # A QSD: every step done, the exam passed, the certificate issued by the usual hook.
        "advance": ("QSD", "qsd_exam"),
    },
    {
        "email": "sara@example.com",
        "first_name": "Sara",
        "last_name": "Okafor",
        "roles": [Role.STAFF, Role.REVIEWER],
        "staff": True,
        "profile": {"company": "QISP Program Office", "city": "Sacramento"},
    },
]


class Command(BaseCommand):
    help = "Load the program definitions and the demo people (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        call_command("load_programs", verbosity=options["verbosity"])
        if load_demo_content() and options["verbosity"]:
            self.stdout.write("created the sample online training and self-assessment")
        if load_demo_exams() and options["verbosity"]:
            self.stdout.write("created the sample question bank and the two exams")
        if load_demo_cgp_content() and options["verbosity"]:
            self.stdout.write("created the sister program's modules, question bank, exam and survey")
        for person in PEOPLE:
            user = User.objects.filter(email=person["email"]).first()
            if user is None:
                user = User.objects.create_user(
                    person["email"],
                    DEMO_PASSWORD,
                    first_name=person["first_name"],
                    last_name=person["last_name"],
                    is_staff=person.get("staff", False),
                )
                if options["verbosity"]:
                    self.stdout.write(f"created {user.email}")
            EmailAddress.objects.update_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )
            Profile.objects.filter(user=user).update(**person["profile"])
            user.groups.add(*Group.objects.filter(name__in=[r.value for r in person["roles"]]))
            if (
                person.get("staff")
                and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
            ):
                TOTP.activate(user, DEMO_TOTP_SECRET)
            if "advance" in person:
                code, through = person["advance"]
                advance(user, Program.objects.get(code=code), through=through)
        tom = User.objects.get(email="tom@example.com")
        # Tom needs standing to teach before his sessions are published: his term and the
        # signed agreement (trainer program), then his QISP and ToR certificates.
        if load_demo_trainer_program() and options["verbosity"]:
            self.stdout.write(
                "created Tom's term, the Compliance Agreement and an open ToR application cycle"
            )
        created = load_demo_certificates(DEMO_PASSWORD)
        if created and options["verbosity"]:
            self.stdout.write(f"created {created} demo certificate holders for the directory")
        if load_demo_courses(tom) and options["verbosity"]:
            self.stdout.write("created the course survey and Tom's sessions")
        if load_demo_cgp_trainer(tom) and options["verbosity"]:
            self.stdout.write("made Tom a QSD and CGP Trainer of Record with one QSD session")
        if load_demo_renewal(DEMO_PASSWORD) and options["verbosity"]:
            self.stdout.write("created the sample review module and a QISP due for renewal")
        history = load_demo_history(DEMO_PASSWORD)
        if history and options["verbosity"]:
            self.stdout.write(f"created a year of history for the staff reports ({history} past candidates)")
        if (
            load_demo_legacy(User.objects.get(email="sara@example.com"), DEMO_PASSWORD)
            and options["verbosity"]
        ):
            self.stdout.write(
                "imported the sample earlier-system records; Dana can claim hers, Lee's claim waits"
            )
        if options["verbosity"]:
            self.stdout.write(self.style.SUCCESS("demo data ready"))
