"""The self-assessment estimate is a range from the program's rules and never below its stated
minimum; the handbook registration includes is offered while its access lasts, and not after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.enrollments.models import SelfAssessmentQuestion
from stormcert.enrollments.services import (
    estimate_on_record,
    handbook_access,
    hours_range,
    self_assessment_estimate,
)
from stormcert.programs.definitions import DEFINITIONS_DIR, load_definition_file
from stormcert.programs.models import PolicyVersion, Program
from stormcert.programs.policy import PolicyError, check_version, shape_of, validate_value
from stormcert.programs.rules import rules_in_force
from tests.enrollments.builders import enroll_and_register, make_course

HANDBOOK = "CASQA Industrial and Commercial Stormwater BMP Handbook"


@pytest.fixture
def casqa(programs: None) -> Program:
    program = Program.objects.get(code="QISP")
    make_course(program)  # its question: "Yes" -4 hours, "No" +8
    return program


def test_experience_shortens_the_range_but_never_below_the_stated_minimum(casqa: Program) -> None:
    values = rules_in_force(casqa).values
    assert (values["training.estimated_hours"], values["training.estimated_hours_max"]) == (16, 24)
    question = SelfAssessmentQuestion.objects.get(program=casqa)
    SelfAssessmentQuestion.objects.create(
        program=casqa, position=2, text="Written a SWPPP?", choices=[{"label": "Many", "hours": -9}]
    )
    second = SelfAssessmentQuestion.objects.get(position=2)
    experienced = self_assessment_estimate(casqa, values, {question.pk: 0, second.pk: 0})
    assert (experienced.low, experienced.high, str(experienced)) == (16, 16, "16")
    assert str(self_assessment_estimate(casqa, values, {question.pk: 0})) == "16–20"
    assert str(self_assessment_estimate(casqa, values, {question.pk: 1})) == "24–32"
    assert str(hours_range(values)) == "16–24"
    # A record from before estimates were ranges (one figure, below the minimum) reads within them.
    assert str(estimate_on_record({"estimated_hours": 7}, values)) == "16–24"


def test_the_page_says_the_range(alice: User, casqa: Program) -> None:
    client = client_for(alice)
    client.post(reverse("enrollments:acknowledge", args=["QISP"]), {"confirm": "on"})
    question = SelfAssessmentQuestion.objects.get(program=casqa)
    done = client.post(
        reverse("enrollments:self_assessment", args=["QISP"]), {f"q{question.pk}": "1"}, follow=True
    ).content.decode()
    assert "We estimate the online training will take you about 24–32 hours." in done
    assert "about 24–32 hours</dd>" in done


def test_a_range_below_its_minimum_is_a_problem_in_the_rules(casqa: Program) -> None:
    version = PolicyVersion.objects.get(program=casqa, name="CASQA")
    values = {v.key: v.value for v in version.values.all()}
    values["training.estimated_hours_max"] = 8
    problems = check_version(values, shape_of(casqa), {"registration", "re_registration", "extension"})
    assert any(p.startswith("training.estimated_hours_max: 8 is below") for p in problems)


def test_the_handbook_is_offered_while_access_lasts_and_not_after(alice: User, casqa: Program) -> None:
    client = client_for(alice)
    page = client.get(reverse("enrollments:qualification", args=["QISP"])).content.decode()
    assert HANDBOOK not in page  # not before registration
    paid = timezone.now() - timedelta(days=30)
    enrollment = enroll_and_register(alice, casqa, paid)
    handbook = handbook_access(enrollment, timezone.now())
    assert handbook is not None and handbook.url == "https://www.casqa.org/resources/bmp-handbooks"
    until = (paid.astimezone(casqa.zone).date().replace(year=paid.year + 1)).isoformat()
    assert handbook.until.isoformat() == until
    for url in (reverse("enrollments:qualification", args=["QISP"]), reverse("dashboard")):
        page = client.get(url).content.decode()
        assert HANDBOOK in page and f'<time datetime="{until}">' in page
    # One year on (handbook.access_years = 1), the training window (two years) is still open but
    # the handbook is no longer offered.
    enrollment.window_start = timezone.now() - timedelta(days=400)
    enrollment.save(update_fields=["window_start"])
    assert handbook_access(enrollment, timezone.now()) is None
    for url in (reverse("enrollments:qualification", args=["QISP"]), reverse("dashboard")):
        assert HANDBOOK not in client.get(url).content.decode()


def test_no_handbook_without_one_in_the_rules(alice: User, db: None) -> None:
    load_definition_file(DEFINITIONS_DIR / "cgp.toml")
    cgp = Program.objects.get(code="QSD")
    make_course(cgp)
    enrollment = enroll_and_register(alice, cgp, timezone.now())
    assert enrollment.window_start is not None and handbook_access(enrollment, timezone.now()) is None


def test_the_handbook_address_must_be_https(casqa: Program) -> None:
    assert validate_value("handbook.url", "https://example.org/handbook") == "https://example.org/handbook"
    for bad in ("javascript:alert(1)", "http://example.org/h", ""):
        with pytest.raises(PolicyError, match="expected an https:// address"):
            validate_value("handbook.url", bad)
    with pytest.raises(PolicyError, match="short text"):
        validate_value("handbook.title", "")
