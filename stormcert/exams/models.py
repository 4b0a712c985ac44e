"""Question banks, exams defined by blueprints, timed attempts, saved answers, accommodations.

The server owns the clock: an attempt's deadline is fixed when it starts (duration from the
enrollment's rules × the candidate's accommodation factor) and never moves. The answer key
(`Question.correct`) is read only when grading and when showing the review the policy allows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.safestring import SafeString

from stormcert.lib.uploads import random_pdf_name


class QuestionBank(models.Model):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="question_banks")
    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["program", "title"]

    def __str__(self) -> str:
        return self.title


class TextFormat(models.TextChoices):
    """How a question's text is written. Kept as written (not converted at import) so an export
    gives staff back what they authored, and so Markdown stays editable in the admin; every page
    renders it through `Question.rendered_text`, sanitised, so the three pages that show a
    question (the exam, the admin, item statistics) agree."""

    PLAIN = "plain", "Plain text"
    HTML = "html", "HTML (a small safe set of tags)"
    MARKDOWN = "markdown", "Markdown"


class Question(models.Model):
    """Multiple choice with exactly one correct answer. Choices are plain text, in authoring order."""

    bank = models.ForeignKey(QuestionBank, on_delete=models.PROTECT, related_name="questions")
    topic = models.CharField(max_length=100, db_index=True)
    name = models.CharField(
        max_length=200, blank=True, help_text="A short title for staff (GIFT ::title::, Moodle <name>)."
    )
    text = models.TextField()
    text_format = models.CharField(max_length=10, choices=TextFormat.choices, default=TextFormat.PLAIN)
    choices = models.JSONField(help_text='["first choice", "second choice", …]')
    correct = models.PositiveSmallIntegerField(help_text="Index of the correct choice, from 0.")
    feedback = models.JSONField(
        default=list, blank=True, help_text='Plain-text feedback per choice, in choice order ("" for none).'
    )
    general_feedback = models.TextField(blank=True, help_text="Plain-text feedback whatever the answer.")
    retired_at = models.DateTimeField(
        null=True, blank=True, help_text="Retired questions are never drawn again."
    )
    source = models.CharField(max_length=200, blank=True, help_text="Where it was imported from.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["bank", "topic", "id"]
        indexes = [models.Index(fields=["bank", "topic"], name="exams_question_topic_idx")]

    def __str__(self) -> str:
        return self.name or self.text[:80]

    def rendered_text(self) -> SafeString:
        """The text as candidates see it: sanitised HTML, rendered Markdown or escaped plain text."""
        from stormcert.exams.text import render_question_text

        return render_question_text(self.text, self.text_format)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not isinstance(self.choices, list) or len(self.choices) < 2:
            raise ValidationError({"choices": "Give at least two choices as a list of texts."})
        if not all(isinstance(c, str) and c.strip() for c in self.choices):
            raise ValidationError({"choices": "Every choice needs text."})
        if self.feedback and (
            not isinstance(self.feedback, list)
            or len(self.feedback) != len(self.choices)
            or not all(isinstance(f, str) for f in self.feedback)
        ):
            raise ValidationError(
                {
                    "feedback": 'Give one feedback text per choice, in choice order ("" for none), or none at all.'
                }
            )
        if self.correct is None or not 0 <= self.correct < len(self.choices):
            raise ValidationError(
                {"correct": f"Give the index of the correct choice, 0 to {len(self.choices) - 1}."}
            )


class Navigation(models.TextChoices):
    ALL = "all", "All questions on one page"
    ONE = "one", "One question per page"


class Exam(models.Model):
    """An exam of a program step. Figures (questions, duration, pass mark, attempts, review) come
    from the enrollment's rules under `<step_code>.*`; the blueprint says which topics to draw."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="exams")
    step_code = models.CharField(max_length=40, help_text="The code of the program's exam step this exam is.")
    title = models.CharField(max_length=200)
    bank = models.ForeignKey(QuestionBank, on_delete=models.PROTECT, related_name="exams")
    navigation = models.CharField(max_length=5, choices=Navigation.choices, default=Navigation.ALL)
    grace_seconds = models.PositiveSmallIntegerField(
        default=15, help_text="Saves arriving this long after the deadline still count (requests in flight)."
    )
    instructions = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "step_code"], name="exams_one_exam_per_step")
        ]

    def __str__(self) -> str:
        return self.title


class BlueprintItem(models.Model):
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="blueprint")
    topic = models.CharField(max_length=100)
    count = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["exam", "topic"]
        constraints = [models.UniqueConstraint(fields=["exam", "topic"], name="exams_blueprint_topic_unique")]

    def __str__(self) -> str:
        return f"{self.count} × {self.topic}"


# The one accommodation rule of the site: extra time runs from none (1.00) to FACTOR_MAX times the
# exam's duration. Accommodations are a person's, not a program's, so the bound is not a program
# rule; the model validators, the services, every form and the database constraints read it here.
FACTOR_MIN = Decimal("1.00")
FACTOR_MAX = Decimal("3.00")


class Accommodation(models.Model):
    """Standing extra time for a candidate, applied to every exam they start while active."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accommodations"
    )
    factor = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        validators=[MinValueValidator(FACTOR_MIN), MaxValueValidator(FACTOR_MAX)],
    )
    reason = models.TextField()
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="exams_one_active_accommodation"
            ),
            models.CheckConstraint(
                condition=Q(factor__gte=FACTOR_MIN, factor__lte=FACTOR_MAX),
                name="exams_accommodation_factor_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.factor}× time"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    GRANTED = "granted", "Granted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


def _request_document_path(instance: AccommodationRequest, filename: str) -> str:
    # Random, so neither the candidate's file name (often their diagnosis) nor a guessable id is on disk.
    return random_pdf_name("accommodations")


class AccommodationRequest(models.Model):
    """A candidate asking for extra time. Staff grant it (which creates an `Accommodation`) or
    decline it, with a reason either way; the candidate may withdraw it while it waits.

    Asking again while an accommodation is active is allowed (they may need more time), but
    only one request waits at a time: the partial unique constraint, not a check in code."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accommodation_requests"
    )
    explanation = models.TextField()
    factor = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(FACTOR_MIN), MaxValueValidator(FACTOR_MAX)],
        help_text="The time factor asked for; empty when the candidate leaves it to staff.",
    )
    document = models.FileField(upload_to=_request_document_path, blank=True)
    document_name = models.CharField(max_length=255, blank=True, help_text="The uploader's file name.")
    document_size = models.PositiveIntegerField(null=True, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    accommodation = models.ForeignKey(
        Accommodation,
        null=True,
        blank=True,
        # The audit log keeps the grant; losing the link must not block removing an accommodation.
        on_delete=models.SET_NULL,
        related_name="requests",
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="pending"), name="exams_one_pending_accommodation_request"
            ),
            models.CheckConstraint(
                condition=Q(factor__isnull=True) | Q(factor__gte=FACTOR_MIN, factor__lte=FACTOR_MAX),
                name="exams_request_factor_in_range",
            ),
            # Each state carries the facts that explain it: a decision has a decider and a time.
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True, withdrawn_at__isnull=True)
                | Q(status="withdrawn", withdrawn_at__isnull=False, decided_at__isnull=True)
                | Q(status__in=["granted", "declined"], decided_at__isnull=False, decided_by__isnull=False),
                name="exams_request_state_facts",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="exams_request_queue_idx")]

    def __str__(self) -> str:
        return f"{self.user}: accommodation request of {self.requested_at:%Y-%m-%d}"

    @property
    def is_pending(self) -> bool:
        return self.status == RequestStatus.PENDING


class AttemptStatus(models.TextChoices):
    # A paper drawn ahead of time (questions, choice orders, empty answers), not yet started:
    # not an attempt in any count, list or page. See `Attempt.papers` and services.prepare_paper.
    PREPARED = "prepared", "Prepared, not started"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    TIMED_OUT = "timed_out", "Submitted when time ran out"


class TakenAttempts(models.Manager["Attempt"]):
    """Attempts a candidate started: the default, so every count, list, export and page (and
    every related manager, `user.attempts`, `enrollment.attempts`) leaves prepared papers out."""

    def get_queryset(self) -> models.QuerySet[Attempt]:
        return super().get_queryset().exclude(status=AttemptStatus.PREPARED)


class PreparedPapers(models.Manager["Attempt"]):
    def get_queryset(self) -> models.QuerySet[Attempt]:
        return super().get_queryset().filter(status=AttemptStatus.PREPARED)


class Attempt(models.Model):
    """One sitting of an exam; before it starts, a prepared paper (status PREPARED).

    Why a paper is an Attempt row: starting is then one conditional UPDATE of a row that already
    has its items and answer rows (PREPARED → IN_PROGRESS with number, clock, deadline and pass
    mark), instead of drawing 35 questions and inserting 70 rows while the candidate waits. While
    prepared, `started_at`/`deadline` hold the preparation time (placeholders: start sets them),
    and `decision` caches why the exam step was open for this person (services.prepare_paper)."""

    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="attempts")
    enrollment = models.ForeignKey(
        "enrollments.Enrollment", on_delete=models.PROTECT, related_name="attempts"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attempts")
    cycle = models.PositiveSmallIntegerField()
    number = models.PositiveSmallIntegerField(help_text="1 for the first attempt in this registration cycle.")
    status = models.CharField(max_length=12, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS)
    started_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    factor = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("1.00"))
    deadline = models.DateTimeField()
    pass_percent = models.PositiveSmallIntegerField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    correct_count = models.PositiveSmallIntegerField(null=True, blank=True)
    question_count = models.PositiveSmallIntegerField()
    score_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(null=True)
    decision = models.JSONField(
        null=True,
        blank=True,
        help_text="For a prepared paper: the journey inputs it was prepared under and what they decided.",
    )

    objects = TakenAttempts()
    papers = PreparedPapers()
    everything: models.Manager[Attempt] = models.Manager()

    class Meta:
        ordering = ["-started_at"]
        base_manager_name = "everything"
        constraints = [
            # A synchronized double start (two tabs, a double click) yields one attempt.
            models.UniqueConstraint(
                fields=["enrollment", "exam", "cycle", "number"], name="exams_attempt_number_unique"
            ),
            models.UniqueConstraint(
                fields=["user", "exam"], condition=Q(status="in_progress"), name="exams_one_open_attempt"
            ),
            # One paper waits per person and exam: preparing twice (tick and a page view) makes one.
            models.UniqueConstraint(
                fields=["user", "exam"], condition=Q(status="prepared"), name="exams_one_prepared_paper"
            ),
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="exams_attempt_due_idx")]

    def __str__(self) -> str:
        return f"{self.exam} attempt {self.number} by {self.user}"

    @staticmethod
    def deadline_for(started_at: datetime, duration_minutes: int, factor: Decimal) -> datetime:
        return started_at + timedelta(seconds=int(duration_minutes * 60 * factor))

    def accepts_saves(self, now: datetime) -> bool:
        grace = timedelta(seconds=self.exam.grace_seconds)
        return self.status == AttemptStatus.IN_PROGRESS and now <= self.deadline + grace

    def is_overdue(self, now: datetime) -> bool:
        return self.status == AttemptStatus.IN_PROGRESS and now > self.deadline + timedelta(
            seconds=self.exam.grace_seconds
        )

    def seconds_left(self, now: datetime) -> int:
        return max(int((self.deadline - now).total_seconds()), 0)


class AttemptQuestion(models.Model):
    """The draw, fixed for the attempt: which question at which position, choices in which order."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    choice_order = models.JSONField(help_text="Original choice indexes in the order shown.")

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "position"], name="exams_item_position_unique"),
            models.UniqueConstraint(fields=["attempt", "question"], name="exams_item_question_unique"),
        ]

    def __str__(self) -> str:
        return f"Q{self.position} of {self.attempt}"


class Answer(models.Model):
    """The latest saved answer to one item. `seq` only grows: a stale save never overwrites.

    `choice` is the index as shown to the candidate; grading maps it through the item's
    `choice_order`. Position and choice count are copied here so a save is one UPDATE."""

    item = models.OneToOneField(AttemptQuestion, on_delete=models.CASCADE, related_name="answer")
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    position = models.PositiveSmallIntegerField()
    choice_count = models.PositiveSmallIntegerField()
    choice = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Index as shown to the candidate."
    )
    flagged = models.BooleanField(default=False)
    seq = models.PositiveBigIntegerField(default=0)
    saved_at = models.DateTimeField()
    # Grading closes every answer row in the UPDATE that comes before it reads them. A save is one
    # UPDATE conditioned on this column of the row it writes, so on PostgreSQL a save that waited
    # behind grading re-checks the row it finds after grading committed (EvalPlanQual), sees it
    # closed and changes nothing: no save lands after grading has read the answers.
    open = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "position"], name="exams_answer_position_unique")
        ]

    def __str__(self) -> str:
        return f"answer to {self.item}"

    def original_choice(self) -> int | None:
        return None if self.choice is None else self.item.choice_order[self.choice]

    def is_correct(self) -> bool:
        return self.choice is not None and self.original_choice() == self.item.question.correct


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", "Waiting for staff to import or not"
    IMPORTED = "imported", "Imported"
    DISCARDED = "discarded", "Nothing imported"


class BankImport(models.Model):
    """One uploaded question file: kept (bytes and parse) between the preview staff check and
    their decision, then the report of what the import did, so it can be read later.

    The parse is stored at upload and the confirm uses it, so staff import exactly what they saw;
    which questions are already in the bank is worked out again at confirm, under a lock."""

    bank = models.ForeignKey(QuestionBank, on_delete=models.PROTECT, related_name="imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=200)
    file_format = models.CharField(max_length=10, help_text="gift, aiken or moodle_xml, as read.")
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField(help_text="The file as uploaded.")
    default_topic = models.CharField(max_length=100)
    reason = models.TextField()
    # {"questions": [{topic, name, text, text_format, choices, correct, feedback, general_feedback,
    # where}], "rejected": [[where, reason], ...]}
    parsed: models.JSONField[Any] = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEW)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # {"created": [where, ...], "kept": [[where, note], ...], "rejected": [[where, reason], ...]}
    report: models.JSONField[Any] = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="preview", decided_at__isnull=True)
                | Q(status__in=["imported", "discarded"], decided_at__isnull=False, decided_by__isnull=False),
                name="exams_bank_import_decision_facts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.filename} into {self.bank} ({self.get_status_display()})"
