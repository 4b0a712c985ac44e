"""The candidate record page and the staff actions on it (each with a reason, each audited)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.certificates.models import Certificate, Source
from stormcert.enrollments.journey import StepState
from stormcert.enrollments.models import Enrollment, Route
from stormcert.enrollments.services import journey_for, record_step_failure
from stormcert.exams.models import Accommodation
from stormcert.programs.models import Program, ProgramKind
from tests.certificates.builders import certify
from tests.exams.conftest import PT, T0, ready_for_midterm

pytestmark = pytest.mark.django_db


def act(client: Client, person: User, action: str, prefix: str, **fields: Any) -> Any:
    data = {"action": action, **{f"{prefix}-{k}": v for k, v in fields.items()}}
    return client.post(reverse("backoffice:person", args=[person.pk]), data)


@pytest.fixture
def registered(programs: None, alice: User) -> Enrollment:
    return ready_for_midterm(alice, T0)


def test_the_record_shows_steps_attempts_orders_certificates_emails_and_history(
    registered: Enrollment, alice: User, sara: User, django_assert_max_num_queries: Any
) -> None:
    certify(alice, issued_on=date(2026, 1, 15))
    client = client_for(sara, mfa=True)
    with django_assert_max_num_queries(40):
        page = client.get(reverse("backoffice:person", args=[alice.pk]))
    html = page.content.decode()
    for part in ("Exam attempts", "Orders", "Certificates", "Course places", "Emails sent", "History"):
        assert part in html
    assert "Online training" in html  # the step path
    order = alice.orders.get()
    assert order.number in html
    assert Certificate.objects.get(holder=alice).number in html
    assert "enrollment.created" in html  # audit history


def test_people_search_finds_by_name_email_and_certificate_number(
    programs: None, alice: User, sara: User
) -> None:
    cert = certify(alice, issued_on=date(2026, 1, 15))
    client = client_for(sara, mfa=True)
    for q in ("alvarez", "alice@", cert.number, "Alice Alvarez"):
        assert "alice@example.com" in client.get(reverse("backoffice:people"), {"q": q}).content.decode()
    assert "Nobody matches" in client.get(reverse("backoffice:people"), {"q": "zzz"}).content.decode()


def test_people_filter_by_program_and_show_each_persons_programs(
    programs: None, alice: User, tom: User, sara: User
) -> None:
    certify(alice, issued_on=date(2026, 1, 15))
    certify(tom, program="IGP-TOR", issued_on=date(2026, 7, 1), years=1)
    client = client_for(sara, mfa=True)
    every = client.get(reverse("backoffice:people")).content.decode()
    assert "alice@example.com</td><td>QISP</td>" in every and "tom@example.com</td><td>IGP ToR</td>" in every
    tor = client.get(reverse("backoffice:people"), {"program": "IGP-TOR"}).content.decode()
    assert "tom@example.com" in tor and "alice@example.com" not in tor
    assert '<option value="IGP-TOR" selected>' in tor
    none = client.get(reverse("backoffice:people"), {"program": "IGP-TOR", "q": "alice"}).content.decode()
    assert "Nobody matches “alice” in IGP ToR." in none


def test_extend_a_window(registered: Enrollment, alice: User, sara: User) -> None:
    client = client_for(sara, mfa=True)
    before = registered.window_end
    assert before is not None
    earlier = act(
        client, alice, "extend", "extend", enrollment=registered.pk, last_day="2027-01-01", reason="x"
    )
    assert (
        earlier.status_code == 400 and "Choose a day after the current last day" in earlier.content.decode()
    )
    assert 'value="2027-01-01"' in earlier.content.decode()  # kept what was typed
    no_reason = act(
        client, alice, "extend", "extend", enrollment=registered.pk, last_day="2029-06-30", reason=""
    )
    assert no_reason.status_code == 400
    act(client, alice, "extend", "extend", enrollment=registered.pk, last_day="2029-06-30", reason="Surgery.")
    registered.refresh_from_db()
    assert registered.window_end == datetime(2029, 7, 1, 0, 0, tzinfo=PT)
    event = AuditEvent.objects.get(verb="enrollment.window_extended")
    assert event.reason == "Surgery." and event.actor == sara


def test_a_last_day_at_the_end_of_the_calendar_is_refused_not_a_500(
    registered: Enrollment, alice: User, sara: User
) -> None:
    # 9999-12-31 + 1 day overflowed: OverflowError, a 500 (found by tests/security/test_bad_input.py).
    client = client_for(sara, mfa=True)
    for day, says in (
        ("9999-12-31", "Enter a date between 1900 and 2199."),  # the form's field
        ("2199-01-01", "Choose a last day within ten years from today"),  # the service
    ):
        response = act(client, alice, "extend", "extend", enrollment=registered.pk, last_day=day, reason="x")
        assert response.status_code == 400 and says in response.content.decode()
    registered.refresh_from_db()
    assert not AuditEvent.objects.filter(verb="enrollment.window_extended").exists()


def test_grant_an_attempt_unblocks_someone_who_failed_out(
    registered: Enrollment, alice: User, sara: User
) -> None:
    client = client_for(sara, mfa=True)
    nothing = act(client, alice, "attempt", "attempt", exam=f"{registered.pk}:midterm", reason="Power cut.")
    assert nothing.status_code == 400 and "nothing to give back" in nothing.content.decode()
    for i in range(2):
        record_step_failure(
            enrollment=registered, step_code="midterm", source="test", now=T0 + timedelta(days=i + 1)
        )
    assert journey_for(registered, T0 + timedelta(days=3)).step("midterm").state == StepState.BLOCKED
    act(
        client,
        alice,
        "attempt",
        "attempt",
        exam=f"{registered.pk}:midterm",
        reason="Power cut in the test room.",
    )
    step = journey_for(registered, T0 + timedelta(days=3)).step("midterm")
    assert step.state == StepState.CURRENT and step.attempts_left == 1
    assert registered.records.filter(outcome="failed", voided_at__isnull=False).count() == 1
    assert AuditEvent.objects.filter(
        verb="enrollment.attempt_granted", reason="Power cut in the test room."
    ).exists()


def test_grant_an_accommodation(registered: Enrollment, alice: User, sara: User) -> None:
    client = client_for(sara, mfa=True)
    too_much = act(client, alice, "accommodation", "acc", factor="4", reason="x")
    assert too_much.status_code == 400
    act(client, alice, "accommodation", "acc", factor="1.5", reason="Dyslexia; letter on file.")
    assert Accommodation.objects.get(user=alice, revoked_at__isnull=True).factor == Decimal("1.50")


def test_record_a_self_directed_qualification(programs: None, alice: User, sara: User) -> None:
    client = client_for(sara, mfa=True)
    # One qualification program: the choice is preset to it.
    page = client.get(reverse("backoffice:person", args=[alice.pk])).content.decode()
    assert '<option value="QISP" selected>' in page
    act(
        client,
        alice,
        "self_directed",
        "sd",
        program="QISP",
        license_type="PE-civil",
        license_number="C12345",
        reason="License checked.",
    )
    enrollment = Enrollment.objects.get(user=alice)
    assert enrollment.program.code == "QISP"
    assert enrollment.route == Route.SELF_DIRECTED and enrollment.completed_at is not None
    assert Certificate.objects.get(holder=alice).source == Source.SELF_DIRECTED


def test_a_self_directed_qualification_names_its_program(programs: None, alice: User, sara: User) -> None:
    sister = Program.objects.create(
        code="SIS", name="Sister Practitioner", short_name="SisP", kind=ProgramKind.QUALIFICATION, position=9
    )
    client = client_for(sara, mfa=True)
    page = client.get(reverse("backoffice:person", args=[alice.pk])).content.decode()
    assert '<option value="" selected>Choose the program</option>' in page
    assert '<option value="SIS">Sister Practitioner (SisP)</option>' in page
    fields = {"license_type": "PE-civil", "license_number": "C12345", "reason": "License checked."}

    missing = act(client, alice, "self_directed", "sd", **fields)
    assert missing.status_code == 400
    assert "Choose the program the person qualifies in." in missing.content.decode()
    trainer = act(client, alice, "self_directed", "sd", program="IGP-TOR", **fields)
    assert "Choose one of the qualification programs listed." in trainer.content.decode()
    assert not Enrollment.objects.filter(user=alice).exists()

    act(client, alice, "self_directed", "sd", program="QISP", **fields)
    assert Enrollment.objects.get(user=alice).program.code == "QISP"
    assert sister.enrollments.count() == 0


def test_merge_from_the_record_shows_what_moves_then_merges(programs: None, alice: User, sara: User) -> None:
    duplicate = make_person("alice.other@example.com", first_name="Alice", last_name="Alvarez")
    certify(duplicate, issued_on=date(2026, 1, 15))
    client = client_for(sara, mfa=True)
    preview = act(client, alice, "merge", "merge", other="alice.other@example.com", reason="Same person.")
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "1 certificates" in html and "I have checked" in html
    assert Certificate.objects.get().holder == duplicate  # nothing moved yet
    act(client, alice, "merge", "merge", other="alice.other@example.com", reason="Same person.", confirm="on")
    assert Certificate.objects.get().holder == alice
    unknown = act(client, alice, "merge", "merge", other="nobody@example.com", reason="x")
    assert unknown.status_code == 400 and "No account uses that address" in unknown.content.decode()


def test_staff_home_shows_the_queues(programs: None, alice: User, sara: User) -> None:
    from stormcert.accounts.claims import request_claim
    from stormcert.exams.accommodations import request_accommodation

    request_claim(requester=alice, certificate_number="OWP-1", email_on_file="", explanation="Old address.")
    request_accommodation(user=alice, explanation="I need more time.", factor=None, document=None)
    request_accommodation(
        user=make_person("bob@example.com"), explanation="Me too.", factor=None, document=None
    )
    html = client_for(sara, mfa=True).get(reverse("staff_home")).content.decode()
    assert 'href="/staff/claims/"><span class="stat-value">1</span>' in html
    assert 'href="/staff/exams/accommodations/"><span class="stat-value">2</span>' in html
    for label in ("checks or POs to record", "virtual training plans", "SOQs to assign", "failed emails"):
        assert label in html


def test_only_staff_open_records(programs: None, alice: User, eve: User) -> None:
    client = client_for(eve)
    assert client.get(reverse("backoffice:person", args=[alice.pk])).status_code == 403
    assert (
        client.post(reverse("backoffice:person", args=[alice.pk]), {"action": "accommodation"}).status_code
        == 403
    )
    assert client.get(reverse("backoffice:people")).status_code == 403


def test_stop_sign_in_ends_the_persons_sessions_and_restore_brings_it_back(
    programs: None, alice: User, sara: User
) -> None:
    from conftest import PASSWORD

    alices = Client()
    assert (
        alices.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD}).status_code == 302
    )
    assert alices.get(reverse("dashboard")).status_code == 200
    staff = client_for(sara, mfa=True)
    assert act(staff, alice, "sign_in", "signin", reason="").status_code == 400
    act(staff, alice, "sign_in", "signin", reason="Shared the account with a colleague.")
    assert alices.get(reverse("dashboard")).status_code == 302  # signed out at once
    assert AuditEvent.objects.filter(
        verb="account.disabled", reason="Shared the account with a colleague."
    ).exists()
    act(staff, alice, "sign_in", "signin", reason="Spoke with her.")
    alice.refresh_from_db()
    assert alice.is_active
    own = act(staff, sara, "sign_in", "signin", reason="x")
    assert own.status_code == 400 and "cannot disable your own account" in own.content.decode()
