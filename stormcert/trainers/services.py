"""ToR terms: grant, end, and "is this person a ToR today?"."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import models, transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.programs.models import Program
from stormcert.programs.rules import program_today, rules_in_force
from stormcert.trainers.models import TrainerTerm


class TrainerError(Exception):
    pass


def term_bounds(program: Program, day: date) -> tuple[date, date]:
    """The yearly term containing `day`, from the policy's term start (MM-DD)."""
    month, dom = (int(part) for part in rules_in_force(program, day).value("term.start").split("-"))
    start = date(day.year, month, dom)
    if start > day:
        start = date(day.year - 1, month, dom)
    return start, date(start.year + 1, month, dom) - timedelta(days=1)


def active_terms(user: User, now: datetime | None = None) -> list[TrainerTerm]:
    """The terms in force today (each in its own program's day) across every trainer program."""
    if not getattr(user, "is_authenticated", False):
        return []
    now = now or timezone.now()
    terms = (
        TrainerTerm.objects.filter(user=user)
        .select_related("program", "certificate")
        .order_by("program__position", "program__code")
    )
    return [t for t in terms if t.is_in_force_on(program_today(t.program, now))]


def active_term(
    user: User, now: datetime | None = None, *, program: Program | None = None
) -> TrainerTerm | None:
    """The term that makes `user` a Trainer of Record of `program` today (None: of any trainer
    program), if any."""
    terms = active_terms(user, now)
    if program is not None:
        terms = [t for t in terms if t.program_id == program.pk]
    return terms[0] if terms else None


def active_trainer_ids(day: date, program: Program) -> set[int]:
    """Who holds a term of `program` in force on `day`."""
    return set(TrainerTerm.objects.filter(program=program).in_force_on(day).values_list("user_id", flat=True))


@transaction.atomic
def grant_term(
    *,
    user: User,
    program: Program,
    actor: User | None,
    reason: str,
    source: str = "staff",
    starts_on: date | None = None,
    now: datetime | None = None,
) -> TrainerTerm:
    """Confirm `user` as a ToR of the trainer `program` for the term containing `starts_on`
    (default: today)."""
    now = now or timezone.now()
    if not reason.strip():
        raise TrainerError("Give a reason: granting a ToR term is audited.")
    if program.kind != "trainer":
        raise TrainerError(f"{program} is not a trainer program.")
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


@transaction.atomic
def end_term(
    *,
    term: TrainerTerm,
    actor: User,
    reason: str,
    ended_on: date | None = None,
    now: datetime | None = None,
) -> list[TrainerTerm]:
    """Staff end a ToR's term early (from `ended_on`, default today): the term stops counting
    from that day, and so does every later term already granted (a renewal confirmed for next
    year must not bring back someone staff removed). Each term's certificate ends with it, so
    the verify page and the API answer "ended on …" with the reason. Their future sessions
    follow by derivation (standing), not by anything done here. Returns the terms ended."""
    from stormcert.certificates.services import end_certificate

    now = now or timezone.now()
    if not reason.strip():
        raise TrainerError(
            "Give a reason: ending a Trainer of Record term is audited and shown on verification."
        )
    # The term's row, and the trainer's: everything that grants or ends someone's terms (a
    # renewal confirmed, a candidate approved) takes the person's row too, so ending the terms
    # cannot miss a later term granted at the same moment. Not the program's: every ToR shares it.
    term = (
        TrainerTerm.objects.select_for_update(of=("self", "user"))
        .select_related("program", "user")
        .get(pk=term.pk)
    )
    today = program_today(term.program, now)
    day = ended_on or today
    if day < today:
        raise TrainerError("A term can be ended from today or a later day, not in the past.")
    if day > term.ends_on:
        raise TrainerError(f"This term ends on {term.ends_on:%B %-d, %Y} anyway; choose a day before that.")
    if term.ended_on is not None and term.ended_on <= day:
        raise TrainerError(f"This term already ended on {term.ended_on:%B %-d, %Y}.")
    later = list(
        TrainerTerm.objects.select_for_update(of=("self",))
        .filter(user=term.user, program=term.program, starts_on__gt=term.starts_on)
        .filter(models.Q(ended_on__isnull=True) | models.Q(ended_on__gt=day))
        .order_by("starts_on")
    )
    ended = []
    for each in [term, *later]:
        before = each.ended_on
        each.ended_on = day
        each.end_reason = reason.strip()
        each.save(update_fields=["ended_on", "end_reason"])
        record(
            actor=actor,
            verb="trainer.term_ended",
            obj=each,
            data={
                "ended_on": day.isoformat(),
                "was": before.isoformat() if before else None,
                "because_of": None if each.pk == term.pk else term.pk,
            },
            reason=reason.strip(),
            now=now,
        )
        if each.certificate_id is not None:
            end_certificate(
                certificate=each.certificate,  # type: ignore[arg-type]
                ended_on=day,
                # Without a final stop: the verify page writes "Ended on <day>: <reason>."
                reason=f"Trainer of Record term ended: {reason.strip().rstrip('.')}",
                actor=actor,
                now=now,
            )
        ended.append(each)
    return ended
