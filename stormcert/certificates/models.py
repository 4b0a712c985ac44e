"""Certificates: who holds which qualification, numbered, dated, revocable.

Status is never stored: `status_on(day)` derives active / expired / revoked from the dates, so a
certificate expires on its own at the end of its expiry day in the program's time zone.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Source(models.TextChoices):
    COMPLETION = "completion", "Completed the steps"
    SELF_DIRECTED = "self_directed", "Self-directed route (licensed engineer or geologist)"
    RENEWAL = "renewal", "Renewal"
    TRAINER_TERM = "trainer_term", "Trainer of Record term"
    LEGACY = "legacy", "Imported from the earlier system"


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    # A Trainer of Record certificate whose term staff ended early (trainers.services.end_term).
    ENDED = "ended", "Ended"


class NumberCounter(models.Model):
    """The last sequence number used per program and scope (the year, or 0 when the number
    format has no year). Issuance locks the row, so two issuances never share a number."""

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    scope = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "scope"], name="certificates_one_counter_per_scope")
        ]

    def __str__(self) -> str:
        return f"{self.program_id}/{self.scope}: {self.last}"


class Certificate(models.Model):
    number = models.CharField(max_length=40, unique=True)
    # The credential's stable identifier (urn:uuid:…), never reused.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates"
    )
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="certificates")
    issued_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True, help_text="Empty: does not expire.")
    source = models.CharField(max_length=20, choices=Source.choices)
    enrollment = models.ForeignKey(
        "enrollments.Enrollment", null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    # The enrollment's cycle when issued: one certificate per completion.
    cycle = models.PositiveSmallIntegerField(null=True, blank=True)
    renews = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewed_by"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    # Set when a renewal issues the next certificate: the directory lists the newest only.
    superseded_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=300, blank=True)
    # Set when what the certificate stands for ended before its expiry (a ToR term ended
    # early by staff): from this day it verifies as "ended" with the reason. Not a revocation:
    # nothing was withdrawn for cause, the standing it records simply stopped.
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)

    # The directory entry, kept current by `services.refresh_directory_entries` whenever the
    # holder's name or contact details change. `search_text` holds only what the public may
    # search by: the name and number always, company and city only when the holder opted in.
    holder_name = models.CharField(max_length=301)
    sort_name = models.CharField(max_length=301, db_index=True)
    search_text = models.CharField(max_length=800)

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "cycle"],
                condition=Q(enrollment__isnull=False),
                name="certificates_one_per_completion",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("issued_on")),
                name="certificates_expiry_after_issue",
            ),
        ]
        indexes = [
            models.Index(fields=["holder", "program"], name="certificates_holder_program"),
            models.Index(fields=["expires_on"], name="certificates_expires_on"),
            # Browsing one program (the few Trainers of Record) in name order.
            models.Index(fields=["program", "sort_name"], name="certificates_program_name"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.holder_name})"

    def status_on(self, day: date) -> Status:
        return self.derive_status(
            revoked_at=self.revoked_at, expires_on=self.expires_on, day=day, ended_on=self.ended_on
        )

    @staticmethod
    def derive_status(
        *, revoked_at: datetime | None, expires_on: date | None, day: date, ended_on: date | None = None
    ) -> Status:
        """Active through the whole expiry day; expired from the next day; ended from its end
        day; revoked overrides. (A static method so the streamed export can apply it to rows.)"""
        if revoked_at is not None:
            return Status.REVOKED
        if ended_on is not None and day >= ended_on:
            return Status.ENDED
        if expires_on is not None and day > expires_on:
            return Status.EXPIRED
        return Status.ACTIVE

    def status_at(self, now: datetime | None = None) -> Status:
        return self.status_on(timezone.localtime(now or timezone.now(), self.program.zone).date())

    @property
    def credential_id(self) -> str:
        return f"urn:uuid:{self.uid}"
