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
