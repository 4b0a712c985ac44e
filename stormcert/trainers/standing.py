"""Standing to teach: the one answer to "may this Trainer of Record teach today, and if not, why".

Standing is held in a trainer program T and derived at read time from three things (DOMAIN.md,
the ToR program): a term of T in force, a current certificate in each program T requires, and
T's Compliance Agreement in force signed. A person may teach a course session of a qualification
program Q when they have standing in some trainer program that teaches Q (`Program.teaches`).
Nothing is stored, so a term that lapses, a required certificate that expires or a new agreement
version takes effect the moment it happens, before any job runs. Publishing, editing, rosters,
attendance, registration (through courses.hooks), the staff queue of sessions and the public list
of ToRs all ask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.programs.lookup import trainer_programs_teaching
from stormcert.programs.models import Program
from stormcert.programs.rules import program_today
from stormcert.trainers.applications import agreement_in_force, holders_of_required, missing_certificates
from stormcert.trainers.models import AgreementSignature, TrainerTerm

NO_AGREEMENT = "No Compliance Agreement is in force yet, so none can be signed."


@dataclass(frozen=True)
class Standing:
    """`missing` lists what stands between the person and teaching, one sentence each."""

    program: Program | None
    term: TrainerTerm | None
    missing: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def reason(self) -> str:
        return " ".join(self.missing)


def _no_term_reason(user: User, program: Program, today: date) -> str:
    """Why no term is in force, as specifically as the records allow."""
    latest = (
        TrainerTerm.objects.filter(user=user, program=program, starts_on__lte=today)
        .order_by("-starts_on")
        .first()
    )
    if latest is not None and latest.ended_on is not None and latest.ended_on <= today:
        why = f": {latest.end_reason.strip().rstrip('.')}" if latest.end_reason.strip() else ""
        return f"Your {program.short_name} term ended on {latest.ended_on:%B %-d, %Y}{why}."
    if latest is not None and latest.ends_on < today:
        return (
            f"Your {program.short_name} term ended on {latest.ends_on:%B %-d, %Y}; renew it to teach again."
        )
    return f"You have no current {program.short_name} term."


def standing_on(user: User, program: Program, *, now: datetime | None = None) -> Standing:
    """Standing in the trainer `program`."""
    now = now or timezone.now()
    if not getattr(user, "is_authenticated", False):
        return Standing(program=program, term=None, missing=("Sign in.",))
    today = program_today(program, now)
    missing: list[str] = []
    term = TrainerTerm.objects.filter(user=user, program=program).in_force_on(today).first()
    if term is None:
        missing.append(_no_term_reason(user, program, today))
    missing += missing_certificates(user, program, now)
    agreement = agreement_in_force(program, now)
    if agreement is None:
        missing.append(NO_AGREEMENT)
    elif not AgreementSignature.objects.filter(agreement=agreement, user=user).exists():
        missing.append(f"Sign the Compliance Agreement in force (version {agreement.version}).")
    return Standing(program=program, term=term, missing=tuple(missing))


def standing_to_teach(user: User, qualification: Program, *, now: datetime | None = None) -> Standing:
    """Standing in a trainer program that teaches `qualification`: the first such program where
    the person is in standing, else where they stand best (a program they hold or held a term
    in before one they never joined), so the reasons are about the program that concerns them."""
    now = now or timezone.now()
    programs = list(trainer_programs_teaching(qualification).order_by("position", "code"))
    if not programs:
        return Standing(
            program=None,
            term=None,
            missing=(f"No Trainer of Record program teaches {qualification.short_name} courses.",),
        )
    held = (
        set(TrainerTerm.objects.filter(user=user).values_list("program_id", flat=True))
        if getattr(user, "is_authenticated", False)
        else set()
    )
    standings = [standing_on(user, program, now=now) for program in programs]
    for standing in standings:
        if standing.ok:
            return standing
    ranked = sorted(standings, key=lambda s: s.program is None or s.program.pk not in held)
    best = ranked[0]
    if len(programs) > 1 and not held & {p.pk for p in programs}:
        names = ", ".join(p.short_name for p in programs)
        return Standing(
            program=best.program,
            term=None,
            missing=(
                f"Courses of {qualification.short_name} are taught by Trainers of Record of {names}; "
                "you hold no term there.",
            ),
        )
    return best


def teaching_problems(user: User, qualification: Program, now: datetime) -> list[str]:
    """The courses hook: the reasons, or nothing when the person may teach `qualification`."""
    return list(standing_to_teach(user, qualification, now=now).missing)


def in_standing(user_ids: Iterable[int] | None, program: Program, now: datetime) -> set[int]:
    """Of `user_ids` (None: everyone), who is in standing in the trainer `program` today: the
    same three conditions in a few queries, for the calendar, the staff queue and the public
    list (a loop over `standing_on` would be several per person)."""
    today = program_today(program, now)
    terms = TrainerTerm.objects.filter(program=program).in_force_on(today)
    if user_ids is not None:
        terms = terms.filter(user_id__in=set(user_ids))
    ids = set(terms.values_list("user_id", flat=True))
    agreement = agreement_in_force(program, now)
    if agreement is None or not ids:
        return set()
    ids &= set(
        AgreementSignature.objects.filter(agreement=agreement, user_id__in=ids).values_list(
            "user_id", flat=True
        )
    )
    return holders_of_required(ids, program, now) if ids else set()


def able_to_teach(user_ids: Iterable[int] | None, qualification: Program, now: datetime) -> set[int]:
    """The courses hook for many at once: who may teach sessions of `qualification` today."""
    ids = None if user_ids is None else set(user_ids)
    able: set[int] = set()
    for program in trainer_programs_teaching(qualification):
        able |= in_standing(ids, program, now)
    return able
