"""What the periodic processes last did, so a health check can say how long ago that was."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """One row per periodic process (``tick``): when it last ran and whether every job succeeded.

    Kept in the database, not in a process's memory or the cache, because the health check runs on
    every app node while ``tick`` runs on one machine, and a cache may be flushed."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField(default=True)
    detail = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
