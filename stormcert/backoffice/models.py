"""Imports of the earlier system's records: the uploaded file, its checking and its outcome."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class RunStatus(models.TextChoices):
    MAPPING = "mapping", "Columns to match"
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
    # The file's first line, and which of its columns each field comes from:
    # {"email": 2, "first_name": 0, "last_name": 1, ...} (column positions, from 0; a field not in
    # the file is absent). Chosen by staff after the upload (imports.map_columns).
    header: models.JSONField[list[str]] = models.JSONField(default=list, blank=True)
    mapping: models.JSONField[dict[str, int]] = models.JSONField(default=dict, blank=True)
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


class ColumnMapping(models.Model):
    """The columns staff matched for a file with this header, remembered so the next file with
    the same first line is matched the same way (and the latest one as a guess for any file)."""

    signature = models.CharField(
        max_length=64, unique=True, help_text="SHA-256 of the header's column names, compared loosely."
    )
    header: models.JSONField[list[str]] = models.JSONField(default=list)
    mapping: models.JSONField[dict[str, int]] = models.JSONField(default=dict)
    used_at = models.DateTimeField(default=timezone.now)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-used_at", "-id"]

    def __str__(self) -> str:
        return ", ".join(self.header)[:80]
