"""Row locks lock only the row they mean (tests/lockcheck.py has the rule and the shared tables).

Two checks: every `select_for_update(` in the source names what it locks (`of=`), read from the
code, so a new call fails here even before a test runs it; and every locking query the suite
runs is checked as it compiles (installed by the root conftest). The tests below prove both can
fail, and, on PostgreSQL, that a lock taken with a `select_related` leaves the joined row free.
"""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction

from stormcert.accounts.models import User
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import get_enrollment
from stormcert.lib.db import lock
from stormcert.programs.models import Program
from tests import lockcheck

SOURCE = Path(settings.BASE_DIR) / "stormcert"


def unnamed_locks(source: str) -> list[int]:
    """Lines of `select_for_update(...)` calls that do not say `of=`."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "select_for_update"
        and not any(keyword.arg == "of" for keyword in node.keywords)
    ]


def test_every_select_for_update_in_the_source_names_what_it_locks() -> None:
    found = [
        f"{path.relative_to(SOURCE.parent)}:{line}"
        for path in sorted(SOURCE.rglob("*.py"))
        for line in unnamed_locks(path.read_text())
    ]
    assert not found, (
        "select_for_update() without of= locks a row of every table the query reads (a program,"
        ' an exam...); name what it means to lock, e.g. of=("self",): ' + ", ".join(found)
    )
    # Sanity: the walk sees the calls at all (the lock helper's among them).
    assert "select_for_update(of=" in (SOURCE / "lib" / "db.py").read_text()


def test_the_source_check_finds_a_call_without_of() -> None:
    code = "a = M.objects.select_for_update().get(pk=1)\nb = M.objects.select_for_update(of=('self',))\n"
    assert unnamed_locks(code) == [1]


def enrollment_of(user: User) -> Enrollment:
    return get_enrollment(user=user, program=Program.objects.order_by("pk").first())  # type: ignore[arg-type]


@pytest.mark.django_db
def test_a_joined_lock_without_of_fails_where_it_runs(programs: None, alice: User) -> None:
    enrollment = enrollment_of(alice)
    with transaction.atomic(), pytest.raises(lockcheck.RowLockViolation) as raised:
        Enrollment.objects.select_for_update().select_related("program").get(pk=enrollment.pk)
    message = str(raised.value)
    assert "without of=" in message and "programs_program" in message
    assert "test_a_joined_lock_without_of_fails_where_it_runs" in message  # the call site
    assert len(lockcheck.take()) == 1  # recorded too (the teardown check would fail the test)


@pytest.mark.django_db
def test_naming_a_shared_row_fails(programs: None, alice: User) -> None:
    enrollment = enrollment_of(alice)
    with (
        transaction.atomic(),
        pytest.raises(lockcheck.RowLockViolation, match="shared row, programs_program"),
    ):
        Enrollment.objects.select_for_update(of=("self", "program")).select_related("program").get(
            pk=enrollment.pk
        )
    with (
        transaction.atomic(),
        pytest.raises(lockcheck.RowLockViolation, match="shared row, programs_program"),
    ):
        Program.objects.select_for_update(of=("self",)).get(pk=enrollment.program_id)
    assert len(lockcheck.take()) == 2


@pytest.mark.django_db
def test_a_filter_across_a_relation_counts_as_a_join(programs: None, alice: User) -> None:
    enrollment = enrollment_of(alice)
    with transaction.atomic(), pytest.raises(lockcheck.RowLockViolation, match="programs_program"):
        Enrollment.objects.select_for_update().filter(program__code=enrollment.program.code).first()
    lockcheck.take()


@pytest.mark.django_db
def test_of_names_a_relation_the_query_follows_on_every_backend(programs: None, alice: User) -> None:
    # SQLite ignores of=; the check resolves the names as PostgreSQL would.
    from django.core.exceptions import FieldError

    enrollment = enrollment_of(alice)
    with transaction.atomic(), pytest.raises(FieldError):
        Enrollment.objects.select_for_update(of=("self", "program")).get(pk=enrollment.pk)


@pytest.mark.django_db
def test_the_lock_helper_locks_only_the_row(programs: None, alice: User) -> None:
    enrollment = enrollment_of(alice)
    with transaction.atomic():
        locked = lock(enrollment, "program", "user")
        assert locked.program.pk == enrollment.program_id
    assert lockcheck.take() == []


@pytest.mark.django_db
def test_an_allowed_shared_lock_passes_only_from_its_call_site() -> None:
    assert lockcheck._allowed("courses_coursesession", "stormcert.courses.services.register_for_session")
    assert not lockcheck._allowed("courses_coursesession", "stormcert.courses.servicesX.f")
    assert not lockcheck._allowed("programs_program", "stormcert.exams.services.start_attempt")
    assert lockcheck._allowed("programs_program", "stormcert.programs.editing.create_version")
    assert all(table in lockcheck.SHARED for table, _ in lockcheck.ALLOWED)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are real on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_joined_program_row_stays_free(programs: None, alice: User) -> None:
    enrollment = enrollment_of(alice)
    holding, release = threading.Event(), threading.Event()
    sql: list[str] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                from django.test.utils import CaptureQueriesContext

                with CaptureQueriesContext(connections["default"]) as queries:
                    lock(enrollment, "program")
                sql.extend(q["sql"] for q in queries.captured_queries)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        assert 'FOR UPDATE OF "enrollments_enrollment"' in sql[0]
        # The program's row is free (the exam start of someone else in the program goes on) ...
        with transaction.atomic(), lockcheck.unchecked():  # the shared row, on purpose
            Program.objects.select_for_update(nowait=True, of=("self",)).get(pk=enrollment.program_id)
        # ... while the enrollment's row is held.
        with pytest.raises(DatabaseError), transaction.atomic():
            Enrollment.objects.select_for_update(nowait=True, of=("self",)).get(pk=enrollment.pk)
    finally:
        release.set()
        thread.join(10)


@pytest.mark.django_db
def test_update_or_create_passes_on_one_table_and_fails_across_a_relation(
    programs: None, alice: User
) -> None:
    # Django's update_or_create locks the row it updates, with no of=: fine while that is the
    # only table the query reads; a lookup across a relation would lock the related row too.
    from stormcert.accounts.models import Profile

    Profile.objects.update_or_create(user=alice, defaults={})
    assert lockcheck.take() == []
    with pytest.raises(lockcheck.RowLockViolation, match="accounts_user"):
        Profile.objects.update_or_create(user__email=alice.email, defaults={"user": alice})
    lockcheck.take()


@pytest.mark.django_db
def test_a_librarys_own_lock_passes_on_one_table(alice: User) -> None:
    # allauth locks the user's row (recovery codes) with no of=; it is not ours to change.
    library: dict[str, object] = {"__name__": "somelibrary.flows", "User": User, "pk": alice.pk}
    exec("def run():\n    return User.objects.select_for_update().get(pk=pk)", library)  # noqa: S102
    with transaction.atomic():
        library["run"]()  # type: ignore[operator]
    assert lockcheck.take() == []


@pytest.mark.django_db
def test_a_lock_outside_the_codes_own_transaction_fails_on_every_backend(programs: None, alice: User) -> None:
    """The test's own wrapping transaction would hide it, and SQLite takes no lock at all; only a
    browser test on PostgreSQL met it (a staff decision had lost its @transaction.atomic)."""
    enrollment = enrollment_of(alice)
    with pytest.raises(lockcheck.RowLockViolation, match="outside a transaction"):
        Enrollment.objects.select_for_update(of=("self",)).get(pk=enrollment.pk)
    assert len(lockcheck.take()) == 1
    with transaction.atomic():
        Enrollment.objects.select_for_update(of=("self",)).get(pk=enrollment.pk)
