from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone

from stormcert.audit.services import record
from stormcert.training.hooks import COMPLETION_HOOKS, access_denied_reason
from stormcert.training.models import Course, Lesson, LessonProgress, QuizAttempt, QuizQuestion


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


def completed_lesson_ids(user: Any, course: Course) -> set[int]:
    return set(
        LessonProgress.objects.filter(
            user=user, lesson__unit__course=course, voided_at__isnull=True
        ).values_list("lesson_id", flat=True)
    )


def course_progress(user: Any, course: Course) -> CourseProgress:
    done = completed_lesson_ids(user, course)
    progress = CourseProgress(course=course)
    for unit in course.units.prefetch_related("lessons"):
        lessons = [(lesson, lesson.pk in done) for lesson in unit.lessons.all()]
        required = [lesson for lesson, _ in lessons if lesson.required]
        progress.units.append(
            UnitProgress(
                unit=unit,
                lessons=lessons,
                required_done=sum(1 for lesson in required if lesson.pk in done),
                required_total=len(required),
            )
        )
    return progress


def is_course_complete(user: Any, course: Course) -> bool:
    required = set(Lesson.objects.filter(unit__course=course, required=True).values_list("pk", flat=True))
    return required <= completed_lesson_ids(user, course)


@transaction.atomic
def complete_lesson(*, user: Any, lesson: Lesson, now: datetime | None = None) -> bool:
    """Mark a lesson done (once). Finishing the last required lesson completes the course."""
    now = now or timezone.now()
    course = lesson.unit.course
    reason = access_denied_reason(user, course, now)
    if reason:
        raise TrainingError(reason)
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
