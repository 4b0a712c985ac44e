"""The Qualification page, the questionnaire, registration and the training pages over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.core.demo.training import study_lesson
from stormcert.enrollments.models import SelfAssessmentQuestion, StepRecord
from stormcert.payments.models import Order
from stormcert.programs.models import Program
from stormcert.training.models import Course, Lesson, LessonKind, QuizQuestion
from tests.enrollments.builders import enroll_and_register, make_course

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("programs")]


@pytest.fixture
def course() -> Course:
    return make_course(Program.objects.get(code="QISP"))


def test_qualification_page_shows_the_path_and_the_next_step(alice_client: Client, course: Course) -> None:
    page = alice_client.get(reverse("enrollments:qualification", args=["QISP"])).content.decode()
    assert "Now: Read the IGP and the SMARTS guides" in page
    assert "Opens when “Read the IGP and the SMARTS guides” is done." in page
    assert "SMARTS Quick Start Guide" in page


def test_acknowledge_needs_the_box_ticked(alice_client: Client, course: Course) -> None:
    page = alice_client.post(
        reverse("enrollments:acknowledge", args=["QISP"]), {}, follow=True
    ).content.decode()
    assert "Tick the box to confirm" in page and not StepRecord.objects.exists()
    alice_client.post(reverse("enrollments:acknowledge", args=["QISP"]), {"confirm": "on"})
    assert StepRecord.objects.get().step_code == "read_guides"
    again = alice_client.post(
        reverse("enrollments:acknowledge", args=["QISP"]), {"confirm": "on"}, follow=True
    ).content.decode()
    assert "is already done" in again and StepRecord.objects.count() == 1


def test_questionnaire_keeps_answers_and_explains_missing_ones(alice_client: Client, course: Course) -> None:
    alice_client.post(reverse("enrollments:acknowledge", args=["QISP"]), {"confirm": "on"})
    page = alice_client.post(reverse("enrollments:self_assessment", args=["QISP"]), {}).content.decode()
    assert "Choose one answer." in page
    done = alice_client.post(
        reverse("enrollments:self_assessment", args=["QISP"]),
        {f"q{SelfAssessmentQuestion.objects.get(program__code='QISP').pk}": "0"},
        follow=True,
    )
    # "Yes" takes 4 hours off the upper end only: never below the program's stated 16 hours.
    assert "about 16–20 hours" in done.content.decode()


def test_register_sends_to_the_order_and_reuses_it(alice_client: Client, alice: User, course: Course) -> None:
    alice_client.post(reverse("enrollments:acknowledge", args=["QISP"]), {"confirm": "on"})
    alice_client.post(
        reverse("enrollments:self_assessment", args=["QISP"]),
        {f"q{SelfAssessmentQuestion.objects.get(program__code='QISP').pk}": "0"},
    )
    first = alice_client.post(reverse("enrollments:register", args=["QISP"]))
    second = alice_client.post(reverse("enrollments:register", args=["QISP"]))
    order = Order.objects.get()
    assert first["Location"] == second["Location"] == reverse("payments:order", args=[order.number])


def test_register_out_of_order_is_refused_with_a_reason(alice_client: Client, course: Course) -> None:
    page = alice_client.post(reverse("enrollments:register", args=["QISP"]), follow=True).content.decode()
    assert "is not open yet" in page and not Order.objects.exists()


def test_training_is_closed_until_registration(alice_client: Client, course: Course) -> None:
    response = alice_client.get(reverse("training:course", args=[course.code]), follow=True)
    assert "Register for the online training to open it." in response.content.decode()
    lesson = Lesson.objects.filter(unit__course=course).first()
    assert lesson is not None
    alice_client.post(reverse("training:complete", args=[course.code, lesson.pk]))
    assert not lesson.progress.exists()


def test_training_pages_after_registration(alice: User, alice_client: Client, course: Course) -> None:
    enroll_and_register(alice, course.program, timezone.now())
    page = alice_client.get(reverse("training:course", args=[course.code])).content.decode()
    assert "0 of 2 required lessons" in page and "optional" in page
    lessons = list(Lesson.objects.filter(unit__course=course, required=True))
    # Clicking "complete" on an unread lesson is refused with what is still needed.
    refused = alice_client.post(reverse("training:complete", args=[course.code, lessons[0].pk]), follow=True)
    assert "is not complete yet. Spend at least 8 minutes on this lesson" in refused.content.decode()
    assert not lessons[0].progress.exists()
    # Then the reading is studied (reports from the open page over the next minutes, simulated).
    for lesson in lessons:
        study_lesson(alice, lesson, now=timezone.now() + timedelta(minutes=10))
    alice_client.post(reverse("training:complete", args=[course.code, lessons[0].pk]))
    finished = alice_client.post(reverse("training:complete", args=[course.code, lessons[1].pk]), follow=True)
    body = " ".join(finished.content.decode().split())
    # Issue 22: finishing the last lesson says the midterm is open and links to it.
    assert "You finished Training. The midterm exam is open." in body
    assert ">Go to the midterm exam</a>" in body
    assert "Now: Midterm exam" in body


def test_quiz_is_ungraded_retakable_and_needs_every_answer(
    alice: User, alice_client: Client, course: Course
) -> None:
    enroll_and_register(alice, course.program, timezone.now())
    quiz = Lesson.objects.create(
        unit=course.units.get(), position=50, title="Quiz", kind=LessonKind.QUIZ, required=False
    )
    question = QuizQuestion.objects.create(
        lesson=quiz,
        text="Where are annual reports filed?",
        choices=[
            {"text": "SMARTS", "correct": True, "feedback": "Yes."},
            {"text": "By fax", "correct": False, "feedback": "No."},
        ],
    )
    url = reverse("training:complete", args=[course.code, quiz.pk])
    missing = alice_client.post(url, {})
    assert missing.status_code == 400 and "Answer every question (1 left)" in missing.content.decode()
    wrong = alice_client.post(url, {f"q{question.pk}": "1"}).content.decode()
    assert "You got 0 of 1." in wrong and "The answer is “SMARTS”" in wrong
    right = alice_client.post(url, {f"q{question.pk}": "0"}).content.decode()
    assert "You got 1 of 1." in right
    lesson_page = alice_client.get(reverse("training:lesson", args=[course.code, quiz.pk])).content.decode()
    assert "Last time: 1 of 1" in lesson_page
    assert '"correct"' not in lesson_page  # the key stays on the server


def test_lesson_markdown_is_sanitized(alice: User, alice_client: Client, course: Course) -> None:
    enroll_and_register(alice, course.program, timezone.now())
    lesson = Lesson.objects.filter(unit__course=course).first()
    assert lesson is not None
    lesson.body = '**Bold** <script>alert(1)</script> <a href="javascript:alert(1)" onclick="x()">link</a>'
    lesson.save()
    page = alice_client.get(reverse("training:lesson", args=[course.code, lesson.pk])).content.decode()
    assert "<strong>Bold</strong>" in page
    assert "<script>alert(1)" not in page and "javascript:" not in page and "onclick" not in page


def test_another_program_course_is_not_reachable_without_access(eve: User, course: Course) -> None:
    lesson = Lesson.objects.filter(unit__course=course).first()
    assert lesson is not None
    response = client_for(eve).get(reverse("training:lesson", args=[course.code, lesson.pk]))
    assert response.status_code == 302


def test_staff_find_an_enrollment_and_record_a_self_directed_qisp(
    sara_client: Client, alice: User, course: Course
) -> None:
    qisp = Program.objects.get(code="QISP")
    no_program = sara_client.post(
        reverse("enrollments:staff_self_directed"),
        {
            "sd-email": "alice@example.com",
            "sd-license_type": "PE-civil",
            "sd-license_number": "C 1",
            "sd-reason": "x",
        },
    )
    assert no_program.status_code == 400 and "Choose the program." in no_program.content.decode()
    assert 'value="C 1"' in no_program.content.decode()
    missing = sara_client.post(
        reverse("enrollments:staff_self_directed"),
        {
            "sd-program": qisp.pk,
            "sd-email": "nobody@example.com",
            "sd-license_type": "PE-civil",
            "sd-license_number": "C 1",
            "sd-reason": "verified",
        },
    )
    assert missing.status_code == 400 and "No account uses this address" in missing.content.decode()
    done = sara_client.post(
        reverse("enrollments:staff_self_directed"),
        {
            "sd-program": qisp.pk,
            "sd-email": "alice@example.com",
            "sd-license_type": "PE-civil",
            "sd-license_number": "C 81234",
            "sd-reason": "License verified",
        },
        follow=True,
    )
    assert "is recorded as qualified in QISP by the self-directed route" in done.content.decode()
    listing = sara_client.get(reverse("enrollments:staff_list"), {"q": "alice"}).content.decode()
    assert "alice@example.com" in listing


def test_candidates_cannot_open_staff_enrollment_pages(alice_client: Client) -> None:
    assert alice_client.get(reverse("enrollments:staff_list")).status_code == 403


def test_the_last_day_of_the_window_is_one_day_on_every_page(
    alice: User, alice_client: Client, sara: User
) -> None:
    """Paid late in the evening, Pacific time (already the next day in UTC): the window's end is
    midnight after its last day. The candidate, the staff list, the staff record and the person
    page all show that last day, in the program's zone, never the day after."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    program = Program.objects.get(code="QISP")
    paid = datetime(2026, 11, 29, 22, 30, tzinfo=ZoneInfo(program.time_zone))
    enrollment = enroll_and_register(alice, program, paid)
    assert enrollment.window_end is not None
    assert enrollment.window_end.astimezone(ZoneInfo("UTC")).date().isoformat() == "2028-11-30"
    assert enrollment.access_until is not None and enrollment.access_until.isoformat() == "2028-11-29"
    staff = client_for(sara, mfa=True)
    for page in (
        alice_client.get(reverse("enrollments:qualification", args=[program.code])),
        staff.get(reverse("enrollments:staff_list")),
        staff.get(reverse("enrollments:staff_detail", args=[enrollment.pk])),
    ):
        text = page.content.decode()
        assert page.status_code == 200
        assert "2028-11-29" in text or "Nov 29, 2028" in text or "November 29, 2028" in text
        assert "2028-11-30" not in text and "Nov 30, 2028" not in text
