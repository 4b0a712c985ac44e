"""The outbox: every message the system sends, as it was sent, with its delivery state."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    KEPT = "kept", "Kept in outbox (not delivered: development)"
    FAILED = "failed", "Failed"


class OutboundEmail(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    to = models.EmailField(max_length=254, db_index=True)
    from_email = models.CharField(max_length=254)
    template = models.CharField(max_length=120, help_text="Template prefix the message was rendered from.")
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # Small text attachments kept with the message (calendar invitations):
    # [{"filename": "...", "content": "...", "mimetype": "text/calendar"}].
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A failed message is tried again from this time (tick: emails.services.retry_failed).
    next_try_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="emails_status_idx")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"

    def attachment_names(self) -> list[str]:
        from stormcert.emails.attachments import describe

        return [describe(item) for item in self.attachments]
