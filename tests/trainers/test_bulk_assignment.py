"""Staff assign reviewers to a whole cycle: each submitted statement gets the program's minimum,
never its applicant or a reviewer with a declared conflict; balanced or seeded random; a preview
first, then an audited confirmation."""

from __future__ import annotations

from collections import Counter

import pytest
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.trainers.applications import assign_reviewer, declare_conflict
from stormcert.trainers.assigning import assign_in_bulk, plan_assignments
from stormcert.trainers.models import Application, ApplicationCycle, ReviewAssignment
from stormcert.trainers.services import TrainerError
from tests.trainers.builders import CLOSES, make_cycle, qisp, reviewer, submitted

pytestmark = pytest.mark.django_db


def _cycle_with(
    sara: User, statements: int, reviewers: int
) -> tuple[ApplicationCycle, list[Application], list[User]]:
    cycle = make_cycle(sara)
    applications = [
        submitted(qisp(make_person(f"applicant{n}@example.com", last_name=f"A{n}")), cycle)
        for n in range(statements)
    ]
    pool = [reviewer(make_person(f"r{n}@example.com", last_name=f"R{n}")) for n in range(reviewers)]
    return cycle, applications, pool


def test_balanced_gives_each_statement_the_minimum_and_spreads_the_load(programs: None, sara: User) -> None:
    cycle, applications, _ = _cycle_with(sara, statements=3, reviewers=3)
    plan = assign_in_bulk(
        cycle=cycle, method="balanced", seed=1, actor=sara, reason="spring round", now=CLOSES
    )
    assert len(plan.pairs) == 6 and not plan.short
    for application in applications:
        assert ReviewAssignment.objects.filter(application=application).count() == 2
    load = Counter(ReviewAssignment.objects.values_list("reviewer_id", flat=True))
    assert sorted(load.values()) == [2, 2, 2]
    assert AuditEvent.objects.filter(
        verb="trainers.reviewers_assigned_in_bulk", reason="spring round"
    ).exists()
    assert AuditEvent.objects.filter(verb="trainers.reviewer_assigned").count() == 6
    # Run again: nothing left to assign.
    again = assign_in_bulk(cycle=cycle, method="balanced", seed=1, actor=sara, reason="again", now=CLOSES)
    assert again.pairs == []


def test_never_the_applicant_nor_a_reviewer_with_a_declared_conflict(programs: None, sara: User) -> None:
    cycle, applications, pool = _cycle_with(sara, statements=1, reviewers=3)
    first = applications[0]
    # The applicant is also a reviewer; r0 declared a conflict on this statement.
    reviewer(first.applicant)
    conflicted = assign_reviewer(application=first, reviewer=pool[0], actor=sara, now=CLOSES)
    declare_conflict(assignment=conflicted, conflict=True, note="Former employer", now=CLOSES)
    plan = plan_assignments(cycle=cycle, method="random", seed=7, now=CLOSES)
    chosen = {r.pk for _, r in plan.pairs}
    assert chosen == {pool[1].pk, pool[2].pk}
    assert first.applicant_id not in chosen


def test_random_is_a_seeded_shuffle_and_says_when_reviewers_run_short(programs: None, sara: User) -> None:
    cycle, _, _ = _cycle_with(sara, statements=2, reviewers=4)
    one = plan_assignments(cycle=cycle, method="random", seed=42, now=CLOSES)
    two = plan_assignments(cycle=cycle, method="random", seed=42, now=CLOSES)
    assert [(a.pk, r.pk) for a, r in one.pairs] == [(a.pk, r.pk) for a, r in two.pairs]
    short_cycle = make_cycle(sara, title="Short")
    submitted(qisp(make_person("solo@example.com")), short_cycle)
    ReviewAssignment.objects.all().delete()
    User.objects.filter(email__in=["r1@example.com", "r2@example.com", "r3@example.com"]).update(
        is_active=False
    )
    plan = plan_assignments(cycle=short_cycle, method="balanced", seed=0, now=CLOSES)
    assert len(plan.pairs) == 1 and "1 of 2 reviewers" in plan.short[0]
    with pytest.raises(TrainerError, match="reason"):
        assign_in_bulk(cycle=short_cycle, method="balanced", seed=0, actor=sara, reason=" ", now=CLOSES)


def test_staff_preview_then_confirm_the_same_draw(programs: None, sara: User) -> None:
    cycle, applications, _ = _cycle_with(sara, statements=2, reviewers=3)
    staff = client_for(sara, mfa=True)
    url = reverse("trainers:staff_assign", args=[cycle.pk])
    assert "Preview" in staff.get(url).content.decode()
    refused = staff.post(url, {"method": "random", "reason": "", "preview": "1"})
    assert "This field is required" in refused.content.decode()
    preview = staff.post(url, {"method": "random", "reason": "spring", "preview": "1"})
    page = preview.content.decode()
    assert "Confirm these 4 assignments" in page and ReviewAssignment.objects.count() == 0
    seed = preview.context["plan"].seed
    planned = [(a.pk, r.pk) for a, r in preview.context["plan"].pairs]
    changed = staff.post(
        url, {"method": "balanced", "reason": "spring", "seed": seed, "previewed": "random", "confirm": "1"}
    )
    assert "new preview" in changed.content.decode() and ReviewAssignment.objects.count() == 0
    done = staff.post(
        url, {"method": "random", "reason": "spring", "seed": seed, "previewed": "random", "confirm": "1"}
    )
    assert done.status_code == 302
    made = sorted(ReviewAssignment.objects.values_list("application_id", "reviewer_id"))
    assert made == sorted(planned)
    assert client_for(applications[0].applicant).get(url).status_code in (302, 403)
