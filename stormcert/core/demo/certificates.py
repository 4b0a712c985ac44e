"""Demo certificate holders so `make run` shows a populated directory: some with their contact
details shown, one expired, one revoked, and Tom as a QISP and Trainer of Record."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from stormcert.accounts.models import Profile, User
from stormcert.audit.services import record
from stormcert.certificates.models import Certificate, Source
from stormcert.certificates.services import issue_certificate, refresh_directory_entries
from stormcert.lib.dates import add_years
from stormcert.programs.models import Program
from stormcert.programs.rules import program_today
from stormcert.trainers.applications import issue_term_certificate
from stormcert.trainers.models import TrainerTerm

# (first, last, company, city, phone, opted in, program, years before today issued, revoked)
HOLDERS = [
    ("Maria", "Gonzalez", "Central Valley Environmental", "Fresno", "(559) 555-0142", True, "QISP", 0, False),
    ("James", "Anderson", "Harbor Logistics", "Long Beach", "(562) 555-0117", True, "QISP", 1, False),
    ("Priya", "Raman", "Raman Water Compliance", "San Jose", "(408) 555-0163", True, "QISP", 1, False),
    ("Daniel", "Johnson", "Johnson Engineering", "Stockton", "(209) 555-0190", False, "QISP", 1, False),
    ("Linda", "Thompson", "Sierra Aggregates", "Redding", "(530) 555-0121", False, "QISP", 3, False),
    ("Kevin", "Wilson", "Wilson Recycling", "Riverside", "(951) 555-0109", True, "QISP", 1, True),
    ("Ana", "Robinson", "Coastal Stormwater Partners", "Ventura", "(805) 555-0155", True, "QISP", 0, False),
]
DEMO_DOMAIN = "holders.example.org"


def load_demo_certificates(password: str) -> int:
    """Idempotent: people who already have a certificate are left alone."""
    programs = {p.code: p for p in Program.objects.filter(code__in=["QISP", "IGP-TOR"])}
    if "QISP" not in programs:
        return 0
    today = program_today(programs["QISP"])
    created = 0
    for first, last, company, city, phone, opted, code, years_ago, revoked in HOLDERS:
        email = f"{first}.{last}@{DEMO_DOMAIN}".lower()
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email, password, first_name=first, last_name=last
        )
        Profile.objects.filter(user=user).update(
            company=company, city=city, phone=phone, show_contact_in_directory=opted
        )
        if Certificate.objects.filter(holder=user).exists():
            continue
        issued = add_years(today, -years_ago) if years_ago else today
        certificate = issue_demo_certificate(user, programs[code], issued, add_years(issued, 2))
        created += 1
        if revoked:
            certificate.revoked_at = timezone.now()
            certificate.revoked_reason = "Demo: certificate withdrawn after a complaint was upheld."
            certificate.save(update_fields=["revoked_at", "revoked_reason"])
            record(actor=None, verb="certificate.revoked", obj=certificate, reason=certificate.revoked_reason)
    # Tom, the demo Trainer of Record: a QISP who also holds this year's ToR certificate.
    tom = User.objects.filter(email="tom@example.com").first()
    if tom is not None and not Certificate.objects.filter(holder=tom).exists():
        refresh_directory_entries(tom)
        qisp_issued = add_years(today, -1)
        issue_demo_certificate(tom, programs["QISP"], qisp_issued, add_years(qisp_issued, 2))
        # His ToR certificate belongs to his current term (granted by the course demo).
        term = (
            TrainerTerm.objects.filter(user=tom, program=programs["IGP-TOR"], certificate__isnull=True)
            .order_by("-starts_on")
            .first()
        )
        if term is not None:
            issue_term_certificate(term=term, actor=None, now=timezone.now())
        created += 1
    return created


def issue_demo_certificate(
    user: User, program: Program, issued: date, expires: date, source: Source = Source.LEGACY
) -> Certificate:
    """A certificate of any program for a demo holder. Demo holders come "from the earlier
    system": they have no enrollment behind them."""
    return issue_certificate(
        holder=user, program=program, issued_on=issued, expires_on=expires, source=source, notify=False
    )
