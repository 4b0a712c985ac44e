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

    # The name as certified: set at issuance and changed only by an approved name change request
    # (`names.decide_name_change`), never by editing a profile. Everything that shows who holds
    # the certificate (PDF, credential, verification, directory, API) reads these two fields.
    holder_name = models.CharField(max_length=301)
    sort_name = models.CharField(max_length=301, db_index=True)
    # What the public may search by: the certified name and the number always, company and city
    # only when the holder opted in (`services.refresh_directory_entries` keeps the latter current).
    search_text = models.CharField(max_length=800)
    # When an approved name change last reissued the documents (same number, same dates); the
    # signed credential is dated from it.
    reissued_at = models.DateTimeField(null=True, blank=True)

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


class RetiredCredential(models.Model):
    """A credential id a certificate no longer answers to: when an approved name change reissues
    a certificate, its credential is signed anew under a new id, and the old one (which names the
    old name) is published as revoked, so a relying party checking offline credentials against
    the revocation list cannot accept a credential naming someone the program no longer certifies."""

    uid = models.UUIDField(unique=True)
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="retired_credentials")
    retired_at = models.DateTimeField()

    class Meta:
        ordering = ["retired_at", "id"]

    def __str__(self) -> str:
        return f"urn:uuid:{self.uid} ({self.certificate_id})"

    @property
    def credential_id(self) -> str:
        return f"urn:uuid:{self.uid}"


class NameChangeStatus(models.TextChoices):
    PENDING = "pending", "Waiting for staff"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"


def _name_document_path(instance: NameChangeRequest, filename: str) -> str:
    # Random, so neither the holder's file name nor a guessable id is on disk.
    from stormcert.lib.uploads import random_pdf_name

    return random_pdf_name("name-changes")


class NameChangeRequest(models.Model):
    """A holder asking for the certified name to change (marriage, a typo). A person has one
    legal name, so an approval renames every certificate of theirs that is not superseded by a
    renewal; staff approve or refuse with a reason either way, and the holder may withdraw it
    while it waits. One request waits at a time per person: the partial unique constraint, not a
    check in code."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="name_change_requests"
    )
    # The certified name when asked, so the queue shows "from" and "to" even after a decision.
    old_name = models.CharField(max_length=301)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    reason = models.TextField()
    document = models.FileField(upload_to=_name_document_path, blank=True)
    document_name = models.CharField(max_length=255, blank=True, help_text="The uploader's file name.")
    document_size = models.PositiveIntegerField(null=True, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10, choices=NameChangeStatus.choices, default=NameChangeStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="pending"),
                name="certificates_one_pending_name_change",
            ),
            # Each state carries the facts that explain it: a decision has a decider, a time, a reason.
            models.CheckConstraint(
                condition=Q(
                    status="pending",
                    decided_at__isnull=True,
                    decided_by__isnull=True,
                    withdrawn_at__isnull=True,
                )
                | Q(status="withdrawn", withdrawn_at__isnull=False, decided_at__isnull=True)
                | (
                    Q(status__in=["approved", "refused"], decided_at__isnull=False, decided_by__isnull=False)
                    & ~Q(decision_reason="")
                ),
                name="certificates_name_change_state_facts",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="certificates_name_queue")]

    def __str__(self) -> str:
        return f"{self.person}: {self.old_name} → {self.new_name}"

    @property
    def new_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def new_sort_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip().lower()

    @property
    def is_pending(self) -> bool:
        return self.status == NameChangeStatus.PENDING
