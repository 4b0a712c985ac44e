"""The accommodation maximum is one rule (exams.models.FACTOR_MAX): the staff form, the candidate's
choices, the grant service, the model validators and the database all refuse a factor above it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.backoffice.forms import AccommodationForm
from stormcert.exams.forms import FACTOR_CHOICES
from stormcert.exams.models import FACTOR_MAX, FACTOR_MIN, Accommodation
from stormcert.exams.services import ExamError, grant_accommodation

pytestmark = pytest.mark.django_db

ABOVE = FACTOR_MAX + Decimal("0.01")


def test_the_staff_form_refuses_a_factor_above_the_maximum_in_words() -> None:
    form = AccommodationForm({"factor": str(ABOVE), "reason": "Letter on file."})
    assert not form.is_valid()
    assert f"less than or equal to {FACTOR_MAX}" in form.errors["factor"][0]
    assert AccommodationForm({"factor": str(FACTOR_MAX), "reason": "Letter on file."}).is_valid()


def test_the_staff_person_page_says_why_and_keeps_nothing(alice: User, sara: User) -> None:
    response = client_for(sara, mfa=True).post(
        reverse("backoffice:person", args=[alice.pk]),
        {"action": "accommodation", "acc-factor": str(ABOVE), "acc-reason": "Letter on file."},
    )
    assert response.status_code == 400
    assert f"less than or equal to {FACTOR_MAX}" in response.content.decode()
    assert not Accommodation.objects.filter(user=alice).exists()


def test_a_candidate_cannot_pick_a_factor_above_the_maximum() -> None:
    offered = [Decimal(value) for value, _ in FACTOR_CHOICES if value]
    assert offered and max(offered) <= FACTOR_MAX


def test_the_service_refuses_a_factor_above_the_maximum(alice: User, sara: User) -> None:
    with pytest.raises(ExamError, match=f"between {FACTOR_MIN} and {FACTOR_MAX}"):
        grant_accommodation(user=alice, factor=ABOVE, reason="Letter on file.", actor=sara)
    assert not Accommodation.objects.filter(user=alice).exists()
    granted = grant_accommodation(user=alice, factor=FACTOR_MAX, reason="Letter on file.", actor=sara)
    assert granted.factor == FACTOR_MAX


def test_the_model_validators_refuse_a_factor_above_the_maximum(alice: User, sara: User) -> None:
    accommodation = Accommodation(user=alice, factor=ABOVE, reason="x", granted_by=sara)
    with pytest.raises(ValidationError) as refused:
        accommodation.full_clean()
    assert "factor" in refused.value.message_dict


@pytest.mark.parametrize("factor", [ABOVE, FACTOR_MIN - Decimal("0.01")])
def test_the_database_refuses_a_factor_out_of_range(alice: User, sara: User, factor: Decimal) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Accommodation.objects.create(user=alice, factor=factor, reason="x", granted_by=sara)


def test_the_staff_queue_states_the_range_from_the_rule(alice: User, sara: User) -> None:
    from stormcert.exams.accommodations import request_accommodation

    request_accommodation(user=alice, explanation="I need more time.", factor=None, document=None)
    page = client_for(sara, mfa=True).get(reverse("exams:staff_accommodations")).content.decode()
    assert f"{FACTOR_MIN} to {FACTOR_MAX}; used only when granting." in page
