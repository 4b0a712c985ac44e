"""Two qualification programs and two trainer programs on one site, from definition files alone.

In Chromium: a candidate of the sister program (loaded from cgp.toml, no code of its own) finds it
beside the first program, registers and pays, and reaches and starts its exam; on the same site
a candidate of the first program still gets that program's journey, and a Trainer of Record of
the first trainer program still publishes a session for the program they teach.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import PASSWORD, make_person
from stormcert.core.demo.certificates import issue_demo_certificate
from stormcert.core.demo.cgp import load_demo_cgp_content
from stormcert.core.demo.exams import load_demo_exams
from stormcert.core.demo.trainers import load_demo_trainer_program
from stormcert.core.demo.training import load_demo_content
from stormcert.courses.models import CourseSession
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import get_enrollment, record_step_done
from stormcert.exams.models import Attempt
from stormcert.programs.models import Program
from stormcert.programs.rules import rules_in_force
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign In").click()


def first_and_sister() -> tuple[Program, Program]:
    """The programs as the definition files have them: the first qualification program and the
    one its sister file adds (found by the trainer program that teaches it, not by code)."""
    qualifications = list(Program.objects.filter(kind="qualification").order_by("position"))
    assert len(qualifications) == 2, "both definition files load"
    return qualifications[0], qualifications[1]


def test_a_sister_program_runs_beside_the_first(page: Page) -> None:
    call_command("load_programs", verbosity=0)
    load_demo_content()
    load_demo_exams()
    load_demo_cgp_content()
    first, sister = first_and_sister()
    sister_rules = rules_in_force(sister)
    exam_step = sister.steps.get(kind="exam")
    registration = sister_rules.fee(sister.steps.get(kind="payment").code)

    make_person("quinn@example.com", first_name="Quinn")
    sign_in(page, "quinn@example.com")

    # Both programs are offered; the person picks the sister program.
    page.goto("/qualification/")
    expect(page.get_by_role("link", name=first.name, exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=sister.name, exact=True).click()
    expect(page).to_have_url(re.compile(f"/qualification/{re.escape(sister.code)}/$"))
    assert_accessible(page)

    # Steps before registration, as the sister program defines them.
    for step in sister.steps.order_by("position"):
        if step.kind == "acknowledge":
            page.get_by_role("checkbox").check()
            page.get_by_role("button", name="Confirm").click()
        if step.kind == "payment":
            break
    page.get_by_role("button", name=f"Register: ${registration.amount}").click()
    page.get_by_role("button", name=f"Pay ${registration.amount} by card (test mode)").click()
    page.get_by_role("button", name="Approve test payment").click()
    expect(page.get_by_text("Payment received.")).to_be_visible()

    # The steps between payment and the exam (training, course, survey) are other tests'
    # journeys; here they are recorded as staff would, to reach the exam.
    enrollment = Enrollment.objects.get(user__email="quinn@example.com", program=sister)
    now = timezone.now()
    for step in sister.steps.filter(position__gt=sister.steps.get(kind="payment").position).order_by(
        "position"
    ):
        if step.kind == "exam":
            break
        record_step_done(enrollment=enrollment, step_code=step.code, source="test", actor=None, now=now)

    page.goto(f"/qualification/{sister.code}/")
    expect(page.get_by_role("heading", name=re.compile(re.escape(exam_step.title)))).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Go to the ")).click()
    expect(page).to_have_url(re.compile(f"/exams/{re.escape(sister.code)}/{exam_step.code}/$"))
    questions = sister_rules.value(f"{exam_step.code}.question_count")
    expect(page.get_by_text(f"{questions}, multiple choice")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=re.compile(r"^Start the ")).click()
    expect(page.get_by_role("timer")).to_be_visible()
    attempt = Attempt.objects.get(enrollment=enrollment)
    assert attempt.items.count() == questions
    assert attempt.exam.program == sister

    # The first program's journey is untouched: its own first step, its own fee.
    page.goto(f"/qualification/{first.code}/")
    first_step = first.steps.exclude(kind="account").order_by("position").first()
    assert first_step is not None
    expect(page.get_by_role("heading", name=f"Now: {first_step.title}")).to_be_visible()
    # Reading the first program's page wrote nothing; acting there makes a second enrollment.
    assert not Enrollment.objects.filter(user=enrollment.user, program=first).exists()
    assert get_enrollment(user=enrollment.user, program=first).pk != enrollment.pk


def test_the_first_trainer_program_still_teaches_beside_the_sister(page: Page) -> None:
    call_command("load_programs", verbosity=0)
    load_demo_content()
    load_demo_cgp_content()
    first, sister = first_and_sister()
    tom = make_person("tom@example.com", first_name="Tom")
    today = timezone.localdate()
    for required in Program.objects.get(kind="trainer", teaches=first).requires.all():
        issue_demo_certificate(tom, required, today - timedelta(days=30), today + timedelta(days=700))
    assert load_demo_trainer_program()

    sign_in(page, "tom@example.com")
    page.goto("/teach/new/")
    assert_accessible(page)
    # Tom teaches only the first program: the sister program is not offered to him.
    expect(page.get_by_text(sister.short_name, exact=True)).to_have_count(0)
    day = timezone.localdate() + timedelta(days=40)
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Starts at").fill("08:00")
    page.get_by_label("Ends at").fill("17:00")
    page.get_by_label("Venue").fill("Fresno Water Hall")
    page.get_by_label("City").fill("Fresno")
    page.get_by_label("Seats").fill("12")
    page.get_by_label("Registration closes").fill((day - timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published on the course calendar.")).to_be_visible()
    session = CourseSession.objects.get(trainer=tom)
    assert session.program == first

    # The calendar filtered to each program: the session is under its own program only.
    page.goto(f"/courses/?program={first.code}")
    expect(page.get_by_text("Fresno Water Hall").first).to_be_visible()
    page.goto(f"/courses/?program={sister.code}")
    expect(page.get_by_text("Fresno Water Hall")).to_have_count(0)
    page.goto("/trainers/")
    expect(page.get_by_text("Tom", exact=False).first).to_be_visible()


def test_the_pages_that_show_every_program_pass_axe(page: Page) -> None:
    call_command("load_programs", verbosity=0)
    make_person("quinn@example.com", first_name="Quinn")
    programs = list(Program.objects.order_by("position"))
    pages = ["/", "/courses/", "/trainers/", "/directory/"]
    pages += [f"/programs/{p.code}/" for p in programs if p.kind == "qualification"]
    for path in pages:
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page)
    sign_in(page, "quinn@example.com")
    for path in ["/dashboard/", "/qualification/", "/tor/"]:
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page)
    for program in programs:
        page.goto(
            f"/qualification/{program.code}/" if program.kind == "qualification" else f"/tor/{program.code}/"
        )
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page)
