"""Changing the name a certificate was issued under: the holder asks, program staff decide.

The name on a certificate is the name as issued (DOMAIN.md): editing a profile never reaches a
certificate. A holder whose certified name must change (marriage, a typo) files a request with a
reason and, optionally, a supporting PDF. Staff approve or refuse it with a reason either way.

An approval reissues the documents of every certificate of that person that is not superseded by
a renewal (active, expired or revoked: a person has one legal name, and a reinstated certificate
must not come back under the old one): same number, same dates, the new name, `reissued_at` set
so the PDF says so, and the Open Badges credential signed anew under a new id while the old id is
published as revoked (`RetiredCredential`). Certificates a renewal
superseded keep the name they were current under (that is what was certified then). The account
name follows the approved name, and later certificates are issued under it
(`services.certified_name`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import Profile, User
from stormcert.audit.services import changes, record
from stormcert.certificates.models import Certificate, NameChangeRequest, NameChangeStatus, RetiredCredential
from stormcert.certificates.services import CertificateError, certified_name, search_text
from stormcert.emails.services import send_templated_email
from stormcert.lib.decisions import lock_pending, mark_decided, withdraw_pending
from stormcert.lib.links import absolute_url
from stormcert.lib.uploads import UploadRefused, check_pdf, note_document, storing_document

REASON_MAX = 2000
NAME_MAX = 150


class NameChangeClosed(CertificateError):
    """The request was decided meanwhile (a double click, two staff members at once)."""


def current_certificates(person: User) -> Any:
    """The certificates a name change applies to: every one not superseded by a renewal."""
    return Certificate.objects.filter(holder=person, superseded_at__isnull=True)


def current_certificates_counts(person_ids: list[int]) -> list[tuple[int, int]]:
    """(person id, how many certificates an approval would rename) for the staff queue."""
    from django.db.models import Count

    return list(
        Certificate.objects.filter(holder_id__in=person_ids, superseded_at__isnull=True)
        .values_list("holder_id")
        .annotate(n=Count("id"))
        .order_by()
    )


def _page_url() -> str:
    return absolute_url("certificates:name_change")


def _clean_name(value: str, label: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise CertificateError(f"Give the {label} as it should appear on your certificates.")
    if len(value) > NAME_MAX:
        raise CertificateError(f"The {label} can be at most {NAME_MAX} characters.")
    return value


def request_name_change(
    *,
    person: User,
    first_name: str,
    last_name: str,
    reason: str,
    document: UploadedFile | None = None,
    now: datetime | None = None,
) -> NameChangeRequest:
    """File a request. Everything is checked before the file is written, so a refused request
    leaves nothing on disk."""
    now = now or timezone.now()
    if not current_certificates(person).exists():
        raise CertificateError(
            "You hold no certificate, so there is no certified name to change; your profile name is yours to edit."
        )
    first_name = _clean_name(first_name, "first name")
    last_name = _clean_name(last_name, "last name")
    reason = reason.strip()
    if not reason:
        raise CertificateError(
            "Say why the name should change (for example: marriage, or a typo when you signed up)."
        )
    if len(reason) > REASON_MAX:
        raise CertificateError(
            f"Please keep the reason under {REASON_MAX} characters; attach a PDF for the rest."
        )
    old_name, _ = certified_name(person)
    # Refused only when it would change nothing (certificates merged from another account may
    # carry another name: asking for one name on all of them is a real change).
    names = set(current_certificates(person).values_list("holder_name", flat=True))
    if names == {f"{first_name} {last_name}"}:
        raise CertificateError(f"Your certificates already say {old_name}.")
    try:
        checked = check_pdf(document) if document is not None else None
    except UploadRefused as exc:
        raise CertificateError(f"The supporting document was not accepted: {exc}") from None
    waiting = "You already have a name change waiting for a decision; withdraw it first to send a new one."
    if NameChangeRequest.objects.filter(person=person, status=NameChangeStatus.PENDING).exists():
        raise CertificateError(waiting)
    request = NameChangeRequest(
        person=person,
        old_name=old_name,
        first_name=first_name,
        last_name=last_name,
        reason=reason,
        requested_at=now,
    )
    note_document(request, checked)
    # Two submissions may race past the check above; the constraint lets one through.
    with storing_document(request, document, taken=CertificateError(waiting)):
        request.save()
        record(
            actor=person,
            verb="certificates.name_change_requested",
            obj=request,
            data={
                "from": old_name,
                "to": request.new_name,
                "document_sha256": request.document_sha256 or None,
            },
            reason=reason,
            now=now,
        )
        send_templated_email(
            template="certificates/email/name_change_requested",
            to=person.email,
            user=person,
            context={"request": request, "url": _page_url()},
        )
    return request


@transaction.atomic
def withdraw_name_change(
    *, request: NameChangeRequest, person: User, now: datetime | None = None
) -> NameChangeRequest:
    """The holder takes back a request still waiting (a typo in it, a change of mind). Only its
    owner can; a request decided meanwhile stays decided."""
    now = now or timezone.now()
    withdraw_pending(
        request,
        owner_id=request.person_id,
        by=person,
        pending=NameChangeStatus.PENDING,
        withdrawn=NameChangeStatus.WITHDRAWN,
        missing=CertificateError,
        closed=NameChangeClosed,
        now=now,
    )
    record(actor=person, verb="certificates.name_change_withdrawn", obj=request, now=now)
    return request


@transaction.atomic
def decide_name_change(
    *,
    request: NameChangeRequest,
    approve: bool,
    reason: str,
    actor: User,
    staff: bool,
    now: datetime | None = None,
) -> NameChangeRequest:
    """Approve (reissuing the person's current certificates under the new name) or refuse, with
    a reason either way; the holder is emailed the decision and the reason.

    The request's row lock makes a double click or two staff members deciding at once decide it
    once: the second finds it no longer pending and is told who decided it."""
    now = now or timezone.now()
    # `staff` is the view's `has_staff_powers(request)`: program staff, two-factor passed.
    if not staff:
        raise CertificateError("Only program staff decide name changes.")
    reason = reason.strip()
    if not reason:
        raise CertificateError(
            "Give the reason for the decision: the holder is told it, and it is kept in the audit log."
        )
    # The person's row too: a person has one certified name, and issuing a certificate takes the
    # holder's row (services.issue_certificate), so a certificate issued meanwhile is either
    # renamed here or issued under the new name, never left with the old one.
    locked = lock_pending(
        request, "person", pending=NameChangeStatus.PENDING, closed=NameChangeClosed, also=("person",)
    )
    if locked.person_id == actor.pk:
        raise CertificateError("Another staff member must decide a change of your own name.")
    person = locked.person
    reissued: list[Certificate] = []
    if approve:
        reissued = _reissue(locked, actor=actor, reason=reason, now=now)
        if not reissued:
            # Nothing to rename (say the certificates moved to another account in a merge): an
            # approval that changes nothing must not look like one that did.
            raise CertificateError(
                f"{person.email} holds no current certificate; refuse the request instead."
            )
    status = NameChangeStatus.APPROVED if approve else NameChangeStatus.REFUSED
    mark_decided(locked, status=status, actor=actor, reason=reason, now=now)
    record(
        actor=actor,
        verb=f"certificates.name_change_{locked.status}",
        obj=locked,
        data={
            "holder": person.email,
            "from": locked.old_name,
            "to": locked.new_name,
            "certificates": [c.number for c in reissued],
        },
        reason=reason,
        now=now,
    )
    send_templated_email(
        template=f"certificates/email/name_change_{locked.status}",
        to=person.email,
        user=person,
        context={
            "request": locked,
            "certificates": reissued,
            "url": _page_url(),
            "certificates_url": absolute_url("certificates:mine"),
        },
    )
    return locked


def _reissue(request: NameChangeRequest, *, actor: User, reason: str, now: datetime) -> list[Certificate]:
    """Rename every current certificate of the person (rows locked), and their account."""
    person = request.person
    profile = Profile.objects.filter(user=person).first()
    certificates = list(current_certificates(person).select_for_update(of=("self",)).order_by("pk"))
    for certificate in certificates:
        before = certificate.holder_name
        certificate.holder_name = request.new_name[:301]
        certificate.sort_name = request.new_sort_name[:301] or request.new_name.lower()[:301]
        certificate.search_text = search_text(certificate.holder_name, certificate.number, profile)
        certificate.reissued_at = now
        # The credential naming the old name is retired (published as revoked) and the new one
        # gets a new id: an offline verifier must not accept both.
        RetiredCredential.objects.create(uid=certificate.uid, certificate=certificate, retired_at=now)
        certificate.uid = uuid.uuid4()
        certificate.save(update_fields=["holder_name", "sort_name", "search_text", "reissued_at", "uid"])
        record(
            actor=actor,
            verb="certificate.reissued",
            obj=certificate,
            data={"number": certificate.number, "name": {"from": before, "to": certificate.holder_name}},
            reason=reason,
            now=now,
        )
    # The account says the approved name too (the person can still edit it for other uses).
    before_account = {"first_name": person.first_name, "last_name": person.last_name}
    person.first_name, person.last_name = request.first_name, request.last_name
    diff = changes(before_account, {"first_name": person.first_name, "last_name": person.last_name})
    if diff:
        person.save(update_fields=["first_name", "last_name"])
        record(
            actor=actor,
            verb="profile.updated",
            obj=person,
            data=diff,
            reason="Approved name change.",
            now=now,
        )
    return certificates


def get_name_change_document(user: Any, pk: int, *, staff: bool) -> NameChangeRequest | None:
    """A request's document for its owner or staff (`has_staff_powers`, from the view); None for
    anyone else (and when it has none)."""
    if not getattr(user, "is_authenticated", False):
        return None
    found = NameChangeRequest.objects.filter(pk=pk).first()
    if found is None or not found.document:
        return None
    if found.person_id != user.pk and not staff:
        return None
    return found


def pending_name_changes() -> int:
    return NameChangeRequest.objects.filter(status=NameChangeStatus.PENDING).count()
