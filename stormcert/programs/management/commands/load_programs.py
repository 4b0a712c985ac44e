from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stormcert.programs.definitions import DEFAULT_DEFINITION, DefinitionError, load_definition_file


class Command(BaseCommand):
    help = "Load programs, steps, rules and fees from a definition file (all or nothing; safe to repeat)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", default=str(DEFAULT_DEFINITION))
        parser.add_argument("--program", action="append", dest="only", help="Load only this program code.")

    def handle(self, *args: Any, path: str, only: list[str] | None, **options: Any) -> None:
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No definition file at {file}.")
        try:
            result = load_definition_file(file, only=only)
        except DefinitionError as exc:
            lines = "\n".join(f"  - {p}" for p in exc.problems)
            raise CommandError(f"{exc.source}: nothing was loaded, because:\n{lines}") from None
        if not options["verbosity"]:
            return
        if not result.changed:
            self.stdout.write(f"{file.name}: already up to date.")
            return
        self.stdout.write(f"{file.name}: {len(result.created)} created, {len(result.updated)} updated.")
        if options["verbosity"] > 1:
            for line in result.created:
                self.stdout.write(f"  + {line}")
            for line in result.updated:
                self.stdout.write(f"  ~ {line}")
