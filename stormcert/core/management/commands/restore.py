"""`manage.py restore PATH --yes`: put a backup back, then prove every table matches it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stormcert.core.backup import BackupError, describe, read_manifest, restore


class Command(BaseCommand):
    help = "Replace the database and the uploaded documents with a backup's, then verify them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The backup archive (.tar.gz) written by `manage.py backup`.")
        parser.add_argument("--yes", action="store_true", help="Really replace the current data.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            manifest = read_manifest(path)
            if not options["yes"]:
                raise CommandError(
                    f"{describe(manifest)}.\nThis replaces ALL current data. Stop the site, then run again with --yes."
                )
            restore(archive_path=path)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored and verified: {describe(manifest)}")
