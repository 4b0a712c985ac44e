"""Training counts real study (issue 19, part 4): each lesson kind's completion rule is program
data (training.* keys of the enrollment's rule version) checked against what the server saw.

A video counts when the set share was watched, credited no faster than real time; a reading when
open long enough (server-measured, idle gaps capped), or a shorter time once read to the end; a
document when its file was served; a case study with questions when they were answered. The
"Mark complete" button is refused with what is still needed, so the midterm stays locked."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.core.demo.training import complete_by_studying, study_lesson
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import journey_for
from stormcert.programs.models import PolicyValue, Program
from stormcert.training.models import (
    Course,
    CourseKind,
    Lesson,
    LessonActivity,
    LessonKind,
    QuizQuestion,
    Unit,
)
from stormcert.training.services import (
    TrainingError,
    complete_lesson,
    course_progress,
    open_lesson,
    record_activity,
    submit_quiz,
    void_progress,
)
from tests.enrollments.builders import enroll_and_register
from tests.trainers.builders import PDF

PT = ZoneInfo("America/Los_Angeles")
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=PT)
VIDEO_SECONDS = 300  # 60 five-second stretches


@pytest.fixture
def casqa(programs: None) -> Program:
    return Program.objects.get(code="QISP")


@pytest.fixture
def course(casqa: Program) -> Course:
    course = Course.objects.create(
        program=casqa, code="qisp-training", title="Training", kind=CourseKind.TRAINING
    )
    first = Unit.objects.create(course=course, position=1, title="The permit")
    Lesson.objects.create(
        unit=first,
        position=1,
        title="Overview video",
        kind=LessonKind.VIDEO,
        video_url="https://www.youtube.com/watch?v=abc123",
        video_seconds=VIDEO_SECONDS,
        estimated_minutes=5,
    )
    Lesson.objects.create(
        unit=first, position=2, title="The rules", kind=LessonKind.READING, estimated_minutes=20
    )
    second = Unit.objects.create(course=course, position=2, title="Monitoring")
    Lesson.objects.create(
        unit=second, position=1, title="Sampling", kind=LessonKind.READING, estimated_minutes=10
    )
    return course


@pytest.fixture
def registered(alice: User, casqa: Program, course: Course) -> Enrollment:
    return enroll_and_register(alice, casqa, T0)


def lesson(title: str) -> Lesson:
    return Lesson.objects.select_related("unit__course").get(title=title)


def at(seconds: float) -> datetime:
    return T0 + timedelta(hours=1, seconds=seconds)


def watch(user: User, video: Lesson, *, start: float, seconds: int, every: int = 15) -> float:
    """Report continuous playback from the video's start, as the page does, every `every` s."""
    moment = start
    played = 0
    while played < seconds:
        moment += every
        played += every
        record_activity(
            user=user,
            lesson=video,
            buckets=list(range(played // 5)),
            duration=VIDEO_SECONDS,
            now=at(moment),
        )
    return moment


def test_unwatched_videos_cannot_be_marked_complete_and_the_midterm_stays_locked(
    alice: User, registered: Enrollment
) -> None:
    client = client_for(alice)
    video = lesson("Overview video")
    client.get(reverse("training:lesson", args=[video.unit.course.code, video.pk]))
    page = client.post(reverse("training:complete", args=[video.unit.course.code, video.pk]), follow=True)
    assert "Watch at least 90% of the video: you have watched 0%." in page.content.decode()
    for each in Lesson.objects.all():
        with pytest.raises(TrainingError, match="is not complete yet"):
            complete_lesson(user=alice, lesson=each, now=at(60))
    assert not each.progress.exists()
    journey = journey_for(registered, at(120))
    assert journey.current is not None and journey.current.code == "training"
    midterm = next(s for s in journey.steps if s.code == "midterm")
    assert midterm.state == "locked"


def test_watching_in_real_time_completes_the_video_by_itself(alice: User, registered: Enrollment) -> None:
    video = lesson("Overview video")
    open_lesson(user=alice, lesson=video, now=at(0))
    watch(alice, video, start=0, seconds=255)  # 51 of 60 stretches: 85%
    assert not video.progress.exists()
    with pytest.raises(TrainingError, match="you have watched 85%"):
        complete_lesson(user=alice, lesson=video, now=at(266))
    report = record_activity(user=alice, lesson=video, buckets=list(range(55)), duration=300, now=at(280))
    assert report.status.met and report.done  # 55 of 60: 91%, completed without a click
    assert video.progress.get().completed_at == at(280)


def test_seeking_ahead_or_reporting_it_all_at_once_counts_no_faster_than_real_time(
    alice: User, registered: Enrollment
) -> None:
    video = lesson("Overview video")
    open_lesson(user=alice, lesson=video, now=at(0))
    # Ten seconds after opening, the page (or a forged request) claims the whole video.
    report = record_activity(user=alice, lesson=video, buckets=list(range(60)), duration=300, now=at(10))
    assert report.watched == [0, 1, 2] and report.status.progress == "You have watched 5% of the video."
    # Waiting an hour earns nothing more than the idle cut-off (120 s): 130 s measured in all, so
    # at most 135 s (27 stretches) of video.
    report = record_activity(user=alice, lesson=video, buckets=list(range(60)), duration=300, now=at(3610))
    assert report.seconds_spent == 130 and report.watched == list(range(27)) and not report.done
    # Stretches past the video's end, or a shorter length claimed by the page, change nothing.
    report = record_activity(user=alice, lesson=video, buckets=[500, 900], duration=10, now=at(3615))
    assert report.watched == list(range(27)) and report.status.percent < 100
    # Hopping through the video (a second of each stretch, as seeking would) with reports every
    # few seconds credits no faster than the clock: 10 s more measured since 3610, two stretches.
    report = record_activity(user=alice, lesson=video, buckets=[40, 45, 50, 55], duration=300, now=at(3620))
    assert report.watched == [*range(27), 40, 45] and report.seconds_spent == 140
    assert LessonActivity.objects.get(lesson=video).video_seconds == 300


def test_the_rule_comes_from_the_enrollments_rule_version(alice: User, registered: Enrollment) -> None:
    video = lesson("Overview video")
    open_lesson(user=alice, lesson=video, now=at(0))
    watch(alice, video, start=0, seconds=150)  # half the video
    with pytest.raises(TrainingError, match="Watch at least 90% of the video: you have watched 50%"):
        complete_lesson(user=alice, lesson=video, now=at(151))
    assert registered.policy_version is not None
    PolicyValue.objects.filter(
        version=registered.policy_version, key="training.video_watched_percent"
    ).update(value=40)
    assert complete_lesson(user=alice, lesson=video, now=at(152))

    reading = lesson("Sampling")  # 10 minutes estimated; CASQA: half of it open
    open_lesson(user=alice, lesson=reading, now=at(0))
    record_activity(user=alice, lesson=reading, now=at(100))
    with pytest.raises(TrainingError, match="Spend at least 5 minutes"):
        complete_lesson(user=alice, lesson=reading, now=at(101))
    PolicyValue.objects.filter(version=registered.policy_version, key="training.reading_open_percent").update(
        value=10
    )
    assert complete_lesson(user=alice, lesson=reading, now=at(102))


def test_a_reading_needs_server_measured_time_or_a_shorter_time_once_read_to_the_end(
    alice: User, registered: Enrollment
) -> None:
    reading = lesson("The rules")  # 20 minutes: 10 open, or 6 after reaching the end (30%)
    open_lesson(user=alice, lesson=reading, now=at(0))
    record_activity(user=alice, lesson=reading, now=at(60))
    with pytest.raises(TrainingError) as refused:
        complete_lesson(user=alice, lesson=reading, now=at(61))
    assert str(refused.value) == (
        "“The rules” is not complete yet. Spend at least 10 minutes on this lesson, or 6 minutes once "
        "you have read to the end: you have spent 1 minute."
    )
    # A tab left open for an hour adds only the idle cut-off (two minutes).
    report = record_activity(user=alice, lesson=reading, now=at(3660), auto_complete=False)
    assert report.seconds_spent == 180
    # Scrolling to the end does not complete it at once: the shorter time is still needed.
    report = record_activity(user=alice, lesson=reading, scrolled_to_end=True, now=at(3700))
    assert report.seconds_spent == 220 and not report.done
    assert "Stay with this lesson for at least 6 minutes: you have spent 4 minutes." in report.status.needed
    report = record_activity(user=alice, lesson=reading, now=at(3800))
    report = record_activity(user=alice, lesson=reading, now=at(3850))
    assert report.seconds_spent == 370 and report.done


def test_a_document_counts_once_its_file_was_served(
    alice: User, registered: Enrollment, course: Course
) -> None:
    document = Lesson(
        unit=course.units.get(position=1), position=9, title="The handbook", kind=LessonKind.FILE
    )
    document.file.save("handbook.pdf", ContentFile(PDF), save=True)
    with pytest.raises(TrainingError, match="Open the document first."):
        complete_lesson(user=alice, lesson=document, now=at(0))
    client = client_for(alice)
    response = client.get(reverse("training:file", args=[course.code, document.pk]))
    assert response.status_code == 200
    assert LessonActivity.objects.get(lesson=document).document_opened_at is not None
    assert complete_lesson(user=alice, lesson=document)


def test_a_case_study_with_questions_counts_when_they_are_answered(
    alice: User, registered: Enrollment, course: Course
) -> None:
    case = Lesson.objects.create(
        unit=course.units.get(position=1), position=8, title="A site", kind=LessonKind.CASE_STUDY
    )
    question = QuizQuestion.objects.create(
        lesson=case,
        text="First step?",
        choices=[{"text": "Walk the site", "correct": True}, {"text": "Sample", "correct": False}],
    )
    with pytest.raises(TrainingError, match="Answer every question of the case study's questions"):
        complete_lesson(user=alice, lesson=case, now=at(0))
    with pytest.raises(TrainingError, match="Answer every question"):
        submit_quiz(user=alice, lesson=case, answers={}, now=at(1))
    result = submit_quiz(user=alice, lesson=case, answers={str(question.pk): "1"}, now=at(2))
    assert result.correct == 0 and case.progress.exists()  # answered counts; right or wrong


def test_time_per_unit_and_staff_see_it(
    alice: User, sara: User, registered: Enrollment, course: Course
) -> None:
    reading = lesson("The rules")
    open_lesson(user=alice, lesson=reading, now=at(0))
    for second in (60, 120, 180):
        record_activity(user=alice, lesson=reading, now=at(second))
    sampling = lesson("Sampling")
    open_lesson(user=alice, lesson=sampling, now=at(500))
    record_activity(user=alice, lesson=sampling, now=at(560))
    progress = course_progress(alice, course)
    assert [(u.unit.title, u.seconds_spent, u.last_activity) for u in progress.units] == [
        ("The permit", 180, at(180)),
        ("Monitoring", 60, at(560)),
    ]
    assert progress.minutes_spent == 4
    page = client_for(sara, mfa=True).get(reverse("backoffice:person", args=[alice.pk])).content.decode()
    assert "Online training" in page and "0 of 2" in page and "3 min" in page and "1 min" in page
    assert "Monitoring" in page and "No lessons opened." not in page


def test_the_progress_endpoint_is_csrf_protected_json(alice: User, registered: Enrollment) -> None:
    video = lesson("Overview video")
    url = reverse("training:progress", args=[video.unit.course.code, video.pk])
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(url, "{}", content_type="application/json").status_code == 403
    client = client_for(alice)
    client.get(reverse("training:lesson", args=[video.unit.course.code, video.pk]))
    answer = client.post(url, json.dumps({"buckets": [0], "duration": 300}), content_type="application/json")
    assert answer.status_code == 200
    body = answer.json()
    assert (
        body["watched"] == [0] and body["done"] is False and body["needed"].startswith("Watch at least 90%")
    )
    bad = client.post(url, json.dumps({"buckets": ["x"]}), content_type="application/json")
    assert bad.status_code == 400 and "bucket must be a whole number" in bad.json()["error"]


def test_a_redo_studies_afresh_and_old_completions_stay(
    alice: User, registered: Enrollment, course: Course
) -> None:
    for each in Lesson.objects.filter(unit__course=course):
        complete_by_studying(alice, each, now=at(4000))
    assert course_progress(alice, course).complete
    void_progress(user=alice, course=course, reason="redo", now=at(5000))
    assert not LessonActivity.objects.filter(voided_at__isnull=True).exists()
    with pytest.raises(TrainingError, match="you have watched 0%"):
        complete_lesson(user=alice, lesson=lesson("Overview video"), now=at(5001))


def test_the_demo_helper_studies_within_the_rules(alice: User, registered: Enrollment) -> None:
    reading = lesson("The rules")
    study_lesson(alice, reading, now=at(1000))
    activity = LessonActivity.objects.get(lesson=reading)
    assert activity.seconds_spent == 600 and activity.last_seen_at == at(1000)


def test_lessons_completed_before_the_rules_stay_complete(
    alice: User, registered: Enrollment, course: Course
) -> None:
    # Progress recorded before study was measured (no activity at all) is kept as it was.
    from stormcert.training.models import LessonProgress

    video = lesson("Overview video")
    LessonProgress.objects.create(user=alice, lesson=video, completed_at=T0)
    assert not complete_lesson(user=alice, lesson=video, now=at(0))  # already done: no refusal
    assert course_progress(alice, course).required_done == 1


def test_a_missing_study_rule_is_a_503_naming_it_not_a_500(alice: User, registered: Enrollment) -> None:
    assert registered.policy_version is not None
    PolicyValue.objects.filter(version=registered.policy_version, key="training.idle_cutoff_seconds").delete()
    video = lesson("Overview video")
    response = client_for(alice).get(reverse("training:lesson", args=[video.unit.course.code, video.pk]))
    assert response.status_code == 503 and "training.idle_cutoff_seconds" in response.content.decode()


def test_the_candidate_sees_time_spent_per_unit(alice: User, registered: Enrollment, course: Course) -> None:
    from django.utils import timezone

    reading = lesson("The rules")
    start = timezone.now() - timedelta(minutes=5)
    open_lesson(user=alice, lesson=reading, now=start)
    for minute in (1, 2, 3):
        record_activity(user=alice, lesson=reading, now=start + timedelta(minutes=minute))
    page = client_for(alice).get(reverse("training:course", args=[course.code])).content.decode()
    assert "Time spent so far: about 3 minutes" in page and "Time spent: about 3 minutes, last on" in page
