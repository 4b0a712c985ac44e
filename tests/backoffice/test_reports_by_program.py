"""The reports per program: `?program=CODE` narrows every report (and its CSV) to one program,
and the figures the reports lean on come from each program's rules, not from code: how far ahead
the expiring list looks (`renewal.opens_days_before_expiry`), where the time-to-qualify histogram
opens (`enrollment.window_years`), and the order of the exams (the program's step positions)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client

from conftest import make_person
from stormcert.accounts.models import User
from stormcert.backoffice import reports
from stormcert.certificates.models import Source
from stormcert.exams.models import AttemptStatus, QuestionBank
from stormcert.programs.models import PolicyValue, PolicyVersion, Program, ProgramKind, Step, StepKind
from stormcert.programs.rules import version_in_force
from tests.backoffice.test_reports import (
    NOW,
    YEAR,
    _attempt,
    _exam,
    _paid_order,
    _session,
    certificate,
    enrollment,
    pt,
)

URL = "/staff/reports/"
TODAY = date(2026, 11, 22)

pytestmark = pytest.mark.django_db


@pytest.fixture
def qisp(programs: None) -> Program:
    return Program.objects.get(code="QISP")


@pytest.fixture
def sister(programs: None) -> Program:
    """A second qualification program: its exams' step codes sort the other way from their
    positions, a one-year enrollment window and a 30-day renewal window."""
    program = Program.objects.create(
        code="SIS", name="Sister Practitioner", short_name="SisP", kind=ProgramKind.QUALIFICATION, position=9
    )
    Step.objects.create(program=program, position=1, code="written", title="Written exam", kind=StepKind.EXAM)
    Step.objects.create(program=program, position=2, code="oral", title="Oral exam", kind=StepKind.EXAM)
    version = PolicyVersion.objects.create(program=program, name="First", effective_from=date(2020, 1, 1))
    for key, value in {"renewal.opens_days_before_expiry": 30, "enrollment.window_years": 1}.items():
        PolicyValue.objects.create(version=version, key=key, value=value)
    return program


@pytest.fixture(autouse=True)
def _today() -> object:
    with time_machine.travel(NOW, tick=False):
        yield


def test_exams_follow_each_programs_step_positions_and_the_filter(qisp: Program, sister: Program) -> None:
    bank = QuestionBank.objects.create(program=sister, code="s", title="Form S")
    oral, written = _exam(sister, "oral", bank), _exam(sister, "written", bank)
    qisp_bank = QuestionBank.objects.create(program=qisp, code="q", title="Form Q")
    final = _exam(qisp, "final", qisp_bank)
    person = enrollment(sister, "s@example.com", pt(2026, 1, 5))
    at = pt(2026, 3, 3, 10)
    _attempt(oral, person, 1, True, AttemptStatus.SUBMITTED, at)
    _attempt(written, person, 1, True, AttemptStatus.SUBMITTED, at)
    _attempt(final, enrollment(qisp, "q@example.com", pt(2026, 1, 5)), 1, False, AttemptStatus.SUBMITTED, at)

    every = reports.pass_rates(YEAR)
    # Programs in their order (QISP first), then each program's exams by step position:
    # "written" (step 1) before "oral" (step 2), though "oral" sorts first by its code.
    assert [(r.program, r.exam) for r in every] == [("QISP", "final"), ("SisP", "written"), ("SisP", "oral")]
    assert [r.exam for r in reports.pass_rates(YEAR, sister)] == ["written", "oral"]
    header, rows = reports.pass_rate_table(YEAR, sister)
    assert header[0] == "program" and {row[0] for row in rows} == {"SisP"}


def test_expiring_looks_ahead_each_programs_renewal_window(qisp: Program, sister: Program) -> None:
    holder = make_person("h@example.com")
    tor = Program.objects.get(code="IGP-TOR")
    certificate(qisp, holder, "Q-45", TODAY + timedelta(days=45))
    certificate(qisp, holder, "Q-95", TODAY + timedelta(days=95))
    certificate(sister, holder, "S-20", TODAY + timedelta(days=20))
    certificate(sister, holder, "S-45", TODAY + timedelta(days=45))  # beyond its 30-day window
    certificate(tor, holder, "T-80", TODAY + timedelta(days=80))  # no window of its own: the longest

    every = reports.expiring_certificates(NOW)
    assert [c.number for c in every.certificates] == ["S-20", "Q-45", "T-80"]
    assert every.days == 90 and not every.same_window
    windows = {w.program: (w.days, w.own) for w in every.windows}
    assert windows == {"QISP": (90, True), "IGP ToR": (90, False), "SisP": (30, True)}

    only = reports.expiring_certificates(NOW, sister)
    assert [c.number for c in only.certificates] == ["S-20"] and only.days == 30

    # The window is the rule in force: shorten QISP's and the list follows.
    PolicyValue.objects.filter(
        version=version_in_force(qisp, TODAY), key="renewal.opens_days_before_expiry"
    ).update(value=40)
    assert [c.number for c in reports.expiring_certificates(NOW, qisp).certificates] == []


def test_the_last_time_to_qualify_bucket_starts_at_the_enrollment_window(
    qisp: Program, sister: Program
) -> None:
    start = pt(2025, 1, 5, 10)
    enrollment(sister, "slow@example.com", start, done=start + timedelta(days=400, hours=3))
    enrollment(qisp, "quick@example.com", start, done=start + timedelta(days=400, hours=3))

    sister_only = reports.time_to_qualify(YEAR, sister)
    assert sister_only.count == 1 and sister_only.open_from == 360  # one year: 12 whole buckets
    assert sister_only.buckets[-1].label == "360+" and sister_only.buckets[-1].count == 1

    qisp_only = reports.time_to_qualify(YEAR, qisp)
    assert qisp_only.open_from == 720  # two years: 24 whole buckets
    assert qisp_only.buckets[-1].label == "390–419" and qisp_only.buckets[-1].count == 1

    assert reports.time_to_qualify(YEAR).open_from == 720  # every program: the longest window


def test_enrollments_and_revenue_count_only_the_program_asked_for(qisp: Program, sister: Program) -> None:
    paid = enrollment(qisp, "a@example.com", pt(2026, 3, 1, 10))
    _paid_order(qisp, paid.user, "registration", pt(2026, 3, 1, 10))
    enrollment(sister, "b@example.com", pt(2026, 3, 2, 10))

    def registrations(program: Program | None) -> int:
        return sum(r.registrations for r in reports.enrollment_activity(YEAR, program))

    assert (registrations(None), registrations(qisp), registrations(sister)) == (2, 1, 1)
    assert reports.revenue(YEAR, sister).is_empty and not reports.revenue(YEAR, qisp).is_empty


def test_the_page_and_its_downloads_keep_the_program(
    qisp: Program, sister: Program, sara_client: Client
) -> None:
    holder = make_person("h@example.com")
    certificate(qisp, holder, "Q-10", TODAY + timedelta(days=10), source=Source.COMPLETION)
    certificate(sister, holder, "S-10", TODAY + timedelta(days=10), source=Source.COMPLETION)

    body = sara_client.get(URL, {"program": "SIS"}).content.decode()
    assert "<strong>Program:</strong> Sister Practitioner (SisP)" in body
    assert '<option value="SIS" selected>' in body
    assert "Certificates expiring in the next 30 days" in body
    assert "S-10" in body and "Q-10" not in body
    assert "start=2025-12-01&amp;end=2026-11-22&amp;program=SIS" in body
    assert "/staff/reports/expiring.csv?program=SIS" in body

    response = sara_client.get(URL + "expiring.csv", {"program": "SIS"})
    assert response["Content-Disposition"] == f'attachment; filename="expiring-SIS-{TODAY.isoformat()}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[0] for row in rows[1:]] == ["S-10"]

    every = sara_client.get(URL).content.decode()
    assert "<strong>Program:</strong> every program" in every and "S-10" in every and "Q-10" in every
    assert "Certificates expiring in the next 90 days" in every

    unknown = sara_client.get(URL, {"program": "NOPE"}).content.decode()
    assert "No program has the code “NOPE”; showing every program." in unknown


def test_trainer_activity_by_program(qisp: Program, sister: Program, tom: User) -> None:
    _session(qisp, tom, pt(2026, 3, 10, 8))
    tor = Program.objects.get(code="IGP-TOR")  # its trainers teach the qualification program

    def trainers(program: Program | None) -> list[str]:
        return [t.name for t in reports.trainer_activity(YEAR, NOW, program)]

    assert trainers(None) == trainers(qisp) == trainers(tor) == ["Tom Nguyen"]
    assert trainers(sister) == []
