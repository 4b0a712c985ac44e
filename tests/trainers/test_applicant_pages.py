"""What applicants, reviewers and staff are shown around a Statement of Qualifications: every
cycle's application stays visible, a sitting ToR is not asked to apply, a decision waits for the
program's minimum of reviewers, and the pages say in words what a code or a blank used to."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.programs.models import PolicyValue
from stormcert.trainers.applications import decide, decision_blocker, start_application
from stormcert.trainers.services import TrainerError
from tests.trainers.builders import (
    CLOSES,
    DURING,
    NOTICE,
    OPENS,
    in_standing,
    make_cycle,
    qisp,
    scored,
    submitted,
    tor_program,
)

pytestmark = pytest.mark.django_db


def test_a_pending_application_stays_in_view_when_the_next_cycle_opens(
    programs: None, alice: User, sara: User
) -> None:
    spring = make_cycle(sara)
    submitted(qisp(alice), spring)
    autumn = make_cycle(
        sara,
        title="Autumn ToR RFQ",
        opens_at=OPENS.replace(month=9),
        closes_at=CLOSES.replace(month=10),
        notice_on=NOTICE.replace(month=10, day=20),
    )
    code = tor_program().code
    with time_machine.travel(OPENS.replace(month=9) + timedelta(days=1), tick=False):
        page = client_for(alice)  # signed in on that day (a session does not last ten months)
        home = page.get(reverse("trainers:home", args=[code])).content.decode()
        application = page.get(reverse("trainers:application", args=[code]))
    assert autumn.title in home
    assert "Your application to 2027 ToR RFQ" in home and "under review; results on June 15, 2027" in home
    assert "Your applications" in home
    assert application.status_code == 200 and "2027 ToR RFQ" in application.content.decode()


def test_a_sitting_trainer_of_record_is_not_offered_apply(programs: None, tom: User, sara: User) -> None:
    cycle = make_cycle(sara)
    in_standing(tom, DURING)
    with pytest.raises(TrainerError, match="you renew each year rather than apply again"):
        start_application(user=tom, cycle=cycle, now=DURING)
    with time_machine.travel(DURING, tick=False):
        home = client_for(tom).get(reverse("trainers:home", args=[tor_program().code])).content.decode()
    assert "you renew each year rather than apply again" in home
    assert "Apply: start my Statement of Qualifications" not in home


def test_a_decision_waits_for_the_programs_minimum_of_reviewers(
    programs: None, alice: User, sara: User
) -> None:
    application = scored(submitted(qisp(alice), make_cycle(sara)), reviewers=1)
    assert decision_blocker(application, CLOSES) == (
        "At least 2 reviewers must score this statement before a decision; 1 has so far. Assign reviewers below."
    )
    with pytest.raises(TrainerError, match="At least 2 reviewers"):
        decide(application=application, selected=True, actor=sara, reason="Strong", now=CLOSES)
    staff = client_for(sara, mfa=True)
    page = staff.get(reverse("trainers:staff_application", args=[application.pk])).content.decode()
    assert "At least 2 reviewers must score" in page and "Save the decision" not in page
    # The minimum is program data: a version that asks for one reviewer lets staff decide.
    PolicyValue.objects.filter(key="review.minimum_reviewers", version__program=tor_program()).update(value=1)
    decide(application=application, selected=True, actor=sara, reason="Strong", now=CLOSES)
    application.refresh_from_db()
    assert application.status == "selected"


def test_the_staff_page_says_everything_in_words(programs: None, alice: User, sara: User) -> None:
    application = scored(submitted(qisp(alice), make_cycle(sara)))
    make_cycle(
        sara,
        title="Next RFQ",
        opens_at=OPENS + timedelta(days=400),
        closes_at=CLOSES + timedelta(days=400),
        notice_on=NOTICE + timedelta(days=400),
    )
    staff = client_for(sara, mfa=True)
    page = staff.get(reverse("trainers:staff_application", args=[application.pk])).content.decode()
    home = staff.get(reverse("trainers:staff_home")).content.decode()
    assert "Other certifications" in page and "PE, CPESC" in page
    assert "SOQ submittal fee, $300.00" in page and ">soq<" not in page
    assert "open or in review" not in home
    next_row = next(row for row in home.split("<tr>") if "Next RFQ" in row)
    assert "opens" in next_row


def test_the_soq_form_marks_only_the_optional_answer_optional(
    programs: None, alice: User, sara: User
) -> None:
    cycle = make_cycle(sara)
    start_application(user=qisp(alice), cycle=cycle, now=DURING)
    with time_machine.travel(DURING, tick=False):
        page = (
            client_for(alice).get(reverse("trainers:application", args=[tor_program().code])).content.decode()
        )
    optional = [
        chunk.split("</label>")[0]
        for chunk in page.split("<label")[1:]
        if "(optional)" in chunk.split("</label>")[0]
    ]
    assert len(optional) == 1 and "Other certifications" in optional[0]


def test_a_draft_past_the_deadline_says_why_it_cannot_be_paid(
    programs: None, alice: User, sara: User
) -> None:
    cycle = make_cycle(sara)
    start_application(user=qisp(alice), cycle=cycle, now=DURING)
    with time_machine.travel(CLOSES + timedelta(days=1), tick=False):
        page = (
            client_for(alice).get(reverse("trainers:application", args=[tor_program().code])).content.decode()
        )
    assert "The deadline passed on June 1, 2027 5:00 PM PDT" in page
    assert "can no longer be paid for or submitted" in page


def test_every_trainer_program_must_say_its_minimum(programs: None) -> None:
    from stormcert.programs.policy import required_keys, shape_of

    assert "review.minimum_reviewers" in required_keys(shape_of(tor_program()))
