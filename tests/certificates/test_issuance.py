"""Completing the journey (or the self-directed route) issues one certificate, numbered by the
program's pattern, dated by its validity rule, announced by email, audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.certificates.models import Certificate, Source
from stormcert.certificates.services import CertificateError, issue_certificate, issue_for_completion
from stormcert.emails.models import OutboundEmail
from stormcert.enrollments.models import LicenseType
from stormcert.enrollments.services import record_self_directed
from stormcert.exams.models import Exam
from stormcert.exams.services import start_attempt, submit_attempt
from stormcert.programs.models import PolicyValue, Program
from stormcert.programs.rules import version_in_force
from tests.certificates.builders import certify, qualify
from tests.enrollments.builders import done
from tests.exams.conftest import T0, ready_for_midterm
from tests.exams.test_attempts import answer_all

pytestmark = pytest.mark.django_db


def test_passing_the_final_issues_one_certificate(alice: User, midterm: Exam) -> None:
    enrollment = ready_for_midterm(alice)
    for i, code in enumerate(("midterm", "course", "survey")):
        done(enrollment, code, T0 + timedelta(hours=1 + i))
    final = Exam.objects.get(step_code="final")
    start = T0 + timedelta(days=2)
    attempt = start_attempt(user=alice, exam=final, now=start)
    answer_all(attempt, right=attempt.question_count, when=start + timedelta(minutes=5))
    assert submit_attempt(attempt_id=attempt.pk, now=start + timedelta(minutes=30)).passed

    certificate = Certificate.objects.get()
    assert certificate.holder == alice and certificate.program.code == "QISP"
    assert certificate.enrollment == enrollment and certificate.source == Source.COMPLETION
    assert certificate.number == "QISP-2026-00001"
    assert certificate.issued_on == date(2026, 11, 23)  # the day of passing, Pacific
    assert certificate.expires_on == date(2028, 11, 23)  # certificate.validity_years = 2
    assert certificate.holder_name == "Alice Alvarez"
    assert AuditEvent.objects.filter(verb="certificate.issued", object_id=str(certificate.pk)).count() == 1
    email = OutboundEmail.objects.get(template="certificates/email/certificate_issued")
    assert email.to == "alice@example.com"
    assert "QISP-2026-00001" in email.subject
    assert "/verify/QISP-2026-00001/" in email.body_text and "certificate.pdf" in email.body_text


def test_completion_hook_is_idempotent(alice: User, programs: None) -> None:
    enrollment = qualify(alice)
    assert Certificate.objects.count() == 1
    # A replayed completion (a second call of the hook) returns the same certificate.
    issue_for_completion(enrollment, None, T0 + timedelta(days=1))
    assert Certificate.objects.count() == 1
    assert AuditEvent.objects.filter(verb="certificate.issued").count() == 1


def test_the_database_refuses_a_second_certificate_per_completion(alice: User, programs: None) -> None:
    enrollment = qualify(alice)
    first = Certificate.objects.get()
    again = issue_certificate(
        holder=alice,
        program=enrollment.program,
        issued_on=date(2027, 1, 1),
        expires_on=date(2029, 1, 1),
        source=Source.COMPLETION,
        enrollment=enrollment,
        notify=False,
    )
    assert again.pk == first.pk and Certificate.objects.count() == 1


def test_self_directed_route_issues_a_certificate(alice: User, sara: User, programs: None) -> None:
    program = Program.objects.get(code="QISP")
    record_self_directed(
        user=alice,
        program=program,
        license_type=LicenseType.CIVIL,
        license_number="C 12345",
        actor=sara,
        reason="Licence checked with the Board",
        now=T0,
    )
    certificate = Certificate.objects.get()
    assert certificate.source == Source.SELF_DIRECTED and certificate.number == "QISP-2026-00001"
    assert AuditEvent.objects.get(verb="certificate.issued").actor == sara


def test_numbers_follow_the_policy_pattern_and_count_per_year(
    alice: User, tom: User, eve: User, programs: None
) -> None:
    assert certify(alice, issued_on=date(2026, 3, 1)).number == "QISP-2026-00001"
    assert certify(tom, issued_on=date(2026, 4, 1)).number == "QISP-2026-00002"
    assert certify(eve, issued_on=date(2027, 1, 2)).number == "QISP-2027-00001"  # a new year, a new sequence
    # The version in force on the issue day (the program also keeps an earlier dated version).
    qisp = Program.objects.get(code="QISP")
    value = PolicyValue.objects.get(
        version=version_in_force(qisp, date(2027, 2, 1)), key="certificate.number_format"
    )
    value.value = "Q{seq:07d}"
    value.save()
    assert certify(alice, issued_on=date(2027, 2, 1)).number == "Q0000001"


def test_the_trainer_program_numbers_and_validity_are_its_own(tom: User, programs: None) -> None:
    program = Program.objects.get(code="IGP-TOR")
    certificate = issue_certificate(
        holder=tom,
        program=program,
        issued_on=date(2026, 7, 1),
        expires_on=date(2027, 6, 30),
        source=Source.TRAINER_TERM,
        notify=False,
    )
    assert certificate.number == "TOR-2026-0001"


def test_a_legacy_number_is_kept_and_skipped_by_the_counter(alice: User, tom: User, programs: None) -> None:
    legacy = certify(alice, number="QISP-2026-00001", issued_on=date(2019, 6, 1))
    assert legacy.number == "QISP-2026-00001" and legacy.source == Source.LEGACY
    assert certify(tom, issued_on=date(2026, 2, 1)).number == "QISP-2026-00002"
    with pytest.raises(CertificateError, match="already in use"):
        certify(tom, number="QISP-2026-00001")


def test_a_renewal_links_to_the_certificate_it_renews_once(alice: User, programs: None) -> None:
    old = certify(alice, issued_on=date(2024, 5, 1))
    program = Program.objects.get(code="QISP")
    args = {
        "holder": alice,
        "program": program,
        "issued_on": date(2026, 4, 1),
        "expires_on": date(2028, 5, 1),
        "source": Source.RENEWAL,
        "renews": old,
        "notify": False,
    }
    new = issue_certificate(**args)  # type: ignore[arg-type]
    assert issue_certificate(**args).pk == new.pk  # type: ignore[arg-type]
    old.refresh_from_db()
    assert old.superseded_at is not None and old.renewed_by == new


def test_an_expiry_before_the_issue_date_is_refused(alice: User, programs: None) -> None:
    with pytest.raises(CertificateError, match="before the issue date"):
        issue_certificate(
            holder=alice,
            program=Program.objects.get(code="QISP"),
            issued_on=date(2026, 1, 2),
            expires_on=date(2026, 1, 1),
            source=Source.COMPLETION,
        )


def test_a_leap_day_certificate_expires_on_the_28th(alice: User, programs: None) -> None:
    assert certify(alice, issued_on=date(2028, 2, 29)).expires_on == date(2030, 2, 28)
