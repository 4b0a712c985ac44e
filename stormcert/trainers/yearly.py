"""The yearly ToR term (July 1 to June 30): QISP status, the renewal meeting, the agreement in
force, the fee by June 30 (with the late fee after), then staff confirm a new term."""

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
from stormcert.trainers.applications import active_qisp, has_signed_current, issue_term_certificate
from stormcert.trainers.models import TermRenewal, TrainerTerm
from stormcert.trainers.services import (
    TrainerError,
    active_trainer_ids,
    grant_term,
    term_bounds,
    trainer_program,
)

TERM_FEE = "trainers.term_fee"
FEE, LATE_FEE = "tor_yearly", "tor_late"


def fee_due_day(program: Program, term_start: date) -> date:
    """The policy's due day (MM-DD) that falls last before the term starts: June 30 for July 1."""
    month, day = (int(part) for part in rules_in_force(program, term_start).value("term.fee_due").split("-"))
    due = date(term_start.year, month, day)
    return due if due < term_start else date(term_start.year - 1, month, day)


def is_late(due: date, day: date) -> bool:
    """Paid on the due day counts as on time; the late fee applies from the next day (Pacific):
    the same rule as a QISP renewal's fee, from lib.dates."""
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
    qisp: Certificate | None
    agreement_signed: bool
    open_order: Order | None

    @property
    def missing(self) -> list[str]:
        missing = []
        if self.qisp is None:
            missing.append("an active QISP certificate")
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


def term_renewal_status(user: User, now: datetime | None = None) -> TermRenewalStatus | None:
    """Where a ToR (or a former one) stands for the next term; None if they never were one."""
    now = now or timezone.now()
    program = trainer_program()
    if program is None or not TrainerTerm.objects.filter(user=user, program=program).exists():
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
        qisp=active_qisp(user, now),
        agreement_signed=has_signed_current(user, program, now),
        open_order=_open_order(renewal),
    )


def _open_order(renewal: TermRenewal) -> Order | None:
    if renewal.pk is None:
        return None
    return pending_order(user_id=renewal.user_id, purpose=TERM_FEE, reference="renewal", target=renewal.pk)


@transaction.atomic
def record_meeting(*, user: User, how: str, now: datetime | None = None) -> TermRenewal:
    now = now or timezone.now()
    if how not in ("attended", "viewed"):
        raise TrainerError("Say whether you attended the renewal meeting or viewed its recording.")
    status = term_renewal_status(user, now)
    if status is None:
        raise TrainerError("The renewal is for Trainers of Record.")
    renewal = _locked(status.renewal)
    if renewal.meeting_at is None:
        renewal.meeting_at = now
        renewal.meeting_how = how
        renewal.save(update_fields=["meeting_at", "meeting_how"])
        record(actor=user, verb="trainers.renewal_meeting", obj=renewal, data={"how": how}, now=now)
    return renewal


@transaction.atomic
def start_term_fee(*, user: User, now: datetime | None = None) -> Order:
    """The yearly fee order: the late fee is added when the order is made after the due day,
    and an order keeps the amount it was made at (like every order)."""
    now = now or timezone.now()
    status = term_renewal_status(user, now)
    if status is None:
        raise TrainerError("The yearly fee is for Trainers of Record.")
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
        description=f"IGP ToR yearly fee, term from {status.term_start:%B %-d, %Y}",
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
    renewal = lock(renewal, "user", "program")
    if renewal.confirmed_at is not None:
        raise TrainerError("This renewal is already confirmed.")
    missing = []
    if active_qisp(renewal.user, now) is None:
        missing.append("an active QISP certificate")
    if renewal.meeting_at is None:
        missing.append("the renewal meeting")
    if not has_signed_current(renewal.user, renewal.program, now):
        missing.append("the Compliance Agreement in force")
    if renewal.paid_at is None:
        missing.append("the yearly fee")
    if missing:
        raise TrainerError("Still missing: " + "; ".join(missing) + ".")
    term = grant_term(
        user=renewal.user, actor=actor, reason=reason, source="renewal", starts_on=renewal.term_start, now=now
    )
    issue_term_certificate(term=term, actor=actor, now=now)
    renewal.confirmed_at = now
    renewal.confirmed_by = actor
    renewal.save(update_fields=["confirmed_at", "confirmed_by"])
    record(actor=actor, verb="trainers.renewal_confirmed", obj=renewal, reason=reason, now=now)
    return term


def renewals_to_confirm() -> list[TermRenewal]:
    return list(
        TermRenewal.objects.filter(confirmed_at__isnull=True, paid_at__isnull=False).select_related("user")
    )


def sessions_without_a_term(now: datetime | None = None) -> list[CourseSession]:
    """Published sessions whose trainer's term will have lapsed by the session day: for staff."""
    now = now or timezone.now()
    flagged = []
    sessions = CourseSession.objects.filter(status=SessionStatus.SCHEDULED, starts_at__gt=now).select_related(
        "trainer", "program"
    )
    cache: dict[date, set[int]] = {}
    for session in sessions:
        day = session.start_day()
        if day not in cache:
            cache[day] = active_trainer_ids(day)
        if session.trainer_id not in cache[day]:
            flagged.append(session)
    return flagged
