"""Courses: sessions a Trainer of Record publishes, seats, attendance and the survey.

Availability is computed, never counted into a column: capacity minus registered seats minus
waitlist offers still open at `now`. Writers take the session's row lock before computing it.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from stormcert.enrollments.models import Enrollment
from stormcert.programs.models import Program

# The zones a California program's sessions are held in; a virtual session may be led from elsewhere.
TIME_ZONES = [
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Phoenix", "Arizona (Phoenix)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/New_York", "Eastern (New York)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
]


class Mode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIRTUAL = "virtual", "Virtual"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class PlanStatus(models.TextChoices):
    NOT_NEEDED = "not_needed", "Not needed (in person)"
    AWAITING = "awaiting", "Plan not submitted yet"
    SUBMITTED = "submitted", "Submitted, awaiting staff"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Not accepted"


class CourseSessionQuerySet(models.QuerySet["CourseSession"]):
    def public(self) -> CourseSessionQuerySet:
        """Listed on the calendar: scheduled, and virtual ones only once staff accepted the plan."""
        return self.filter(status=SessionStatus.SCHEDULED).filter(
            Q(mode=Mode.IN_PERSON) | Q(plan_status=PlanStatus.ACCEPTED)
        )

    def with_seats(self, now: datetime) -> CourseSessionQuerySet:
        """Annotate `held` (registered seats plus open offers) for listing many sessions at once."""
        return self.annotate(
            held=Count(
                "seats",
                filter=Q(seats__status__in=TAKEN_STATUSES)
                | Q(seats__status=SeatStatus.OFFERED, seats__offer_expires_at__gt=now),
            )
        ).annotate(open_seats=models.F("capacity") - models.F("held"))


class CourseSession(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="course_sessions")
    trainer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="taught_sessions"
    )
    title = models.CharField(max_length=200, default="Training course")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64, choices=TIME_ZONES, default="America/Los_Angeles")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IN_PERSON)
    venue = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True, db_index=True)
    meeting_details = models.TextField(
        blank=True, help_text="Virtual sessions: link and dial-in. Shown to registered candidates only."
    )
    capacity = models.PositiveSmallIntegerField()
    registration_deadline = models.DateTimeField(
        help_text="Registration and cancellation close at this moment."
    )
    price = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Charged by the ToR; information only.",
    )
    contact = models.CharField(max_length=254)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    plan_status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.NOT_NEEDED)
    virtual_plan = models.TextField(blank=True)
    plan_submitted_at = models.DateTimeField(null=True, blank=True)
    plan_decided_at = models.DateTimeField(null=True, blank=True)
    plan_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    plan_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=0, help_text="Counts edits; calendars use it as SEQUENCE.")

    objects = CourseSessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="courses_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="courses_capacity_positive"),
            models.CheckConstraint(
                condition=Q(registration_deadline__lte=models.F("starts_at")),
                name="courses_deadline_before_start",
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_at"], name="courses_calendar_idx")]

    def __str__(self) -> str:
        where = self.city or self.get_mode_display()
        return f"{self.local_start:%Y-%m-%d} · {where} · {self.trainer}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def local_start(self) -> datetime:
        return timezone.localtime(self.starts_at, self.zone)

    @property
    def local_end(self) -> datetime:
        return timezone.localtime(self.ends_at, self.zone)

    @property
    def local_deadline(self) -> datetime:
        return timezone.localtime(self.registration_deadline, self.zone)

    # Text in the session's own zone. Templates would convert datetimes to the site's zone, so
    # pages and emails use these instead of formatting the datetimes themselves.
    @property
    def when(self) -> str:
        start, end = self.local_start, self.local_end
        return f"{start:%A %B %-d, %Y}, {start:%-I:%M %p} to {end:%-I:%M %p %Z}"

    @property
    def day_text(self) -> str:
        return f"{self.local_start:%b %-d, %Y}"

    @property
    def closes_text(self) -> str:
        """The last day of registration (the deadline is the midnight after it)."""
        last = self.local_deadline - timedelta(microseconds=1)
        return f"{last:%B %-d, %Y}" + ("" if last.hour == 23 else f" at {self.local_deadline:%-I:%M %p %Z}")

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    @property
    def is_listed(self) -> bool:
        return not self.is_cancelled and (
            self.mode == Mode.IN_PERSON or self.plan_status == PlanStatus.ACCEPTED
        )

    def place(self) -> str:
        if self.mode == Mode.VIRTUAL:
            return "Virtual (details sent to registrants)"
        return ", ".join(part for part in (self.venue, self.address, self.city) if part)

    def registration_open(self, now: datetime) -> bool:
        return self.is_listed and now < self.registration_deadline

    def has_started(self, now: datetime) -> bool:
        return now >= self.starts_at

    def attendance_window(self, days_after: int) -> tuple[datetime, datetime]:
        """When attendance may be recorded: from the moment the session starts until the end of
        the day `days_after` days after its day, in the session's own zone (the program sets
        the figure: course.attendance_days_after). The end is exclusive."""
        last_day = self.start_day() + timedelta(days=days_after + 1)
        closes = datetime.combine(last_day, datetime.min.time(), tzinfo=self.zone)
        return self.starts_at, closes

    def start_day(self) -> date:
        return self.local_start.date()

    def held_seats(self, now: datetime) -> int:
        return self.seats.filter(
            Q(status__in=TAKEN_STATUSES) | Q(status=SeatStatus.OFFERED, offer_expires_at__gt=now)
        ).count()

    def seats_left(self, now: datetime) -> int:
        """Capacity minus registered seats and open waitlist offers (never below zero)."""
        return max(0, self.capacity - self.held_seats(now))

    def waiting(self) -> QuerySet[Seat]:
        return self.seats.filter(status=SeatStatus.WAITING).order_by("created_at", "id")


class SeatStatus(models.TextChoices):
    WAITING = "waiting", "On the waitlist"
    OFFERED = "offered", "Seat offered"
    REGISTERED = "registered", "Registered"
    ATTENDED = "attended", "Attended"
    ABSENT = "absent", "Absent"
    CANCELLED = "cancelled", "Cancelled"
    LAPSED = "lapsed", "Offer not taken up"


# A person holds at most one of these per program at a time (database constraint below).
LIVE_STATUSES = (SeatStatus.WAITING, SeatStatus.OFFERED, SeatStatus.REGISTERED)
# Seats that count against capacity and as "registered" in counts: once attendance is recorded a
# registered seat becomes attended or absent, and it was still a seat taken (the teach page said
# "0 of 24 registered" for a session whose report showed 6 registered and 6 attended).
TAKEN_STATUSES = (SeatStatus.REGISTERED, SeatStatus.ATTENDED, SeatStatus.ABSENT)


class Seat(models.Model):
    """One person's place on a session: registered, on the waitlist, offered a seat, or history."""

    session = models.ForeignKey(CourseSession, on_delete=models.PROTECT, related_name="seats")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="course_seats")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="course_seats")
    cycle = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=12, choices=SeatStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)
    registered_at = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.TextField(blank=True)
    attendance_recorded_at = models.DateTimeField(null=True, blank=True)
    attendance_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "program"],
                condition=Q(status__in=LIVE_STATUSES),
                name="courses_one_live_seat_per_program",
                violation_error_message="You already have a place on a session in this program.",
            ),
            models.CheckConstraint(
                condition=~Q(status=SeatStatus.OFFERED) | Q(offer_expires_at__isnull=False),
                name="courses_offer_has_expiry",
            ),
        ]
        indexes = [models.Index(fields=["session", "status"], name="courses_seat_status_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.session} · {self.get_status_display()}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    def offer_open(self, now: datetime) -> bool:
        return (
            self.status == SeatStatus.OFFERED
            and self.offer_expires_at is not None
            and now < self.offer_expires_at
        )

    def waitlist_position(self) -> int | None:
        if self.status != SeatStatus.WAITING:
            return None
        ahead = self.session.seats.filter(status=SeatStatus.WAITING).filter(
            Q(created_at__lt=self.created_at) | Q(created_at=self.created_at, id__lt=self.pk)
        )
        return ahead.count() + 1


class QuestionKind(models.TextChoices):
    RATING = "rating", "Rating from 1 (poor) to 5 (excellent)"
    COMMENT = "comment", "Comment"


class SurveyQuestion(models.Model):
    """Staff edit these in the admin; a question retired (inactive) keeps its past answers."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="survey_questions")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices, default=QuestionKind.RATING)
    required = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "position", "id"]

    def __str__(self) -> str:
        return self.text


class SurveyResponse(models.Model):
    seat = models.OneToOneField(Seat, on_delete=models.PROTECT, related_name="survey")
    session = models.ForeignKey(CourseSession, on_delete=models.PROTECT, related_name="survey_responses")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"Survey for {self.session} ({self.submitted_at:%Y-%m-%d})"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.PROTECT, related_name="answers")
    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="courses_one_answer_per_question"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="courses_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.rating or self.comment[:40]}"
