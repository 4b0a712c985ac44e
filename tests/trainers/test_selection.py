"""Reviews, selection, notices on the notice date, then the candidate's steps and approval."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import User
from stormcert.certificates.models import Certificate
from stormcert.courses.services import CourseError, check_can_publish
from stormcert.emails.models import OutboundEmail
from stormcert.trainers.applications import (
    acknowledge_course_info,
    approve_candidate,
    assign_reviewer,
    decide,
    declare_conflict,
    public_trainers,
    record_orientation,
    send_notices,
    sign_agreement,
    submit_scores,
)
from stormcert.trainers.models import AgreementSignature, ApplicationStatus
from stormcert.trainers.services import TrainerError
from tests.trainers.builders import (
    CLOSES,
    NOTICE,
    PT,
    agreement,
    make_cycle,
    qisp,
    qisp_program,
    reviewer,
    scored,
    submitted,
    tor_program,
)

pytestmark = pytest.mark.django_db

NOTICE_MORNING = datetime.combine(NOTICE, datetime.min.time(), tzinfo=PT)


def test_two_reviewers_score_independently_and_staff_see_them_side_by_side(
    programs: None, alice: User, sara: User
) -> None:
    cycle = make_cycle(sara)
    application = submitted(qisp(alice), cycle)
    r1, r2 = reviewer(make_person("r1@example.com")), reviewer(make_person("r2@example.com"))
    with pytest.raises(TrainerError, match="is not a reviewer"):
        assign_reviewer(application=application, reviewer=make_person("no@example.com"), actor=sara)
    a1 = assign_reviewer(application=application, reviewer=r1, actor=sara, now=CLOSES)
    a2 = assign_reviewer(application=application, reviewer=r2, actor=sara, now=CLOSES)
    with pytest.raises(TrainerError, match="already assigned"):
        assign_reviewer(application=application, reviewer=r1, actor=sara, now=CLOSES)
    experience, teaching = cycle.criteria.all()
    with pytest.raises(TrainerError, match="Declare first"):
        submit_scores(assignment=a1, scores={}, comment="", now=CLOSES)
    declare_conflict(assignment=a1, conflict=False, note="", now=CLOSES)
    declare_conflict(assignment=a2, conflict=False, note="", now=CLOSES)
    with pytest.raises(TrainerError, match="“Experience” is scored from 0 to 5"):
        submit_scores(assignment=a1, scores={experience.pk: 6, teaching.pk: 1}, comment="", now=CLOSES)
    submit_scores(assignment=a1, scores={experience.pk: 5, teaching.pk: 5}, comment="Strong", now=CLOSES)
    submit_scores(assignment=a2, scores={experience.pk: 3, teaching.pk: 1}, comment="", now=CLOSES)
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert a1.weighted_total() == 100.0
    assert a2.weighted_total() == 50.0  # (3×3 + 1×1) / (5×3 + 5×1)
    # A reviewer sees only their own assignment.
    assert client_for(r2).get(reverse("trainers:review", args=[a1.pk])).status_code == 404
    page = client_for(sara, mfa=True).get(reverse("trainers:staff_cycle", args=[cycle.pk])).content.decode()
    assert "100.0" in page and "50.0" in page and "75.0" in page
    detail = (
        client_for(sara, mfa=True)
        .get(reverse("trainers:staff_application", args=[application.pk]))
        .content.decode()
    )
    assert "Strong" in detail


def test_a_declared_conflict_means_no_score(programs: None, alice: User, sara: User) -> None:
    application = submitted(qisp(alice), make_cycle(sara))
    assignment = assign_reviewer(
        application=application, reviewer=reviewer(make_person("r@example.com")), actor=sara
    )
    with pytest.raises(TrainerError, match="Describe the conflict"):
        declare_conflict(assignment=assignment, conflict=True, note=" ")
    declare_conflict(assignment=assignment, conflict=True, note="My former employee")
    with pytest.raises(TrainerError, match="declared a conflict"):
        submit_scores(assignment=assignment, scores={}, comment="")


def test_results_are_emailed_on_the_notice_date_once(
    programs: None, alice: User, eve: User, sara: User
) -> None:
    cycle = make_cycle(sara)
    chosen, other = scored(submitted(qisp(alice), cycle)), scored(submitted(qisp(eve), cycle))
    with pytest.raises(TrainerError, match="once the cycle has closed"):
        decide(
            application=chosen,
            selected=True,
            actor=sara,
            reason="Top score",
            now=CLOSES - timedelta(seconds=1),
        )
    with pytest.raises(TrainerError, match="Give a reason"):
        decide(application=chosen, selected=True, actor=sara, reason="", now=CLOSES)
    decide(application=chosen, selected=True, actor=sara, reason="Top score", now=CLOSES)
    decide(application=other, selected=False, actor=sara, reason="Too little teaching", now=CLOSES)
    assert send_notices(now=NOTICE_MORNING - timedelta(seconds=1)) == 0
    assert send_notices(now=NOTICE_MORNING) == 2
    assert send_notices(now=NOTICE_MORNING + timedelta(hours=1)) == 0
    results = OutboundEmail.objects.filter(template="trainers/email/result")
    assert {m.to for m in results} == {alice.email, eve.email}
    assert "Congratulations" in results.get(to=alice.email).body_text
    with pytest.raises(TrainerError, match="already been told"):
        decide(application=chosen, selected=False, actor=sara, reason="x", now=NOTICE_MORNING)


def test_tick_sends_notices_and_a_missed_day_still_sends(programs: None, alice: User, sara: User) -> None:
    import time_machine

    chosen = scored(submitted(qisp(alice), make_cycle(sara)))
    decide(application=chosen, selected=True, actor=sara, reason="Top score", now=CLOSES)
    with time_machine.travel(NOTICE_MORNING + timedelta(days=3), tick=False):
        call_command("tick", verbosity=0)
        call_command("tick", verbosity=0)
    assert OutboundEmail.objects.filter(template="trainers/email/result").count() == 1


def _selected(alice: User, sara: User) -> object:
    chosen = scored(submitted(qisp(alice), make_cycle(sara)))
    decide(application=chosen, selected=True, actor=sara, reason="Top score", now=CLOSES)
    send_notices(now=NOTICE_MORNING)
    chosen.refresh_from_db()
    return chosen


def test_the_candidate_signs_and_staff_approve_a_new_tor(programs: None, alice: User, sara: User) -> None:
    chosen = _selected(alice, sara)
    version = agreement()
    after = NOTICE_MORNING + timedelta(days=1)
    with pytest.raises(TrainerError, match="Still missing: the orientation"):
        approve_candidate(application=chosen, actor=sara, reason="ok", now=after)  # type: ignore[arg-type]
    record_orientation(application=chosen, how="viewed", now=after)  # type: ignore[arg-type]
    acknowledge_course_info(application=chosen, now=after)  # type: ignore[arg-type]
    with pytest.raises(TrainerError, match="as it is on your account"):
        sign_agreement(
            user=alice,
            program=tor_program(),
            typed_name="Someone Else",
            ip_address="203.0.113.9",
            user_agent="t",
            now=after,
        )
    signature = sign_agreement(
        user=alice,
        program=tor_program(),
        typed_name="alice alvarez",
        ip_address="203.0.113.9",
        user_agent="UA",
        now=after,
    )
    assert (signature.agreement, signature.ip_address, signature.signed_at) == (version, "203.0.113.9", after)
    with pytest.raises(TrainerError, match="You signed version 1"):
        sign_agreement(
            user=alice,
            program=tor_program(),
            typed_name="Alice Alvarez",
            ip_address=None,
            user_agent="",
            now=after,
        )
    with pytest.raises(CourseError):
        check_can_publish(alice, qisp_program(), after)
    term = approve_candidate(application=chosen, actor=sara, reason="All steps done", now=after)  # type: ignore[arg-type]
    # Approved mid-June: the term is the one running to June 30; the certificate says so.
    assert (str(term.starts_on), str(term.ends_on)) == ("2026-07-01", "2027-06-30")
    certificate = Certificate.objects.get(program__code="IGP-TOR")
    assert certificate.expires_on == term.ends_on and certificate.holder == alice
    check_can_publish(alice, qisp_program(), after)
    assert [t.user for t in public_trainers(after)] == [alice]
    # A new agreement version asks for a new signature.
    agreement(version="2", effective_from=after.date() + timedelta(days=1))
    from stormcert.trainers.applications import has_signed_current

    assert not has_signed_current(alice, certificate.program, after + timedelta(days=1))
    assert AgreementSignature.objects.count() == 1
    assert chosen.status == ApplicationStatus.SELECTED  # type: ignore[attr-defined]


def test_the_review_page_declares_then_scores(programs: None, alice: User, sara: User) -> None:
    application = submitted(qisp(alice), make_cycle(sara))
    r1 = reviewer(make_person("r1@example.com"))
    assignment = assign_reviewer(application=application, reviewer=r1, actor=sara, now=CLOSES)
    client = client_for(r1)
    url = reverse("trainers:review", args=[assignment.pk])
    assert "Twelve years" not in client.get(url).content.decode()  # nothing shown before declaring
    missing = client.post(url, {"declare": "", "conflict": "yes", "note": ""}).content.decode()
    assert "Describe the conflict of interest." in missing
    client.post(url, {"declare": "", "conflict": "no"})
    page = client.get(url).content.decode()
    assert "Twelve years" in page
    experience, teaching = application.cycle.criteria.all()
    bad = client.post(url, {"score": "", f"c{experience.pk}": "9", f"c{teaching.pk}": "2"}).content.decode()
    assert "less than or equal to 5" in bad
    client.post(url, {"score": "", f"c{experience.pk}": "4", f"c{teaching.pk}": "2", "comment": "Good"})
    assignment.refresh_from_db()
    assert assignment.submitted_at is not None and assignment.weighted_total() == 70.0
