"""Review modules open only to holders in their renewal period (training access hook)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.training.hooks import access_denied_reason
from stormcert.training.models import Lesson
from stormcert.training.services import TrainingError, complete_lesson
from tests.renewals.builders import at, holder_until, make_review

pytestmark = pytest.mark.django_db
EXPIRY = date(2028, 1, 15)


def test_open_only_in_the_renewal_period(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    module = make_review()
    before = access_denied_reason(alice, module, at(2027, 10, 16))
    assert (
        before
        == "The review module opens with renewal. Renewal opens on October 17, 2027, 1 days from today."
    )
    assert access_denied_reason(alice, module, at(2027, 10, 17, 0, 0, 1)) is None
    assert access_denied_reason(alice, module, at(2028, 6, 1)) is None  # late renewal is still renewal


def test_people_without_a_certificate_cannot_open_it(eve: User, programs: None) -> None:
    module = make_review()
    assert access_denied_reason(eve, module, at(2027, 12, 1)) == (
        "Review modules are for certificate holders renewing their certificate."
    )
    lesson = Lesson.objects.filter(unit__course=module).first()
    assert lesson is not None
    with pytest.raises(TrainingError):
        complete_lesson(user=eve, lesson=lesson, now=at(2027, 12, 1))


def test_a_module_not_yet_in_effect_is_closed(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    module = make_review(effective_from=date(2028, 1, 1))
    assert (
        access_denied_reason(alice, module, at(2027, 12, 1))
        == "This review module takes effect on 2028-01-01."
    )


def test_the_course_page_redirects_with_the_reason(alice: User, programs: None) -> None:
    holder_until(alice, EXPIRY)
    make_review()
    with time_machine.travel(at(2027, 9, 1), tick=False):
        response = client_for(alice).get("/training/module-5/", follow=True)
        assert "The review module opens with renewal." in response.content.decode()
    with time_machine.travel(at(2027, 12, 1), tick=False):
        assert client_for(alice).get("/training/module-5/").status_code == 200
