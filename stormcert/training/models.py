"""Online training content (courses, units, lessons, self-assessment quizzes) and progress.

A course is a qualification program's online training or a review module for renewal. Progress is
kept per person and lesson; a redo (re-registration) voids it rather than deleting it.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from stormcert.lib.markdown import render_markdown


class CourseKind(models.TextChoices):
    TRAINING = "training", "Online training"
    REVIEW = "review", "Review module (renewal)"


class Course(models.Model):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="courses")
    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=CourseKind.choices, default=CourseKind.TRAINING)
    summary = models.TextField(blank=True)
    effective_from = models.DateField(
        default=date(2000, 1, 1), help_text="For review modules: required from this day."
    )
    is_published = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "kind", "-effective_from"]

    def __str__(self) -> str:
        return self.title


class Unit(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="units")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["course", "position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class LessonKind(models.TextChoices):
    VIDEO = "video", "Video"
    READING = "reading", "Reading"
    CASE_STUDY = "case_study", "Case study"
    FILE = "file", "Document"
    QUIZ = "quiz", "Self-assessment quiz"


VIDEO_HOSTS = {
    "www.youtube.com": "youtube",
    "youtube.com": "youtube",
    "youtu.be": "youtube",
    "vimeo.com": "vimeo",
    "player.vimeo.com": "vimeo",
}


def video_embed_url(url: str) -> str | None:
    """A privacy-friendly embed address for YouTube and Vimeo links, or None for anything else."""
    parsed = urlparse(url)
    host = VIDEO_HOSTS.get(parsed.netloc.lower())
    if host == "youtube":
        video = (
            parse_qs(parsed.query).get("v", [""])[0]
            if "watch" in parsed.path
            else parsed.path.rsplit("/", 1)[-1]
        )
        # enablejsapi: the lesson page listens to the player's progress messages (training.js).
        return (
            f"https://www.youtube-nocookie.com/embed/{video}?enablejsapi=1"
            if video.replace("-", "").replace("_", "").isalnum()
            else None
        )
    if host == "vimeo":
        video = parsed.path.rstrip("/").rsplit("/", 1)[-1]
        return f"https://player.vimeo.com/video/{video}" if video.isdigit() else None
    return None


class Lesson(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=LessonKind.choices, default=LessonKind.READING)
    body = models.TextField(
        blank=True, help_text="Markdown. Shown with the video, document or quiz, or alone."
    )
    video_url = models.URLField(blank=True, help_text="YouTube or Vimeo link, for video lessons.")
    video_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Length of the video in seconds. Give it: without it the length the player reports is used.",
    )
    file = models.FileField(upload_to="training/", blank=True, help_text="PDF for document lessons.")
    estimated_minutes = models.PositiveSmallIntegerField(default=15)
    required = models.BooleanField(default=True, help_text="Must be completed to finish the training.")

    class Meta:
        ordering = ["unit__position", "unit_id", "position", "id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.kind == LessonKind.VIDEO and not video_embed_url(self.video_url):
            raise ValidationError({"video_url": "Give a YouTube or Vimeo link for a video lesson."})
        if self.kind == LessonKind.FILE and not self.file:
            raise ValidationError({"file": "Upload the document for a document lesson."})
        if self.file and not self.file.name.lower().endswith(".pdf"):
            raise ValidationError({"file": "Upload a PDF."})

    def body_html(self) -> str:
        return render_markdown(self.body)

    def embed_url(self) -> str | None:
        return video_embed_url(self.video_url) if self.video_url else None

    def player(self) -> str:
        """Which player's messages the lesson page listens to: "youtube", "vimeo" or ""."""
        return VIDEO_HOSTS.get(urlparse(self.video_url).netloc.lower(), "") if self.video_url else ""


class QuizQuestion(models.Model):
    """An ungraded self-assessment question. Choices: [{"text": …, "correct": bool, "feedback": …}]."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    choices = models.JSONField(default=list)

    class Meta:
        ordering = ["lesson", "position", "id"]

    def __str__(self) -> str:
        return self.text[:80]

    def clean(self) -> None:
        if not isinstance(self.choices, list) or len(self.choices) < 2:
            raise ValidationError({"choices": "Give at least two choices."})
        for choice in self.choices:
            if (
                not isinstance(choice, dict)
                or not isinstance(choice.get("text"), str)
                or not choice["text"].strip()
            ):
                raise ValidationError({"choices": 'Each choice needs a "text".'})
        if sum(1 for c in self.choices if c.get("correct") is True) != 1:
            raise ValidationError({"choices": 'Mark exactly one choice with "correct": true.'})


class LessonProgress(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    completed_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a redo of the training was required."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "lesson"], condition=Q(voided_at__isnull=True), name="training_progress_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} completed {self.lesson}"


class LessonActivity(models.Model):
    """What the server has seen of one person studying one lesson: the evidence a completion rule
    (training.* program rules) is checked against.

    Time is measured by the server between reports from the open page (each gap counted up to the
    program's idle cut-off); `watched` holds the 5-second stretches of a video credited at no more
    than real-time pace. Voided with the progress when a redo is required."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="activity")
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    seconds_spent = models.PositiveIntegerField(default=0)
    watched = models.JSONField(default=list, blank=True, help_text="Credited 5-second video buckets, sorted.")
    video_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Length the player reported."
    )
    scrolled_to_end_at = models.DateTimeField(null=True, blank=True)
    document_opened_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "lesson activity"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "lesson"], condition=Q(voided_at__isnull=True), name="training_activity_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.lesson}: {self.seconds_spent} s"


class QuizAttempt(models.Model):
    """Kept so a candidate sees their last score; quizzes count toward nothing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="quiz_attempts")
    submitted_at = models.DateTimeField(default=timezone.now)
    answers = models.JSONField(default=dict)
    correct = models.PositiveSmallIntegerField()
    total = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"{self.user} scored {self.correct}/{self.total} on {self.lesson}"
