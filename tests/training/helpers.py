"""Study a lesson the way its rule asks, for tests that walk through a training."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.utils import timezone

from stormcert.core.demo.training import study_lesson
from stormcert.training.models import Lesson


def study_open_lesson(url: str, user: Any) -> Lesson:
    """Record, through the training services, the study the lesson at `url` asks for, as the
    page's own reports would over the coming hour (so they follow the page's first report rather
    than overlap it). Its "Mark as complete" is then accepted; without this it is refused."""
    found = re.search(r"/lessons/(\d+)/", url)
    assert found, f"not a lesson page: {url}"
    lesson = Lesson.objects.get(pk=int(found.group(1)))
    study_lesson(user, lesson, now=timezone.now() + timedelta(hours=1))
    return lesson


def mark_studied_lesson_complete(page: Any, *, go_on: bool = True) -> None:
    """Click "Mark as complete" on a lesson whose study was recorded (study_open_lesson).

    The page's own progress report may get there first: the server completes the lesson when its
    rule is met and the page removes the button (there is nothing left to click). Then, as a
    person would, follow the page's "next" link (`go_on`), or stay on the completed lesson."""
    from playwright.sync_api import Error as PlaywrightError

    button = page.locator("#complete-form button")
    try:
        button.click(timeout=5_000)
        return
    except PlaywrightError:
        page.reload()
    if page.locator("#complete-form button").count():
        page.locator("#complete-form button").click()
    elif go_on:
        page.locator("#study-done a").first.click()
