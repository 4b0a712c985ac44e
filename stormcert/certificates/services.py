"""Issuing, revoking and reinstating certificates, and keeping their directory entries current."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from stormcert.accounts.models import Profile, User
from stormcert.audit.services import record
from stormcert.certificates.models import Certificate, NumberCounter, Source
from stormcert.emails.services import send_templated_email
from stormcert.lib.dates import add_years
from stormcert.lib.db import lock
from stormcert.lib.links import absolute_url
from stormcert.lib.numbers import canonical_number
from stormcert.programs.models import Program
from stormcert.programs.rules import Rules, program_today, rules_for_version, rules_in_force


class CertificateError(Exception):
    """The certificate action cannot be done; the message says why in plain words."""


def expiry_for(rules: Rules, issued_on: date) -> date:
    return add_years(issued_on, int(rules.value("certificate.validity_years")))


def sort_name_for(first: str, last: str, name: str) -> str:
    """The directory sorts by last name, then first; a name without parts sorts as written."""
    return f"{last} {first}".strip().lower() or name.lower()


def profile_name(holder: User) -> tuple[str, str]:
    """(name, sort name) from the account: used only for a person's first certificate."""
    name = holder.get_full_name() or holder.email.split("@")[0]
    return name, sort_name_for(holder.first_name, holder.last_name, name)


def certified_name(holder: User, renews: Certificate | None = None) -> tuple[str, str]:
    """The (name, sort name) a new certificate is issued under.

    A person has one certified name: the one on the certificate being renewed, else on their
    latest certificate still current (not superseded by a renewal), in any program (a trainer
    program's certificate carries the name of its holder's qualification certificate). Only someone never certified is
    certified under their profile name. Changing it later takes an approved name change request
    (`names.decide_name_change`); editing the profile never reaches a certificate."""
    source = renews or (
        Certificate.objects.filter(holder=holder, superseded_at__isnull=True)
        .order_by("-issued_at", "-id")
        .only("holder_name", "sort_name")
        .first()
    )
    if source is not None and source.holder_name:
        return source.holder_name, source.sort_name
    return profile_name(holder)


def search_text(name: str, number: str, profile: Profile | None) -> str:
    """What the public may search a certificate by: the certified name and the number always,
    company and city only when the holder opted in."""
    words = [name, number]
    if profile is not None and profile.show_contact_in_directory:
        words += [profile.company, profile.city]
    return " ".join(w for w in words if w).lower()[:800]


def entry_fields(*, name: str, sort_name: str, number: str, profile: Profile | None) -> dict[str, str]:
    """A certificate's denormalised directory entry: every place that writes one uses this."""
    return {"holder_name": name, "sort_name": sort_name, "search_text": search_text(name, number, profile)}


def directory_fields(holder: User, number: str, renews: Certificate | None = None) -> dict[str, str]:
    """The directory entry of a certificate being issued."""
    name, sort_name = certified_name(holder, renews)
    profile = Profile.objects.filter(user=holder).first()
    return entry_fields(name=name, sort_name=sort_name, number=number, profile=profile)


def refresh_directory_entries(holder: User) -> int:
    """Called when a holder's name or contact details change (accounts hook): the contact opt-in
    reaches `search_text` at once. The name on each certificate stays the name as issued."""
    profile = Profile.objects.filter(user=holder).first()
    updated = 0
    for pk, number, name in Certificate.objects.filter(holder=holder).values_list(
        "pk", "number", "holder_name"
    ):
        updated += Certificate.objects.filter(pk=pk).update(search_text=search_text(name, number, profile))
    return updated


def _next_number(program: Program, pattern: str, issued_on: date) -> str:
    scope = issued_on.year if "{year" in pattern else 0
    NumberCounter.objects.get_or_create(program=program, scope=scope)
    # The counter's row lock serialises concurrent issuance in one program and scope (the one
    # row everyone issuing there shares, on purpose); the unique number is the last line of
    # defence (and skips numbers an import already took).
    counter = NumberCounter.objects.select_for_update(of=("self",)).get(program=program, scope=scope)
    while True:
        counter.last += 1
        # Canonical like every stored number (a program's pattern could be typed in lower case).
        number = canonical_number(pattern.format(year=issued_on.year, seq=counter.last))
        if not Certificate.objects.filter(number=number).exists():
            break
    counter.save(update_fields=["last"])
    return number


@transaction.atomic
def issue_certificate(
    *,
    holder: User,
    program: Program,
    issued_on: date,
    expires_on: date | None,
    source: Source | str,
    enrollment: Any | None = None,
    renews: Certificate | None = None,
    number: str | None = None,
    actor: User | None = None,
    now: datetime | None = None,
    notify: bool = True,
) -> Certificate:
    """The one way a certificate comes to exist: completion, the self-directed route, renewal,
    a Trainer of Record term, or an import (`number` given: a legacy number kept, in the canonical
    form of lib.numbers).

    Exactly once per completion (`enrollment` + its cycle) and per renewed certificate
    (`renews`): the database refuses a second one, and the existing certificate is returned."""
    now = now or timezone.now()
    if source not in Source.values:
        raise CertificateError(f"Unknown certificate source {source!r}.")
    if expires_on is not None and expires_on < issued_on:
        raise CertificateError("The expiry date is before the issue date.")
    cycle = enrollment.cycle if enrollment is not None else None
    # The holder's row: a person has one certified name (`certified_name` reads it off their
    # current certificates), so issuing and an approved name change (names.decide_name_change,
    # which holds the same row while it renames) take turns.
    lock(holder)
    try:
        with transaction.atomic():
            if number is None:
                # The pattern in force when the number is given (a back-dated issue still gets
                # today's pattern, with its own issue year in it).
                rules = rules_in_force(program, program_today(program, now))
                pattern = str(rules.value("certificate.number_format"))
                number = _next_number(program, pattern, issued_on)
            else:
                number = canonical_number(number)
                if not number:
                    raise CertificateError("A legacy certificate number cannot be empty.")
                if len(number) > 40:  # the column (NFKC and upper() can lengthen: "ß" is "SS")
                    raise CertificateError("A certificate number has at most 40 characters.")
            certificate = Certificate.objects.create(
                number=number,
                holder=holder,
                program=program,
                issued_on=issued_on,
                expires_on=expires_on,
                source=source,
                enrollment=enrollment,
                cycle=cycle,
                renews=renews,
                issued_at=now,
                **directory_fields(holder, number, renews),
            )
            if renews is not None:
                Certificate.objects.filter(pk=renews.pk).update(superseded_at=now)
    except IntegrityError:
        existing = _existing(enrollment=enrollment, cycle=cycle, renews=renews)
        if existing is not None:
            return existing
        raise CertificateError(f"Certificate number {number} is already in use.") from None
    record(
        actor=actor,
        verb="certificate.issued",
        obj=certificate,
        data={
            "number": certificate.number,
            "holder": holder.email,
            "program": program.code,
            "source": str(source),
            "issued_on": issued_on,
            "expires_on": expires_on,
            "renews": renews.number if renews else None,
        },
        now=now,
    )
    if notify:
        send_templated_email(
            template="certificates/email/certificate_issued",
            to=holder.email,
            user=holder,
            context={
                "user": holder,
                "certificate": certificate,
                "certificates_url": absolute_url("certificates:mine"),
                "pdf_url": absolute_url("certificates:pdf", certificate.number),
                "verify_url": absolute_url("directory:verify", certificate.number),
            },
        )
    return certificate


def _existing(*, enrollment: Any | None, cycle: int | None, renews: Certificate | None) -> Certificate | None:
    if enrollment is not None:
        return Certificate.objects.filter(enrollment=enrollment, cycle=cycle).first()
    if renews is not None:
        return Certificate.objects.filter(renews=renews).first()
    return None


def issue_for_completion(enrollment: Any, actor: Any, now: datetime) -> None:
    """Enrollment hook: completing every step (or the self-directed route) issues the
    certificate, under the rules the enrollment kept."""
    from stormcert.enrollments.models import Route

    program = enrollment.program
    today = program_today(program, now)
    rules = (
        rules_for_version(enrollment.policy_version, today)
        if enrollment.policy_version_id
        else rules_in_force(program, today)
    )
    issue_certificate(
        holder=enrollment.user,
        program=program,
        issued_on=today,
        expires_on=expiry_for(rules, today),
        source=Source.SELF_DIRECTED if enrollment.route == Route.SELF_DIRECTED else Source.COMPLETION,
        enrollment=enrollment,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        now=now,
    )


@transaction.atomic
def revoke_certificate(
    *, certificate: Certificate, actor: User, reason: str, now: datetime | None = None
) -> Certificate:
    """Staff withdraw a certificate; the directory, verification and credential status follow."""
    now = now or timezone.now()
    if not reason.strip():
        raise CertificateError("Give a reason: revoking a certificate is audited.")
    certificate = lock(certificate, "program")
    if certificate.revoked_at is not None:
        raise CertificateError(f"Certificate {certificate.number} is already revoked.")
    certificate.revoked_at = now
    certificate.revoked_reason = reason.strip()[:300]
    certificate.save(update_fields=["revoked_at", "revoked_reason"])
    record(
        actor=actor,
        verb="certificate.revoked",
        obj=certificate,
        data={"number": certificate.number},
        reason=reason.strip(),
        now=now,
    )
    return certificate


@transaction.atomic
def reinstate_certificate(
    *, certificate: Certificate, actor: User, reason: str, now: datetime | None = None
) -> Certificate:
    now = now or timezone.now()
    if not reason.strip():
        raise CertificateError("Give a reason: reinstating a certificate is audited.")
    certificate = lock(certificate, "program")
    if certificate.revoked_at is None:
        raise CertificateError(f"Certificate {certificate.number} is not revoked.")
    before = {"revoked_at": certificate.revoked_at, "revoked_reason": certificate.revoked_reason}
    certificate.revoked_at = None
    certificate.revoked_reason = ""
    certificate.save(update_fields=["revoked_at", "revoked_reason"])
    record(
        actor=actor,
        verb="certificate.reinstated",
        obj=certificate,
        data={"number": certificate.number, "was": before},
        reason=reason.strip(),
        now=now,
    )
    return certificate


def get_certificate_for_user(user: Any, number: str, *, staff: bool) -> Certificate | None:
    """The holder's own certificate, or any for a request with staff powers (`staff`, from the
    view's `has_staff_powers`); None for everyone else."""
    if not getattr(user, "is_authenticated", False):
        return None
    qs = Certificate.objects.select_related("program", "holder")
    if not staff:
        qs = qs.filter(holder=user)
    return qs.filter(number=canonical_number(number)).first()


@transaction.atomic
def end_certificate(
    *, certificate: Certificate, ended_on: date, reason: str, actor: User | None, now: datetime | None = None
) -> Certificate:
    """What the certificate records stopped on `ended_on` (a ToR term ended early): from that
    day verification answers "ended" with the date and reason. An earlier end date than one
    already set wins; a later one changes nothing (the first end is the truth)."""
    now = now or timezone.now()
    if not reason.strip():
        raise CertificateError("Give a reason: ending a certificate is audited.")
    certificate = lock(certificate, "program")
    if certificate.ended_on is not None and certificate.ended_on <= ended_on:
        return certificate
    before = {"ended_on": certificate.ended_on.isoformat() if certificate.ended_on else None}
    certificate.ended_on = ended_on
    certificate.end_reason = reason.strip()[:300]
    certificate.save(update_fields=["ended_on", "end_reason"])
    record(
        actor=actor,
        verb="certificate.ended",
        obj=certificate,
        data={"number": certificate.number, "ended_on": ended_on.isoformat(), "was": before},
        reason=reason.strip(),
        now=now,
    )
    return certificate
