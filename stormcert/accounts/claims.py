"""Claiming a record imported from the earlier system into one's own account.

Two ways, as the program office runs it: the person gives the certificate number and the email
address the earlier system had, and a link goes to that address (whoever can open it owns the
record); or, when that address is gone, they ask and staff decide. Either way the placeholder
account holding the records is merged into theirs, so the certificates, their directory entries
and everything else imported for that address join the account at once.
"""

from __future__ import annotations

from datetime import datetime

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from stormcert.accounts.merge import MergeError, merge_accounts
from stormcert.accounts.models import ClaimRequest, ClaimStatus, LegacyRecord, User
from stormcert.audit.services import record as audit
from stormcert.emails.services import send_templated_email
from stormcert.lib.db import lock
from stormcert.lib.decisions import mark_decided
from stormcert.lib.links import absolute_url
from stormcert.lib.numbers import canonical_number, could_be_a_number

LINK_SALT = "stormcert.accounts.claim"
LINK_DAYS = 3


class ClaimError(Exception):
    """The claim cannot go ahead; the message says why in plain words."""


def find_record(number: str) -> LegacyRecord | None:
    """The imported record with this number as typed (case and surrounding spaces aside:
    numbers are stored canonical, see lib.numbers)."""
    number = canonical_number(number)
    if not could_be_a_number(number):
        return None
    return LegacyRecord.objects.select_related("holder", "program").filter(certificate_number=number).first()


def records_joined_by(record: LegacyRecord) -> list[LegacyRecord]:
    """A claim joins every record the placeholder holds (all imported for that address)."""
    return list(LegacyRecord.objects.filter(holder_id=record.holder_id).select_related("program"))


def make_link_token(record: LegacyRecord, claimant: User) -> str:
    return signing.dumps({"r": record.pk, "u": claimant.pk}, salt=LINK_SALT, compress=True)


def send_claim_link(
    *, claimant: User, certificate_number: str, email_on_file: str, now: datetime | None = None
) -> bool:
    """Send the link when the number and the address match an unclaimed record. The page says
    the same thing either way, so it cannot be used to find out which addresses are on file."""
    now = now or timezone.now()
    found = find_record(certificate_number)
    if found is None or found.is_claimed or found.email.lower() != email_on_file.strip().lower():
        audit(
            actor=claimant,
            verb="legacy.claim_link_refused",
            obj=claimant,
            data={"number": canonical_number(certificate_number)[:40]},
            now=now,
        )
        return False
    token = make_link_token(found, claimant)
    send_templated_email(
        template="accounts/email/claim_link",
        to=found.email,
        user=claimant,
        context={
            "record": found,
            "claimant": claimant,
            "url": absolute_url("accounts:claim_confirm", token),
            "days": LINK_DAYS,
        },
    )
    audit(actor=claimant, verb="legacy.claim_link_sent", obj=found, now=now)
    return True


def record_for_token(*, token: str, claimant: User) -> LegacyRecord:
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_DAYS * 86400)
    except signing.SignatureExpired:
        raise ClaimError(
            f"This link has expired (links work for {LINK_DAYS} days). Ask for a new one."
        ) from None
    except signing.BadSignature:
        raise ClaimError(
            "This link is not valid. Copy the whole link from the email, or ask for a new one."
        ) from None
    if data.get("u") != claimant.pk:
        raise ClaimError(
            "This link was sent for another account. Sign in with the account that asked for it."
        )
    found = LegacyRecord.objects.select_related("holder", "program").filter(pk=data.get("r")).first()
    if found is None:
        raise ClaimError("That record no longer exists. Contact the program office.")
    if found.is_claimed:
        if found.holder_id == claimant.pk:
            raise ClaimError("You have already claimed this record: it is in your account.")
        raise ClaimError(
            "This record has already been claimed. Contact the program office if that was not you."
        )
    return found


@transaction.atomic
def claim_record(
    *,
    record: LegacyRecord,
    claimant: User,
    actor: User,
    how: str,
    reason: str = "",
    now: datetime | None = None,
) -> list[LegacyRecord]:
    """Join the record (and everything else held for its address) to the claimant's account."""
    now = now or timezone.now()
    record = lock(record, "holder")
    if record.is_claimed or not record.holder.placeholder:
        raise ClaimError("This record has already been claimed.")
    if claimant.placeholder or not claimant.is_active:
        raise ClaimError("Records can be claimed into an active account only.")
    joined = records_joined_by(record)
    try:
        merge_accounts(
            source=record.holder,
            target=claimant,
            actor=actor,
            reason=reason
            or f"Claimed earlier-system record {record.certificate_number or record.email} ({how}).",
            now=now,
        )
    except MergeError as exc:
        raise ClaimError(str(exc)) from None
    # merge_accounts marks a placeholder's records claimed; the copies returned say so too.
    for r in joined:
        r.claimed_at = now
        r.holder = claimant
    audit(
        actor=actor,
        verb="legacy.claimed",
        obj=claimant,
        data={"how": how, "numbers": [r.certificate_number for r in joined if r.certificate_number]},
        reason=reason,
        now=now,
    )
    return joined


def request_claim(
    *,
    requester: User,
    certificate_number: str,
    email_on_file: str,
    explanation: str,
    now: datetime | None = None,
) -> ClaimRequest:
    now = now or timezone.now()
    if not explanation.strip():
        raise ClaimError("Tell us who you are and why the address on file no longer reaches you.")
    certificate_number = canonical_number(certificate_number)
    if not certificate_number and not email_on_file.strip():
        raise ClaimError("Give the certificate number, or the email address the earlier system had.")
    found = find_record(certificate_number)
    if found is None and email_on_file.strip():
        found = (
            LegacyRecord.objects.filter(email__iexact=email_on_file.strip(), claimed_at__isnull=True)
            .order_by("-expires_on")
            .first()
        )
    if found is not None and found.is_claimed and found.holder_id == requester.pk:
        raise ClaimError("That record is already in your account.")
    try:
        with transaction.atomic():
            claim = ClaimRequest.objects.create(
                requester=requester,
                certificate_number=certificate_number[:40],
                email_on_file=email_on_file.strip(),
                explanation=explanation.strip(),
                record=found,
                created_at=now,
            )
    except IntegrityError:
        raise ClaimError(
            "You already have a request waiting for staff; you will hear back by email."
        ) from None
    audit(actor=requester, verb="legacy.claim_requested", obj=claim, now=now)
    return claim


@transaction.atomic
def decide_claim(
    *,
    claim: ClaimRequest,
    approve: bool,
    reason: str,
    actor: User,
    record: LegacyRecord | None = None,
    now: datetime | None = None,
) -> ClaimRequest:
    """Staff approve (the record joins the requester's account) or decline, with a reason."""
    now = now or timezone.now()
    if not reason.strip():
        raise ClaimError("Give a reason: the decision is audited and sent to the person.")
    claim = lock(claim, "requester")
    if claim.status != ClaimStatus.PENDING:
        raise ClaimError(f"This request was already decided ({claim.get_status_display().lower()}).")
    joined: list[LegacyRecord] = []
    if approve:
        record = record or claim.record
        if record is None:
            raise ClaimError("Choose the record to join: no record matches the request's number or address.")
        joined = claim_record(
            record=record, claimant=claim.requester, actor=actor, how="staff approval", reason=reason, now=now
        )
        claim.record = record
    status = ClaimStatus.APPROVED if approve else ClaimStatus.DECLINED
    mark_decided(claim, status=status, actor=actor, reason=reason.strip(), now=now, also=["record"])
    audit(
        actor=actor,
        verb="legacy.claim_approved" if approve else "legacy.claim_declined",
        obj=claim,
        reason=reason,
        now=now,
    )
    send_templated_email(
        template="accounts/email/claim_decided",
        to=claim.requester.email,
        user=claim.requester,
        context={"claim": claim, "joined": joined, "url": absolute_url("accounts:claim")},
    )
    return claim


def pending_claims() -> int:
    return ClaimRequest.objects.filter(status=ClaimStatus.PENDING).count()
