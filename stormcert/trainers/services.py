"""ToR terms: grant, end, and "is this person a ToR today?"."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.programs.models import Program
from stormcert.programs.rules import program_today, rules_in_force
from stormcert.trainers.models import TrainerTerm


class TrainerError(Exception):
    pass


def trainer_program() -> Program | None:
    return Program.objects.filter(kind="trainer").first()


def term_bounds(program: Program, day: date) -> tuple[date, date]:
    """The yearly term containing `day`, from the policy's term start (MM-DD)."""
    month, dom = (int(part) for part in rules_in_force(program, day).value("term.start").split("-"))
    start = date(day.year, month, dom)
    if start > day:
        start = date(day.year - 1, month, dom)
    return start, date(start.year + 1, month, dom) - timedelta(days=1)


def active_term(user: User, now: datetime | None = None) -> TrainerTerm | None:
    """The term that makes `user` a Trainer of Record today, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    program = trainer_program()
    if program is None:
        return None
    today = program_today(program, now)
    return TrainerTerm.objects.filter(user=user, program=program).in_force_on(today).first()


def active_trainer_ids(day: date) -> set[int]:
    program = trainer_program()
    if program is None:
        return set()
    return set(TrainerTerm.objects.filter(program=program).in_force_on(day).values_list("user_id", flat=True))


@transaction.atomic
def grant_term(
    *,
    user: User,
    actor: User | None,
    reason: str,
    source: str = "staff",
    starts_on: date | None = None,
    now: datetime | None = None,
) -> TrainerTerm:
    """Confirm `user` as a ToR for the term containing `starts_on` (default: today)."""
    now = now or timezone.now()
    if not reason.strip():
        raise TrainerError("Give a reason: granting a ToR term is audited.")
    program = trainer_program()
    if program is None:
        raise TrainerError("No Trainer of Record program is set up.")
    day = starts_on or program_today(program, now)
    term_start, term_end = term_bounds(program, day)
    term, created = TrainerTerm.objects.get_or_create(
        user=user,
        program=program,
        starts_on=term_start,
        defaults={"ends_on": term_end, "source": source, "created_at": now},
    )
    if created:
        record(
            actor=actor,
            verb="trainer.term_granted",
            obj=term,
            data={"starts_on": term_start.isoformat(), "ends_on": term_end.isoformat(), "source": source},
            reason=reason,
            now=now,
        )
    return term
