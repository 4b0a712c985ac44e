"""Imports of the earlier system's records: the uploaded file, its checking and its outcome."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class RunStatus(models.TextChoices):
    CHECKING = "checking", "Checking"
    CHECKED = "checked", "Checked (dry run)"
    APPLIED = "applied", "Imported"


class ImportRun(models.Model):
    """One uploaded file. Checking (the dry run) proceeds in chunks so the page can show its
    progress; importing applies every row in one transaction or none."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=200)
    content = models.TextField(help_text="The file as uploaded (UTF-8).")
    total_rows = models.PositiveIntegerField(default=0)
    checked_rows = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.CHECKING)
    # {"create": [line, …], "update": [...], "unchanged": [...], "reject": [{"line", "field", "value",
    # "reason"}], "notes": [{"line", "note"}]}: built up chunk by chunk while checking.
    report: models.JSONField[Any] = models.JSONField(default=dict, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seconds = models.FloatField(null=True, blank=True, help_text="How long the import took.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return 100 if not self.total_rows else int(self.checked_rows * 100 / self.total_rows)

    def count(self, outcome: str) -> int:
        return len(self.report.get(outcome, []))
