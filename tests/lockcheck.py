"""Every row lock names what it locks, and none locks a row many people share.

`SELECT … FOR UPDATE` on PostgreSQL locks a row of every table in the FROM clause: with a
`select_related("program")` (or a filter across a relation) the program's row is locked too, and
then every exam start, seat or certificate in the program waits for the one before it. A locking
query must therefore say what it locks (`select_for_update(of=("self", …))`), and what it locks
must not be one of the shared rows below, unless ALLOWED says who locks it on purpose and why.

The root conftest installs `install()` for the whole test session (every xdist worker loads it):
each locking query any test runs is checked when Django compiles it, on SQLite too (where Django
leaves FOR UPDATE out of the SQL altogether, so reading the SQL would see nothing). A bad query
raises RowLockViolation at its call site, so the test that ran it fails with the call site and
the SQL; one raised in a thread, or swallowed by the code, fails the test at teardown instead.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models.sql.compiler import SQLCompiler

# Rows that many people's workflows read at once: program definitions and rules, exam content,
# the shared parts of courses, training and trainer selection. A lock on one of these makes
# unrelated people queue behind each other.
SHARED: dict[str, str] = {
    "programs_program": "a program: every enrollment, exam, seat and certificate in it",
    "programs_policyversion": "a rules version: everyone enrolled under it",
    "programs_policyvalue": "a rule value: everyone enrolled under its version",
    "programs_fee": "a fee: every order for it",
    "programs_step": "a journey step: everyone in the program",
    "exams_exam": "an exam: every attempt at it",
    "exams_questionbank": "a question bank: every attempt drawing from it",
    "exams_question": "a question: every attempt that drew it",
    "exams_blueprintitem": "an exam's blueprint: every attempt at the exam",
    "courses_coursesession": "a course session: everyone registered or waiting",
    "courses_surveyquestion": "a survey question: everyone answering the survey",
    "enrollments_selfassessmentquestion": "a self-assessment question: everyone in the program",
    "trainers_applicationcycle": "an application cycle: every applicant and reviewer in it",
    "trainers_criterion": "a scoring criterion: every reviewer in the cycle",
    "trainers_agreementversion": "a compliance agreement: every trainer signing it",
    "training_course": "an online course: everyone taking it",
    "training_unit": "a course unit: everyone taking the course",
    "training_lesson": "a lesson: everyone taking the course",
    "training_quizquestion": "a quiz question: everyone taking the quiz",
    "certificates_numbercounter": "a certificate number counter: every certificate issued in the program",
}

# (shared table, call site) -> why that code locks the shared row on purpose. The call site is
# `module.function` of the first frame in stormcert outside the lock helpers, or a prefix of it
# (a module: every workflow in it).
ALLOWED: dict[tuple[str, str], str] = {
    ("programs_program", "stormcert.programs.editing.create_version"): (
        "one staff editor of a program's rules at a time (a rare staff action)"
    ),
    ("programs_program", "stormcert.programs.editing.create_fee"): (
        "one staff editor of a program's fees at a time (a rare staff action)"
    ),
    ("certificates_numbercounter", "stormcert.certificates.services._next_number"): (
        "the counter is the sequence: issuance in one program and year takes turns on it"
    ),
    ("trainers_applicationcycle", "stormcert.trainers.assigning.assign_in_bulk"): (
        "two staff assigning reviewers to one cycle at once take turns, so no statement gets more"
        " than the minimum (a rare staff action; applicants and reviewers only read the cycle row)"
    ),
    ("programs_fee", "stormcert.trainers.applications.open_cycle"): (
        "staff opening a cycle write the cycle's fee rows (update_or_create locks the row it updates)"
    ),
    ("exams_questionbank", "stormcert.exams.banks.services.confirm_import"): (
        "two staff imports into one bank take turns, so a question is never added twice (a rare"
        " staff action; candidates' exams read the questions, never lock the bank)"
    ),
    ("courses_coursesession", "stormcert.courses.services"): (
        "the session's row guards its seat count and waitlist: registering, cancelling, offers"
        " and changes to the session take turns on it"
    ),
}

# Frames that are not the call site: the lock helpers, Django, and this module.
_HELPERS = ("stormcert.lib.db", "stormcert.lib.decisions")
_ROOT = Path(__file__).resolve().parent.parent


class RowLockViolation(AssertionError):
    """A locking query that does not name what it locks, or locks a shared row."""


@dataclass(frozen=True)
class Violation:
    site: str
    where: str
    problem: str
    sql: str

    def __str__(self) -> str:
        return f"{self.problem}\n  at {self.site} ({self.where})\n  SQL: {self.sql}"


_recorded: list[Violation] = []
_guard = threading.Lock()
_local = threading.local()


@contextmanager
def unchecked() -> Iterator[None]:
    """Run a locking query the rule would refuse, in this thread (a test proving a shared row
    is free takes the lock on purpose)."""
    _local.off = True
    try:
        yield
    finally:
        _local.off = False


def _call_site() -> tuple[str, str, bool]:
    """`module.function` and `file:line` of our code that ran the query, and whether a library
    took the lock itself, where our code cannot say `of`: Django's `update_or_create` (it locks
    the row it is about to update) or a package's own code (allauth's recovery codes)."""
    frame = sys._getframe(1)
    fallback: tuple[str, str] | None = None
    by_library = False
    first = True
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if module == "django.db.models.query" and frame.f_code.co_name == "update_or_create":
            by_library = True
        if first and module != __name__ and not module.startswith("django.db."):
            first = False
            by_library = by_library or not module.startswith(("stormcert.", "tests.", "conftest"))
        if module.startswith("stormcert.") and not module.startswith(_HELPERS):
            site = f"{module}.{frame.f_code.co_qualname}", f"{frame.f_code.co_filename}:{frame.f_lineno}"
            return (*site, by_library)
        if fallback is None and module.startswith("tests.") and module != __name__:
            fallback = (
                f"{module}.{frame.f_code.co_qualname}",
                f"{frame.f_code.co_filename}:{frame.f_lineno}",
            )
        frame = frame.f_back  # type: ignore[assignment]
    return (*(fallback or ("?", "?")), by_library)


def _table(compiler: SQLCompiler, quoted: str) -> str:
    alias = quoted.strip('"`')
    join = compiler.query.alias_map.get(alias)
    return join.table_name if join is not None else alias


def locked_tables(compiler: SQLCompiler) -> tuple[bool, set[str]]:
    """(whether the query names what it locks, the tables whose rows it locks), for a compiled
    locking query: with `of`, the tables it names; without, every table in its FROM clause."""
    query = compiler.query
    if query.select_for_update_of:
        # Django's own resolution of the names (it raises FieldError for a name the query does
        # not follow, on every backend here, where SQLite would ignore `of` silently).
        return True, {_table(compiler, name) for name in compiler.get_select_for_update_of_arguments()}
    tables = {
        join.table_name
        for alias, join in query.alias_map.items()
        if query.alias_refcount.get(alias, 0) > 0 or alias == query.base_table
    }
    return False, tables


def problems(compiler: SQLCompiler, site: str, by_library: bool = False) -> list[str]:
    """What is wrong with a compiled locking query run from `site` (nothing: []). A query a
    library runs on its own (`by_library`) cannot say `of`: it passes while it reads one table."""
    named, tables = locked_tables(compiler)
    found = []
    if not by_library and not _in_own_transaction(compiler):
        # PostgreSQL refuses a lock outside a transaction (TransactionManagementError) and SQLite
        # silently takes none; a test's own wrapping transaction hides both. Found in use: a staff
        # decision that lost its @transaction.atomic failed only in a browser test on PostgreSQL.
        found.append(
            "select_for_update() outside a transaction of the code's own (only the test's wraps it):"
            " PostgreSQL refuses it; wrap the workflow in transaction.atomic"
        )
    if not named and not (by_library and len(tables) == 1):
        found.append(
            f"select_for_update() without of=: it locks a row of every table it reads ({', '.join(sorted(tables))});"
            ' name what it means to lock, e.g. of=("self",)'
        )
    for table in sorted(tables):
        if table in SHARED and not _allowed(table, site):
            found.append(
                f"it locks a shared row, {table} ({SHARED[table]}); lock the row that is meant, or add"
                " (table, call site) to tests/lockcheck.ALLOWED with the reason"
            )
    return found


def _in_own_transaction(compiler: SQLCompiler) -> bool:
    """An atomic block the application opened, not only the one a test case wraps each test in."""
    from django.db import connections

    connection = connections[compiler.using or "default"]
    if not connection.in_atomic_block:
        return False
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _allowed(table: str, site: str) -> bool:
    return any(t == table and (site == where or site.startswith(where + ".")) for t, where in ALLOWED)


@contextmanager
def watching() -> Iterator[list[tuple[str, set[str]]]]:
    """(call site, locked tables) of every locking query this thread compiles meanwhile: what a
    workflow locks, on any backend."""
    seen: list[tuple[str, set[str]]] = []
    _local.seen = seen
    try:
        yield seen
    finally:
        _local.seen = None


def _check(compiler: SQLCompiler, sql: str, params: Any) -> None:
    if not compiler.query.select_for_update:
        return
    site, where, by_library = _call_site()
    seen = getattr(_local, "seen", None)
    if seen is not None:
        seen.append((site, locked_tables(compiler)[1]))
    if getattr(_local, "off", False):
        return
    found = problems(compiler, site, by_library)
    if not found:
        return
    violation = Violation(site, where, "; ".join(found), f"{sql} {tuple(params)!r}")
    with _guard:
        _recorded.append(violation)
    raise RowLockViolation(str(violation))


def install() -> None:
    """Check every locking query compiled from now on, in this process."""
    if getattr(SQLCompiler.as_sql, "_row_lock_check", False):
        return
    original = SQLCompiler.as_sql

    def as_sql(self: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
        sql, params = original(self, *args, **kwargs)
        _check(self, sql, params)
        return sql, params

    as_sql._row_lock_check = True  # type: ignore[attr-defined]
    SQLCompiler.as_sql = as_sql  # type: ignore[method-assign]


def take() -> list[Violation]:
    """The violations recorded since the last call (and forget them)."""
    with _guard:
        taken = list(_recorded)
        _recorded.clear()
    return taken
