"""Finding programs without assuming there is only one.

Every page, URL and service that is specific to a program names it: by its code in the URL
(`/qualification/<code>/`, `/tor/<code>/`), by the person's enrollment, or by the object it
belongs to (a session, a certificate, an order). Nothing asks for "the" qualification program.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from stormcert.programs.models import Program, ProgramKind


def qualification_programs(*, public_only: bool = True) -> QuerySet[Program]:
    programs = Program.objects.filter(kind=ProgramKind.QUALIFICATION)
    return programs.filter(is_public=True) if public_only else programs


def trainer_programs(*, public_only: bool = True) -> QuerySet[Program]:
    programs = Program.objects.filter(kind=ProgramKind.TRAINER)
    return programs.filter(is_public=True) if public_only else programs


def program_or_404(code: str, kind: str | None = None) -> Program:
    """The program a URL names; 404 when no program of that kind has the code."""
    programs = Program.objects.filter(code=code)
    if kind is not None:
        programs = programs.filter(kind=kind)
    program = programs.first()
    if program is None:
        raise Http404("No such program.")
    return program


def program_from_query(value: str | None, kind: str | None = None) -> Program | None:
    """A `?program=CODE` filter: the program, or None for "every program" (or an unknown code)."""
    if not value:
        return None
    programs = Program.objects.filter(code=value.strip())
    if kind is not None:
        programs = programs.filter(kind=kind)
    return programs.first()


def trainer_programs_teaching(qualification: Program) -> QuerySet[Program]:
    """The trainer programs whose trainers teach courses of this qualification program."""
    return qualification.taught_by.filter(kind=ProgramKind.TRAINER)
