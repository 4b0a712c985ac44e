"""In Chromium: a candidate opens a video lesson. "Mark as complete" is refused with what is still
needed; once the player reports continuous playback, the page's reports (training.js) make the
server credit the video and the lesson completes by itself. Both states pass axe.

There is no network in tests: the YouTube embed is answered by a local stub (page.route) that
speaks the part of YouTube's postMessage protocol the page listens to ("listening" in;
"onReady", "infoDelivery" with currentTime and playerState, "onStateChange" out). The server's
side (pace, seeking, the rule's share) is tested without a browser in tests/training."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, Route, expect

from conftest import PASSWORD, make_person
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.programs.models import Program
from stormcert.training.models import Course, CourseKind, Lesson, LessonActivity, LessonKind, Unit
from tests.browser.conftest import assert_accessible
from tests.enrollments.builders import enroll_and_register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A ten-second "video": the stub plays it in real time when the test says play(from).
STUB_PLAYER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stub video player</title></head>
<body><p>Stub video player</p><script>
var t = 0, state = -1, timer = null, id = null, LENGTH = 10;
function send(message) {
  if (id === null) return;  // as YouTube: nothing is sent to a page that has not said "listening"
  message.channel = "widget"; message.id = id;
  parent.postMessage(JSON.stringify(message), "*");
}
window.addEventListener("message", function (event) {
  var data = JSON.parse(event.data);
  if (data.event === "listening") {
    id = data.id;
    send({event: "onReady", info: null});
    send({event: "infoDelivery", info: {duration: LENGTH, currentTime: t, playerState: state}});
  }
});
window.play = function (from) {
  t = from; state = 1;
  send({event: "onStateChange", info: 1});
  var last = Date.now();
  clearInterval(timer);
  timer = setInterval(function () {
    var now = Date.now();
    t += (now - last) / 1000; last = now;
    if (t >= LENGTH) {
      t = LENGTH; state = 0; clearInterval(timer);
      send({event: "infoDelivery", info: {currentTime: t, playerState: 0}});
      return;
    }
    send({event: "infoDelivery", info: {currentTime: t, playerState: 1}});
  }, 250);
};
</script></body></html>"""


def stub_player(route: Route) -> None:
    route.fulfill(status=200, content_type="text/html; charset=utf-8", body=STUB_PLAYER)


def a_video_lesson() -> tuple[Course, Unit, Lesson]:
    """QISP's online course with a ten-second YouTube video as its first lesson."""
    load_definition_file(DEFAULT_DEFINITION)
    program = Program.objects.get(code="QISP")
    course = Course.objects.create(
        program=program, code="qisp-online", title="Online training", kind=CourseKind.TRAINING
    )
    unit = Unit.objects.create(course=course, position=1, title="The permit")
    video = Lesson.objects.create(
        unit=unit,
        position=1,
        title="Overview video",
        kind=LessonKind.VIDEO,
        video_url="https://www.youtube.com/watch?v=abc123",
        video_seconds=10,
        estimated_minutes=1,
    )
    return course, unit, video


def sign_in_as_alice(page: Page, program: Program) -> None:
    """Alice, registered for `program`, signed in; the YouTube embed answered by the stub."""
    alice = make_person("alice@example.com", first_name="Alice", last_name="Alvarez")
    enroll_and_register(alice, program, timezone.now())
    page.route(re.compile(r"^https://www\.youtube-nocookie\.com/"), stub_player)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign In").click()


def test_a_video_lesson_completes_when_watched_not_when_clicked(page: Page, live_server: Any) -> None:
    course, unit, video = a_video_lesson()
    Lesson.objects.create(unit=unit, position=2, title="The rules", kind=LessonKind.READING, body="Read me.")
    sign_in_as_alice(page, course.program)
    page.goto(f"/training/{course.code}/lessons/{video.pk}/")
    expect(page.get_by_role("heading", name="Overview video")).to_be_visible()
    expect(page.locator("#study-needed")).to_have_text(
        "Watch at least 90% of the video: you have watched 0%."
    )

    # Clicking through is refused, with what is still needed.
    page.get_by_role("button", name="Mark as complete and continue").click()
    expect(
        page.get_by_text(
            "“Overview video” is not complete yet. Watch at least 90% of the video: you have watched 0%."
        )
    ).to_be_visible()
    assert not video.progress.exists()
    expect(page.locator("#study-done")).to_be_hidden()
    assert_accessible(page)

    # The player plays the video through; the page reports it and the lesson completes by itself.
    player = page.frame(url=re.compile(r"youtube-nocookie"))
    assert player is not None
    expect(page.locator("#study-needed")).to_have_text(re.compile("Watch at least 90%"))
    player.wait_for_function("typeof window.play === 'function'")
    page.wait_for_timeout(500)  # the page's hello reached the player
    player.evaluate("play(0)")
    expect(page.locator("#study-done")).to_be_visible(timeout=20_000)
    expect(page.locator("#study-needed")).to_have_text("This lesson is complete.")
    expect(page.locator("#study-progress")).to_have_text("You have watched 100% of the video.")
    expect(page.get_by_role("button", name=re.compile("^Mark as complete"))).to_be_hidden()
    assert video.progress.filter(voided_at__isnull=True).exists()
    assert LessonActivity.objects.get(lesson=video).watched == [0, 1]
    assert_accessible(page)

    # The course page counts it.
    page.goto(f"/training/{course.code}/")
    expect(page.get_by_role("heading", name="Your progress: 1 of 2 required lessons")).to_be_visible()


def test_a_player_that_loads_before_the_script_is_still_heard(page: Page, live_server: Any) -> None:
    """training.js is deferred; on a slow connection the player's frame has loaded before the
    script runs, and a listener for its load event then never fires. The page must still greet
    the player and count the video."""
    course, _, video = a_video_lesson()
    sign_in_as_alice(page, course.program)

    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route("**/training/training.js*", hold)
    page.goto(f"/training/{course.code}/lessons/{video.pk}/", wait_until="commit")
    page.wait_for_function("() => !!document.getElementById('lesson-video')")
    player = None
    for _ in range(100):  # the frame loads while the script is held back
        player = page.frame(url=re.compile(r"youtube-nocookie"))
        if player is not None and held:
            break
        page.wait_for_timeout(100)
    assert player is not None and held
    player.wait_for_function("typeof window.play === 'function'")
    held[0].continue_()
    page.wait_for_timeout(1500)  # the page's hello (sent at once and then every second) arrives
    player.evaluate("play(0)")
    expect(page.locator("#study-done")).to_be_visible(timeout=20_000)
    assert video.progress.filter(voided_at__isnull=True).exists()
