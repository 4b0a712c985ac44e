"""Reminders to Trainers of Record: the yearly fee and renewal steps before the fee's due day
(`term.reminder_days_before`), and a new Compliance Agreement version to sign. Each goes out
once (a `TrainerNotice` row is the claim, as `renewals.services.send_renewal_reminders` does
with its rows); staff may also send the fee notice now, audited."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.emails.services import send_once, send_templated_email
from stormcert.lib import dates
from stormcert.lib.db import claim_row
from stormcert.lib.links import absolute_url
from stormcert.programs.models import Program, ProgramKind
from stormcert.programs.rules import RuleMissing, program_today, rules_in_force
from stormcert.trainers.applications import agreement_in_force
from stormcert.trainers.models import AgreementSignature, TrainerNotice, TrainerTerm
from stormcert.trainers.services import TrainerError
from stormcert.trainers.yearly import TermRenewalStatus, renewal_steps, term_renewal_status

logger = logging.getLogger(__name__)

FEE_TEMPLATE = "trainers/email/term_reminder"
AGREEMENT_TEMPLATE = "trainers/email/agreement_reminder"


def _holders(program: Program, now: datetime) -> list[User]:
    """Who holds a term of `program` in force today: the people to remind."""
    day = program_today(program, now)
    ids = TrainerTerm.objects.filter(program=program).in_force_on(day).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def send_term_reminders(*, now: datetime | None = None) -> int:
    """Every trainer program: the fee reminder due today to each ToR who has not paid for the
    next term, and the agreement in force to each ToR who has not signed it. Safe to run twice,
    concurrently, or after missed days (a missed day is caught up for the catch-up days)."""
    now = now or timezone.now()
    sent = 0
    for program in Program.objects.filter(kind=ProgramKind.TRAINER):
        today = program_today(program, now)
        try:
            rules = rules_in_force(program, today)
            offsets = [int(o) for o in rules.value("term.reminder_days_before")]
            catch_up = int(rules.value("term.reminder_catch_up_days"))
        except RuleMissing as exc:
            logger.info("no ToR reminders for %s: %s", program.code, exc)
            continue
        agreement = agreement_in_force(program, now)
        for user in _holders(program, now):
            status = term_renewal_status(user, program, now)
            if offsets and status is not None and _fee_outstanding(status):
                offset = dates.due_reminder(
                    due_day=status.due, offsets=offsets, day=today, catch_up_days=catch_up
                )
                if offset is not None:
                    sent += _claim_and_send(
                        user, program, f"fee:{status.term_start:%Y-%m-%d}:{offset}", FEE_TEMPLATE, now
                    )
            if (
                agreement is not None
                and not AgreementSignature.objects.filter(agreement=agreement, user=user).exists()
            ):
                sent += _claim_and_send(user, program, f"agreement:{agreement.pk}", AGREEMENT_TEMPLATE, now)
    return sent


def _fee_outstanding(status: TermRenewalStatus) -> bool:
    return status.renewal.paid_at is None and status.renewal.confirmed_at is None


def _claim_and_send(user: User, program: Program, key: str, template: str, now: datetime) -> int:
    with transaction.atomic():
        # The unique notice row is the claim: an earlier (or a concurrent) run already sent it.
        if not send_once(
            claim=partial(claim_row, TrainerNotice, user=user, program=program, key=key, sent_at=now),
            template=template,
            to=user.email,
            user=user,
            context=partial(_context, user, program, now),
        ):
            return 0
        record(
            actor=None,
            verb="trainers.reminder_sent",
            obj=user,
            data={"program": program.code, "key": key},
            now=now,
        )
    return 1


def _context(user: User, program: Program, now: datetime) -> dict[str, Any]:
    status = term_renewal_status(user, program, now)
    return {
        "user": user,
        "program": program,
        "status": status,
        "steps": renewal_steps(program, program_today(program, now)),
        "agreement": agreement_in_force(program, now),
        "url": absolute_url("trainers:home", program.code),
    }


def send_fee_notice_now(
    *, user: User, program: Program, actor: User, reason: str, now: datetime | None = None
) -> None:
    """Staff send one ToR the yearly fee notice today instead of waiting for its day. It is
    sent every time staff ask (they gave a reason, and it is audited); the automatic reminders
    still follow on their days."""
    now = now or timezone.now()
    if not reason.strip():
        raise TrainerError("Give a reason: notices sent by staff are audited.")
    status = term_renewal_status(user, program, now)
    if status is None:
        raise TrainerError(f"{user} has never been a Trainer of Record of {program.short_name}.")
    if not _fee_outstanding(status):
        raise TrainerError(
            f"{user} has already paid the yearly fee for the term from {status.term_start:%B %-d, %Y}."
        )
    with transaction.atomic():
        send_templated_email(
            template=FEE_TEMPLATE, to=user.email, user=user, context=_context(user, program, now)
        )
        record(
            actor=actor,
            verb="trainers.fee_notice_sent",
            obj=user,
            data={"program": program.code, "term_start": status.term_start.isoformat()},
            reason=reason,
            now=now,
        )
