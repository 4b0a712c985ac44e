"""Demo: the sample earlier-system file imported, and one claim waiting for staff."""

from __future__ import annotations

from allauth.account.models import EmailAddress

from stormcert.accounts.claims import request_claim
from stormcert.accounts.models import ClaimRequest, LegacyRecord, User
from stormcert.backoffice import imports


def load_demo_legacy(staff: User, password: str) -> bool:
    """Import the sample file through the real import (dry run, then apply) once, and add
    Dana, who can claim her record by email link, and Lee, whose request waits for staff."""
    if LegacyRecord.objects.exists():
        return False
    run = imports.start_run(actor=staff, filename=imports.SAMPLE.name, data=imports.SAMPLE.read_bytes())
    run = imports.map_columns(run=run, mapping=run.mapping, actor=staff)  # the sample's own columns
    imports.apply_run(run=imports.check_all(run=run), actor=staff)
    for email, first, last in (("dana@example.com", "Dana", "Reyes"), ("lee@example.com", "Lee", "Wong")):
        if not User.objects.filter(email=email).exists():
            person = User.objects.create_user(email, password, first_name=first, last_name=last)
            EmailAddress.objects.create(user=person, email=email, verified=True, primary=True)
    lee = User.objects.get(email="lee@example.com")
    if not ClaimRequest.objects.filter(requester=lee).exists():
        request_claim(
            requester=lee,
            certificate_number="OWP-2018-00007",
            email_on_file="lwong@formerco.example.com",
            explanation="That address was at Former Co., which closed in 2023. I can send my old certificate.",
        )
    return True
