"""Trainer of Record terms: who may teach the one-day course, and until when.

A term is the yearly period (July 1 to June 30 for the IGP ToR program, from the policy's
`term.start`) for which staff have confirmed a ToR. Being a ToR *today* is derived from the
dates, so a lapsed term needs no job to end it.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from stormcert.programs.models import Program


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

    def is_active_on(self, day: date) -> bool:
        last = self.ends_on if self.ended_on is None else min(self.ends_on, self.ended_on - timedelta(days=1))
        return self.starts_on <= day <= last
