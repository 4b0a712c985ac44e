"""Concurrent completions issue one certificate; concurrent issuances never share a number
(meaningful on PostgreSQL with row locks; SQLite serialises writers anyway)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from django.db import connections
from django.utils import timezone

from conftest import make_person
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.certificates.models import Certificate, NameChangeRequest, NameChangeStatus
from stormcert.certificates.names import NameChangeClosed, decide_name_change, request_name_change
from stormcert.certificates.services import CertificateError, issue_for_completion
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import JourneyError, record_step_done
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from tests.certificates.builders import certify
from tests.enrollments.builders import done
from tests.exams.conftest import ready_for_midterm

pytestmark = pytest.mark.django_db(transaction=True)
T = TypeVar("T")


def together(n: int, work: Callable[[int], T]) -> list[T | Exception]:
    barrier = threading.Barrier(n)

    def run(i: int) -> T | Exception:
        try:
            barrier.wait()
            return work(i)
        except Exception as exc:  # collected, then asserted on
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_concurrent_final_passes_issue_one_certificate() -> None:
    load_definition_file(DEFAULT_DEFINITION)
    alice = make_person("alice@example.com", first_name="Alice", last_name="Alvarez")
    now = timezone.now()
    enrollment = ready_for_midterm(alice, now)
    for code in ("midterm", "course", "survey"):
        done(enrollment, code, now)

    def pass_final(_: int) -> Any:
        return record_step_done(
            enrollment=Enrollment.objects.get(pk=enrollment.pk), step_code="final", source="exam"
        )

    results = together(4, pass_final)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, JourneyError) for r in results if isinstance(r, Exception))
    assert Certificate.objects.filter(enrollment=enrollment).count() == 1

    # Even hooks racing outside the enrollment lock cannot make a second one.
    again = together(4, lambda _: issue_for_completion(Enrollment.objects.get(pk=enrollment.pk), None, now))
    assert not [r for r in again if isinstance(r, Exception)]
    assert Certificate.objects.filter(enrollment=enrollment).count() == 1


def test_concurrent_issuances_get_distinct_consecutive_numbers() -> None:
    load_definition_file(DEFAULT_DEFINITION)
    people = [make_person(f"p{i}@example.com") for i in range(6)]
    results = together(6, lambda i: certify(people[i]).number)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(results) == [f"QISP-2026-{n:05d}" for n in range(1, 7)]  # type: ignore[type-var]


def test_concurrent_name_change_requests_leave_one_waiting() -> None:
    load_definition_file(DEFAULT_DEFINITION)
    alice = make_person("alice@example.com", first_name="Alice", last_name="Alvarez")
    certify(alice)

    def ask(i: int) -> NameChangeRequest:
        return request_name_change(
            person=User.objects.get(pk=alice.pk), first_name="Alice", last_name=f"Moreno{i}", reason="Married"
        )

    results = together(4, ask)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, CertificateError) for r in results if isinstance(r, Exception)), results
    assert NameChangeRequest.objects.filter(person=alice, status=NameChangeStatus.PENDING).count() == 1


def test_two_staff_deciding_at_once_decide_once() -> None:
    load_definition_file(DEFAULT_DEFINITION)
    alice = make_person("alice@example.com", first_name="Alice", last_name="Alvarez")
    staff = [make_person(f"staff{i}@example.com", staff=True) for i in range(2)]
    certify(alice)
    request = request_name_change(person=alice, first_name="Alice", last_name="Moreno", reason="Married")

    def decide(i: int) -> NameChangeRequest:
        return decide_name_change(
            request=NameChangeRequest.objects.get(pk=request.pk),
            approve=i == 0,
            reason="Checked",
            actor=staff[i],
            staff=True,
        )

    results = together(2, decide)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, NameChangeClosed) for r in results if isinstance(r, Exception)), results
    decided = NameChangeRequest.objects.get()
    verbs = AuditEvent.objects.filter(verb__startswith="certificates.name_change_").exclude(
        verb="certificates.name_change_requested"
    )
    assert verbs.count() == 1 and verbs.get().verb == f"certificates.name_change_{decided.status}"
    expected = "Alice Moreno" if decided.status == NameChangeStatus.APPROVED else "Alice Alvarez"
    assert Certificate.objects.get().holder_name == expected
