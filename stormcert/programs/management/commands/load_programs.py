from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from stormcert.programs.definitions import (
    DEFINITIONS_DIR,
    DefinitionError,
    LoadResult,
    load_definition_file,
)


def definition_files() -> list[Path]:
    """Every definition file in the definitions folder, in a stable order (by file name)."""
    return sorted(DEFINITIONS_DIR.glob("*.toml"), key=lambda path: path.name)


def _codes(path: Path) -> list[str]:
    """The program codes a file defines (a file that is not valid TOML defines none here; loading
    it reports why)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError:
        return []
    programs = data.get("program", [])
    return [str(p.get("code")) for p in programs if isinstance(p, dict)] if isinstance(programs, list) else []


def _first_position(path: Path) -> int:
    """Programs are listed in the order of the files, then of each file: a file in the
    definitions folder places its programs after those of the files before it, whether it is
    loaded alone or with the others, so reloading one file changes nothing."""
    try:
        resolved = path.resolve()
    except OSError:  # pragma: no cover: an unreadable path is reported before this
        return 0
    files = definition_files()
    if resolved not in [f.resolve() for f in files]:
        return 0
    return sum(len(_codes(f)) for f in files if f.name < path.name)


class Command(BaseCommand):
    help = (
        "Load programs, steps, rules and fees from a definition file, or from every file in "
        "programs/definitions/ (all or nothing; safe to repeat)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", nargs="?", default=None, help="One definition file (default: every file in the folder)."
        )
        parser.add_argument("--program", action="append", dest="only", help="Load only this program code.")

    def handle(self, *args: Any, path: str | None, only: list[str] | None, **options: Any) -> None:
        if path is not None:
            files = [Path(path)]
            if not files[0].is_file():
                raise CommandError(f"No definition file at {files[0]}.")
            plan = [(files[0], only)]
        else:
            files = definition_files()
            if not files:
                raise CommandError(f"No definition files in {DEFINITIONS_DIR}.")
            plan = self._plan(files, only)
        results: list[tuple[Path, LoadResult]] = []
        try:
            # One transaction for every file: a problem in any of them loads none.
            with transaction.atomic():
                for file, codes in plan:
                    results.append(
                        (file, load_definition_file(file, only=codes, first_position=_first_position(file)))
                    )
        except DefinitionError as exc:
            lines = "\n".join(f"  - {p}" for p in exc.problems)
            raise CommandError(f"{exc.source}: nothing was loaded, because:\n{lines}") from None
        if options["verbosity"]:
            for file, result in results:
                self._report(file, result, options["verbosity"])

    def _plan(self, files: list[Path], only: list[str] | None) -> list[tuple[Path, list[str] | None]]:
        """Which files to load, each with the program codes to take from it."""
        if not only:
            return [(file, None) for file in files]
        defined = {file: _codes(file) for file in files}
        unknown = [code for code in only if not any(code in codes for codes in defined.values())]
        if unknown:
            where = "; ".join(f"{file.name} defines {', '.join(codes)}" for file, codes in defined.items())
            raise CommandError(
                "nothing was loaded, because:\n"
                + "\n".join(f"  - unknown program code {code!r}; {where}" for code in unknown)
            )
        return [
            (file, [code for code in only if code in codes])
            for file, codes in defined.items()
            if any(code in codes for code in only)
        ]

    def _report(self, file: Path, result: LoadResult, verbosity: int) -> None:
        if not result.changed:
            self.stdout.write(f"{file.name}: already up to date.")
            return
        self.stdout.write(f"{file.name}: {len(result.created)} created, {len(result.updated)} updated.")
        if verbosity > 1:
            for line in result.created:
                self.stdout.write(f"  + {line}")
            for line in result.updated:
                self.stdout.write(f"  ~ {line}")
