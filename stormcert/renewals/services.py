"""Renewing a certificate: where it stands, starting the renewal order, issuing the new
certificate when it is paid, the review-module hooks, and the reminder emails.

The rules as decided (every figure comes from the program's rules in force that day):
- Renewal opens `renewal.opens_days_before_expiry` days before the expiry day.
- It needs the required review module (the program's published review course with the
  latest `effective_from` on or before today) completed once; a holder who finished that module
  before (an earlier renewal) is not asked again.
- The fee is `renewal` through the expiry day (Pacific) and `renewal_late` from the next day
  (see `lib.dates` for the boundary). It is fixed when the order is created: the order keeps its
  line, so a fee change, or the expiry day passing, between creating the order and paying it
  changes nothing about the price ("the fee on the order wins").
- The new expiry follows the day the renewal happens, which is the day the payment is confirmed
  and the certificate issued (Pacific): on or before the old expiry day, old expiry + validity;
  after it, renewal day + validity. So a renewal started early but paid late pays the on-time
  price it was quoted, and its new term runs from the payment day - the certificate had lapsed
  meanwhile, and the directory showed it expired. We chose this because the expiry rule is about
  when the holder is qualified, which only paying changes; the price is a quote the program honours.
- `renewal.requalify_after_days` (0: never) days after expiry, renewal is refused and the holder
  must qualify again from the start. Like the fee, it is checked when the order is created; an
  order created in time is honoured when paid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.certificates.models import Certificate, Source
from stormcert.certificates.services import issue_certificate
from stormcert.emails.services import send_once
from stormcert.lib import dates
from stormcert.lib.db import claim_row, lock
from stormcert.lib.links import absolute_url
from stormcert.lib.money import format_money
from stormcert.payments.fulfilment import Price
from stormcert.payments.models import Order
from stormcert.payments.services import get_or_create_order, pending_order, reprice
from stormcert.programs.models import Fee, Program, ProgramKind
from stormcert.programs.rules import RuleMissing, Rules, program_today, rules_in_force
from stormcert.renewals.models import ReminderSent
from stormcert.training.models import Course, CourseKind
from stormcert.training.services import is_course_complete

logger = logging.getLogger(__name__)

PURPOSE = "renewal.certificate"
ON_TIME_FEE = "renewal"
LATE_FEE = "renewal_late"


class RenewalError(Exception):
    """The renewal cannot be done now; the message says why in plain words."""


class Stage:
    NOT_YET = "not_yet"  # before renewal opens
    OPEN = "open"  # from the opening day through the expiry day: the on-time fee
    LATE = "late"  # after expiry, within any requalification limit: the late fee
    REQUALIFY = "requalify"  # past the limit: qualify again from the start
    REVOKED = "revoked"
    NOT_RENEWABLE = "not_renewable"  # no expiry, or the program has no renewal rules


@dataclass(frozen=True)
class RenewalStatus:
    """Where one certificate stands on `today` (the program's day), for pages, emails and checks."""

    certificate: Certificate
    today: date
    stage: str
    opens_on: date | None = None
    last_day: date | None = None  # the last day renewal is accepted; None: no limit
    fee: Fee | None = None  # the fee that applies today
    on_time_fee: Fee | None = None
    late_fee: Fee | None = None
    review: Course | None = None
    review_done: bool = False
    pending_order: Order | None = None
    new_expiry_if_today: date | None = None
    problem: str = ""  # why renewal is not possible, for NOT_RENEWABLE

    @property
    def expires_on(self) -> date | None:
        return self.certificate.expires_on

    @property
    def late_from(self) -> date | None:
        return self.expires_on + timedelta(days=1) if self.expires_on else None

    @property
    def is_open(self) -> bool:
        return self.stage in (Stage.OPEN, Stage.LATE)

    @property
    def review_needed(self) -> bool:
        return self.review is not None and not self.review_done

    @property
    def can_renew(self) -> bool:
        return self.is_open and not self.review_needed

    @property
    def blocker(self) -> str:
        """Why "Renew" cannot be pressed today, in one sentence ("" when it can)."""
        expires = (
            f"{self.expires_on:%B} {self.expires_on.day}, {self.expires_on.year}" if self.expires_on else ""
        )
        if self.stage == Stage.REVOKED:
            return f"Certificate {self.certificate.number} is revoked and cannot be renewed."
        if self.stage == Stage.NOT_RENEWABLE:
            return self.problem
        if self.stage == Stage.NOT_YET and self.opens_on:
            return f"Renewal opens on {self.opens_on:%B} {self.opens_on.day}, {self.opens_on.year}, {(self.opens_on - self.today).days} days from today."
        if self.stage == Stage.REQUALIFY:
            return (
                f"Certificate {self.certificate.number} expired on {expires}, longer ago than renewal "
                "allows: you must qualify again from the start."
            )
        if self.review_needed and self.review:
            return f"Complete the review module “{self.review.title}” first."
        return ""


def current_certificate(user: Any, program: Program) -> Certificate | None:
    """The holder's certificate that counts in a program: the newest one not renewed already."""
    return (
        Certificate.objects.filter(holder=user, program=program, superseded_at__isnull=True)
        .select_related("program", "holder")
        .order_by("-issued_on", "-issued_at", "-id")
        .first()
    )


def renewable_certificates(user: Any) -> list[Certificate]:
    """The current certificate in each qualification program the person holds one of.
    (Trainer of Record terms renew through the trainers app.)"""
    if not getattr(user, "is_authenticated", False):
        return []
    found = []
    for program in Program.objects.filter(
        kind=ProgramKind.QUALIFICATION, certificates__holder=user
    ).distinct():
        certificate = current_certificate(user, program)
        if certificate is not None:
            found.append(certificate)
    return found


def required_review(program: Program, day: date) -> Course | None:
    """The review module required on `day`: the latest one already in effect."""
    return (
        Course.objects.filter(
            program=program, kind=CourseKind.REVIEW, is_published=True, effective_from__lte=day
        )
        .order_by("-effective_from", "-id")
        .first()
    )


def open_order(certificate: Certificate) -> Order | None:
    return pending_order(
        user_id=certificate.holder_id, purpose=PURPOSE, reference="certificate", target=certificate.pk
    )


def _renewal_rules(program: Program, day: date) -> Rules:
    rules = rules_in_force(program, day)
    for key in (
        "renewal.opens_days_before_expiry",
        "renewal.requalify_after_days",
        "certificate.validity_years",
    ):
        rules.value(key)  # raises RuleMissing with the key's name
    rules.fee(ON_TIME_FEE)
    rules.fee(LATE_FEE)
    return rules


def new_expiry_for(certificate: Certificate, renewed_on: date, rules: Rules) -> date:
    return dates.new_expiry(
        old_expiry=certificate.expires_on or renewed_on,
        renewed_on=renewed_on,
        validity_years=int(rules.value("certificate.validity_years")),
        extend_from_expiry=bool(rules.value("renewal.extends_from_expiry_if_on_time")),
    )


def renewal_status(certificate: Certificate, now: datetime | None = None) -> RenewalStatus:
    program = certificate.program
    today = program_today(program, now)
    if certificate.revoked_at is not None:
        return RenewalStatus(certificate=certificate, today=today, stage=Stage.REVOKED)
    if certificate.expires_on is None:
        return RenewalStatus(
            certificate=certificate,
            today=today,
            stage=Stage.NOT_RENEWABLE,
            problem=f"Certificate {certificate.number} does not expire, so it needs no renewal.",
        )
    try:
        rules = _renewal_rules(program, today)
    except RuleMissing as exc:
        logger.warning("renewal is not set up: %s", exc)
        return RenewalStatus(
            certificate=certificate,
            today=today,
            stage=Stage.NOT_RENEWABLE,
            problem=f"Renewal of {program} certificates is not set up yet; please contact the program office.",
        )
    expires = certificate.expires_on
    opens = dates.opens_on(due_day=expires, days_before=int(rules.value("renewal.opens_days_before_expiry")))
    last_day = dates.closes_after(
        due_day=expires, days_after=int(rules.value("renewal.requalify_after_days"))
    )
    if today < opens:
        stage = Stage.NOT_YET
    elif dates.is_on_time(due_day=expires, day=today):
        stage = Stage.OPEN
    elif last_day is None or today <= last_day:
        stage = Stage.LATE
    else:
        stage = Stage.REQUALIFY
    code = dates.fee_code_for(due_day=expires, day=today, on_time_code=ON_TIME_FEE, late_code=LATE_FEE)
    review = required_review(program, today)
    return RenewalStatus(
        certificate=certificate,
        today=today,
        stage=stage,
        opens_on=opens,
        last_day=last_day,
        fee=rules.fee(code),
        on_time_fee=rules.fee(ON_TIME_FEE),
        late_fee=rules.fee(LATE_FEE),
        review=review,
        review_done=review is not None and is_course_complete(certificate.holder, review),
        pending_order=open_order(certificate),
        new_expiry_if_today=new_expiry_for(certificate, today, rules),
    )


@transaction.atomic
def start_renewal(*, user: User, certificate: Certificate, now: datetime | None = None) -> Order:
    """The renewal order (one open at a time per certificate), at the fee that applies today."""
    now = now or timezone.now()
    # The row lock makes two clicks (two tabs) wait for each other, so they share one order.
    certificate = lock(certificate, "program", "holder")
    if certificate.holder_id != user.pk:
        raise RenewalError("Only the holder of a certificate can renew it.")
    if certificate.superseded_at is not None:
        raise RenewalError(f"Certificate {certificate.number} is already renewed.")
    current = current_certificate(user, certificate.program)
    if current is not None and current.pk != certificate.pk:
        raise RenewalError(
            f"Certificate {certificate.number} is not your current one; renew {current.number} instead."
        )
    status = renewal_status(certificate, now)
    # An order already open is reused, at today's fee (payments.services.reprice: opened on time
    # and paid late costs the late fee), even when renewal has stopped being possible since (a
    # status without a fee: revoked, or not renewable, has no open order to offer).
    if status.fee is None or (status.pending_order is None and not status.can_renew):
        raise RenewalError(status.blocker)
    order, created = get_or_create_order(
        user=user,
        program=certificate.program,
        fee_code=status.fee.code,
        purpose=PURPOSE,
        reference={"certificate": certificate.pk, "number": certificate.number},
        key="certificate",
        description=f"{status.fee.name} (certificate {certificate.number})",
        now=now,
    )
    if not created:
        reprice(order=order, now=now)
        return order
    record(
        actor=user,
        verb="renewal.started",
        obj=certificate,
        data={
            "order": order.number,
            "fee": status.fee.code,
            "amount": order.total,
            "review": status.review.code if status.review else None,
        },
        now=now,
    )
    return order


def _day_text(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def renewal_price(line: Any, now: datetime) -> Price | None:
    """The renewal fee for paying `line` at `now`: on time through the expiry day, late from the
    next (payments.services.reprice applies it). None: renewal is no longer possible, which the
    order's fulfilment and the renewal page explain."""
    certificate = (
        Certificate.objects.select_related("program").filter(pk=line.reference.get("certificate")).first()
    )
    if certificate is None:
        return None
    status = renewal_status(certificate, now)
    if status.fee is None or status.stage not in (Stage.OPEN, Stage.LATE):
        return None
    note = ""
    if status.on_time_fee and status.late_fee and status.expires_on and status.late_from:
        note = (
            f"{status.on_time_fee.name}: ${status.on_time_fee.amount} through {_day_text(status.expires_on)}, "
            f"the expiry day; {status.late_fee.name.lower()}: ${status.late_fee.amount} from "
            f"{_day_text(status.late_from)}. You pay the fee in force on the day you pay: "
            f"today that is ${status.fee.amount}."
        )
    return Price(
        fee=status.fee,
        description=f"{status.fee.name} (certificate {certificate.number})",
        note=note,
    )


def fulfil_renewal(line: Any, now: datetime) -> None:
    """Paying the renewal order issues the new certificate at once (inside the payment's
    transaction, under the order's lock; the certificate's `renews` link is unique, so a
    certificate is renewed once however many orders are paid for it)."""
    # The holder's row before the certificate's, in the order a name change takes them (the
    # person, then their certificates), so the two take turns without a deadlock.
    holder_id = Certificate.objects.values_list("holder_id", flat=True).get(pk=line.reference["certificate"])
    User.objects.select_for_update(of=("self",)).get(pk=holder_id)
    old = (
        Certificate.objects.select_for_update(of=("self",))
        .select_related("program", "holder")
        .get(pk=line.reference["certificate"])
    )
    if old.superseded_at is not None or Certificate.objects.filter(renews=old).exists():
        # Paid twice (a check and a card): keep the money on record for staff to refund.
        record(
            actor=None,
            verb="renewal.duplicate_payment",
            obj=old,
            data={"order": line.order.number},
            now=now,
        )
        return
    if old.revoked_at is not None:
        record(
            actor=None,
            verb="renewal.not_applied",
            obj=old,
            data={"order": line.order.number},
            reason="The certificate was revoked after the renewal order was created.",
            now=now,
        )
        return
    program = old.program
    renewed_on = program_today(program, now)
    rules = rules_in_force(program, renewed_on)
    expires = new_expiry_for(old, renewed_on, rules)
    new = issue_certificate(
        holder=old.holder,
        program=program,
        issued_on=renewed_on,
        expires_on=expires,
        source=Source.RENEWAL,
        renews=old,
        now=now,
    )
    record(
        actor=None,
        verb="renewal.completed",
        obj=new,
        data={
            "order": line.order.number,
            "fee": line.fee_code,
            "amount": line.amount,
            "renews": old.number,
            "old_expiry": old.expires_on,
            "renewed_on": renewed_on,
            "on_time": old.expires_on is not None and renewed_on <= old.expires_on,
            "new_expiry": expires,
        },
        now=now,
    )


# --- Review modules (training hooks) ------------------------------------------------------


def review_access(user: Any, course: Course, now: datetime) -> str | None:
    """Who may open a review module: a holder whose renewal is open (or late, within the limit)."""
    if not getattr(user, "is_authenticated", False):
        return "Sign in to open the review module."
    today = program_today(course.program, now)
    if course.effective_from > today:
        return f"This review module takes effect on {course.effective_from:%Y-%m-%d}."
    certificate = current_certificate(user, course.program)
    if certificate is None:
        return "Review modules are for certificate holders renewing their certificate."
    status = renewal_status(certificate, now)
    if not status.is_open:
        return f"The review module opens with renewal. {status.blocker}".strip()
    return None


def review_completed(user: Any, course: Course, now: datetime) -> None:
    """Note on the certificate that its holder finished a review module (the renewal page reads
    completion from the training progress itself)."""
    certificate = current_certificate(user, course.program)
    if certificate is not None:
        record(
            actor=user,
            verb="renewal.review_completed",
            obj=certificate,
            data={"course": course.code},
            now=now,
        )


# --- Reminders ----------------------------------------------------------------------------


def send_renewal_reminders(*, now: datetime | None = None) -> int:
    """Email each certificate holder the reminder due today (see `lib.dates.due_reminder`), once
    per certificate and offset. Safe to run twice, concurrently, or after missing days."""
    now = now or timezone.now()
    sent = 0
    for program in Program.objects.filter(kind=ProgramKind.QUALIFICATION):
        today = program_today(program, now)
        try:
            rules = rules_in_force(program, today)
            offsets = [int(o) for o in rules.value("renewal.reminder_days")]
            catch_up = int(rules.value("renewal.reminder_catch_up_days"))
            limit = int(rules.value("renewal.requalify_after_days"))
        except RuleMissing as exc:
            logger.info("no renewal reminders for %s: %s", program.code, exc)
            continue
        if not offsets:
            continue
        # A range on the expiry date, never equality: a day the job did not run is caught up.
        earliest = today + timedelta(days=min(offsets) - catch_up)
        latest = today + timedelta(days=max(offsets))
        renewed_otherwise = Certificate.objects.filter(
            holder=OuterRef("holder"),
            program=OuterRef("program"),
            revoked_at__isnull=True,
            expires_on__gt=OuterRef("expires_on"),
        )
        candidates = (
            Certificate.objects.filter(
                program=program,
                expires_on__gte=earliest,
                expires_on__lte=latest,
                revoked_at__isnull=True,
                superseded_at__isnull=True,
            )
            .exclude(Exists(renewed_otherwise))
            .select_related("program", "holder")
            .order_by("expires_on", "id")
        )
        for certificate in candidates.iterator():
            if certificate.expires_on is None:  # excluded by the range; this tells the type checker
                continue
            offset = dates.due_reminder(
                due_day=certificate.expires_on, offsets=offsets, day=today, catch_up_days=catch_up
            )
            if offset is None:
                continue
            last_day = dates.closes_after(due_day=certificate.expires_on, days_after=limit)
            if last_day is not None and today > last_day:
                continue  # nothing left to renew: they must qualify again
            sent += _claim_and_send(certificate, offset, now)
    return sent


def _claim_and_send(certificate: Certificate, offset: int, now: datetime) -> int:
    if certificate.expires_on is None:
        return 0
    holder = certificate.holder
    with transaction.atomic():
        # The unique reminder row is the claim: an earlier (or a concurrent) run already sent it.
        if not send_once(
            claim=partial(
                claim_row,
                ReminderSent,
                certificate=certificate,
                offset_days=offset,
                due_on=dates.reminder_day(due_day=certificate.expires_on, offset_days=offset),
                sent_at=now,
            ),
            template="renewals/email/renewal_reminder",
            to=holder.email,
            user=holder,
            context=partial(_reminder_context, certificate, now),
        ):
            return 0
        record(
            actor=None,
            verb="renewal.reminder_sent",
            obj=certificate,
            data={"offset_days": offset, "to": holder.email},
            now=now,
        )
    return 1


def _reminder_context(certificate: Certificate, now: datetime) -> dict[str, Any]:
    status = renewal_status(certificate, now)
    expires = status.expires_on
    return {
        "user": certificate.holder,
        "certificate": certificate,
        "status": status,
        "days_left": (expires - status.today).days if expires else None,
        "fee": format_money(status.fee.amount) if status.fee else "",
        "late_fee": format_money(status.late_fee.amount) if status.late_fee else "",
        "renewal_url": absolute_url("renewals:renewal"),
    }
