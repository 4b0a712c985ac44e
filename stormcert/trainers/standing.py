"""Standing to teach: the one answer to "may this Trainer of Record teach today, and if not, why".

It is derived at read time from three things (DOMAIN.md, the ToR program): a ToR term in force,
a current QISP certificate, and the Compliance Agreement version in force signed. Nothing is
stored, so a term that lapses, a QISP that expires or a new agreement version takes effect the
moment it happens, before any job runs. Publishing, editing, rosters, attendance, registration
(through courses.hooks), the staff queue of sessions and the public list of ToRs all ask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.certificates.models import Certificate, Status
from stormcert.enrollments.services import qualification_program
from stormcert.programs.rules import program_today
from stormcert.trainers.applications import active_qisp, agreement_in_force
from stormcert.trainers.models import AgreementSignature, TrainerTerm
from stormcert.trainers.services import trainer_program

NO_PROGRAM = "No Trainer of Record program is set up."
NO_QISP = "You need a current (active) QISP certificate."
NO_AGREEMENT = "No Compliance Agreement is in force yet, so none can be signed."


@dataclass(frozen=True)
class Standing:
    """`missing` lists what stands between the person and teaching, one sentence each."""

    term: TrainerTerm | None
    missing: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def reason(self) -> str:
        return " ".join(self.missing)


def _no_term_reason(user: User, today: date) -> str:
    """Why no term is in force, as specifically as the records allow."""
    program = trainer_program()
    latest = (
        TrainerTerm.objects.filter(user=user, program=program, starts_on__lte=today)
        .order_by("-starts_on")
        .first()
    )
    if latest is not None and latest.ended_on is not None and latest.ended_on <= today:
        why = f": {latest.end_reason.strip().rstrip('.')}" if latest.end_reason.strip() else ""
        return f"Your Trainer of Record term ended on {latest.ended_on:%B %-d, %Y}{why}."
    if latest is not None and latest.ends_on < today:
        return f"Your Trainer of Record term ended on {latest.ends_on:%B %-d, %Y}; renew it to teach again."
    return "You have no current Trainer of Record term."


def standing_on(user: User, *, now: datetime | None = None) -> Standing:
    now = now or timezone.now()
    program = trainer_program()
    if program is None or not getattr(user, "is_authenticated", False):
        return Standing(term=None, missing=(NO_PROGRAM,) if program is None else ("Sign in.",))
    today = program_today(program, now)
    missing: list[str] = []
    term = TrainerTerm.objects.filter(user=user, program=program).in_force_on(today).first()
    if term is None:
        missing.append(_no_term_reason(user, today))
    if active_qisp(user, now) is None:
        missing.append(NO_QISP)
    agreement = agreement_in_force(program, now)
    if agreement is None:
        missing.append(NO_AGREEMENT)
    elif not AgreementSignature.objects.filter(agreement=agreement, user=user).exists():
        missing.append(f"Sign the Compliance Agreement in force (version {agreement.version}).")
    return Standing(term=term, missing=tuple(missing))


def teaching_problems(user: User, now: datetime) -> list[str]:
    """The courses hook: the reasons, or nothing when the person may teach."""
    return list(standing_on(user, now=now).missing)


def in_standing(user_ids: Iterable[int] | None, now: datetime) -> set[int]:
    """Of `user_ids` (None: everyone), who may teach today: the same three conditions in four
    queries, for the calendar, the staff queue and the public list (a loop over `standing_on`
    would be four per person)."""
    program = trainer_program()
    if program is None:
        return set()
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
    qisp = qualification_program()
    if qisp is None or not ids:
        return set()
    qisp_today = program_today(qisp, now)
    holders = {
        c.holder_id
        for c in Certificate.objects.filter(program=qisp, holder_id__in=ids, superseded_at__isnull=True)
        if c.status_on(qisp_today) == Status.ACTIVE
    }
    return ids & holders
