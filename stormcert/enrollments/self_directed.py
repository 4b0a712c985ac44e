"""The self-directed route for licensed professionals: a candidate applies, staff decide.

Which licenses qualify, and which state must have issued them, are the program's rules
(`self_directed.license_types`, `self_directed.license_state`); a program whose rules list no
license kinds has no such route and shows nothing of it. Approval goes through
`services.record_self_directed`, so an approved application is exactly what staff recording the
route by hand make: the enrollment qualified by that route and its certificate issued (no fee, no
exams: the route replaces the paid training).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.emails.services import send_templated_email
from stormcert.enrollments.models import ApplicationStatus, Enrollment, SelfDirectedApplication
from stormcert.enrollments.services import JourneyError, peek_enrollment, record_self_directed, version_for
from stormcert.lib.decisions import lock_pending, mark_decided
from stormcert.lib.links import absolute_url
from stormcert.lib.uploads import UploadRefused, check_pdf, note_document, storing_document
from stormcert.programs.models import Program

LICENSE_TYPES = "self_directed.license_types"
LICENSE_STATE = "self_directed.license_state"


class ApplicationClosed(JourneyError):
    """The application was decided meanwhile (a double click, two staff at once)."""


@dataclass(frozen=True)
class LicenseKind:
    code: str
    label: str


@dataclass(frozen=True)
class RouteOffer:
    """What a program's rules say about the route, for one person (their kept rules version)."""

    kinds: tuple[LicenseKind, ...]
    state: str

    def label_of(self, code: str) -> str | None:
        return next((k.label for k in self.kinds if k.code == code), None)


def offer_for(enrollment: Enrollment, now: datetime) -> RouteOffer | None:
    """The route as the enrollment's rules define it; None when they define no license kinds."""
    values = {v.key: v.value for v in version_for(enrollment, now).values.all()}
    kinds = values.get(LICENSE_TYPES) or []
    state = str(values.get(LICENSE_STATE) or "").strip()
    if not kinds or not state:
        return None
    return RouteOffer(kinds=tuple(LicenseKind(k["code"], k["label"]) for k in kinds), state=state)


def route_offer(*, user: User, program: Program, now: datetime | None = None) -> RouteOffer | None:
    now = now or timezone.now()
    return offer_for(peek_enrollment(user=user, program=program, now=now), now)


def _qualification_url(program: Program) -> str:
    return absolute_url("enrollments:qualification", program.code)


def apply_self_directed(
    *,
    user: User,
    program: Program,
    license_type: str,
    license_number: str,
    license_state: str,
    document: UploadedFile | None,
    now: datetime | None = None,
) -> SelfDirectedApplication:
    """File an application. Everything is checked before the file is written, so a refused
    application leaves nothing on disk."""
    now = now or timezone.now()
    enrollment = peek_enrollment(user=user, program=program, now=now)
    offer = offer_for(enrollment, now)
    if offer is None:
        raise JourneyError(f"{program.short_name} has no self-directed route.")
    if enrollment.completed_at is not None:
        raise JourneyError(
            f"You are already qualified in {program.short_name}; there is nothing to apply for."
        )
    label = offer.label_of(license_type)
    if label is None:
        raise JourneyError("Choose the kind of license you hold from the list.")
    license_number = license_number.strip()
    if not license_number:
        raise JourneyError("Give your license number: staff check it with the licensing board.")
    if len(license_number) > 40:
        raise JourneyError("A license number is at most 40 characters.")
    if license_state.strip().casefold() != offer.state.casefold():
        raise JourneyError(
            f"The self-directed route is open only to professionals registered in {offer.state}; a "
            "license from another state does not qualify. You can qualify by the training and exams instead."
        )
    if document is None:
        raise JourneyError(
            "Attach a PDF that shows your license (for example the board's license lookup page)."
        )
    try:
        checked = check_pdf(document)
    except UploadRefused as exc:
        raise JourneyError(f"The document was not accepted: {exc}") from None
    waiting = "You already have an application waiting for a decision; staff will email you theirs."
    if SelfDirectedApplication.objects.filter(
        user=user, program=program, status=ApplicationStatus.PENDING
    ).exists():
        raise JourneyError(waiting)
    application = SelfDirectedApplication(
        user=user,
        program=program,
        license_type=license_type,
        license_label=label,
        license_number=license_number,
        license_state=offer.state,
        applied_at=now,
    )
    note_document(application, checked)
    # Two submissions may race past the check above; the constraint lets one through.
    with storing_document(application, document, taken=JourneyError(waiting)):
        application.save()
        record(
            actor=user,
            verb="enrollment.self_directed_applied",
            obj=application,
            data={
                "program": program.code,
                "license_type": license_type,
                "license_number": license_number,
                "document_sha256": application.document_sha256,
            },
            now=now,
        )
        send_templated_email(
            template="enrollments/email/self_directed_received",
            to=user.email,
            user=user,
            context={"application": application, "url": _qualification_url(program)},
        )
    return application


@transaction.atomic
def decide_self_directed(
    *,
    application: SelfDirectedApplication,
    approve: bool,
    reason: str,
    actor: User,
    staff: bool,
    now: datetime | None = None,
) -> SelfDirectedApplication:
    """Approve (record the route: the enrollment is qualified and its certificate issued) or
    refuse, with a reason either way; the candidate is emailed the decision and the next step.

    `staff` is the request's staff powers (`has_staff_powers`), decided by the view. The row lock
    makes a double click or two staff deciding at once decide it once."""
    now = now or timezone.now()
    if not staff:
        raise JourneyError("Only program staff decide self-directed applications.")
    reason = reason.strip()
    if not reason:
        raise JourneyError(
            "Give the reason for the decision: the candidate is told it, and it is kept in the audit log."
        )
    locked = lock_pending(
        application, "user", "program", pending=ApplicationStatus.PENDING, closed=ApplicationClosed
    )
    if locked.user_id == actor.pk:
        raise JourneyError("Another staff member must decide your own application.")
    certificate = None
    if approve:
        enrollment = record_self_directed(
            user=locked.user,
            program=locked.program,
            license_type=locked.license_type,
            license_number=locked.license_number,
            actor=actor,
            reason=f"Self-directed application {locked.pk} approved: {reason}",
            now=now,
        )
        certificate = enrollment.certificates.filter(superseded_at__isnull=True).order_by("-pk").first()
    status = ApplicationStatus.APPROVED if approve else ApplicationStatus.REFUSED
    mark_decided(locked, status=status, actor=actor, reason=reason, now=now)
    record(
        actor=actor,
        verb=f"enrollment.self_directed_{locked.status}",
        obj=locked,
        data={"candidate": locked.user.email, "program": locked.program.code},
        reason=reason,
        now=now,
    )
    send_templated_email(
        template=f"enrollments/email/self_directed_{locked.status}",
        to=locked.user.email,
        user=locked.user,
        context={
            "application": locked,
            "certificate": certificate,
            "url": _qualification_url(locked.program),
            "certificates_url": absolute_url("certificates:mine"),
            "apply_url": absolute_url("enrollments:self_directed", locked.program.code),
        },
    )
    return locked


def pending_self_directed_applications() -> int:
    """How many self-directed applications wait for staff (the staff home's queue count)."""
    return SelfDirectedApplication.objects.filter(status=ApplicationStatus.PENDING).count()
