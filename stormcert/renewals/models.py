"""What renewal keeps: which reminders went out. Everything else is derived.

A renewal itself needs no table of its own: the order line (purpose `renewal.certificate`,
reference {"certificate": id}) records what was bought at which fee, and the new certificate's
`renews` link records what it replaced (one renewal per certificate, by the database).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ReminderSent(models.Model):
    """One row per certificate and reminder offset: inserting it is how a reminder is claimed,
    so two runs of `tick` (even at the same moment) send each reminder once."""

    certificate = models.ForeignKey(
        "certificates.Certificate", on_delete=models.CASCADE, related_name="renewal_reminders"
    )
    offset_days = models.IntegerField(help_text="Days before expiry (negative: after).")
    due_on = models.DateField(help_text="The day the reminder was due.")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["certificate", "offset_days"], name="renewals_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id}: {self.offset_days} days ({self.due_on})"
