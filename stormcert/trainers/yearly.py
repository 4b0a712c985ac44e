"""The yearly ToR term (from the program's `term.start`): the required certificates current, the
renewal meeting, the agreement in force, the fee by the due day (with the late fee after), then
staff confirm a new term. Everything here is about one trainer program, named by the caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.certificates.models import Certificate
from stormcert.courses.models import CourseSession, SessionStatus
from stormcert.lib.dates import is_on_time
from stormcert.lib.db import lock
from stormcert.payments.models import Order
from stormcert.payments.services import get_or_create_order, pending_order
from stormcert.programs.models import Program
from stormcert.programs.rules import program_today, rules_in_force
from stormcert.trainers.applications import (
    has_signed_current,
    issue_term_certificate,
    missing_certificate_names,
    required_certificates,
)
from stormcert.trainers.models import TermRenewal, TrainerTerm
from stormcert.trainers.services import (
    TrainerError,
    active_trainer_ids,
    grant_term,
    term_bounds,
)

TERM_FEE = "trainers.term_fee"
FEE, LATE_FEE = "tor_yearly", "tor_late"


def fee_due_day(program: Program, term_start: date) -> date:
    """The policy's due day (MM-DD) that falls last before the term starts (06-30 for 07-01)."""
    month, day = (int(part) for part in rules_in_force(program, term_start).value("term.fee_due").split("-"))
    due = date(term_start.year, month, day)
    return due if due < term_start else date(term_start.year - 1, month, day)


def is_late(due: date, day: date) -> bool:
    """Paid on the due day counts as on time; the late fee applies from the next day (in the
    program's zone): the same rule as a certificate renewal's fee, from lib.dates."""
    return not is_on_time(due_day=due, day=day)


def renewal_term_start(user: User, program: Program, today: date) -> date:
    """The term to renew for: the next one if the current term is already held, else the current."""
    start, end = term_bounds(program, today)
    if TrainerTerm.objects.filter(user=user, program=program, starts_on=start).exists():
        return end + timedelta(days=1)
    return start


@dataclass(frozen=True)
class TermRenewalStatus:
    renewal: TermRenewal
    term_start: date
    term_end: date
    due: date
    late: bool
    amount: Decimal
    certificates: list[Certificate]
    missing_certificates: list[str]
    agreement_signed: bool
    open_order: Order | None

    @property
    def missing(self) -> list[str]:
        missing = []
        missing += self.missing_certificates
        if self.renewal.meeting_at is None:
            missing.append("the renewal meeting (attended or viewed)")
        if not self.agreement_signed:
            missing.append("the Compliance Agreement in force")
        if self.renewal.paid_at is None:
            missing.append("the yearly fee")
        return missing


def _renewal(user: User, program: Program, term_start: date, now: datetime) -> TermRenewal:
    """The term's renewal row, or an unsaved one: reading where a ToR stands (the trainer home
    page) writes nothing; the first action that records something saves it (`_locked`)."""
    renewal = TermRenewal.objects.filter(user=user, program=program, term_start=term_start).first()
    return renewal or TermRenewal(user=user, program=program, term_start=term_start, created_at=now)


def _locked(renewal: TermRenewal) -> TermRenewal:
    """The renewal row saved (made now if it was only read so far) and locked (`lib.db.lock`)."""
    saved, _ = TermRenewal.objects.get_or_create(
        user=renewal.user,
        program=renewal.program,
        term_start=renewal.term_start,
        defaults={"created_at": renewal.created_at},
    )
    return lock(saved)


def term_renewal_status(
    user: User, program: Program, now: datetime | None = None
) -> TermRenewalStatus | None:
    """Where a ToR (or a former one) of the trainer `program` stands for the next term; None
    if they never were one."""
    now = now or timezone.now()
    if not TrainerTerm.objects.filter(user=user, program=program).exists():
        return None
    today = program_today(program, now)
    term_start = renewal_term_start(user, program, today)
    _, term_end = term_bounds(program, term_start)
    due = fee_due_day(program, term_start)
    late = is_late(due, today)
    fees = rules_in_force(program, today)
    amount = fees.fee(FEE).amount + (fees.fee(LATE_FEE).amount if late else Decimal("0"))
    renewal = _renewal(user, program, term_start, now)
    return TermRenewalStatus(
        renewal=renewal,
        term_start=term_start,
        term_end=term_end,
        due=due,
        late=late,
        amount=amount,
        certificates=required_certificates(user, program, now),
        missing_certificates=missing_certificate_names(user, program, now),
        agreement_signed=has_signed_current(user, program, now),
        open_order=_open_order(renewal),
    )


def _open_order(renewal: TermRenewal) -> Order | None:
    if renewal.pk is None:
        return None
    return pending_order(user_id=renewal.user_id, purpose=TERM_FEE, reference="renewal", target=renewal.pk)


@transaction.atomic
def record_meeting(*, user: User, program: Program, how: str, now: datetime | None = None) -> TermRenewal:
    now = now or timezone.now()
    if how not in ("attended", "viewed"):
        raise TrainerError("Say whether you attended the renewal meeting or viewed its recording.")
    status = term_renewal_status(user, program, now)
    if status is None:
        raise TrainerError(f"The renewal is for Trainers of Record of {program.short_name}.")
    renewal = _locked(status.renewal)
    if renewal.meeting_at is None:
        renewal.meeting_at = now
        renewal.meeting_how = how
        renewal.save(update_fields=["meeting_at", "meeting_how"])
        record(actor=user, verb="trainers.renewal_meeting", obj=renewal, data={"how": how}, now=now)
    return renewal


@transaction.atomic
def start_term_fee(*, user: User, program: Program, now: datetime | None = None) -> Order:
    """The yearly fee order: the late fee is added when the order is made after the due day,
    and an order keeps the amount it was made at (like every order)."""
    now = now or timezone.now()
    status = term_renewal_status(user, program, now)
    if status is None:
        raise TrainerError(f"The yearly fee is for Trainers of Record of {program.short_name}.")
    renewal = _locked(status.renewal)
    if renewal.paid_at is not None:
        raise TrainerError("The yearly fee for this term is already paid.")
    order, _ = get_or_create_order(
        user=user,
        program=renewal.program,
        fee_code=FEE,
        surcharges=(LATE_FEE,) if status.late else (),
        purpose=TERM_FEE,
        reference={"renewal": renewal.pk},
        key="renewal",
        description=f"{renewal.program.short_name} yearly fee, term from {status.term_start:%B %-d, %Y}",
        now=now,
    )
    return order


def fulfil_term_fee(line: Any, now: datetime) -> None:
    renewal_id = line.reference["renewal"]
    if TermRenewal.objects.filter(pk=renewal_id, paid_at__isnull=True).update(paid_at=now):
        record(actor=None, verb="trainers.term_fee_paid", obj=TermRenewal.objects.get(pk=renewal_id), now=now)


@transaction.atomic
def confirm_renewal(
    *, renewal: TermRenewal, actor: User, reason: str, now: datetime | None = None
) -> TrainerTerm:
    now = now or timezone.now()
    if not reason.strip():
        raise TrainerError("Give a reason: confirmations are audited.")
    # The trainer's row too, as every change to someone's terms takes it (trainers.services.end_term).
    renewal = lock(renewal, "user", "program", also=("user",))
    if renewal.confirmed_at is not None:
        raise TrainerError("This renewal is already confirmed.")
    missing = missing_certificate_names(renewal.user, renewal.program, now)
    if renewal.meeting_at is None:
        missing.append("the renewal meeting")
    if not has_signed_current(renewal.user, renewal.program, now):
        missing.append("the Compliance Agreement in force")
    if renewal.paid_at is None:
        missing.append("the yearly fee")
    if missing:
        raise TrainerError("Still missing: " + "; ".join(missing) + ".")
    term = grant_term(
        user=renewal.user,
        program=renewal.program,
        actor=actor,
        reason=reason,
        source="renewal",
        starts_on=renewal.term_start,
        now=now,
    )
    issue_term_certificate(term=term, actor=actor, now=now)
    renewal.confirmed_at = now
    renewal.confirmed_by = actor
    renewal.save(update_fields=["confirmed_at", "confirmed_by"])
    record(actor=actor, verb="trainers.renewal_confirmed", obj=renewal, reason=reason, now=now)
    return term


def renewals_to_confirm(program: Program | None = None) -> list[TermRenewal]:
    renewals = TermRenewal.objects.filter(confirmed_at__isnull=True, paid_at__isnull=False)
    if program is not None:
        renewals = renewals.filter(program=program)
    return list(renewals.select_related("user", "program"))


def sessions_without_a_term(now: datetime | None = None) -> list[CourseSession]:
    """Published sessions whose trainer will hold no term, on the session day, in any trainer
    program that teaches the session's program: for staff."""
    from stormcert.programs.lookup import trainer_programs_teaching

    now = now or timezone.now()
    flagged = []
    sessions = CourseSession.objects.filter(status=SessionStatus.SCHEDULED, starts_at__gt=now).select_related(
        "trainer", "program"
    )
    teaching: dict[int, list[Program]] = {}
    cache: dict[tuple[date, int], set[int]] = {}
    for session in sessions:
        if session.program_id not in teaching:
            teaching[session.program_id] = list(trainer_programs_teaching(session.program))
        day = session.start_day()
        holders: set[int] = set()
        for program in teaching[session.program_id]:
            if (day, program.pk) not in cache:
                cache[(day, program.pk)] = active_trainer_ids(day, program)
            holders |= cache[(day, program.pk)]
        if session.trainer_id not in holders:
            flagged.append(session)
    return flagged


def renewal_steps(program: Program, day: date) -> list[str]:
    """The yearly renewal steps in words, from the program's data in force on `day`: the
    required certificates, the meeting, the agreement, the fee and its due day, staff
    confirmation. For the public page and the reminders."""
    rules = rules_in_force(program, day)
    start_month, start_day = (int(p) for p in rules.value("term.start").split("-"))
    due_month, due_day = (int(p) for p in rules.value("term.fee_due").split("-"))
    term_start = date(2000, start_month, start_day)
    due = date(2000, due_month, due_day)
    fees = rules.fees
    required = ", ".join(p.short_name for p in program.requires.order_by("position", "code"))
    steps = []
    if required:
        steps.append(f"Keep your {required} certificate current.")
    steps.append("Attend the yearly renewal meeting (or view its recording).")
    steps.append("Sign the Compliance Agreement in force (each new version once).")
    if FEE in fees:
        late = (
            f"; from the next day the late fee (${fees[LATE_FEE].amount}) is added"
            if LATE_FEE in fees
            else ""
        )
        steps.append(f"Pay the yearly fee, ${fees[FEE].amount}, by {due:%B} {due.day}{late}.")
    steps.append(
        f"Program staff confirm your renewal: a new term from {term_start:%B} {term_start.day} "
        "and a new Trainer of Record certificate."
    )
    return steps
