"""Accommodation requests: a candidate asks for extra time, staff grant or decline it.

Granting goes through `services.grant_accommodation`, so a granted request is exactly the
standing accommodation staff could grant by hand: it applies to every exam the candidate starts
from then on (attempts already running keep their deadline: the server fixed it at the start).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.emails.services import send_templated_email
from stormcert.exams.models import FACTOR_MAX, FACTOR_MIN, AccommodationRequest, RequestStatus
from stormcert.exams.services import ExamError, grant_accommodation
from stormcert.lib.decisions import lock_pending, mark_decided, withdraw_pending
from stormcert.lib.links import absolute_url
from stormcert.lib.uploads import UploadRefused, check_pdf, note_document, storing_document

EXPLANATION_MAX = 5000


class RequestAlreadyClosed(ExamError):
    """The request was decided or withdrawn meanwhile (a double click, two staff at once)."""


def _page_url() -> str:
    return absolute_url("exams:accommodation")


def _check_factor(factor: Decimal | None) -> None:
    if factor is not None and not FACTOR_MIN <= factor <= FACTOR_MAX:
        raise ExamError(
            f"The time factor must be between {FACTOR_MIN} and {FACTOR_MAX} (for example 1.5 for time and a half)."
        )


def request_accommodation(
    *,
    user: User,
    explanation: str,
    factor: Decimal | None,
    document: UploadedFile | None,
    now: datetime | None = None,
) -> AccommodationRequest:
    """File a request. Everything is checked before the file is written, so a refused request
    leaves nothing on disk."""
    now = now or timezone.now()
    explanation = explanation.strip()
    if not explanation:
        raise ExamError("Explain what you need and why: staff decide from what you write here.")
    if len(explanation) > EXPLANATION_MAX:
        raise ExamError(
            f"Please keep the explanation under {EXPLANATION_MAX} characters; attach a PDF for the rest."
        )
    _check_factor(factor)
    try:
        checked = check_pdf(document) if document is not None else None
    except UploadRefused as exc:
        raise ExamError(f"The supporting document was not accepted: {exc}") from None
    waiting = "You already have a request waiting for a decision; withdraw it first to send a new one."
    if AccommodationRequest.objects.filter(user=user, status=RequestStatus.PENDING).exists():
        raise ExamError(waiting)
    request = AccommodationRequest(user=user, explanation=explanation, factor=factor, requested_at=now)
    note_document(request, checked)
    # Two submissions may race past the check above; the constraint lets one through.
    with storing_document(request, document, taken=ExamError(waiting)):
        request.save()
        record(
            actor=user,
            verb="exam.accommodation_requested",
            obj=request,
            data={"factor": factor, "document_sha256": request.document_sha256 or None},
            now=now,
        )
        send_templated_email(
            template="exams/email/accommodation_requested",
            to=user.email,
            user=user,
            context={"request": request, "url": _page_url()},
        )
    return request


@transaction.atomic
def withdraw_accommodation_request(
    *, request: AccommodationRequest, user: User, now: datetime | None = None
) -> AccommodationRequest:
    """The candidate takes back a request still waiting. Only its owner can."""
    now = now or timezone.now()
    withdraw_pending(
        request,
        owner_id=request.user_id,
        by=user,
        pending=RequestStatus.PENDING,
        withdrawn=RequestStatus.WITHDRAWN,
        missing=ExamError,
        closed=RequestAlreadyClosed,
        now=now,
    )
    record(actor=user, verb="exam.accommodation_request_withdrawn", obj=request, now=now)
    return request


@transaction.atomic
def decide_accommodation_request(
    *,
    request: AccommodationRequest,
    grant: bool,
    factor: Decimal | None,
    reason: str,
    actor: User,
    staff: bool,
    now: datetime | None = None,
) -> AccommodationRequest:
    """Grant (at `factor`, or the factor asked for) or decline, with a reason either way.

    `staff` is the request's staff powers (`has_staff_powers`), decided by the view.

    The request's row lock makes a double click or two staff members deciding at once decide it
    once: the second finds it no longer pending and is told who decided it."""
    now = now or timezone.now()
    if not staff:
        raise ExamError("Only program staff decide accommodation requests.")
    reason = reason.strip()
    if not reason:
        raise ExamError(
            "Give the reason for the decision: the candidate is told it, and it is kept in the audit log."
        )
    locked = lock_pending(request, "user", pending=RequestStatus.PENDING, closed=RequestAlreadyClosed)
    if locked.user_id == actor.pk:
        raise ExamError("Another staff member must decide your own request.")
    if grant:
        factor = factor if factor is not None else locked.factor
        if factor is None:
            raise ExamError("Give the time factor to grant (the candidate left it to staff).")
        _check_factor(factor)
        locked.accommodation = grant_accommodation(
            user=locked.user, factor=factor, reason=reason, actor=actor, now=now
        )
    status = RequestStatus.GRANTED if grant else RequestStatus.DECLINED
    mark_decided(locked, status=status, actor=actor, reason=reason, now=now, also=["accommodation"])
    record(
        actor=actor,
        verb=f"exam.accommodation_request_{locked.status}",
        obj=locked,
        data={"asked": locked.factor, "granted": factor if grant else None, "candidate": locked.user.email},
        reason=reason,
        now=now,
    )
    send_templated_email(
        template=f"exams/email/accommodation_{locked.status}",
        to=locked.user.email,
        user=locked.user,
        context={"request": locked, "factor": factor, "url": _page_url()},
    )
    return locked
