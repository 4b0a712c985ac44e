"""Assigning reviewers to a whole cycle at once: every submitted statement gets the program's
minimum of reviewers (`review.minimum_reviewers`), never its applicant nor a reviewer who
declared a conflict on it.

`plan_assignments` only reads, so staff see the plan before they confirm it; the plan is a
function of the method, the seed and the rows, so `assign_in_bulk` (which plans again under the
cycle's row lock) makes the plan staff saw unless someone assigned a reviewer in between.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.lib.db import lock
from stormcert.programs.rules import program_today, rules_in_force
from stormcert.trainers.applications import reviewers
from stormcert.trainers.models import Application, ApplicationCycle, ApplicationStatus, ReviewAssignment
from stormcert.trainers.services import TrainerError

BALANCED, RANDOM = "balanced", "random"
METHODS = {BALANCED: "Balanced: fewest assignments first", RANDOM: "Random (seeded shuffle)"}


@dataclass
class Plan:
    method: str
    seed: int
    minimum: int
    # (application, reviewer) pairs to create, in order.
    pairs: list[tuple[Application, User]] = field(default_factory=list)
    # Statements that cannot reach the minimum, and why.
    short: list[str] = field(default_factory=list)
    # Reviewer load in the cycle after the plan, for the summary.
    load: dict[User, int] = field(default_factory=dict)

    def by_application(self) -> list[tuple[Application, list[User]]]:
        grouped: dict[int, tuple[Application, list[User]]] = {}
        for application, reviewer in self.pairs:
            grouped.setdefault(application.pk, (application, []))[1].append(reviewer)
        return list(grouped.values())


def minimum_reviewers(cycle: ApplicationCycle, now: datetime) -> int:
    program = cycle.program
    return int(rules_in_force(program, program_today(program, now)).value("review.minimum_reviewers"))


def plan_assignments(*, cycle: ApplicationCycle, method: str, seed: int, now: datetime | None = None) -> Plan:
    """Who would review what: for each submitted statement still short of the minimum (a
    declared conflict does not count toward it), reviewers not yet on it and not its applicant.
    Balanced takes the reviewers with the fewest assignments in the cycle first (ties by name);
    random shuffles them with `seed`."""
    now = now or timezone.now()
    if method not in METHODS:
        raise TrainerError("Choose how to assign: balanced or random.")
    minimum = minimum_reviewers(cycle, now)
    plan = Plan(method=method, seed=seed, minimum=minimum)
    pool = reviewers()
    existing = list(
        ReviewAssignment.objects.filter(application__cycle=cycle).values_list(
            "application_id", "reviewer_id", "conflict"
        )
    )
    load = Counter(reviewer_id for _, reviewer_id, _ in existing)
    on_it: dict[int, set[int]] = {}
    counting: Counter[int] = Counter()
    for application_id, reviewer_id, conflict in existing:
        on_it.setdefault(application_id, set()).add(reviewer_id)
        if conflict is not True:
            counting[application_id] += 1
    rng = random.Random(seed)  # noqa: S311 - fairness of a workload, not a secret
    applications = (
        cycle.applications.filter(status=ApplicationStatus.SUBMITTED)
        .select_related("applicant")
        .order_by("submitted_at", "pk")
    )
    for application in applications:
        needed = minimum - counting[application.pk]
        if needed <= 0:
            continue
        taken = on_it.get(application.pk, set())
        candidates = [r for r in pool if r.pk != application.applicant_id and r.pk not in taken]
        if method == RANDOM:
            rng.shuffle(candidates)
        else:
            candidates.sort(key=lambda r: load[r.pk])  # stable: keeps the pool's name order on ties
        chosen = candidates[:needed]
        for reviewer in chosen:
            plan.pairs.append((application, reviewer))
            load[reviewer.pk] += 1
        if len(chosen) < needed:
            plan.short.append(
                f"{application.applicant}: {len(chosen) + counting[application.pk]} of {minimum} reviewers; "
                "no other reviewer is free of a conflict with this statement."
            )
    plan.load = {r: load[r.pk] for r in pool}
    return plan


@transaction.atomic
def assign_in_bulk(
    *, cycle: ApplicationCycle, method: str, seed: int, actor: User, reason: str, now: datetime | None = None
) -> Plan:
    """Make the plan: one assignment per pair, each audited with the reason, and one event for
    the cycle. The cycle's row lock makes two staff confirming at once take turns (the second
    plans again and finds the statements already covered)."""
    now = now or timezone.now()
    if not reason.strip():
        raise TrainerError("Give a reason: assignments are audited.")
    cycle = lock(cycle, "program")
    plan = plan_assignments(cycle=cycle, method=method, seed=seed, now=now)
    for application, reviewer in plan.pairs:
        ReviewAssignment.objects.create(
            application=application, reviewer=reviewer, assigned_at=now, assigned_by=actor
        )
        record(
            actor=actor,
            verb="trainers.reviewer_assigned",
            obj=application,
            data={"reviewer": reviewer.email, "method": method},
            reason=reason,
            now=now,
        )
    record(
        actor=actor,
        verb="trainers.reviewers_assigned_in_bulk",
        obj=cycle,
        data={"method": method, "seed": seed, "assignments": len(plan.pairs), "short": len(plan.short)},
        reason=reason,
        now=now,
    )
    return plan
