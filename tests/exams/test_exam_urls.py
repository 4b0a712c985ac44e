"""An exam is found by its program's code and its step code, never by the step code alone."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from stormcert.accounts.models import User
from stormcert.exams.models import Attempt, Exam
from tests.core.second_program import SECOND
from tests.exams.conftest import ready_for_midterm

pytestmark = pytest.mark.django_db


def test_the_exam_page_names_its_program(alice: User, alice_client: Client, midterm: Exam) -> None:
    ready_for_midterm(alice)
    intro = alice_client.get(reverse("exams:intro", args=["QISP", "midterm"]))
    assert intro.status_code == 200
    html = intro.content.decode()
    assert reverse("exams:start", args=["QISP", "midterm"]) in html
    assert reverse("enrollments:qualification", args=["QISP"]) in html


def test_another_programs_code_does_not_find_the_exam(
    alice: User, alice_client: Client, midterm: Exam
) -> None:
    from stormcert.programs.definitions import load_definition

    load_definition(SECOND, source="second.toml")
    ready_for_midterm(alice)
    # The second program has no exam with this step code, and unknown codes are not found.
    assert alice_client.get(reverse("exams:intro", args=["CGX", "midterm"])).status_code == 404
    assert alice_client.get(reverse("exams:intro", args=["NOPE", "midterm"])).status_code == 404
    assert alice_client.get(reverse("exams:intro", args=["IGP-TOR", "midterm"])).status_code == 404
    assert alice_client.post(reverse("exams:start", args=["CGX", "midterm"])).status_code == 404
    assert not Attempt.objects.exists()


def test_not_enrolled_goes_to_the_programs_page(alice_client: Client, midterm: Exam) -> None:
    response = alice_client.get(reverse("exams:intro", args=["QISP", "midterm"]))
    assert response["Location"] == reverse("enrollments:qualification", args=["QISP"])


def test_a_refused_start_returns_to_the_exam_page(alice_client: Client, midterm: Exam) -> None:
    response = alice_client.post(reverse("exams:start", args=["QISP", "midterm"]))
    assert response["Location"] == reverse("exams:intro", args=["QISP", "midterm"])
    assert not Attempt.objects.exists()


def test_starting_opens_an_attempt(alice: User, alice_client: Client, midterm: Exam) -> None:
    ready_for_midterm(alice)
    response = alice_client.post(reverse("exams:start", args=["QISP", "midterm"]))
    attempt = Attempt.objects.get()
    assert response["Location"] == reverse("exams:attempt", args=[attempt.pk])
