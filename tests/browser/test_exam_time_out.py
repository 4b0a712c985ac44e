"""The end of a timed exam in Chromium: the page left open until 0:00 submits itself and lands on
the result ("submitted when time ran out"), graded once; and the autosave retry decides by the
save's status code: 503 and 429 are sent again, 409 is final, 400 shows the server's reason."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, Request, Route, expect

from conftest import PASSWORD, make_person
from stormcert.audit.models import AuditEvent
from stormcert.core.demo.exams import load_demo_exams
from stormcert.exams.models import Answer, Attempt, AttemptStatus, Exam
from stormcert.exams.services import start_attempt, submit_attempt
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.browser.conftest import assert_accessible
from tests.exams.conftest import ready_for_midterm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SAVE = "**/exams/attempts/*/answer/"


def _open_attempt(page: Page, *, seconds_left: int | None = None) -> Attempt:
    """Alice signed in with a midterm attempt open on the page; with `seconds_left`, its deadline
    is moved that close (the server's clock decides; the page only shows it)."""
    load_definition_file(DEFAULT_DEFINITION)
    load_demo_exams()
    alice = make_person("alice@example.com", first_name="Alice")
    ready_for_midterm(alice, timezone.now())
    attempt = start_attempt(user=alice, exam=Exam.objects.get(step_code="midterm"))
    if seconds_left is not None:
        Attempt.objects.filter(pk=attempt.pk).update(
            deadline=timezone.now() + timedelta(seconds=seconds_left)
        )
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign In").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    page.goto(f"/exams/attempts/{attempt.pk}/")
    expect(page.get_by_role("timer")).not_to_have_text("--:--")
    return attempt


def _right(attempt: Attempt, position: int) -> int:
    item = attempt.items.select_related("question").get(position=position)
    return item.choice_order.index(item.question.correct)


def test_an_exam_left_open_until_time_runs_out_lands_on_the_result(page: Page) -> None:
    attempt = _open_attempt(page, seconds_left=8)
    for position in (1, 2):
        page.locator(f"#q{position}-{_right(attempt, position)}").check()
    expect(page.locator("#save-state")).to_contain_text("All answers saved at")
    # No click: the timer reaches 0:00 with the page open and the page submits by itself.
    expect(page).to_have_url(re.compile(rf"/exams/attempts/{attempt.pk}/result/$"), timeout=20_000)
    expect(page.locator("#timed-out-note")).to_contain_text("Submitted when time ran out")
    expect(page.get_by_role("heading", name=re.compile(r"Your score: 5\.71%"))).to_be_visible()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.TIMED_OUT and attempt.correct_count == 2
    assert AuditEvent.objects.filter(verb="exam.attempt_graded").count() == 1
    assert_accessible(page)
    # The qualification page and the dashboard agree: time ran out, one attempt left.
    page.goto(reverse("enrollments:qualification", args=["QISP"]))
    expect(page.locator("#last-attempt")).to_contain_text("Attempt 1 was submitted when time ran out: 5.71%")
    expect(page.get_by_text("1 attempt left.")).to_be_visible()
    page.goto(reverse("dashboard"))
    expect(page.locator(".attempt-timed-out")).to_contain_text("was submitted when time ran out")
    assert AuditEvent.objects.filter(verb="exam.attempt_graded").count() == 1


@pytest.mark.parametrize(
    ("status", "body", "headers", "says"),
    [
        (
            503,
            json.dumps({"error": "The server is busy.", "retry": True}),
            {"Retry-After": "1"},
            "server is busy",
        ),
        (503, "<html><body>Service Unavailable</body></html>", {}, "server is busy"),
        (429, json.dumps({"error": "Too many requests."}), {"Retry-After": "1"}, "server is busy"),
        (429, "Too Many Requests", {}, "server is busy"),
        (403, "<h1>Forbidden (403)</h1>", {}, "signed out"),
    ],
    ids=["503-json", "503-html", "429-json", "429-text", "403-html"],
)
def test_busy_answers_are_kept_and_sent_again(
    page: Page, status: int, body: str, headers: dict[str, str], says: str
) -> None:
    attempt = _open_attempt(page)
    refused: list[str] = []

    def busy_once(route: Route, request: Request) -> None:
        if not refused:
            refused.append(request.url)
            route.fulfill(status=status, body=body, headers=headers)
        else:
            route.continue_()

    page.route(SAVE, busy_once)
    page.locator(f"#q1-{_right(attempt, 1)}").check()
    expect(page.locator("#save-state")).to_contain_text(says)
    expect(page.locator("#save-state")).to_contain_text("All answers saved at", timeout=15_000)
    assert refused and Answer.objects.get(attempt=attempt, position=1).choice == _right(attempt, 1)


def test_a_closed_attempt_stops_the_saves_and_goes_to_the_result(page: Page) -> None:
    attempt = _open_attempt(page)
    submit_attempt(attempt_id=attempt.pk)  # submitted meanwhile (another tab, or staff)
    saves: list[str] = []
    page.on(
        "request", lambda request: saves.append(request.url) if request.url.endswith("/answer/") else None
    )
    page.locator(f"#q1-{_right(attempt, 1)}").check()
    expect(page.locator("#save-state")).to_contain_text("answers can no longer change")
    expect(page).to_have_url(re.compile(rf"/exams/attempts/{attempt.pk}/result/$"))
    assert len(saves) == 1  # final: not resent
    assert not Answer.objects.filter(attempt=attempt, seq__gt=0).exists()


def test_a_refused_answer_shows_the_servers_reason(page: Page) -> None:
    attempt = _open_attempt(page)
    page.route(
        SAVE,
        lambda route: route.fulfill(
            status=400,
            content_type="application/json",
            body=json.dumps({"error": "Question 1 has no choice 9."}),
        ),
    )
    page.locator(f"#q1-{_right(attempt, 1)}").check()
    expect(page.locator("#save-state")).to_have_text("Not saved: Question 1 has no choice 9.")
    page.unroute(SAVE)
    page.locator(f"#q2-{_right(attempt, 2)}").check()  # the refused one is dropped, the next goes
    expect(page.locator("#save-state")).to_contain_text("All answers saved at")
    assert Answer.objects.filter(attempt=attempt, seq__gt=0).count() == 1
