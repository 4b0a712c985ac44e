from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from stormcert.audit.services import record
from stormcert.programs.rules import RuleMissing
from stormcert.training.hooks import COMPLETION_HOOKS, access_denied_reason, rule_values
from stormcert.training.models import (
    Course,
    Lesson,
    LessonActivity,
    LessonKind,
    LessonProgress,
    QuizAttempt,
    QuizQuestion,
)

# A video is credited in stretches of this many seconds of its timeline.
BUCKET_SECONDS = 5
# Reports from a page arrive late or bunched (a slow network, a throttled background timer), and a
# stretch is reported as soon as playback enters it: the video credited may run this many seconds
# ahead of the time measured on the page, never more.
PACE_SLACK_SECONDS = 5


class TrainingError(Exception):
    pass


class _Counts(Protocol):
    @property
    def required_done(self) -> int: ...

    @property
    def required_total(self) -> int: ...


class _Completion:
    """A unit's and a course's completion, from their required lessons done and in all."""

    @property
    def complete(self: _Counts) -> bool:
        return self.required_done >= self.required_total

    @property
    def percent(self: _Counts) -> int:
        return round(100 * self.required_done / self.required_total) if self.required_total else 100


@dataclass
class UnitProgress(_Completion):
    unit: Any
    lessons: list[tuple[Lesson, bool]]
    required_done: int
    required_total: int
    seconds_spent: int = 0
    last_activity: datetime | None = None

    @property
    def minutes_spent(self) -> int:
        return round(self.seconds_spent / 60)


@dataclass
class CourseProgress(_Completion):
    course: Course
    units: list[UnitProgress] = field(default_factory=list)

    @property
    def required_done(self) -> int:
        return sum(u.required_done for u in self.units)

    @property
    def required_total(self) -> int:
        return sum(u.required_total for u in self.units)

    @property
    def next_lesson(self) -> Lesson | None:
        for unit in self.units:
            for lesson, done in unit.lessons:
                if not done:
                    return lesson
        return None

    @property
    def minutes_left(self) -> int:
        return sum(lesson.estimated_minutes for u in self.units for lesson, done in u.lessons if not done)

    @property
    def seconds_spent(self) -> int:
        return sum(u.seconds_spent for u in self.units)

    @property
    def minutes_spent(self) -> int:
        return round(self.seconds_spent / 60)

    @property
    def last_activity(self) -> datetime | None:
        return max((u.last_activity for u in self.units if u.last_activity), default=None)


def completed_lesson_ids(user: Any, course: Course) -> set[int]:
    return set(
        LessonProgress.objects.filter(
            user=user, lesson__unit__course=course, voided_at__isnull=True
        ).values_list("lesson_id", flat=True)
    )


def course_progress(user: Any, course: Course) -> CourseProgress:
    done = completed_lesson_ids(user, course)
    time = {
        row["lesson__unit_id"]: row
        for row in LessonActivity.objects.filter(
            user=user, lesson__unit__course=course, voided_at__isnull=True
        )
        .values("lesson__unit_id")
        .annotate(seconds=Sum("seconds_spent"), last=Max("last_seen_at"))
    }
    progress = CourseProgress(course=course)
    for unit in course.units.prefetch_related("lessons"):
        lessons = [(lesson, lesson.pk in done) for lesson in unit.lessons.all()]
        required = [lesson for lesson, _ in lessons if lesson.required]
        spent = time.get(unit.pk, {})
        progress.units.append(
            UnitProgress(
                unit=unit,
                lessons=lessons,
                required_done=sum(1 for lesson in required if lesson.pk in done),
                required_total=len(required),
                seconds_spent=int(spent.get("seconds") or 0),
                last_activity=spent.get("last"),
            )
        )
    return progress


def training_record(user: Any) -> list[CourseProgress]:
    """Every course a person has studied or finished a lesson of, for the staff record."""
    touched = set(
        LessonActivity.objects.filter(user=user, voided_at__isnull=True).values_list(
            "lesson__unit__course_id", flat=True
        )
    ) | set(
        LessonProgress.objects.filter(user=user, voided_at__isnull=True).values_list(
            "lesson__unit__course_id", flat=True
        )
    )
    return [course_progress(user, c) for c in Course.objects.filter(pk__in=touched).select_related("program")]


# --- What makes a lesson count --------------------------------------------------------------------


@dataclass(frozen=True)
class StudyRules:
    """The program's completion rules (training.* keys) for one person at one time."""

    video_watched_percent: int
    reading_open_percent: int
    reading_scrolled_open_percent: int
    document_must_open: bool
    idle_cutoff_seconds: int

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> StudyRules:
        def need(key: str) -> Any:
            if key not in values:
                # Pages answer this with a 503 naming the rule (never a 500), as for any rule.
                raise RuleMissing(f"The program's rules have no value for {key!r}.")
            return values[key]

        return cls(
            video_watched_percent=int(need("training.video_watched_percent")),
            reading_open_percent=int(need("training.reading_open_percent")),
            reading_scrolled_open_percent=int(need("training.reading_scrolled_open_percent")),
            document_must_open=bool(need("training.document_must_open")),
            idle_cutoff_seconds=int(need("training.idle_cutoff_seconds")),
        )


def study_rules(user: Any, course: Course, now: datetime) -> StudyRules:
    return StudyRules.from_values(rule_values(user, course, now))


@dataclass(frozen=True)
class LessonStatus:
    """Whether a lesson's rule is met, what is still needed in words, and progress toward it."""

    met: bool
    needed: str
    progress: str
    percent: int

    def as_json(self) -> dict[str, Any]:
        return {"met": self.met, "needed": self.needed, "progress": self.progress, "percent": self.percent}


def _minutes(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60) if seconds % 60 else seconds // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def has_questions(lesson: Lesson) -> bool:
    """Quizzes, and case studies that come with questions, are answered rather than read."""
    return lesson.kind == LessonKind.QUIZ or (
        lesson.kind == LessonKind.CASE_STUDY and lesson.questions.exists()
    )


def video_length(lesson: Lesson, activity: LessonActivity | None) -> int | None:
    """The lesson's stated length; else the longest the player reported."""
    return lesson.video_seconds or (activity.video_seconds if activity else None) or None


def watched_percent(lesson: Lesson, activity: LessonActivity | None) -> int:
    length = video_length(lesson, activity)
    if not length or activity is None:
        return 0
    buckets = math.ceil(length / BUCKET_SECONDS)
    credited = sum(1 for b in activity.watched if 0 <= b < buckets)
    return min(100, math.floor(100 * credited / buckets))


def reading_seconds_needed(lesson: Lesson, rules: StudyRules, scrolled: bool) -> int:
    percent = rules.reading_scrolled_open_percent if scrolled else rules.reading_open_percent
    if scrolled:
        percent = min(percent, rules.reading_open_percent)
    return math.ceil(lesson.estimated_minutes * 60 * percent / 100)


def _answered_since_redo(user: Any, lesson: Lesson) -> bool:
    voided = LessonProgress.objects.filter(user=user, lesson=lesson, voided_at__isnull=False).aggregate(
        last=Max("voided_at")
    )["last"]
    attempts = QuizAttempt.objects.filter(user=user, lesson=lesson)
    return (attempts.filter(submitted_at__gte=voided) if voided else attempts).exists()


def active_activity(user: Any, lesson: Lesson) -> LessonActivity | None:
    return LessonActivity.objects.filter(user=user, lesson=lesson, voided_at__isnull=True).first()


def lesson_status(
    user: Any,
    lesson: Lesson,
    *,
    rules: StudyRules,
    activity: LessonActivity | None = None,
) -> LessonStatus:
    if activity is None:
        activity = active_activity(user, lesson)
    if has_questions(lesson):
        met = _answered_since_redo(user, lesson)
        what = "quiz" if lesson.kind == LessonKind.QUIZ else "case study's questions"
        return LessonStatus(
            met,
            "" if met else f"Answer every question of the {what} and submit them.",
            "Answered." if met else "Not answered yet.",
            100 if met else 0,
        )
    if lesson.kind == LessonKind.VIDEO:
        share = watched_percent(lesson, activity)
        target = rules.video_watched_percent
        met = share >= target
        return LessonStatus(
            met,
            "" if met else f"Watch at least {target}% of the video: you have watched {share}%.",
            f"You have watched {share}% of the video.",
            100 if met or not target else min(100, round(100 * share / target)),
        )
    if lesson.kind == LessonKind.FILE:
        opened = activity is not None and activity.document_opened_at is not None
        met = opened or not rules.document_must_open
        return LessonStatus(
            met,
            "" if met else "Open the document first.",
            "You have opened the document." if opened else "You have not opened the document yet.",
            100 if met else 0,
        )
    # A reading, or a case study without questions: time the page was open, measured here.
    spent = activity.seconds_spent if activity else 0
    scrolled = activity is not None and activity.scrolled_to_end_at is not None
    needed = reading_seconds_needed(lesson, rules, scrolled)
    met = spent >= needed
    if met:
        what = ""
    elif scrolled:
        what = f"Stay with this lesson for at least {_minutes(needed)}: you have spent {_minutes(spent)}."
    else:
        short = reading_seconds_needed(lesson, rules, True)
        also = f", or {_minutes(short)} once you have read to the end" if short < needed else ""
        what = f"Spend at least {_minutes(needed)} on this lesson{also}: you have spent {_minutes(spent)}."
    return LessonStatus(
        met,
        what,
        f"You have spent {_minutes(spent)} on this lesson" + (" and read to the end." if scrolled else "."),
        100 if met or not needed else min(100, round(100 * spent / needed)),
    )


def _activity_for_update(user: Any, lesson: Lesson, now: datetime) -> tuple[LessonActivity, bool]:
    """The person's activity row on the lesson, locked; created (opened now) when there is none."""
    found = LessonActivity.objects.select_for_update(of=("self",)).filter(
        user=user, lesson=lesson, voided_at__isnull=True
    )
    activity = found.first()
    if activity is not None:
        return activity, False
    try:
        with transaction.atomic():
            return LessonActivity.objects.create(
                user=user, lesson=lesson, opened_at=now, last_seen_at=now
            ), True
    except IntegrityError:  # a second tab opened it at the same moment
        return found.get(), False


def _credit_time(activity: LessonActivity, rules: StudyRules, now: datetime) -> int:
    """Seconds since the last sign of study, up to the idle cut-off: an idle or closed tab stops
    counting. Returns the seconds credited."""
    elapsed = max(0, int((now - activity.last_seen_at).total_seconds()))
    credited = min(elapsed, rules.idle_cutoff_seconds)
    activity.seconds_spent += credited
    activity.last_seen_at = max(activity.last_seen_at, now)
    return credited


@transaction.atomic
def open_lesson(*, user: Any, lesson: Lesson, now: datetime | None = None) -> LessonActivity:
    """The lesson page was shown: start (or continue) the record of study. A return after more
    than the idle cut-off starts a new stretch: the time away does not count."""
    now = now or timezone.now()
    activity, created = _activity_for_update(user, lesson, now)
    if not created:
        rules = study_rules(user, lesson.unit.course, now)
        if (now - activity.last_seen_at).total_seconds() > rules.idle_cutoff_seconds:
            activity.last_seen_at = now
            activity.save(update_fields=["last_seen_at"])
        else:
            _credit_time(activity, rules, now)
            activity.save(update_fields=["seconds_spent", "last_seen_at"])
    return activity


@dataclass(frozen=True)
class Report:
    status: LessonStatus
    done: bool
    watched: list[int]
    seconds_spent: int


@transaction.atomic
def record_activity(
    *,
    user: Any,
    lesson: Lesson,
    buckets: list[int] | None = None,
    duration: int | None = None,
    scrolled_to_end: bool = False,
    auto_complete: bool = True,
    now: datetime | None = None,
) -> Report:
    """A report from an open lesson page: time on the page, the video stretches played since the
    last report, whether the reader reached the end.

    Time counts from the previous report, at most the idle cut-off. Video stretches are
    credited lowest first and never more, in all, than the time measured on the page plus a little
    slack: neither seeking ahead nor a forged report gets more credit than sitting through the
    video would. Stretches beyond that are left for later reports (the page resends what was not
    credited). When the rule is met the lesson completes (auto_complete)."""
    now = now or timezone.now()
    course = lesson.unit.course
    rules = study_rules(user, course, now)
    activity, _ = _activity_for_update(user, lesson, now)
    _credit_time(activity, rules, now)
    if lesson.kind == LessonKind.VIDEO:
        if duration and 0 < duration <= 24 * 3600:
            activity.video_seconds = max(activity.video_seconds or 0, int(duration))
        length = video_length(lesson, activity)
        if buckets and length:
            limit = math.ceil(length / BUCKET_SECONDS)
            have = set(activity.watched)
            new = sorted({b for b in buckets if isinstance(b, int) and 0 <= b < limit} - have)
            # Watched seconds can never exceed the seconds measured on the page (plus the slack).
            budget = max(0, (activity.seconds_spent + PACE_SLACK_SECONDS) // BUCKET_SECONDS - len(have))
            activity.watched = sorted(have | set(new[:budget]))
    if scrolled_to_end and activity.scrolled_to_end_at is None:
        activity.scrolled_to_end_at = now
    activity.save()
    status = lesson_status(user, lesson, rules=rules, activity=activity)
    done = LessonProgress.objects.filter(user=user, lesson=lesson, voided_at__isnull=True).exists()
    if status.met and not done and auto_complete:
        # When access has ended nothing completes; the page says why when the candidate clicks.
        with contextlib.suppress(TrainingError):
            done = complete_lesson(user=user, lesson=lesson, now=now)
    return Report(
        status=status, done=done, watched=list(activity.watched), seconds_spent=activity.seconds_spent
    )


@transaction.atomic
def record_document_opened(*, user: Any, lesson: Lesson, now: datetime | None = None) -> None:
    """The lesson's file was served to this person: what a document lesson's rule asks."""
    now = now or timezone.now()
    activity, _ = _activity_for_update(user, lesson, now)
    if activity.document_opened_at is None:
        activity.document_opened_at = now
        activity.save(update_fields=["document_opened_at"])


def is_course_complete(user: Any, course: Course) -> bool:
    required = set(Lesson.objects.filter(unit__course=course, required=True).values_list("pk", flat=True))
    return required <= completed_lesson_ids(user, course)


@transaction.atomic
def complete_lesson(*, user: Any, lesson: Lesson, now: datetime | None = None) -> bool:
    """Mark a lesson done (once), when the program's rule for its kind is met (the error says what
    is still needed). Finishing the last required lesson completes the course."""
    now = now or timezone.now()
    course = lesson.unit.course
    reason = access_denied_reason(user, course, now)
    if reason:
        raise TrainingError(reason)
    if LessonProgress.objects.filter(user=user, lesson=lesson, voided_at__isnull=True).exists():
        return False
    status = lesson_status(user, lesson, rules=study_rules(user, course, now))
    if not status.met:
        raise TrainingError(f"“{lesson.title}” is not complete yet. {status.needed}")
    try:
        with transaction.atomic():
            LessonProgress.objects.create(user=user, lesson=lesson, completed_at=now)
    except IntegrityError:
        return False  # already done: a second click or a second tab
    record(actor=user, verb="training.lesson_completed", obj=lesson, data={"course": course.code}, now=now)
    if lesson.required and is_course_complete(user, course):
        record(actor=user, verb="training.course_completed", obj=course, now=now)
        for hook in COMPLETION_HOOKS.get(course.kind, []):
            hook(user, course, now)
    return True


@dataclass
class QuizResult:
    correct: int
    total: int
    feedback: list[dict[str, Any]]


@transaction.atomic
def submit_quiz(
    *, user: Any, lesson: Lesson, answers: dict[str, str], now: datetime | None = None
) -> QuizResult:
    """Score a self-assessment quiz (for the candidate's own benefit) and complete the lesson."""
    now = now or timezone.now()
    questions = list(QuizQuestion.objects.filter(lesson=lesson))
    feedback = []
    correct = 0
    for question in questions:
        given = answers.get(str(question.pk))
        right = next(i for i, c in enumerate(question.choices) if c.get("correct"))
        chosen = (
            int(given)
            if given is not None and given.isdigit() and int(given) < len(question.choices)
            else None
        )
        is_right = chosen == right
        correct += is_right
        feedback.append(
            {
                "question": question,
                "chosen": chosen,
                "right": right,
                "is_right": is_right,
                "chosen_text": question.choices[chosen]["text"] if chosen is not None else "",
                "right_text": question.choices[right]["text"],
                "explanation": (question.choices[chosen].get("feedback", "") if chosen is not None else ""),
            }
        )
    unanswered = [f for f in feedback if f["chosen"] is None]
    if unanswered:
        raise TrainingError(f"Answer every question ({len(unanswered)} left); the quiz is not graded.")
    QuizAttempt.objects.create(
        user=user, lesson=lesson, submitted_at=now, answers=answers, correct=correct, total=len(questions)
    )
    complete_lesson(user=user, lesson=lesson, now=now)
    return QuizResult(correct=correct, total=len(questions), feedback=feedback)


def void_progress(*, user: Any, course: Course, reason: str, now: datetime | None = None) -> int:
    """Start the course over (a required redo); the old progress is kept, marked void."""
    now = now or timezone.now()
    count = LessonProgress.objects.filter(
        user=user, lesson__unit__course=course, voided_at__isnull=True
    ).update(voided_at=now)
    # A redo is studied afresh: time and videos watched before no longer count.
    LessonActivity.objects.filter(user=user, lesson__unit__course=course, voided_at__isnull=True).update(
        voided_at=now
    )
    if count:
        record(
            actor=None,
            verb="training.progress_voided",
            obj=course,
            data={"user": user.pk, "lessons": count},
            reason=reason,
            now=now,
        )
    return count
