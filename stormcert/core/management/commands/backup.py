"""`manage.py backup [PATH]`: the database and uploaded documents in one archive (site may run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from stormcert.core.backup import BackupError, backup, describe


class Command(BaseCommand):
    help = "Back up the database and the uploaded documents into one .tar.gz (safe while the site runs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", nargs="?", help="Where to write it (default: backups/stormcert-<time>.tar.gz)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        path = Path(options["path"] or f"backups/stormcert-{now:%Y%m%d-%H%M%S}.tar.gz")
        try:
            manifest = backup(output=path, now=now)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{describe(manifest)}\nwritten to {path}")
