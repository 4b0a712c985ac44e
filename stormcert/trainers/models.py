"""Trainer of Record terms: who may teach the courses of the programs a trainer program teaches,
and until when.

A term is the yearly period (from the trainer program's `term.start` policy value) for which staff have confirmed a ToR. Being a ToR *today* is derived from the
dates, so a lapsed term needs no job to end it.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from stormcert.lib.uploads import random_pdf_name
from stormcert.programs.models import Program


class TrainerTermQuerySet(models.QuerySet["TrainerTerm"]):
    def in_force_on(self, day: date) -> TrainerTermQuerySet:
        """Terms covering `day` and not ended early by then: who is a ToR that day."""
        return self.filter(starts_on__lte=day, ends_on__gte=day).filter(
            models.Q(ended_on__isnull=True) | models.Q(ended_on__gt=day)
        )


class TrainerTerm(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trainer_terms")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="trainer_terms")
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="Last day of the term (inclusive).")
    source = models.CharField(max_length=40, default="staff", help_text="What granted the term.")
    created_at = models.DateTimeField(default=timezone.now)
    ended_on = models.DateField(
        null=True, blank=True, help_text="Set when staff end a term early; the ToR stops on this day."
    )
    end_reason = models.TextField(blank=True)
    # The ToR certificate issued for this term (one per term: the row lock on the term guards it).
    certificate = models.OneToOneField(
        "certificates.Certificate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trainer_term",
    )

    objects = TrainerTermQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "user"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="trainers_term_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["user", "program", "starts_on"], name="trainers_one_term_per_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.program.code} {self.starts_on:%Y-%m-%d} to {self.ends_on:%Y-%m-%d}"

    def is_in_force_on(self, day: date) -> bool:
        """The same test as `TrainerTermQuerySet.in_force_on`, for one term already loaded."""
        return self.starts_on <= day <= self.ends_on and (self.ended_on is None or self.ended_on > day)


# --- The yearly application: RFQ / SOQ cycles, applications, reviews ---------------------------


class ApplicationCycle(models.Model):
    """One Request for Qualifications: when applications open and close, how they are scored."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="application_cycles")
    title = models.CharField(max_length=200)
    rfq_text = models.TextField(help_text="The Request for Qualifications (Markdown).")
    rfq_document = models.FileField(upload_to="rfq/", blank=True, help_text="The RFQ as a PDF (optional).")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    notice_on = models.DateField(help_text="The day every applicant is emailed their result.")
    notices_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="trainers_cycle_closes_after_open",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at

    def state(self, now: datetime) -> str:
        if now < self.opens_at:
            return "upcoming"
        if now < self.closes_at:
            return "open"
        return "notified" if self.notices_sent_at else "in review"


class Criterion(models.Model):
    cycle = models.ForeignKey(ApplicationCycle, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    weight = models.PositiveSmallIntegerField(default=1, help_text="How much this criterion counts.")
    max_score = models.PositiveSmallIntegerField(default=5)

    class Meta:
        ordering = ["cycle", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_score__gte=1), name="trainers_criterion_max_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (×{self.weight})"


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    SELECTED = "selected", "Selected"
    NOT_SELECTED = "not_selected", "Not selected"


class Delivery(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIRTUAL = "virtual", "Virtual"
    BOTH = "both", "In person and virtual"


class Application(models.Model):
    """A Statement of Qualifications: structured answers, documents, the fee, the outcome."""

    cycle = models.ForeignKey(ApplicationCycle, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tor_applications"
    )
    status = models.CharField(
        max_length=14, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    qisp_number = models.CharField(
        max_length=40, blank=True, help_text="The required certificate checked at start."
    )
    fee_code = models.CharField(max_length=40, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    experience = models.TextField(blank=True)
    teaching = models.TextField(blank=True)
    certifications = models.TextField(blank=True)
    regions = models.CharField(max_length=300, blank=True)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    # After selection: the candidate ToR's additional steps, then staff approval.
    orientation_at = models.DateTimeField(null=True, blank=True)
    orientation_how = models.CharField(max_length=20, blank=True)
    course_info_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "applicant"], name="trainers_one_application_per_cycle"),
        ]

    def __str__(self) -> str:
        return f"{self.applicant} · {self.cycle}"

    @property
    def is_draft(self) -> bool:
        return self.status == ApplicationStatus.DRAFT


def _document_path(instance: ApplicationDocument, filename: str) -> str:
    # The stored name is random: the applicant's file name is kept in `original_name` only.
    return random_pdf_name(f"soq/{instance.application.cycle_id}")


class ApplicationDocument(models.Model):
    """An uploaded PDF. Stored under MEDIA_ROOT, which no URL serves: only `document_download`
    does, after checking the person may read it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    label = models.CharField(max_length=120)
    file = models.FileField(upload_to=_document_path)
    original_name = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.label}: {self.original_name}"


class ReviewAssignment(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tor_reviews"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    conflict = models.BooleanField(null=True, help_text="Declared before scoring; a conflict means no score.")
    conflict_note = models.TextField(blank=True)
    declared_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "reviewer"], name="trainers_one_review_per_reviewer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} reviews {self.application}"

    def weighted_total(self) -> float | None:
        """Sum of score × weight over the criteria, as a share of the maximum (0–100)."""
        if self.submitted_at is None:
            return None
        got = top = 0
        # .all() so a caller's prefetch_related("scores__criterion") serves it without a query.
        for score in self.scores.all():
            got += score.score * score.criterion.weight
            top += score.criterion.max_score * score.criterion.weight
        return round(100 * got / top, 1) if top else None


class ReviewScore(models.Model):
    assignment = models.ForeignKey(ReviewAssignment, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    score = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "criterion"], name="trainers_one_score_per_criterion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion.name}: {self.score}"


# --- The Compliance Agreement and the yearly term ----------------------------------------------


class AgreementVersion(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="agreements")
    version = models.CharField(max_length=40)
    title = models.CharField(max_length=200, default="Trainer of Record Compliance Agreement")
    body = models.TextField(help_text="Markdown.")
    effective_from = models.DateField()

    class Meta:
        ordering = ["program", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["program", "version"], name="trainers_agreement_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class AgreementSignature(models.Model):
    """An electronic signature: the typed name, when, from where, and exactly which version."""

    agreement = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="signatures")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tor_signatures"
    )
    typed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "user"], name="trainers_sign_each_version_once"),
        ]

    def __str__(self) -> str:
        return f"{self.typed_name} signed {self.agreement} on {self.signed_at:%Y-%m-%d}"


class TermRenewal(models.Model):
    """A ToR's renewal for one yearly term: the meeting, the fee, staff confirmation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tor_renewals")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    term_start = models.DateField()
    meeting_at = models.DateTimeField(null=True, blank=True)
    meeting_how = models.CharField(max_length=20, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-term_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "program", "term_start"], name="trainers_one_renewal_per_term"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · term from {self.term_start}"


# --- Reminders ----------------------------------------------------------------------------------


class TrainerNotice(models.Model):
    """One row per automatic reminder to a ToR: inserting it is how the reminder is claimed, so
    two runs of `tick` (even at the same moment) send it once. `key` names the reminder: the
    yearly fee's for one term and lead time ("fee:2027-07-01:30"), an agreement version's
    ("agreement:12")."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tor_notices")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=80)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "program", "key"], name="trainers_notice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.key}"


# --- Program content a ToR completes: course information, orientation, renewal meeting --------


class ContentKind(models.TextChoices):
    COURSE_INFORMATION = "course_information", "ToR course information"
    ORIENTATION = "orientation", "Orientation"
    RENEWAL_MEETING = "renewal_meeting", "Renewal meeting"


def _content_path(instance: TrainerContent, filename: str) -> str:
    return random_pdf_name(f"tor-content/{instance.program_id}")


class TrainerContent(models.Model):
    """A page, a document or a meeting that staff publish for a trainer program; the item of a
    kind in force on a day is the latest `effective_from` on or before it (like the agreement),
    so each year's orientation or renewal meeting is a new row."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="trainer_content")
    kind = models.CharField(max_length=20, choices=ContentKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Markdown: what to read, or what the meeting covers.")
    document = models.FileField(upload_to=_content_path, blank=True, help_text="A PDF (optional).")
    meeting_at = models.DateTimeField(
        null=True, blank=True, help_text="When the meeting is held; empty for a page or a document."
    )
    meeting_link = models.URLField(blank=True, help_text="Where to join the meeting (or its recording).")
    effective_from = models.DateField(help_text="The first day this item is the one ToRs complete.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["program", "kind", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "kind", "effective_from"], name="trainers_content_one_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def is_meeting(self) -> bool:
        return self.meeting_at is not None


class CompletionHow(models.TextChoices):
    READ = "read", "Opened and read"
    ATTENDED = "attended", "Attended (confirmed by the ToR)"
    STAFF = "staff", "Attendance marked by staff"


class ContentCompletion(models.Model):
    """A ToR (or candidate) completed a content item: one row per person and item."""

    content = models.ForeignKey(TrainerContent, on_delete=models.PROTECT, related_name="completions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tor_content_completions"
    )
    how = models.CharField(max_length=10, choices=CompletionHow.choices)
    completed_at = models.DateTimeField(default=timezone.now)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-completed_at"]
        constraints = [
            models.UniqueConstraint(fields=["content", "user"], name="trainers_complete_content_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} completed {self.content} ({self.how})"
