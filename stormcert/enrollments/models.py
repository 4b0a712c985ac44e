"""A person's path through a qualification program: the enrollment and its step records."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from stormcert.lib.uploads import random_pdf_name


class Route(models.TextChoices):
    STANDARD = "standard", "Training and exams"
    SELF_DIRECTED = "self_directed", "Self-directed (licensed engineer or geologist)"


class LicenseType(models.TextChoices):
    CIVIL = "PE-civil", "Professional Engineer, civil"
    INDUSTRIAL = "PE-industrial", "Professional Engineer, industrial"
    CHEMICAL = "PE-chemical", "Professional Engineer, chemical"
    MECHANICAL = "PE-mechanical", "Professional Engineer, mechanical"
    GEOLOGIST = "PG", "Professional Geologist"


class Enrollment(models.Model):
    """One per person and program. Time-based states (window open or closed) are derived from
    the dates at read time; nothing has to run at midnight for them to be right."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="enrollments")
    # Fixed when the registration is paid: the rules the person started under.
    policy_version = models.ForeignKey(
        "programs.PolicyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="enrollments"
    )
    created_at = models.DateTimeField(default=timezone.now)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(
        null=True, blank=True, help_text="Training access ends at this instant."
    )
    # Each re-registration starts a new cycle: exam attempts are counted per cycle.
    cycle = models.PositiveSmallIntegerField(default=1)
    route = models.CharField(max_length=20, choices=Route.choices, default=Route.STANDARD)
    license_type = models.CharField(max_length=20, choices=LicenseType.choices, blank=True)
    license_number = models.CharField(max_length=40, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "program"], name="enrollments_one_per_program")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.program}"

    def is_registered(self) -> bool:
        return self.window_start is not None

    def window_open(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return self.window_end is not None and moment < self.window_end  # type: ignore[operator]

    @property
    def access_until(self) -> date | None:
        """The last day of the window, in the program's zone: what the candidate is shown.
        `window_end` is the first instant after it (midnight), so shown as a date it reads a day
        late (and in another zone, possibly two); every page shows this instead."""
        if self.window_end is None:
            return None
        return (self.window_end.astimezone(self.program.zone) - timedelta(microseconds=1)).date()


class Outcome(models.TextChoices):
    DONE = "done", "Done"
    FAILED = "failed", "Failed attempt"


class StepRecord(models.Model):
    """A step's credit ("done") or one failed attempt. Redos void records; nothing is deleted."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="records")
    step_code = models.CharField(max_length=40)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    cycle = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(
        max_length=40, help_text="What reported it: candidate, payment, training, exam, staff…"
    )
    data = models.JSONField(default=dict, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["enrollment", "at", "id"]
        constraints = [
            # One live credit per step: a double click or a replayed callback cannot count twice.
            models.UniqueConstraint(
                fields=["enrollment", "step_code"],
                condition=Q(outcome="done", voided_at__isnull=True),
                name="enrollments_one_live_credit_per_step",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step_code} {self.outcome} (cycle {self.cycle})"


class SelfAssessmentQuestion(models.Model):
    """Staff-editable questions of the self-assessment step.

    Choices: [{"label": "Not at all", "hours": 8}, …]; the chosen hours are added to the
    program's typical training time to estimate this candidate's.
    """

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="self_assessment")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=300)
    help = models.CharField(max_length=300, blank=True)
    choices = models.JSONField(default=list)

    class Meta:
        ordering = ["program", "position", "id"]

    def __str__(self) -> str:
        return self.text

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not isinstance(self.choices, list) or len(self.choices) < 2:
            raise ValidationError({"choices": 'Give at least two choices like {"label": "…", "hours": 0}.'})
        for choice in self.choices:
            if not isinstance(choice, dict) or not str(choice.get("label", "")).strip():
                raise ValidationError({"choices": 'Each choice needs a "label".'})
            if not isinstance(choice.get("hours", 0), int) or isinstance(choice.get("hours"), bool):
                raise ValidationError({"choices": '"hours" must be a whole number (it may be negative).'})


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"


def _license_document_path(instance: SelfDirectedApplication, filename: str) -> str:
    # Random: neither the candidate's file name nor a guessable id is on disk.
    return random_pdf_name("self-directed")


class SelfDirectedApplication(models.Model):
    """A licensed professional asking to qualify by the self-directed route: the license they
    hold and a PDF that shows it. Staff approve it (which records the route on the enrollment,
    exactly as staff recording it by hand, and so issues the certificate) or refuse it, with a
    reason either way. One application waits per person and program: the partial unique
    constraint, not a check in code."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="self_directed_applications"
    )
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    # The code and label the rules listed when the candidate applied (rules may change later).
    license_type = models.CharField(max_length=20)
    license_label = models.CharField(max_length=100)
    license_number = models.CharField(max_length=40)
    license_state = models.CharField(max_length=100)
    document = models.FileField(upload_to=_license_document_path)
    document_name = models.CharField(max_length=255, help_text="The uploader's file name.")
    document_size = models.PositiveIntegerField(null=True, blank=True)
    document_sha256 = models.CharField(max_length=64)
    applied_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-applied_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "program"],
                condition=Q(status="pending"),
                name="enrollments_one_pending_self_directed",
            ),
            # Each state carries the facts that explain it: a decision has a decider and a time.
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | Q(status__in=["approved", "refused"], decided_at__isnull=False, decided_by__isnull=False),
                name="enrollments_self_directed_state_facts",
            ),
        ]
        indexes = [models.Index(fields=["status", "applied_at"], name="enrollments_sd_queue_idx")]

    def __str__(self) -> str:
        return f"{self.user}: {self.license_label} {self.license_number} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == ApplicationStatus.PENDING
