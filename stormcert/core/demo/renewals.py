"""Demo content for renewal: a sample IGP Review module and a QISP whose certificate expires
within the renewal window, so `make run` shows a renewal. The module's text is original sample
content; staff publish the program's real modules in the admin."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction

from stormcert.accounts.models import Profile, User
from stormcert.certificates.models import Certificate, Source
from stormcert.certificates.services import issue_certificate
from stormcert.core.demo.training import build_course
from stormcert.lib.dates import add_years
from stormcert.programs.models import Program
from stormcert.programs.rules import program_today
from stormcert.training.models import CourseKind

REVIEW_CODE = "igp-review-module-5"
REVIEW_TITLE = "Module 5 – Sufficiently Sensitive Methods, TMDLs, and Compliance Options"
DEMO_QISP_EMAIL = "quinn@example.com"
# Days from today to the demo QISP's expiry: inside the default 90-day renewal window.
DEMO_DAYS_TO_EXPIRY = 45

LESSONS: list[dict[str, Any]] = [
    {
        "title": "Sufficiently sensitive test methods",
        "kind": "reading",
        "minutes": 15,
        "body": (
            "A sample result is only useful if the laboratory method can see the pollutant at the level "
            "that matters. A **sufficiently sensitive** method has a reporting limit at or below the "
            "applicable numeric action level or effluent limitation.\n\n"
            "## What to check on a lab report\n\n"
            "- the **method** used for each parameter, and that it is one the permit allows;\n"
            "- the **reporting limit** (and method detection limit) against the action level;\n"
            "- results reported as *non-detect*: with a limit above the action level they tell you "
            "nothing, and the sample may have to be taken again."
        ),
    },
    {
        "title": "TMDLs and what they add to a facility's obligations",
        "kind": "reading",
        "minutes": 15,
        "body": (
            "A **Total Maximum Daily Load** (TMDL) sets how much of a pollutant an impaired water body "
            "can receive and divides it among the sources. Where a TMDL applies to an industrial "
            "discharger, the permit can add **TMDL-specific** numeric action levels or effluent "
            "limitations, monitoring and implementation deadlines.\n\n"
            "A QISP working with such a facility confirms which TMDLs apply to its receiving water, "
            "which parameters they add to the monitoring plan, and what the schedule requires."
        ),
    },
    {
        "title": "Compliance options",
        "kind": "reading",
        "minutes": 15,
        "body": (
            "Beyond the Exceedance Response Action process, the permit offers facilities other paths: "
            "**No Exposure Certification** where industrial activities are sheltered from storm water, "
            "a **Notice of Non-Applicability** where no discharge reaches waters of the United States, "
            "and the **on-site** and **off-site** compliance options that capture and use or infiltrate "
            "storm water.\n\n"
            "Each option has conditions and paperwork. The QISP's task is to weigh them honestly against "
            "the site's constraints and document why the chosen path fits."
        ),
    },
    {
        "title": "Check your understanding: Module 5",
        "kind": "quiz",
        "minutes": 5,
        "body": "For practice only; retake as often as you like.",
        "questions": [
            (
                "A result is reported as non-detect with a reporting limit above the action level. What does it show?",
                [
                    (
                        "That the facility is in compliance",
                        False,
                        "A limit above the action level cannot show that.",
                    ),
                    ("Nothing useful about compliance: the method was not sensitive enough", True, "Right."),
                    (
                        "That the parameter is absent from the site",
                        False,
                        "Non-detect only means below the limit.",
                    ),
                ],
            ),
            (
                "What can a TMDL add to an industrial facility's permit obligations?",
                [
                    ("Additional parameters, limits and deadlines", True, "Right."),
                    (
                        "Nothing: TMDLs apply only to municipal dischargers",
                        False,
                        "They can apply to industry too.",
                    ),
                ],
            ),
        ],
    },
]


@transaction.atomic
def load_demo_renewal(password: str) -> bool:
    """Create the review module and the demo QISP once; returns True when it created something."""
    program = Program.objects.filter(code="QISP").first()
    if program is None:
        return False
    created = build_course(
        program,
        code=REVIEW_CODE,
        title=REVIEW_TITLE,
        kind=CourseKind.REVIEW,
        effective_from=date(2024, 1, 1),
        summary="The IGP Review module required for renewal: laboratory methods sensitive enough "
        "for the action levels, TMDL requirements, and the permit's compliance options.",
        units=[{"title": "Module 5", "lessons": LESSONS}],
    )
    user = User.objects.filter(email=DEMO_QISP_EMAIL).first()
    if user is None:
        user = User.objects.create_user(DEMO_QISP_EMAIL, password, first_name="Quinn", last_name="Rivera")
        created = True
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    Profile.objects.filter(user=user).update(
        company="Rivera Industrial Compliance", city="Bakersfield", show_contact_in_directory=True
    )
    if not Certificate.objects.filter(holder=user).exists():
        expires = program_today(program) + timedelta(days=DEMO_DAYS_TO_EXPIRY)
        issue_certificate(
            holder=user,
            program=program,
            issued_on=add_years(expires, -2),
            expires_on=expires,
            source=Source.LEGACY,
            notify=False,
        )
        created = True
    return created
